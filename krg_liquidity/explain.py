"""Why a request is impossible: the most cash that can be raised, and which limits block.

The explanation re-solves the request elastically: the cash target is kept, and each
limit group gets one slack, in its own units, which the solve keeps as small as possible
(sum of slacks). A group with a positive slack must give that much for the target to be
reachable. Per-name groups give in dollars per name (slack in units of the book's net
value, so all groups weigh alike), the total-impact cap in bps (slack as a fraction of
the cap), the risk band as a fraction of today's risk.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from . import conic
from .bounds import GROUP_LABELS, trade_bounds
from .errors import InfeasibleLiquidation, LiquidationError
from .request import Request

SLACK_REPORTED = 1e-7


def infeasible(request: Request, reason: str) -> InfeasibleLiquidation:
    """Build the exception for an impossible request (the caller raises it)."""
    from .capacity import _max_cash

    cash = request.cash
    try:
        most = _max_cash(request)
    except LiquidationError:
        most = None
    blocking, units = {}, {}
    if cash < request.portfolio.net_value_usd:
        try:
            blocking, units = elastic(request)
        except LiquidationError:
            pass
    parts = [f"cannot raise ${cash:,.0f}: {reason}."]
    floor = request.risk_band is not None and request.risk_band[0] > 0
    if most is not None:
        parts.append(f"At most ${most:,.0f} can be raised within the limits"
                     + (" (found by local search: the risk floor is not convex)." if floor else "."))
    else:
        parts.append("No cash target was found that meets these limits (the risk floor is not convex, so this "
                     "search is local)." if floor else "No cash target can be met within these limits.")
    if blocking:
        gives = "; ".join(f"{GROUP_LABELS.get(g, g.replace('_', ' '))} by {_amount(v, units[g])}"
                          for g, v in blocking.items())
        parts.append(f"Blocking limits (how far each would have to give): {gives}.")
    return InfeasibleLiquidation(" ".join(parts), cash_target=cash, max_cash=most,
                                 blocking=blocking, blocking_units=units)


def _amount(value: float, unit: str) -> str:
    if unit == "USD per name":
        return f"${value:,.0f} per name"
    if unit == "bps":
        return f"{value:.3g} bps"
    return f"{value:.2%} of today's risk"


def elastic(request: Request) -> tuple[dict[str, float], dict[str, str]]:
    """One slack per limit group at the requested cash; returns the positive ones and their units."""
    portfolio, cash = request.portfolio, request.cash
    costs = request.costs()
    bounds = trade_bounds(portfolio, cash, costs, request.allow_buys)
    n = len(portfolio.holdings)
    dv, net = costs.dollar_adv, portfolio.net_value_usd
    traded, gross = cp.Variable(n), cp.Variable(n, nonneg=True)  # value sold / cash, and its absolute value
    u, z = cp.multiply(cash / dv, traded), cp.multiply(cash / dv, gross)
    slacks: dict[str, cp.Variable] = {}
    constraints = [gross >= traded, gross >= -traded, cp.sum(traded) == 1.0]
    for group, (lo, hi) in bounds.groups.items():
        slack = slacks.setdefault(group, cp.Variable(nonneg=True))  # in units of the net value, per name
        for bound, side in ((lo, 1), (hi, -1)):
            finite = np.isfinite(bound)
            if finite.any():
                limit = bound[finite] * dv[finite] / cash
                constraints.append(side * (traded[finite] - limit) + net / cash * slack >= 0)
    units = {g: "USD per name" for g in bounds.groups}
    if request.max_total_mi_bps is not None:
        cost, cones = conic.impact_cost_scaled(costs, z, cash)
        slacks["total_impact_cap"] = cp.Variable(nonneg=True)
        constraints += cones + [cost <= request.max_total_mi_bps * (1 + slacks["total_impact_cap"])]
        units["total_impact_cap"] = "bps"
    if request.risk_band is not None:
        risk = portfolio.risk()
        post = (net - cash) / cash
        position = portfolio.position_usd / cash - traded
        today = portfolio.position_usd / net
        sigma = risk.sigma(today)
        slacks["risk_ceiling"] = cp.Variable(nonneg=True)
        constraints.append(cp.norm(risk.stacked(position)) <= sigma * post * (request.risk_band[1] + slacks["risk_ceiling"]))
        units["risk_ceiling"] = "fraction of today's risk"
        if request.risk_band[0] > 0:
            gradient = risk.covariance_times(today) / sigma
            slacks["risk_floor"] = cp.Variable(nonneg=True)
            constraints.append(gradient @ position >= sigma * post * (request.risk_band[0] - slacks["risk_floor"]))
            units["risk_floor"] = "fraction of today's risk"
    problem = cp.Problem(cp.Minimize(cp.sum(list(slacks.values()))), constraints)
    model = conic.ConicModel(problem, u, cash / cash, constraints[2], 0, cash)
    status = conic.solve(model, lambda _u: 0.0)
    if status not in ("optimal", "optimal_inaccurate"):
        raise LiquidationError(f"elastic re-solve failed ({status})")
    to_units = {"USD per name": net, "bps": request.max_total_mi_bps or 1.0, "fraction of today's risk": 1.0}
    found = {g: float(s.value) * to_units[units[g]] for g, s in slacks.items()
             if s.value is not None and s.value > SLACK_REPORTED}
    return found, {g: units[g] for g in found}
