"""Batch requests: one row per book, validated before any work starts.

Columns (headers case-insensitive): ``book_id``, ``holdings`` (a file), ``cash`` are required;
``cash`` is read as the CLI's ``--cash`` (:mod:`krg_liquidity.core.cash`: USD as a spreadsheet writes
it, a shorthand such as ``250m`` or ``1.5bn``, or a percent of the book's net value such as
``10%``, also an Excel cell shown as 10%); a target below $1,000 on a book worth millions, or
below 1e-6 of its net value, is that book's ``bad_input`` row ("did you mean N%?") unless its
``allow_small_cash`` is true.
Optional: ``covariance`` (a file) or a factor model (``factor_model``: an .xlsx with
three sheets, or the exposures file with ``factor_covariance`` and ``specific_variance``),
``sheet`` (of an .xlsx holdings file), ``risk_band_lo``/``risk_band_hi``, ``max_total_mi_bps``,
``allow_buys``, ``allow_small_cash``, book-wide defaults ``trade_time`` (days) or ``pov``
(decimal) for names without their own, ``lot_size`` (round the trades to whole lots: see ``rounding``; empty:
the optimizer's exact shares) and ``time_limit`` (seconds for the book's solve; default 30).
All-in costs and tax: ``fee_bps`` (sell fee of the names without their own, bps), ``max_total_cost_bps``,
``lots`` (a tax-lots file) with ``tax_short`` and ``tax_long`` (rates: 0.37 or 37%), ``as_of`` (the sale
date, YYYY-MM-DD), ``netting`` ("none" or "us"), ``tax_weight`` and ``unknown_basis`` ("refuse" or "zero"). Shape: ``group_column`` with
``max_group_weight_change``, ``max_tracking_error``, and ``min_liquid_fraction`` with ``min_liquid_days``.
Book-wide per-name defaults, for the names whose holdings leave the bound blank: ``max_pct_adv``,
``max_weight_change`` and ``max_sold_fraction`` (fractions: 0.1 or 10%).

Files named in a requests *file* are resolved relative to its folder and must stay inside it
(no ``..`` or absolute paths leading out, symbolic links included). A book whose file is
missing, outside the folder or not a regular file gets its own ``bad_input`` row; the others
run. Problems with the requests table itself (missing columns, repeated book ids, bad cash)
stop the batch before any work, with a :class:`BatchRequestError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from krg_liquidity.core.cash import FORMS, parse_cash
from krg_liquidity.core.errors import InputError, InputFileError
from krg_liquidity.core.numbers import parse_bps, parse_number, parse_ratio
from krg_liquidity.core.plan import DEFAULT_TIME_LIMIT
from krg_liquidity.model.tax import TaxRates
from krg_liquidity.solve.limits import NAME_DEFAULTS, Limits

REQUIRED = ("book_id", "holdings", "cash")
FILE_COLUMNS = ("holdings", "covariance", "factor_model", "factor_covariance", "specific_variance", "lots")
OPTIONAL = ("covariance", "factor_model", "factor_covariance", "specific_variance", "sheet", "risk_band_lo",
            "risk_band_hi", "max_total_mi_bps", "allow_buys", "allow_small_cash", "trade_time", "pov", "lot_size",
            "time_limit", "fee_bps", "max_total_cost_bps", "lots", "tax_short", "tax_long", "as_of", "netting",
            "tax_weight", "group_column", "max_group_weight_change", "max_tracking_error", "min_liquid_fraction",
            "min_liquid_days", "max_pct_adv", "max_weight_change", "max_sold_fraction", "unknown_basis")


class BatchRequestError(InputError):
    """The requests table itself is unusable (nothing was run)."""


@dataclass(frozen=True)
class BookRequest:
    """One book's request: files are paths (or DataFrames / a FactorModel); ``cash`` as written (USD
    as a number, or text such as "10%" or "250m", converted once the book's net value is known);
    ``limits``: the row's request-level limits as one :class:`~krg_liquidity.Limits` value.

    ``problem``: why the book cannot run (a missing or refused file); it then gets a
    ``bad_input`` row without being read.
    """

    book_id: str
    holdings: pd.DataFrame | str | Path
    covariance: object
    cash: float | str
    limits: Limits = Limits()
    factor_model: object = None
    factor_covariance: object = None
    specific_variance: object = None
    sheet: str | None = None
    trade_time: float | None = None
    pov: float | None = None
    problem: str = ""
    lot_size: int | None = None
    time_limit: float | None = DEFAULT_TIME_LIMIT
    allow_small_cash: bool = False
    fee_bps: float = 0.0
    lots: object = None
    tax: TaxRates | None = None
    tax_weight: float = 1.0


def read_requests(requests: pd.DataFrame | str | Path) -> list[BookRequest]:
    """Validate a requests table before any work starts.

    Every problem of the table is reported at once. A book whose own files cannot be used gets
    its own ``bad_input`` row when the batch runs; the others run.

    Parameters
    ----------
    requests : pandas.DataFrame, str or Path
        A CSV/.xlsx/Parquet path or a DataFrame. Columns: book_id, holdings, cash (dollars or a
        percent of the book's net value) and optionally covariance, factor_model,
        factor_covariance, specific_variance, sheet, risk_band_lo, risk_band_hi,
        max_total_mi_bps, allow_buys, allow_small_cash, trade_time (days), pov (fraction of
        market volume), lot_size (shares), time_limit (seconds). Paths of a requests file are
        resolved relative to it and confined to its folder; paths in a DataFrame are taken as
        given.

    Returns
    -------
    list of BookRequest
        One validated request per book, in the table's order.

    Raises
    ------
    InputError
        ``BatchRequestError``: the file cannot be read, a required column is missing, the table
        has no rows, or some rows are bad (unknown columns, repeated book ids, bad cash, ...).

    Examples
    --------
    >>> from krg_liquidity import load_example
    >>> holdings, covariance = load_example()
    >>> books = read_requests(pd.DataFrame({"book_id": ["a", "b"], "holdings": [holdings, holdings],
    ...                                     "cash": [1e8, "10%"]}))
    >>> [book.book_id for book in books]
    ['a', 'b']
    """
    base: Path | None = None
    if not isinstance(requests, pd.DataFrame):
        from krg_liquidity.book.read import read_table

        path = Path(requests)
        try:
            requests = read_table(path, what="requests", text_columns=("book_id", "sheet", "cash", "as_of", "netting",
                                                                       "unknown_basis", "group_column", *FILE_COLUMNS),
                                  percent_text=True)  # an Excel cash cell shown as 10% is 10% of the book
        except InputFileError as exc:
            raise BatchRequestError(str(exc)) from None
        base = path.resolve().parent
    table = requests.rename(columns=lambda c: str(c).strip().lower())
    missing = [c for c in REQUIRED if c not in table]
    if missing:
        raise BatchRequestError(f"requests need columns {', '.join(REQUIRED)}; missing {', '.join(missing)}")
    if table.empty:
        raise BatchRequestError("the requests table has no rows")
    errors: list[str] = []  # every problem of the file at once, then one error
    unknown = [str(c) for c in table.columns if c not in REQUIRED and c not in OPTIONAL]
    if unknown:  # a misspelt limit must not be dropped silently
        errors.append(f"unknown request column(s) {', '.join(unknown)}; the columns are "
                      f"{', '.join(REQUIRED + OPTIONAL)} (fix the spelling or remove the column)")
    ids = table["book_id"].astype(str)
    duplicated = ids[ids.duplicated()].unique()
    if len(duplicated):
        errors.append(f"book_id must be unique; repeated: {', '.join(duplicated[:8])}")
    cash = [_cash(value) for value in table["cash"]]
    bad = ids[[value is None for value in cash]]
    if len(bad):
        errors.append(f"column 'cash' must be a positive number of dollars for books {', '.join(bad[:8])}; "
                      f"give {FORMS}")
    out = []
    for i, (_, row) in enumerate(table.reset_index(drop=True).iterrows()):
        book = ids.iloc[i]
        problems: list[str] = []  # a file that cannot be used: that book's own bad_input row, the others run
        files = {c: _collect(errors, _resolve, row.get(c), base, book, c, c == "holdings", problems)
                 for c in FILE_COLUMNS}
        if files["covariance"] is not None and files["factor_model"] is not None:
            errors.append(f"book {book}: give a covariance or a factor_model, not both")
        trade_time, pov, lot, limit, mi_cap = (_collect(errors, _optional_float, row, c, book) for c in
                                               ("trade_time", "pov", "lot_size", "time_limit", "max_total_mi_bps"))
        sheet = None if _blank(row.get("sheet")) else str(row.get("sheet")).strip()
        if lot is not None and not (lot >= 1 and float(lot).is_integer()):
            errors.append(f"book {book}: column 'lot_size' must be a whole number of shares >= 1")
        if limit is not None and not limit > 0:
            errors.append(f"book {book}: column 'time_limit' must be a positive number of seconds")
        band = _collect(errors, _band, row, book)
        buys = _collect(errors, _flag, row.get("allow_buys", False), book)
        cost_cap, fee, weight = (_collect(errors, _optional_float, row, c, book) for c in
                                 ("max_total_cost_bps", "fee_bps", "tax_weight"))
        shape = _collect(errors, _shape, row, book)
        limits = _collect(errors, _limits, book, band, mi_cap, bool(buys), cost_cap, shape or {})
        rates = _collect(errors, _tax, row, book, files["lots"] is not None)
        small = _collect(errors, _flag, row.get("allow_small_cash", False), book, "allow_small_cash")
        amount = cash[i]
        if amount is None:  # reported above with the other unreadable cash cells: the table is refused
            continue
        if limits is None:  # said above with the table's other problems
            continue
        out.append(BookRequest(book, files["holdings"], files["covariance"], amount, limits, files["factor_model"],
                               files["factor_covariance"], files["specific_variance"], sheet, trade_time, pov,
                               "; ".join(problems), None if lot is None else int(lot),
                               DEFAULT_TIME_LIMIT if limit is None else limit, bool(small),
                               0.0 if fee is None else fee, files["lots"], rates, 1.0 if weight is None else weight))
    if len(errors) == 1:
        raise BatchRequestError(errors[0])
    if errors:
        raise BatchRequestError(f"the requests have {len(errors)} problems to fix:\n  - " + "\n  - ".join(errors))
    return out


def _collect(errors: list[str], check, *args):
    """``check(*args)``, or None with its message added to ``errors``."""
    try:
        return check(*args)
    except BatchRequestError as exc:
        errors.append(str(exc))
        return None


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""


def _resolve(value, base: Path | None, book: str, column: str, required: bool, problems: list[str]):
    if isinstance(value, pd.DataFrame) or (value is not None and not isinstance(value, (str, Path, float, int))):
        return value  # in-memory tables and models
    if _blank(value):
        if required:
            raise BatchRequestError(f"book {book}: column '{column}' is empty; give a path to a CSV, .xlsx or "
                                    "Parquet file")
        return None
    path = Path(str(value).strip())
    if base is not None:
        path = (path if path.is_absolute() else base / path).resolve()
        if not path.is_relative_to(base):
            problems.append(f"{column} path '{value}' leads outside the requests file's folder; "
                            "put the file in that folder (or below it) and name it relatively")
            return str(path)
    if not path.exists():
        problems.append(f"{column} file not found: {value}")
    elif not path.is_file():
        problems.append(f"{column} path '{value}' is not a regular file (a folder, pipe or device)")
    return str(path)


PARSERS = {"max_total_mi_bps": parse_bps, "max_total_cost_bps": parse_bps, "risk_band_lo": parse_ratio,
           "risk_band_hi": parse_ratio}
"""Columns read as the CLI reads its options: "50bps" or "0.5%" in bps, "90%" or "0.9x" as a risk ratio."""


def _optional_float(row, column: str, book: str) -> float | None:
    value = row.get(column, np.nan)
    if _blank(value):
        return None
    number = PARSERS.get(column, parse_number)(value)
    if not np.isfinite(number):
        raise BatchRequestError(f"book {book}: column '{column}' must be a number, not {str(value)[:40]!r}")
    return number


def _band(row, book: str):
    lo, hi = _optional_float(row, "risk_band_lo", book), _optional_float(row, "risk_band_hi", book)
    if (lo is None) != (hi is None):
        raise BatchRequestError(f"book {book}: give both risk_band_lo and risk_band_hi, or neither")
    return None if lo is None else (lo, hi)


def _limits(book: str, band, mi_cap, buys: bool, cost_cap=None, shape: dict | None = None) -> Limits:
    """The row's request-level limits as one value, checked as ``Limits`` checks them."""
    try:
        return Limits(risk_band=band, max_total_mi_bps=mi_cap, allow_buys=buys, max_total_cost_bps=cost_cap,
                      **(shape or {}))
    except InputError as exc:
        raise BatchRequestError(f"book {book}: {exc}") from None


def _shape(row, book: str) -> dict:
    """The row's shape limits as ``Limits`` keywords: a group column with a band on each group's weight, a
    tracking-error cap, the liquidity left (``min_liquid_fraction`` sellable within ``min_liquid_days``), and
    the book-wide per-name defaults."""
    out: dict = {}
    if not _blank(row.get("group_column")):
        out["group_column"] = str(row.get("group_column")).strip()
    change = _optional_float(row, "max_group_weight_change", book)
    if change is not None:
        out["group_limits"] = {"max_weight_change": change}
    tracking = _optional_float(row, "max_tracking_error", book)
    if tracking is not None:
        out["max_tracking_error"] = tracking
    fraction, days = (_optional_float(row, c, book) for c in ("min_liquid_fraction", "min_liquid_days"))
    if (fraction is None) != (days is None):
        raise BatchRequestError(f"book {book}: give both min_liquid_fraction and min_liquid_days, or neither")
    if fraction is not None:
        out["min_liquid_fraction"] = (fraction, days)
    for column in NAME_DEFAULTS:  # book-wide per-name defaults
        value = _optional_float(row, column, book)
        if value is not None:
            out[column] = value
    return out


TAX_COLUMNS = ("tax_short", "tax_long", "as_of", "netting", "tax_weight", "unknown_basis")
"""The columns that price a row's tax lots (``lots``)."""


def _tax(row, book: str, has_lots: bool) -> TaxRates | None:
    """The row's tax rates (with a ``lots`` file), checked as ``TaxRates`` checks them; rates without lots, or
    lots without both rates, are refused."""
    given = [c for c in TAX_COLUMNS if not _blank(row.get(c))]
    if not has_lots:
        if given:
            raise BatchRequestError(f"book {book}: column(s) {', '.join(given)} need a 'lots' file for the row")
        return None
    rates = {c: row.get(c) for c in ("tax_short", "tax_long")}
    missing = [c for c, v in rates.items() if _blank(v)]
    if missing:
        raise BatchRequestError(f"book {book}: a 'lots' file needs the tax rates: give {' and '.join(missing)} "
                                "(decimals such as 0.37, or 37%)")
    try:
        return TaxRates(short_term=parse_number(rates["tax_short"]), long_term=parse_number(rates["tax_long"]),
                        as_of=None if _blank(row.get("as_of")) else str(row.get("as_of")).strip(),
                        netting="none" if _blank(row.get("netting")) else str(row.get("netting")).strip().lower(),
                        unknown_basis=("refuse" if _blank(row.get("unknown_basis"))
                                       else str(row.get("unknown_basis")).strip().lower()))
    except InputError as exc:
        words = str(exc)
        for keyword, column in (("short_term", "tax_short"), ("long_term", "tax_long")):
            words = words.replace(f"{keyword}=", f"column '{column}' ")
        raise BatchRequestError(f"book {book}: {words}") from None


def _cash(value) -> float | str | None:
    """The cash cell as written (a number stays a number of dollars), or None when it is no amount."""
    try:
        amount, _ = parse_cash(value)
    except InputError:
        return None
    return value.strip() if isinstance(value, str) else amount


def _flag(value, book: str, column: str = "allow_buys") -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)  # a 0/1 column read as numbers
    text = str(value).strip().lower()
    if text in ("", "0", "false", "no", "n"):
        return False
    if text in ("1", "true", "yes", "y"):
        return True
    raise BatchRequestError(f"book {book}: column '{column}' must be true/false, not {str(value)[:40]!r}")
