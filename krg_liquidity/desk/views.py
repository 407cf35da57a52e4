"""The desk's panels: the book's validation and the answer (summary, trades, frontier, schedule,
pre-trade, downloads).

``PANELS`` is the list of answer tabs, each a title and a function of the :class:`Report`; a
comparison with other liquidation rules is one more entry.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from krg_liquidity.desk.inputs import Book
from krg_liquidity.desk.solve import Outcome, downloads
from krg_liquidity.report.content import Report, comparison_view
from krg_liquidity.report.figures import basket_figure, completion_figure, frontier_figure
from krg_liquidity.report.write import LOT_SHEET_COLUMNS, lot_rule_sheet, shape_sheets

TRADE_COLUMNS = ["symbol", "shares_traded", "value_traded_usd", "limit_reached", "pov", "trade_time_days", "mi_bps",
                 "cost_usd", "weight_before", "weight_after", "shares_before", "shares_after", "price"]
PERCENT = ("pov", "weight_before", "weight_after", "fraction_done", "risk_before", "risk_after", "volatility",
           "weight_lo", "weight_hi", "max_sold_fraction", "sellable_1d", "sellable_5d", "sellable_20d")
WHOLE = ("shares", "cum_shares", "shares_before", "shares_traded", "shares_after", "expected_market_volume",
         "names_traded", "adv")


def formats(frame: pd.DataFrame) -> dict:
    """Display formats by column name: dollars and shares whole with thousands separators, bps to
    2 decimals, weights and POV in percent."""
    out: dict[str, str] = {}
    for column in frame.columns:
        if column in PERCENT:
            out[column] = "{:.2%}"
        elif column in WHOLE or column.endswith("_usd"):
            out[column] = "{:,.0f}"
        elif column.endswith("_bps") or column.endswith("_days") or column == "days_to_liquidate":
            out[column] = "{:.2f}"
        elif column == "price":
            out[column] = "{:,.2f}"
    return out


def table(frame: pd.DataFrame, **kwargs: Any) -> None:
    """A sortable table with the columns formatted for reading (the downloads keep full precision)."""
    st.dataframe(frame.style.format(formats(frame), na_rep="–"), hide_index=True, **kwargs)


def dollars_down(value: float) -> str:
    """Dollars rounded down to the dollar: a "most cash" a PM can type back and the exact shares still raise
    (whole shares may fall short by a fraction of a share per name at its limit, and say so)."""
    return f"${math.floor(value):,.0f}"


def show_book(book: Book) -> None:
    """The validation result in words: every problem at once, or what was read."""
    if not book.ok:
        st.error(f"{book.label}: {len(book.problems)} problem(s) to fix before anything runs:\n\n"
                 + "\n".join(f"- {problem}" for problem in book.problems))
        return
    portfolio = book.validated()
    risk = "none (no risk band)"
    if portfolio.factor_model is not None:
        risk = f"factor model, {portfolio.factor_model.exposures.shape[1]} factors"
    elif portfolio.covariance is not None:
        risk = f"full covariance over {portfolio.covariance.shape[0]} names"
    st.success(f"Book OK: {book.label}: {len(portfolio.symbols)} names, net value ${portfolio.net_value_usd:,.0f}, "
               f"gross ${portfolio.gross_value_usd:,.0f}; risk model: {risk}.")
    for note in book.warnings:
        st.warning(note)


def show_outcome(outcome: Outcome) -> None:
    """A failure in words (with the most cash and the blocking limits), or the summary and the panels."""
    report = outcome.report
    if report is None:  # not outcome.success
        st.error(f"{outcome.status}: {outcome.message}")
        if outcome.max_cash is not None:
            st.metric("Most cash raisable within the limits", dollars_down(outcome.max_cash))
        if outcome.blocking:
            st.table(pd.DataFrame({"limit": list(outcome.blocking), "would have to give": list(outcome.blocking.values())}))
        return
    result = report.result
    cells = st.columns([4, 3, 2, 2, 2])
    cells[0].metric("Cash raised", f"${result.cash_raised:,.0f}")
    cells[1].metric("Impact cost", f"${result.cost_usd:,.0f}")
    cells[2].metric("Cost (bps of cash)", f"{result.cost_bps:.2f}")
    cells[3].metric("Marginal cost (bps)", f"{result.marginal_cost_bps:.2f}")
    if result.risk_before is not None:
        cells[4].metric("Risk (annualized)", f"{result.risk_after:.2%}", f"from {result.risk_before:.2%}",
                        delta_color="off")
    if result.status == "limits_broken":  # whole shares cannot keep a limit: say which, above the answer
        st.warning(result.message)
    st.caption(f"Status {result.status}, {result.gap_text()}; {int((result.trades['shares_traded'] != 0).sum())} "
               f"of {len(result.trades)} names traded; whole shares; max violation {result.violation_text()}.")
    for tab, (_, panel) in zip(st.tabs([title for title, _ in PANELS]), PANELS):
        with tab:
            panel(report)


def trades_panel(report: Report) -> None:
    """Sortable trade table (click a header), the limit each name's trade reached, and its totals."""
    trades = report.result.trades
    traded = trades[trades["shares_traded"] != 0].loc[:, TRADE_COLUMNS]
    table(traded, key="trades_table",
          column_config={"limit_reached": st.column_config.TextColumn("limit reached", width="medium")})
    st.markdown(f"**Totals:** {len(traded)} names, value traded ${traded['value_traded_usd'].abs().sum():,.0f}, "
                f"impact cost ${traded['cost_usd'].sum():,.0f}.")


