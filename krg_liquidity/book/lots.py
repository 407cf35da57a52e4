"""Tax lots: one row per lot (symbol, shares, cost basis, acquired date, optional lot id), read and checked.

Headers match as for the holdings (case, spaces and punctuation ignored): ``cost_basis_per_share``
(also "Unit Cost", "Cost per Share", "Basis per Share"), ``cost_basis_usd`` (the lot's total basis:
"Cost Basis", "Total Cost"), ``acquired`` ("Acquired", "Open Date", "Purchase Date", "Trade Date"),
``lot_id`` ("Lot", "Lot ID"). Every problem is listed at once in one ``BookError``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from krg_liquidity.book import columns as col
from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.book.read import read_table
from krg_liquidity.core.errors import BookError, InputError, Problem, symbols_text

LOT_ALIASES = {
    "symbol": ("Symbol", "Ticker"),
    "shares": ("Shares", "Quantity", "Qty"),
    "cost_basis_per_share": ("Unit Cost", "Cost per Share", "Basis per Share", "Cost Basis per Share"),
    "cost_basis_usd": ("Cost Basis", "Total Cost", "Cost Basis USD", "Basis"),
    "acquired": ("Acquired", "Open Date", "Purchase Date", "Trade Date", "Acquired Date"),
    "lot_id": ("Lot", "Lot ID", "LotId"),
}
_KEYS = {col.header_key(alias): name for name, aliases in LOT_ALIASES.items() for alias in (name, *aliases)}
LOT_TEXT = ("lot_id", "Lot", "Lot ID", "acquired", "Acquired", "Open Date", "Purchase Date", "Trade Date")
"""The lot-file columns read as text (ids as written; dates read by :func:`read_dates`, never guessed)."""
UNKNOWN_LOT = "unknown-basis"
"""The lot id's suffix of the shares no lot lists, taken at zero basis (``read_lots(..., unknown_basis="zero")``)."""
SHARES_RTOL = 1e-9
"""Relative tolerance when a symbol's lots are added up against its holdings."""


DAY_FIRST = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
"""A date written day/month/year or month/day/year (slashes, dots or dashes), which only its values can tell."""


