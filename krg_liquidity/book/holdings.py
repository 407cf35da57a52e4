"""Checking a book of holdings: every problem found at once, with the column, the symbols and the fix.

``check_holdings`` normalizes the columns (see :mod:`krg_liquidity.book.columns`) and collects every
problem (missing columns, blank or repeated symbols, text or missing numbers, values out of range,
units that cannot be right) before raising one :class:`~krg_liquidity.core.errors.BookError`. Units
rules are in :mod:`krg_liquidity.book.units`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from krg_liquidity.book import columns as col
from krg_liquidity.book import units
from krg_liquidity.core.errors import BookError, InconsistentInputError, Problem

NUMERIC = ("shares", "price", "adv", "volatility", "pov", "trade_time", "size", "value", "alpha_bp", "lb_wt",
           "ub_wt", "lb_min_shares", "ub_max_shares", "lb_min_value", "ub_max_value", "ub_max_pct_adv",
           "ub_max_mi", "ub_max_mi_bps", "spread_bps", "commission_per_share", "commission_bps", "fee_bps")
COST_COLUMNS = ("spread_bps", "commission_per_share", "commission_bps", "fee_bps")
"""Per-name trading costs linear in the trade (bps of the value traded, or currency per share); blank = 0."""
BOUND_COLUMNS = ("lb_wt", "ub_wt", "lb_min_shares", "ub_max_shares", "lb_min_value", "ub_max_value",
                 "ub_max_pct_adv", "ub_max_mi_bps")
_FIX_REQUIRED = {
    "shares": "add the position in shares (signed: negative = short)",
    "price": "add the price per share",
    "adv": "add the average daily volume in shares per day",
    "volatility": "add the annualized volatility as a decimal (0.24), or pass a risk model",
}


def accepted_headers(column: str) -> str:
    spec = next(s for s in col.COLUMNS if s.name == column)
    headers = {col.header_key(h): h for h in reversed((column, *spec.aliases))}
    return ", ".join(reversed(list(headers.values())))


PYTHON_DEFAULT = "trade_time_days=DAYS or pov=DECIMAL (fill_strategy or Portfolio.from_files)"
"""How a Python caller gives a default trade time; each face names its own control instead
(:func:`name_default_control`)."""


def strategy_fix(control: str) -> str:
    """The fix for names without a trade time or POV, naming ``control`` for the default."""
    return ("give each name a trade time in days (a 'trade_time' column) or a 'pov' column (decimal), "
            f"or a default for the names without one: {control}")


def name_default_control(exc: BookError, control: str) -> BookError:
    """``exc`` with its missing-strategy fix naming ``control`` (a CLI option, a desk box, a requests
    column): the control of the face the user is in."""
    generic = strategy_fix(PYTHON_DEFAULT)
    if not any(p.fix == generic for p in exc.problems):
        return exc
    problems = [Problem(p.column, p.problem, strategy_fix(control), p.symbols, p.found) if p.fix == generic else p
                for p in exc.problems]
    return BookError(problems, what=exc.what, table=exc.table)


def without_strategy(holdings: pd.DataFrame) -> np.ndarray:
    """True for each name with neither its own ``trade_time`` nor its own ``pov`` (canonical or MATLAB
    column names; blank cells count as missing): the names a default trade time or POV applies to.

    >>> without_strategy(pd.DataFrame({"Symbol": ["A", "B"], "TradeTime": [0.5, None]})).tolist()
    [False, True]
    """
    frame = holdings.rename(columns={c: col.canonical_name(c) or c for c in holdings.columns})
    given = np.zeros(len(frame), dtype=bool)
    for name in ("trade_time", "pov"):
        if name in frame:
            given |= frame[name].notna().to_numpy() & (frame[name].astype(str).str.strip() != "").to_numpy()
    return ~given


def fill_strategy(holdings: pd.DataFrame, trade_time_days: float | None = None,
                  pov: float | None = None) -> pd.DataFrame:
    """Give every name without a ``trade_time`` or ``pov`` the default one.

    Names that carry their own keep it. At most one default may be given.

    Parameters
    ----------
    holdings : pandas.DataFrame
        The book (any accepted column names).
    trade_time_days : float, optional
        The default trade time (days, > 0).
    pov : float, optional
        The default participation rate (fraction of market volume, in (0, 1]).

    Returns
    -------
    pandas.DataFrame
        The holdings, with snake_case column names and the default filled in.

    Raises
    ------
    InconsistentInputError
        Both defaults are given, or a default is out of range.

    Examples
    --------
    >>> book = pd.DataFrame({"Symbol": ["A", "B"], "TradeTime": [0.5, None]})
    >>> fill_strategy(book, trade_time_days=1.0)["trade_time"].tolist()
    [0.5, 1.0]
    """
    if trade_time_days is not None and pov is not None:
        raise InconsistentInputError("give a default trade time or a default POV, not both")
    frame = col.normalize_columns(holdings) if col.has_symbol_column(holdings) else holdings.rename(
        columns={c: col.canonical_name(c) or c for c in holdings.columns})
    if trade_time_days is None and pov is None:
        return frame
    if trade_time_days is not None and not (np.isfinite(trade_time_days) and trade_time_days > 0):
        raise InconsistentInputError(f"the default trade time {trade_time_days} must be > 0 days")
    if pov is not None and not (0 < pov <= 1):
        raise InconsistentInputError(f"the default POV {pov} must be a decimal in (0, 1], e.g. 0.1")
    frame = frame.copy()
    given = ~without_strategy(frame)
    column, value = ("trade_time", trade_time_days) if trade_time_days is not None else ("pov", pov)
    if column not in frame:
        frame[column] = np.nan
    frame[column] = frame[column].astype(object)
    frame.loc[~given, column] = value
    return frame


def check_holdings(holdings: pd.DataFrame, model_volatility: pd.Series | None = None,
                   model_symbols: set[str] | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The normalized, numeric holdings and the units warnings; raises BookError listing every problem.

    ``model_volatility``: the risk model's volatility per symbol (fills a missing volatility
    column, and is compared with a given one). ``model_symbols``: the names the model covers.
    """
    if not isinstance(holdings, pd.DataFrame):
        raise TypeError("holdings must be a pandas DataFrame")
    problems: list[Problem] = []
    if not col.has_symbol_column(holdings):
        problems.append(Problem("symbol", "is missing", f"add a symbol column (headers read as one: "
                                f"{accepted_headers('symbol')}) naming each row"))
    frame = col.normalize_columns(holdings).reset_index(drop=True)
    if frame.empty:
        raise BookError([Problem(None, "the holdings have no rows", "give one row per position")],
                        table=col.column_table(required_only=True))
    rows = pd.Series([f"row {i + 2}" for i in range(len(frame))])  # spreadsheet rows: the header is row 1
    source = next((c for c in holdings.columns if col.canonical_name(c) == "symbol"), None)
    if source is None:
        blank = np.zeros(len(frame), dtype=bool)
        label = frame["symbol"] if holdings.index.name is not None and col.has_symbol_column(holdings) else rows
    else:
        raw = holdings[source].reset_index(drop=True)
        blank = (raw.isna() | raw.astype(str).str.strip().eq("")).to_numpy()
        label = frame["symbol"].where(~blank, rows)
    if blank.any():
        problems.append(Problem("symbol", "is blank", "give every row its symbol (or delete the row)",
                                symbols=label[blank]))
    frame["symbol"] = label.str.strip()
    totals = frame["symbol"].str.fullmatch(r"(?i)(grand\s+)?(sub)?totals?|sum|total\s*:?")
    if totals.any():
        problems.insert(0, Problem("symbol", "has a totals row, not a position", "delete the totals row: the book "
                                   "is one row per position", symbols=frame["symbol"][totals]))
        frame = frame.loc[~totals.to_numpy()].reset_index(drop=True)  # one problem for it, not one per column
    repeated = frame["symbol"][frame["symbol"].duplicated()].unique()
    if len(repeated):
        problems.append(Problem("symbol", "lists a symbol more than once", "aggregate into one row per symbol",
                                symbols=repeated))
    if "ub_max_mi" in frame and "ub_max_mi_bps" in frame:
        problems.append(Problem("ub_max_mi", "is given with 'ub_max_mi_bps'",
                                "keep one: 'UB_MaxMI' (decimal, MATLAB) or 'UB_MaxMI_bps' (bps)"))
    if "volatility" not in frame and model_volatility is not None:
        frame["volatility"] = model_volatility.reindex(frame["symbol"]).to_numpy()
    for name, fix in _FIX_REQUIRED.items():
        if name not in frame:
            problems.append(Problem(name, "is missing", f"{fix}; headers read as '{name}': {accepted_headers(name)}"))
    symbols = frame["symbol"].to_numpy()
    values: dict[str, np.ndarray] = {}
    unreadable: dict[str, np.ndarray] = {}
    for name in NUMERIC:
        if name not in frame:
            continue
        array, text = col.non_numeric(frame, name)
        if text.any():
            found = ", ".join(repr(str(v)) for v in pd.unique(frame[name][text])[:3])
            problems.append(Problem(name, "is not a number", _number_fix(name), symbols=symbols[text], found=found))
        values[name], unreadable[name] = array, text
        frame[name] = array
    _check_required(values, unreadable, symbols, problems)
    _check_strategy(frame, values, unreadable, symbols, problems)
    _check_finite(values, symbols, problems)
    _check_bounds(values, symbols, problems)
    _check_costs(values, symbols, problems)
    if "ub_max_mi" in values and "ub_max_mi_bps" not in values:
        frame["ub_max_mi_bps"] = frame.pop("ub_max_mi") * 1e4
    problems += units.check_book_units(values, symbols, model_volatility)
    if model_symbols is not None:
        missing = [s for s in frame["symbol"] if s not in model_symbols]
        if missing:
            problems.append(Problem(None, "the risk model has no row", "add them to the risk model or drop them "
                                    "from the holdings", symbols=missing))
    if problems:
        raise BookError(problems, table=col.column_table(required_only=True))
    return frame, units.book_warnings(values, symbols)


