"""Fast path: the liquidation without coupling limits, by a search on the cash multiplier.

Without a risk band every limit is a per-name interval on u (fraction of ADV) and the
problem is  min sum_i cost_i(|u_i|)  s.t.  sum_i DV_i u_i = L,  lo <= u <= hi.  At the
optimum each name trades until its marginal cost (bps) equals one multiplier lambda,
clipped to its interval; cash raised rises monotonically with lambda, so a safeguarded
Newton search on log(cash raised) against log|lambda| (nearly linear: impact is close to a
power law; the derivative is the sum of the free names' inverse curvatures) solves the whole
problem with O(n) work per step, usually in 4 to 6 steps.
The multiplier is the marginal cost of the last dollar raised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from krg_liquidity.model.trade_costs import TradeCosts
from krg_liquidity.solve.bounds import TradeBounds

MAX_STEPS = 200
MAX_LOG_STEP = 8.0
"""Largest move of log|multiplier| before the root is bracketed (names at their bounds can make
the Newton slope tiny: an unbounded step would jump hundreds of orders of magnitude)."""


@dataclass(frozen=True)
class SeparableSolution:
    u: np.ndarray
    marginal_cost_bps: float
    evaluations: int


def reachable(costs: TradeCosts, bounds: TradeBounds) -> tuple[float, float]:
    """The least and most cash (USD) the per-name intervals allow."""
    dv = costs.dollar_adv
    return float(np.sum(dv * bounds.lo)), float(np.sum(dv * bounds.hi))


def in_reach(costs: TradeCosts, bounds: TradeBounds, cash: float) -> bool:
    low, high = reachable(costs, bounds)
    return not bounds.conflicting.any() and low <= cash * (1 + 1e-12) and cash <= high * (1 + 1e-12)


def trades_at(costs: TradeCosts, bounds: TradeBounds, marginal_bps: float) -> np.ndarray:
    """Each name's trade at a common marginal cost (negative: buying), clipped to its interval."""
    z = costs.z_at_marginal(abs(marginal_bps))
    return np.clip(np.sign(marginal_bps) * z, bounds.lo, bounds.hi)


def solve_separable(costs: TradeCosts, bounds: TradeBounds, cash: float, rtol: float = 1e-12,
                    start: float | None = None) -> SeparableSolution | None:
    """Least-cost trades raising exactly ``cash`` dollars within the per-name intervals.

    ``start``: a multiplier to start from (bps), e.g. the previous point of a frontier.
    Returns None when the intervals cannot produce the cash (see ``reachable``).
    """
    if not in_reach(costs, bounds, cash):
        return None
    dv = costs.dollar_adv
    count = 0

    def evaluate(multiplier):
        nonlocal count
        count += 1
        u = trades_at(costs, bounds, multiplier)
        free = (u > bounds.lo) & (u < bounds.hi) & (u != 0)
        with np.errstate(divide="ignore"):
            inverse = np.where(free, dv / costs.marginal_slope(u), 0.0)
        slope = float(np.sum(inverse[np.isfinite(inverse)])) / cash
        return float(np.sum(dv * u)) / cash - 1.0, u, slope

    gap0, u0, _ = evaluate(0.0)
    if abs(gap0) <= rtol:
        return SeparableSolution(u0, 0.0, count)
    sign = 1.0 if gap0 < 0 else -1.0  # sell more (lambda > 0) or buy (lambda < 0)
    # h(s) = sign * gap(sign * e^s) rises with s from sign * gap0 < 0; find its root in s.
    low, high = -np.inf, np.inf
    s = np.log(abs(start)) if start else 0.0
    u, multiplier = u0, 0.0
    for _ in range(MAX_STEPS):
        multiplier = sign * np.exp(s)
        gap, u, slope = evaluate(multiplier)
        h = sign * gap
        if abs(gap) <= rtol:
            break
        if h < 0:
            low = s
        else:
            high = s
        if np.isfinite(low) and np.isfinite(high) and high - low <= 1e-15 * max(1.0, abs(s)):
            break
        raised = gap + 1.0
        if sign > 0 and raised > 0:  # Newton on log(raised / L): nearly linear in s (a power law)
            derivative = slope * np.exp(s) / raised
            nxt = s - np.log(raised) / derivative if derivative > 0 else np.nan
        else:
            derivative = slope * np.exp(s)
            nxt = s - h / derivative if derivative > 0 else np.nan
        if np.isfinite(nxt) and not (np.isfinite(low) and np.isfinite(high)):
            nxt = float(np.clip(nxt, s - MAX_LOG_STEP, s + MAX_LOG_STEP))  # no bracket yet: a bounded step
        if not (np.isfinite(nxt) and low < nxt < high):
            if np.isfinite(low) and np.isfinite(high):
                nxt = 0.5 * (low + high)
            else:
                nxt = s + (4.0 if h < 0 else -4.0)
            if nxt > 80.0:  # only the interval ends can reach the target
                end = bounds.hi if sign > 0 else bounds.lo
                return SeparableSolution(end.copy(), float(sign * np.max(costs.marginal_bps(end))), count)
        s = nxt
    return SeparableSolution(u, float(multiplier), count)
