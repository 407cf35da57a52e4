"""The desk's page (a Streamlit script: ``krg-liquidity app`` runs it).

Left: the book (the bundled example or uploads) and the request (cash in USD, e.g. 250m or 1.5bn,
or % of NAV; risk band, total-impact cap, buys, time limit; per-name limits for the names the book
leaves blank; the book's shape: group bands, tracking error, liquidity left; a taxable account's lots and
rates). Main: the book's validation, the most
cash the limits allow, and after "Raise cash" the answer's panels (:mod:`.views`). Each browser tab is its own
session: its book and answer live in that session's state only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import streamlit as st

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.core.errors import InputError
from krg_liquidity.desk.inputs import TRADE_TIME_LABEL, UPLOAD_TYPES, Book, DeskLimits, Upload, load_book, load_lots
from krg_liquidity.desk.solve import SMALL_CASH_BOX, DeskRequest, cash_of, most_cash, run
from krg_liquidity.desk.views import dollars_down, show_book, show_outcome
from krg_liquidity.model.tax import TaxRates
from krg_liquidity.solve.limits import find_group_column

PATH_REFUSED = ("Refused: this desk never opens a file named in the address or typed by a user; it reads only "
                "files uploaded from your computer. Use the upload boxes on the side.")


def _upload(widget) -> Upload | None:
    return None if widget is None else Upload(widget.name, widget.getvalue())


def sidebar(limits: DeskLimits) -> Book | None:
    """The book: the bundled example or uploaded files; returns the validated Book (None before an upload)."""
    st.sidebar.header("Book")
    source = st.sidebar.radio("Holdings", ["Bundled example (Dow-28, $10B)", "Upload my book"], key="source")
    if source.startswith("Bundled"):
        return cached_book(("example",), lambda: load_book(None, limits=limits))
    holdings = st.sidebar.file_uploader(f"Holdings (CSV, Excel, Parquet; up to {limits.max_upload_mb} MB)",
                                        type=list(UPLOAD_TYPES), key="holdings")
    kind = st.sidebar.radio("Risk model", ["None", "Covariance", "Factor model (.xlsx workbook)"], key="risk_kind")
    risk = None
    if kind != "None":
        risk = st.sidebar.file_uploader(f"{kind} file", type=list(UPLOAD_TYPES), key="risk_file")
    trade_time = st.sidebar.number_input(TRADE_TIME_LABEL, min_value=0.0, max_value=30.0, value=0.0, step=0.5,
                                         key="trade_time")
    if holdings is None:
        return None
    key = (holdings.file_id, kind, None if risk is None else risk.file_id, trade_time)

    def load() -> Book:
        risk_upload = _upload(risk)
        return load_book(_upload(holdings), covariance=risk_upload if kind == "Covariance" else None,
                         factor_model=risk_upload if kind.startswith("Factor") else None,
                         trade_time_days=trade_time or None, limits=limits)

    return cached_book(key, load)


def cached_book(key: tuple, load: Callable[[], Book]) -> Book:
    """This session's book, read and validated again only when its files or options change
    (a new book drops the previous answer)."""
    cached = st.session_state.get("book")
    if cached is None or cached[0] != key:
        st.session_state.pop("outcome", None)
        cached = st.session_state["book"] = (key, load())
    return cached[1]


def request_form(book: Book, limits: DeskLimits) -> DeskRequest:
    """The request widgets; returns the DeskRequest (not solved yet)."""
    portfolio = book.validated()
    nav = portfolio.net_value_usd
    st.sidebar.header("DeskRequest")
    side = st.sidebar
    unit = side.radio("Cash as", ["USD", "% of NAV"], horizontal=True, key="cash_unit")
    # switching the unit keeps the amount: the new box starts from the other box's value (its state is
    # still there in the run that switches)
    typed_usd, typed_pct = st.session_state.get("cash_usd"), st.session_state.get("cash_pct")
    small = side.checkbox(SMALL_CASH_BOX, value=False, key="allow_small_cash",
                          help="Accept a target below $1,000 on a book worth millions, or below one millionth of "
                               "its net value (refused otherwise: 0.142 is most often 14.2%).")
    if unit == "USD":
        start = float(f"{max(0.1 * nav, 0.0):.2g}")
        if typed_pct is not None and nav > 0:
            start = typed_pct / 100.0 * nav
        cash = side.text_input("Cash to raise (USD: 1e9, 1,000,000,000, 250m, 1.5bn; or 10%)",
                               value=f"{round(start):,.0f}", key="cash_usd")
    else:
        start = 10.0
        if typed_usd is not None and nav > 0:
            start = (_usd_or_none(portfolio, typed_usd) or 0.0) / nav * 100.0
        percent = side.number_input("Cash to raise (% of NAV)", min_value=0.0, value=float(start), step=0.5,
                                    key="cash_pct")  # no widget maximum: 100% or more gets the solver's own message
        cash = f"{percent!r}%"
    request = DeskRequest(cash, allow_small_cash=small)
    usd = None
    try:
        usd = cash_of(portfolio, request)
    except InputError as exc:
        side.error(str(exc))
    if usd is not None:
        share = f" ({usd / nav:.2%} of NAV)" if nav > 0 else " (the book's net value is not positive)"
        side.caption(f"Net asset value ${nav:,.0f}; asking ${usd:,.0f}{share}.")
    band = None
    if portfolio.has_risk_model and side.checkbox("Risk band", value=True, key="use_band"):
        band = side.slider("Post-trade risk between (x today's)", 0.5, 1.5, (0.9, 1.1), step=0.01, key="band")
    cap = None
    if side.checkbox("Cap total impact", value=True, key="use_cap"):
        cap = side.number_input("Total impact at most (bps of cash)", min_value=0.1, value=50.0, step=5.0, key="cap")
    buys = side.checkbox("Allow buys (add to or flip positions)", value=False, key="allow_buys")
    seconds = side.slider("Time limit (s)", 1.0, float(limits.max_seconds), min(DeskRequest.time_limit, limits.max_seconds),
                           step=1.0, key="time_limit")
    more = {**name_defaults_form(), **shape_form(portfolio), **tax_form(portfolio, limits)}
    if more["lots"] is not None and band and band[0] > 0:
        side.warning(f"With tax lots the risk band keeps its ceiling only ({band[1]:g}x today's risk): a risk "
                     "floor is not solved with tax lots yet.")
        band = (0.0, band[1])
    return DeskRequest(cash, (band[0], band[1]) if band else None, cap, bool(buys), float(seconds), small, **more)


NETTING_CHOICES = {"Linear: each lot's gain or loss at its term's rate": "none",
                   "US netting: gains and losses net; a net loss is carried forward": "us"}


def tax_form(portfolio: Portfolio, limits: DeskLimits) -> dict[str, Any]:
    """A taxable account: the tax lots (an upload), the rates, the sale date and the tax model."""
    box = st.sidebar.expander("Taxable account (tax lots)")
    upload = box.file_uploader("Tax lots (CSV, Excel, Parquet): symbol, shares, cost basis, date acquired",
                               type=list(UPLOAD_TYPES), key="lots_file")
    if upload is None:
        return {"lots": None, "tax": None}
    short = box.number_input("Short-term rate (%)", min_value=0.0, max_value=99.0, value=37.0, step=0.1,
                             key="tax_short")
    long = box.number_input("Long-term rate (%)", min_value=0.0, max_value=99.0, value=23.8, step=0.1, key="tax_long")
    sold_on = box.date_input("Sale date", key="as_of")
    model = box.selectbox("Tax model", list(NETTING_CHOICES), key="netting")
    zero = box.checkbox("Take shares no lot lists at zero basis (short-term)", value=False, key="unknown_basis")
    rates = TaxRates(short_term=short / 100.0, long_term=long / 100.0, as_of=str(sold_on),
                     netting=NETTING_CHOICES[model], unknown_basis="zero" if zero else "refuse")
    key = (st.session_state["book"][0], upload.file_id, rates.unknown_basis)
    cached = st.session_state.get("lots")
    if cached is None or cached[0] != key:
        cached = st.session_state["lots"] = (key, load_lots(Upload(upload.name, upload.getvalue()), portfolio,
                                                            unknown_basis=rates.unknown_basis, limits=limits))
    lots = cached[1]
    if lots.raw is None or lots.problems:
        box.error(f"{lots.label}: {len(lots.problems)} problem(s) to fix:\n\n"
                  + "\n".join(f"- {problem}" for problem in lots.problems))
    else:
        box.caption(f"{lots.label}: {len(lots.raw):,} lots read.")
    return {"lots": lots, "tax": rates}


def _percent_box(box, label: str, value: float, key: str, top: float = 100.0) -> float | None:
    """A checkbox and, when ticked, a percent input; the fraction (percent / 100), or None when unticked."""
    if not box.checkbox(label, value=False, key=f"use_{key}"):
        return None
    return box.number_input(f"{label} (%)", min_value=0.0, max_value=top, value=value, step=0.5, key=key) / 100.0


def name_defaults_form() -> dict[str, Any]:
    """Per-name limits for the whole book, applied where the holdings leave the name's bound blank."""
    box = st.sidebar.expander("Per-name limits (where the book gives none)")
    return {"max_pct_adv": _percent_box(box, "Trade at most this share of ADV", 10.0, "max_pct_adv"),
            "max_weight_change": _percent_box(box, "Keep each weight within +/- these points", 2.0,
                                              "max_weight_change"),
            "max_sold_fraction": _percent_box(box, "Sell at most this share of each position", 50.0,
                                              "max_sold_fraction")}


