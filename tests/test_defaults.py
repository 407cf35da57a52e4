"""Every public default, pinned: the defaults of each function and class in ``krg_liquidity.__all__``
and of each CLI option, as written below; and a default that is written in several places (the time
limit, the participation cap, the bucket length, the lot size, ...) is one value in all of them.

Changing a default is a change of behaviour: it fails here until the table (and the README, where it
says the default) is changed with it."""

import dataclasses
import enum
import inspect
import re
from pathlib import Path

import pandas as pd
import pytest

import krg_liquidity as krg
from krg_liquidity.batch.requests import BookRequest
from krg_liquidity.cli import app
from krg_liquidity.cli.options import MI_CODE_HELP
from krg_liquidity.core.errors import InputError
from krg_liquidity.core.plan import DEFAULT_TIME_LIMIT
from krg_liquidity.desk.inputs import DeskLimits
from krg_liquidity.desk.solve import DeskRequest
from krg_liquidity.report import build_report

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()

PYTHON_DEFAULTS = {
    # schedule: simulation, re-planning, dynamic programming
    "DynamicSchedule": {"costs": None, "continuation": [], "choice": [], "setup": {}},
    "IStarImpact": {},
    "LinearImpact": {"gamma": 0.0, "epsilon": 0.0},
    "Simulation": {"milestones": {}, "settings": {}},
    "dynamic_schedule": {"objective": "mean-variance", "risk_aversion": 0.0, "level": 0.95, "price_state": False,
                         "shares_grid": 101, "cost_grid": 161, "quadrature": 9, "paths": 10000, "seed": 0},
    "plot_cash_fan": {"milestones": True},
    "plot_shortfall_histogram": {"bins": 60},
    "replan": {"covariance": None, "factor_model": None, "profile": None, "bucket_minutes": 30, "max_pov": None,
               "cost_model": None, "time_limit": 30.0},
    "simulate": {"trades": None, "covariance": None, "factor_model": None, "paths": 10000, "seed": None,
                 "volume_noise": 0.3, "price_noise": True, "drift": None, "max_pov": None, "milestones": None,
                 "profile": None, "bucket_minutes": 30, "cost_model": None, "replan_every": None, "progress": None},
    # after the trades
    "Calibration": {"warnings": []},
    "Fills": {"skipped": ("table", ("row", "symbol", "reason")), "notes": []},
    "PostTradeResult": {"skipped": ("table", ("row", "symbol", "reason")), "notes": []},
    "calibrate": {"prior": krg.KISSELL_2013_ALL_DATA, "loss": "huber", "bootstrap": 200, "holdout": 0.2, "seed": 0,
                  "code": 2, "date": None, "skip_bad": False, "trading_days": 250},
    "plot_cost_vs_size": {},
    "plot_estimate_vs_actual": {},
    "plot_z_histogram": {},
    "portfolio_cost_curves": {"covariance": None, "pov": None, "trade_time": None, "cost_model": None},
    "post_trade": {"cost_model": None, "skip_bad": False},
    "read_fills": {"sheet": None, "skip_bad": False},
    "synthetic_fills": {"parameters": krg.KISSELL_2013_ALL_DATA, "n": 1000, "seed": 0, "noise": 1.0,
                        "partial_fraction": 0.1, "trading_days": 250},
    "write_post_trade": {},
    # whatif
    "Scenario": {"adv": 1.0, "volatility": 1.0, "price": 1.0, "params": None, "trade_time": None, "pov": None,
                 "description": ""},
    "by_column": {"default": 1.0},
    "compare": {"max_pct_adv": None},
    "compare_after_tax": {"tax_weight": 1.0, "fee_bps": 0.0},
    "date_range_stress": {"code": 1, "start": None, "end": None, "base": None},
    "liquidity_profile": {"pov_cap": 0.2, "horizons": (1, 3, 7, 30), "cost_budget_bps": None, "book_limits": False,
                          "risk_band": None, "cost_model": None, "time_limit": 30.0},
    "plot_liquidity_buckets": {"top": 20},
    "plot_stress": {"value": "cost_bps"},
    "pro_rata": {"limits": None, "risk_band": None, "max_total_mi_bps": None, "allow_buys": False, "cost_model": None,
                 "allow_small_cash": False, "fee_bps": 0.0},
    "sensitivity": {"bump": 0.1, "factors": ("adv", "volatility", "a1", "a2", "a3", "a4", "b1"), "base": None,
                    "cost_model": None},
    "stress_test": {"limits": None, "scenarios": None, "methods": ("optimized", "pro_rata", "waterfall"), "max_pct_adv": None,
                    "with_max_cash": True, "workers": None, "scheduler": None, "risk_band": None,
                    "max_total_mi_bps": None, "allow_buys": False, "cost_model": None, "time_limit": 30.0,
                    "allow_small_cash": False, "fee_bps": 0.0, "lots": None, "tax": None, "tax_weight": 1.0},
    "waterfall": {"limits": None, "max_pct_adv": None, "risk_band": None, "max_total_mi_bps": None, "allow_buys": False,
                  "cost_model": None, "allow_small_cash": False, "fee_bps": 0.0},
    # book and files
    "BatchInterrupted": {},
    "Limits": {"risk_band": None, "max_total_mi_bps": None, "allow_buys": False, "group_column": None,
               "group_limits": None, "max_tracking_error": None, "min_liquid_fraction": None,
               "max_total_cost_bps": None, "max_pct_adv": None, "max_weight_change": None, "max_sold_fraction": None},
    "SolverOptions": {"engine": "auto", "time_limit": 30.0, "ladder": None, "solver_parameters": {}, "verbose": False},
    "most_tradable": {"lot_size": 1, "limits": None, "risk_band": None, "max_total_mi_bps": None, "allow_buys": False,
                      "cost_model": None, "time_limit": 30.0, "most": None},
    "BookError": {"what": "the holdings", "table": ""},
    "column_table": {"markdown": False, "required_only": False},
    "fill_strategy": {"trade_time_days": None, "pov": None},
    "read_covariance": {"sheet": None},
    "read_table": {"sheet": None, "what": "input", "text_columns": (), "first_column_text": False,
                   "percent_text": False},
    "round_trades": {"lot_size": 1, "cost_model": None},
    "tradable_cash": {"limits": None, "lot_size": 1, "risk_band": None, "max_total_mi_bps": None, "allow_buys": False,
                      "cost_model": None, "time_limit": 30.0, "most": None},
    "write_result": {"schedule": None},
    "write_table": {"sheet": "table"},
    # batch
    "BatchResult": {"seconds": 0.0, "skipped": 0, "engine": "local", "notes": [], "lots": ("table", ("book_id",))},
    "read_requests": {},
    "run_batch": {"output_dir": None, "workers": None, "scheduler": None, "resume": False, "progress": None,
                  "formats": ()},
    "solve_book": {},
    # schedules
    "BasketView": {},
    "ScheduleSolution": {"cash_by_period_usd": None, "attempts": [], "notes": [], "confidence": "NaN",
                         "milestones": None, "cvar": None, "shares_by_period": None},
    "optimize_basket_schedule": {"confidence": None, "cvar": None, "warm_start": None, "covariance": None, "factor_model": None, "profile": None, "periods": 26,
                                 "risk_aversion": 1.0, "cash_by_period": None, "bucket_minutes": 30, "max_pov": None,
                                 "risk_measure": "std", "cost_model": None, "start": None, "time_limit": 30.0,
                                 "engine": "auto", "horizon": None, "options": None},
    "optimize_schedule": {"profile": None, "periods": 13, "risk_aversion": 0.0, "alpha_bps": 0.0,
                          "bucket_minutes": 30, "max_pov": None, "cost_model": None, "start": None,
                          "time_limit": 30.0, "engine": "auto", "options": None},
    "plot_schedule_frontier": {},
    "schedule_frontier": {"covariance": None, "factor_model": None, "profile": None, "periods": 26,
                          "cash_by_period": None, "bucket_minutes": 30, "max_pov": None, "cost_model": None,
                          "time_limit": 30.0, "engine": "auto", "horizon": None, "options": None,
                          "confidence": None},
    "almgren_chriss": {},
    "almgren_chriss_frontier": {},
    "basket_view": {"session_minutes": 390, "trading_days": 250},
    "load_volume_profile": {"path": None},
    "optimize_strategy": {"cost_model": None, "pov_bounds": (0.0001, 1.0)},
    "plot_almgren_chriss_frontier": {},
    "plot_basket": {},
    "plot_completion": {"symbols": None},
    "pov_schedule": {"profile": None, "bucket_minutes": 30, "start": None, "whole_shares": True},
    "schedule_grid": {},
    "schedule_impact": {"cost_model": None},
    "vwap_schedule": {"profile": None, "bucket_minutes": 30, "start": None, "whole_shares": True},
    # model, solve, errors
    "CostModel": {"params": krg.KISSELL_2013_ALL_DATA, "trading_days": 250},
    "FactorModel": {},
    "IStarParams": {"a5": 0.0, "code": None, "date": None, "source": ""},
    "InfeasibleLiquidation": {"blocking": None, "blocking_units": None, "headline": None, "blocking_exact": True,
                              "blocking_totals": None},
    "InfeasibleSchedule": {"symbols": (), "reachable_usd": None},
    "InvalidValueError": {},
    "LiquidationResult": {"iterations": 0, "attempts": [], "seconds": 0.0, "stages": [], "message": "",
                          "assumptions": {}, "rounding": {}, "request": {}, "problem": None,
                          "lots": None, "tax": {}, "tax_rates": None},
    "MissingColumnError": {"fix": ""},
    "Portfolio": {"covariance": None, "factor_model": None},
    "SolverFailure": {"attempts": None},
    "SolverTimeout": {"stages": None},
    "NoFeasiblePointFound": {"stages": None},
    "frontier": {},  # its keywords are liquidate's
    "liquidate": {"options": None, "limits": None, "risk_band": None, "max_total_mi_bps": None, "allow_buys": False, "cost_model": None,
                  "group_column": None, "group_limits": None,
                  "max_tracking_error": None, "min_liquid_fraction": None,
                  "max_pct_adv": None, "max_weight_change": None, "max_sold_fraction": None,
                  "engine": "auto", "time_limit": 30.0, "raise_on_failure": True, "warm_start": None,
                  "method": None,
                  "allow_small_cash": False, "fee_bps": 0.0, "lots": None, "tax": None, "tax_weight": 1.0},
    "TaxRates": {"long_term_after_days": 365, "as_of": None, "netting": "none", "unknown_basis": "refuse"},
    "read_lots": {"unknown_basis": "refuse"},
    "linear_cost_bps": {"fee_bps": 0.0},
    "load_example": {},
    "load_parameters": {"path": None, "code": 1, "date": None},
    "max_cash": {"options": None, "limits": None, "risk_band": None, "max_total_mi_bps": None, "allow_buys": False, "cost_model": None,
                 "group_column": None, "group_limits": None, "max_tracking_error": None, "min_liquid_fraction": None,
                 "max_pct_adv": None, "max_weight_change": None, "max_sold_fraction": None, "time_limit": 30.0},
    "plot_frontier": {"max_cash": None},
    "read_parameter_table": {},
    "select_parameters": {"date": None},
    "synthetic_universe": {"n_factors": 5, "seed": 0, "short_fraction": 0.0, "trade_time_days": 1.0},
}
"""Per public callable, its parameters' defaults (a dataclass field's default factory: the value it makes).
Exception classes that take only a message (InputError and its plain subclasses) have none."""

