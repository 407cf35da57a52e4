"""Why a request is impossible: the most cash that can be raised, and which limits block.

The explanation re-solves the request elastically: the cash target is kept, and each limit
gets one slack in its own unit (``limits.py``: per-name limits in dollars per name, as a
fraction of the book's net value so that all weigh alike; the total-impact cap as a fraction
of the cap; the risk band as a fraction of today's risk), and the solve keeps the sum of
slacks as small as possible. A limit with a positive slack must give that much for the target
to be reachable. The risk floor enters linearized at today's book (a restriction), so its
slack is an upper estimate. Both solves share at most a quarter of the caller's time limit
(what is left of it, if less); an explanation that runs out of time says so instead of blocking.
"""

from __future__ import annotations

import math

import numpy as np

from krg_liquidity.core.errors import InfeasibleLiquidation, LiquidationError, SolverTimeout
from krg_liquidity.core.plan import Budget
from krg_liquidity.solve.limits import LABELS, RiskFloor, applying
from krg_liquidity.solve.request import LiquidationRequest

SLACK_REPORTED = 1e-7


def beyond_the_book(cash: float, net_value: float) -> InfeasibleLiquidation:
    """The exception for a target at or above the book's net value (USD): impossible on its face, since
    selling everything raises the net value. Nothing is solved to say so."""
    return InfeasibleLiquidation(f"cannot raise ${cash:,.0f}: more than the book is worth (net value "
                                 f"${net_value:,.0f}, so {cash / net_value:.0%} of it); ask for less than the "
                                 "net value.", cash_target=cash, max_cash=None)


def floor_out_of_reach(request: LiquidationRequest, reason: str, highest_ratio: float,
                       relaxed_cost_usd: float) -> InfeasibleLiquidation:
    """The exception for a risk floor proven out of reach, explained from the proof itself (no re-solve).

    ``highest_ratio``: the proven most post-trade risk within the per-name limits, as a multiple
    of today's; ``relaxed_cost_usd``: the least impact (USD) of a trade list meeting every limit
    but the floor at this target (the caller found one), so the floor alone blocks.
    """
    cash, floor = request.cash, request.floor_ratio
    give = max(floor - highest_ratio, 0.0)
    headline = (f"cannot raise ${cash:,.0f} with this risk floor: without it the target can be raised within every "
                f"other limit (least impact {relaxed_cost_usd / cash * 1e4:.2f} bps).\nWhy: {reason}.")
    blocking, units = {RiskFloor.key: give}, {RiskFloor.key: RiskFloor.unit}
    message = "\n".join([headline, "Blocking limits, and how far each would have to give:"]
                        + [f"  {label}  {amount}" for label, amount in blocking_rows(blocking, units, request)])
    return InfeasibleLiquidation(message, cash_target=cash, max_cash=None, blocking=blocking, blocking_units=units,
                                 headline=headline)


