"""``liquidate`` and ``max_cash``: raise cash at least total market impact inside the book's limits.

Problem (dollars; per name shares s, price p, ADV, trade time T or fixed POV):
minimize  sum_i MI_i(q_i)/1e4 * q_i * p_i      over final shares y, traded q = |y - s|
s.t.      sum_i (s_i - y_i) p_i = L                               (cash target)
          per-name limits (direction, weights y p/(V-L), shares, values, %ADV, impact)
          sum_i cost_i <= max_total_mi_bps/1e4 * L                 (optional)
          lo sigma(w) <= sigma(x) <= hi sigma(w)                    (optional risk band)

Solution path: (1) the separable search on the cash multiplier (every limit but the
risk band is per-name; the total cap is checked on its answer, which is the least cost
possible); if its answer meets the band it is the global optimum. (2) If only the risk
ceiling breaks, a dual Newton solve of the ceiling (``ceiling.py``); if its answer meets
every limit it is the global optimum. (3) Otherwise the conic program with the risk
ceiling; if its answer meets the floor it is the global optimum. (4) Otherwise
convex-concave iterations on the floor, every iterate feasible, with the step-3 cost as
a lower bound and the relative gap reported.
"""

from __future__ import annotations

import time

import numpy as np

from . import conic
from .bounds import trade_bounds
from .ceiling import solve_ceiling
from .errors import SolverFailure
from .explain import infeasible
from .floor import convex_concave
from .impact import CostModel
from .portfolio import Portfolio
from .request import Request, make_request
from .result import LiquidationResult, binding_labels, trade_table
from .separable import CashOutOfReach, solve_separable
from .trade_costs import TradeCosts
from .verify import impact_table, violations

GAP_OPTIMAL = 1e-6
BAND_TOLERANCE = 1e-9


def liquidate(portfolio: Portfolio, cash: float, *, risk_band: tuple[float, float] | None = None,
              max_total_mi_bps: float | None = None, allow_buys: bool = False,
              cost_model: CostModel | None = None, method: str = "auto") -> LiquidationResult:
    """Raise ``cash`` dollars from ``portfolio`` at least total market impact.

    ``risk_band=(lo, hi)``: post-trade risk between lo and hi times today's.
    ``max_total_mi_bps``: total impact cost at most this many bps of ``cash``.
    ``allow_buys``: let trades add to positions or flip them (each trade still costs impact).
    ``method``: "auto" (the separable search, then the conic program only if the risk band
    binds) or "conic" (always solve the conic program: an independent cross-check).
    Raises ``InfeasibleLiquidation`` (with the most cash that can be raised and the blocking
    limits) or ``SolverFailure``; bad data raises an ``InputError`` before any solve.

    >>> from krg_liquidity import Portfolio, load_example
    >>> holdings, covariance = load_example()
    >>> result = liquidate(Portfolio(holdings, covariance), 1e9)
    >>> result.status, round(result.cash_raised / 1e6, 3)
    ('optimal', 1000.0)
    """
    request = make_request(portfolio, cash, risk_band, max_total_mi_bps, allow_buys, cost_model)
    if method not in ("auto", "conic"):
        raise ValueError(f"method={method!r}: use 'auto' or 'conic'")
    started = time.perf_counter()
    if cash >= portfolio.net_value_usd:
        raise infeasible(request, f"the cash target ${cash:,.0f} is not below the book's net value "
                                  f"${portfolio.net_value_usd:,.0f}")
    costs = request.costs()
    bounds = trade_bounds(portfolio, cash, costs, request.allow_buys)
    shares, adv = portfolio.array("shares"), portfolio.array("adv")
    try:
        fast = solve_separable(costs, bounds, cash)
    except CashOutOfReach as exc:
        raise infeasible(request, _out_of_reach(portfolio, bounds, exc.reachable, cash)) from None
    u, lower_bound, path, iterations, attempts = fast.u, None, "separable", 1, []
    marginal = _separable_marginal(portfolio, costs, bounds, u, fast.marginal_cost_bps)
    if max_total_mi_bps is not None:
        least = float(costs.cost_usd(u).sum())
        if least > max_total_mi_bps / 1e4 * cash * (1 + 1e-9):
            raise infeasible(request, f"the least possible impact is {least / cash * 1e4:.2f} bps, "
                                      f"above max_total_mi_bps={max_total_mi_bps}")
    shortfall, excess = _band_misses(request, shares - u * adv)
    ceiling = None
    if method == "auto" and excess > BAND_TOLERANCE and shortfall <= 0:
        ceiling = _ceiling_path(request, costs, bounds, fast.marginal_cost_bps)
    if ceiling is not None:
        try:
            return _result(request, shares - ceiling[0] * adv, ceiling[1], None, "ceiling", 1, [],
                           binding_labels(ceiling[0], bounds.lo, bounds.hi, bounds.lo_group, bounds.hi_group, tol=1e-9),
                           time.perf_counter() - started)
        except SolverFailure:
            pass  # the independent check refused it: the conic program decides
    if method == "conic" or max(shortfall, excess) > BAND_TOLERANCE:
        u, marginal, lower_bound, path, iterations, attempts = _solve_coupled(request, costs, bounds)
    return _result(request, shares - u * adv, marginal, lower_bound, path, iterations, attempts,
                   binding_labels(u, bounds.lo, bounds.hi, bounds.lo_group, bounds.hi_group,
                                  tol=1e-9 if path == "separable" else 1e-6),
                   time.perf_counter() - started)


