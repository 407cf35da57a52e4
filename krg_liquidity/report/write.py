"""Writing answers by extension: .csv, .xlsx, .parquet or .json; any other extension is refused.

A result written to .xlsx gets seven sheets: ``trades``, ``schedule`` (the POV schedule), ``grid``
(the same schedule as one row per bucket and a column per name), ``summary`` (the answer in words,
one row per figure, with its unit), ``costs`` (impact, spread, commission, fees, total; with tax lots
the tax too), ``request`` (cash target, risk band, caps, buys, fee and tax settings, time limit) and
``assumptions`` (with tax lots a ``lots`` sheet too, each lot's sale, gain and tax), with number formats (shares and dollars with thousands separators, bps with
two decimals, POV, weights and risk as percents). .csv holds the trade table only;
.parquet the trade table with the request in its metadata (``pd.read_parquet(path).attrs["request"]``);
.json the whole result, request included (``LiquidationResult.to_dict``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from krg_liquidity.core.errors import InputFileError

if TYPE_CHECKING:
    from krg_liquidity.solve.result import LiquidationResult

OUTPUT_SUFFIXES = (".csv", ".xlsx", ".parquet", ".json")
_FORMATS = {
    "#,##0": ("shares_before", "shares_traded", "shares_after", "shares", "cum_shares", "adv",
              "expected_market_volume", "cash_target", "cash_raised", "lower_bound_usd", "cash_raised_usd",
              "cum_cash_usd", "residual_value_usd", "residual_risk_usd", "value_sold_usd", "value_usd"),
    "#,##0.00": ("value_traded_usd", "cost_usd", "price"),
    "0.00": ("mi_bps", "cost_bps", "marginal_cost_bps", "trade_time_days", "istar_bps", "market_impact_bps",
             "timing_risk_bps", "days_to_liquidate"),
    "0.00%": ("pov", "weight_before", "weight_after", "volatility", "fraction_done", "risk_before", "risk_after",
              "weight_lo", "weight_hi", "max_sold_fraction", "sellable_1d", "sellable_5d", "sellable_20d",
              "gap", "max_violation"),  # the last two: ratios (of the cost; of each limit's own measure)
}


def check_output(path: str | Path, what: str = "output", suffixes: tuple[str, ...] = OUTPUT_SUFFIXES) -> Path:
    """The path if it can be written: not a folder, an extension in ``suffixes``, its folder exists
    and is a folder; else InputFileError naming the path and the fix (checked before any solve)."""
    path = Path(path)
    if path.is_dir():
        raise InputFileError(f"{what} {path} is a folder; give a file name inside it, e.g. "
                             f"{path / (what.split()[0] + suffixes[0])}")
    if path.suffix.lower() not in suffixes:
        raise InputFileError(f"{what} file {path.name}: unknown extension '{path.suffix}'; "
                             f"use one of {', '.join(suffixes)}")
    if not path.parent.is_dir():
        raise InputFileError(f"{what} folder {path.parent} does not exist; create it or write elsewhere")
    return path


def check_output_folder(path: str | Path, what: str = "output folder") -> Path:
    """The path if it is a folder or can be made one (it is created with its parents); an existing
    file there is an InputFileError naming the fix (checked before any work)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputFileError(f"{what} {path} is a file; give a folder (it is created if missing), e.g. "
                             f"{path.with_suffix('')}_out")
    blocking = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise InputFileError(f"{what} {path}: {blocking} is a file, not a folder; write elsewhere")
    return path


