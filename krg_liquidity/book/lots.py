"""Tax lots: one row per lot (symbol, shares, cost basis, acquired date, optional lot id), read and checked.

Headers match as for the holdings (case, spaces and punctuation ignored): ``cost_basis_per_share``
(also "Unit Cost", "Cost per Share", "Basis per Share"), ``cost_basis_usd`` (the lot's total basis:
"Cost Basis", "Total Cost"), ``acquired`` ("Acquired", "Open Date", "Purchase Date", "Trade Date"),
``lot_id`` ("Lot", "Lot ID"). Every problem is listed at once in one ``BookError``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from krg_liquidity.book import columns as col
from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.book.read import read_table
from krg_liquidity.core.errors import BookError, InputError, Problem

LOT_ALIASES = {
    "symbol": ("Symbol", "Ticker"),
    "shares": ("Shares", "Quantity", "Qty"),
    "cost_basis_per_share": ("Unit Cost", "Cost per Share", "Basis per Share", "Cost Basis per Share"),
    "cost_basis_usd": ("Cost Basis", "Total Cost", "Cost Basis USD", "Basis"),
    "acquired": ("Acquired", "Open Date", "Purchase Date", "Trade Date", "Acquired Date"),
    "lot_id": ("Lot", "Lot ID", "LotId"),
}
_KEYS = {col.header_key(alias): name for name, aliases in LOT_ALIASES.items() for alias in (name, *aliases)}
SHARES_RTOL = 1e-9
"""Relative tolerance when a symbol's lots are added up against its holdings."""


def _shares(count: float) -> str:
    """A share count as a PM reads it: thousands separated, at most 4 decimals, no trailing zeros."""
    return f"{count:,.4f}".rstrip("0").rstrip(".")


def _frame(lots) -> pd.DataFrame:
    if isinstance(lots, pd.DataFrame):
        return lots.copy()
    if isinstance(lots, (str, Path)):
        return read_table(lots, what="lots", text_columns=("lot_id", "Lot", "Lot ID", "acquired", "Acquired",
                                                           "Open Date", "Purchase Date", "Trade Date"))
    raise InputError(f"lots is a {type(lots).__name__}: give a DataFrame or a CSV/xlsx/Parquet/JSON file path")


