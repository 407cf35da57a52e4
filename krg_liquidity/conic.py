"""The liquidation as a conic program (cvxpy + Clarabel), for when the risk band couples names.

Scaled variables: the value sold per name divided by a scale S (the cash target, or the
book's gross value when the cash is a variable), and its absolute value; the trade in
fractions of ADV, u, and z = |u| are expressions of them. The objective is in bps of S,
the cash row is a plain sum, and every coefficient is O(1) instead of raw dollars.
Impact cost per name, with alpha = 1 + a2, beta = a4, r = (alpha + beta) / alpha:

  cost_usd = DV A / 1e4 * ( b1 * (z^r (z+T)^(1-r))^alpha + (1 - b1) z^alpha )   (trade time T)
  cost_usd = DV A / 1e4 * ( b1 p^beta + 1 - b1 ) z^alpha                           (fixed POV p)

each term a power cone, so the total cost is convex and the total-impact cap is a
convex constraint. The risk ceiling is a second-order cone on the post-trade positions;
the post-trade value V - L is written as the sum of final positions, so the cash
target appears in the cash row alone and its multiplier is the full marginal cost of
the next dollar raised. The risk floor (reverse-convex) enters as a linearization sigma(y) >= g'y with
g = C y_k / sigma(y_k) (a cvxpy Parameter, so iterations reuse the compiled problem)
and an elastic slack whose penalty is another Parameter.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import cvxpy as cp
import numpy as np

from .bounds import TradeBounds
from .portfolio import Portfolio
from .risk import RiskOperator
from .trade_costs import TradeCosts

ACCEPT_VIOLATION = 1e-6
# A shorter step than Clarabel's default (0.99) kept its power-cone iterations from stalling
# on every one of 74 random books where the default stalled on 10 (measured when this ladder was chosen).
SOLVER_LADDER = (
    ("CLARABEL", {"max_step_fraction": 0.9}),
    ("CLARABEL", {"max_step_fraction": 0.9, "equilibrate_enable": False}),
    ("SCS", {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000}),
)


@dataclass
class Attempt:
    """One solver call: what ran, what it said, how long it took."""

    solver: str
    options: dict
    status: str
    seconds: float
    max_violation: float | None = None
    accepted: bool = False

    def to_dict(self) -> dict:
        return {"solver": self.solver, "options": self.options, "status": self.status,
                "seconds": self.seconds, "max_violation": self.max_violation, "accepted": self.accepted}


@dataclass
class ConicModel:
    """A compiled-once cvxpy problem and handles to its variables and parameters."""

    problem: cp.Problem
    u: cp.Expression
    cash_scaled: cp.Variable | float
    cash_constraint: cp.Constraint
    cost_scaled: cp.Expression
    scale: float
    floor_gradient: cp.Parameter | None = None
    floor_penalty: cp.Parameter | None = None
    floor_slack: cp.Variable | None = None
    attempts: list[Attempt] = field(default_factory=list)


def impact_cost_scaled(costs: TradeCosts, z: cp.Expression, scale: float) -> tuple[cp.Expression, list]:
    """Total impact cost in bps of ``scale`` dollars as a convex expression of z, and its cones.

    The outer powers use cvxpy's exact power-cone form (``approx=False``); the perspective
    term is an explicit 3-D power cone. (Chaining two explicit power cones made Clarabel
    stall on the example book; this form solves it.)
    """
    p = costs.params
    alpha, beta = 1.0 + p.a2, p.a4
    weight = costs.dollar_adv * costs.scale / scale  # DV A / S: cost_usd * 1e4 / S per unit of the bracket
    plain_coef = np.where(costs.fixed, costs.pov_factor, 1.0 - p.b1)
    total = (weight * plain_coef) @ cp.power(z, alpha, approx=False)
    cones = []
    timed = np.flatnonzero(~costs.fixed)
    if timed.size:
        r = (alpha + beta) / alpha
        zt = z[timed]
        mid = cp.Variable(timed.size, nonneg=True)
        cones.append(cp.PowCone3D(mid, zt + costs.trade_time[timed], zt, 1.0 / r))  # mid >= z^r (z+T)^(1-r)
        total = total + (weight[timed] * p.b1) @ cp.power(mid, alpha, approx=False)
    return total, cones


def build(portfolio: Portfolio, costs: TradeCosts, box: TradeBounds, *, cash: float | None,
          risk: RiskOperator | None, risk_band: tuple[float, float] | None,
          max_total_mi_bps: float | None, floor: bool) -> ConicModel:
    """Liquidation program. ``cash=None``: maximize the cash raised (max_cash) instead.

    ``box`` holds the L-independent per-name intervals (the weight bounds, which move with
    L, are added here as linear constraints in u and L).
    """
    n = len(portfolio.holdings)
    dv = costs.dollar_adv
    net = portfolio.net_value_usd
    scale = float(cash) if cash is not None else portfolio.gross_value_usd
    traded = cp.Variable(n)  # value sold / S: the cash row is sum(traded) = L / S
    gross = cp.Variable(n, nonneg=True)  # >= |traded|
    u, z = cp.multiply(scale / dv, traded), cp.multiply(scale / dv, gross)
    cash_scaled = cp.Variable(nonneg=True) if cash is None else cash / scale
    position = portfolio.position_usd / scale - traded  # final positions / S
    post_scaled = cp.Variable()  # = (V - L) / S, tied to the positions so that L sits in the cash row alone;
    constraints_post = [post_scaled == cp.sum(position)]  # one dense row, not one per weight bound
    cost, constraints = impact_cost_scaled(costs, z, scale)
    constraints += constraints_post + [gross >= traded, gross >= -traded]
    for bound, side in ((box.lo, 1), (box.hi, -1)):
        finite = np.isfinite(bound)
        if finite.any():
            constraints.append(side * (traded[finite] - bound[finite] * dv[finite] / scale) >= 0)
    for name, side in (("lb_wt", 1), ("ub_wt", -1)):
        if name in portfolio.holdings:
            w = portfolio.array(name)
            has = ~np.isnan(w)
            if has.any():
                constraints.append(side * (position[has] - w[has] * post_scaled) >= 0)
    cash_constraint = cp.sum(traded) == cash_scaled
    constraints.append(cash_constraint)
    if max_total_mi_bps is not None:
        constraints.append(cost <= max_total_mi_bps * cash_scaled)
    model_kwargs = {}
    penalty_term = 0
    if risk_band is not None:
        sigma_today = risk.sigma(portfolio.position_usd / net)
        constraints.append(cp.norm(risk.stacked(position)) <= risk_band[1] * sigma_today * post_scaled)
        if floor:
            gradient = cp.Parameter(n)
            penalty = cp.Parameter(nonneg=True)
            slack = cp.Variable(nonneg=True)
            constraints.append(gradient @ position + slack >= risk_band[0] * sigma_today * post_scaled)
            penalty_term = penalty * slack
            model_kwargs = dict(floor_gradient=gradient, floor_penalty=penalty, floor_slack=slack)
    objective = (cp.Minimize(cost + penalty_term) if cash is not None
                 else cp.Maximize(cash_scaled - penalty_term))
    problem = cp.Problem(objective, constraints)
    return ConicModel(problem, u, cash_scaled, cash_constraint, cost, scale, **model_kwargs)


def solve(model: ConicModel, check) -> str:
    """Run the solver ladder until an answer passes ``check(u) -> max violation``.

    Returns the accepted status ("optimal" / "optimal_inaccurate"), or the last status
    ("infeasible", "unbounded", "solver_error", ...) when no attempt is accepted. An
    "infeasible" verdict from Clarabel ends the ladder.
    """
    last = "not_run"
    for solver, options in SOLVER_LADDER:
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():  # an inaccurate answer is judged by its violation below
                warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                model.problem.solve(solver=solver, **options)
            status = model.problem.status
        except cp.error.SolverError as exc:
            status = f"solver_error: {exc}".splitlines()[0][:200]
        attempt = Attempt(solver, options, status, time.perf_counter() - start)
        model.attempts.append(attempt)
        last = status
        if status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) and model.u.value is not None:
            attempt.max_violation = float(check(model.u.value))
            if attempt.max_violation <= ACCEPT_VIOLATION:
                attempt.accepted = True
                return status
        elif status in (cp.INFEASIBLE, cp.UNBOUNDED) and solver == "CLARABEL":
            return status
    return last