def shape_form(portfolio: Portfolio) -> dict[str, Any]:
    """The book's shape: a band on each group's weight, a tracking-error cap, the liquidity left behind."""
    box = st.sidebar.expander("Book shape")
    columns = ["(none)", *portfolio.extra_columns]
    found = find_group_column(portfolio, None)
    column = box.selectbox("Group names by column", columns, index=columns.index(found) if found in columns else 0,
                           key="group_column")
    out: dict[str, Any] = {"group_column": None if column == "(none)" else column, "max_group_weight_change": None}
    if out["group_column"] is not None:
        out["max_group_weight_change"] = _percent_box(box, "Keep each group's weight within +/- these points", 2.0,
                                                      "max_group_weight_change")
    out["max_tracking_error"] = None
    if portfolio.has_risk_model:
        out["max_tracking_error"] = _percent_box(box, "Tracking error to today's book at most, a year", 1.0,
                                                 "max_tracking_error")
    liquid = _percent_box(box, "Keep this share of the book sellable", 50.0, "min_liquid_fraction")
    out["min_liquid_fraction"] = None
    if liquid is not None:
        days = box.number_input("... within (days, at each name's POV)", min_value=0.5, max_value=250.0, value=5.0,
                                step=0.5, key="min_liquid_days")
        out["min_liquid_fraction"] = (liquid, float(days))
    return out


