"""Fast path: the liquidation without coupling constraints, by a search on the cash multiplier.

Without a risk band every limit is a per-name interval on u (fraction of ADV) and the
problem is  min sum_i cost_i(|u_i|)  s.t.  sum_i DV_i u_i = L,  lo <= u <= hi.  At the
optimum each name trades until its marginal cost (bps) equals one multiplier lambda,
clipped to its interval; cash raised rises monotonically with lambda, so a bracketed
root search on lambda solves the whole problem with O(n) work per step. The multiplier
is the marginal cost of the last dollar raised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .bounds import TradeBounds
from .trade_costs import TradeCosts


@dataclass(frozen=True)
class SeparableSolution:
    u: np.ndarray
    marginal_cost_bps: float
    evaluations: int


class CashOutOfReach(Exception):
    """The per-name intervals cannot produce the cash target; ``reachable`` is the (lo, hi) range in USD."""

    def __init__(self, reachable: tuple[float, float]):
        self.reachable = reachable
        super().__init__(f"cash reachable within the per-name limits: {reachable}")


def trades_at(costs: TradeCosts, bounds: TradeBounds, marginal_bps: float) -> np.ndarray:
    """Each name's trade at a common marginal cost (negative: buying), clipped to its interval."""
    z = costs.z_at_marginal(abs(marginal_bps))
    return np.clip(np.sign(marginal_bps) * z, bounds.lo, bounds.hi)


def solve_separable(costs: TradeCosts, bounds: TradeBounds, cash: float, rtol: float = 1e-12) -> SeparableSolution:
    """Least-cost trades raising exactly ``cash`` dollars within the per-name intervals."""
    dv = costs.dollar_adv
    reach = (float(np.sum(dv * bounds.lo)), float(np.sum(dv * bounds.hi)))
    if bounds.conflicting.any() or not (reach[0] <= cash * (1 + 1e-12) and cash <= reach[1] * (1 + 1e-12)):
        raise CashOutOfReach(reach)
    count = 0

    def gap(marginal):
        nonlocal count
        count += 1
        return float(np.sum(dv * trades_at(costs, bounds, marginal))) / cash - 1.0

    g0 = gap(0.0)
    if g0 == 0.0:
        return SeparableSolution(trades_at(costs, bounds, 0.0), 0.0, count)
    direction = 1.0 if g0 < 0 else -1.0
    step = 1.0
    while direction * gap(direction * step) < 0:
        step *= 4.0
        if step > 1e15:  # only the interval ends can reach the target
            u = bounds.hi if direction > 0 else bounds.lo
            return SeparableSolution(u.copy(), float(direction * np.max(costs.marginal_bps(u))), count)
    low, high = sorted((direction * step / 4.0 if step > 1.0 else 0.0, direction * step))
    root = brentq(gap, low, high, xtol=1e-14, rtol=rtol, maxiter=200)
    return SeparableSolution(trades_at(costs, bounds, root), float(root), count)