CLI_DEFAULTS = {
    "simulate": {"paths": 10000, "seed": None, "volume_noise": 0.3, "price_noise": True, "max_pov": None,
                 "milestone": None, "bucket_minutes": 30, "profile": None, "covariance": None, "factor_model": None,
                 "factor_covariance": None, "specific_variance": None, "parameters": None, "mi_code": None,
                 "mi_date": None, "output": None},
    "posttrade": {"sheet": None, "parameters": None, "mi_code": None, "mi_date": None, "skip_bad": False,
                  "output": None, "json_output": False},
    "calibrate": {"sheet": None, "parameters": None, "prior_code": None, "code": 2, "loss": "huber", "bootstrap": 200,
                  "holdout": 0.2, "seed": 0, "skip_bad": False, "json_output": False},
    "app": {"host": "127.0.0.1", "port": 8501, "max_upload_mb": 20, "max_names": 3000, "max_seconds": 60.0},
    "batch": {"workers": None, "scheduler": None, "resume": False, "also": []},
    "pretrade": {"holdings": None, "parameters": None, "mi_code": None, "mi_date": None, "trade_time": None,
                 "pov": None},
    "liquidate": {"allow_small_cash": False, "sheet": None, "covariance": None, "factor_model": None,
                  "factor_covariance": None, "specific_variance": None, "risk_band": None, "max_total_mi_bps": None,
                  "allow_buys": False, "group_column": None, "max_group_weight_change": None,
                  "max_tracking_error": None, "min_liquid_fraction": None, "parameters": None, "mi_code": None,
                  "mi_date": None, "trade_time": None,
                  "pov": None, "lot_size": 1, "exact_shares": False, "output": None, "schedule": None,
                  "bucket_minutes": 30, "json_output": False, "time_limit": 30.0, "fee_bps": 0.0,
                  "max_total_cost_bps": None, "lots": None, "tax_short": None, "tax_long": None, "as_of": None,
                  "tax_weight": 1.0, "netting": "none", "unknown_basis": "refuse", "max_pct_adv": None, "max_weight_change": None, "max_sold_fraction": None},
    "demo": {},
    "report": {"allow_small_cash": False, "sheet": None, "covariance": None, "factor_model": None,
               "factor_covariance": None, "specific_variance": None, "risk_band": None, "max_total_mi_bps": None,
               "allow_buys": False, "parameters": None, "mi_code": None, "mi_date": None, "trade_time": None,
               "pov": None, "lot_size": 1, "exact_shares": False, "bucket_minutes": 30, "time_limit": 30.0,
               "fee_bps": 0.0, "lots": None, "tax_short": None, "tax_long": None, "as_of": None, "tax_weight": 1.0,
               "netting": "none", "unknown_basis": "refuse", "group_column": None, "max_group_weight_change": None, "max_tracking_error": None,
               "min_liquid_fraction": None, "max_total_cost_bps": None, "max_pct_adv": None, "max_weight_change": None, "max_sold_fraction": None},
    "schedule": {"confidence": None, "grid": None, "profile": None, "bucket_minutes": 30, "start": None, "optimize": False,
                 "risk_aversion": 1.0, "periods": 26, "covariance": None, "factor_model": None,
                 "factor_covariance": None, "specific_variance": None, "max_pov": None, "cash_by_period": None,
                 "horizon": None, "time_limit": 30.0, "cvar": None, "engine": "auto"},
    "stress": {"allow_small_cash": False, "scenario": None, "date_range": False, "start": None, "end": None,
               "sheet": None, "covariance": None, "factor_model": None, "factor_covariance": None,
               "specific_variance": None, "risk_band": None, "max_total_mi_bps": None, "allow_buys": False,
               "max_pct_adv": None, "parameters": None, "mi_code": None, "mi_date": None, "trade_time": None,
               "pov": None, "no_max_cash": False, "workers": None, "scheduler": None, "time_limit": 30.0,
               "output": None, "json_output": False, "fee_bps": 0.0, "lots": None, "tax_short": None,
               "tax_long": None, "as_of": None, "tax_weight": 1.0, "netting": "none", "unknown_basis": "refuse"},
    "profile": {"pov_cap": 0.2, "horizons": "1,3,7,30", "cost_budget_bps": None, "book_limits": False,
                "sheet": None, "covariance": None, "factor_model": None, "factor_covariance": None,
                "specific_variance": None, "parameters": None, "mi_code": None, "mi_date": None, "output": None,
                "json_output": False},
}
"""Per command, its options' defaults (arguments without a default, such as the book's path, left out)."""


