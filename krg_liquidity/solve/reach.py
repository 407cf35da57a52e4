"""What risk a trade list can leave: proven bounds over the per-name intervals and the cash row.

The set is {sum v = 1, lo <= v <= hi} (value sold per name in units of the cash target S,
``DualSolver``); held positions x = p0 - v, squared risk q(v) = x'Cx = |A x|^2 + sum d x^2.

- Upper bound (the risk floor's proof): q is a sum of convex functions of the factor exposures
  a_k'x and of each position x_i, each bounded on the set (its range is a knapsack LP). A convex
  function lies below its secant over an interval, so q(v) <= c0 - beta'v on the set, and the
  largest value of that affine bound is another knapsack LP.
- Lower bound (the risk ceiling's proof): q is convex, so at any point v of the set
  q(v) + min over the set of grad q(v)'(s - v) bounds min q from below (the Frank-Wolfe gap, a
  knapsack LP); Frank-Wolfe steps with an exact line search raise that bound until it passes the
  ceiling (a proof) or a point under the ceiling is found.
"""

from __future__ import annotations

import numpy as np

from krg_liquidity.core.plan import Budget
from krg_liquidity.solve.dual import DualSolver

LOWER_BOUND_STEPS = 400


def knapsack_min(c: np.ndarray, lo: np.ndarray, hi: np.ndarray, total: float = 1.0) -> np.ndarray | None:
    """argmin c'v s.t. sum v = total, lo <= v <= hi (finite ends), by filling the cheapest first.

    ``c`` may be a matrix: one problem per row (the answer has one row per row of ``c``).
    """
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return None
    c = np.asarray(c, dtype=float)
    rows = np.atleast_2d(c)
    order = np.argsort(rows, axis=1, kind="stable")
    width = (hi - lo)[order]
    before = np.cumsum(width, axis=1) - width
    v = np.broadcast_to(lo, rows.shape).copy()
    np.put_along_axis(v, order, np.take_along_axis(v, order, axis=1)
                      + np.clip(total - lo.sum() - before, 0.0, width), axis=1)
    return v[0] if c.ndim == 1 else v


def _knapsack_range(c: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) of c'v over {sum v = 1, lo <= v <= hi} (finite ends) for each row of ``c``: the values of
    ``knapsack_min`` for c and for -c, from one sort of each row (the max fills the dearest first)."""
    order = np.argsort(c, axis=1, kind="stable")
    ranked = np.take_along_axis(c, order, axis=1)
    width = (hi - lo)[order]
    room = 1.0 - lo.sum()
    base = c @ lo
    ends = []
    for values, widths in ((ranked, width), (ranked[:, ::-1], width[:, ::-1])):
        before = np.cumsum(widths, axis=1) - widths
        ends.append(base + np.einsum("ij,ij->i", values, np.clip(room - before, 0.0, widths)))
    return ends[0], ends[1]


ROWS_AT_ONCE = 64
"""Rows of A whose exposure ranges are found together (a full covariance's Cholesky factor has n)."""


def risk_upper_bound(solver: DualSolver, budget: Budget | None = None) -> float:
    """An upper bound on sigma(p0 - v) over {sum v = 1, lo <= v <= hi} (inf if the box is unbounded,
    or if ``budget`` runs out: each block of ROWS_AT_ONCE rows costs O(n log n) per row)."""
    lo, hi, p0 = solver.lo, solver.hi, solver.p0
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return np.inf
    A = solver.A
    exposure = A @ p0
    exposure_low, exposure_high = exposure.copy(), exposure.copy()
    for start in range(0, A.shape[0], ROWS_AT_ONCE):
        if budget is not None and budget.expired():
            return np.inf
        rows = slice(start, start + ROWS_AT_ONCE)
        block = A[rows]
        least, most = _knapsack_range(block, lo, hi)
        exposure_low[rows] -= most
        exposure_high[rows] -= least
    held_low, held_high = p0 - hi, p0 - lo
    # e^2 <= (l + u) e - l u on [l, u]; so q <= c0 - beta'v with:
    c0 = float(np.sum((exposure_low + exposure_high) * exposure - exposure_low * exposure_high)
               + np.sum(solver.d * ((held_low + held_high) * p0 - held_low * held_high)))
    beta = A.T @ (exposure_low + exposure_high) + solver.d * (held_low + held_high)
    worst = knapsack_min(beta, lo, hi)
    if worst is None:  # no trade fills the box's cash row: nothing to bound
        return np.inf
    return float(np.sqrt(max(0.0, c0 - beta @ worst)))


def risk_lower_bound(solver: DualSolver, start: np.ndarray, ceiling2: float, budget: Budget) -> float:
    """A lower bound on q over the set (units of S^2), pushed until it passes ``ceiling2`` or a point
    of the set meets it (then the bound returned is at most ``ceiling2``); 0 if the box is unbounded."""
    lo, hi = solver.lo, solver.hi
    v = knapsack_min(np.zeros_like(start), lo, hi)
    if v is None:
        return 0.0
    v = np.clip(start, lo, hi) if abs(np.clip(start, lo, hi).sum() - 1.0) < 1e-12 else v
    best = 0.0
    for _ in range(LOWER_BOUND_STEPS):
        held = solver.p0 - v
        c_held = solver.A.T @ (solver.A @ held) + solver.d * held
        q = float(held @ c_held)
        if q <= ceiling2 or budget.expired():
            break
        gradient = -2.0 * c_held
        vertex = knapsack_min(gradient, lo, hi)
        best = max(best, q + float(gradient @ (vertex - v)))
        if best > ceiling2:
            break
        step = vertex - v
        a_step = solver.A @ step
        curvature = float(a_step @ a_step + np.sum(solver.d * step**2))
        if curvature <= 0:
            break
        v = v + min(1.0, max(0.0, float(step @ c_held) / curvature)) * step
    return best
