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
inside their intervals, so a step costs one solve of size 1 + rows(A) + cuts. An outer
root search on log mu makes the ceiling hold with equality when it binds. Cuts are kept by
an active set (eta >= 0). Multipliers are kept between calls to warm-start the next one
(convex-concave steps, a frontier grid). Returns None when it does not converge (the caller
then declines this path); its answers are verified by the caller like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .bounds import TradeBounds
from .plan import Budget
from .risk import RiskOperator
from .trade_costs import TradeCosts

NEWTON_STEPS = 60
ROOT_STEPS = 80
TOLERANCE = 1e-12


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
                 position_usd: np.ndarray, ceiling_usd: float | None = None):
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
        self.warm: tuple[float, np.ndarray, float] | None = None  # (lambda, nu, mu)
        self.steps = 0

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
        if mu == 0.0 or not self.has_diag:
            return np.clip(reach, self.lo, self.hi)
        low, high = np.minimum(reach, 0.0), np.maximum(reach, 0.0)  # the root lies between 0 and reach
        v = reach.copy()
        for _ in range(NEWTON_STEPS):
            gap = self.marginal(v) + 2.0 * mu * self.d * v - target
            low, high = np.where(gap < 0, v, low), np.where(gap > 0, v, high)
            with np.errstate(divide="ignore", invalid="ignore"):
                step = v - gap / self.curvature(v, mu)
            inside = np.isfinite(step) & (step >= low) & (step <= high)
            v_next = np.where(inside, step, 0.5 * (low + high))
            done = np.all(np.abs(v_next - v) <= 1e-14 * np.maximum(1e-3, np.abs(v)))
            v = v_next
            if done:
                break
        return np.clip(v, self.lo, self.hi)

    def risk2(self, v: np.ndarray) -> float:
        """q(v): squared risk of the positions left, in units of S^2."""
        held = self.p0 - v
        return float(np.sum((self.A @ held) ** 2) + np.sum(self.d * held**2))

    # ---- dual Newton at a fixed mu ------------------------------------------------------------
    def _newton(self, mu: float, lam: float, nu: np.ndarray, cuts, active: np.ndarray, budget: Budget):
        """Maximize the dual over (lambda, nu, eta_active) at fixed mu. Returns (lam, nu, eta, v) or None."""
        G, b = cuts
        with_risk = mu > 0.0
        rows = [np.ones((1, len(self.p0)))]
        if with_risk:
            rows.append(self.A)
        rows.append(-G[active])
        M = np.vstack(rows)
        m = self.A.shape[0] if with_risk else 0
        constant = np.concatenate([[1.0], self.Ap0 if with_risk else [], -b[active]])
        damping = np.concatenate([[0.0], np.full(m, 1.0 / (2.0 * mu)) if with_risk else [], np.zeros(active.sum())])
        scale = np.concatenate([[1.0], np.full(m, max(1.0, float(np.abs(self.Ap0).max(initial=0.0)))),
                                np.maximum(1.0, np.abs(b[active]))])
        theta = np.concatenate([[lam], nu if with_risk else [], np.zeros(active.sum())])
        shift = 2.0 * mu * self.d * self.p0

        def evaluate(point):
            v = self.trades(M.T @ point + shift, mu)
            value = (float(np.sum(self.costs.cost_usd(v * self.per_value))) * 1e4 / self.cash
                     - point @ (M @ v) + mu * float(np.sum(self.d * (self.p0 - v) ** 2))
                     + point @ constant - 0.5 * point @ (damping * point))
            return constant - M @ v - damping * point, v, value

        grad, v, value = evaluate(theta)
        for _ in range(NEWTON_STEPS):
            self.steps += 1
            if np.max(np.abs(grad) / scale) <= TOLERANCE:
                break
            if budget.expired():
                raise OutOfTime
            free = (v > self.lo) & (v < self.hi)
            g = np.where(free, 1.0 / self.curvature(v, mu), 0.0)
            g = np.where(np.isfinite(g), g, 0.0)
            hessian = (M * g) @ M.T + np.diag(damping)
            hessian += 1e-13 * max(1.0, float(np.trace(hessian)) / len(theta)) * np.eye(len(theta))
            try:
                step = np.linalg.solve(hessian, grad)
            except np.linalg.LinAlgError:
                step = np.linalg.lstsq(hessian, grad, rcond=None)[0]
            size, norm, rise = 1.0, np.linalg.norm(grad / scale), float(grad @ step)
            for _ in range(40):  # Armijo on the concave dual, or a smaller gradient near the top
                trial_grad, trial_v, trial_value = evaluate(theta + size * step)
                if trial_value >= value + 1e-4 * size * rise or np.linalg.norm(trial_grad / scale) < 0.5 * norm:
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

    def _at_mu(self, mu: float, lam: float, nu: np.ndarray, cuts, budget: Budget):
        """Newton at fixed mu with an active set on the cuts."""
        G, b = cuts
        active = np.ones(len(b), dtype=bool)
        for _ in range(2 * len(b) + 2):
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
            else:
                active |= violated
        return None

    # ---- the whole solve ----------------------------------------------------------------------
    def solve(self, start_multiplier: float, cuts=None, budget: Budget | None = None) -> DualPoint | None:
        """Least cost within the cuts (and the ceiling, if any). Raises OutOfTime."""
        budget = budget or Budget(None)
        n = len(self.p0)
        if cuts is None:
            cuts = (np.zeros((0, n)), np.zeros(0))
        m = self.A.shape[0]
        lam0, nu0, mu0 = self.warm if self.warm is not None else (start_multiplier, np.zeros(m), 0.0)
        state: dict = {}

        def at(mu, lam, nu):
            found = self._at_mu(mu, lam, nu, cuts, budget)
            if found is None:
                raise FloatingPointError("dual Newton did not converge")
            state.update(mu=mu, found=found)
            return found

        try:
            found = at(0.0, lam0, nu0)
            if self.R2 is None or self.risk2(found[3]) <= self.R2 * (1.0 + 1e-12):
                return self._point(0.0, found, cuts)

            seen: dict[float, float] = {}

            def excess(log_mu):
                if log_mu in seen:  # the root search asks for its bracket ends again
                    return seen[log_mu]
                mu = float(np.exp(log_mu))
                previous = state.get("found")
                last_mu = state.get("mu", 0.0)
                lam = previous[0] if previous else lam0
                nu = previous[1] * (mu / last_mu) if previous is not None and last_mu > 0 else nu0 * 0.0
                seen[log_mu] = self.risk2(at(mu, lam, nu)[3]) / self.R2 - 1.0
                return seen[log_mu]

            first = np.log(mu0) if mu0 > 0 else np.log(max(abs(found[0]), 1e-6) / self.R2)
            step = np.log(4.0)
            low = high = first
            if excess(first) > 0:
                for _ in range(60):
                    low, high = high, high + step
                    if excess(high) <= 0:
                        break
                    step *= 1.5
                else:
                    return None
            else:
                for _ in range(60):
                    low, high = low - step, low
                    if excess(low) > 0:
                        break
                    step *= 1.5
                else:
                    return self._point(state["mu"], state["found"], cuts)  # the ceiling barely binds
            root = brentq(excess, low, high, xtol=1e-13, rtol=1e-15, maxiter=ROOT_STEPS)
            if abs(excess(root)) > 1e-9:
                return None
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