def comparable(value):
    """A default as the table writes it: an empty table as ("table", its columns), NaN as "NaN"."""
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, pd.DataFrame):
        return ("table", tuple(value.columns)) if value.empty else value
    return value


def defaults_of(obj) -> dict | None:
    """A callable's parameter defaults; None when it has no signature to read (a plain exception class)."""
    if inspect.isclass(obj) and dataclasses.is_dataclass(obj):
        return {f.name: comparable(f.default if f.default is not dataclasses.MISSING else f.default_factory())
                for f in dataclasses.fields(obj)
                if f.init and (f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING)}
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return {name: p.default for name, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}


def python_default(obj, name: str):
    return defaults_of(obj)[name]


def cli_defaults() -> dict[str, dict]:
    """Per CLI command, its options' defaults, read from the functions typer calls."""
    out = {}
    for command in app.registered_commands:
        found = {}
        for name, parameter in inspect.signature(command.callback).parameters.items():
            default = getattr(parameter.default, "default", parameter.default)
            if default is not ...:  # ... = required
                found[name] = default
        out[command.name or command.callback.__name__] = found
    return out


def test_every_public_default_is_pinned():
    found = {name: defaults_of(getattr(krg, name)) for name in krg.__all__
             if callable(getattr(krg, name)) and not isinstance(getattr(krg, name), enum.EnumType)}
    found = {name: value for name, value in found.items() if value is not None}
    assert set(found) == set(PYTHON_DEFAULTS), "a public callable was added or removed: pin its defaults here"
    for name, expected in PYTHON_DEFAULTS.items():
        assert found[name] == expected, name


