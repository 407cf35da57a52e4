"""Writing a post-trade analysis: one Excel workbook (a sheet per table), one HTML page (tables and figures
embedded), or the order table alone (.csv, .parquet, .json), by extension."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from krg_liquidity.posttrade.shortfall import PostTradeResult
from krg_liquidity.report.write import check_output, write_table, write_workbook

POST_TRADE_SUFFIXES = (".html", ".htm", ".xlsx", ".csv", ".parquet", ".json")


def _summary_frame(result: PostTradeResult) -> pd.DataFrame:
    summary = result.summary()
    notes = pd.DataFrame({"item": ["note"] * len(result.notes), "value": result.notes, "unit": ""})
    return pd.concat([summary, notes], ignore_index=True)


def write_post_trade(result: PostTradeResult, path: str | Path) -> Path:
    """Write ``result`` by extension.

    .xlsx (summary, orders, a sheet per table, skipped orders), .html (the same with the figures),
    or .csv/.parquet/.json (the order table).

    Parameters
    ----------
    result : PostTradeResult
        An answer of :func:`~krg_liquidity.post_trade`.
    path : str or Path
        The file; its extension chooses the format.

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
    >>> from krg_liquidity import post_trade, synthetic_fills
    >>> result = post_trade(synthetic_fills(n=20, seed=1))
    >>> write_post_trade(result, os.path.join(tempfile.mkdtemp(), "shortfall.csv")).suffix
    '.csv'
    """
    path = check_output(path, "post-trade output", POST_TRADE_SUFFIXES)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        sheets = {"summary": _summary_frame(result), "orders": result.orders, **result.tables}
        if len(result.skipped):
            sheets["skipped"] = result.skipped
        return write_workbook(sheets, path)
    if suffix in (".html", ".htm"):
        path.write_text(render_post_trade_html(result), encoding="utf-8")
        return path
    return write_table(result.orders, path)


def render_post_trade_html(result: PostTradeResult) -> str:
    """One self-contained page: summary, tables by broker/algorithm/bucket, figures, skipped orders, and the
    orders (folded)."""
    from krg_liquidity.posttrade.plots import post_trade_figures
    from krg_liquidity.report.figures import data_uri
    from krg_liquidity.report.html import PAGE_STYLE, table_html

    parts = ["<h1>Post-trade analysis</h1>",
             "<p>Implementation shortfall of each order in parts (delay, execution, opportunity, fees; dollars, and bps "
             "of the order's value at the decision price), against the I-Star estimate at its executed size and "
             "achieved POV. z-score = (execution cost - estimate) / timing risk: mean 0 and s.d. 1 when the model "
             "fits.</p>", "<h2>Summary</h2>", table_html(_summary_frame(result).astype({"value": str}), "summary")]
    for name, table in result.tables.items():
        parts += [f"<h2>{html.escape(name.replace('_', ' '))}</h2>", table_html(table, name)]
    for title, figure in post_trade_figures(result).items():
        parts += [f"<h2>{html.escape(title)}</h2>", f"<img alt='{html.escape(title)}' src='{data_uri(figure)}'>"]
    if len(result.skipped):
        parts += ["<h2>Orders set aside</h2>", table_html(result.skipped, "skipped")]
    shown = result.orders.head(2000)
    more = f" (first 2,000 of {len(result.orders):,})" if len(result.orders) > 2000 else ""
    parts += ["<h2>Orders</h2>", f"<details><summary>{len(shown):,} orders{more}</summary>"
              f"{table_html(shown, 'orders')}</details>"]
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Post-trade analysis</title>"
            f"<style>{PAGE_STYLE}</style></head><body>\n" + "\n".join(parts) + "\n</body></html>\n")