def _number_fix(name: str) -> str:
    if name == "trade_time":
        return "give the trade time as a number of days, e.g. 1 or 0.5"
    if name == "pov":
        return "give POV as a decimal (0.1) or a percent string ('10%')"
    return f"give '{name}' as a number (a decimal point; '1,000' and '24%' are read)"


def _check_required(values, unreadable, symbols, problems) -> None:
    for name in ("shares", "price", "adv", "volatility"):
        if name not in values:
            continue
        array = values[name]
        missing = (np.isnan(array) | np.isinf(array)) & ~unreadable[name]
        if missing.any():
            problems.append(Problem(name, "is missing or infinite", f"give every row its '{name}'",
                                    symbols=symbols[missing]))
        if name != "shares" and (array <= 0).any():
            problems.append(Problem(name, "must be > 0", f"correct '{name}' or drop those rows",
                                    symbols=symbols[array <= 0], found=_found(array[array <= 0])))
    if "value" in values and "shares" in values and "price" in values:
        implied = values["shares"] * values["price"]
        off = np.isfinite(values["value"]) & ~np.isclose(values["value"], implied, rtol=1e-4, atol=0.01)
        if off.any():
            problems.append(Problem("value", "disagrees with shares x price", "drop 'value' or correct shares/price",
                                    symbols=symbols[off], found=_found(values["value"][off])))


