"""The coupled liquidation solved by duality over its few coupling rows.

Problem, in value sold per name v (units of the cash target S, + = sell), positions p0 / S:

  min  sum_i f_i(v_i)                    f_i: name i's impact cost in bps of S (convex)
  s.t. sum_i v_i = 1                     (cash)
       G v <= b                          (linear cuts: the risk floor linearized)
       lo <= v <= hi                     (every per-name limit, ``bounds.py``)
       q(v) = |A (p0 - v)|^2 + sum_i d_i (p0_i - v_i)^2 <= R^2     (risk ceiling, optional)

with C = A'A + diag(d): a factor model gives A = F^(1/2) B' (k rows) and d the specific
variances; a full covariance gives A its Cholesky factor (n rows) and d = 0.

With the ceiling's multiplier mu fixed and the rows y = A (p0 - v) dualized (multipliers nu),
the Lagrangian separates by name: each name solves  f_i'(v) + 2 mu d_i v = t_i  on its
interval, t = lambda + A'nu - G'eta + 2 mu d p0 (a table inversion when d_i = 0, a few
safeguarded Newton steps otherwise). The dual function of theta = (lambda, nu, eta) is concave;
damped Newton steps on it use the curvature 1 / (f_i'' + 2 mu d_i) of the names strictly
inside their intervals (a pinned name keeps 1e-3 of its unpinned curvature, at most 1e-3 of the
free names' largest, so that no step is singular when many names are pinned), so a step costs one
solve of size 1 + rows(A) + cuts. When A has many rows (a full covariance of full rank: its Cholesky
factor's n rows) that system is not formed: its A block is inverted through the names by
Sherman-Morrison-Woodbury, leaving (diag + C) on the trading names, solved by conjugate gradients on
products C x (preconditioned by a diagonal and C's leading eigenvectors), which check the budget at
every product (``_wide_step``). An outer root search on mu makes the ceiling hold with equality
when it binds; its first guess is scaled by the value left when that is below the cash. Cuts are kept by
an active set (eta >= 0). Multipliers are kept between calls to warm-start the next one
(convex-concave steps, a frontier grid). Returns None when it does not converge (the caller
then declines this path); its answers are verified by the caller like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from krg_liquidity.book.risk import RiskOperator
from krg_liquidity.core.plan import Budget
from krg_liquidity.model.trade_costs import TradeCosts
from krg_liquidity.solve.bounds import TradeBounds

NEWTON_STEPS = 60
ROOT_STEPS = 80
TOLERANCE = 1e-12
CEILING_TOLERANCE = 1e-10  # |risk^2 / ceiling^2 - 1| at which the root search on mu stops
FLAT = 1e-12  # relative fall of the dual value within its rounding: a step there may still cut the gradient
RETREAT_STEPS = 2000  # Newton steps after which a failed multiplier guess is no longer pulled back
WIDE = 256  # rows of A above which a Newton step is solved through the names (conjugate gradients), not formed
DEFLATED = 48  # leading eigenvectors of C in the conjugate gradients' preconditioner
SUBSPACE_PASSES = 3  # passes of subspace iteration that find them
CG_STEPS = 400
CG_TOLERANCE = 1e-11  # relative residual at which the conjugate gradients stop
PINNED_WEIGHT = 1e-3  # share of its free curvature a name pinned to an interval end keeps in the Newton matrix


def _product(matrix: np.ndarray, x: np.ndarray) -> np.ndarray:
    """matrix @ x, taking a few columns one at a time: for 1-4 columns a matrix-vector product each is
    2-3x faster than one matrix-matrix product (measured with one BLAS thread at 2,500 names)."""
    if x.ndim == 2 and x.shape[1] <= 4:
        out = np.empty((matrix.shape[0], x.shape[1]))
        for j in range(x.shape[1]):
            out[:, j] = matrix @ x[:, j]
        return out
    return matrix @ x


class OutOfTime(Exception):
    """The budget ran out inside the dual solver."""


@dataclass(frozen=True)
class DualPoint:
    """A solution: trades and the multipliers that certify it (bps of S per unit of each row)."""

    u: np.ndarray  # trade, fraction of ADV (+ = sell)
    v: np.ndarray  # value sold / S
    cash_multiplier: float  # lambda
    cut_multipliers: np.ndarray  # eta >= 0, one per cut
    risk_multiplier: float  # mu >= 0 (ceiling)
    slack_low: np.ndarray  # multipliers of the interval ends (bps of S)
    slack_high: np.ndarray
    newton_steps: int


class DualSolver:
    """Reusable solver for one book, cash target and set of per-name intervals."""

    def __init__(self, costs: TradeCosts, bounds: TradeBounds, cash: float, risk: RiskOperator | None,
                 position_usd: np.ndarray, ceiling_usd: float | None = None, value_left_usd: float | None = None):
        self.costs, self.cash = costs, float(cash)
        self.per_value = cash / costs.dollar_adv  # z per unit of v
        self.lo, self.hi = bounds.lo / self.per_value, bounds.hi / self.per_value
        self.p0 = position_usd / cash
        n = len(self.p0)
        self.A = risk.top if risk is not None else np.zeros((0, n))
        self.d = risk.diag**2 if risk is not None and risk.diag is not None else np.zeros(n)
        self.has_diag = bool(np.any(self.d > 0))
        self.R2 = None if ceiling_usd is None else (ceiling_usd / cash) ** 2
        self.Ap0 = self.A @ self.p0
        self.C = risk.matrix if risk is not None and risk.matrix is not None and not self.has_diag else None
        self.wide = self.A.shape[0] > WIDE  # Newton steps through the names (``_wide_step``)
        if self.wide:
            self.column_squares = np.einsum("ij,ij->j", self.A, self.A)  # diag(A'A)
            self.c_diagonal = np.diag(self.C).copy() if self.C is not None else self.column_squares
        self._dominant: tuple[np.ndarray, np.ndarray] | None = None
        self.cg_steps = 0
        self.warm: tuple[float, np.ndarray, float] | None = None  # (lambda, nu, mu)
        self.steps = 0
        # the value left after the trades (units of S), for the ceiling multiplier's first guess: the positions'
        # total less the cash, unless the quadratic row is on other positions (a tracking error's active ones)
        left = float(np.sum(self.p0)) - 1.0 if value_left_usd is None else value_left_usd / cash
        self.left = min(1.0, max(left, 1e-12))

    # ---- per-name pieces -------------------------------------------------------------------
    def marginal(self, v: np.ndarray) -> np.ndarray:
        """f_i'(v) in bps of S per unit of v."""
        return np.sign(v) * self.costs.marginal_bps(v * self.per_value)

    def curvature(self, v: np.ndarray, mu: float) -> np.ndarray:
        """f_i''(v) + 2 mu d_i (inf at v = 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = self.per_value * self.costs.marginal_slope(v * self.per_value)
        return np.where(np.isfinite(slope), slope, np.inf) + 2.0 * mu * self.d

    def trades(self, target: np.ndarray, mu: float) -> np.ndarray:
        """v with f'(v) + 2 mu d v = target, clipped to [lo, hi]."""
        reach = np.sign(target) * self.costs.z_at_marginal(np.abs(target)) / self.per_value
        v = np.clip(reach, self.lo, self.hi)
        if mu == 0.0 or not self.has_diag:
            return v
        # The root lies between 0 and reach (the d term pulls it toward 0). A clipped name whose
        # left-hand side at its interval end is still on the target's side stays at that end.
        clipped = v != reach
        ends = np.flatnonzero(clipped)
        if ends.size:
            lhs = np.sign(v[ends]) * self.costs.take(ends).marginal_bps(
                v[ends] * self.per_value[ends]) + 2.0 * mu * self.d[ends] * v[ends]
            stays = np.where(v[ends] >= 0, lhs <= target[ends], lhs >= target[ends])
            clipped[ends[~stays]] = False
        solve = np.flatnonzero(~clipped & (reach != 0))
        if solve.size:
            v[solve] = self._roots(solve, target[solve], mu, v[solve])
        return np.clip(v, self.lo, self.hi)

    def _roots(self, index: np.ndarray, target: np.ndarray, mu: float, upto: np.ndarray) -> np.ndarray:
        """Safeguarded Newton for f'(v) + 2 mu d v = target on the names ``index``, root between 0 and ``upto``."""
        costs, per_value, d = self.costs.take(index), self.per_value[index], self.d[index]
        low, high = np.minimum(upto, 0.0), np.maximum(upto, 0.0)
        v = upto.copy()
        live = np.arange(len(index))
        for _ in range(NEWTON_STEPS):
            x = v[live]
            part = costs.take(live) if live.size < len(index) else costs
            marginal, slope = part.marginal_and_slope(x * per_value[live])
            gap = np.sign(x) * marginal + 2.0 * mu * d[live] * x - target[live]
            lo_, hi_ = np.where(gap < 0, x, low[live]), np.where(gap > 0, x, high[live])
            low[live], high[live] = lo_, hi_
            with np.errstate(divide="ignore", invalid="ignore"):
                step = x - gap / (per_value[live] * slope + 2.0 * mu * d[live])
            inside = np.isfinite(step) & (step >= lo_) & (step <= hi_)
            nxt = np.where(inside, step, 0.5 * (lo_ + hi_))
            v[live] = nxt
            live = live[np.abs(nxt - x) > 1e-14 * np.maximum(1e-3, np.abs(x))]
            if not live.size:
                break
        return v

    def risk2(self, v: np.ndarray) -> float:
        """q(v): squared risk of the positions left, in units of S^2."""
        held = self.p0 - v
        return float(np.sum((self.A @ held) ** 2) + np.sum(self.d * held**2))

    # ---- dual Newton at a fixed mu ------------------------------------------------------------
    def _newton(self, mu: float, lam: float, nu: np.ndarray, cuts, active: np.ndarray, budget: Budget):
        """Maximize the dual over (lambda, nu, eta_active) at fixed mu. Returns (lam, nu, eta, v) or None."""
        G, b = cuts
        with_risk = mu > 0.0
        small = np.vstack([np.ones((1, len(self.p0))), -G[active]])  # the rows other than A's: cash, cuts
        m = self.A.shape[0] if with_risk else 0
        own = np.r_[0, 1 + m:1 + m + small.shape[0] - 1]  # their places in theta = (lambda, nu, eta)
        constant = np.concatenate([[1.0], self.Ap0 if with_risk else [], -b[active]])
        damping = np.concatenate([[0.0], np.full(m, 1.0 / (2.0 * mu)) if with_risk else [], np.zeros(active.sum())])
        scale = np.concatenate([[1.0], np.full(m, max(1.0, float(np.abs(self.Ap0).max(initial=0.0)))),
                                np.maximum(1.0, np.abs(b[active]))])
        theta = np.concatenate([[lam], nu if with_risk else [], np.zeros(active.sum())])
        shift = 2.0 * mu * self.d * self.p0

        def lift(point):  # M' point, M = [1'; A; -G] (A's rows only when mu > 0)
            out = small.T @ point[own]
            return out + self.A.T @ point[1:1 + m] if with_risk else out

        def rows_times(v):  # M v
            out = np.empty(len(theta))
            out[own] = small @ v
            if with_risk:
                out[1:1 + m] = self.A @ v
            return out

        def evaluate(point):
            v = self.trades(lift(point) + shift, mu)
            mv = rows_times(v)
            value = (float(np.sum(self.costs.cost_usd(v * self.per_value))) * 1e4 / self.cash
                     - point @ mv + mu * float(np.sum(self.d * (self.p0 - v) ** 2))
                     + point @ constant - 0.5 * point @ (damping * point))
            return constant - mv - damping * point, v, value

        grad, v, value = evaluate(theta)
        stuck = 0
        for _ in range(NEWTON_STEPS):
            self.steps += 1
            if np.max(np.abs(grad) / scale) <= TOLERANCE:
                break
            if budget.expired():
                raise OutOfTime
            free = (v > self.lo) & (v < self.hi)
            stuck = stuck + 1 if not free.any() else 0
            if stuck > 4:  # every name pinned to an interval end: the rows cannot be met (or barely)
                return None
            g = np.where(free, 1.0 / self.curvature(v, mu), 0.0)
            if not free.all():  # a pinned name keeps a little of its unpinned curvature: no singular steps
                target = lift(theta) + shift
                loose = np.sign(target) * self.costs.z_at_marginal(np.abs(target)) / self.per_value
                pinned = PINNED_WEIGHT / self.curvature(loose, mu)
                if free.any():  # in the free names' scale: a name far past its end (a deep name's
                    # unclipped trade can be 1e12 x a thin one's) must not outweigh them all
                    pinned = np.minimum(pinned, PINNED_WEIGHT * float(np.max(g[free])))
                g = np.where(free, g, pinned)
            g = np.where(np.isfinite(g), g, 0.0)
            if with_risk and self.wide:
                step = self._wide_step(small, g, 1.0 / (2.0 * mu), grad, budget)
            else:
                M = np.vstack([small[:1], self.A[:m], small[1:]])
                hessian = (M * g) @ M.T + np.diag(damping)
                hessian += 1e-13 * max(1.0, float(np.trace(hessian)) / len(theta)) * np.eye(len(theta))
                try:
                    step = np.linalg.solve(hessian, grad)
                except np.linalg.LinAlgError:
                    step = np.linalg.lstsq(hessian, grad, rcond=None)[0]
            size, norm, rise = 1.0, np.linalg.norm(grad / scale), float(grad @ step)
            for _ in range(40):  # Armijo on the concave dual, or a smaller gradient where the dual is flat
                if budget.expired():
                    raise OutOfTime
                trial_grad, trial_v, trial_value = evaluate(theta + size * step)
                if trial_value >= value + 1e-4 * size * rise or (np.linalg.norm(trial_grad / scale) < 0.5 * norm
                                                                 and trial_value >= value - FLAT * abs(value)):
                    break
                size *= 0.5
            theta, grad, v, value = theta + size * step, trial_grad, trial_v, trial_value
        else:
            return None
        if np.max(np.abs(grad) / scale) > TOLERANCE * 1e3:
            return None
        eta = np.zeros(len(b))
        eta[active] = theta[1 + m:]
        return float(theta[0]), (theta[1:1 + m] if with_risk else np.zeros(self.A.shape[0])), eta, v

    def _at_mu(self, mu: float, lam: float, nu: np.ndarray, cuts, budget: Budget, lazy: bool = False):
        """Newton at fixed mu with an active set on the cuts: every cut active at first (a floor's linearization,
        which binds), or none (``lazy``: many rows of which few bind, such as a group's two weight bounds, never
        both), adding those the trades break."""
        G, b = cuts
        active = np.full(len(b), not lazy)
        for _ in range(4 * len(b) + 2):
            found = self._newton(mu, lam, nu, cuts, active, budget)
            if found is None:
                return None
            lam, nu, eta, v = found
            negative = active & (eta < -1e-12)
            violated = ~active & (G @ v > b + 1e-12 * np.maximum(1.0, np.abs(b)))
            if not negative.any() and not violated.any():
                return lam, nu, np.maximum(eta, 0.0), v
            if negative.any():
                active[np.argmin(np.where(negative, eta, np.inf))] = False
            elif lazy:  # the most broken cut alone: rows that add up to the cash row (every group) are never all in
                active[np.argmax(np.where(violated, (G @ v - b) / np.maximum(1.0, np.abs(b)), -np.inf))] = True
            else:
                active |= violated
        return None

    # ---- the Newton step when A has many rows (a full covariance's root) -------------------------
    def c_times(self, x: np.ndarray) -> np.ndarray:
        """A'A x (x: a vector or a few columns), in one pass over C when it is kept."""
        if self.C is not None:
            return _product(self.C, x)
        return _product(self.A.T, _product(self.A, x))

    def _deflation(self, budget: Budget) -> tuple[np.ndarray, np.ndarray]:
        """(U, values): C's DEFLATED leading eigenvectors (n x k) and eigenvalues, by a few passes of subspace
        iteration (each a product of C with n x (k + 8) numbers), computed once per solver; checks the budget
        between passes."""
        if self._dominant is None:
            n = len(self.p0)
            k = min(DEFLATED, n // 4)
            basis = np.random.default_rng(0).standard_normal((n, k + 8))
            for _ in range(SUBSPACE_PASSES):
                if budget.expired():
                    raise OutOfTime
                basis = np.linalg.qr(self.c_times(basis))[0]
            values, vectors = np.linalg.eigh(basis.T @ self.c_times(basis))
            top = np.argsort(values)[::-1][:k]
            self._dominant = (basis @ vectors[:, top], np.maximum(values[top], 0.0))
        return self._dominant

    def _wide_step(self, small: np.ndarray, g: np.ndarray, delta: float, grad: np.ndarray, budget: Budget) -> np.ndarray:
        """The Newton step of the dual, H s = grad, without forming H (size 1 + rows(A) + cuts).

        H = M diag(g) M' + diag(damping) with M = [1'; A; -G]: the rows of A carry the damping delta = 1/(2 mu).
        Their block K = A g A' + delta I is inverted through the names (Sherman-Morrison-Woodbury):
        K^-1 = (I - A_S P^-1 A_S') / delta with P = delta diag(1/g_S) + C_SS on the names S with g > 0
        (the primal Newton matrix over 2 mu), solved by conjugate gradients on products C x, preconditioned by
        diag + C's leading eigenvectors; the few other rows (cash, cuts) by their Schur complement.
        """
        m = self.A.shape[0]
        rows = np.r_[0, 1 + m:len(grad)]
        r_small, r_risk = grad[rows], grad[1:1 + m]
        trace = float(np.sum(small**2 @ g) + g @ self.column_squares + m * delta)
        ridge = 1e-13 * max(1.0, trace / len(grad))
        delta = delta + ridge
        weighted = small.T * g[:, None]  # n x b
        spread = _product(self.A, weighted)  # A g B': m x b
        right = np.column_stack([r_risk, spread])
        live = g > 0
        solved = np.zeros((len(g), right.shape[1]))
        if live.any():
            solved[live] = self._names_solve(live, delta / g[live], _product(self.A.T, right)[live], budget)
        k_right = (right - _product(self.A, solved)) / delta  # K^-1 [r_risk, spread]
        schur = small @ weighted + ridge * np.eye(len(rows)) - spread.T @ k_right[:, 1:]
        s_small = np.linalg.lstsq(schur, r_small - spread.T @ k_right[:, 0], rcond=None)[0]
        step = np.empty(len(grad))
        step[rows] = s_small
        step[1:1 + m] = k_right[:, 0] - k_right[:, 1:] @ s_small
        return step

    def _names_solve(self, live: np.ndarray, diagonal: np.ndarray, right: np.ndarray, budget: Budget) -> np.ndarray:
        """Solve (diag(diagonal) + C_SS) X = right on the names ``live`` by preconditioned conjugate gradients,
        one column per right-hand side; checks the budget every iteration."""
        vectors, values = self._deflation(budget)
        u = vectors[live]
        rest = np.maximum(self.c_diagonal[live] - (u**2) @ values, 0.0)
        a = diagonal + rest
        ua = u / a[:, None]
        inner = np.linalg.cholesky(np.diag(1.0 / np.maximum(values, 1e-300 * max(values.max(initial=0.0), 1.0)))
                                   + u.T @ ua)

        def precondition(r):
            w = np.linalg.solve(inner.T, np.linalg.solve(inner, ua.T @ r))
            return r / a[:, None] - ua @ w

        full = np.zeros((len(live), right.shape[1]))

        def times(x):
            full[live] = x
            return diagonal[:, None] * x + self.c_times(full)[live]

        x = np.zeros_like(right)
        r = right.copy()
        z = precondition(r)
        p = z.copy()
        rz = np.sum(r * z, axis=0)
        goal = CG_TOLERANCE * np.linalg.norm(right, axis=0)
        for _ in range(CG_STEPS):
            if np.all(np.linalg.norm(r, axis=0) <= goal):
                break
            if budget.expired():
                raise OutOfTime
            q = times(p)
            alpha = rz / np.where(np.sum(p * q, axis=0) > 0, np.sum(p * q, axis=0), np.inf)
            x += alpha * p
            r -= alpha * q
            z = precondition(r)
            rz_new = np.sum(r * z, axis=0)
            p = z + (rz_new / np.where(rz > 0, rz, np.inf)) * p
            rz = rz_new
            self.cg_steps += 1
        return x

    # ---- the whole solve ----------------------------------------------------------------------
    def solve(self, start_multiplier: float, cuts=None, budget: Budget | None = None,
              lazy: bool = False) -> DualPoint | None:
        """Least cost within the cuts (and the ceiling, if any); ``lazy``: the cuts start inactive (``_at_mu``).
        Raises OutOfTime."""
        budget = budget or Budget(None)
        n = len(self.p0)
        if cuts is None:
            cuts = (np.zeros((0, n)), np.zeros(0))
        m = self.A.shape[0]
        lam0, nu0, mu0 = self.warm if self.warm is not None else (start_multiplier, np.zeros(m), 0.0)
        state: dict = {}

        def at(mu, lam, nu):
            found = self._at_mu(mu, lam, nu, cuts, budget, lazy)
            if found is None:
                raise FloatingPointError("dual Newton did not converge")
            state.update(mu=mu, found=found)
            return found

        try:
            found = at(0.0, lam0, nu0)
            if self.R2 is None or self.risk2(found[3]) <= self.R2 * (1.0 + 1e-12):
                return self._point(0.0, found, cuts)

            memo: dict[float, tuple] = {0.0: (self.risk2(found[3]) / self.R2 - 1.0, 0.0, found)}

            def excess(mu):
                if mu in memo:  # bracket ends are asked for again: no second solve
                    value, _, found = memo[mu]
                    state.update(mu=mu, found=found)
                    return value
                previous, last_mu = state["found"], state["mu"]
                nu = previous[1] * (mu / last_mu) if last_mu > 0 else np.zeros(m)
                found = at(mu, previous[0], nu)
                memo[mu] = (self.risk2(found[3]) / self.R2 - 1.0, mu, found)
                return memo[mu][0]

            # Bracket from mu = 0 (risk above the ceiling): secant steps in mu, at least doubling. The
            # first guess balances the cash multiplier against the ceiling's pull 2 mu C x on the
            # positions left x, whose total is H = V - L (units of S): mu ~ lambda H / R^2. H is taken
            # as at most 1: near the whole book (H << 1) a guess of lambda / R^2 overshoots by 1 / H,
            # into multipliers where the Newton steps stall. A guess the Newton steps cannot solve
            # is pulled back toward the bracket's low end.
            low, f_low = 0.0, memo[0.0][0]
            high = mu0 if mu0 > 0 else max(abs(found[0]), 1e-6) * self.left / self.R2
            for _ in range(60):
                try:
                    f_high = excess(high)
                except FloatingPointError:
                    if high <= 4.0 * low or self.steps > RETREAT_STEPS:
                        raise
                    high = max(2.0 * low, high / 16.0)
                    continue
                if f_high <= 0:
                    break
                guess = high + (high - low) * f_high / max(f_low - f_high, 1e-300)
                low, f_low, high = high, f_high, float(np.clip(guess * 1.1, 2.0 * high, 64.0 * high))
            else:
                return None
            root = _root(excess, low, high)
            if root is None:
                return None
            excess(root)  # the solver's state at the root
        except (FloatingPointError, ValueError, RuntimeError):
            return None
        return self._point(state["mu"], state["found"], cuts)

    def _point(self, mu: float, found, cuts) -> DualPoint:
        lam, nu, eta, v = found
        self.warm = (lam, nu, mu)
        G, _ = cuts
        target = lam + self.A.T @ nu - G.T @ eta + 2.0 * mu * self.d * self.p0
        phi = self.marginal(v) + 2.0 * mu * self.d * v
        at_low, at_high = v <= self.lo, v >= self.hi
        return DualPoint(u=v * self.per_value, v=v, cash_multiplier=lam, cut_multipliers=eta, risk_multiplier=mu,
                         slack_low=np.where(at_low, np.maximum(phi - target, 0.0), 0.0),
                         slack_high=np.where(at_high, np.maximum(target - phi, 0.0), 0.0),
                         newton_steps=self.steps)


def _root(f, low: float, high: float) -> float | None:
    """Root of a decreasing f with f(low) > 0 >= f(high): secant steps through the two latest
    points, kept inside the bracket (a bisection when a step leaves it or stalls)."""
    f_low, f_high = f(low), f(high)
    if abs(f_high) <= CEILING_TOLERANCE:
        return high
    a, fa, b, fb = low, f_low, high, f_high
    for _ in range(ROOT_STEPS):
        x = b - fb * (b - a) / (fb - fa) if fb != fa else 0.5 * (low + high)
        width = high - low
        if not (low < x < high) or abs(x - b) > 0.75 * width:
            x = 0.5 * (low + high)
        fx = f(x)
        if abs(fx) <= CEILING_TOLERANCE:
            return x
        if fx > 0:
            low, f_low = x, fx
        else:
            high, f_high = x, fx
        a, fa, b, fb = b, fb, x, fx
        if high - low <= 1e-15 * max(1.0, abs(x)):
            return x if abs(fx) <= 1e-8 else None
    return None