def frontier_panel(report: Report) -> None:
    """Cost against cash raised under the same limits, this request starred."""
    figure = frontier_figure(report)
    if figure is None:
        st.info("No frontier point could be solved under these limits.")
    else:
        st.pyplot(figure)
    for note in report.notes:
        st.caption(note)


def schedule_panel(report: Report) -> None:
    """POV schedule: completion by name and, with a risk model, the basket's cash and residual risk."""
    for figure in (completion_figure(report), basket_figure(report)):
        if figure is not None:
            st.pyplot(figure)
    table(report.schedule)


def pretrade_panel(report: Report) -> None:
    """I-Star pre-trade costs of each trade at its trade time."""
    table(report.pretrade)


def prepared_downloads(report: Report) -> dict[str, tuple[bytes, str]]:
    """The report's files, rendered once per answer and kept in the session: every rerun serves
    the same bytes (the same download links), so a download in progress is never replaced."""
    cached = st.session_state.get("downloads")
    if cached is None or cached[0] is not report:
        cached = st.session_state["downloads"] = (report, downloads(report))
    return cached[1]


def downloads_panel(report: Report) -> None:
    """The trade list, the schedule and the report. A click downloads without rerunning the page
    (``on_click="ignore"``): the page stays on this tab, with these buttons."""
    for name, (data, mime) in prepared_downloads(report).items():
        st.download_button(f"Download {name}", data, file_name=name, mime=mime, key=f"download_{name}",
                           on_click="ignore")


def comparison_panel(report: Report) -> None:
    """The optimized trade list against selling a pro-rata slice and a most-liquid-first waterfall."""
    if report.comparison.empty:
        st.info("No comparison: it needs the book the request was solved on.")
        return
    table(comparison_view(report.comparison), key="comparison_table")
    st.caption("extra_cost_bps: what each rule costs above the optimized list. A rule that breaks a limit "
               "says which (status limits_broken).")


def shape_panel(report: Report) -> None:
    """The book after the trades: each group's weight before and after with its limit, and the liquidity left."""
    tables = shape_sheets(report.result)
    if "groups" in tables:
        st.subheader("Groups")
        table(tables["groups"], key="groups_table")
    else:
        st.caption("No group column: pick one under Book shape (left) to see the groups.")
    if "liquidity" in tables:
        st.subheader("Liquidity left")
        table(tables["liquidity"], key="liquidity_table")
        st.caption("Days to sell the long positions at each name's POV (else 20% of the volume), and the share "
                   "sellable within 1, 5 and 20 days, today and after the trades.")


def tax_panel(report: Report) -> None:
    """A taxable account: the tax and the all-in cost after it, the lots sold, and the same sales under the
    usual lot rules."""
    result = report.result
    if result.lots is None:
        st.caption("No tax lots: upload them under Taxable account (left) to choose the lots and price the tax.")
        return
    after_tax = result.costs["usd"].to_numpy(dtype=float)[list(result.costs.index).index("after_tax")]
    cells = st.columns(3)
    cells[0].metric("Capital-gains tax", f"${result.tax_usd:,.0f}")
    cells[1].metric("All-in trading cost", f"${result.total_cost_usd:,.0f}")
    cells[2].metric("After tax", f"${after_tax:,.0f}")
    st.caption(f"Tax {result.tax_text()}.")
    sold = result.lots[result.lots["shares_sold"] > 0.5]
    st.subheader("Lots sold")
    table(sold.loc[:, [c for c in LOT_SHEET_COLUMNS if c != "shares"]], key="lots_table")
    st.subheader("The same sales, lots chosen by the usual rules")
    table(lot_rule_sheet(result)["lot_rules"], key="lot_rules_table")


PANELS = [("Trades", trades_panel), ("Compare", comparison_panel), ("Shape", shape_panel), ("Tax", tax_panel),
          ("Frontier", frontier_panel),
          ("Schedule", schedule_panel), ("Pre-trade", pretrade_panel), ("Downloads", downloads_panel)]