def _check_strategy(frame, values, unreadable, symbols, problems) -> None:
    if "pov" not in frame and "trade_time" not in frame:
        problems.append(Problem("trade_time", "is missing (and there is no 'pov')", strategy_fix(PYTHON_DEFAULT)))
        return
    n = len(symbols)
    pov = values.get("pov", np.full(n, np.nan))
    time = values.get("trade_time", np.full(n, np.nan))
    text = unreadable.get("pov", np.zeros(n, dtype=bool)) | unreadable.get("trade_time", np.zeros(n, dtype=bool))
    none = np.isnan(pov) & np.isnan(time) & ~text
    if none.any():
        problems.append(Problem("trade_time", "is missing", strategy_fix(PYTHON_DEFAULT), symbols=symbols[none]))
    bad = ~np.isnan(pov) & ((pov <= 0) | (pov > 1))
    if bad.any():
        percent = bool(np.all((pov[bad] > 1) & (pov[bad] <= 100)))
        fix = "POV is a decimal: 20% is 0.2 (or write '20%')" if percent else "give POV as a decimal in (0, 1]"
        problems.append(Problem("pov", "must be in (0, 1]", fix, symbols=symbols[bad], found=_found(pov[bad])))
    bad = np.isnan(pov) & (time <= 0)
    if bad.any():
        problems.append(Problem("trade_time", "must be > 0 days", "give a horizon in days, e.g. 1.0",
                                symbols=symbols[bad], found=_found(time[bad])))