def read_lots(lots: pd.DataFrame | str | Path, portfolio: Portfolio) -> pd.DataFrame:
    """The tax lots of ``portfolio``, checked against it: one row per lot, snake_case columns.

    Parameters
    ----------
    lots : pandas.DataFrame or str or Path
        One row per lot: symbol, shares (> 0), the cost basis per share or in total (USD), the date
        acquired, an optional lot id; a CSV, .xlsx, Parquet or JSON file, or a DataFrame.
    portfolio : Portfolio
        The book the lots belong to: each held symbol's lots add up to its shares.

    Returns
    -------
    pandas.DataFrame
        Columns ``symbol``, ``lot_id``, ``shares``, ``cost_basis_per_share`` (USD) and ``acquired``
        (a date), in the file's order.

    Raises
    ------
    BookError
        Every problem at once: a missing column, text or missing numbers, shares <= 0, a negative basis,
        a date that cannot be read, symbols not in the book, short positions (not handled with lots),
        and symbols whose lots do not add up to the held shares (with the difference).
    InputError
        ``lots`` is neither a table nor a file path.

    Examples
    --------
    >>> from krg_liquidity import Portfolio, load_example
    >>> holdings, covariance = load_example()
    >>> book = Portfolio(holdings.head(1), covariance)
    >>> lots = pd.DataFrame({"Symbol": [book.symbols[0]] * 2, "Shares": book.array("shares")[0] / 2,
    ...                      "Unit Cost": [10.0, 20.0], "Acquired": ["2020-01-02", "2026-06-01"]})
    >>> read_lots(lots, book)["cost_basis_per_share"].tolist()
    [10.0, 20.0]
    """
    raw = _frame(lots)
    renames: dict[object, str] = {}
    problems: list[Problem] = []
    for column in raw.columns:
        name = _KEYS.get(col.header_key(column))
        if name is None:
            continue
        if name in renames.values():
            problems.append(Problem(name, f"is given twice (as '{column}' too)", "keep one of the columns"))
            continue
        renames[column] = name
    frame = raw.rename(columns=renames).reset_index(drop=True)
    for name in ("symbol", "shares", "acquired"):
        if name not in frame:
            problems.append(Problem(name, "is missing", f"add a '{name}' column (also read as: "
                                    f"{', '.join(LOT_ALIASES[name])})"))
    has_unit, has_total = "cost_basis_per_share" in frame, "cost_basis_usd" in frame
    if not has_unit and not has_total:
        problems.append(Problem("cost_basis_per_share", "is missing", "add the cost basis per share ('Unit Cost') "
                                "or the lot's total basis in USD ('cost_basis_usd', 'Cost Basis')"))
    elif has_unit and has_total:
        problems.append(Problem("cost_basis_usd", "is given with 'cost_basis_per_share'", "keep one of them"))
    if problems:
        raise BookError(problems, what="the lots")
    if frame.empty:
        raise BookError([Problem(None, "the lots table has no rows", "give one row per lot")], what="the lots")
    frame["symbol"] = frame["symbol"].astype(str).str.strip()
    if "lot_id" not in frame:
        frame["lot_id"] = [f"{s}-{i + 1}" for s, i in zip(frame["symbol"], frame.groupby("symbol").cumcount())]
    frame["lot_id"] = frame["lot_id"].astype(str)
    label = frame["lot_id"]
    shares, bad_shares = col.non_numeric(frame, "shares")
    basis_column = "cost_basis_per_share" if has_unit else "cost_basis_usd"
    basis, bad_basis = col.non_numeric(frame, basis_column)
    for name, values, bad in (("shares", shares, bad_shares), (basis_column, basis, bad_basis)):
        if bad.any():
            problems.append(Problem(name, "is not a number", f"give '{name}' as a number", symbols=label[bad]))
        missing = np.isnan(values) & ~bad
        if missing.any():
            problems.append(Problem(name, "is missing", f"give every lot its '{name}'", symbols=label[missing]))
    if (shares <= 0).any():
        problems.append(Problem("shares", "must be > 0", "a lot holds a positive number of shares (short positions "
                                "with lots are not handled)", symbols=label[shares <= 0]))
    if (basis < 0).any():
        problems.append(Problem(basis_column, "must be >= 0", "give the cost basis as a nonnegative amount in USD",
                                symbols=label[basis < 0]))
    acquired = pd.to_datetime(frame["acquired"], errors="coerce")
    if acquired.isna().any():
        problems.append(Problem("acquired", "is not a date", "give the date acquired as YYYY-MM-DD",
                                symbols=label[acquired.isna().to_numpy()]))
    held = dict(zip(portfolio.symbols, portfolio.array("shares")))
    unknown = sorted(set(frame["symbol"]) - set(held))
    if unknown:
        problems.append(Problem("symbol", "is not in the book", "drop those lots or add the positions", symbols=unknown))
    short = [s for s, q in held.items() if q < 0]
    if short:
        problems.append(Problem("symbol", "is a short position: covering with tax lots is not handled",
                                "liquidate without lots, or take the short positions out of the book", symbols=short))
    repeated = frame["lot_id"][frame["lot_id"].duplicated()].unique()
    if len(repeated):
        problems.append(Problem("lot_id", "is repeated", "give each lot its own id", symbols=repeated))
    totals = pd.Series(np.nan_to_num(shares), index=frame["symbol"]).groupby(level=0).sum()
    off = []
    for symbol, quantity in held.items():
        if quantity <= 0:
            continue
        listed = float(totals.get(symbol, 0.0))
        if not np.isclose(listed, quantity, rtol=SHARES_RTOL, atol=1e-9):
            off.append(f"{symbol} (lots {_shares(listed)} vs held {_shares(quantity)}: "
                       f"{'+' if listed > quantity else '-'}{_shares(abs(listed - quantity))} shares)")
    if off:
        problems.append(Problem("shares", "of the lots do not add up to the held shares",
                                "list every lot of each position (its lots must add up to the shares held)",
                                symbols=off))
    if problems:
        raise BookError(problems, what="the lots")
    per_share = basis if has_unit else basis / shares
    return pd.DataFrame({"symbol": frame["symbol"], "lot_id": frame["lot_id"], "shares": shares,
                         "cost_basis_per_share": per_share, "acquired": acquired.dt.normalize()})
