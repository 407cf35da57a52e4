"""The risk floor, a reverse-convex limit, by convex-concave iterations (penalty CCP)."""

from __future__ import annotations

import numpy as np

from . import conic
from .errors import SolverFailure
from .request import Request

CCP_MAX_ITERATIONS = 60
CCP_TOLERANCE = 1e-9


def convex_concave(request: Request, model: conic.ConicModel, u: np.ndarray, box) -> tuple[np.ndarray, int, bool]:
    """Linearize the risk floor at the current point and re-solve until the cost settles.

    An elastic slack with a growing penalty reaches the feasible region first; from then on
    every iterate meets the floor (the linearization under-estimates sigma) and the cost
    can only fall. Returns the last point, the iteration count and whether it meets every limit.
    """
    portfolio = request.portfolio
    shares, adv, price = portfolio.array("shares"), portfolio.array("adv"), portfolio.array("price")
    risk = portfolio.risk()
    penalty, previous = 1e3, np.inf

    def check(candidate):
        target = model.cash_scaled * model.scale if isinstance(model.cash_scaled, float) else (
            float(model.cash_scaled.value) * model.scale)  # max_cash: the cash is a variable
        return max(request.check(shares - np.clip(candidate, box.lo, box.hi) * adv, target).values())

    for iteration in range(1, CCP_MAX_ITERATIONS + 1):
        position = (shares - u * adv) * price
        sigma = risk.sigma(position)
        model.floor_gradient.value = risk.covariance_times(position) / max(sigma, 1e-300)
        model.floor_penalty.value = penalty
        status = conic.solve(model, lambda _u: 0.0)  # feasibility is judged after the slack reaches zero
        if status not in ("optimal", "optimal_inaccurate"):
            raise SolverFailure(f"a convex-concave step failed ({status})", [a.to_dict() for a in model.attempts])
        u = np.clip(model.u.value, box.lo, box.hi)
        slack = float(model.floor_slack.value)
        objective = float(model.problem.value)
        if slack <= 1e-10:
            if abs(previous - objective) <= CCP_TOLERANCE * max(1.0, abs(objective)):
                break
            previous = objective
        else:
            penalty = min(penalty * 10.0, 1e9)
    feasible = float(model.floor_slack.value) <= 1e-8 and check(u) <= conic.ACCEPT_VIOLATION
    return u, iteration, feasible
