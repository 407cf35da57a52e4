"""The data of one schedule problem, shared by the structured solver and the conic program.

Fractions y (names x periods) of each order traded per period; every cost in bps of S, the gross
value of all orders (USD). See :mod:`krg_liquidity.schedule.program` for the objective and the
proof that it is convex, and :mod:`krg_liquidity.schedule.barrier` for the structured solver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from krg_liquidity.book.risk import RiskOperator

KERNELS = ("linear", "step")
MEASURES = ("std", "variance")


@dataclass(frozen=True)
class ProgramData:
    """Arrays of one schedule problem (n names, N periods); money in USD, impact in bps.

    ``value_usd``: |order| x price; ``side``: +1 sell (the residual is a long exposure), -1 buy;
    ``istar_bps``; ``volume_ratio`` (n x N): other participants' volume / order size; ``pa_bps``
    (n x N): price appreciation per unit fraction traded in each period (bps of the name's value);
    ``dt_days`` (N): period lengths for the risk; ``risk``: annualized covariance operator;
    ``cap`` (n x N): most fraction of the order per period (inf: none); ``milestones``:
    (period index 1..N, least cumulative cash USD) pairs; ``quadratic`` (n x N): optional
    linear-impact cost coef * y^2 (USD) used instead of I-Star (the Almgren-Chriss special case).
    ``stated_cap`` and ``stated_milestones``: the limits as asked, when ``cap`` and ``milestones``
    are tightened by a rounding margin (the whole-share schedule meets only the stated ones, so the
    proven lower bound is taken over them); None: the same as the program's.
    ``confidence_z`` > 0: the milestones hold with that confidence under the Gaussian price model,
    E[cash by period k] - z sd(cash by period k) >= least (:func:`cash_risk_root`), E[cash] net of
    the expected impact and PA of the trades done by then; 0: plain (nominal cash) milestones.
    ``std_weight``: a further weight on the timing risk's standard deviation (USD per USD, e.g.
    a CVaR term), added to the objective whatever ``risk_measure``.
    """

    value_usd: np.ndarray
    side: np.ndarray
    istar_bps: np.ndarray
    volume_ratio: np.ndarray
    pa_bps: np.ndarray
    dt_days: np.ndarray
    risk: RiskOperator
    a4: float
    b1: float
    trading_days: int = 250
    cap: np.ndarray | None = None
    milestones: tuple = ()
    quadratic: np.ndarray | None = None
    stated_cap: np.ndarray | None = None
    stated_milestones: tuple | None = None
    confidence_z: float = 0.0
    std_weight: float = 0.0


def time_kernel_root(dt_days: np.ndarray, kernel: str) -> np.ndarray:
    """L (N x N) with R' L L' R = the time weighting of the residuals R_0..R_{N-1} (days).

    "linear": sum_j dt_j (R_{j-1}^2 + R_{j-1} R_j + R_j^2) / 3 with R_N = 0, a tridiagonal,
    positive definite form; "step": sum_{j<N} dt_j R_j^2 (R_0 carries no weight).
    """
    dt = np.asarray(dt_days, dtype=float)
    periods = dt.size
    if kernel == "step":
        return np.diag(np.sqrt(np.r_[0.0, dt[:-1]]))
    w = dt / 3.0  # period j (1..N) adds w_j (R_{j-1}^2 + R_{j-1} R_j + R_j^2)
    k = np.diag(np.r_[w[0], w[:-1] + w[1:]])
    off = np.arange(periods - 1)
    k[off, off + 1] = k[off + 1, off] = w[:-1] / 2.0
    return np.linalg.cholesky(k)


def cash_risk_root(dt_days: np.ndarray, period: int, kernel: str = "linear") -> np.ndarray:
    """L (k x k, k = ``period``) with sd(cash raised by the end of period k)^2 = sum over the rows of
    the risk operator of ||(r_0 .. r_{k-1}) L||^2 / trading_days, r_j = the dollar position still
    to trade between the end of period j and the end of period k (R_j - R_k in fractions).

    Trading evenly through each period, a period's trades meet the price at its start plus half
    the period's move plus a Brownian bridge's mean (variance dt / 12, independent of the move):
    by summation by parts the cash is the nominal cash plus sum_j move_j (r_{j-1} + r_j) / 2 +
    bridge_j (r_{j-1} - r_j), whose variance is the "linear" time kernel over periods 1..k, the
    timing risk's own form (:func:`time_kernel_root`).
    """
    return time_kernel_root(np.asarray(dt_days, dtype=float)[:period], kernel)
