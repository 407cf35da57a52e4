"""The report as one Excel workbook: a sheet per table, numbers formatted by column."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from krg_liquidity.report.content import Report
    from krg_liquidity.solve.result import LiquidationResult

from krg_liquidity.report.write import (
    GRID_NUMBERS,
    LOT_SHEET_COLUMNS,
    SUMMARY_COLUMNS,
    assumptions_table,
    lot_rule_sheet,
    request_table,
    schedule_sheets,
    shape_sheets,
    summary_table,
    write_workbook,
)


def report_request_table(report: Report) -> pd.DataFrame:
    """The request as item/value/unit/key rows (``io.write.request_table``), then the most cash the limits
    allow, when the report was made and its notes."""
    rows = [("most cash the limits allow", "not found" if report.max_cash is None else report.max_cash, "USD",
             "max_cash_usd"), ("made", report.created, "", "created")]
    rows += [(f"note {i + 1}", note, "", f"note.{i + 1}") for i, note in enumerate(report.notes)]
    extra = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)).astype({"value": object})
    return pd.concat([request_table(report.request, report.request.get("lot_size")), extra], ignore_index=True)


def _cost_sheets(result: LiquidationResult) -> dict[str, pd.DataFrame]:
    """With more than impact to pay: the costs sheet; with tax lots: the lots sold and the lot rules too."""
    if not result.success or result.objective_words() == "impact cost":
        return {}
    sheets = {"costs": result.costs.reset_index(names="cost")}
    if result.lots is not None:
        sheets["lots"] = result.lots.loc[:, list(LOT_SHEET_COLUMNS)]
    return sheets | lot_rule_sheet(result)


def write_excel(report: Report, path: str | Path) -> Path:
    """Sheets: request, summary, assumptions, trades, costs (with more than impact to pay), lots and lot_rules (with
    tax lots), groups (with a group column), liquidity (today and after),
    schedule, grid (the schedule as a row per bucket and a column per name), basket, frontier, comparison,
    pretrade (empty ones left out)."""
    schedule = report.schedule
    if not schedule.empty:
        schedule = schedule.assign(bucket_start=schedule["bucket_start"].astype(str))
    basket = report.basket
    if not basket.empty:
        basket = basket.assign(bucket_start=basket["bucket_start"].astype(str))
    sheets = {"request": report_request_table(report), "summary": summary_table(report.result),
              "assumptions": assumptions_table(report.result), "trades": report.result.trades,
              **_cost_sheets(report.result), **shape_sheets(report.result),
              **(schedule_sheets(schedule) if not schedule.empty else {}), "basket": basket,
              "frontier": report.frontier, "comparison": report.comparison,
              "pretrade": report.pretrade}
    return write_workbook({name: frame for name, frame in sheets.items() if not frame.empty or name == "trades"}, path,
                          other_numbers=GRID_NUMBERS)