def _solve_coupled(request: Request, costs: TradeCosts, bounds):
    """Steps 2 and 3: the conic program with the ceiling, then convex-concave iterations on the floor."""
    portfolio, cash = request.portfolio, request.cash
    shares, adv = portfolio.array("shares"), portfolio.array("adv")
    box = bounds.without("weight")
    risk = portfolio.risk() if request.risk_band is not None else None
    common = dict(cash=cash, risk=risk, risk_band=request.risk_band, max_total_mi_bps=request.max_total_mi_bps)

    def relaxed_check(u):
        return max(request.check(shares - np.clip(u, box.lo, box.hi) * adv, cash, band=False).values())

    relaxed = conic.build(portfolio, costs, box, floor=False, **common)
    status = conic.solve(relaxed, relaxed_check)
    attempts = [a.to_dict() for a in relaxed.attempts]
    if status not in ("optimal", "optimal_inaccurate"):
        if status == "infeasible":
            raise infeasible(request, "no trade list meets the risk ceiling together with the other limits")
        raise SolverFailure(f"the conic solve failed ({status}) on every solver", attempts)
    u = np.clip(relaxed.u.value, box.lo, box.hi)
    lower_bound = float(costs.cost_usd(u).sum())
    marginal = _marginal(relaxed)
    if risk is None or _band_misses(request, shares - u * adv)[0] <= BAND_TOLERANCE:
        return u, marginal, lower_bound, "conic", 1, attempts
    model = conic.build(portfolio, costs, box, floor=True, **common)
    u, iterations, feasible = convex_concave(request, model, u, box)
    if not feasible:
        raise infeasible(request, "no trade list found that keeps risk above the floor of the risk band")
    attempts += [a.to_dict() for a in model.attempts]
    return u, _marginal(model), lower_bound, "conic+convex-concave", iterations + 1, attempts


def _out_of_reach(portfolio: Portfolio, bounds, reachable: tuple[float, float], cash: float) -> str:
    if bounds.conflicting.any():
        names = np.asarray(portfolio.symbols)[bounds.conflicting]
        return f"the limits of {', '.join(names[:8])} contradict each other at this target"
    if reachable[0] > cash:
        return f"the per-name limits force trades raising at least ${reachable[0]:,.0f} at this target"
    return f"the per-name limits allow at most ${reachable[1]:,.0f} at this target"


def _ceiling_path(request: Request, costs: TradeCosts, bounds, multiplier: float):
    """When only the ceiling is broken: the dual-Newton solve, if it converges and meets the floor and cap.

    Returns (u, marginal cost in bps) or None (then the conic program runs).
    """
    portfolio, cash = request.portfolio, request.cash
    risk, net = portfolio.risk(), portfolio.net_value_usd
    sigma_today = risk.sigma(portfolio.position_usd / net)
    solution = solve_ceiling(costs, bounds, cash, risk, portfolio.position_usd,
                             request.risk_band[1] * sigma_today * (net - cash), multiplier)
    if solution is None:
        return None
    shortfall, _ = _band_misses(request, portfolio.array("shares") - solution.u * portfolio.array("adv"))
    capped = request.max_total_mi_bps is not None and (
        costs.cost_usd(solution.u).sum() > request.max_total_mi_bps / 1e4 * cash)
    if shortfall > BAND_TOLERANCE or capped:
        return None  # the floor or the total cap binds as well
    marginal = solution.cash_multiplier + 2.0 * solution.risk_multiplier * solution.ceiling_scaled**2 * cash / (net - cash)
    at_high = (bounds.hi_group == "weight") & (solution.slack_high > 0)
    at_low = (bounds.lo_group == "weight") & (solution.slack_low > 0)
    if at_high.any():
        marginal -= float(np.sum(solution.slack_high[at_high] * portfolio.array("lb_wt")[at_high]))
    if at_low.any():
        marginal += float(np.sum(solution.slack_low[at_low] * portfolio.array("ub_wt")[at_low]))
    return solution.u, float(marginal)


