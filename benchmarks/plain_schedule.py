"""A plain cvxpy + Clarabel formulation of the basket schedule, for side-by-side benchmarks.

What a user would write directly from the maths: the fraction of each order traded per period as
the variable, the I-Star schedule impact as one power cone per cell, the basket's timing risk
(residuals linear within each period) as the norm of the risk model's rows times the residual
dollar positions, the objective in bps of the basket (in raw dollars Clarabel failed outright on
the 100-name basket), Clarabel with its default settings, one problem compiled per call; no
auxiliary exposure variables. Returns the fractions traded (names x periods) and the status
("solver_error" when Clarabel fails).
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from krg_liquidity.schedule.data import ProgramData


def plain_schedule(data: ProgramData, risk_aversion: float) -> tuple[np.ndarray, str]:
    n, periods = data.volume_ratio.shape
    quantity = np.ones(n)  # fractions of each order: the volumes are in units of the order
    volume = data.volume_ratio * quantity[:, None]
    shares = cp.Variable((n, periods), nonneg=True)
    impact = cp.Variable((n, periods), nonneg=True)  # x^(1+a4) / (x + v)^a4, shares
    constraints = [cp.sum(shares, axis=1) == quantity,
                   cp.PowCone3D(cp.vec(impact, order="F"), cp.vec(shares + volume, order="F"),
                                cp.vec(shares, order="F"), 1.0 / (1.0 + data.a4))]
    if data.cap is not None and np.isfinite(data.cap).any():
        finite = np.isfinite(data.cap)
        constraints.append(shares[finite] <= (data.cap * quantity[:, None])[finite])
    per_share = data.value_usd / quantity  # USD per share
    impact_usd = cp.sum(cp.multiply((data.value_usd * data.istar_bps * data.b1 / 1e4 / quantity)[:, None], impact))
    left = quantity[:, None] - cp.cumsum(shares, axis=1)  # after each period
    positions = cp.multiply((data.side * per_share)[:, None], cp.hstack([quantity[:, None], left]))
    dt = np.asarray(data.dt_days, dtype=float) / data.trading_days
    mid = (positions[:, :-1] + positions[:, 1:]) / 2 @ np.diag(np.sqrt(dt))
    diff = (positions[:, :-1] - positions[:, 1:]) @ np.diag(np.sqrt(dt / 12))
    parts = [data.risk.top @ mid, data.risk.top @ diff]
    if data.risk.diag is not None:
        parts += [cp.multiply(data.risk.diag[:, None], mid), cp.multiply(data.risk.diag[:, None], diff)]
    risk = cp.norm(cp.hstack([cp.vec(p, order="F") for p in parts]), 2)
    bps = 1e4 / float(data.value_usd.sum())
    problem = cp.Problem(cp.Minimize(bps * (impact_usd + risk_aversion * risk)), constraints)
    try:
        problem.solve(solver="CLARABEL")
    except cp.error.SolverError:
        return np.empty(0), "solver_error"
    if shares.value is None:
        return np.empty(0), problem.status
    return np.clip(shares.value, 0.0, None) / quantity[:, None], problem.status