def infeasible(request: LiquidationRequest, reason: str, budget: Budget | None = None,
               known: tuple[dict[str, float], dict[str, str]] | None = None,
               conflicts: dict[str, float] | None = None) -> InfeasibleLiquidation:
    """Build the exception for a request proven impossible (the caller raises it).

    ``known``: (blocking, units) when the proof itself says which limit blocks and by how much
    (then no elastic re-solve is run). ``conflicts``: per-name limit groups the reason names as
    conflicting, each with the largest gap (USD, on one name) between its interval and the other
    limit's; a group the elastic re-solve leaves out of the table is listed with that gap (it
    would settle the conflict if the other limit does not give). Both searches share the
    explanation's own budget (``_share``); what it could not compute in time is said once.
    """
    from krg_liquidity.solve.capacity import most_cash

    budget = _share(budget or Budget(None))
    cash = request.cash
    floor = request.risk_band is not None and request.floor_ratio > 0
    most, note, proven_none, everywhere, late = None, "", False, "", []
    if budget.expired():
        late.append("the most cash")
    else:
        try:
            most = most_cash(request, budget, without_floor=floor)
            if not np.isfinite(most):
                most, note = None, "The most cash that can be raised could not be computed (a non-finite result)."
        except InfeasibleLiquidation as none:
            proven_none, everywhere = True, str(none)  # what blocks whatever the cash target
        except SolverTimeout:
            late.append("the most cash")
        except LiquidationError:
            note = "The most cash that can be raised could not be computed (the solver did not converge)."
    blocking, units = known if known is not None else ({}, {})
    totals: dict[str, tuple[float, int]] = {}
    instead_alone: list[str] = []  # shape limits that would settle it alone, the other limits held
    if known is None and cash < request.portfolio.net_value_usd:
        if budget.expired():
            late.append("the blocking limits")
        else:
            try:
                blocking, units, totals = elastic(request, budget)
            except SolverTimeout:
                late.append("the blocking limits")
            except LiquidationError:
                pass
            if request.limits.has_shape_limits and not floor and not any(map(is_shape, blocking)) \
                    and not budget.expired():
                alone = _shape_alone(request, budget)  # the shape limits named in the reason: how far they must give
                blocking = dict(blocking) | alone[0]
                units = dict(units) | alone[1]
                instead_alone = list(alone[0])
    exact = known is not None or not floor  # the re-solve linearizes a floor: its slacks are then estimates
    floor_there = None  # the floor's proven reach at the most cash raisable without it, when short of the floor
    if floor and most is not None and known is None and not budget.expired():
        highest = floor_reach(request, most, budget)
        if highest < request.floor_ratio * (1 - 1e-9):
            floor_there = highest
            blocking = {key: value for key, value in blocking.items() if key != RiskFloor.key}
            blocking[RiskFloor.key] = request.floor_ratio - highest
            units = dict(units) | {RiskFloor.key: RiskFloor.unit}
    conflicts = conflicts or {}
    instead = [key for key in conflicts if key not in blocking]
    if instead:
        blocking = dict(blocking) | {key: conflicts[key] for key in instead}
        units = dict(units) | {key: "USD per name" for key in instead}
    without = " (without the risk floor)" if floor else ""
    if floor_there is not None:  # neither the target nor the floor: both are said, with their proofs
        most_text = (f"at most ${most:,.0f} can be raised within the other limits, and at that amount the risk "
                     f"floor is out of reach too")
        reason += (f"; and at ${most:,.0f} no trade list within the per-name limits leaves more than "
                   f"{floor_there:.4f}x today's risk (floor {request.floor_ratio:g}x)")
        floor_cash, most = most, None  # no cash is proven raisable with the floor
    elif not floor and most is not None and most > cash * (1 + 1e-9):  # out of reach for a small sale only
        most_text = (f"the limits can be met only by a larger sale (${most:,.0f} can be raised within "
                     "them: a limit measured on the book left, such as a risk ceiling or a liquidity floor, can be "
                     "out of reach for a smaller one)")
    elif most is not None and most > cash * (1 + 1e-9):  # the relaxation without the floor reaches past the target
        most_text = (f"${most:,.0f} can be raised within the limits without the risk floor, so the floor stops this "
                     "target, or a limit measured on the book left (a risk ceiling, a liquidity floor) that only a "
                     "larger sale meets")
    elif most is not None and most >= request.portfolio.net_value_usd * (1 - 1e-9):
        most_text = f"any target below the book's net value can be raised within the limits{without}"
    elif most is not None:
        most_text = f"at most ${most:,.0f} can be raised within the limits{without}"
    elif proven_none:
        most_text = "no cash target can be met within these limits"
        if everywhere and "certificate of infeasibility" in reason and "certificate of infeasibility" in everywhere:
            reason = everywhere  # the proof at this target says again what the proof at every target says
        elif everywhere:  # what blocks at every target first, then what the proof at this one found
            reason = f"{everywhere}; and {reason if reason.startswith('at ') else 'at this target, ' + reason}"
    elif note:
        most_text = note[0].lower() + note[1:].rstrip(".")
    else:
        most_text = "the most cash raisable was not computed"
    lines = [f"cannot raise ${cash:,.0f}: {most_text}.", f"Why: {reason}."]
    headline = "\n".join(lines)
    if blocking:
        rows = blocking_rows(blocking, units, request, exact=exact, totals=totals)
        if floor_there is not None:  # the floor's row from its own proof, at the amount it was proven at
            label, give = blocking_rows({RiskFloor.key: blocking[RiskFloor.key]}, units, request)[0]
            rows[list(blocking).index(RiskFloor.key)] = (label, f"{give} at ${floor_cash:,.0f}")
        width = max(len(label) for label, _ in rows)
        at = f" at ${cash:,.0f}" if proven_none or floor_there is not None else ""
        lines.append(f"Blocking limits{at}, and how far each would have to give:")
        lines += [f"  {label:<{width}}  {give}" + (" (or the other limit of its conflict gives instead)"
                                                    if key in instead else
                                                    " (instead of the rows above: the shape limits alone)"
                                                    if key in instead_alone else "")
                  for key, (label, give) in zip(blocking, rows)]
    if late:
        lines.append(f"{' and '.join(late).capitalize()} could not be computed within the time budget "
                     f"(a larger time_limit shows {'them' if len(late) > 1 else 'it'}).")
    return InfeasibleLiquidation("\n".join(lines), cash_target=cash, max_cash=most, blocking=blocking,
                                 blocking_units=units, headline=headline, blocking_exact=exact,
                                 blocking_totals=totals)


