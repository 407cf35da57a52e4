"""A MATLAB-style local solve, for comparison: SLSQP over final weights from today's weights.

Mirrors MATLAB's "Liquidate Dollar Value from Portfolio" (fmincon SQP, finite-difference
gradients, one start at x0 = today's weights), with the same limits as :func:`liquidate`.
``objective="usd"`` minimizes total dollar impact (ours); ``objective="matlab"`` minimizes
MATLAB's ``MI' |x|`` (each name's impact, decimal, weighted by its final weight). It finds a
local minimum at best; it exists to be measured against, not to be used for trading.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.model.impact import CostModel
from krg_liquidity.solve.bounds import trade_bounds
from krg_liquidity.solve.request import Limits, liquidation_request


def slsqp_liquidate(portfolio: Portfolio, cash: float, *, risk_band: tuple[float, float] | None = None,
                    max_total_mi_bps: float | None = None, cost_model: CostModel | None = None,
                    objective: str = "usd", x0: ArrayLike | None = None,
                    max_iterations: int = 500, allow_buys: bool = False) -> dict:
    """Local SLSQP solve; returns dict(success, shares_after, cost_usd, iterations, message)."""
    model = cost_model or CostModel()
    h = portfolio.holdings
    shares, price, adv, vol = (portfolio.array(c) for c in ("shares", "price", "adv", "volatility"))
    n = len(h)
    net = portfolio.net_value_usd
    post = net - cash
    days = portfolio.array("trade_time") if "trade_time" in h else np.full(n, np.nan)
    pov = portfolio.array("pov") if "pov" in h else np.full(n, np.nan)
    fixed = ~np.isnan(pov)

    def shares_after(x):
        return x * post / price

    def impact_bps(x):
        size = np.abs(shares_after(x) - shares) / adv
        at_time = model.impact_bps_at_trade_time(size, vol, np.where(fixed, 1.0, days), price)
        at_pov = model.impact_bps_at_pov(size, vol, np.where(fixed, pov, 1.0), price)
        return np.where(fixed, at_pov, at_time)

    def cost_usd(x):
        return float(np.sum(impact_bps(x) / 1e4 * np.abs(shares_after(x) - shares) * price))

    def goal(x):
        if objective == "matlab":
            return float(impact_bps(x) / 1e4 @ np.abs(x))
        return cost_usd(x) / cash * 1e4

    # Every per-name limit (limits.py) is an interval on the trade, hence a box on the final weights.
    request = liquidation_request(portfolio, cash, limits=Limits(risk_band, max_total_mi_bps, allow_buys=True), cost_model=model)
    box = trade_bounds(portfolio, cash, request.costs(), allow_buys=allow_buys)
    low, high = (shares - box.hi * adv) * price / post, (shares - box.lo * adv) * price / post
    bounds = [(lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None) for lo, hi in zip(low, high)]
    constraints = [{"type": "eq", "fun": lambda x: np.sum(x) - 1.0}]
    if max_total_mi_bps is not None:
        constraints.append({"type": "ineq", "fun": lambda x: 1.0 - cost_usd(x) / cash * 1e4 / max_total_mi_bps})
    if risk_band is not None:
        risk = portfolio.risk()
        sigma0 = risk.sigma(shares * price / net)
        constraints.append({"type": "ineq", "fun": lambda x: risk_band[1] - risk.sigma(x) / sigma0})
        if risk_band[0] > 0:
            constraints.append({"type": "ineq", "fun": lambda x: risk.sigma(x) / sigma0 - risk_band[0]})
    start = shares * price / net if x0 is None else np.asarray(x0, dtype=float)
    start = np.clip(start, low, high)
    # scipy-stubs types a dict constraint's "fun" with Concatenate[...], which mypy cannot match to a lambda
    answer = minimize(goal, start, method="SLSQP", bounds=bounds, constraints=constraints,  # type: ignore[call-overload]
                      options={"maxiter": max_iterations, "ftol": 1e-10})
    return {"success": bool(answer.success), "shares_after": shares_after(answer.x), "cost_usd": cost_usd(answer.x),
            "iterations": int(answer.nit), "message": str(answer.message), "weights": answer.x}
