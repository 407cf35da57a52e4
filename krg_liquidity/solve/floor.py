"""The risk floor, a reverse-convex limit: a proof when it cannot be met, else convex-concave steps.

Positions are in units of the cash target S (``DualSolver``): held x = p0 - v, risk
sigma(x) = sqrt(q(v)), floor level F = lo * sigma(today's weights) * (V - L) / S.

- Proof: ``reach.risk_upper_bound``; below F no trade list reaches the floor.
- Reaching the floor: from the optimum without the floor (below it), steps to the
  vertex maximizing the linearized risk raise sigma (it is convex); the first point on the
  segment back toward the optimum where sigma = F is a feasible start. If that ascent stalls
  at a local maximum of the risk, it restarts from the vertices loading most on each risk
  direction.
- Convex-concave steps: sigma(x) >= g'x with g = C x_k / sigma(x_k) (a supporting plane of a
  convex, positively homogeneous function), so the cut g'(p0 - v) >= F is a restriction of
  the floor; each step solves the convex problem with the cut (``DualSolver``), every iterate
  meets the floor, and the cost falls until it settles (a local optimum).
If no feasible start is found the search reports that it is local: it proves nothing.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from krg_liquidity.core.plan import Budget
from krg_liquidity.solve.dual import DualPoint, DualSolver
from krg_liquidity.solve.reach import knapsack_min

MAX_STEPS = 60
SETTLED = 1e-10  # relative change of the cost at which the steps stop


def _ascend(solver: DualSolver, point: np.ndarray, floor: float, risk_times, budget: Budget) -> tuple[np.ndarray, float]:
    """Raise the risk from ``point`` by steps to the knapsack vertex maximizing its linearization
    (sigma is convex, so each step raises it) until it reaches ``floor`` or stalls; returns (point, sigma)."""
    sigma = np.sqrt(solver.risk2(point))
    for _ in range(MAX_STEPS):
        if sigma >= floor or budget.expired():
            break
        g = risk_times(solver.p0 - point) / max(sigma, 1e-300)
        vertex = knapsack_min(g, solver.lo, solver.hi)  # maximizes g'(p0 - v), a lower bound of sigma
        if vertex is None or g @ (solver.p0 - vertex) <= sigma * (1 + 1e-12):
            break  # a local maximum of the risk
        point, sigma = vertex, np.sqrt(solver.risk2(vertex))
    return point, sigma


def reach_floor(solver: DualSolver, v: np.ndarray, floor: float, risk_times, budget: Budget):
    """A point of the knapsack set with sigma >= floor, near ``v``: (point or None, highest sigma seen).

    The ascent starts from ``v`` and, if it stalls, from the vertices that load most on each
    risk direction (each row of A, both signs): a local search, so None proves nothing.
    """
    if knapsack_min(np.zeros_like(v), solver.lo, solver.hi) is None:
        return None, np.sqrt(solver.risk2(v))
    directions = solver.A[:32]
    starts = itertools.chain([v], (knapsack_min(sign * row, solver.lo, solver.hi)
                                   for row in directions for sign in (1, -1)))  # made only when needed
    best = -np.inf
    for start in starts:
        if start is None:  # a direction whose vertex does not exist (an empty box): nothing to climb from
            continue
        point, sigma = _ascend(solver, start, floor, risk_times, budget)
        best = max(best, sigma)
        if sigma >= floor:
            break
        if budget.expired():
            return None, best
    else:
        return None, best
    low, high = 0.0, 1.0  # back along the segment v -> point: the nearest point at the floor
    held, move = solver.p0 - v, point - v  # q(v + t move) = |A (held - t move)|^2 + sum d (held - t move)^2
    a_held, a_move = solver.A @ held, solver.A @ move
    for _ in range(60):
        middle = 0.5 * (low + high)
        q = float(np.sum((a_held - middle * a_move) ** 2) + np.sum(solver.d * (held - middle * move) ** 2))
        if np.sqrt(q) >= floor:
            high = middle
        else:
            low = middle
    return v + high * (point - v), best


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
