"""A report a PM can forward: one HTML page (figures embedded) or one Excel workbook.

``build_report`` derives every table once (schedule, basket, frontier, pre-trade);
``render_html`` and ``write_excel`` lay it out; ``write_report`` picks by extension.
``LiquidationResult.to_html`` / ``to_excel`` call these (registered here in ``REPORT_WRITERS``).
"""

from __future__ import annotations

from pathlib import Path

from krg_liquidity.core.errors import InvalidValueError
from krg_liquidity.report.content import Report, build_report, cost_model_of, pretrade
from krg_liquidity.report.excel import write_excel
from krg_liquidity.report.html import render_html
from krg_liquidity.report.write import check_output
from krg_liquidity.solve.result import REPORT_WRITERS, LiquidationResult

REPORT_SUFFIXES = (".html", ".htm", ".xlsx")

__all__ = ["REPORT_SUFFIXES", "Report", "build_report", "check_report_path", "cost_model_of", "pretrade",
           "render_html", "write_excel", "write_report"]


def check_report_path(path: str | Path) -> Path:
    """The path if it is not a folder, ends in .html, .htm or .xlsx and its folder exists; else
    InputFileError."""
    return check_output(path, "report", REPORT_SUFFIXES)


def write_report(report: Report, path: str | Path) -> Path:
    """Write ``report`` as HTML (.html/.htm) or Excel (.xlsx), by extension."""
    if not isinstance(report, Report):
        raise InvalidValueError("report", ["(all)"], f"is a {type(report).__name__}, not a Report",
                                "give the answer of build_report(result, portfolio)")
    path = check_report_path(path)
    if path.suffix.lower() == ".xlsx":
        return write_excel(report, path)
    path.write_text(render_html(report), encoding="utf-8")
    return path


def _result_html(result: LiquidationResult, portfolio, limits: dict) -> str:
    return render_html(build_report(result, portfolio, **limits))


def _result_excel(result: LiquidationResult, portfolio, limits: dict, path: str | Path) -> Path:
    path = check_output(path, "report", (".xlsx",))  # before the report's solves
    return write_excel(build_report(result, portfolio, **limits), path)


REPORT_WRITERS.update(html=_result_html, excel=_result_excel)
