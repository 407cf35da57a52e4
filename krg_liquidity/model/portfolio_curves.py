"""Cost curves of a whole basket (MATLAB ``krg``'s ``portfolioCostCurves``), beside the per-stock
:meth:`~krg_liquidity.model.impact.CostModel.cost_curves`.

Every name of the basket is traded with the same strategy, a participation rate POV or a trade time in
days, and the curve gives, for each strategy value, the basket's market impact (dollars and bps of the
traded value) and its timing risk (one standard deviation, dollars and bps) with the names' correlations.

Timing risk of the basket: name ``i`` holds a dollar position ``v_i`` (signed: + buy, - sell) that it
trades down linearly over ``T_i`` days (``T_i = size_i (1 - POV) / POV`` at a POV, or the trade time). The
variance of the cost of what is still held is

    sum_ij v_i v_j C_ij / D * K_ij,   K_ij = m/2 - m^2 / (6 M),  m = min(T_i, T_j), M = max(T_i, T_j)

with ``C`` the annualized covariance and ``D`` the trading days a year; ``K_ii = T_i / 3`` gives each
name's own timing risk, ``sigma_i sqrt(T_i / (3 D))`` (Kissell, *The Science of Algorithmic Trading and
Portfolio Management*, 2013, ch. 8, portfolio timing risk).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from krg_liquidity.book import columns as col
from krg_liquidity.book.portfolio import covariance_frame
from krg_liquidity.book.units import check_covariance
from krg_liquidity.core.errors import BookError, InvalidValueError
from krg_liquidity.model.impact import DEFAULT_CURVE_POVS, CostModel


def _overlap(days: np.ndarray) -> np.ndarray:
    """K_ij = m/2 - m^2/(6M): the integral over time of the two names' remaining fractions (days)."""
    low = np.minimum.outer(days, days)
    high = np.maximum.outer(days, days)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(high > 0, low / 2.0 - low * low / (6.0 * high), 0.0)


def portfolio_cost_curves(trades: pd.DataFrame, covariance: pd.DataFrame | None = None, *, pov: ArrayLike | None = None,
                          trade_time: ArrayLike | None = None, cost_model: CostModel | None = None) -> pd.DataFrame:
    """Market impact and timing risk of a basket traded at each POV (or trade time) of a grid.

    Parameters
    ----------
    trades : DataFrame
        One row per name: ``symbol``, ``shares`` (signed: negative sells), ``price``, ``adv`` (shares a day),
        ``volatility`` (annualized, decimal). Aliases as for a book.
    covariance : DataFrame, optional
        Annualized covariance labelled by symbol (every traded name). Without it the names are taken as
        uncorrelated, each with its own volatility.
    pov : array-like, optional
        Participation rates (decimal, in (0, 1]); default 5% to 50%.
    trade_time : array-like, optional
        Trade times in days, instead of ``pov``.
    cost_model : CostModel, optional
        Default: the published Kissell 2013 set.

    Returns
    -------
    DataFrame
        One row per strategy value: ``pov`` or ``trade_time_days``, ``days_to_complete`` (the slowest name),
        ``value_usd`` (traded, absolute), ``cost_usd``, ``cost_bps``, ``timing_risk_usd``, ``timing_risk_bps``.

    Raises
    ------
    InputError
        No shares to trade, both ``pov`` and ``trade_time``, a value out of range, or a covariance
        without a traded name (``BookError`` for its problems).

    Examples
    --------
    >>> trades = pd.DataFrame({"symbol": ["A", "B"], "shares": [-50_000, 20_000], "price": [40.0, 25.0],
    ...                        "adv": [1e6, 4e5], "volatility": [0.25, 0.35]})
    >>> curve = portfolio_cost_curves(trades, pov=[0.1, 0.2])
    >>> curve[["pov", "cost_bps"]].round(2).values.tolist()
    [[0.1, 17.71], [0.2, 24.6]]
    """
    model = cost_model or CostModel()
    frame = col.normalize_columns(trades)
    col.require(frame, "shares", "price", "adv", "volatility", context="a basket cost curve")
    shares = col.numeric(frame, "shares")
    price = col.numeric(frame, "price", positive=True)
    adv = col.numeric(frame, "adv", positive=True)
    vol = col.numeric(frame, "volatility", positive=True)
    if not np.any(shares != 0):
        raise InvalidValueError("shares", ["(all)"], "is zero for every name", "give the basket's trades")
    if pov is not None and trade_time is not None:
        raise InvalidValueError("pov", ["(all)"], "and trade_time are both given", "give one strategy grid")
    by_pov = trade_time is None
    grid = np.asarray(DEFAULT_CURVE_POVS if (by_pov and pov is None) else (pov if by_pov else trade_time), float)
    if by_pov and np.any((grid <= 0) | (grid > 1)):
        raise InvalidValueError("pov", ["(all)"], "must be in (0, 1]", "give POV values as decimals, e.g. 0.1")
    if not by_pov and np.any(grid <= 0):
        raise InvalidValueError("trade_time", ["(all)"], "must be > 0 days", "give trade times in days, e.g. 0.5")
    traded = shares != 0
    symbols = frame["symbol"].to_numpy()[traded]
    value = (shares * price)[traded]
    size, vol, price, adv = np.abs(shares[traded]) / adv[traded], vol[traded], price[traded], adv[traded]
    if covariance is None:
        cov = np.diag(vol ** 2)
    else:
        cov_frame = covariance_frame(covariance)
        problems = check_covariance(cov_frame)
        missing = [s for s in symbols if s not in cov_frame.index]
        if missing:
            raise InvalidValueError("covariance", missing, "has no row", "give a covariance for every traded name")
        if problems:
            raise BookError(problems, what="the covariance")
        cov = cov_frame.loc[symbols, symbols].to_numpy(float)
    rows = []
    for strategy in grid:
        curve_pov = np.full(size.size, strategy) if by_pov else size / (size + strategy)
        days = size * (1.0 - curve_pov) / curve_pov
        impact = model.impact_bps_at_pov(size, vol, curve_pov, price)
        cost = float(np.sum(impact / 1e4 * np.abs(value)))
        variance = float(value @ (cov * _overlap(days)) @ value) / model.trading_days
        total = float(np.abs(value).sum())
        risk = float(np.sqrt(max(variance, 0.0)))
        rows.append({"pov" if by_pov else "trade_time_days": float(strategy), "days_to_complete": float(days.max()),
                     "value_usd": total, "cost_usd": cost, "cost_bps": cost / total * 1e4,
                     "timing_risk_usd": risk, "timing_risk_bps": risk / total * 1e4})
    return pd.DataFrame(rows)