def write_table(frame: pd.DataFrame, path: str | Path, sheet: str = "table") -> Path:
    """One table to .csv, .xlsx (one sheet), .parquet or .json (records).

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    path : str or Path
        The file; its extension chooses the format.
    sheet : str
        The sheet's name in .xlsx.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputFileError
        ``path`` is a folder, has another extension, or its folder does not exist.

    Examples
    --------
    >>> import os, tempfile
    >>> write_table(pd.DataFrame({"a": [1, 2]}), os.path.join(tempfile.mkdtemp(), "t.csv")).name
    't.csv'
    """
    path = check_output(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".json":
        path.write_text(frame.to_json(orient="records", double_precision=15, date_format="iso"))
    else:
        write_workbook({sheet: frame}, path)
    return path


def _unit_format(unit: object) -> str | None:
    """Excel number format of a value in an (item, value, unit) table, by its unit."""
    unit = str(unit)
    if unit == "USD" or unit.startswith("USD,") or unit == "shares":
        return "#,##0"
    if unit.startswith("bps") or unit == "x today's risk":
        return "0.00"
    if unit in ("annualized, decimal", "fraction of the cost", "fraction, in each limit's own measure"):
        return "0.00%"
    if unit == "s":
        return "0.00"
    return None


def write_workbook(sheets: dict[str, pd.DataFrame], path: str | Path, other_numbers: dict[str, str] | None = None
                   ) -> Path:
    """Several tables to one .xlsx, a sheet each, numbers formatted by column name (an item/value/unit
    table: each value by its unit), columns sized. ``other_numbers``: sheet -> the Excel format of its
    numeric columns that have no format of their own (a schedule grid's name columns: shares)."""
    path = Path(path)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame = frame.copy()
            for column in frame.columns:  # Excel has no categorical or timezone-aware cells
                if isinstance(frame[column].dtype, pd.CategoricalDtype):
                    frame[column] = frame[column].astype(str)
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            if {"item", "value", "unit"} <= set(frame.columns):
                index = list(frame.columns).index("value") + 1
                for row, unit in enumerate(frame["unit"], start=2):
                    fmt = _unit_format(unit)
                    if fmt is not None:
                        sheet.cell(row=row, column=index).number_format = fmt
            for index, column in enumerate(frame.columns, start=1):
                fmt = next((f for f, names in _FORMATS.items() if column in names), None)
                if fmt is None and pd.api.types.is_numeric_dtype(frame[column]) and column not in ("day", "period"):
                    fmt = (other_numbers or {}).get(name)
                letter = sheet.cell(row=1, column=index).column_letter
                text = frame[column].head(200).astype(str) if frame[column].dtype == object else pd.Series(dtype=str)
                longest = max([len(str(column)), *text.str.len()])
                sheet.column_dimensions[letter].width = max(10, min(60, longest + 2))
                if fmt is None:
                    continue
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = fmt
            sheet.freeze_panes = "A2"
    return path


SUMMARY_COLUMNS = ("item", "value", "unit", "key")


def schedule_sheets(plan: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """A schedule's sheets: ``schedule`` (tidy, one row per name and bucket) and ``grid`` (one row per bucket,
    a column of shares per name: ``schedule.schedule_grid``)."""
    from krg_liquidity.schedule.pov_vwap import schedule_grid

    return {"schedule": plan, "grid": schedule_grid(plan)}


GRID_NUMBERS = {"grid": "#,##0"}


def write_schedule(plan: pd.DataFrame, path: str | Path, extra: dict[str, pd.DataFrame] | None = None) -> Path:
    """A schedule by extension: .xlsx gets the ``schedule`` and ``grid`` sheets (and ``extra`` sheets); .csv,
    .parquet and .json the tidy table."""
    path = check_output(path)
    if path.suffix.lower() != ".xlsx":
        return write_table(plan, path, sheet="schedule")
    return write_workbook(schedule_sheets(plan) | dict(extra or {}), path, other_numbers=GRID_NUMBERS)


LOT_SHEET_COLUMNS = ("symbol", "lot_id", "term", "acquired", "shares", "shares_sold", "cost_basis_per_share",
                     "realized_gain_usd", "rate", "tax_usd")
"""The lots sheet of a result written to .xlsx: each lot, what was sold of it, its gain and its tax (USD)."""


def summary_table(result: LiquidationResult) -> pd.DataFrame:
    """The answer as a PM reads it: one row per figure with ``item`` (words), ``value``, ``unit`` and
    ``key`` (its field in ``LiquidationResult.to_dict``, for programs)."""
    r = result
    traded = int((r.trades["shares_traded"] != 0).sum()) if r.success else 0
    rows = [("status", r.status, "", "status"),
            ("cash target", r.cash_target, "USD", "cash_target"),
            ("cash raised", r.cash_raised, "USD", "cash_raised"),
            ("impact cost", r.cost_usd, "USD", "cost_usd"),
            ("impact cost", r.cost_bps, "bps of cash raised", "cost_bps"),
            *([("all-in trading cost", r.total_cost_usd, "USD", "total_cost_usd")]
              if r.objective_words() != "impact cost" else []),
            *([("capital-gains tax", r.tax_usd, "USD", "tax_usd"),
               ("realized short-term gain", r.tax["realized_short_term_usd"], "USD", "tax.realized_short_term_usd"),
               ("realized long-term gain", r.tax["realized_long_term_usd"], "USD", "tax.realized_long_term_usd"),
               ("net loss carried forward", r.tax.get("carryforward_usd", 0.0), "USD", "tax.carryforward_usd")]
              if r.tax else []),
            *([(f"least possible {r.objective_words()} (proven lower bound)", r.objective_lower_bound_usd, "USD",
                "objective_lower_bound_usd")] if r.objective_words() != "impact cost" and np.isfinite(r.gap_usd) else
              [("least possible cost (proven lower bound)", r.lower_bound_usd, "USD", "lower_bound_usd")]),
            ("gap to the least possible cost", r.gap_usd, "USD", "gap_usd"),
            ("gap to the least possible cost", r.gap_bps, "bps of cash raised", "gap_bps"),
            ("gap to the least possible cost", r.gap, "fraction of the cost", "gap"),
            ("marginal cost of the next dollar", r.marginal_cost_bps, "bps per next dollar", "marginal_cost_bps"),
            ("risk before", r.risk_before, "annualized, decimal", "risk_before"),
            ("risk after", r.risk_after, "annualized, decimal", "risk_after"),
            ("names traded", traded, "names", "names_traded"),
            ("limits (recomputed from the trades)", r.violation_text(), "", "limits"),
            ("max violation", r.max_violation, "fraction, in each limit's own measure", "max_violation"),
            ("method", r.method, "", "method"),
            ("iterations", r.iterations, "", "iterations"),
            ("seconds", r.seconds, "s", "seconds")]
    if r.message:
        rows.insert(1, ("message", r.message, "", "message"))
    rounding = r.rounding or {}
    if rounding:
        rows += [("rounded to lots of", rounding.get("lot_size"), "shares", "rounding.lot_size"),
                 ("rounding rule", rounding.get("rule"), "", "rounding.rule"),
                 ("cash raised before rounding", rounding.get("cash_raised_exact"), "USD",
                  "rounding.cash_raised_exact"),
                 ("impact cost before rounding", rounding.get("cost_usd_exact"), "USD", "rounding.cost_usd_exact")]
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)).astype({"value": object})


