"""The basket schedule by a structured interior-point method, with a proven bound on its gap.

The problem is that of :mod:`krg_liquidity.schedule.program` (fractions y, n names x N periods,
every cost in bps of S, the gross value of the orders):

    minimize   Phi(y) = sum_ij [c_ij f(y_ij, V_ij) + q_ij y_ij^2 + p_ij y_ij] + risk(Q(y))
    subject to 0 <= y_ij <= cap_ij,  sum_j y_ij = 1,  milestone rows a_k . y >= b_k,

with f(y, V) = y^(1+a4) / (y + V)^a4 (I-Star's schedule form), Q the timing variance in bps^2 of
S: Q = ||G rho||^2 + sum_i s_i^2 ||rho_i||^2, rho = 1 c' - y M (each name's residual path through
the time kernel's root), and risk(Q) = lambda sqrt(Q) ("std") or lambda S / 1e4 Q ("variance").

Method: Newton steps on t Phi + log barrier, t raised until the gap is proven small (Boyd &
Vandenberghe, Convex Optimization, 2004, ch. 11). The Hessian is one N x N block per name
(impact, barrier, specific risk) plus a low-rank part: the factor rows (k N columns, name i's
rows M (x) g_i'), the milestone rows and, for "std", one negative rank-one term. Each step solves
the blocks with their completion row and the low-rank part through a (k N + rows) capacitance
matrix (Woodbury): O(n N^3 + n N^2 k^2) per step, never (n N)^2. With a full covariance (k = n)
the same step is solved block-tridiagonally in time (:mod:`krg_liquidity.schedule.blocks`, O(N n^3)),
or, on many names, by conjugate gradients preconditioned with the Woodbury form on the covariance's
leading eigenvectors (``_iterative_system``).

The bound: Phi is convex, so for every feasible y* and nu >= 0,
Phi(y*) >= Phi(y) + g'(y* - y) - nu'(A y* - b) >= Phi(y) - g'y + nu'b + min_{box, rows} (g - A'nu)'y',
g the gradient at y; the minimum is a fractional knapsack per name. nu: the barrier's milestone
multipliers 1 / (t slack). Confidence milestones (convex, g <= 0) enter the same bound by their
tangents at y, weighted by the conic program's multipliers (``confidence_rows``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from krg_liquidity.schedule.blocks import BlockSystem, applies, block_flops, woodbury_flops
from krg_liquidity.schedule.data import ProgramData, cash_risk_root, time_kernel_root

MAX_FACTOR_COLUMNS = 6000  # k x N above this and no block form (:mod:`blocks`): the conic program
MAX_BLOCK_BYTES = 1.5 * 2**30  # the block form keeps about three n x n matrices per period
ITERATIVE_NAMES = 200  # a full covariance on this many names: conjugate gradients before the block form
PRECONDITIONER_ROWS = 32  # leading eigenvectors of the covariance in the preconditioner
CG_STEPS = 400
CG_TOLERANCE = 1e-8
WARM_BLEND = 0.05  # how far a warm start moves towards the interior start
MAX_NEWTON_STEPS = 200
STALL_STEPS = 4  # steps without a better proven gap before the search stops


@dataclass
class BarrierAnswer:
    """``fractions`` (n x N); ``status``: "optimal" (gap within tolerance), "feasible" (time ran out:
    the gap says how far), "stalled" (a step failed or the step limit came first: the best iterate,
    feasible, with its gap), "no_interior" (no strictly feasible start, no fractions), "too_large"
    (a full covariance whose Newton system has no block form here: the conic program's, no fractions);
    ``objective_bps`` and ``gap_bps``: Phi at the answer and the proven bound on its distance to
    the optimum (over the stated limits), both in bps of S; ``program_gap_bps``: the same over the
    program's limits (tightened by the rounding margins), the one the tolerance applies to."""

    fractions: np.ndarray
    status: str
    objective_bps: float
    gap_bps: float
    newton_steps: int
    program_gap_bps: float = np.inf


def suits(data: ProgramData) -> bool:
    """Whether the structured solver applies: few risk rows (a factor model), or a full covariance
    whose block-tridiagonal Newton system (:mod:`krg_liquidity.schedule.blocks`) fits in memory;
    and no confidence milestones (second-order cones, which only the conic program takes)."""
    n, periods = data.volume_ratio.shape
    few = data.risk.top.shape[0] * periods <= MAX_FACTOR_COLUMNS
    return (few or 24.0 * periods * n * n <= MAX_BLOCK_BYTES) and not data.confidence_z > 0


class BarrierSchedule:
    """The compiled arrays; ``solve(risk_aversion, time_limit, tolerance)`` returns a BarrierAnswer."""

    def __init__(self, data: ProgramData, kernel: str = "linear", measure: str = "std") -> None:
        n, periods = data.volume_ratio.shape
        self.data, self.measure = data, measure
        self.scale = float(data.value_usd.sum())
        weight = data.value_usd / self.scale
        quadratic = data.quadratic
        self.c = (np.zeros((n, periods)) if quadratic is not None
                  else np.repeat((weight * data.istar_bps * data.b1)[:, None], periods, 1))
        self.q = quadratic * 1e4 / self.scale if quadratic is not None else np.zeros((n, periods))
        self.p = data.pa_bps * weight[:, None]
        self.volume = np.asarray(data.volume_ratio, dtype=float)
        root = time_kernel_root(data.dt_days, kernel) * (1e4 / np.sqrt(data.trading_days))
        self.M = np.triu(np.ones((periods, periods)), 1) @ root  # rho = 1 c' - y M
        self.c_row = root.sum(axis=0)
        self.MMt = self.M @ self.M.T
        exposure = data.side * weight
        self.G = data.risk.top * exposure  # k x n
        self.s2 = (data.risk.diag * exposure) ** 2 if data.risk.diag is not None else np.zeros(n)
        self.cap = np.full((n, periods), np.inf) if data.cap is None else np.asarray(data.cap, dtype=float)
        # a milestone at the last period holds for every schedule that completes (unless out of reach)
        stated = data.milestones if data.stated_milestones is None else data.stated_milestones
        self.chance = []  # (period, least, least as stated) in bps of S: E - z sd >= least, for the bound only
        if data.confidence_z > 0:
            self.chance = [(k, 1e4 * c / self.scale, 1e4 * c0 / self.scale)
                           for (k, c), (_, c0) in zip(data.milestones, stated)]
            self.cash_roots = {k: np.tril(np.ones((k, k))) @ cash_risk_root(data.dt_days, k, kernel)
                               * (1e4 / np.sqrt(data.trading_days)) for k, *_ in self.chance}
        self.rows_kept = list(range(len(self.chance))) if self.chance else [
            i for i, (k, c) in enumerate(data.milestones) if k < periods or c / self.scale > exposure.sum() + 1e-12]
        if self.chance:
            stated = ()
        rows = [] if self.chance else [(data.milestones[i][0], data.milestones[i][1] / self.scale,
                                        stated[i][1] / self.scale) for i in self.rows_kept]
        self.permanent = (1 - data.b1) * data.istar_bps * weight if quadratic is None else np.zeros(n)
        self.A = np.stack([exposure[:, None] * (np.arange(periods) < k) for k, *_ in rows]) if rows else np.zeros((0, n, periods))
        self.b = np.array([c for _, c, _ in rows], dtype=float)
        self.stated_b = np.array([c for *_, c in rows], dtype=float)  # for the bound: the limits as asked
        self.stated_cap = self.cap if data.stated_cap is None else np.asarray(data.stated_cap, dtype=float)
        self._fix()
        rows = self.G.shape[0]
        # a full covariance: the block-tridiagonal form when cheaper (and the free cells allow it)
        self.block_form = applies(self.free) and block_flops(n, periods) < woodbury_flops(n, periods, rows)
        self.covariance = self.G.T @ self.G + np.diag(self.s2) if self.block_form else None
        self.iterative, self.preconditioner, self.cg_fallbacks = self.block_form and n >= ITERATIVE_NAMES, None, 0
        self.cg_steps: list = []  # conjugate-gradient iterations per Newton solve (the iterative form)
        self.too_large = not self.block_form and rows * periods > MAX_FACTOR_COLUMNS

    # ----- feasible start -----

    def _fix(self) -> None:
        """Cells with no room (cap 0) are fixed at 0; a name whose caps sum to its order is pinned at them."""
        capped = np.minimum(self.cap, 1.0)
        room = np.where(self.cap > 0, capped, 0.0).sum(axis=1)
        pinned = room <= 1.0 + 1e-9
        self.free = (self.cap > 0) & ~pinned[:, None]
        self.fixed = np.where(pinned[:, None], np.where(self.cap > 0, capped, 0.0) / np.maximum(room, 1e-300)[:, None], 0.0)
        self.need = 1.0 - self.fixed.sum(axis=1)  # what the free cells of each name must add up to
        self.n_barriers = int(self.free.sum() + (self.free & np.isfinite(self.cap)).sum() + len(self.b))

    def _interior(self) -> np.ndarray:
        """Strictly inside every box: each name's even-POV split, or its caps' proportions."""
        base = np.where(self.free, np.where(self.volume > 0, self.volume, 1.0), 0.0)
        even = base / np.maximum(base.sum(axis=1, keepdims=True), 1e-300)
        capped = np.where(self.free, np.minimum(self.cap, 1.0), 0.0)
        by_cap = capped / np.maximum(capped.sum(axis=1, keepdims=True), 1e-300)
        inside = np.all(~self.free | (even < self.cap * (1 - 1e-9)), axis=1, keepdims=True)
        return self.fixed + self.need[:, None] * np.where(inside, even, by_cap)

    def _front(self) -> np.ndarray:
        """The schedule that raises the most cash by every period at once: sales as early, buys as
        late as the caps allow."""
        sells = (self.data.side > 0)[:, None]
        room = np.where(self.free, np.minimum(self.cap, 1.0), 0.0)
        order = np.where(sells, room, room[:, ::-1])
        done = np.clip(self.need[:, None] - (np.cumsum(order, axis=1) - order), 0.0, order)
        return self.fixed + np.where(sells, done, done[:, ::-1])

    def start(self) -> np.ndarray | None:
        """A strictly feasible schedule (fractions), or None when the milestones leave no interior:
        the interior point itself, or a blend of it with the most-cash schedule that meets them."""
        y = self._interior()
        if not len(self.b):
            return y
        slack = self._slack(y)
        if slack.min() > 0:
            return y
        front = self._front()
        reach = self._slack(front)
        if reach.min() <= 1e-12:  # (fractions of S) the milestones leave no interior: the conic program decides
            return None
        short = slack <= 0
        theta = min(1.0, 0.5 * float(np.min(reach[short] / (reach[short] - slack[short]))))
        return (1 - theta) * front + theta * y

    def _slack(self, y: np.ndarray) -> np.ndarray:
        return np.einsum("kij,ij->k", self.A, y) - self.b

    # ----- objective -----

    def _risk(self, y):
        rho = self.c_row[None, :] - y @ self.M
        factor = self.G @ rho
        variance = float(np.sum(factor**2) + np.sum(self.s2[:, None] * rho**2))
        return rho, factor, variance

    def _risk_terms(self, lam: float, variance: float) -> tuple[float, float, float]:
        """risk(Q), d risk / dQ, d2 risk / dQ2."""
        root = np.sqrt(max(variance, 1e-300))
        std = self.data.std_weight + (lam if self.measure == "std" else 0.0)  # the weight on sqrt(Q)
        k = lam * self.scale / 1e4 if self.measure == "variance" else 0.0  # on Q
        return k * variance + std * root, k + std / (2 * root), -std / (4 * root**3)

    def _impact(self, y, order: int):
        """sum of c f + q y^2 (order 0), its gradient (1) or its second derivative (2), cell by cell."""
        a = self.data.a4
        y = np.maximum(y, 0.0)  # every cell, pinned ones included: their impact is part of the objective
        total = np.maximum(y + self.volume, 1e-300)
        pov = y / total
        if order == 0:
            return float(np.sum(self.c * y * pov**a) + np.sum(self.q * y * y))
        if order == 1:
            return self.c * pov**a * (1 + a * (1 - pov)) + 2 * self.q * y
        with np.errstate(divide="ignore", invalid="ignore"):
            curve = a * (1 + a) * np.where(pov > 0, pov ** (a - 1), 0.0) * (1 - pov) ** 2 / total
        return self.c * curve + 2 * self.q

    def objective(self, y: np.ndarray, lam: float) -> float:
        return self._impact(y, 0) + float(np.sum(self.p * y)) + self._risk_terms(lam, self._risk(y)[2])[0]

    def _gradient(self, y, lam):
        rho, factor, variance = self._risk(y)
        risk, d1, d2 = self._risk_terms(lam, variance)
        dq = -2 * (self.G.T @ factor + self.s2[:, None] * rho) @ self.M.T
        value = self._impact(y, 0) + float(np.sum(self.p * y)) + risk
        return value, self._impact(y, 1) + self.p + d1 * dq, dq, d1, d2

    # ----- the bound -----

    def confidence_rows(self, y: np.ndarray, stated: bool = True) -> list[tuple[float, np.ndarray]]:
        """Each confidence milestone's g(y) = z sd - E + least (<= 0 when met, bps of S) and its
        gradient (n x N): E the nominal cash less the expected cost of the cells traded by then."""
        out = []
        z = self.data.confidence_z
        marginal = self._impact(y, 1) + self.p + self.permanent[:, None]  # d cost / d y per cell
        exposure = self.data.side * self.data.value_usd / self.scale
        for k, least, least_stated in self.chance:
            rho = y[:, :k] @ self.cash_roots[k]  # r_0 .. r_{k-1} through the time kernel's root
            factor = self.G @ rho
            sd = float(np.sqrt(max(np.sum(factor**2) + np.sum(self.s2[:, None] * rho**2), 1e-300)))
            done = y[:, :k]
            cost = (self._impact(np.pad(done, ((0, 0), (0, y.shape[1] - k))), 0)
                    + float(np.sum((self.p[:, :k] + self.permanent[:, None]) * done)))
            expected = 1e4 * float(exposure @ done.sum(axis=1)) - cost
            grad = np.zeros_like(y)
            grad[:, :k] = z * ((self.G.T @ factor + self.s2[:, None] * rho) @ self.cash_roots[k].T) / sd
            grad[:, :k] -= 1e4 * exposure[:, None] - marginal[:, :k]
            out.append((z * sd - expected + (least_stated if stated else least), grad))
        return out

    def bound(self, y, lam, nu, stated: bool = True, evaluated=None) -> tuple[float, float]:
        """Phi(y) and the proven lower bound (bps of S) on every schedule within the completion
        rows and the stated caps and milestones (``stated=False``: the program's, tightened by
        the rounding margins); ``nu`` >= 0 per milestone; ``evaluated``: (Phi, gradient) at y if
        already computed. A confidence milestone g <= 0 (convex) enters by its tangent at y,
        nu (g(y) + g'(y) (y* - y)) <= 0 for every feasible y*."""
        value, grad = evaluated if evaluated is not None else self._gradient(y, lam)[:2]
        h = grad - np.einsum("k,kij->ij", nu, self.A) if not self.chance else grad.copy()
        shift = 0.0  # the confidence rows' tangents, weighted: sum nu (g(y) - g'(y) y)
        for weight, (g, g_grad) in zip(nu if self.chance else (), self.confidence_rows(y, stated)):
            h += weight * g_grad
            shift += weight * (g - float(np.sum(g_grad * y)))
        cap, least = (self.stated_cap, self.stated_b) if stated else (self.cap, self.b)
        room = np.minimum(np.where(cap > 0, cap, 0.0), 1.0)
        keyed = np.where(room > 0, h, np.inf)
        order = np.argsort(keyed, axis=1)
        room = np.take_along_axis(room, order, axis=1)
        take = np.clip(1.0 - (np.cumsum(room, axis=1) - room), 0.0, room)
        cheapest = float(np.sum(np.where(take > 0, np.take_along_axis(keyed, order, axis=1), 0.0) * take))
        if self.chance:
            return value, value - float(np.sum(grad * y)) + shift + cheapest
        lower = value - float(np.sum(grad * y)) + float(nu @ least) + cheapest
        return value, lower

    # ----- Newton -----

    def _system(self, y, curve, inverse_weights, d1, d2, dq, risk=None):
        """A solver for the Newton system [hess Phi + diag(curve) + A' diag(weights) A] dy = -r within
        the completion rows. ``curve``: the inequalities' z / y terms, cell by cell; the milestone
        rows enter unscaled with 1 / weight (slack / nu) in the capacitance, which stays well
        conditioned as a milestone binds (its weight grows without bound). ``risk``: (rows,
        specific variances) standing in for the risk model's (the preconditioner of a full
        covariance); then the unrefined solve is returned."""
        n, periods = y.shape
        f = self.free.astype(float)
        if self.block_form and risk is None:
            if self.iterative:
                return self._iterative_system(y, curve, inverse_weights, d1, d2, dq)
            return self._block_system(y, curve, inverse_weights, d1, d2, dq)
        G, s2 = (self.G, self.s2) if risk is None else risk
        blocks = (2 * d1 * s2)[:, None, None] * self.MMt[None] * (f[:, :, None] * f[:, None, :])
        diagonal = np.where(self.free, self._impact(y, 2) + curve, 1.0)
        blocks[:, np.arange(periods), np.arange(periods)] += diagonal
        inverse = np.linalg.inv(blocks)
        inv_f = np.einsum("ijk,ik->ij", inverse, f)
        denom = np.maximum(np.sum(inv_f * f, axis=1), 1e-300)

        def project(x):  # P x, name by name: the block's inverse on its completion row's null space
            if x.ndim == 2:
                return np.einsum("ijk,ik->ij", inverse, x) - inv_f * (np.sum(inv_f * x, axis=1) / denom)[:, None]
            return inverse @ x - inv_f[:, :, None] * (np.einsum("ij,ijr->ir", inv_f, x) / denom[:, None])[:, None, :]

        general, signs = list(self.A), list(inverse_weights)
        if d2 != 0.0 and np.isfinite(1.0 / d2):  # "std": the negative rank-one part (none when lambda ~ 0)
            general.append(dq)
            signs.append(1.0 / d2)
        gen = np.stack(general, axis=2) * f[:, :, None] if general else np.zeros((n, periods, 0))
        root = np.sqrt(2 * d1)
        k = G.shape[0]
        masked_m = f[:, :, None] * self.M[None]  # name i's factor rows: diag(free_i) M (x) g_i'
        w = np.swapaxes(masked_m, 1, 2) @ project(masked_m)  # (n, N, N)
        gg = np.einsum("pi,qi->ipq", G, G).reshape(n, k * k)
        cap_ff = (w.reshape(n, -1).T @ gg).reshape(periods, periods, k, k).transpose(0, 2, 1, 3)
        cap_ff = 2 * d1 * cap_ff.reshape(periods * k, periods * k) + np.eye(periods * k)
        p_gen = project(gen)

        def factor_t(x):  # U_f' x for x (n, N[, r]): (N k[, r])
            if x.ndim == 2:
                return root * (self.M.T @ (f * x).T @ G.T).reshape(-1)
            inner = np.einsum("ja,ijr->iar", self.M, f[:, :, None] * x)
            return root * np.einsum("iar,pi->apr", inner, G).reshape(periods * k, -1)

        cap_fg = factor_t(p_gen)
        cap_gg = np.einsum("ijr,ijs->rs", gen, p_gen) + np.diag(signs)
        capacitance = np.block([[cap_ff, cap_fg], [cap_fg.T, cap_gg]])
        lu = _lu(capacitance)

        def once(residual):
            pr = project(f * residual)
            x = lu(np.concatenate([factor_t(pr), np.einsum("ijr,ij->r", gen, pr)]))
            z = x[:periods * k].reshape(periods, k)
            ux = f * (root * (self.M @ z @ G)).T + np.einsum("ijr,r->ij", gen, x[periods * k:])
            step = -(pr - project(ux))
            # put the rounding error back on the completion rows, which the step must keep exactly
            return step - f * (step.sum(axis=1) / np.maximum(f.sum(axis=1), 1.0))[:, None]

        if risk is not None:
            return once
        weights = np.r_[1.0 / np.asarray(signs, dtype=float)] if signs else np.zeros(0)

        def times(v):  # the Newton matrix times v (n x N), free cells
            fv = f * v
            out = np.einsum("ijk,ik->ij", blocks, fv) + root**2 * f * (self.M @ (self.M.T @ fv.T @ G.T) @ G).T
            return out + np.einsum("ijr,r->ij", gen, weights * np.einsum("ijr,ij->r", gen, fv))

        def solve(residual):
            """The step, with one round of iterative refinement: the two terms of the Woodbury
            solve can be large and nearly cancel (a binding milestone)."""
            step = once(residual)
            return step + once(times(step) + f * residual)

        return solve

    def _block_system(self, y, curve, inverse_weights, d1, d2, dq):
        """The same Newton system as ``_system``, solved block-tridiagonally in time (a full covariance)."""
        f = self.free.astype(float)
        general, signs = list(self.A), list(inverse_weights)
        if d2 != 0.0 and np.isfinite(1.0 / d2):
            general.append(dq)
            signs.append(1.0 / d2)
        n, periods = y.shape
        gen = np.stack(general, axis=2) * f[:, :, None] if general else np.zeros((n, periods, 0))
        system = BlockSystem(self.free, self._impact(y, 2) + curve, self.covariance, self.MMt, 2 * d1, gen, signs)

        def solve(residual):  # with one round of iterative refinement, as ``_system``
            step = system.solve(residual)
            return step + system.solve(system.times(step) + f * residual)

        return solve

    def _iterative_system(self, y, curve, inverse_weights, d1, d2, dq):
        """The same Newton system, solved by conjugate gradients within the completion rows, each
        iteration preconditioned by the factor form's solve with the covariance's leading
        eigenvectors and the next eigenvalue on the diagonal (a covariance at least C, so the
        preconditioned spectrum lies in (0, 1]); run to a relative residual of 1e-11, else the
        block form solves the step."""
        f = self.free.astype(float)
        if self.preconditioner is None:  # once per problem: the covariance's leading eigenvectors
            values, vectors = np.linalg.eigh(self.covariance)
            k = min(PRECONDITIONER_ROWS, len(values) - 1)
            floor = max(values[-k - 1], 0.0)
            rows = np.sqrt(np.maximum(values[-k:] - floor, 0.0))[:, None] * vectors[:, -k:].T
            self.preconditioner = (rows, np.full(len(values), floor))
        once = self._system(y, curve, inverse_weights, d1, d2, dq, risk=self.preconditioner)
        general, signs = list(self.A), list(inverse_weights)
        if d2 != 0.0 and np.isfinite(1.0 / d2):
            general.append(dq)
            signs.append(1.0 / d2)
        n, periods = y.shape
        gen = np.stack(general, axis=2) * f[:, :, None] if general else np.zeros((n, periods, 0))
        weights = np.r_[1.0 / np.asarray(signs, dtype=float)] if signs else np.zeros(0)
        cells = np.where(self.free, self._impact(y, 2) + curve, 0.0)

        def times(v):
            fv = f * v
            out = cells * fv + 2 * d1 * f * (self.covariance @ fv @ self.MMt)
            return out + np.einsum("ijr,r->ij", gen, weights * np.einsum("ijr,ij->r", gen, fv))

        def solve(residual):
            target = -f * residual
            x = np.zeros_like(target)
            r = target
            z = -once(r)
            p = z
            rz = first = float(np.sum(r * z))
            for step in range(CG_STEPS):
                hp = times(p)
                alpha = rz / float(np.sum(p * hp))
                x = x + alpha * p
                r = r - alpha * hp
                z = -once(r)
                rz_new = float(np.sum(r * z))
                if abs(rz_new) <= CG_TOLERANCE**2 * abs(first):
                    self.cg_steps.append(step + 1)
                    return x
                p = z + (rz_new / rz) * p
                rz = rz_new
            self.cg_fallbacks += 1
            return self._block_system(y, curve, inverse_weights, d1, d2, dq)(residual)

        return solve

    def warm(self, fractions: np.ndarray, y: np.ndarray) -> np.ndarray:
        """A strictly feasible start near ``fractions`` (n x N, e.g. the rest of an earlier plan): each
        name's free cells scaled to what they must add up to, then WARM_BLEND of the way to the
        interior start ``y``; names whose fractions do not fit their caps (or are all zero) start at
        ``y``, and so does everything when the milestones are not met strictly."""
        given = np.where(self.free, np.clip(np.nan_to_num(np.asarray(fractions, dtype=float)), 0.0, None), 0.0)
        total = given.sum(axis=1, keepdims=True)
        scaled = self.fixed + given * (self.need[:, None] / np.where(total > 0, total, 1.0))
        fits = (total[:, 0] > 0) & np.all(~self.free | (scaled <= self.cap), axis=1)
        blend = (1 - WARM_BLEND) * np.where(fits[:, None], scaled, y) + WARM_BLEND * y
        if len(self.b) and self._slack(blend).min() <= 0:
            return y
        return blend

    def solve(self, risk_aversion: float, time_limit: float = 30.0, tolerance: float = 1e-8,
              warm: np.ndarray | None = None) -> BarrierAnswer:
        """Minimize Phi for ``risk_aversion`` by a primal-dual interior-point method (Mehrotra's
        predictor-corrector; the primal iterate always feasible); stop when the proven gap <=
        tolerance x max(1, Phi) bps of S, or at ``time_limit`` seconds (then "feasible"). ``warm``:
        fractions (n x N) to start near (:meth:`warm`), e.g. the rest of an earlier plan."""
        deadline = time.perf_counter() + time_limit
        lam = float(risk_aversion)
        self.cg_steps, self.cg_fallbacks = [], 0  # this solve's
        if self.too_large:  # an (n N)-square capacitance matrix: the conic program's
            return BarrierAnswer(np.empty(0), "too_large", np.nan, np.inf, 0)
        y = self.start()
        if y is None:
            return BarrierAnswer(np.empty(0), "no_interior", np.nan, np.inf, 0)
        if warm is not None:
            y = self.warm(warm, y)
        free, finite = self.free, self.free & np.isfinite(self.cap)
        if self.n_barriers == 0:  # every cell fixed (each name held to one period, or pinned at its caps)
            value, lower = self.bound(y, lam, np.zeros(0))
            return BarrierAnswer(y, "optimal", value, max(value - lower, 0.0), 0, 0.0)
        value, lower = self.bound(y, lam, np.zeros(len(self.b)), stated=False)
        mu = max(value - lower, 1e-9) / self.n_barriers
        low, room, slack = np.where(free, y, 1.0), np.where(finite, self.cap - y, 1.0), self._slack(y)
        z_low, z_up, nu = np.where(free, mu / low, 0.0), np.where(finite, mu / room, 0.0), mu / slack
        steps, status, best, worse = 0, "feasible", (value - lower, y, nu), 0
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            while time.perf_counter() < deadline:
                if steps >= MAX_NEWTON_STEPS:
                    status = "stalled"
                    break
                value, grad, dq, d1, d2 = self._gradient(y, lam)
                value, lower = self.bound(y, lam, nu, stated=False, evaluated=(value, grad))
                if value - lower < best[0]:
                    best, worse = (value - lower, y, nu), 0
                else:
                    worse += 1
                if value - lower <= tolerance * max(1.0, abs(value)):
                    status = "optimal"
                    break
                if worse >= STALL_STEPS and best[0] <= 1e-4 * max(1.0, abs(value)):  # rounding now outweighs
                    # the progress (the bound is not monotone early on, so only near the end): keep the best
                    status = "stalled"
                    break
                mu = (np.sum(z_low * low * free) + np.sum(z_up * room * finite) + nu @ slack) / self.n_barriers
                solve = self._system(y, np.where(free, z_low / low, 0) + np.where(finite, z_up / room, 0),
                                     slack / np.maximum(nu, 1e-300), d1, d2, dq)
                steps += 1

                state = (low, room, slack, z_low, z_up, nu)
                zero = np.zeros_like(y)
                dy, dzl, dzu, dnu, ds = self._direction(solve, grad, state, zero, zero, np.zeros(len(slack)))
                if not np.all(np.isfinite(dy)):
                    status = "stalled"
                    break
                primal, dual = self._lengths(low, room, slack, dy, ds, z_low, z_up, nu, dzl, dzu, dnu)
                gap_after = (np.sum((z_low + dual * dzl) * (low + primal * dy) * free)
                             + np.sum((z_up + dual * dzu) * (room - primal * dy) * finite)
                             + (nu + dual * dnu) @ (slack + primal * ds)) / self.n_barriers
                sigma = min(1.0, (max(gap_after, 0.0) / mu) ** 3)
                dy, dzl, dzu, dnu, ds = self._direction(solve, grad, state, sigma * mu - dzl * dy, sigma * mu + dzu * dy,
                                                        sigma * mu - dnu * ds)
                if not np.all(np.isfinite(dy)):
                    status = "stalled"
                    break
                primal, dual = self._lengths(low, room, slack, dy, ds, z_low, z_up, nu, dzl, dzu, dnu)
                y = y + primal * dy
                z_low, z_up, nu = z_low + dual * dzl, z_up + dual * dzu, nu + dual * dnu
                # the room under the caps and the milestones' slack are carried as variables: recomputed
                # as cap - y or A y - b they would lose their digits to cancellation as they bind
                low, room, slack = np.where(free, y, 1.0), np.where(finite, room - primal * dy, 1.0), slack + primal * ds
        program_gap, y, nu = best
        value, lower = self.bound(y, lam, nu)
        return BarrierAnswer(np.clip(y, 0.0, None), status, value, max(value - lower, 0.0), steps, program_gap)

    def _direction(self, solve, grad, state, c_low, c_up, c_slack):
        """Newton's step (dy, d z_low, d z_up, d nu, d slack) towards the complementarity targets
        z_low y = c_low, z_up (cap - y) = c_up, nu slack = c_slack."""
        low, room, slack, z_low, z_up, nu = state
        free, finite = self.free, self.free & np.isfinite(self.cap)
        dy = solve(grad - np.where(free, c_low / low, 0) + np.where(finite, c_up / room, 0)
                   - np.einsum("k,kij->ij", c_slack / slack, self.A))
        ds = np.einsum("kij,ij->k", self.A, dy)
        return (dy, np.where(free, (c_low - z_low * low - z_low * dy) / low, 0.0),
                np.where(finite, (c_up - z_up * room + z_up * dy) / room, 0.0), (c_slack - nu * slack - nu * ds) / slack, ds)

    def _lengths(self, low, room, slack, dy, ds, z_low, z_up, nu, dzl, dzu, dnu) -> tuple[float, float]:
        """Primal and dual step lengths: 99.5% of the way to the nearest boundary, at most 1."""
        free, finite = self.free, self.free & np.isfinite(self.cap)
        primal = _ratio(np.r_[low[free], room[finite], slack], np.r_[dy[free], -dy[finite], ds])
        dual = _ratio(np.r_[z_low[free], z_up[finite], nu], np.r_[dzl[free], dzu[finite], dnu])
        return min(1.0, 0.995 * primal), min(1.0, 0.995 * dual)


def _ratio(value: np.ndarray, change: np.ndarray) -> float:
    """The largest s with value + s change >= 0 (inf if nothing decreases)."""
    down = change < 0
    return float(np.min(-value[down] / change[down])) if down.any() else np.inf


def _lu(matrix: np.ndarray):
    """Solve with ``matrix`` (dense, square) many times from one factorization."""
    from scipy.linalg import lu_factor, lu_solve

    if not matrix.size:
        return lambda rhs: rhs
    factors = lu_factor(matrix, check_finite=False)
    return lambda rhs: lu_solve(factors, rhs, check_finite=False)
