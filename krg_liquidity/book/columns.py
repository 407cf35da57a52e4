"""Column names, aliases and units: one table, used to read, to check and to document a book.

Every table is renamed to snake_case once, here; the rest of the package uses only the
snake_case names. Headers match case-, space- and punctuation-insensitively ("Avg Daily
Volume", "avg_daily_volume" and "AVG-DAILY-VOLUME" are one header). Values are checked
here too, so that no NaN or bad number reaches a formula or a solver.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from krg_liquidity.core.errors import InconsistentInputError, InvalidValueError, MissingColumnError
from krg_liquidity.core.numbers import blank_cells, parse_numbers


@dataclass(frozen=True)
class ColumnSpec:
    """One input column: its snake_case name, the headers that mean it, its unit and whether it is required."""

    name: str
    unit: str
    required: str
    aliases: tuple[str, ...] = ()


COLUMNS = (
    ColumnSpec("symbol", "text, non-blank, unique", "yes", ("Symbol", "Ticker")),
    ColumnSpec("shares", "shares, signed (negative = short)", "yes",
               ("Shares", "Quantity", "Qty", "Position", "Holdings")),
    ColumnSpec("price", "currency per share", "yes", ("Price", "Last", "Last Price", "Px", "Px Last")),
    ColumnSpec("adv", "shares per day (not dollars)", "yes",
               ("ADV", "Avg Daily Volume", "Average Daily Volume", "ADV Shares", "Volume ADV", "ADV 30D")),
    ColumnSpec("volatility", "annualized, decimal (0.24; the text '24%' is read as 0.24)",
               "yes, unless a risk model is given", ("Volatility", "Vol", "Vol 30D", "Volatility 30D", "Annual Vol")),
    ColumnSpec("trade_time", "days", "trade_time or pov (or a default for the book)",
               ("TradeTime", "Trade Time", "Trade Time Days", "Horizon Days")),
    ColumnSpec("pov", "decimal in (0, 1]", "trade_time or pov (or a default for the book)",
               ("POV", "Participation", "Participation Rate", "Pct Of Volume")),
    ColumnSpec("size", "shares / ADV, decimal (checked against shares/adv)", "no", ("Size",)),
    ColumnSpec("value", "currency (checked against shares x price)", "no", ("Value", "Market Value")),
    ColumnSpec("alpha_bp", "bps per day", "no", ("Alpha_bp", "Alpha bps")),
    ColumnSpec("side", "text", "no", ("Side",)),
    ColumnSpec("lb_wt", "final weight, decimal", "no", ("LB_Wt", "Min Weight")),
    ColumnSpec("ub_wt", "final weight, decimal", "no", ("UB_Wt", "Max Weight")),
    ColumnSpec("lb_min_shares", "final shares", "no", ("LB_MinShares", "Min Shares")),
    ColumnSpec("ub_max_shares", "final shares", "no", ("UB_MaxShares", "Max Shares")),
    ColumnSpec("lb_min_value", "final value, currency", "no", ("LB_MinValue", "Min Value")),
    ColumnSpec("ub_max_value", "final value, currency", "no", ("UB_MaxValue", "Max Value")),
    ColumnSpec("ub_max_pct_adv", "traded shares / ADV, decimal (0.05 = 5%)", "no", ("UB_MaxPctADV", "Max Pct ADV")),
    ColumnSpec("ub_max_mi", "impact cap, decimal (0.0025 = 25 bps; MATLAB)", "no", ("UB_MaxMI",)),
    ColumnSpec("ub_max_mi_bps", "impact cap, bps", "no", ("UB_MaxMI_bps", "Max MI bps")),
    ColumnSpec("spread_bps", "full quoted bid-ask spread, bps (half is paid per dollar traded)", "no",
               ("Spread (bps)", "Spread bps", "Bid Ask bps", "Bid Ask Spread bps")),
    ColumnSpec("commission_per_share", "commission, currency per share traded", "no",
               ("Commission per Share", "Commission (cps)", "Comm per Share")),
    ColumnSpec("commission_bps", "commission, bps of the value traded", "no", ("Commission (bps)", "Comm bps")),
    ColumnSpec("fee_bps", "sell-side fees, bps of the proceeds (e.g. regulatory fees)", "no",
               ("Fee (bps)", "Fees bps", "Sell Fee bps")),
    ColumnSpec("trade_schedule", "shares per period (analytics only)", "no", ("TradeSchedule",)),
    ColumnSpec("volume_profile", "market shares per period (analytics only)", "no", ("VolumeProfile",)),
)
CANONICAL = tuple(spec.name for spec in COLUMNS)
TEXT_COLUMNS = ("symbol", "side")


def header_key(name: object) -> str:
    """The matching key of a header: lower case, letters and digits only (``"Vol 30D (%)"`` -> ``"vol30d"``)."""
    return re.sub(r"[^0-9a-z]", "", str(name).strip().lower())


_ALIASES = {header_key(spec.name): spec.name for spec in COLUMNS}
for _spec in COLUMNS:
    _ALIASES.update({header_key(alias): _spec.name for alias in _spec.aliases})
_ALIASES["tradetimedays"] = "trade_time"

SIZE_RTOL = 1e-3
"""Relative tolerance when a Size column is checked against Shares/ADV."""


def column_table(markdown: bool = False, required_only: bool = False) -> str:
    """The table of book columns (name, aliases, unit, required) as plain text or Markdown.

    Parameters
    ----------
    markdown : bool
        A Markdown table instead of plain text lines.
    required_only : bool
        Only the columns a liquidation needs, and the strategy columns.

    Returns
    -------
    str
        One line (or Markdown row) per column.

    Examples
    --------
    >>> "Avg Daily Volume" in column_table()
    True
    """
    rows = [(spec.name, ", ".join(spec.aliases), spec.unit, spec.required) for spec in COLUMNS
            if spec.name not in ("trade_schedule", "volume_profile") and (not required_only or spec.required != "no")]
    if markdown:
        lines = ["| column | also read as | unit | required |", "|---|---|---|---|"]
        return "\n".join(lines + [f"| `{n}` | {a} | {u} | {r} |" for n, a, u, r in rows])
    return "\n".join(f"  {n:<15} {u}; required: {r}; aliases: {a}" for n, a, u, r in rows)


def canonical_name(header: object) -> str | None:
    """The snake_case column a header means, or None for a column krg_liquidity does not use."""
    return _ALIASES.get(header_key(header))


def has_symbol_column(table: pd.DataFrame) -> bool:
    """True when a column (or the index name) is a symbol column."""
    names = list(table.columns) + [table.index.name]
    return any(n is not None and canonical_name(n) == "symbol" for n in names)


def normalize_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with known columns renamed to snake_case (unknown columns kept).

    ``table``: a DataFrame (a LiquidationResult or a table file: read it first with ``orders.as_table``).

    A table without a symbol column gets symbols "0", "1", ... (cost analytics only:
    a book to liquidate must name its symbols, see ``portfolio``).

    >>> list(normalize_columns(pd.DataFrame(columns=["Symbol", "TradeTime", "LB_Wt"])).columns)
    ['symbol', 'trade_time', 'lb_wt']
    >>> list(normalize_columns(pd.DataFrame(columns=["Ticker", "Qty", "Last Price", "Avg Daily Volume"])).columns)
    ['symbol', 'shares', 'price', 'adv']
    """
    if not isinstance(table, pd.DataFrame):
        raise InvalidValueError("table", ["(all)"], f"is a {type(table).__name__}, not a DataFrame",
                                "read it first with krg_liquidity.book.orders.as_table")
    renames: dict[object, str] = {}
    for column in table.columns:
        target = canonical_name(column)
        if target is None:
            continue
        if target in ("adv", "shares") and any(mark in str(column).lower() for mark in ("$", "usd", "dollar")):
            raise InvalidValueError(target, ["every row"], f"has the header '{column}', which says dollars, but {target} is "
                                                "counted in shares",
                                    f"give {target} in shares (divide dollars by the price) and rename the column "
                                    f"'{target}'")
        if target in renames.values():
            first = next(c for c, t in renames.items() if t == target)
            raise InconsistentInputError(
                f"columns '{first}' and '{column}' both mean '{target}'; keep one of them"
            )
        renames[column] = target
    out = table.rename(columns=renames)
    if "symbol" not in out:
        if out.index.name is not None and canonical_name(out.index.name) == "symbol":
            out = out.reset_index().rename(columns={out.index.name: "symbol"})
        else:
            out = out.assign(symbol=[str(i) for i in range(len(out))])
    out["symbol"] = out["symbol"].astype(str)
    return out


