"""Fast path with tax lots: the sale without coupling limits, by a search on the cash multiplier.

With tax lots (linear model) and no risk band, cost cap or shape limit, every limit is a per-name interval
on u (fraction of ADV sold) and the problem is  min sum_i impact_i(u_i) + linear_i u_i + tax_i(u_i)  s.t.
sum_i DV_i u_i = L,  lo <= u <= hi,  where tax_i is convex piecewise-linear: the name's lots taken in
increasing tax per dollar of proceeds, each a segment of u with its own slope (bps). At the optimum each
name sells until its marginal cost, impact'(u) + linear + the slope of the lot it is in, reaches one
multiplier lambda (at a lot's edge the marginal jumps, and the name waits there over a range of lambda).
The cash raised is continuous and non-decreasing in lambda (a loss lot makes the marginal negative, so
lambda may be too), and Brent's method on it finds the exact answer in O(n x lots) work per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from krg_liquidity.model.trade_costs import TradeCosts
from krg_liquidity.solve.bounds import TradeBounds
from krg_liquidity.solve.separable import in_reach


@dataclass(frozen=True)
class LotSteps:
    """Each name's lots as segments of its sale, padded to a common count: ``edges[i, k]`` the sale (fraction
    of ADV) at the end of lot k, ``levels[i, k]`` its weighted tax per dollar of proceeds (bps)."""

    edges: np.ndarray
    levels: np.ndarray


def lot_steps(costs: TradeCosts, names: np.ndarray, value_usd: np.ndarray, per_dollar: np.ndarray) -> LotSteps:
    """The segments of each name's sale: its lots (``names``: each lot's name index, ``value_usd``: its value,
    ``per_dollar``: its weighted tax per dollar of proceeds) in increasing tax per dollar, as
    ``model.tax.greedy_sale`` takes them (ties in the lots' order)."""
    n = len(costs.dollar_adv)
    order = np.lexsort((np.arange(len(names)), per_dollar, names))
    counts = np.bincount(names, minlength=n)
    width = max(int(counts.max(initial=0)), 1)
    row = names[order]
    slot = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)  # each lot's place in its name
    edges = np.zeros((n, width))
    levels = np.full((n, width), np.inf)  # a missing lot: nothing to sell there
    edges[row, slot] = value_usd[order] / costs.dollar_adv[row]
    levels[row, slot] = 1e4 * per_dollar[order]
    return LotSteps(np.cumsum(edges, axis=1), levels)


def tax_slope(steps: LotSteps, u: np.ndarray) -> np.ndarray:
    """Each name's tax on the next dollar sold at sale ``u`` (bps of proceeds): the level of the lot it sells next
    (0 past its last lot, where nothing is left to sell).

    >>> steps = LotSteps(np.array([[1.0, 3.0]]), np.array([[-50.0, 300.0]]))
    >>> tax_slope(steps, np.array([0.5])).tolist(), tax_slope(steps, np.array([1.0])).tolist()
    ([-50.0], [300.0])
    """
    width = steps.edges.shape[1]
    scale = np.maximum(1.0, np.abs(steps.edges[:, -1:]))
    index = np.sum(steps.edges <= u[:, None] + 1e-12 * scale, axis=1)  # lots already sold in full
    inside = index < width
    level = steps.levels[np.arange(len(u)), np.minimum(index, width - 1)]
    return np.where(inside & np.isfinite(level), level, 0.0)


def sale_at(costs: TradeCosts, steps: LotSteps, bounds: TradeBounds, multiplier: float) -> np.ndarray:
    """Each name's sale (fraction of ADV) at a common marginal cost ``multiplier`` (bps), in its interval."""
    impact = costs.impact_only()
    start = np.zeros(len(bounds.lo))
    out = np.zeros(len(bounds.lo))
    settled = np.zeros(len(bounds.lo), dtype=bool)
    for k in range(steps.edges.shape[1]):
        end = steps.edges[:, k]
        target = multiplier - costs.linear_bps - steps.levels[:, k]
        inside = np.where(np.isfinite(target), impact.z_at_marginal(np.where(np.isfinite(target), target, 0.0)), 0.0)
        here = np.clip(inside, start, end)
        stops = ~settled & (here < end)  # the marginal reaches the multiplier inside this lot
        out[stops] = here[stops]
        settled |= stops
        out[~settled] = end[~settled]
        start = end
    return np.clip(out, bounds.lo, bounds.hi)


def solve_lot_sale(costs: TradeCosts, bounds: TradeBounds, steps: LotSteps, cash: float,
                   rtol: float = 1e-12) -> tuple[np.ndarray, float, int] | None:
    """The least-cost sale raising ``cash`` (USD) within the intervals: (u, the multiplier in bps, the number
    of evaluations); None when the intervals cannot raise it, or a buy is asked for (lots are sales only)."""
    if not in_reach(costs, bounds, cash) or (bounds.lo < 0).any():
        return None
    dv = costs.dollar_adv
    count = 0

    def shortfall(multiplier: float) -> float:
        nonlocal count
        count += 1
        return float(dv @ sale_at(costs, steps, bounds, multiplier)) / cash - 1.0

    finite = steps.levels[np.isfinite(steps.levels)]
    low = float(np.min(finite, initial=0.0)) - float(np.max(costs.linear_bps, initial=0.0)) - 1.0
    high = max(1.0, float(np.max(costs.marginal_bps(bounds.hi) + np.max(np.abs(finite), initial=0.0))) + 1.0)
    if shortfall(low) >= 0:  # everything at its floor already raises the cash
        return sale_at(costs, steps, bounds, low), low, count
    while shortfall(high) < 0:  # the top of the intervals is reached only at a larger multiplier
        high *= 4.0
        if high > 1e12:
            return None
    root = brentq(shortfall, low, high, xtol=1e-14 * max(1.0, abs(high)), rtol=4 * np.finfo(float).eps, maxiter=400)
    u = sale_at(costs, steps, bounds, root)
    if abs(float(dv @ u) / cash - 1.0) > rtol * 1e3:
        return None
    return u, float(root), count
