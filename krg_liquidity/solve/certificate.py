"""A certified lower bound on the cost when the risk floor binds (Lagrangian duality).

The floor sigma(x) >= F is reverse-convex, so convex-concave steps find a local optimum v*.
Weak duality bounds every feasible cost from below whatever the multipliers: in units of the
cash target S (``DualSolver``), with q(v) = |A(p0 - v)|^2 + sum d (p0 - v)^2 = (p0 - v)'C(p0 - v),
for lambda free and rho, mu >= 0,

  OPT >= min over the box of  Lg(v) = sum f_i(v_i) - lambda (1'v - 1) + mu (q(v) - R^2) + rho (F^2 - q(v)).

Lg is convex on the box when diag(h) >= 2 (rho - mu) C, with h_i the least curvature f_i'' on
name i's interval (f_i'' falls as the trade grows, so it is taken at the interval's far end;
``curvature_falls`` checks this for the parameter set), which holds when
2 (rho - mu) tau <= 1 with tau >= lambda_max(H^-1/2 C H^-1/2) <= lambda_max(A H^-1 A') + max(d / h).
For a convex Lg, Lg(v) >= Lg(v*) + grad Lg(v*)'(v - v*) and the minimum of that plane over
the box is a sum of per-name terms, so

  LB = Lg(v*) + sum_i min(g_i (lo_i - v*_i), g_i (hi_i - v*_i)),   g = grad Lg(v*).

At the steps' own multipliers (rho = eta / (2 sigma*) from the cut's multiplier eta) g is
zero on the free names and LB equals the cost when Lg is convex there: the local optimum
is then certified global. Otherwise rho is lowered to the largest convex value and the bound
is weaker but still valid; the caller also has the optimum without the floor as a bound and
keeps the larger. This is a certificate, not a search: no branching is done.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from krg_liquidity.book.risk import factoring_seconds
from krg_liquidity.core.plan import Budget, Trail
from krg_liquidity.model.params import IStarParams
from krg_liquidity.model.trade_costs import LOG_W, d2h
from krg_liquidity.solve.dual import DualPoint, DualSolver, OutOfTime


@lru_cache(maxsize=16)
def curvature_falls(params: IStarParams) -> bool:
    """Whether H''(w) (the trade-time cost curvature) is non-increasing on the whole table range,
    and a2 <= 1 (the fixed-POV curvature ~ z^(a2 - 1) then falls too)."""
    values = d2h(params, np.exp(LOG_W))
    return bool(params.a2 <= 1.0 and np.all(np.diff(values) <= 1e-12 * np.abs(values[1:])))


def _tau_bound(solver: DualSolver, h: np.ndarray, budget: Budget) -> float | None:
    """An upper bound on lambda_max(H^-1/2 C H^-1/2), C = A'A + diag(d), H = diag(h) > 0; None when the
    budget cannot cover it.

    A few rows of A: the eigenvalues of A H^-1 A'. Many (a full covariance's root): an estimate t of the
    largest eigenvalue of B = H^-1/2 A'A H^-1/2 by Lanczos steps on products B x, proven an upper bound by
    a Cholesky factor of (t I - B) (it exists only when t is above every eigenvalue); t is raised until it is.
    """
    scaled = solver.A / np.sqrt(h)
    rest = float(np.max(solver.d / h, initial=0.0))
    if not solver.wide:
        top = float(np.linalg.eigvalsh(scaled @ scaled.T)[-1]) if scaled.shape[0] else 0.0
        return top + rest
    from scipy.sparse.linalg import LinearOperator, eigsh

    n = len(h)
    root = 1.0 / np.sqrt(h)
    if budget.left() <= 2.0 * factoring_seconds(n)[1]:
        return None

    def times(x: np.ndarray) -> np.ndarray:
        if budget.expired():
            raise OutOfTime
        return root * solver.c_times(root * np.ravel(x))

    try:
        estimate = float(eigsh(LinearOperator((n, n), matvec=times, dtype=float), k=1, which="LA", tol=1e-8,
                               return_eigenvectors=False)[0])
    except OutOfTime:
        return None
    minus_b = (solver.C if solver.C is not None else scaled.T @ scaled) * -root[:, None]
    minus_b *= root[None, :]
    diagonal = np.einsum("ii->i", minus_b)  # a view: t I - B is formed in place
    t = estimate * (1.0 + 1e-6) + 1e-12 * float(np.max(-diagonal))
    for _ in range(8):
        if budget.left() <= factoring_seconds(n)[1]:
            return None
        diagonal += t
        try:
            np.linalg.cholesky(minus_b)
            return t + rest
        except np.linalg.LinAlgError:
            diagonal -= t
            t *= 1.01
    return None


def floor_lower_bound(solver: DualSolver, point: DualPoint, floor: float, trail: Trail,
                      budget: Budget) -> float | None:
    """A certified lower bound (USD) on the cost of any trade list meeting the floor, or None.

    The linear program for the best multipliers gets what is left of ``budget`` once its rows are
    built (its solver is loaded off the clock the first time: ``Trail.load``); without it, the bound
    at the steps' own multipliers (made convex) is returned instead, and the stage's detail says so.
    """
    trail.begin()
    if not curvature_falls(solver.costs.params):
        trail.record("certificate", "failed", "the cost curvature does not fall with size for these parameters")
        return None
    far = np.maximum(np.abs(solver.lo), np.abs(solver.hi))
    if not np.all(np.isfinite(far)):
        trail.record("certificate", "failed", "a name's trade interval is unbounded")
        return None
    h = solver.curvature(np.where(solver.hi >= -solver.lo, solver.hi, solver.lo), 0.0)
    if not np.all(h > 0):
        trail.record("certificate", "failed", "a name has no curvature at the end of its interval")
        return None
    v = point.v
    held = solver.p0 - v
    q = solver.risk2(v)
    sigma = np.sqrt(q)
    c_held = solver.A.T @ (solver.A @ held) + solver.d * held
    rho_steps = float(point.cut_multipliers.sum()) / (2.0 * sigma)
    if solver.wide:
        trail.load("scipy.sparse.linalg")
    tau = _tau_bound(solver, h, budget)
    if tau is None:
        trail.record("certificate", "timeout", "skipped for time: the time left cannot cover the bound on the risk "
                                               "model's curvature")
        return None
    kappa_max = 1.0 / (2.0 * tau)
    usd_per_unit = solver.cash / 1e4  # the objective is in bps of S
    cost = float(np.sum(solver.costs.cost_usd(point.u))) / usd_per_unit
    best, note = None, ""
    if budget.expired():
        note = "; the time budget ran out before the best multipliers: the bound at the steps' own"
    else:
        trail.load("scipy.optimize")
        best = _best_multipliers(solver, v, cost, q, c_held, floor, kappa_max, budget)
        if best is None and budget.expired():
            note = "; the time budget ran out in the search for the best multipliers: the bound at the steps' own"
    if best is None:  # no time, or the LP failed: the bound at the steps' own multipliers, made convex
        mu = point.risk_multiplier
        best = _bound(solver, v, cost, q, c_held, floor, point.cash_multiplier,
                      min(rho_steps, mu + kappa_max), mu)
    if not np.isfinite(best):
        trail.record("certificate", "failed", "the Lagrangian bound is unbounded on the box")
        return None
    convex = rho_steps <= point.risk_multiplier + kappa_max
    trail.record("certificate", "bound",
                 ("the Lagrangian is convex at the steps' multipliers: the local optimum is global" if convex else
                  f"the Lagrangian is convex only up to "
                  f"{(point.risk_multiplier + kappa_max) / max(rho_steps, 1e-300):.2%} "
                  "of the floor's multiplier: a partial bound") + note)
    return best * usd_per_unit


def _bound(solver: DualSolver, v, cost, q, c_held, floor, lam, rho, mu) -> float:
    """LB(lambda, rho, mu) = Lg(v*) + sum_i min over the box of grad_i (v_i - v*_i) (bps of S)."""
    value = cost - lam * (v.sum() - 1.0) + rho * (floor**2 - q)
    if solver.R2 is not None:
        value += mu * (q - solver.R2)
    gradient = solver.marginal(v) - lam + 2.0 * (rho - mu) * c_held
    with np.errstate(invalid="ignore"):
        low_side, high_side = gradient * (solver.lo - v), gradient * (solver.hi - v)
    return value + float(np.sum(np.minimum(np.nan_to_num(low_side, nan=0.0), np.nan_to_num(high_side, nan=0.0))))


def _best_multipliers(solver: DualSolver, v, cost, q, c_held, floor, kappa_max, budget: Budget) -> float | None:
    """max over (lambda, rho >= 0, mu >= 0, rho - mu <= kappa_max) of LB: a linear program, since
    LB is Lg(v*) (affine in the multipliers) plus per-name minima of affine functions. None when
    it fails or takes more than what is left of ``budget`` when it starts."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix, hstack, identity, vstack

    n = len(v)
    ceiling = solver.R2 is not None
    marginal = solver.marginal(v)
    # variables: lambda, rho, mu, t_1..t_n ; maximize a'x  (linprog minimizes -a'x)
    objective = np.concatenate([[-(v.sum() - 1.0), floor**2 - q, (q - solver.R2) if ceiling else 0.0], np.ones(n)])
    rows = []
    for end in (solver.lo, solver.hi):
        step = end - v  # t_i <= step_i * (marginal_i - lambda + 2 (rho - mu) c_i)
        coefficients = np.column_stack([step, -2.0 * step * c_held, 2.0 * step * c_held])
        rows.append((hstack([csr_matrix(coefficients), identity(n, format="csr")]), step * marginal))
    a_ub = vstack([rows[0][0], rows[1][0], csr_matrix(np.concatenate([[0.0, 1.0, -1.0], np.zeros(n)])[None, :])])
    b_ub = np.concatenate([rows[0][1], rows[1][1], [kappa_max]])
    bounds = [(None, None), (0.0, None), (0.0, None if ceiling else 0.0)] + [(None, None)] * n
    seconds = budget.left()
    if seconds <= 0:
        return None
    options = {"time_limit": seconds} if np.isfinite(seconds) else {}
    # HiGHS takes sparse rows; scipy-stubs' overloads list dense ones only
    found = linprog(-objective, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs",  # type: ignore[call-overload]
                    options=options)
    if found.status != 0:
        return None
    lam, rho, mu = found.x[:3]
    return _bound(solver, v, cost, q, c_held, floor, lam, rho, mu)  # re-evaluated exactly at the LP's multipliers