def require(table: pd.DataFrame, *columns: str, context: str = "") -> None:
    for column in columns:
        if column not in table:
            fix = f"{context} needs '{column}'" if context else f"add a '{column}' column"
            raise MissingColumnError(column, table.columns, fix)


def non_numeric(table: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(values as floats, mask of cells given but unreadable as numbers): "24%", "1,000" are read."""
    raw = table[column]
    values = parse_numbers(raw).to_numpy(dtype=float)
    if pd.api.types.is_numeric_dtype(raw):
        return values, np.zeros(len(values), dtype=bool)
    return values, ~blank_cells(raw).to_numpy() & np.isnan(values)


def numeric(table: pd.DataFrame, column: str, *, positive: bool = False,
            nonnegative: bool = False, allow_nan: bool = False, fix: str = "") -> np.ndarray:
    """Column as float array, checked: finite (NaN only if allowed), and the sign asked for."""
    values, text = non_numeric(table, column)
    symbols = table["symbol"].to_numpy()
    if text.any():
        found = ", ".join(repr(str(v)) for v in pd.unique(table[column][text])[:3])
        raise InvalidValueError(column, symbols[text], f"is not a number ({found})",
                                fix or f"give '{column}' as a number")
    bad = ~np.isfinite(values) if not allow_nan else np.isinf(values)
    if bad.any():
        raise InvalidValueError(column, symbols[bad], "is missing or infinite",
                                fix or f"give every row a finite '{column}'")
    if positive and (values <= 0).any():
        raise InvalidValueError(column, symbols[values <= 0], "must be > 0",
                                fix or f"'{column}' must be positive; drop or correct those rows")
    if nonnegative and (values < 0).any():
        raise InvalidValueError(column, symbols[values < 0], "must be >= 0",
                                fix or f"'{column}' cannot be negative")
    return values


def unique_symbols(table: pd.DataFrame, what: str = "table") -> None:
    dup = table["symbol"][table["symbol"].duplicated()].unique()
    if len(dup):
        raise InconsistentInputError(
            f"{what} lists symbols more than once: {', '.join(map(str, dup[:8]))}; "
            "aggregate them into one row per symbol"
        )


def size_mismatch(shares: np.ndarray, adv: np.ndarray, size: Iterable[float]) -> np.ndarray:
    """Mask of rows whose given Size is not |shares|/ADV within ``SIZE_RTOL``."""
    return ~np.isclose(np.asarray(size, dtype=float), np.abs(shares) / adv, rtol=SIZE_RTOL, atol=0.0)


def check_size(table: pd.DataFrame, shares: np.ndarray, adv: np.ndarray,
               size: Iterable[float] | None) -> np.ndarray:
    """Size (fraction of ADV): the given Size if it agrees with |shares|/ADV, else refuse.

    Without a Size column it is |shares|/ADV. A given Size within ``SIZE_RTOL`` is kept
    as given (MATLAB's published test vectors round Size to two decimals).
    """
    computed = np.abs(shares) / adv
    if size is None:
        return computed
    size = np.asarray(size, dtype=float)
    off = size_mismatch(shares, adv, size)
    if off.any():
        symbols = table["symbol"].to_numpy()[off]
        raise InconsistentInputError(
            f"column 'size' disagrees with shares/adv for {', '.join(map(str, symbols[:8]))} "
            f"(e.g. size {size[off][0]:.6g} vs {computed[off][0]:.6g}); "
            "drop the 'size' column to have it recomputed, or correct shares/adv"
        )
    return size


def use_traded_shares(frame: pd.DataFrame) -> pd.DataFrame:
    """The orders' signed shares: a ``shares_traded`` column (any spelling: "Shares Traded",
    "SharesTraded") wins over ``shares``, which in a trade table is the position before."""
    traded = [c for c in frame.columns if header_key(c) == "sharestraded"]
    if len(traded) > 1:
        raise InconsistentInputError(f"columns {', '.join(map(repr, traded))} all mean 'shares_traded'; keep one")
    if traded:
        frame = frame.assign(shares=frame[traded[0]])
    return frame
