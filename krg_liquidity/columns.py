"""Column names: MATLAB ``TradeData`` names or snake_case, matched case-insensitively.

Every table is renamed to snake_case once, here; the rest of the package uses only
the snake_case names. Values are checked here too, so that no NaN or bad number
reaches a formula or a solver.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .errors import InconsistentInputError, InvalidValueError, MissingColumnError

CANONICAL = (
    "symbol", "shares", "size", "price", "value", "adv", "volatility", "pov", "trade_time",
    "trade_schedule", "volume_profile", "alpha_bp", "side",
    "lb_wt", "ub_wt", "lb_min_shares", "ub_max_shares", "lb_min_value", "ub_max_value",
    "ub_max_pct_adv", "ub_max_mi", "ub_max_mi_bps",
)
_ALIASES = {name.replace("_", ""): name for name in CANONICAL}
_ALIASES.update({"ticker": "symbol", "tradetimedays": "trade_time", "alphabps": "alpha_bp"})

SIZE_RTOL = 1e-3
"""Relative tolerance when a Size column is checked against Shares/ADV."""


def _key(name: object) -> str:
    return str(name).strip().lower().replace("_", "").replace(" ", "")


def normalize_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with known columns renamed to snake_case (unknown columns kept).

    >>> list(normalize_columns(pd.DataFrame(columns=["Symbol", "TradeTime", "LB_Wt"])).columns)
    ['symbol', 'trade_time', 'lb_wt']
    """
    renames: dict[object, str] = {}
    for column in table.columns:
        target = _ALIASES.get(_key(column))
        if target is None:
            continue
        if target in renames.values():
            first = next(c for c, t in renames.items() if t == target)
            raise InconsistentInputError(
                f"columns '{first}' and '{column}' both mean '{target}'; keep one of them"
            )
        renames[column] = target
    out = table.rename(columns=renames)
    if "symbol" not in out:
        if out.index.name is not None and _ALIASES.get(_key(out.index.name)) == "symbol":
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


def numeric(table: pd.DataFrame, column: str, *, positive: bool = False,
            nonnegative: bool = False, allow_nan: bool = False, fix: str = "") -> np.ndarray:
    """Column as float array, checked: finite (NaN only if allowed), and the sign asked for."""
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    symbols = table["symbol"].to_numpy()
    bad = ~np.isfinite(values) if not allow_nan else np.isinf(values)
    if bad.any():
        raise InvalidValueError(column, symbols[bad], "is missing, non-numeric or infinite",
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
    off = ~np.isclose(size, computed, rtol=SIZE_RTOL, atol=0.0)
    if off.any():
        symbols = table["symbol"].to_numpy()[off]
        raise InconsistentInputError(
            f"column 'size' disagrees with shares/adv for {', '.join(map(str, symbols[:8]))} "
            f"(e.g. size {size[off][0]:.6g} vs {computed[off][0]:.6g}); "
            "drop the 'size' column to have it recomputed, or correct shares/adv"
        )
    return size