def _shape_alone(request: LiquidationRequest, budget: Budget) -> tuple[dict[str, float], dict[str, str]]:
    """How far the shape limits alone would have to give, every other limit held (none when that re-solve fails
    or runs out of time: the main table stands)."""
    try:
        found, units, _ = elastic(request, budget, only_shape=True)
    except LiquidationError:
        return {}, {}
    return found, units


def floor_reach(request: LiquidationRequest, cash: float, budget: Budget) -> float:
    """A proven bound on the most post-trade risk (a multiple of today's) that trade lists raising ``cash``
    within the per-name limits can leave (``reach.risk_upper_bound``; inf when it cannot be computed)."""
    from krg_liquidity.solve.bounds import trade_bounds
    from krg_liquidity.solve.dual import DualSolver
    from krg_liquidity.solve.reach import risk_upper_bound

    p = request.portfolio
    costs = request.costs()
    bounds = trade_bounds(p, cash, costs, request.allow_buys)
    if bounds.conflicting.any() or not 0 < cash < p.net_value_usd:
        return np.inf
    risk = p.risk()
    sigma_today = risk.sigma(p.position_usd / p.net_value_usd)
    highest = risk_upper_bound(DualSolver(costs, bounds, cash, risk, p.position_usd), budget)
    return highest / (sigma_today * (p.net_value_usd - cash) / cash)


def blocking_rows(blocking: dict[str, float], units: dict[str, str], request=None,
                  exact: bool = True, totals: dict[str, tuple[float, int]] | None = None) -> list[tuple[str, str]]:
    """(limit in words, how far it would have to give in its unit) per blocking limit.

    ``blocking``/``units``/``exact``/``totals``: as on :class:`~krg_liquidity.core.errors.InfeasibleLiquidation`
    (``blocking_exact``, ``blocking_totals``: a per-name limit's row then gives its total over the names
    first, then the largest on one name); ``request``: anything with the request's ``risk_band`` and
    ``max_total_mi_bps`` (a cap or band then also shows the value it would have to move to,
    rounded so that moving it there is enough).

    >>> blocking_rows({"total_impact_cap": 10.3}, {"total_impact_cap": "bps"})
    [('total impact cap (max_total_mi_bps)', '10.300 bps')]
    >>> blocking_rows({"participation": 3.18e6}, {"participation": "USD per name"}, totals={"participation": (7.85e7, 26)})
    [('participation cap (ub_max_pct_adv)', '$78,500,000 in all over 26 names (up to $3,180,000 on one name)')]
    """
    totals = totals or {}
    return [(LABELS.get(key, key.replace("_", " ")), _amount(key, value, units.get(key, ""), request, exact,
                                                            totals.get(key)))
            for key, value in blocking.items()]


EXPLAIN_SHARE = 0.25
"""Share of a call's time limit the explanation may use (5 s without a limit): it is extra information."""


def _share(budget: Budget) -> Budget:
    """The explanation's own budget: what is left, at most a share of the call's limit."""
    cap = 5.0 if budget.limit is None else EXPLAIN_SHARE * budget.limit
    return Budget(max(min(budget.left(), cap), 1e-3))


def round_up(value: float, digits: int) -> float:
    """``value`` rounded up at ``digits`` decimals: a cap moved to it covers ``value``.

    >>> round_up(10.1258, 2)
    10.13
    """
    step = 10.0 ** digits
    return math.ceil(value * step - 1e-6) / step


def _down(value: float, digits: int) -> float:
    """``value`` rounded down at ``digits`` decimals."""
    step = 10.0 ** digits
    return math.floor(value * step + 1e-6) / step