def request_table(request: dict, lot_size: float | None = None) -> pd.DataFrame:
    """A request record (``LiquidationResult.request``) as item/value/unit/key rows; "none" where a limit is
    not set."""
    band = request.get("risk_band")
    rows = [("cash target", request.get("cash_target_usd"), "USD", "cash_target_usd"),
            ("risk band, low", band[0] if band else "none", "x today's risk", "risk_band_lo"),
            ("risk band, high", band[1] if band else "none", "x today's risk", "risk_band_hi"),
            ("total impact cap", _or_none(request.get("max_total_mi_bps")), "bps of the cash", "max_total_mi_bps"),
            ("buys allowed", "yes" if request.get("allow_buys") else "no (sales and short covers only)", "",
             "allow_buys"),
            *_more_rows(request),
            ("time limit", _or_none(request.get("time_limit_s")), "s", "time_limit_s"),
            ("trades rounded to lots of", "none: exact (fractional) shares" if not lot_size else lot_size,
             "" if not lot_size else "shares per lot (1: whole shares)", "lot_size")]
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)).astype({"value": object})


def _more_rows(request: dict) -> list[tuple]:
    """The request's shape limits, per-name defaults, cost cap, sell fee and tax settings, when given (item, value,
    unit, key)."""
    rows: list[tuple] = []
    if request.get("group_limits"):
        for rule in request["group_limits"]:
            group = "every group" if rule.get("group") is None else f"group {rule['group']}"
            for key, unit in (("lb_wt", "post-trade weight, decimal"), ("ub_wt", "post-trade weight, decimal"),
                              ("max_weight_change", "points of weight, decimal"),
                              ("max_sold_fraction", "of the group's value today")):
                if rule.get(key) is not None:
                    rows.append((f"{group}: {key.replace('_', ' ')}", rule[key], unit, f"group_limits.{key}"))
        rows.append(("groups read from column", request.get("group_column") or "the first group column found", "",
                     "group_column"))
    if request.get("max_tracking_error") is not None:
        rows.append(("tracking error cap", request["max_tracking_error"], "annualized, decimal", "max_tracking_error"))
    if request.get("min_liquid_fraction") is not None:
        fraction, days = request["min_liquid_fraction"]
        rows += [("liquid after the trades, at least", fraction, "of the post-trade value", "min_liquid_fraction"),
                 ("liquid within", days, "days", "min_liquid_days")]
    for key, item, unit in (("max_pct_adv", "each name: at most", "of ADV traded, decimal"),
                            ("max_weight_change", "each name: weight within", "points of today's weight, decimal"),
                            ("max_sold_fraction", "each name: at most", "of the position sold, decimal")):
        if request.get(key) is not None:
            rows.append((f"{item} (where the book gives no bound)", request[key], unit, key))
    if request.get("max_total_cost_bps") is not None:
        rows.append(("all-in trading cost cap", request["max_total_cost_bps"], "bps of the cash", "max_total_cost_bps"))
    if request.get("fee_bps"):
        rows.append(("sell fee (names without their own)", request["fee_bps"], "bps of the proceeds", "fee_bps"))
    tax = request.get("tax")
    if tax:
        rows += [("short-term tax rate", tax["short_term"], "decimal", "tax.short_term"),
                 ("long-term tax rate", tax["long_term"], "decimal", "tax.long_term"),
                 ("long-term after", tax["long_term_after_days"], "days held", "tax.long_term_after_days"),
                 ("sale date", tax["as_of"], "", "tax.as_of"),
                 ("tax model", "US netting" if tax["netting"] == "us" else "linear (each loss credited at its rate)",
                  "", "tax.netting"),
                 ("tax weight", tax["tax_weight"], "x a dollar of trading cost", "tax.tax_weight")]
    return rows


