"""Parent-order fills: the columns a post-trade analysis reads, their aliases, and the checks.

One row per parent order. Headers are matched like a book's (case-, space- and punctuation-insensitively,
see :mod:`krg_liquidity.book.columns`); the book columns (``symbol``, ``side``, ``shares``, ``adv``,
``volatility``, ``pov``) keep their aliases there, the fill columns have theirs here. Every problem in
the table is reported at once (a :class:`~krg_liquidity.core.errors.BookError` naming the column, the rows
and the fix); with ``skip_bad=True`` the orders with unusable data are set aside instead and listed,
with the reason, in :attr:`Fills.skipped`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from krg_liquidity.book import columns as col
from krg_liquidity.book.units import MAX_VOLATILITY
from krg_liquidity.core.errors import BookError, Problem

FILL_COLUMNS = (
    col.ColumnSpec("symbol", "text", "yes", ("Symbol", "Ticker")),
    col.ColumnSpec("side", "buy or sell (B/S)", "yes", ("Side", "Direction", "Buy Sell")),
    col.ColumnSpec("shares", "shares ordered, > 0", "yes", ("Shares", "Order Shares", "Ordered Shares", "Quantity")),
    col.ColumnSpec("executed_shares", "shares filled, 0 to shares", "yes",
                   ("Executed Shares", "Filled Shares", "Exec Shares", "Executed", "Filled", "Cum Qty")),
    col.ColumnSpec("decision_price", "price when the PM decided, > 0", "no (default: arrival_price)",
                   ("Decision Price", "Decision Px", "Prior Close")),
    col.ColumnSpec("arrival_price", "price when the order reached the desk, > 0", "yes",
                   ("Arrival Price", "Arrival Px", "Arrival", "Strike Price")),
    col.ColumnSpec("avg_price", "average execution price, > 0", "yes, when shares were executed",
                   ("Avg Price", "Average Price", "Avg Px", "Avg Exec Price", "Execution Price", "VWAP Executed")),
    col.ColumnSpec("end_price", "price at the end of the horizon, > 0", "yes, when part of the order is unfilled",
                   ("End Price", "End Px", "Close Price", "Closing Price")),
    col.ColumnSpec("adv", "shares per day, > 0", "yes", ("ADV", "Avg Daily Volume", "Average Daily Volume")),
    col.ColumnSpec("volatility", "annualized, decimal (0.24)", "yes", ("Volatility", "Vol", "Annual Vol")),
    col.ColumnSpec("pov", "achieved participation, decimal in (0, 1]", "pov or market_volume",
                   ("POV", "Participation", "Participation Rate", "Achieved POV")),
    col.ColumnSpec("market_volume", "market shares traded over the order's interval, the order's own included",
                   "pov or market_volume", ("Market Volume", "Interval Volume", "Period Volume")),
    col.ColumnSpec("start_time", "when trading started", "no", ("Start Time", "Start")),
    col.ColumnSpec("end_time", "when trading ended", "no", ("End Time", "End")),
    col.ColumnSpec("broker", "text", "no", ("Broker",)),
    col.ColumnSpec("algorithm", "text", "no", ("Algorithm", "Algo", "Strategy")),
    col.ColumnSpec("fees_usd", "commissions and fees, dollars, >= 0", "no (default 0)",
                   ("Fees", "Fees USD", "Commission", "Commissions")),
    col.ColumnSpec("date", "trade date", "no", ("Date", "Trade Date")),
)
FILL_NAMES = tuple(spec.name for spec in FILL_COLUMNS)
REQUIRED = ("symbol", "side", "shares", "executed_shares", "arrival_price", "adv", "volatility")
TEXT = ("symbol", "side", "broker", "algorithm", "date", "start_time", "end_time")
_ALIASES = {col.header_key(a): spec.name for spec in FILL_COLUMNS for a in (spec.name, *spec.aliases)}
_SIDES = {"buy": 1, "b": 1, "sell": -1, "s": -1}


@dataclass
class Fills:
    """Checked parent orders in canonical columns, one row each, plus the orders set aside.

    Attributes
    ----------
    orders : pandas.DataFrame
        The usable orders (``FILL_NAMES`` columns that were given, ``decision_price`` and
        ``fees_usd`` filled in, ``pov`` computed from ``market_volume`` when not given, ``sign``: +1
        buy, -1 sell, ``row``: the order's row in the input, 1 = first data row).
    skipped : pandas.DataFrame
        Row, symbol and reason of each order set aside by ``skip_bad``.
    notes : list of str
        What was assumed, in words.

    Examples
    --------
    >>> from krg_liquidity import read_fills, synthetic_fills
    >>> fills = read_fills(synthetic_fills(n=20, seed=1))
    >>> len(fills.orders), len(fills.skipped)
    (20, 0)
    """

    orders: pd.DataFrame
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "symbol", "reason"]))
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.orders)


def fill_column_table(markdown: bool = False) -> str:
    """The fill columns as plain text or Markdown: name, aliases, unit, when required.

    >>> "executed_shares" in fill_column_table()
    True
    """
    if markdown:
        lines = ["| column | also read as | unit | required |", "|---|---|---|---|"]
        return "\n".join(lines + [f"| `{s.name}` | {', '.join(s.aliases)} | {s.unit} | {s.required} |"
                                   for s in FILL_COLUMNS])
    return "\n".join(f"  {s.name:<16} {s.unit}; required: {s.required}; aliases: {', '.join(s.aliases)}"
                     for s in FILL_COLUMNS)


def canonical_fills(table: pd.DataFrame) -> pd.DataFrame:
    """A copy with every known fill header renamed to its snake_case name (unknown columns kept).

    >>> list(canonical_fills(pd.DataFrame(columns=["Ticker", "Avg Px", "Filled Shares"])).columns)
    ['symbol', 'avg_price', 'executed_shares']
    """
    renames: dict[object, str] = {}
    for column in table.columns:
        target = _ALIASES.get(col.header_key(column))
        if target is None:
            continue
        if target in renames.values():
            first = next(c for c, t in renames.items() if t == target)
            raise BookError([Problem(target, f"is given twice (columns '{first}' and '{column}')",
                                     "keep one of them")], what="the fills")
        renames[column] = target
    return table.rename(columns=renames)


def read_fills(source: str | Path | pd.DataFrame | Fills, *, sheet: str | int | None = None,
               skip_bad: bool = False) -> Fills:
    """Read and check a table of parent orders (CSV, .xlsx, Parquet, JSON records, or a DataFrame).

    Parameters
    ----------
    source : path, DataFrame or Fills
        One row per parent order; columns in :data:`FILL_COLUMNS` (any alias).
    sheet : str or int, optional
        Sheet of an .xlsx file (default: the first).
    skip_bad : bool
        Set aside the orders with unusable values (listed with the reason in ``skipped``)
        instead of refusing the table. A missing required column is refused either way.

    Returns
    -------
    Fills

    Raises
    ------
    BookError
        Every problem found, each naming the column, the rows (1 = first data row) and the fix.

    Examples
    --------
    >>> table = pd.DataFrame({"Symbol": ["A", "B"], "Side": ["buy", "hold"], "Shares": [100, 100],
    ...     "Executed Shares": [100, 100], "Arrival Price": [10.0, 10.0], "Avg Price": [10.01, 9.99],
    ...     "ADV": [1e5, 1e5], "Volatility": [0.3, 0.3], "POV": [0.1, 0.1]})
    >>> fills = read_fills(table, skip_bad=True)
    >>> len(fills), fills.skipped["reason"].iloc[0]
    (1, "column 'side' is not buy or sell")
    """
    if isinstance(source, Fills):
        return source
    if isinstance(source, pd.DataFrame):
        table = _tidy_frame(source)
    else:
        from krg_liquidity.book.read import read_table

        table = read_table(source, sheet=sheet, what="fills", text_columns=TEXT)
    return check_fills(canonical_fills(table), skip_bad=skip_bad)


def _tidy_frame(source: pd.DataFrame) -> pd.DataFrame:
    """A DataFrame read like a file (:func:`krg_liquidity.book.read.tidy`: headers stripped, numbers written as
    text parsed), its text columns stripped in one vectorized pass (a million orders in well under a second)."""
    from krg_liquidity.book.read import tidy

    text = [c for c in source.columns if _ALIASES.get(col.header_key(c)) in TEXT]
    table = tidy(source.drop(columns=text))
    for column in text:
        values = source[column]
        stripped = values.astype("string").str.strip().astype(object)
        table[str(column).strip()] = stripped.where(values.notna().to_numpy(), None).to_numpy()
    return table


def _missing_columns(frame: pd.DataFrame) -> list[Problem]:
    problems = [Problem(name, "is missing", f"add a '{name}' column ({spec.unit})")
                for spec in FILL_COLUMNS for name in [spec.name] if name in REQUIRED and name not in frame]
    if "pov" not in frame and "market_volume" not in frame:
        problems.append(Problem("pov", "is missing (and so is 'market_volume')",
                                "give the achieved 'pov' (decimal), or the 'market_volume' traded over each "
                                "order's interval (shares) with its 'start_time' and 'end_time'"))
    return problems


def check_fills(frame: pd.DataFrame, *, skip_bad: bool = False) -> Fills:
    """Check canonical fills (see :func:`read_fills`): all problems at once, or set their rows aside."""
    missing = _missing_columns(frame)
    if missing:
        raise BookError(missing, what="the fills", table=fill_column_table())
    if len(frame) == 0:
        raise BookError([Problem(None, "the fills have no rows", "give one row per parent order")], what="the fills")
    frame = frame.reset_index(drop=True)
    n = len(frame)
    symbols = frame["symbol"].astype(str).to_numpy()
    checks: list[tuple[np.ndarray, Problem]] = []
    notes: list[str] = []

    def flag(mask: np.ndarray, column: str, problem: str, fix: str) -> None:
        if mask.any():
            labels = [f"row {i + 1} ({symbols[i]})" for i in np.flatnonzero(mask)]
            checks.append((mask, Problem(column, problem, fix, labels)))

    def number(column: str) -> tuple[np.ndarray, np.ndarray]:
        """(values, missing-or-unreadable mask)."""
        if column not in frame:
            return np.full(n, np.nan), np.zeros(n, dtype=bool)
        values, text = col.non_numeric(frame, column)
        return values, text | ~np.isfinite(values)

    symbol = frame["symbol"]
    flag(symbol.isna().to_numpy() | (symbol.astype(str).str.strip() == "").to_numpy(), "symbol", "is blank",
         "name each order's stock")
    side_text = frame["side"].astype(str).str.strip().str.lower()
    sign = side_text.map(_SIDES).to_numpy(dtype=float)
    flag(np.isnan(sign), "side", "is not buy or sell", "write 'buy' or 'sell' (or B/S) for each order")
    shares, bad = number("shares")
    flag(bad | (shares <= 0), "shares", "is missing or not > 0", "give the shares ordered as a positive number")
    executed, bad = number("executed_shares")
    flag(bad | (executed < 0), "executed_shares", "is missing or negative",
         "give the shares filled (0 for an order that never traded)")
    over = (shares > 0) & (np.nan_to_num(executed) > shares * (1 + 1e-9))
    flag(over, "executed_shares", "is more than the shares ordered",
         "correct the fill or the order size (executed_shares <= shares)")
    arrival, bad = number("arrival_price")
    flag(bad | (arrival <= 0), "arrival_price", "is missing or not > 0", "give the price when the order arrived")
    if "decision_price" in frame:
        decision, bad = number("decision_price")
        flag(bad | (decision <= 0), "decision_price", "is missing or not > 0",
             "give the price when the PM decided (or drop the column to use the arrival price)")
    else:
        decision = arrival
        notes.append("no decision_price column: delay cost is 0 (decision taken at the arrival price)")
    filled = np.nan_to_num(executed) > 0
    avg, bad = number("avg_price")
    flag(filled & (bad | ~(avg > 0)), "avg_price", "is missing or not > 0 for an order with executed shares",
         "give the average execution price")
    end, bad = number("end_price")
    unfilled = np.nan_to_num(executed) < np.nan_to_num(shares)
    flag(unfilled & (bad | ~(end > 0)), "end_price", "is missing or not > 0 for a partly filled order",
         "give the price at the end of the horizon (it prices the opportunity cost of the unfilled shares)")
    adv, bad = number("adv")
    flag(bad | (adv <= 0), "adv", "is missing or not > 0 (zero ADV)", "give the average daily volume in shares")
    vol, bad = number("volatility")
    flag(bad | (vol <= 0), "volatility", "is missing or not > 0", "give annualized volatility as a decimal (0.25)")
    flag(vol > MAX_VOLATILITY, "volatility", f"is above {MAX_VOLATILITY:g} ({MAX_VOLATILITY:.0%} a year): "
         "this looks like a percent", "give annualized volatility as a decimal: 25 -> 0.25")
    pov, pov_missing = number("pov")
    market, market_bad = number("market_volume")
    from_volume = pov_missing | np.isnan(pov)
    if "market_volume" in frame:
        with np.errstate(divide="ignore", invalid="ignore"):
            pov = np.where(from_volume, executed / market, pov)
        flag(from_volume & filled & (market_bad | ~(market >= executed)), "market_volume",
             "is missing, or less than the shares executed, where no pov is given",
             "give the market volume over the order's interval (shares, the order's own included)")
    else:
        flag(from_volume & filled, "pov", "is missing", "give the achieved participation (decimal, 0.10 = 10%)")
    flag(filled & ~from_volume & ((pov <= 0) | (pov > 1)), "pov", "is not in (0, 1]",
         "give participation as a decimal: 10% -> 0.10")
    if {"start_time", "end_time"} <= set(frame.columns):
        start = pd.to_datetime(frame["start_time"], errors="coerce")
        stop = pd.to_datetime(frame["end_time"], errors="coerce")
        flag((stop <= start).to_numpy(), "end_time", "is not after start_time", "check the order's times")
    fees, bad = number("fees_usd")
    if "fees_usd" in frame:
        given = ~frame["fees_usd"].isna().to_numpy()
        flag(given & (bad | (fees < 0)), "fees_usd", "is not a number >= 0", "give fees in dollars (blank = 0)")
    fees = np.where(np.isfinite(fees), fees, 0.0)

    bad_rows = np.zeros(n, dtype=bool)
    for mask, _ in checks:
        bad_rows |= mask
    if bad_rows.any() and (not skip_bad or bad_rows.all()):
        what = ("the fills, every order unusable" if skip_bad
                else "the fills (or read them with skip_bad=True to set the orders named aside)")
        raise BookError([p for _, p in checks], what=what, table=fill_column_table())
    out = frame.assign(side=np.where(sign > 0, "buy", "sell"), sign=sign, shares=shares, executed_shares=executed,
                       decision_price=decision, arrival_price=arrival, avg_price=avg, end_price=end, adv=adv,
                       volatility=vol, pov=np.where(filled, pov, np.nan), fees_usd=fees, row=np.arange(1, n + 1))
    out = out.drop(columns=[c for c in ("market_volume",) if c in out])
    skipped = pd.DataFrame({"row": np.arange(1, n + 1)[bad_rows], "symbol": frame["symbol"].astype(str)[bad_rows],
                            "reason": ["; ".join(f"column '{p.column}' {p.problem}" for m, p in checks if m[i])
                                       for i in np.flatnonzero(bad_rows)]})
    if bad_rows.any():
        notes.append(f"{int(bad_rows.sum())} of {n} orders set aside (skip_bad): see skipped")
    return Fills(out.loc[~bad_rows].reset_index(drop=True), skipped.reset_index(drop=True), notes)
