"""The interior-point Newton system for a full covariance: block-tridiagonal in time, exactly.

In the fractions y (names x periods) the timing risk's Hessian is 2 d1 (C (x) M M'), dense in
both names and periods, so the factor-row Woodbury of :mod:`krg_liquidity.schedule.barrier`
meets an (n N)-square capacitance matrix when C has n rows (a full covariance). In the remaining
fractions R instead (y_j = R_{j-1} - R_j, R_0 and R_N fixed, so every completion row holds by
construction) the time kernel is tridiagonal (each period couples only the residuals at its two
ends), and every cell's own terms (impact, barrier) couple two neighbouring residuals of one name.
The Newton matrix is then block-tridiagonal over the N - 1 free residual times, each block n x n:
diag(cell terms) + 2 d1 T_tt' C. Block Gaussian elimination solves it in O(N n^3), against the
capacitance matrix's O((n N)^3); the milestone rows and the "std" rank-one term stay a small
Woodbury correction. Nothing is dropped or approximated: the same Newton step, solved another way.

It applies when each name's free cells are a leading run of periods (cells fixed at zero only
after a name's horizon), the shape every schedule of :mod:`krg_liquidity.schedule.optimal` has.
On many names the barrier solves the same system by conjugate gradients first (``BarrierSchedule.
_iterative_system``), and uses this form only for a step they do not finish.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve, lu_factor, lu_solve


def differences(periods: int) -> np.ndarray:
    """D (N x (N-1)) with y = u D' for u the changes of R_1 .. R_{N-1} (R_0, R_N fixed): y_j = u_j - u_{j+1}."""
    d = np.zeros((periods, periods - 1))
    t = np.arange(periods - 1)
    d[t, t] = -1.0
    d[t + 1, t] = 1.0
    return d


def applies(free: np.ndarray) -> bool:
    """Whether every name's free cells are a leading run of periods (none, or 0 .. m-1 with m >= 2)."""
    count = free.sum(axis=1)
    leading = np.arange(free.shape[1])[None, :] < count[:, None]
    return bool(np.array_equal(free, leading) and not np.any(count == 1))


def block_flops(names: int, periods: int) -> float:
    """Flops of one block elimination (about 2.5 n^3 per period), for choosing it over the Woodbury form."""
    return 2.5 * periods * float(names) ** 3


def woodbury_flops(names: int, periods: int, rows: int) -> float:
    """Flops of the factor-row capacitance matrix: its assembly (N^2 n k^2) and factorization ((k N)^3 / 3)."""
    return periods**2 * names * float(rows) ** 2 + (rows * periods) ** 3 / 3.0


class BlockSystem:
    """Newton solves for one step: ``cells`` (n x N) the cells' own second derivatives (impact and
    barrier; fixed cells ignored), ``covariance`` C (n x n, in the program's exposure units),
    ``kernel`` M M' (N x N), ``risk_weight`` 2 d1, ``general`` (n x N x r) and ``signs`` (r): the
    low-rank part sum_r g_r g_r' / signs_r. ``solve(residual)`` returns -H^{-1} residual over the
    free cells within the completion rows; ``times(v)`` H v."""

    def __init__(self, free, cells, covariance, kernel, risk_weight, general, signs) -> None:
        n, periods = free.shape
        self.free, self.f = free, free.astype(float)
        self.d = differences(periods)
        count = free.sum(axis=1)
        self.active = (np.arange(periods - 1)[None, :] < (count[:, None] - 1)).astype(float)  # u_t free (n x N-1)
        self.cells = np.where(free, cells, 0.0)
        self.covariance, self.kernel, self.risk_weight = covariance, kernel, risk_weight
        self.general = general
        self.weights = np.r_[1.0 / np.asarray(signs, dtype=float)] if len(signs) else np.zeros(0)
        tri = self.d.T @ kernel @ self.d  # tridiagonal
        h = self.cells
        act = self.active
        steps = periods - 1
        # diagonal blocks: h_{t} + h_{t+1} (cells either side of R_{t+1}) + 2 d1 T_tt C, masked to the active names
        diag_cells = h[:, :-1] + h[:, 1:]
        off_cells = -h[:, 1:-1]
        self.factors, self.links = [], []
        previous = None
        for t in range(steps):
            a = risk_weight * tri[t, t] * covariance * np.outer(act[:, t], act[:, t])
            a[np.diag_indices(n)] += np.where(act[:, t] > 0, diag_cells[:, t], 1.0)
            if previous is not None:
                b_prev, chol_prev = previous
                w = cho_solve(chol_prev, b_prev, check_finite=False)
                a -= b_prev.T @ w
                self.links.append(w)
            chol = cho_factor(a, lower=True, check_finite=False)
            self.factors.append(chol)
            if t + 1 < steps:
                b = risk_weight * tri[t, t + 1] * covariance * np.outer(act[:, t], act[:, t + 1])
                b[np.diag_indices(n)] += off_cells[:, t] * act[:, t] * act[:, t + 1]
                previous = (b, chol)
        r = general.shape[2]
        if r:
            gu = np.einsum("ijr,jt->tir", general * self.f[:, :, None], self.d) * act.T[:, :, None]
            self.gu = gu
            solved = self._tridiagonal(gu)
            cap = np.einsum("tir,tis->rs", gu, solved) + np.diag(np.asarray(signs, dtype=float))
            self.solved_general = solved
            self.capacitance = lu_factor(cap, check_finite=False)

    def _tridiagonal(self, rhs: np.ndarray) -> np.ndarray:
        """The block-tridiagonal part's inverse times ``rhs`` ((N-1) x n [x r])."""
        steps = len(self.factors)
        g = [rhs[0]]
        for t in range(1, steps):
            g.append(rhs[t] - self.links[t - 1].T @ g[t - 1])
        x: list[np.ndarray] = [np.empty(0)] * steps
        x[-1] = cho_solve(self.factors[-1], g[-1], check_finite=False)
        for t in range(steps - 2, -1, -1):
            x[t] = cho_solve(self.factors[t], g[t], check_finite=False) - self.links[t] @ x[t + 1]
        return np.stack(x)

    def solve(self, residual: np.ndarray) -> np.ndarray:
        rhs = ((self.f * residual) @ self.d * self.active).T  # (N-1) x n
        x = self._tridiagonal(rhs)
        if self.general.shape[2]:
            coef = lu_solve(self.capacitance, np.einsum("tir,ti->r", self.gu, x), check_finite=False)
            x = x - self.solved_general @ coef
        return -(x.T * self.active) @ self.d.T

    def times(self, v: np.ndarray) -> np.ndarray:
        fv = self.f * v
        out = self.cells * fv + self.risk_weight * self.f * (self.covariance @ fv @ self.kernel)
        if self.general.shape[2]:
            out = out + np.einsum("ijr,r->ij", self.general, self.weights * np.einsum("ijr,ij->r", self.general, fv))
        return out
