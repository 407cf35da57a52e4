"""``krg-liquidity stress`` (scenarios x methods, or every date of a parameter table) and ``krg-liquidity profile``."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Optional

import pandas as pd
import typer

from krg_liquidity.book.holdings import fill_strategy
from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.book.read import read_table
from krg_liquidity.cli import options
from krg_liquidity.cli.app import app
from krg_liquidity.cli.common import (
    BOOK_HELP,
    EXIT_CODES,
    console,
    cost_model_from,
    fail,
    print_frame,
    print_json,
    report_failure,
    reraise_exit,
    risk_model_from,
    with_sheet_hint,
)
from krg_liquidity.core import arguments
from krg_liquidity.core.errors import BookError, InputError, UnitsWarning
from krg_liquidity.core.plan import DEFAULT_TIME_LIMIT
from krg_liquidity.model.params import read_parameter_table
from krg_liquidity.report.write import SUMMARY_COLUMNS, check_output, request_table, write_table, write_workbook
from krg_liquidity.solve.limits import LABELS, SHORT_LABELS
from krg_liquidity.whatif.liquidity import liquidity_profile
from krg_liquidity.whatif.scenarios import BUILT_IN, SCENARIO_COLUMNS, scenarios_from_table
from krg_liquidity.whatif.stress import date_range_stress, stress_test

SCENARIO_HELP = ("Scenario table (CSV/.xlsx/Parquet), one row per scenario: name and any of "
                 f"{', '.join(SCENARIO_COLUMNS[1:])} "
                 "(adv, volatility, price: multipliers; trade_time days; pov decimal; a1..b1 I-Star values; more "
                 "rows of the same name with a symbol, or a column and value, for per-name or per-group multipliers). "
                 "Default: the built-in set (base, volume halved, volatility doubled, 2008-like: illustrations).")
COVARIANCE_HELP = "Covariance (annualized, decimal): first column the symbol, header the symbols."
EXACT_MAX_CASH = "max_cash_usd_exact_shares"
"""The most-cash column's name on screen: the figure is in exact shares (liquidate --exact-shares raises it)."""
STRESS_FORMATS = {"cash_raised_usd": ",.0f", "cost_usd": ",.0f", "cost_bps": ".2f", "extra_cost_bps": ".2f",
                  "tax_usd": ",.0f", "extra_after_tax_bps": ".2f", "max_cash_usd": ",.0f", "risk_after": ".2%",
                  "marginal_cost_bps": ".2f"}


def _book(holdings: Path, sheet, covariance, factor_model, factor_covariance, specific_variance, trade_time, pov):
    cov, factors = risk_model_from(covariance, factor_model, factor_covariance, specific_variance)
    table = fill_strategy(read_table(holdings, sheet=sheet, what="holdings"), trade_time, pov)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnitsWarning)
        try:
            return Portfolio(table, cov, factors)
        except BookError as exc:
            raise with_sheet_hint(exc, holdings, sheet) from None


