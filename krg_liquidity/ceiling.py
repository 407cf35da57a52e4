"""Fast path for a binding risk ceiling: Newton on the dual of the cash and risk-factor rows.

When the separable answer breaks only the risk ceiling, the problem is
  min sum_i f_i(v_i)  s.t.  sum v = L,  lo <= v <= hi,  P'CP <= R^2,  P = p0 - v,
with v the value sold per name and C = A'A + diag(d) (a factor model: A = F^(1/2) B';
a full covariance: A its Cholesky factor, d = 0). With the ceiling's multiplier mu fixed,
the Lagrangian over v separates once the factor rows y = A P are dualized (multiplier nu):
each name solves the monotone equation  f_i'(v) + 2 mu d_i v = lambda + 2 mu d_i p0_i + (A'nu)_i
on its interval, and (lambda, nu) come from Newton steps on a smooth concave dual of
dimension 1 + rows(A). An outer root search on mu makes the ceiling hold with equality.
Every quantity is scaled by the cash target S (costs in bps of S). Returns None when it does
not converge; the caller then solves the conic program instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .bounds import TradeBounds
from .risk import RiskOperator
from .trade_costs import TradeCosts

NEWTON_STEPS = 60
ROOT_STEPS = 80


@dataclass(frozen=True)
class CeilingSolution:
    u: np.ndarray  # trade, fraction of ADV (+ = sell)
    cash_multiplier: float  # lambda, bps
    risk_multiplier: float  # mu, bps per (risk / S)^2
    ceiling_scaled: float  # R / S
    slack_low: np.ndarray  # multipliers of the interval ends (bps), for the marginal cost
    slack_high: np.ndarray


class _Problem:
    def __init__(self, costs: TradeCosts, bounds: TradeBounds, cash: float, risk: RiskOperator,
                 position_usd: np.ndarray, ceiling_usd: float):
        self.costs, self.scale = costs, cash
        self.per_value = cash / costs.dollar_adv  # z per unit of v (v in units of S)
        self.lo, self.hi = bounds.lo / self.per_value, bounds.hi / self.per_value
        self.p0 = position_usd / cash
        self.A = risk.top
        self.d = risk.diag**2 if risk.diag is not None else np.zeros_like(self.p0)
        self.R = ceiling_usd / cash

    def marginal(self, v):
        return np.sign(v) * self.costs.marginal_bps(v * self.per_value)

    def slope(self, v, mu):
        return self.per_value * self.costs.marginal_slope(v * self.per_value) + 2.0 * mu * self.d

    def trades(self, target, mu):
        """v with f'(v) + 2 mu d v = target, clipped to [lo, hi] (vectorized safeguarded Newton).

        The root lies between 0 and ``reach``, where f' alone equals the target.
        """
        def gap(v):
            return self.marginal(v) + 2.0 * mu * self.d * v - target

        reach = np.sign(target) * self.costs.z_at_marginal(np.abs(target)) / self.per_value
        low, high = np.minimum(reach, 0.0), np.maximum(reach, 0.0)
        v = reach.copy()
        for _ in range(NEWTON_STEPS):
            g = gap(v)
            low, high = np.where(g < 0, v, low), np.where(g > 0, v, high)
            with np.errstate(divide="ignore", invalid="ignore"):
                step = v - g / self.slope(v, mu)
            inside = np.isfinite(step) & (step >= low) & (step <= high)
            v_next = np.where(inside, step, 0.5 * (low + high))
            done = np.all(np.abs(v_next - v) <= 1e-14 * np.maximum(1e-3, np.abs(v)))
            v = v_next
            if done:
                break
        return np.clip(v, self.lo, self.hi)

    def gradient(self, lam, nu, mu):
        target = lam + 2.0 * mu * self.d * self.p0 + self.A.T @ nu
        v = self.trades(target, mu)
        held = self.p0 - v
        return np.concatenate([[1.0 - v.sum()], self.A @ held - nu / (2.0 * mu)]), v

    def inner(self, mu, guess):
        """(lambda, nu) maximizing the concave dual at fixed mu (damped Newton); None if it stalls."""
        m = self.A.shape[0]
        lam, nu = guess
        grad, v = self.gradient(lam, nu, mu)
        for _ in range(NEWTON_STEPS):
            if np.max(np.abs(grad)) <= 1e-12:
                return (lam, nu), v
            free = (v > self.lo) & (v < self.hi)
            with np.errstate(divide="ignore"):
                g = np.where(free, 1.0 / self.slope(v, mu), 0.0)
            g = np.where(np.isfinite(g), g, 0.0)
            ag = self.A @ g
            hessian = np.empty((m + 1, m + 1))
            hessian[0, 0] = g.sum()
            hessian[0, 1:] = hessian[1:, 0] = ag
            hessian[1:, 1:] = (self.A * g) @ self.A.T + np.eye(m) / (2.0 * mu)
            try:
                step = np.linalg.solve(hessian + 1e-14 * np.eye(m + 1), grad)
            except np.linalg.LinAlgError:
                return None, None
            size, norm = 1.0, np.linalg.norm(grad)
            for _ in range(40):  # backtrack on the gradient norm
                trial_grad, trial_v = self.gradient(lam + size * step[0], nu + size * step[1:], mu)
                if np.linalg.norm(trial_grad) < norm or size < 1e-9:
                    break
                size *= 0.5
            lam, nu, grad, v = lam + size * step[0], nu + size * step[1:], trial_grad, trial_v
        return None, None


def solve_ceiling(costs: TradeCosts, bounds: TradeBounds, cash: float, risk: RiskOperator,
                  position_usd: np.ndarray, ceiling_usd: float, start_multiplier: float) -> CeilingSolution | None:
    """Least-cost trades raising ``cash`` with post-trade dollar risk at most ``ceiling_usd``."""
    problem = _Problem(costs, bounds, cash, risk, position_usd, ceiling_usd)
    state = {"guess": (start_multiplier, np.zeros(problem.A.shape[0])), "v": None}

    def excess(log_mu):
        mu = float(np.exp(log_mu))
        guess, v = problem.inner(mu, state["guess"])
        if guess is None:
            raise FloatingPointError("dual Newton did not converge")
        state["guess"], state["v"], state["mu"] = guess, v, mu
        held = problem.p0 - v
        return float(np.sum((problem.A @ held) ** 2) + np.sum(problem.d * held**2)) / problem.R**2 - 1.0

    try:
        step = np.log(4.0)
        first = np.log(max(start_multiplier, 1e-6) / problem.R**2)  # a multiplier of the right size
        direction = 1.0 if excess(first) > 0 else -1.0  # > 0: risk still above the ceiling
        low = high = first
        for _ in range(40):
            nxt = (high if direction > 0 else low) + direction * step
            if direction > 0:
                low, high = high, nxt
                if excess(high) <= 0:
                    break
            else:
                low, high = nxt, low
                if excess(low) > 0:
                    break
        else:
            return None  # no bracket (e.g. the ceiling barely binds): the conic program decides
        root = brentq(excess, low, high, xtol=1e-12, rtol=1e-15, maxiter=ROOT_STEPS)
        if abs(excess(root)) > 1e-9:
            return None
    except (FloatingPointError, ValueError, RuntimeError):
        return None
    v, mu = state["v"], state["mu"]
    lam, nu = state["guess"]
    target = lam + 2.0 * mu * problem.d * problem.p0 + problem.A.T @ nu
    phi = problem.marginal(v) + 2.0 * mu * problem.d * v
    at_low, at_high = v <= problem.lo, v >= problem.hi
    return CeilingSolution(u=v * problem.per_value, cash_multiplier=float(lam), risk_multiplier=mu,
                           ceiling_scaled=problem.R,
                           slack_low=np.where(at_low, np.maximum(phi - target, 0.0), 0.0),
                           slack_high=np.where(at_high, np.maximum(target - phi, 0.0), 0.0))