def _usd_or_none(portfolio, typed: str) -> float | None:
    """The USD box's text in dollars (small or not), or None when it is not an amount."""
    try:
        return cash_of(portfolio, DeskRequest(typed, allow_small_cash=True))
    except InputError:
        return None


def show_most_cash(book: Book, request: DeskRequest) -> float | None:
    """The most cash the limits allow, recomputed only when the book or the limits change."""
    key = (st.session_state["book"][0], replace(request, cash="", allow_small_cash=False, lots=None, tax=None))  # every limit
    cached = st.session_state.get("most_cash")
    if cached is None or cached[0] != key:
        with st.spinner("Finding the most cash these limits allow..."):
            cached = (key, *most_cash(book.validated(), request))
        st.session_state["most_cash"] = cached
    _, value, reason = cached
    if value is None:
        st.warning(f"Most cash not found ({reason})")
    else:
        st.metric("Most cash these limits allow (whole shares)", dollars_down(value))
    return value


def main() -> None:
    limits = DeskLimits.from_env()
    st.set_page_config(page_title="krg_liquidity desk", layout="wide")
    st.title("Liquidation desk")
    st.caption("Raise cash from a book at least market impact (Kissell I-Star), inside its limits.")
    if len(st.query_params):
        st.error(PATH_REFUSED)
    book = sidebar(limits)
    if book is None:
        st.info("Upload a holdings file (left), or pick the bundled example.")
        return
    show_book(book)
    if not book.ok:
        return
    request = request_form(book, limits)
    known = show_most_cash(book, request)
    if st.button("Raise cash", type="primary", key="solve"):
        with st.status(f"Solving (at most {request.time_limit:g} s, then the frontier)...") as progress:
            outcome = run(book.validated(), request, known)
            progress.update(label=f"Done: {outcome.status}", state="complete" if outcome.success else "error")
        st.session_state["outcome"] = (request, outcome)
    if "outcome" in st.session_state:
        asked, outcome = st.session_state["outcome"]
        if asked != request:
            st.caption("The request changed since this answer: press Raise cash to solve it.")
        show_outcome(outcome)


if __name__ == "__main__":  # Streamlit runs the page as __main__; importing it runs nothing
    try:
        main()
    except Exception as exc:  # never a traceback on the page
        st.error(f"Unexpected error (a bug; please report it with the input): {type(exc).__name__}: {exc}")
