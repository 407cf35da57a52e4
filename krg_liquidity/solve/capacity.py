"""``max_cash``: the most cash the book's limits allow, as a convex program in (trades, cash)."""

from __future__ import annotations

import numpy as np

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.core.errors import (
    InfeasibleLiquidation,
    InputError,
    NoFeasiblePointFound,
    SolverFailure,
    SolverTimeout,
)
from krg_liquidity.core.plan import DEFAULT_TIME_LIMIT, Budget, SolverOptions, liquidation_options
from krg_liquidity.model.impact import CostModel
from krg_liquidity.solve.bounds import trade_bounds
from krg_liquidity.solve.limits import TotalCostCap, TotalImpactCap, applying, shaped_words
from krg_liquidity.solve.request import CapacityRequest, Limits, capacity_request
from krg_liquidity.solve.separable import solve_separable
from krg_liquidity.solve.verify import ACCEPT_VIOLATION, violations


def max_cash(portfolio: Portfolio, *, limits: Limits | None = None, risk_band: tuple[float, float] | None = None,
             max_total_mi_bps: float | None = None, allow_buys: bool = False,
             group_column: str | None = None, group_limits=None,
             max_tracking_error: float | None = None,
             min_liquid_fraction: tuple[float, float] | None = None,
             max_pct_adv: float | None = None, max_weight_change: float | None = None,
             max_sold_fraction: float | None = None,
             cost_model: CostModel | None = None, time_limit: float | None = DEFAULT_TIME_LIMIT,
             options: SolverOptions | None = None) -> float:
    """The most cash (USD) that can be raised inside the limits, in one solve.

    The weight bounds move with the cash raised, so the cash is a variable of the program;
    every limit but the risk floor is convex in (trades, cash), so without a floor the
    answer is exact (without a risk band it is sharpened to 1e-12 by bisection on exact
    feasibility checks; with one it is at most that maximum without the band, as a band only
    takes trades away). The figure is in exact (fractional) shares, unrounded dollars; the
    most a whole-share (or round-lot) trade list raises, checked by solving it, is
    :func:`~krg_liquidity.tradable_cash`. With a floor it is found by convex-concave steps from today's book
    (a local search: it may fall short of the true maximum). The answer is at most the book's
    net value (``liquidate`` needs a target strictly below it). The answer's trades are checked
    against every limit at the cash they raise before it is returned.

    Parameters
    ----------
    portfolio : Portfolio
        The book.
    limits : Limits, optional
        The request-level limits as one :class:`~krg_liquidity.Limits` value, or as the keywords
        below (not both).
    risk_band : tuple of float, optional
        ``(lo, hi)``: post-trade risk between lo and hi times today's (None: no band).
    max_total_mi_bps : float, optional
        Total impact cost at most this many bps of the cash raised (None: no cap).
    allow_buys : bool
        Let trades add to positions or flip them.
    group_column : str, optional
        The holdings column naming each name's group (None: the first of ``group``, ``sector``,
        ``industry``, ``country``, ``GICS Sector`` the book has).
    group_limits : dict or DataFrame, optional
        Group limits: a dict of book-wide defaults or a DataFrame indexed by group, with ``lb_wt``,
        ``ub_wt`` (post-trade weight bounds, fractions), ``max_weight_change`` (fraction of weight,
        0.02 = +/-2 points) and ``max_sold_fraction`` (fraction of the group's value). None: none.
    max_tracking_error : float, optional
        Annualized tracking error of the post-trade weights against today's, a fraction (0.01 = 1%).
    min_liquid_fraction : tuple of float, optional
        ``(f, D)``: at least the fraction f of the post-trade value sellable within D days at the
        names' participation rate (their ``pov``, else 20% of the volume).
    max_pct_adv, max_weight_change, max_sold_fraction : float, optional
        Book-wide per-name defaults where the holdings leave the bound blank (see
        :class:`~krg_liquidity.Limits`).
    cost_model : CostModel, optional
        The I-Star model pricing the trades (None: Kissell 2013 parameters).
    time_limit : float or None
        Seconds for the whole call (None: no limit).
    options : SolverOptions, optional
        How to solve as one value (time limit, conic solvers and their parameters), in place of
        ``time_limit`` (not both).

    Returns
    -------
    float
        The most cash, in dollars (exact shares, unrounded).

    Raises
    ------
    InputError
        Bad data or limits, before any solve.
    InfeasibleLiquidation
        No trade list meets the convex limits at all.
    NoFeasiblePointFound
        With a risk floor, the local search found no feasible point (not a proof).
    SolverTimeout
        ``time_limit`` ran out.
    SolverFailure
        No solver's answer passes the check.

    Examples
    --------
    >>> from krg_liquidity import Portfolio, load_example
    >>> holdings, covariance = load_example()
    >>> 0.1 < max_cash(Portfolio(holdings, covariance)) / 1e10 < 0.6
    True
    """
    asked = Limits.of(limits, risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys,
                      group_column=group_column, group_limits=group_limits,
                      max_tracking_error=max_tracking_error, min_liquid_fraction=min_liquid_fraction,
                      max_pct_adv=max_pct_adv, max_weight_change=max_weight_change,
                      max_sold_fraction=max_sold_fraction)
    if asked.max_total_cost_bps is not None:
        raise InputError("max_cash does not take max_total_cost_bps yet: give max_total_mi_bps (impact alone), "
                         "or find the cash with liquidate(..., limits=Limits(max_total_cost_bps=...)) at a grid of targets")
    request = capacity_request(portfolio, limits=asked, cost_model=cost_model)
    chosen = liquidation_options(options, time_limit=time_limit)
    return most_cash(request, Budget(chosen.time_limit, chosen))