def read_dates(values: pd.Series, label: pd.Series, column: str) -> tuple[pd.Series, list[Problem]]:
    """Dates acquired, read without guessing: ISO dates (YYYY-MM-DD) and date cells as they are; dates written
    NN/NN/YYYY are read day-first or month-first only when a value in the column shows which (a first number
    above 12: day-first; a second: month-first), else each one that could be either is refused.

    Parameters
    ----------
    values : pandas.Series
        The column as read.
    label : pandas.Series
        Each row's lot id (to name the lots in a problem).
    column : str
        The column's header in the file.

    Returns
    -------
    (pandas.Series, list of Problem)
        The dates (NaT where refused) and the problems found.

    Examples
    --------
    >>> dates, problems = read_dates(pd.Series(["2025-12-10", "25/12/2024", "10/12/2025"]),
    ...                              pd.Series(["a", "b", "c"]), "Open Date")
    >>> [d.date().isoformat() for d in dates], problems
    (['2025-12-10', '2024-12-25', '2025-12-10'], [])
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        out = pd.to_datetime(values)
        return out, [] if not out.isna().any() else [Problem(column, "is missing", "give every lot its date "
                                                             "acquired", symbols=label[out.isna().to_numpy()])]
    text = values.astype(str).str.strip()
    parts = text.str.extract(DAY_FIRST).astype(float)
    slashed = parts[0].notna().to_numpy()
    day_first = bool((parts[0] > 12).any())
    month_first = bool((parts[1] > 12).any())
    problems: list[Problem] = []
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    out[~slashed] = pd.to_datetime(text[~slashed], format="ISO8601", errors="coerce")
    refused = np.zeros(len(values), dtype=bool)  # said already: not "not a date" too
    if slashed.any() and day_first and month_first:
        refused = slashed
        days, months = (parts[0] > 12).to_numpy(), (parts[1] > 12).to_numpy()
        problems.append(Problem(column, "mixes day-first and month-first dates: day-first for "
                                f"{symbols_text(list(label[days]))} ({_quoted(values[days])}), month-first for "
                                f"{symbols_text(list(label[months]))} ({_quoted(values[months])})",
                                "write the dates as YYYY-MM-DD (every NN/NN/YYYY date of the column is refused "
                                "until then)"))
    elif slashed.any():
        normal = text[slashed].str.replace(r"[.-]", "/", regex=True)
        out[slashed] = pd.to_datetime(normal, format="%d/%m/%Y" if day_first else "%m/%d/%Y", errors="coerce")
        if not (day_first or month_first):  # nothing in the column tells: each date that could be either is refused
            refused = slashed & (parts[0] != parts[1]).to_numpy()
            if refused.any():
                out[refused] = None
                problems.append(Problem(column, "could be day-first or month-first", "write the dates as YYYY-MM-DD "
                                        "(10/12/2025 is 10 December in some exports and October 12 in others)",
                                        symbols=label[refused], found=_quoted(values[refused])))
    unread = out.isna().to_numpy() & ~refused
    if unread.any():
        problems.append(Problem(column, "is not a date", "give the date acquired as YYYY-MM-DD",
                                symbols=label[unread], found=_quoted(values[unread])))
    return out, problems


def _quoted(values: pd.Series, most: int = 3) -> str:
    """A few of the values found, quoted as the file has them."""
    shown = [repr(str(v)) for v in values.head(most)]
    return ", ".join(shown) + (", ..." if len(values) > most else "")


def _shares(count: float) -> str:
    """A share count as a PM reads it: thousands separated, at most 4 decimals, no trailing zeros."""
    return f"{count:,.4f}".rstrip("0").rstrip(".")


def _frame(lots) -> pd.DataFrame:
    if isinstance(lots, pd.DataFrame):
        return lots.copy()
    if isinstance(lots, (str, Path)):
        return read_table(lots, what="lots", text_columns=LOT_TEXT)
    raise InputError(f"lots is a {type(lots).__name__}: give a DataFrame or a CSV/xlsx/Parquet/JSON file path")


def read_lots(lots: pd.DataFrame | str | Path, portfolio: Portfolio, unknown_basis: str = "refuse") -> pd.DataFrame:
    """The tax lots of ``portfolio``, checked against it: one row per lot, snake_case columns.

    Parameters
    ----------
    lots : pandas.DataFrame or str or Path
        One row per lot: symbol, shares (> 0), the cost basis per share or in total (USD), the date
        acquired, an optional lot id; a CSV, .xlsx, Parquet or JSON file, or a DataFrame.
    portfolio : Portfolio
        The book the lots belong to: each held symbol's lots add up to its shares.
    unknown_basis : {"refuse", "zero"}
        A position whose lots list fewer shares than are held: "refuse" (a named error), or "zero": the
        rest is one more lot, ``SYMBOL-unknown-basis``, at zero basis with no date (taxed short-term).

    Returns
    -------
    pandas.DataFrame
        Columns ``symbol``, ``lot_id``, ``shares``, ``cost_basis_per_share`` (USD) and ``acquired``
        (a date; none for an unknown-basis lot), in the file's order, the unknown-basis lots last.

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
    shown = {name: column for column, name in renames.items()}

    def said(name: str) -> str:
        """The file's own header of a column (the problems speak the PM's words)."""
        return str(shown.get(name, name))

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
            problems.append(Problem(said(name), "is not a number", f"give '{said(name)}' as a number",
                                    symbols=label[bad], found=_quoted(frame[name][bad])))
        missing = np.isnan(values) & ~bad
        if missing.any():
            problems.append(Problem(said(name), "is missing", f"give every lot its '{said(name)}'",
                                    symbols=label[missing]))
    if (shares <= 0).any():
        problems.append(Problem(said("shares"), "must be > 0", "a lot holds a positive number of shares (short "
                                "positions with lots are not handled)", symbols=label[shares <= 0],
                                found=_quoted(frame["shares"][shares <= 0])))
    if (basis < 0).any():
        problems.append(Problem(said(basis_column), "must be >= 0", "give the cost basis as a nonnegative amount in "
                                "USD", symbols=label[basis < 0], found=_quoted(frame[basis_column][basis < 0])))
    acquired, date_problems = read_dates(frame["acquired"], label, said("acquired"))
    problems += date_problems
    held = dict(zip(portfolio.symbols, portfolio.array("shares")))
    unknown = sorted(pd.Index(frame["symbol"].unique()).difference(pd.Index(list(held))))  # vectorized: 30,000 rows
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
    holding = pd.Series(held, dtype=float)
    holding = holding[holding > 0]
    listed_all = totals.reindex(holding.index).fillna(0.0)
    wrong = ~np.isclose(listed_all.to_numpy(), holding.to_numpy(), rtol=SHARES_RTOL, atol=1e-9)
    missing = pd.Series(dtype=float)
    if unknown_basis == "zero":  # the shares no lot lists become a lot of their own; too many listed is still wrong
        missing = (holding - listed_all)[wrong & (listed_all < holding).to_numpy()]
        wrong &= (listed_all > holding).to_numpy()
    elif unknown_basis != "refuse":
        raise InputError(f"unknown_basis={unknown_basis!r}: choose 'refuse' or 'zero'")
    off = [f"{symbol} (lots {_shares(listed)} vs held {_shares(quantity)}: "
           f"{'+' if listed > quantity else '-'}{_shares(abs(listed - quantity))} shares)"
           for symbol, listed, quantity in zip(holding.index[wrong], listed_all[wrong], holding[wrong])]
    if off:
        fix = ("list every lot of each position (its lots must add up to the shares held)" if unknown_basis == "refuse"
               else "a position's lots may not list more shares than are held: correct those lots")
        if unknown_basis == "refuse" and (listed_all < holding)[wrong].any():
            fix += ", or take the shares no lot lists at zero basis (unknown_basis='zero'; CLI --unknown-basis zero)"
        problems.append(Problem("shares", "of the lots do not add up to the held shares", fix, symbols=off))
    if problems:
        raise BookError(problems, what="the lots")
    per_share = basis if has_unit else basis / shares
    table = pd.DataFrame({"symbol": frame["symbol"], "lot_id": frame["lot_id"], "shares": shares,
                          "cost_basis_per_share": per_share, "acquired": acquired.dt.normalize()})
    if missing.empty:
        return table
    added = pd.DataFrame({"symbol": missing.index.astype(str), "lot_id": [f"{s}-{UNKNOWN_LOT}" for s in missing.index],
                          "shares": missing.to_numpy(dtype=float), "cost_basis_per_share": 0.0,
                          "acquired": pd.Series(pd.NaT, index=range(len(missing)), dtype="datetime64[ns]")})
    return pd.concat([table, added], ignore_index=True)