def _or_none(value):
    """"none" for a limit not set (None, or an infinite time limit)."""
    return "none" if value is None or (isinstance(value, float) and not np.isfinite(value)) else value


def assumptions_table(result: LiquidationResult) -> pd.DataFrame:
    from krg_liquidity.model.assumptions import flat

    return pd.DataFrame(flat(result.assumptions), columns=["item", "value"]).astype({"value": object})


def lot_rule_sheet(result: LiquidationResult) -> dict[str, pd.DataFrame]:
    """``{"lot_rules": ...}``: the tax of the same sales with the lots chosen by each usual rule
    (:meth:`LiquidationResult.tax_by_rule`, the rules in words), when the result has tax lots; else empty."""
    from krg_liquidity.model.tax import LOT_RULE_WORDS

    table = result.tax_by_rule()
    if table.empty:
        return {}
    frame = table.reset_index()
    return {"lot_rules": frame.assign(rule=frame["rule"].map(lambda key: LOT_RULE_WORDS.get(key, key)))}


def shape_sheets(result: LiquidationResult) -> dict[str, pd.DataFrame]:
    """The book's shape after the trades, as tables: ``groups`` (per group: value sold, weight before and
    after, its limits and the one reached; when the book has a group column) and ``liquidity`` (today and
    after: value of the longs, days to sell them, share sellable within 1/5/20 days). Empty for a failed
    result."""
    out: dict[str, pd.DataFrame] = {}
    groups = result.groups
    if groups is not None:
        out["groups"] = groups.reset_index(names="group").astype({"group": str})
    liquidity = result.liquidity_left
    if liquidity is not None:
        out["liquidity"] = liquidity.reset_index(names="book")
    return out


def write_result(result: LiquidationResult, path: str | Path, schedule: pd.DataFrame | None = None) -> Path:
    """Write a LiquidationResult by extension (see the module docstring).

    .xlsx gets the sheets trades, schedule, grid, summary, costs, groups (when the book has a group column),
    liquidity (today and after), request and assumptions, with tax lots a lots sheet too; .csv the trade
    table; .parquet the trade table with the request in its metadata; .json the whole result.

    Parameters
    ----------
    result : LiquidationResult
        The answer to write.
    path : str or Path
        The file: .csv, .xlsx, .parquet or .json.
    schedule : pandas.DataFrame, optional
        The POV schedule for the .xlsx "schedule" sheet (default: ``pov_schedule`` of the trades
        with 30-minute buckets).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputFileError
        ``path`` is a folder, has another extension, or its folder does not exist.

    Examples
    --------
    >>> import os, tempfile
    >>> from krg_liquidity import Portfolio, liquidate, load_example
    >>> result = liquidate(Portfolio(*load_example()), 1e9)
    >>> write_result(result, os.path.join(tempfile.mkdtemp(), "answer.json")).suffix
    '.json'
    """
    path = check_output(path, "result")
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(json.dumps(result.to_dict(), allow_nan=False, default=float, indent=1))
        return path
    if suffix == ".parquet":  # the file's metadata keeps the request (pandas reads it back as attrs)
        trades = result.trades.copy()
        trades.attrs = {"request": result.request}
        return write_table(trades, path)
    if suffix != ".xlsx":
        return write_table(result.trades, path)
    if schedule is None:
        from krg_liquidity.schedule.pov_vwap import pov_schedule

        schedule = pov_schedule(result.trades)
    sheets = {"trades": result.trades, **schedule_sheets(schedule), "summary": summary_table(result),
              "costs": result.costs.reset_index(names="cost"),
              **({} if result.lots is None else {"lots": result.lots.loc[:, list(LOT_SHEET_COLUMNS)]}),
              **lot_rule_sheet(result),
              **shape_sheets(result),
              "request": request_table(result.request, (result.rounding or {}).get("lot_size")),
              "assumptions": assumptions_table(result)}
    return write_workbook(sheets, path, other_numbers=GRID_NUMBERS)