def most_cash(request: CapacityRequest, budget: Budget, without_floor: bool = False) -> float:
    """``max_cash`` for a validated request; ``without_floor`` drops the risk floor (a convex bound)."""
    from krg_liquidity.solve import conic  # cvxpy is imported only when a path needs it
    portfolio = request.portfolio
    costs = request.costs()
    box = trade_bounds(portfolio, 0.0, costs, request.allow_buys, exclude=("weight",))
    if box.conflicting.any():
        names = np.asarray(portfolio.symbols)[box.conflicting]
        raise InfeasibleLiquidation(
            f"the limits of {', '.join(names[:8])} contradict each other (no trade meets them all)",
            cash_target=float("nan"), max_cash=None)
    asked = request.limits.without_floor() if without_floor else request.limits
    band = asked.risk_band
    exact = _bisect(request, costs, box, budget)  # every limit but the risk band (and the shape limits), to 1e-12
    shaped = asked.has_shape_limits
    if exact is not None and (band is None or _within_band(request, costs, exact, band)) and (
            not shaped or _within_band(request, costs, exact, band, shape=True)):
        return exact  # a band only takes trades away: when the least-cost answer there meets it, it is the most
    floor = band is not None and band[0] > 0
    limits = applying(portfolio, asked)
    program = conic.build(portfolio, costs, limits, cash=None, goal="cash")
    shares, adv, price = (portfolio.array(c) for c in ("shares", "adv", "price"))

    def check(u) -> float:
        """Every limit at the cash this point raises, recomputed from its trades (as ``liquidate`` does)."""
        cash = float(np.sum(u * adv * price))
        if not cash > 0 or cash >= portfolio.net_value_usd:
            return 0.0 if cash <= 0 else np.inf
        found = violations(portfolio, shares - u * adv, cash, allow_buys=request.allow_buys, risk_band=band,
                           max_total_mi_bps=request.max_total_mi_bps, cost_model=request.cost_model,
                           traded=-u * adv, limits=asked)
        return max(found.values())

    if floor:
        found, _, reason = conic.convex_concave(
            program, lambda u: (shares - u * adv) * price, portfolio.risk(), check,
            np.zeros(len(shares)), budget)
        if found is None:
            if budget.expired():
                raise SolverTimeout("max_cash: the time budget ran out in the risk-floor search", "max_cash")
            raise NoFeasiblePointFound(f"max_cash: the local search on the risk floor found no feasible point "
                                       f"({reason}); this is not a proof that none exists")
        status = "optimal"
    else:
        status = conic.solve(program, check, budget)
        refused_cash = program.cash_found
        if status.startswith("refused") and refused_cash is not None:
            # near the whole book: again with the value left at the refused answer as the unit
            left = portfolio.net_value_usd - refused_cash * program.scale
            if 0 < left < 0.5 * portfolio.net_value_usd:
                second = conic.build(portfolio, costs, limits, cash=None, goal="cash", scale_usd=left)
                again = conic.solve(second, check, budget)
                if again in ("optimal", "optimal_inaccurate"):  # the first solve saw a point: no proof here
                    program, status = second, again
    if status == "infeasible":
        if shaped and exact is not None:  # feasible without them: the group, tracking or liquidity limits block
            raise InfeasibleLiquidation(
                f"the {shaped_words(asked)} cannot be met at any cash target within the other limits (the solver's "
                f"certificate of infeasibility; without {'them' if ' and ' in shaped_words(asked) else 'it'} up to "
                f"${exact:,.0f} could be raised)",
                cash_target=float("nan"), max_cash=None)
        if band is not None and exact is not None:  # feasible without the band: its ceiling blocks at every target
            raise InfeasibleLiquidation(
                f"the risk ceiling ({band[1]:g}x today's risk) cannot be met at any cash target within the other "
                f"limits (the solver's certificate of infeasibility; without the risk band up to ${exact:,.0f} "
                "could be raised)", cash_target=float("nan"), max_cash=None)
        raise InfeasibleLiquidation("no trade list meets every limit, whatever the cash target",
                                    cash_target=float("nan"), max_cash=None)
    net = portfolio.net_value_usd
    if status == "unbounded":
        return net
    if status == "timeout":
        raise SolverTimeout("max_cash: the time budget ran out in the conic solve", "max_cash")
    if status not in ("optimal", "optimal_inaccurate"):
        raise SolverFailure(f"max_cash: the solve failed ({status})", [a.to_dict() for a in program.attempts])
    answer = program.cash_found
    if answer is None:
        raise SolverFailure(f"max_cash: the solve said {status} but returned no cash",
                            [a.to_dict() for a in program.attempts])
    most = min(max(0.0, answer * program.scale), net)
    if band is None and not shaped and most > 0:
        most = _polish(request, costs, most, budget)
    if exact is not None:  # a band only takes trades away: never above the exact maximum without it
        most = min(most, exact)
    return most