def _band_misses(request: Request, shares_after: np.ndarray) -> tuple[float, float]:
    """(floor shortfall, ceiling excess) of post-trade risk, as fractions of today's risk (<= 0: met)."""
    if request.risk_band is None:
        return 0.0, 0.0
    portfolio = request.portfolio
    risk, net = portfolio.risk(), portfolio.net_value_usd
    today = risk.sigma(portfolio.position_usd / net)
    after = risk.sigma(shares_after * portfolio.array("price") / (net - request.cash))
    return (request.risk_band[0] * today - after) / today, (after - request.risk_band[1] * today) / today


def _separable_marginal(portfolio: Portfolio, costs: TradeCosts, bounds, u: np.ndarray, multiplier: float) -> float:
    """d(least cost)/d(cash) in bps: the multiplier, corrected for weight bounds that move with the cash.

    A name held at a weight bound w must sell w more dollars for each extra dollar raised
    (its bound is w (V - L)); the free names supply the rest at the multiplier.
    """
    labels = binding_labels(u, bounds.lo, bounds.hi, bounds.lo_group, bounds.hi_group)
    at_hi, at_lo = (labels == "weight") & (u == bounds.hi), (labels == "weight") & (u == bounds.lo)
    if not (at_hi.any() or at_lo.any()):
        return multiplier
    moves = np.zeros(len(u))
    if at_hi.any():
        moves[at_hi] = portfolio.array("lb_wt")[at_hi]
    if at_lo.any():
        moves[at_lo] = portfolio.array("ub_wt")[at_lo]
    own = np.sign(u) * costs.marginal_bps(u)
    return float(multiplier + np.sum(moves * (own - multiplier)))


def _marginal(model: conic.ConicModel) -> float:
    dual = model.cash_constraint.dual_value
    return float(-np.asarray(dual).item()) if dual is not None else float("nan")


def _result(request: Request, shares_after, marginal, lower_bound, method, iterations, attempts, binding,
            seconds) -> LiquidationResult:
    portfolio = request.portfolio
    shares, price = portfolio.array("shares"), portfolio.array("price")
    traded = shares_after - shares
    impacts = impact_table(portfolio, traded, request.cost_model)
    raised = float(-(traded * price).sum())
    cost = float(impacts["cost_usd"].sum())
    found = violations(portfolio, shares_after, request.cash, allow_buys=request.allow_buys,
                       risk_band=request.risk_band, max_total_mi_bps=request.max_total_mi_bps,
                       cost_model=request.cost_model, impacts=impacts)
    worst = max(found.values())
    if worst > conic.ACCEPT_VIOLATION:
        raise SolverFailure(f"the answer violates the limits by {worst:.2e} ({max(found, key=found.get)}); "
                            "refusing to return it", attempts)
    lower_bound = cost if lower_bound is None else min(lower_bound, cost)
    gap = (cost - lower_bound) / cost if cost > 0 else 0.0
    risk_before = risk_after = None
    if portfolio.has_risk_model:
        risk = portfolio.risk()
        net = portfolio.net_value_usd
        risk_before = risk.sigma(shares * price / net)
        risk_after = risk.sigma(shares_after * price / (net - raised))
    return LiquidationResult(
        status="optimal" if gap <= GAP_OPTIMAL else "feasible",
        cash_target=request.cash, cash_raised=raised, cost_usd=cost, cost_bps=cost / raised * 1e4,
        lower_bound_usd=lower_bound, gap=gap, risk_before=risk_before, risk_after=risk_after,
        marginal_cost_bps=marginal, max_violation=worst, violations=found,
        trades=trade_table(portfolio.symbols, shares, shares_after, price, impacts, portfolio.net_value_usd,
                           raised, binding, portfolio.array("adv"), portfolio.array("volatility")),
        method=method, iterations=iterations, attempts=attempts, seconds=seconds,
    )
