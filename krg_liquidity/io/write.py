"""Writing answers by extension: .csv, .xlsx, .parquet or .json; any other extension is refused.

A result written to .xlsx gets four sheets: ``trades``, ``schedule`` (the POV schedule),
``summary`` and ``assumptions``, with number formats (shares and dollars with thousands
separators, bps with two decimals, POV and weights as percents). .csv and .parquet hold the
trade table; .json the whole result (``LiquidationResult.to_dict``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..errors import InputFileError

OUTPUT_SUFFIXES = (".csv", ".xlsx", ".parquet", ".json")
_FORMATS = {
    "#,##0": ("shares_before", "shares_traded", "shares_after", "shares", "cum_shares", "adv",
              "expected_market_volume", "cash_target", "cash_raised", "lower_bound_usd", "cash_raised_usd",
              "cum_cash_usd", "residual_value_usd", "residual_risk_usd"),
    "#,##0.00": ("value_traded_usd", "cost_usd", "price"),
    "0.00": ("mi_bps", "cost_bps", "marginal_cost_bps", "trade_time_days", "istar_bps", "market_impact_bps",
             "timing_risk_bps"),
    "0.00%": ("pov", "weight_before", "weight_after", "volatility", "fraction_done", "risk_before", "risk_after"),
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
    """One table to .csv, .xlsx (one sheet), .parquet or .json (records)."""
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


def write_workbook(sheets: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """Several tables to one .xlsx, a sheet each, numbers formatted by column name, columns sized."""
    path = Path(path)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame = frame.copy()
            for column in frame.columns:  # Excel has no categorical or timezone-aware cells
                if isinstance(frame[column].dtype, pd.CategoricalDtype):
                    frame[column] = frame[column].astype(str)
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for index, column in enumerate(frame.columns, start=1):
                fmt = next((f for f, names in _FORMATS.items() if column in names), None)
                letter = sheet.cell(row=1, column=index).column_letter
                sheet.column_dimensions[letter].width = max(10, min(40, len(str(column)) + 2))
                if fmt is None:
                    continue
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = fmt
            sheet.freeze_panes = "A2"
    return path


def summary_table(result) -> pd.DataFrame:
    """The result's scalar fields as (item, value) rows."""
    record = result.to_dict()
    rows = [(k, v) for k, v in record.items() if not isinstance(v, (list, dict))]
    rows += [(f"rounding.{k}", v) for k, v in record.get("rounding", {}).items()]
    return pd.DataFrame(rows, columns=["item", "value"]).astype({"value": object})


def assumptions_table(result) -> pd.DataFrame:
    from ..assumptions import flat

    return pd.DataFrame(flat(result.assumptions), columns=["item", "value"]).astype({"value": object})


def write_result(result, path: str | Path, schedule: pd.DataFrame | None = None) -> Path:
    """Write a LiquidationResult by extension (see the module docstring).

    ``schedule``: the POV schedule for the .xlsx "schedule" sheet (default: ``pov_schedule`` of
    the trades with 30-minute buckets).
    """
    path = check_output(path, "result")
    suffix = path.suffix.lower()
    if suffix == ".json":
        path.write_text(json.dumps(result.to_dict(), allow_nan=False, default=float, indent=1))
        return path
    if suffix != ".xlsx":
        return write_table(result.trades, path)
    if schedule is None:
        from ..schedule import pov_schedule

        schedule = pov_schedule(result.trades)
    sheets = {"trades": result.trades, "schedule": schedule, "summary": summary_table(result),
              "assumptions": assumptions_table(result)}
    return write_workbook(sheets, path)
