"""A plain cvxpy + Clarabel formulation of a liquidation, for side-by-side benchmarks.

What a user would write directly: one cvxpy problem per call (compiled each time), the
impact cost as power cones, the per-name limits as a box on the value sold, the risk
ceiling as a second-order cone, the risk floor by convex-concave iterations (the floor
linearized at the last point as a cvxpy Parameter) from the optimum without the floor.
Clarabel with its default settings. Returns (shares_after, cost_usd, status).
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from krg_liquidity.solve.bounds import trade_bounds
from krg_liquidity.solve.conic import impact_cost_scaled
from krg_liquidity.solve.request import make_request


def plain_liquidate(portfolio, cash, risk_band=None, iterations: int = 30):
    request = make_request(portfolio, cash, risk_band, None, False, None)
    costs = request.costs()
    box = trade_bounds(portfolio, cash, costs, False)
    dv, n = costs.dollar_adv, len(portfolio.holdings)
    sold = cp.Variable(n)  # value sold / cash
    size = cp.Variable(n, nonneg=True)  # |sold|
    cost, cones = impact_cost_scaled(costs, size, np.full(n, cash), cash)  # value sold in units of the cash
    held = portfolio.position_usd / cash - sold
    constraints = cones + [size >= sold, size >= -sold, cp.sum(sold) == 1,
                           sold >= box.lo * dv / cash, sold <= box.hi * dv / cash]
    floor_gradient = None
    if risk_band is not None:
        risk = portfolio.risk()
        level = risk.sigma(portfolio.position_usd / portfolio.net_value_usd) * (portfolio.net_value_usd - cash) / cash
        constraints.append(cp.norm(risk.stacked(held)) <= risk_band[1] * level)
        if risk_band[0] > 0:
            floor_gradient = cp.Parameter(n)
            floor_constraint = floor_gradient @ held >= risk_band[0] * level
    relaxed = cp.Problem(cp.Minimize(cost), constraints)
    relaxed.solve(solver="CLARABEL")
    if relaxed.status not in ("optimal", "optimal_inaccurate"):
        return None, np.nan, relaxed.status
    value = sold.value
    if floor_gradient is not None:
        problem = cp.Problem(cp.Minimize(cost), constraints + [floor_constraint])
        previous = np.inf
        for _ in range(iterations):
            position = portfolio.position_usd / cash - value
            floor_gradient.value = risk.covariance_times(position) / risk.sigma(position)
            problem.solve(solver="CLARABEL")
            if problem.status not in ("optimal", "optimal_inaccurate"):
                return None, np.nan, problem.status
            value = sold.value
            if abs(previous - problem.value) <= 1e-9 * max(1.0, abs(problem.value)):
                break
            previous = problem.value
    shares_after = portfolio.array("shares") - value * cash / portfolio.array("price")
    return shares_after, float(costs.cost_usd(value * cash / dv).sum()), "optimal"