def _within_band(request: CapacityRequest, costs, cash: float, band: tuple[float, float] | None,
                 shape: bool = False) -> bool:
    """Does the least-cost trade list raising ``cash`` (every limit but the band) keep the risk ``band``?
    ``shape``: does it keep the group, tracking-error and liquidity limits too?"""
    portfolio = request.portfolio
    plan = solve_separable(costs, trade_bounds(portfolio, cash, costs, request.allow_buys), cash)
    if plan is None:
        return False
    traded = -plan.u * portfolio.array("adv")
    found = violations(portfolio, portfolio.array("shares") + traded, cash, allow_buys=request.allow_buys,
                       risk_band=band, max_total_mi_bps=None, cost_model=request.cost_model, traded=traded,
                       limits=request.limits if shape else None)
    if shape:
        return max(found.values()) <= ACCEPT_VIOLATION
    return max(found.get("risk_floor", 0.0), found.get("risk_ceiling", 0.0)) <= ACCEPT_VIOLATION


def _feasible(request: CapacityRequest, costs, cash: float) -> bool:
    """Without a risk band: can ``cash`` be raised? (per-name reach, then the least cost vs the cap)."""
    if cash >= request.portfolio.net_value_usd:
        return False
    bounds = trade_bounds(request.portfolio, cash, costs, request.allow_buys)
    plan = solve_separable(costs, bounds, cash)
    if plan is None:
        return False
    total_cap = request.limits.max_total_cost_bps  # (a liquidation's explanation; max_cash refuses it)
    if total_cap is not None and TotalCostCap(total_cap).exceeded(float(costs.cost_usd(plan.u).sum()), cash, 0.0):
        return False  # (with both caps, each is checked alone: a bound on the cash, exact for either cap alone)
    if request.max_total_mi_bps is None:
        return True
    if costs.has_linear:  # the cap is on impact alone: the least impact, not the least all-in cost
        plan = solve_separable(costs.impact_only(), bounds, cash)
        if plan is None:
            return False
    return not TotalImpactCap(request.max_total_mi_bps).exceeded(float(costs.impact_usd(plan.u).sum()), cash, 0.0)


def _bisect(request: CapacityRequest, costs, box, budget: Budget) -> float | None:
    """Without a risk band: the most cash by bisection on exact feasibility checks (the separable
    search), from a feasible amount up to what the intervals can reach. None when no small amount
    is feasible (then the conic program decides)."""
    net = request.portfolio.net_value_usd
    upper = min(net * (1 - 1e-12), float(np.sum(costs.dollar_adv * np.where(np.isfinite(box.hi), box.hi, np.inf))))
    low = max(0.01, 1e-9 * net)
    for _ in range(4):  # forced trades may raise a minimum: start from it
        if _feasible(request, costs, low):
            break
        forced = trade_bounds(request.portfolio, low, costs, request.allow_buys)
        least = float(np.sum(costs.dollar_adv * np.maximum(forced.lo, 0.0)))
        if not np.isfinite(least) or least <= low:
            return None
        low = least * (1 + 1e-9)
    else:
        return None
    return _upper_end(request, costs, low, upper, budget)


def _upper_end(request: CapacityRequest, costs, low: float, high: float, budget: Budget) -> float:
    """The largest feasible cash in [low, high], ``low`` feasible: feasible amounts form an interval
    (the problem is convex in trades and cash), so bisection converges to its upper end (to 1e-12).
    Raises ``SolverTimeout`` when ``budget`` runs out first (``low`` alone would understate it)."""
    if _feasible(request, costs, high):
        return high
    for _ in range(200):
        if budget.expired():
            raise SolverTimeout("max_cash: the time budget ran out in the bisection", "max_cash")
        middle = 0.5 * (low + high)
        low, high = (middle, high) if _feasible(request, costs, middle) else (low, middle)
        if high - low <= 1e-12 * high:
            break
    return low


def _polish(request: CapacityRequest, costs, estimate: float, budget: Budget) -> float:
    """Sharpen the conic estimate (solver tolerance ~1e-7) by bisection on exact feasibility checks."""
    width = 1e-6
    low = estimate * (1 - width)
    while not _feasible(request, costs, low):
        width *= 10
        if width > 0.5:
            return estimate
        low = estimate * (1 - width)
    return _upper_end(request, costs, low, estimate * (1 + 1e-6), budget)