def _write(path: Path, sheets: dict[str, pd.DataFrame], flat: pd.DataFrame) -> None:
    """.xlsx: every sheet; .json: every table as records under its name; .csv/.parquet: ``flat``."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        write_workbook(sheets, path)
    elif suffix == ".json":
        path.write_text(json.dumps({name: json.loads(frame.to_json(orient="records", double_precision=15))
                                    for name, frame in sheets.items()}, indent=1))
    else:
        write_table(flat, path)


@app.command(epilog=BOOK_HELP)
def stress(
    holdings: Path = typer.Argument(..., help="Holdings: CSV (comma, semicolon or tab), .xlsx or .parquet."),
    cash: str = options.cash(),
    allow_small_cash: bool = options.allow_small_cash(),
    scenario: Optional[Path] = typer.Option(None, help=SCENARIO_HELP),
    date_range: bool = typer.Option(False, "--date-range", help="Instead of scenarios: the liquidation under every "
                                    "date of --parameters (code --mi-code) between --start and --end."),
    start: Optional[str] = typer.Option(None, help="With --date-range: first date, YYYY-MM-DD."),
    end: Optional[str] = typer.Option(None, help="With --date-range: last date, YYYY-MM-DD."),
    sheet: Optional[str] = typer.Option(None, help="Sheet of an .xlsx holdings file (default: the first)."),
    covariance: Optional[Path] = typer.Option(None, help=COVARIANCE_HELP),
    factor_model: Optional[Path] = options.factor_model(),
    factor_covariance: Optional[Path] = options.factor_covariance(),
    specific_variance: Optional[Path] = options.specific_variance(),
    risk_band: Optional[tuple[float, float]] = options.risk_band(),
    max_total_mi_bps: Optional[float] = options.max_total_mi_bps(),
    allow_buys: bool = options.allow_buys(),
    max_pct_adv: Optional[float] = typer.Option(None, parser=options.fraction, metavar="SHARE",
                                                help="The waterfall's cap (share of ADV: 0.05 or 5%) for names "
                                                     "without ub_max_pct_adv (default: the whole position)."),
    parameters: Optional[Path] = options.parameters(),
    mi_code: Optional[int] = options.mi_code(),
    mi_date: Optional[str] = typer.Option(None, help="Base set: the latest --parameters set on or before this day."),
    trade_time: Optional[float] = options.trade_time(),
    pov: Optional[float] = options.pov(),
    no_max_cash: bool = typer.Option(False, "--no-max-cash", help="Skip the most-cash solve of each scenario."),
    workers: Optional[int] = typer.Option(None, min=1, help="Processes (default: 1 below 8 scenarios, else one per "
                                                            "core)."),
    scheduler: Optional[str] = typer.Option(None, help="Dask scheduler address (tcp://host:8786): run the scenarios "
                                                       "on that cluster."),
    time_limit: float = typer.Option(DEFAULT_TIME_LIMIT, help="Seconds each solve may take."),
    output: Optional[Path] = typer.Option(None, help="Write the table here: .csv, .parquet, .xlsx or .json (.xlsx "
                                                     "and .json with a request sheet: what was asked)."),
    json_output: bool = typer.Option(False, "--json", help="Print the table as JSON records on stdout."),
    fee_bps: float = options.fee_bps(),
    lots: Optional[Path] = options.lots(),
    tax_short: Optional[float] = options.tax_short(),
    tax_long: Optional[float] = options.tax_long(),
    as_of: Optional[str] = options.as_of(),
    tax_weight: float = options.tax_weight(),
    netting: str = options.netting(),
    unknown_basis: str = options.unknown_basis(),
) -> None:
    """Liquidate CASH from HOLDINGS under each scenario: optimized, pro-rata and waterfall side by side.

    Every (scenario, method) is one row: status, cash raised, cost (USD, bps), extra cost against the
    optimized list, the most cash the limits allow, risk after, marginal cost, limits broken. A failed
    solve is a row with its status. Exit codes: 0 when the table is written, 2 for bad input (also when
    every row is bad_input: the table is printed, then the first row's message).
    """
    try:
        options.check_limits(risk_band, time_limit, max_total_mi_bps)
        taxed = options.tax_request(fee_bps, lots, tax_short, tax_long, as_of, netting, tax_weight, unknown_basis)
        if output is not None:
            check_output(output)
        dated = parameters if date_range else None  # the parameter table whose every date is run
        if date_range and dated is None:
            raise InputError("--date-range runs every date of a parameter table: give --parameters FILE")
        if date_range and scenario is not None:
            raise InputError("give --scenario or --date-range, not both")
        if date_range and (lots is not None or fee_bps):
            raise InputError("--date-range prices impact alone: drop --lots and --fee-bps, or run the scenarios")
        book = _book(holdings, sheet, covariance, factor_model, factor_covariance, specific_variance, trade_time, pov)
        limits: dict[str, Any] = dict(risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys)
        target = options.cash_target(cash, book, allow_small_cash)
        if dated is not None:
            table = date_range_stress(book, target, read_parameter_table(dated), code=mi_code or 1, start=start,
                                      end=end, time_limit=time_limit, allow_small_cash=allow_small_cash, **limits)
            title, formats = "Cost per date", {"cost_usd": ",.0f", "cost_bps": ".2f", "fixed_trades_cost_usd": ",.0f"}
        else:
            model = cost_model_from(parameters, mi_code, mi_date)
            scenarios = BUILT_IN if scenario is None else scenarios_from_table(read_table(scenario, what="scenario"),
                                                                               model)
            table = stress_test(book, target, scenarios, max_pct_adv=max_pct_adv, with_max_cash=not no_max_cash,
                                workers=workers, scheduler=scheduler, cost_model=model, time_limit=time_limit,
                                allow_small_cash=allow_small_cash, **limits, **taxed)
            title, formats = "Stress test", STRESS_FORMATS
        if output is not None:
            asked = request_table({"cash_target_usd": target, "risk_band": risk_band,
                                   "max_total_mi_bps": max_total_mi_bps, "allow_buys": allow_buys,
                                   "time_limit_s": time_limit})
            what = (f"every date of {dated.name} from {start or 'the first'} to {end or 'the last'}"
                    if dated is not None else ", ".join(s.name for s in scenarios))
            asked = _asked(asked, [("holdings", str(holdings), "", "holdings"),
                                   ("scenarios", what, "", "scenario"),
                                   ("waterfall cap", "the whole position" if max_pct_adv is None else max_pct_adv,
                                    "fraction of ADV", "max_pct_adv"),
                                   ("I-Star parameters", "published" if parameters is None else str(parameters), "",
                                    "parameters")])
            _write(output, {"stress": table, "request": asked}, table)
    except Exception as exc:  # every failure is one message or one JSON object
        reraise_exit(exc)
        report_failure(exc, json_output)
    every_row_bad = bool(len(table)) and bool((table["status"] == "bad_input").all())
    if json_output:
        print_json({"status": "bad_input" if every_row_bad else "done",
                    "rows": json.loads(table.to_json(orient="records", double_precision=15))})
        if every_row_bad:
            raise typer.Exit(EXIT_CODES["bad_input"])
        return
    shown = [c for c in table.columns if c not in ("message", "seconds", "cash_target_usd", "risk_before",
                                                    "names_traded")]  # cash raised stays: a rule may fall short
    if "tax_usd" in table and table["tax_usd"].isna().all():  # no tax lots: no tax columns
        shown = [c for c in shown if c not in ("tax_usd", "extra_after_tax_bps")]
    view = table.loc[:, shown].astype(object).fillna("")
    if "limits_broken" in view:  # a few words per limit (participation, impact cap, ...) keep the table narrow
        keys = {label: SHORT_LABELS.get(key, key) for key, label in LABELS.items()}
        view["limits_broken"] = view["limits_broken"].map(
            lambda text: ", ".join(keys.get(part, part) for part in text.split("; ")) if text else "")
    if "max_cash_usd" in view:  # stress_test's most cash is in exact shares; liquidate's default trades whole ones
        view = view.rename(columns={"max_cash_usd": EXACT_MAX_CASH})
        formats = {EXACT_MAX_CASH if key == "max_cash_usd" else key: value for key, value in formats.items()}
    print_frame(view, title, formats, compact=True, keys=2 if "method" in view else 1)
    for line in _reasons(table, console.width):
        console.print(line, highlight=False, markup=False)
    if output is not None:
        console.print(f"wrote {output}", highlight=False, markup=False)
    if every_row_bad:
        fail(f"every row is bad input: {table['message'].iloc[0]}", EXIT_CODES["bad_input"])


def _asked(table: pd.DataFrame, rows: list[tuple]) -> pd.DataFrame:
    """A request sheet (item/value/unit/key): ``table`` with ``rows`` added."""
    added = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)).astype({"value": object})
    return pd.concat([table, added], ignore_index=True)


def _reasons(table: pd.DataFrame, width: int) -> list[str]:
    """One line per row with no answer (infeasible, bad input, timeout, ...): the row's scenario or date,
    its method, status and the headline of its message, cut to ``width`` characters."""
    solved = table["status"].isin(("optimal", "feasible", "limits_broken"))  # broken limits have their column
    rows = table.loc[~solved & table["message"].fillna("").astype(str).str.strip().ne("")]
    if rows.empty:
        return []
    lines = ["Why some rows have no answer:"]
    for _, row in rows.iterrows():
        where = " / ".join(str(row[c]) for c in ("scenario", "date", "method") if c in row and str(row[c]))
        line = f"  {where} ({row['status']}): {str(row['message']).strip().splitlines()[0]}"
        lines.append(line if len(line) <= width else line[:max(width - 1, 20)] + "\u2026")
    return lines


@app.command(epilog=BOOK_HELP)
def profile(
    holdings: Path = typer.Argument(..., help="Holdings: CSV (comma, semicolon or tab), .xlsx or .parquet."),
    pov_cap: float = typer.Option(0.2, parser=options.fraction, metavar="POV",
                                  help="Participation cap: 0.2 or 20% of volume."),
    horizons: str = typer.Option("1,3,7,30", help="Horizons in days, comma-separated and increasing."),
    cost_budget_bps: Optional[float] = typer.Option(None, parser=options.bps, metavar="BPS",
                                                    help="Most cash within each horizon at a total impact of at "
                                                         "most this many bps (50 or 50bps; default: no cost "
                                                         "limit)."),
    book_limits: bool = typer.Option(False, help="Keep the book's own per-name bounds in the most-cash solves."),
    sheet: Optional[str] = typer.Option(None, help="Sheet of an .xlsx holdings file (default: the first)."),
    covariance: Optional[Path] = typer.Option(None, help=COVARIANCE_HELP),
    factor_model: Optional[Path] = options.factor_model(),
    factor_covariance: Optional[Path] = options.factor_covariance(),
    specific_variance: Optional[Path] = options.specific_variance(),
    parameters: Optional[Path] = options.parameters(),
    mi_code: Optional[int] = options.mi_code(),
    mi_date: Optional[str] = typer.Option(None, help="The latest --parameters set on or before this day."),
    output: Optional[Path] = typer.Option(None, help="Write here: .xlsx (sheets book, buckets, by_horizon, days, "
                                                     "request), .json (the five tables), .csv/.parquet (per name: "
                                                     "days, buckets)."),
    json_output: bool = typer.Option(False, "--json", help="Print the book table as JSON records on stdout."),
) -> None:
    """Liquidity profile: value sellable within each horizon at the POV cap, its cost, days per name,
    day buckets, and the most cash raisable within each horizon (within --cost-budget-bps)."""
    try:
        if output is not None:
            check_output(output)
        try:
            days = tuple(float(v) for v in horizons.split(","))
        except ValueError:
            raise InputError(f"--horizons {horizons!r}: give days separated by commas, e.g. 1,3,7,30") from None
        pov_cap = arguments.fraction(pov_cap, "--pov-cap", closed=False)
        # the profile trades every name at the POV cap: names need no trade time of their own
        book = _book(holdings, sheet, covariance, factor_model, factor_covariance, specific_variance, None, pov_cap)
        found = liquidity_profile(book, pov_cap, days, cost_budget_bps=cost_budget_bps, book_limits=book_limits,
                                  cost_model=cost_model_from(parameters, mi_code, mi_date))
        per_name = found.days.merge(found.buckets, on="symbol", how="outer")
        if output is not None:
            asked = _asked(pd.DataFrame(columns=list(SUMMARY_COLUMNS)), [
                ("holdings", str(holdings), "", "holdings"), ("POV cap", pov_cap, "fraction of volume", "pov_cap"),
                ("horizons", ", ".join(f"{d:g}" for d in days), "days", "horizons"),
                ("cost budget", "none" if cost_budget_bps is None else cost_budget_bps, "bps of the cash",
                 "cost_budget_bps"),
                ("book's own per-name limits", "yes" if book_limits else "no", "", "book_limits"),
                ("I-Star parameters", "published" if parameters is None else str(parameters), "", "parameters")])
            _write(output, {"book": found.book, "buckets": found.buckets, "by_horizon": found.by_horizon,
                            "days": found.days, "request": asked}, per_name)
    except Exception as exc:
        reraise_exit(exc)
        report_failure(exc, json_output)
    if json_output:
        print_json({"status": "done", "book": json.loads(found.book.to_json(orient="records", double_precision=15))})
        return
    print_frame(found.book, f"Liquidity at {pov_cap:.0%} POV", {
        "value_sellable_usd": ",.0f", "fraction_of_gross": ".1%", "cost_usd": ",.0f", "cost_bps": ".2f",
        "max_cash_usd": ",.0f", "max_cash_fraction_of_net": ".1%"})
    book_row = found.buckets[found.buckets["symbol"] == "book"].iloc[0, 1:]
    console.print("Buckets (share of gross value): " + ", ".join(
        f"{label} {value / book_row.sum():.1%}" for label, value in book_row.items()), highlight=False)
    if output is not None:
        console.print(f"wrote {output}", highlight=False, markup=False)