def _amount(key: str, value: float, unit: str, request, exact: bool = True,
            total: tuple[float, int] | None = None) -> str:
    """How far one limit must give, in words. A cap or ceiling is moved up to a figure rounded up and a floor
    down to a figure rounded down; the give shown is the distance to that figure. For the total-impact cap the
    figure is the least impact itself, so moving the cap there is enough; for the risk band it is a proven
    bound on the least (or most) risk reachable, so the band must move at least that far ("at least"). ``exact`` False: the amount is an estimate of the elastic re-solve (the risk
    floor enters it linearized, a restriction, so every slack of that solve may be overstated), said with
    "about". ``total``: (USD, names) a per-name limit gives over all names, said first."""
    about = "" if exact else "about "
    if unit == "USD per name" and total is not None and total[1] > 1:
        return (f"{about}${math.ceil(total[0] - 1e-6):,.0f} in all over {total[1]:,} names (up to "
                f"${math.ceil(value - 1e-6):,.0f} on one name)")
    if unit == "USD per name":
        return f"up to {about}${math.ceil(value - 1e-6):,.0f} on one name"
    if unit == "bps":
        cap = request.max_total_mi_bps if request is not None else None
        if cap is None:
            return f"{about}{round_up(value, 3):.3f} bps"
        target = round_up(cap + value, 3)
        return f"{about}{target - cap:.3f} bps (cap {cap:g} -> {target:.3f} bps)"
    limits = getattr(request, "limits", None)
    if unit == "annualized tracking error":
        cap = getattr(limits, "max_tracking_error", None)
        if cap is None:
            return f"{about}{round_up(value * 100, 3):.3f} points of tracking error a year"
        target = round_up((cap + value) * 100, 3)
        return f"{about}{target - cap * 100:.3f} points a year (cap {cap * 100:g}% -> {target:.3f}%)"
    if unit == "fraction of the post-trade value" and key == "liquidity_left":
        floor = getattr(limits, "min_liquid_fraction", None)
        if floor is None:
            return f"{about}{round_up(value * 100, 3):.3f}% of the post-trade value"
        target = max(_down((floor[0] - value) * 100, 3), 0.0)
        return (f"{about}{floor[0] * 100 - target:.3f} points (sellable within {floor[1]:g} day{'' if floor[1] == 1 else 's'}: {floor[0]:.0%} -> "
                f"{target:.3f}% of the post-trade value)")
    if unit == "fraction of the post-trade value":
        return f"{about}{round_up(value * 100, 3):.3f} points of the group's post-trade weight"
    if unit == "fraction of the group's value":
        return f"{about}{round_up(value * 100, 3):.3f}% of the group's value today (more may be sold)"
    band = request.risk_band if request is not None else None
    if exact and key in ("risk_ceiling", "risk_floor"):
        about = "at least "  # the risk proofs bound the least (most) risk reachable: needed, maybe not enough
    if band is not None and key == "risk_ceiling":
        target = round_up(band[1] + value, 4)
        return f"{about}{target - band[1]:.2%} of today's risk (band top {band[1]:g} -> {target:.4f}x)"
    if band is not None and key == "risk_floor":
        target = max(_down(band[0] - value, 4), 0.0)
        return f"{about}{band[0] - target:.2%} of today's risk (band bottom {band[0]:g} -> {target:.4f}x)"
    return f"{about}{round_up(value, 4):.2%} of today's risk"


def is_shape(key: str) -> bool:
    """Whether a limit's key is a shape limit's (a group's weight or value sold, the tracking error, the liquidity
    left)."""
    return key.startswith(("group_weight:", "group_sold:")) or key in ("tracking_error", "liquidity_left")


def elastic(request: LiquidationRequest, budget: Budget, only_shape: bool = False
            ) -> tuple[dict[str, float], dict[str, str], dict[str, tuple[float, int]]]:
    """One slack per limit at the requested cash (per name for a per-name limit; their total is what the
    solve keeps small); returns the positive ones (a per-name limit: the largest on one name) and their
    units, and per per-name limit its total (USD) over the names that give and how many they are.
    ``only_shape``: the shape limits alone give (``is_shape``), every other limit held."""
    from krg_liquidity.solve import conic  # cvxpy is imported only when a path needs it
    portfolio, cash = request.portfolio, request.cash
    costs = request.costs()
    limits = applying(portfolio, request.limits)
    program = conic.build(portfolio, costs, limits, cash=cash, goal="elastic",
                          elastic_only=is_shape if only_shape else None)
    status = conic.solve(program, lambda _u: 0.0, budget)
    if status == "timeout":
        raise SolverTimeout("the elastic re-solve ran out of time", "explain")
    if status not in ("optimal", "optimal_inaccurate"):
        raise LiquidationError(f"elastic re-solve failed ({status})")
    units = {limit.key: limit.unit for limit in limits if limit.key in program.slacks}
    to_units = {"USD per name": portfolio.net_value_usd, "bps": request.max_total_mi_bps or 1.0,
                "fraction of today's risk": 1.0, "fraction of the post-trade value": 1.0,
                "fraction of the group's value": 1.0, "annualized tracking error": 1.0}
    found, totals = {}, {}
    for key, slack in program.slacks.items():
        if slack.value is None:
            continue
        values = np.atleast_1d(np.asarray(slack.value, dtype=float))
        giving = np.isfinite(values) & (values > SLACK_REPORTED)
        if giving.any():
            found[key] = float(values[giving].max()) * to_units[units[key]]
            if values.size > 1:
                totals[key] = (float(values[giving].sum()) * to_units[units[key]], int(giving.sum()))
    return found, {key: units[key] for key in found}, totals
