"""The risk floor, a reverse-convex limit: a proof when it cannot be met, else convex-concave steps.

Positions are in units of the cash target S (``DualSolver``): held x = p0 - v, risk
sigma(x) = sqrt(q(v)), floor level F = lo * sigma(today's weights) * (V - L) / S.

- Proof: q is a sum of convex functions of the factor exposures a_k'x and of each position
  x_i, each bounded on the feasible set {sum v = 1, lo <= v <= hi} (its range is a knapsack
  LP). A convex function lies below its secant over an interval, so q(v) <= c0 - beta'v on
  the set, and the largest value of that affine bound is another knapsack LP. If it is below
  F^2 no trade list reaches the floor: the request is proven impossible.
- Reaching the floor: from the optimum without the floor (below it), steps to the
  vertex maximizing the linearized risk raise sigma (it is convex); the first point on the
  segment back toward the optimum where sigma = F is a feasible start.
- Convex-concave steps: sigma(x) >= g'x with g = C x_k / sigma(x_k) (a supporting plane of a
  convex, positively homogeneous function), so the cut g'(p0 - v) >= F is a restriction of
  the floor; each step solves the convex problem with the cut (``DualSolver``), every iterate
  meets the floor, and the cost falls until it settles (a local optimum).
If no feasible start is found the search reports that it is local: it proves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dual import DualPoint, DualSolver
from .plan import Budget

MAX_STEPS = 60
SETTLED = 1e-10  # relative change of the cost at which the steps stop


def knapsack_min(c: np.ndarray, lo: np.ndarray, hi: np.ndarray, total: float = 1.0) -> np.ndarray | None:
    """argmin c'v s.t. sum v = total, lo <= v <= hi (finite ends), by filling the cheapest first."""
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return None
    v = lo.astype(float).copy()
    room = total - v.sum()
    order = np.argsort(c, kind="stable")
    width = (hi - lo)[order]
    before = np.cumsum(width) - width
    v[order] += np.clip(room - before, 0.0, width)
    return v


def risk_upper_bound(solver: DualSolver) -> float:
    """An upper bound on sigma(p0 - v) over {sum v = 1, lo <= v <= hi} (inf if the box is unbounded)."""
    lo, hi, p0 = solver.lo, solver.hi, solver.p0
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return np.inf
    A = solver.A
    exposure_low, exposure_high = np.empty(A.shape[0]), np.empty(A.shape[0])
    for k, row in enumerate(A):  # range of a_k'(p0 - v) over the knapsack set
        exposure_low[k] = row @ p0 - row @ knapsack_min(-row, lo, hi)
        exposure_high[k] = row @ p0 - row @ knapsack_min(row, lo, hi)
    held_low, held_high = p0 - hi, p0 - lo
    # e^2 <= (l + u) e - l u on [l, u]; so q <= c0 - beta'v with:
    c0 = float(np.sum((exposure_low + exposure_high) * (A @ p0) - exposure_low * exposure_high)
               + np.sum(solver.d * ((held_low + held_high) * p0 - held_low * held_high)))
    beta = A.T @ (exposure_low + exposure_high) + solver.d * (held_low + held_high)
    worst = knapsack_min(beta, lo, hi)
    return float(np.sqrt(max(0.0, c0 - beta @ worst)))


def reach_floor(solver: DualSolver, v: np.ndarray, floor: float, risk_times, budget: Budget) -> np.ndarray | None:
    """A point of the knapsack set with sigma >= floor, near ``v``; None if the local ascent stalls."""
    start, point = v, v
    for _ in range(MAX_STEPS):
        sigma = np.sqrt(solver.risk2(point))
        if sigma >= floor:
            break
        if budget.expired():
            return None
        g = risk_times(solver.p0 - point) / max(sigma, 1e-300)
        vertex = knapsack_min(g, solver.lo, solver.hi)  # maximizes g'(p0 - v), a lower bound of sigma
        if vertex is None or g @ (solver.p0 - vertex) <= sigma * (1 + 1e-12):
            return None  # a local maximum of the risk below the floor
        point = vertex
    else:
        return None
    low, high = 0.0, 1.0  # back along the segment start -> point: the nearest point at the floor
    for _ in range(60):
        middle = 0.5 * (low + high)
        if np.sqrt(solver.risk2(start + middle * (point - start))) >= floor:
            high = middle
        else:
            low = middle
    return start + high * (point - start)


@dataclass
class FloorSteps:
    """The outcome of the convex-concave steps: the last point and its multipliers."""

    point: DualPoint | None
    steps: int
    reason: str  # "" when settled


def convex_concave(solver: DualSolver, start: np.ndarray, floor: float, risk_times, start_multiplier: float,
                   budget: Budget, accept) -> FloorSteps:
    """Convex-concave steps from a point meeting the floor; ``accept(point) -> bool`` verifies each iterate."""
    v, best, previous = start, None, np.inf
    for step in range(1, MAX_STEPS + 1):
        sigma = np.sqrt(solver.risk2(v))
        g = risk_times(solver.p0 - v) / sigma
        cuts = (g[None, :], np.array([g @ solver.p0 - floor]))
        point = solver.solve(start_multiplier, cuts, budget)
        if point is None:
            return FloorSteps(best, step, "the dual solver did not converge on a convex-concave step")
        if not accept(point):
            return FloorSteps(best, step, "a convex-concave step failed the independent check")
        best, v = point, point.v
        cost = float(solver.costs.cost_usd(point.u).sum())
        if abs(previous - cost) <= SETTLED * max(cost, 1e-300):
            return FloorSteps(best, step, "")
        previous = cost
    return FloorSteps(best, MAX_STEPS, f"not settled after {MAX_STEPS} steps")
