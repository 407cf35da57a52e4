"""Independent check of a liquidation: every limit recomputed from the returned trades.

Impact is recomputed with :class:`CostModel`'s I-Star formulas (not the optimizer's
cost functions, inverses or cones), weights and risk from the final shares, each limit by
its own ``violation`` (``limits.py``). Each violation is dimensionless: cash relative to the
smaller of the target and the value left, costs relative to their cap, weights in weight
units, share and value bounds as dollars / net book value, participation in fractions of
ADV, and the risk band's floor and ceiling as fractions of today's risk: (risk after - hi x
today's) / today's above the ceiling, (lo x today's - risk after) / today's below the floor
(not relative to the band's end, lo x or hi x today's risk).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.model.impact import CostModel
from krg_liquidity.solve.limits import Limits, Outcome, applying

ACCEPT_VIOLATION = 1e-6
"""Largest violation (dimensionless, see above) of an answer that is returned to the user."""
FLOAT_NOISE = 1e-12
"""Violations at or below this are the float64 rounding of the check's own sums (a thousandth of a
cent per $1B): the limit is met. Between this and ``ACCEPT_VIOLATION`` the answer is returned but
says by how much, within the tolerance, its closest limit is exceeded."""


def impact_table(portfolio: Portfolio, shares_traded: np.ndarray, cost_model: CostModel) -> pd.DataFrame:
    """Per-name pov, trade time (days), impact (bps) and cost (USD) of the trades, from CostModel's formulas."""
    h = portfolio.holdings
    n = len(h)
    pov = portfolio.array("pov") if "pov" in h else np.full(n, np.nan)
    days = portfolio.array("trade_time") if "trade_time" in h else np.full(n, np.nan)
    fixed = ~np.isnan(pov)
    quantity = np.abs(shares_traded)
    size = quantity / portfolio.array("adv")
    vol, price = portfolio.array("volatility"), portfolio.array("price")
    # the POV each name trades at: its own, or size / (size + T) over its trade time (as impact_bps_at_trade_time)
    rate = np.where(fixed, pov, np.divide(size, size + np.where(fixed, 1.0, days), out=np.zeros(n), where=size > 0))
    mi = cost_model.impact_bps_at_pov(size, vol, rate, price)  # one evaluation for both kinds of names
    traded = quantity > 0
    trade_time = np.where(fixed, size * (1.0 - np.where(fixed, pov, 1.0)) / np.where(fixed, pov, 1.0), days)
    return pd.DataFrame({
        "pov": np.where(traded, rate, 0.0),
        "trade_time_days": np.where(traded, trade_time, 0.0),
        "mi_bps": np.where(traded, mi, 0.0),
        "cost_usd": np.where(traded, cost_model.bps_to_usd(mi, quantity, price), 0.0),
    }, index=h.index)


def violations(portfolio: Portfolio, shares_after: np.ndarray, cash: float, *, allow_buys: bool,
               risk_band: tuple[float, float] | None, max_total_mi_bps: float | None,
               cost_model: CostModel, impacts: pd.DataFrame | None = None,
               traded: np.ndarray | None = None, limits: Limits | None = None,
               max_total_cost_bps: float | None = None, linear_bps: np.ndarray | None = None) -> dict[str, float]:
    """Largest violation of each limit that applies (0 when it holds), keyed by limit.

    ``traded``: the signed shares traded, when known exactly (shares_after - shares loses a
    tiny trade to rounding). ``limits``: the request's group, tracking-error and liquidity limits
    (the band, caps and buys are the keywords'), recomputed too. ``linear_bps``: each name's linear
    trading costs (half-spread, commission, fees; bps of the value traded) for the all-in cap
    ``max_total_cost_bps``.
    """
    shares_after = np.asarray(shares_after, dtype=float)
    if traded is None:
        traded = shares_after - portfolio.array("shares")
    if impacts is None:
        impacts = impact_table(portfolio, traded, cost_model)
    traded = np.asarray(traded, dtype=float)
    linear_usd = None if linear_bps is None else linear_bps / 1e4 * np.abs(traded) * portfolio.array("price")
    outcome = Outcome(portfolio, shares_after, float(cash), impacts, traded, linear_usd)
    asked = Limits(risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys,
                   max_total_cost_bps=max_total_cost_bps)
    if limits is not None and limits.has_shape_limits:
        asked = replace(limits, risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys,
                        max_total_cost_bps=max_total_cost_bps)
    found = {limit.key: limit.violation(outcome) for limit in applying(portfolio, asked)}
    return {key: (value if np.isfinite(value) else np.inf) for key, value in found.items()}