def test_every_cli_default_is_pinned():
    found = cli_defaults()
    assert set(found) == set(CLI_DEFAULTS), "a command was added or removed: pin its options here"
    for name, expected in CLI_DEFAULTS.items():
        assert found[name] == expected, name


CLI = cli_defaults()

SHARED = {
    "time limit of a solving call (s): liquidation, capacity, schedules": {
        "core.plan.DEFAULT_TIME_LIMIT": DEFAULT_TIME_LIMIT,
        "SolverOptions.time_limit": python_default(krg.SolverOptions, "time_limit"),
        **{f"{f.__name__}(time_limit)": python_default(f, "time_limit")
           for f in (krg.liquidate, krg.max_cash, krg.tradable_cash, krg.stress_test, krg.liquidity_profile,
                     build_report, krg.optimize_schedule, krg.optimize_basket_schedule, krg.schedule_frontier,
                     krg.replan)},
        "batch column time_limit": python_default(BookRequest, "time_limit"),
        "desk DeskRequest.time_limit": python_default(DeskRequest, "time_limit"),
        **{f"krg-liquidity {c} --time-limit": CLI[c]["time_limit"] for c in ("liquidate", "report", "stress",
                                                                                "schedule")},
    },
    "participation cap of the liquidity profile": {
        "liquidity_profile(pov_cap)": python_default(krg.liquidity_profile, "pov_cap"),
        "krg-liquidity profile --pov-cap": CLI["profile"]["pov_cap"],
    },
    "horizons of the liquidity profile (days)": {
        "liquidity_profile(horizons)": python_default(krg.liquidity_profile, "horizons"),
        "krg-liquidity profile --horizons": tuple(int(days) for days in CLI["profile"]["horizons"].split(",")),
    },
    "bucket length (minutes)": {
        **{f"{f.__name__}(bucket_minutes)": python_default(f, "bucket_minutes")
           for f in (krg.pov_schedule, krg.vwap_schedule, krg.optimize_schedule, krg.optimize_basket_schedule,
                     krg.schedule_frontier, build_report)},
        **{f"krg-liquidity {c} --bucket-minutes": CLI[c]["bucket_minutes"]
           for c in ("liquidate", "report", "schedule")},
    },
    "lot size (shares)": {
        "round_trades(lot_size)": python_default(krg.round_trades, "lot_size"),
        "tradable_cash(lot_size)": python_default(krg.tradable_cash, "lot_size"),
        **{f"krg-liquidity {c} --lot-size": CLI[c]["lot_size"] for c in ("liquidate", "report")},
    },
    "periods of a basket schedule": {
        "optimize_basket_schedule(periods)": python_default(krg.optimize_basket_schedule, "periods"),
        "schedule_frontier(periods)": python_default(krg.schedule_frontier, "periods"),
        "krg-liquidity schedule --optimize --periods": CLI["schedule"]["periods"],
    },
    "risk aversion of a basket schedule": {
        "optimize_basket_schedule(risk_aversion)": python_default(krg.optimize_basket_schedule, "risk_aversion"),
        "krg-liquidity schedule --optimize --risk-aversion": CLI["schedule"]["risk_aversion"],
    },
    "trading days a year": {
        "CostModel(trading_days)": python_default(krg.CostModel, "trading_days"),
        "basket_view(trading_days)": python_default(krg.basket_view, "trading_days"),
    },
    "market-impact parameter code": {
        "load_parameters(code)": python_default(krg.load_parameters, "code"),
        "date_range_stress(code)": python_default(krg.date_range_stress, "code"),
        "CostModel().params.code": krg.CostModel().params.code,
        "--mi-code help": int(re.search(r"default (\d+)", MI_CODE_HELP).group(1)),
    },
    "desk: largest upload (MB per file)": {
        "DeskLimits.max_upload_mb": DeskLimits().max_upload_mb,
        "krg-liquidity app --max-upload-mb": CLI["app"]["max_upload_mb"],
    },
    "desk: largest book (names)": {
        "DeskLimits.max_names": DeskLimits().max_names, "krg-liquidity app --max-names": CLI["app"]["max_names"],
    },
    "desk: most seconds per solve": {
        "DeskLimits.max_seconds": DeskLimits().max_seconds,
        "krg-liquidity app --max-seconds": CLI["app"]["max_seconds"],
    },
}


