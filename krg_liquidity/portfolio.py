"""The book to liquidate: holdings, per-name limits and the risk model, validated once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from . import columns as col
from .datasets import load_covariance
from .errors import InconsistentInputError, InputError, InvalidValueError
from .risk import FactorModel, RiskOperator, risk_operator

BOUND_COLUMNS = ("lb_wt", "ub_wt", "lb_min_shares", "ub_max_shares", "lb_min_value", "ub_max_value",
                 "ub_max_pct_adv", "ub_max_mi_bps")


@dataclass(frozen=True, eq=False)
class Portfolio:
    """Holdings (one row per symbol) with an optional risk model.

    Holdings columns (MATLAB TradeDataPortOpt names or snake_case): symbol, shares (signed:
    negative = short), price (USD), adv (shares/day), volatility (annualized; taken from the
    risk model when absent), and per name a trade time in days (``trade_time``) or a fixed
    ``pov``. Optional bounds (NaN = none): lb_wt/ub_wt (final weight), lb_min_shares/
    ub_max_shares (final shares), lb_min_value/ub_max_value (final value, USD), ub_max_pct_adv
    (traded shares / ADV), ub_max_mi_bps (impact cap, bps; MATLAB's ``UB_MaxMI`` in decimal
    is converted). The risk model may cover more symbols than are held; it must cover every
    held one.

    >>> from krg_liquidity import load_example
    >>> holdings, covariance = load_example()
    >>> round(Portfolio(holdings, covariance).net_value_usd / 1e9, 3)
    10.0
    """

    holdings: pd.DataFrame
    covariance: pd.DataFrame | None = None
    factor_model: FactorModel | None = None

    def __post_init__(self) -> None:
        if self.covariance is not None and self.factor_model is not None:
            raise InputError("give a covariance matrix or a factor model, not both")
        frame = _normalize_holdings(self.holdings)
        if self.covariance is not None:
            cov = pd.DataFrame(self.covariance)
            cov.index, cov.columns = cov.index.astype(str), cov.columns.astype(str)
            _check_covariance(cov)
            object.__setattr__(self, "covariance", cov)
            model_symbols = set(cov.index)
            model_vol = pd.Series(np.sqrt(np.clip(np.diag(cov.to_numpy(dtype=float)), 0, None)), index=cov.index)
        elif self.factor_model is not None:
            model_symbols = set(self.factor_model.symbols)
            model_vol = self.factor_model.volatility()
        else:
            model_symbols, model_vol = None, None
        if model_symbols is not None:
            missing = [s for s in frame["symbol"] if s not in model_symbols]
            if missing:
                raise InconsistentInputError(
                    f"the risk model has no row for {', '.join(missing[:8])}"
                    f"{' and more' if len(missing) > 8 else ''}; add them to the covariance or drop them from the holdings")
            if "volatility" not in frame:
                frame["volatility"] = model_vol.loc[frame["symbol"]].to_numpy()
        _check_holdings(frame)
        object.__setattr__(self, "holdings", frame)

    @classmethod
    def from_csv(cls, holdings: str | Path, covariance: str | Path | None = None) -> Portfolio:
        """Read holdings (CSV or Parquet) and a square covariance CSV (first column the symbol)."""
        holdings = Path(holdings)
        table = pd.read_parquet(holdings) if holdings.suffix.lower() == ".parquet" else pd.read_csv(holdings)
        return cls(table, load_covariance(covariance) if covariance is not None else None)

    @property
    def symbols(self) -> list[str]:
        return self.holdings["symbol"].tolist()

    @property
    def has_risk_model(self) -> bool:
        return self.covariance is not None or self.factor_model is not None

    def array(self, column: str) -> np.ndarray:
        """A holdings column as floats (a copy; read once per Portfolio: treat holdings as immutable)."""
        cached = self._arrays.get(column)
        if cached is None:
            cached = self._arrays[column] = self.holdings[column].to_numpy(dtype=float)
        return cached.copy()

    @cached_property
    def _arrays(self) -> dict[str, np.ndarray]:
        return {}

    @property
    def position_usd(self) -> np.ndarray:
        """Signed position values (USD)."""
        return self.array("shares") * self.array("price")

    @cached_property
    def net_value_usd(self) -> float:
        return float(self.position_usd.sum())

    @property
    def gross_value_usd(self) -> float:
        return float(np.abs(self.position_usd).sum())

    def risk(self) -> RiskOperator:
        """The risk operator over the held names (built once per Portfolio)."""
        if not self.has_risk_model:
            raise InputError("this portfolio has no risk model; pass covariance= or factor_model= to use a risk band")
        return self._risk_operator

    @cached_property
    def _risk_operator(self) -> RiskOperator:
        return risk_operator(self.covariance, self.factor_model, self.symbols)


def _normalize_holdings(holdings: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(holdings, pd.DataFrame):
        raise TypeError("holdings must be a pandas DataFrame")
    frame = col.normalize_columns(holdings).reset_index(drop=True)
    if "ub_max_mi" in frame:
        if "ub_max_mi_bps" in frame:
            raise InconsistentInputError("give 'ub_max_mi' (decimal, MATLAB) or 'ub_max_mi_bps', not both")
        frame["ub_max_mi_bps"] = pd.to_numeric(frame.pop("ub_max_mi"), errors="coerce") * 1e4
    return frame


def _check_holdings(frame: pd.DataFrame) -> None:
    if frame.empty:
        raise InputError("holdings are empty")
    col.require(frame, "shares", "price", "adv", "volatility", context="a liquidation")
    col.unique_symbols(frame, "holdings")
    col.numeric(frame, "shares", fix="give signed share counts (negative = short)")
    for name in ("price", "adv", "volatility"):
        col.numeric(frame, name, positive=True)
    if "value" in frame:
        value = col.numeric(frame, "value")
        implied = frame["shares"].to_numpy(float) * frame["price"].to_numpy(float)
        off = ~np.isclose(value, implied, rtol=1e-4, atol=0.01)
        if off.any():
            raise InconsistentInputError(
                f"column 'value' disagrees with shares*price for {', '.join(frame['symbol'][off][:8])}; "
                "drop 'value' or correct shares/price")
    has_pov = "pov" in frame and frame["pov"].notna().any()
    has_time = "trade_time" in frame and frame["trade_time"].notna().any()
    if not (has_pov or has_time):
        raise InvalidValueError("trade_time", frame["symbol"], "is missing",
                                "give each name a trade time in days ('trade_time') or a fixed 'pov'")
    pov = col.numeric(frame, "pov", allow_nan=True) if "pov" in frame else np.full(len(frame), np.nan)
    time = col.numeric(frame, "trade_time", allow_nan=True) if "trade_time" in frame else np.full(len(frame), np.nan)
    symbols = frame["symbol"].to_numpy()
    none = np.isnan(pov) & np.isnan(time)
    if none.any():
        raise InvalidValueError("trade_time", symbols[none], "is missing",
                                "give each name a trade time in days ('trade_time') or a fixed 'pov'")
    bad = ~np.isnan(pov) & ((pov <= 0) | (pov > 1))
    if bad.any():
        raise InvalidValueError("pov", symbols[bad], "must be in (0, 1]", "give POV as a decimal, e.g. 0.1")
    bad = np.isnan(pov) & (time <= 0)
    if bad.any():
        raise InvalidValueError("trade_time", symbols[bad], "must be > 0 days", "give a horizon in days, e.g. 1.0")
    for name in BOUND_COLUMNS:
        if name in frame:
            values = col.numeric(frame, name, allow_nan=True)
            if name in ("ub_max_pct_adv", "ub_max_mi_bps") and (values <= 0).any():
                raise InvalidValueError(name, symbols[values <= 0], "must be > 0 (or empty for no cap)",
                                        "remove the cap or give a positive value")
    for low, high in (("lb_wt", "ub_wt"), ("lb_min_shares", "ub_max_shares"), ("lb_min_value", "ub_max_value")):
        if low in frame and high in frame:
            lo, hi = frame[low].to_numpy(float), frame[high].to_numpy(float)
            crossed = lo > hi
            if crossed.any():
                raise InvalidValueError(low, symbols[crossed], f"is above '{high}'", f"make {low} <= {high}")


def _check_covariance(cov: pd.DataFrame) -> None:
    if cov.shape[0] != cov.shape[1] or list(cov.index) != list(cov.columns):
        raise InputError("covariance must be square with the same symbols, in the same order, "
                         "as its first column and its header")
    values = cov.to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        rows = cov.index[~np.isfinite(values).all(axis=1)]
        raise InputError(f"covariance has missing or infinite entries in rows {', '.join(rows[:8])}")
    if not np.allclose(values, values.T, rtol=1e-6, atol=1e-12):
        raise InputError("covariance is not symmetric")
