"""The report as one Excel workbook: a sheet per table, numbers formatted by column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..io.write import assumptions_table, summary_table, write_workbook


def request_table(report) -> pd.DataFrame:
    """The request as (item, value) rows."""
    request = report.request
    band = request["risk_band"]
    rows = [("cash_target_usd", request["cash_target_usd"]),
            ("risk_band_lo", band[0] if band else None), ("risk_band_hi", band[1] if band else None),
            ("max_total_mi_bps", request["max_total_mi_bps"]), ("allow_buys", request["allow_buys"]),
            ("time_limit_s", request["time_limit_s"]), ("lot_size", request["lot_size"]),
            ("max_cash_usd", report.max_cash), ("created", report.created)]
    rows += [(f"note.{i + 1}", note) for i, note in enumerate(report.notes)]
    return pd.DataFrame(rows, columns=["item", "value"]).astype({"value": object})


def write_excel(report, path: str | Path) -> Path:
    """Sheets: request, summary, assumptions, trades, schedule, basket, frontier, comparison, pretrade (empty
    ones left out)."""
    schedule = report.schedule
    if not schedule.empty:
        schedule = schedule.assign(bucket_start=schedule["bucket_start"].astype(str))
    basket = report.basket
    if not basket.empty:
        basket = basket.assign(bucket_start=basket["bucket_start"].astype(str))
    sheets = {"request": request_table(report), "summary": summary_table(report.result),
              "assumptions": assumptions_table(report.result), "trades": report.result.trades, "schedule": schedule,
              "basket": basket, "frontier": report.frontier, "comparison": report.comparison,
              "pretrade": report.pretrade}
    return write_workbook({name: frame for name, frame in sheets.items() if not frame.empty or name == "trades"}, path)