_INFINITE_FIX = {"trade_time": "give a finite horizon in days, e.g. 1.0 (or a 'pov')",
                 **{name: "leave the cell empty for no limit" for name in BOUND_COLUMNS + ("ub_max_mi",)}}


def _check_finite(values, symbols, problems) -> None:
    """An infinite number is refused by name (the required columns and pov have their own checks)."""
    for name, array in values.items():
        if name in ("shares", "price", "adv", "volatility", "pov"):
            continue
        infinite = np.isinf(array)
        if infinite.any():
            problems.append(Problem(name, "is infinite", _INFINITE_FIX.get(name, f"give '{name}' as a finite number"),
                                    symbols=symbols[infinite], found=_found(array[infinite])))


def _check_bounds(values, symbols, problems) -> None:
    for name in ("ub_max_pct_adv", "ub_max_mi", "ub_max_mi_bps"):
        if name in values and (values[name] <= 0).any():
            array = values[name]
            problems.append(Problem(name, "must be > 0 (or empty for no cap)", "remove the cap or give a positive "
                                    "value", symbols=symbols[array <= 0], found=_found(array[array <= 0])))
    for low, high in (("lb_wt", "ub_wt"), ("lb_min_shares", "ub_max_shares"), ("lb_min_value", "ub_max_value")):
        if low in values and high in values:
            crossed = values[low] > values[high]
            if crossed.any():
                problems.append(Problem(low, f"is above '{high}'", f"make {low} <= {high}", symbols=symbols[crossed]))


def _check_costs(values, symbols, problems) -> None:
    for name in COST_COLUMNS:
        if name in values and (values[name] < 0).any():
            array = values[name]
            problems.append(Problem(name, "must be >= 0 (or empty for none)", "give the cost as a nonnegative number"
                                    + (" of currency per share" if name == "commission_per_share" else " of bps"),
                                    symbols=symbols[array < 0], found=_found(array[array < 0])))
    spread = values.get("spread_bps")
    if spread is not None and (spread >= 1e4).any():
        problems.append(Problem("spread_bps", "is 100% of the price or more", "give the spread in bps (5 = 0.05%)",
                                symbols=symbols[spread >= 1e4], found=_found(spread[spread >= 1e4])))


def _found(array: np.ndarray) -> str:
    shown = ", ".join(f"{v:.6g}" for v in np.asarray(array)[:3])
    return shown + (", ..." if len(array) > 3 else "")
