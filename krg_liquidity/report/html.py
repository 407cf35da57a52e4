"""The report as one self-contained HTML page: inline style, figures embedded as base64 PNG.

The page loads nothing from anywhere (no script, no font, no stylesheet link), so it opens
offline and can be mailed as one file. Every number cell carries its exact value in a
``data-value`` attribute next to the formatted text, so a reader (or a test) can check the
page against the result.
"""

from __future__ import annotations

import html
import math
from typing import Any

import pandas as pd

from krg_liquidity.model.assumptions import summary_lines
from krg_liquidity.report.content import Report, comparison_view
from krg_liquidity.report.write import lot_rule_sheet, shape_sheets
from krg_liquidity.solve.result import limits_text

FORMATS = {
    ",.0f": ("shares_before", "shares_traded", "shares_after", "shares", "cum_shares", "adv", "value_traded_usd",
             "cost_usd", "expected_market_volume", "cash", "lower_bound_usd", "cash_raised_usd", "cum_cash_usd",
             "residual_value_usd", "residual_risk_usd", "market_impact_usd", "cash_target_usd", "cash_raised",
             "gap_usd", "usd", "realized_gain_usd", "tax_usd", "shares_sold", "total_cost_usd", "value_sold_usd",
             "value_usd", "realized_short_term_usd", "realized_long_term_usd", "extra_tax_usd"),
    ",.2f": ("price", "cost_basis_per_share"),
    ".2f": ("mi_bps", "cost_bps", "marginal_cost_bps", "trade_time_days", "istar_bps", "market_impact_bps",
            "timing_risk_bps", "seconds", "bps", "days_to_liquidate"),
    ".2%": ("pov", "weight_before", "weight_after", "volatility", "fraction_done", "risk_before", "risk_after",
            "weight_lo", "weight_hi", "max_sold_fraction"),
    ".1%": ("sellable_1d", "sellable_5d", "sellable_20d"),
}
_FORMAT_OF = {column: fmt for fmt, columns in FORMATS.items() for column in columns}
PAGE_STYLE = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{padding:.2em .6em;border-bottom:1px solid #eee;text-align:right}
th{background:#f4f4f4}td.text,th.text{text-align:left}tr.total td{font-weight:bold;border-top:2px solid #888}
.status-ok{color:#176b2c}.status-fail{color:#a11}img{max-width:100%}.note{color:#555;font-size:.9em}
"""


def cell(value: Any, column: str = "") -> str:
    """One ``<td>``: numbers formatted by column name with the exact value in ``data-value``."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return f"<td class='text'>{html.escape('' if value is None else str(value))}</td>"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f"<td class='text'>{html.escape(str(value))}</td>"
    if math.isnan(number):
        return "<td data-value='nan'></td>"
    fmt = _FORMAT_OF.get(column, ",.4g")
    return f"<td data-value='{number!r}'>{format(number, fmt)}</td>"


def table_html(frame: pd.DataFrame, table_id: str, total: tuple[str, ...] = ()) -> str:
    """A DataFrame as a ``<table id=...>``; ``total``: columns summed in a last "total" row."""
    head = "".join(f"<th class='{'text' if frame[c].dtype == object else ''}'>{html.escape(c.replace('_', ' '))}</th>"
                   for c in frame.columns)
    rows = ["<tr>" + "".join(cell(v, c) for c, v in zip(frame.columns, row)) + "</tr>"
            for row in frame.itertuples(index=False)]
    if total:
        sums = ["total" if i == 0 else (frame[c].sum() if c in total else "") for i, c in enumerate(frame.columns)]
        rows.append("<tr class='total'>" + "".join(cell(v, c) for c, v in zip(frame.columns, sums)) + "</tr>")
    return f"<table id='{table_id}'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _pairs(rows, table_id: str) -> str:
    body = "".join(f"<tr><th class='text'>{html.escape(k)}</th>{v if v.startswith('<td') else cell(v)}</tr>"
                   for k, v in rows)
    return f"<table id='{table_id}'>{body}</table>"


def _request_rows(report) -> list[tuple[str, str]]:
    request = report.request
    band = request["risk_band"]
    rows = [("cash target", cell(request["cash_target_usd"], "cash_target_usd")),
            ("risk band", f"{band[0]:g} to {band[1]:g} x today's risk" if band else "none"),
            ("total impact cap", f"{request['max_total_mi_bps']:g} bps of the cash" if request["max_total_mi_bps"]
             is not None else "none"),
            ("buys allowed", "yes" if request["allow_buys"] else "no (sales and short covers only)"),
            ("time limit", "none" if request["time_limit_s"] is None else f"{request['time_limit_s']:g} s"),
            ("shares", "exact (fractional)" if not request["lot_size"] else f"whole lots of {request['lot_size']:g}"),
            ("all limits, in words", limits_text(request))]
    return rows + summary_lines(report.result.assumptions)


def _all_in_rows(result) -> list[tuple[str, str]]:
    """The all-in trading cost and the tax, when there is more than impact."""
    rows = []
    if result.objective_words() != "impact cost":
        rows.append(("all-in trading cost (USD): impact, half-spread, commission, fees",
                     cell(result.total_cost_usd, "cost_usd")))
    if result.tax:
        rows.append(("capital-gains tax (USD)", cell(result.tax_usd, "cost_usd")))
        model = ("US netting" if result.tax_rates is not None and result.tax_rates.netting == "us"
                 else "linear model: each loss credited at its rate, as if gains elsewhere absorb it")
        rows += [("tax model", f"<td class='text'>{html.escape(model)}</td>"),
                 ("realized short-term gain (USD)", cell(result.tax["realized_short_term_usd"], "cost_usd")),
                 ("realized long-term gain (USD)", cell(result.tax["realized_long_term_usd"], "cost_usd"))]
        if result.tax.get("carryforward_usd", 0.0) > 0:
            rows.append(("net loss carried forward (USD)", cell(result.tax["carryforward_usd"], "cost_usd")))
    return rows


def _bound_row(result) -> tuple[str, str]:
    """The proven lower bound on what was minimized."""
    words = result.objective_words()
    if words == "impact cost" or not math.isfinite(result.gap_usd):
        return ("lower bound (USD)", cell(result.lower_bound_usd, "cost_usd"))
    return (f"least possible {words} (USD, proven)", cell(result.objective_lower_bound_usd, "cost_usd"))


def _summary_rows(report) -> list[tuple[str, str]]:
    result = report.result
    traded = int((result.trades["shares_traded"] != 0).sum())
    rows = [("status", result.status), ("cash target", cell(result.cash_target, "cash")),
            ("cash raised", cell(result.cash_raised, "cash")), ("impact cost (USD)", cell(result.cost_usd, "cost_usd")),
            ("impact cost (bps of cash raised)", cell(result.cost_bps, "cost_bps")),
            *_all_in_rows(result),
            ("marginal cost (bps, next dollar)", cell(result.marginal_cost_bps, "marginal_cost_bps")),
            _bound_row(result),
            ("gap to the least cost (USD, proven)", cell(result.gap_usd, "cost_usd")),
            ("gap to the least cost (bps of cash raised)", cell(result.gap_bps, "cost_bps")),
            ("names traded", f"{traded} of {len(result.trades)}")]
    if result.risk_before is not None:
        rows += [("risk before (annualized)", cell(result.risk_before, "risk_after")),
                 ("risk after (annualized)", cell(result.risk_after, "risk_after"))]
    if report.max_cash is not None:
        rows.append(("most cash the limits allow", cell(report.max_cash, "cash")))
    rows.append(("max violation", f"<td class='text' data-value='{result.max_violation!r}'>"
                                  f"{html.escape(result.violation_text())}</td>"))
    return rows


def _shape_parts(result) -> list[str]:
    """The book's shape after the trades (``write.shape_sheets``): its groups and its liquidity, today and after."""
    tables = shape_sheets(result)
    parts = []
    if "groups" in tables:
        parts += ["<h2>Groups</h2>", "<p class='note'>Weights are fractions of the book's value today (before) and "
                  "after the trades; a blank limit is none.</p>",
                  table_html(tables["groups"], "groups", total=("value_sold_usd",))]
    if "liquidity" in tables:
        parts += ["<h2>Liquidity left</h2>", "<p class='note'>The long positions' value, the days to sell all of it "
                  "at each name's participation rate (its POV, else 20% of the volume), and the share of it sellable "
                  "within 1, 5 and 20 days.</p>", table_html(tables["liquidity"], "liquidity")]
    return parts


def render_html(report: Report) -> str:
    """The whole page for a :class:`~krg_liquidity.report.Report`."""
    result = report.result
    ok = result.success
    parts = [f"<h1>Liquidation report: raise ${result.cash_target:,.0f}</h1>",
             f"<p>Status <b class='{'status-ok' if ok else 'status-fail'}'>{html.escape(result.status)}</b>. "
             f"Made {html.escape(report.created)} by krg_liquidity. Money in USD; costs in bps of traded value "
             "(the total: of cash raised); risk annualized.</p>",
             "<h2>Request and assumptions</h2>", _pairs(_request_rows(report), "request")]
    if not ok:
        parts += ["<h2>Why there is no trade list</h2>", f"<pre id='message' style='white-space: pre-wrap'>{html.escape(result.message)}</pre>"]
    parts += ["<h2>Summary</h2>", _pairs(_summary_rows(report), "summary")]
    parts += [f"<p class='note'>{html.escape(n)}</p>" for n in report.notes]
    if ok:
        trades = result.trades[result.trades["shares_traded"] != 0]
        shown = trades.loc[:, ["symbol", "shares_before", "shares_traded", "shares_after", "value_traded_usd", "pov",
                               "trade_time_days", "mi_bps", "cost_usd", "weight_before", "weight_after", "limit_reached",
                               "price"]]
        if result.objective_words() != "impact cost":
            parts += ["<h2>Costs</h2>", "<p class='note'>USD, and bps of the cash raised; <i>total</i> is the all-in "
                      "trading cost" + (", <i>after tax</i> adds the capital-gains tax" if result.tax else "") + ".</p>",
                      table_html(result.costs.reset_index(names="cost"), "costs")]
        if result.lots is not None:
            sold = result.lots.loc[result.lots["shares_sold"] > 0.5, ["symbol", "lot_id", "term", "shares_sold",
                                                                      "cost_basis_per_share", "realized_gain_usd",
                                                                      "tax_usd"]]
            parts += ["<h2>Lots sold</h2>", "<p class='note'>Each lot's tax at its term's rate"
                      + (" before netting" if result.tax_rates is not None and result.tax_rates.netting == "us" else "")
                      + ".</p>", table_html(sold, "lots", total=("realized_gain_usd", "tax_usd"))]
            rules = lot_rule_sheet(result)["lot_rules"]
            parts += ["<h2>The same sales, lots chosen by the usual rules</h2>",
                      "<p class='note'>The trades are this answer's on every row; only the lots each sale is taken "
                      "from change. <i>extra tax</i> is over the lots reported above.</p>",
                      table_html(rules, "lot_rules")]
        parts += ["<h2>Trades</h2>", "<p class='note'>Negative shares and values are sales. <i>limit reached</i> "
                  "names the limit at which a name's trade stops (<i>fully sold</i>: nothing of it is left).</p>",
                  table_html(shown, "trades", total=("value_traded_usd", "cost_usd"))]
        parts += _shape_parts(result)
    from krg_liquidity.report.figures import data_uri, figures  # matplotlib only when a report is drawn

    for title, figure in figures(report).items():
        parts += [f"<h2>{html.escape(title)}</h2>", f"<img alt='{html.escape(title)}' src='{data_uri(figure)}'>"]
    if not report.basket.empty:
        basket = report.basket.assign(bucket_start=report.basket["bucket_start"].astype(str))
        parts += ["<h2>Schedule by bucket (basket)</h2>", table_html(basket, "basket", total=("cash_raised_usd",))]
    if not report.schedule.empty:
        schedule = report.schedule.assign(bucket_start=report.schedule["bucket_start"].astype(str))
        parts += ["<h2>Schedule by name and bucket</h2>",
                  f"<details><summary>{len(schedule)} rows (POV schedule, whole shares)</summary>"
                  f"{table_html(schedule, 'schedule')}</details>"]
    if not report.frontier.empty:
        frontier = report.frontier.drop(columns=["lower_bound_usd", "gap", "message"], errors="ignore")
        if frontier["tax_usd"].isna().all() if "tax_usd" in frontier else False:
            frontier = frontier.drop(columns=["tax_usd"])
        untaxed = ("<p class='note'>The frontier is solved without the tax lots (the trading cost alone): this "
                   "answer, which counts the tax, may pay more impact than the curve to save tax.</p>"
                   if result.tax else "")
        parts += ["<h2>Cost against cash raised (same limits)</h2>", untaxed, table_html(frontier, "frontier")]
    impact_only = ("<p class='note'>The rules are priced by impact alone: their tax and linear costs are not in "
                   "this table (see <i>Costs</i> above for this answer's).</p>"
                   if result.objective_words() != "impact cost" else "")
    if not report.comparison.empty:
        parts += ["<h2>Against selling a pro-rata slice and a most-liquid-first waterfall</h2>", impact_only,
                  table_html(comparison_view(report.comparison), "comparison")]
    if not report.pretrade.empty:
        parts += ["<h2>Pre-trade costs of the trades (I-Star, at each trade time)</h2>",
                  table_html(report.pretrade, "pretrade", total=("market_impact_usd",))]
    body = "\n".join(parts)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Liquidation report</title>"
            f"<style>{PAGE_STYLE}</style></head><body>\n{body}\n</body></html>\n")