LIMIT_FIELDS = {field.name for field in dataclasses.fields(krg.Limits)}


def limit_defaults(keyword: str) -> dict[str, object]:
    """Where a request-level limit has a default: every public function that takes it, the desk, the batch
    columns and the CLI commands."""
    places = {f"{name}({keyword})": PYTHON_DEFAULTS[name][keyword] for name in PYTHON_DEFAULTS
              if keyword in PYTHON_DEFAULTS[name]}
    places[f"desk DeskRequest.{keyword}"] = python_default(DeskRequest, keyword)
    places[f"batch column {keyword}"] = (getattr(python_default(BookRequest, "limits"), keyword)
                                         if keyword in LIMIT_FIELDS else python_default(BookRequest, keyword))
    places |= {f"krg-liquidity {c} --{keyword.replace('_', '-')}": CLI[c][keyword] for c in CLI if keyword in CLI[c]}
    return places


for keyword in ("risk_band", "max_total_mi_bps", "allow_buys", "allow_small_cash"):
    SHARED[f"{keyword} (no such limit by default)"] = limit_defaults(keyword)


@pytest.mark.parametrize("places", SHARED.values(), ids=SHARED.keys())
def test_a_default_written_in_several_places_is_one_value(places):
    assert len(places) >= 2
    assert len(set(map(repr, places.values()))) == 1, places


def test_the_readme_states_the_defaults_the_code_has():
    assert f"`time_limit={DEFAULT_TIME_LIMIT}` seconds by default" in README
    assert f"`--max-upload-mb`, default {DeskLimits().max_upload_mb}" in README
    assert f"`--max-names`, default {DeskLimits().max_names:,}" in README
    assert f"`--max-seconds` (default {DeskLimits().max_seconds:g}" in README


def test_the_frontier_points_default_is_the_one_its_message_gives():
    book = krg.Portfolio(*krg.load_example())
    default = python_default(build_report, "frontier_points")
    assert default == 8
    with pytest.raises(InputError, match=rf"\(default {default}\)"):
        build_report(krg.liquidate(book, 1e9), book, frontier_points=0)
