"""The most cash a PM can type back: ``max_cash``'s figure, checked by solving it, in whole lots.

``max_cash`` is the most cash exact (fractional) trades raise, to the dollar's fraction; under a
risk floor it is a local search, and the infeasible message's "at most" is an upper bound
computed without the floor. The faces (CLI, desk, report, stress) show one figure instead: the
largest whole-dollar target that :func:`~krg_liquidity.liquidate` raises and, where the face
trades whole shares or lots, whose answer rounded by :func:`~krg_liquidity.round_trades` keeps
every limit (a candidate whose whole lots fall short moves down to the cash they do raise). So a
most-cash figure shown to a PM is one the same tool raises when it is typed back as the target.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.core.errors import InfeasibleLiquidation, LiquidationError
from krg_liquidity.core.plan import DEFAULT_TIME_LIMIT, Budget
from krg_liquidity.model.impact import CostModel
from krg_liquidity.solve.capacity import max_cash
from krg_liquidity.solve.limits import Limits
from krg_liquidity.solve.optimize import liquidate
from krg_liquidity.solve.rounding import round_trades

TRIES = 4
"""Candidates solved before giving up (each is one ``liquidate`` and one rounding)."""

PROBES = 12
"""Targets above a raised candidate solved at most, to find the next whole dollar that is not raised."""


def tradable_cash(portfolio: Portfolio, lot_size: int | None = 1, *, limits: Limits | None = None,
                  risk_band: tuple[float, float] | None = None,
                  max_total_mi_bps: float | None = None, allow_buys: bool = False,
                  cost_model: CostModel | None = None, time_limit: float | None = DEFAULT_TIME_LIMIT,
                  most: float | None = None) -> float | None:
    """The most cash (whole USD) the tool raises when it is typed back as the target.

    The candidates, in order: ``max_cash`` without the risk band (exact, an upper bound for every
    band), then without the risk floor (with a floor, an upper bound), then ``max_cash`` with it (a
    local search). Each is rounded down to a whole dollar, solved by ``liquidate`` and, with
    ``lot_size``, rounded to whole lots; a candidate whose whole lots fall short moves down to the
    cash they do raise. From the first candidate raised, whole dollars above it are solved (at most
    ``PROBES``, by bisection) until the next one is not raised: the figure is the most that is, not a
    dollar below it.

    Parameters
    ----------
    portfolio : Portfolio
        The book.
    lot_size : int or None
        Shares per lot the answer is rounded to (1: whole shares); None: exact (fractional) shares.
    limits : Limits, optional
        The request-level limits in one value (or the keywords below, not both).
    risk_band, max_total_mi_bps, allow_buys, cost_model
        The request's limits, as :func:`~krg_liquidity.liquidate` takes them.
    time_limit : float or None
        Seconds for the whole search (every ``max_cash`` and candidate solve shares them; None: no
        limit). When they run out, the figure found so far is None.
    most : float, optional
        ``max_cash`` of these limits when already known (USD; saves its solve).

    Returns
    -------
    float or None
        A whole-dollar target whose answer (rounded to ``lot_size``) keeps every limit; None when
        no candidate does within ``TRIES`` solves each (or no cash can be raised);
        :func:`most_tradable` also says why.

    Raises
    ------
    InputError
        Bad data or limits (solver outcomes are not raised: they make the answer None).

    Examples
    --------
    >>> from krg_liquidity import Portfolio, load_example, max_cash
    >>> book = Portfolio(*load_example())
    >>> exact, whole = max_cash(book), tradable_cash(book)
    >>> abs(exact - whole) < 1e-5 * exact
    True
    """
    return most_tradable(portfolio, lot_size, limits=limits, risk_band=risk_band, max_total_mi_bps=max_total_mi_bps,
                         allow_buys=allow_buys, cost_model=cost_model, time_limit=time_limit, most=most)[0]


def most_tradable(portfolio: Portfolio, lot_size: int | None = 1, *, limits: Limits | None = None,
                  risk_band: tuple[float, float] | None = None, max_total_mi_bps: float | None = None,
                  allow_buys: bool = False, cost_model: CostModel | None = None,
                  time_limit: float | None = DEFAULT_TIME_LIMIT, most: float | None = None) -> tuple[float | None, str]:
    """:func:`tradable_cash` and, when it finds no figure, why in words.

    Parameters
    ----------
    portfolio, lot_size, limits, risk_band, max_total_mi_bps, allow_buys, cost_model, time_limit, most
        As for :func:`tradable_cash` (USD, shares per lot, seconds).

    Returns
    -------
    cash : float or None
        The figure of :func:`tradable_cash` (whole USD), or None.
    why : str
        When there is no figure: the first proof met (e.g. the risk floor proven out of reach at the
        most cash without it), else what the last solve said, or that the time budget ran out ("" when
        a figure is found).

    Raises
    ------
    InputError
        Bad data or limits.

    Examples
    --------
    >>> from krg_liquidity import Portfolio, load_example
    >>> cash, why = most_tradable(Portfolio(*load_example()))
    >>> cash > 0, why
    (True, '')
    """
    asked = Limits.of(limits, risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys)
    if asked.max_total_cost_bps is not None:  # max_cash does not take the all-in cap: no figure rather than a wrong one
        return None, "the most cash under max_total_cost_bps is not computed (max_cash does not take it yet)"
    risk_band = asked.risk_band
    keywords: dict[str, Any] = {"limits": asked, "cost_model": cost_model}  # every limit, the group rows too
    budget = Budget(time_limit)
    bands = [risk_band]
    if risk_band is not None and risk_band[0] > 0:
        bands.insert(0, (0.0, risk_band[1]))
    if risk_band is not None:
        bands.insert(0, None)
    tried, upper, why, proven = set(), None, "no cash can be raised within these limits", ""
    for band in bands:
        if _seconds(budget) == 0:
            return None, _out_of_time(budget)
        try:
            top = most if most is not None and band == risk_band else max_cash(
                portfolio, time_limit=_seconds(budget), limits=dataclasses.replace(asked, risk_band=band),
                cost_model=cost_model)
        except LiquidationError as exc:
            why = str(exc)
            proven = proven or (why if isinstance(exc, InfeasibleLiquidation) else "")
            continue
        if band is None or band[0] == 0:  # an upper bound (with a floor, max_cash is a local search)
            upper = top if upper is None else min(upper, top)
        if top in tried:
            continue
        tried.add(top)
        found, why = _typed_back(portfolio, top, lot_size, keywords, budget)
        if found is not None:
            return _pushed_up(portfolio, found, found if upper is None else upper, lot_size, keywords, budget), ""
        proven = proven or (why if why.startswith("cannot raise") else "")  # a proof at that amount
    return None, proven or why  # a proof says more than a local search that found nothing


def _out_of_time(budget: Budget) -> str:
    return f"the time budget ({budget.limit:g} s) ran out before a target near the most cash was raised"


def _seconds(budget: Budget) -> float | None:
    """What is left of ``budget`` for the next call (None: no limit; 0: nothing left)."""
    if budget.limit is None:
        return None
    left = budget.left()
    return left if left > 0.01 else 0


def _attempt(portfolio: Portfolio, target: float, lot_size: int | None, limits: dict,
             budget: Budget, step: float = 1e-9) -> tuple[bool, float, str]:
    """Solve ``target`` (and round it to ``lot_size``): (raised?, the next target to try below it, why not);
    ``step``: how far below (a fraction of ``target``, at least a dollar) after a refusal at the edge."""
    try:
        exact = liquidate(portfolio, target, raise_on_failure=False, allow_small_cash=True,
                          time_limit=_seconds(budget), **limits)
    except LiquidationError as exc:
        return False, 0.0, str(exc)
    if not exact.success:  # at the very edge the solver's tolerance may refuse it: a little less
        why = exact.message.split("\nBlocking limits")[0]
        if exact.status == "infeasible" and ("with this risk floor" in why or "no cash target" in why):
            return False, 0.0, why  # proven out of reach whatever the amount's last dollars: less would not help
        return False, float(math.floor(target * (1 - step) - 1)), why
    if lot_size is None:
        return True, target, ""
    rounded = round_trades(exact, lot_size, limits["cost_model"])
    short = rounded.cash_raised < target  # the rounding's tolerance may leave cents short: not raised
    if rounded.success and not short:
        return True, target, ""
    return False, float(math.floor(rounded.cash_raised if short else target * (1 - step) - 1)), rounded.message


def _typed_back(portfolio: Portfolio, most: float, lot_size: int | None, limits: dict,
                budget: Budget) -> tuple[float | None, str]:
    """The largest whole-dollar target at or below ``most`` found to be raised (see ``tradable_cash``), or
    None and why the last one tried was not."""
    target, why = float(math.floor(min(most, portfolio.net_value_usd * (1 - 1e-12)))), ""
    for tries in range(TRIES):  # steps down growing 4x: a conic estimate may be off by 1e-8 of it
        if not target > 0:
            return None, why or "no cash can be raised within these limits"
        if _seconds(budget) == 0:
            return None, _out_of_time(budget)
        raised, below, why = _attempt(portfolio, target, lot_size, limits, budget, 1e-9 * 4**tries)
        if raised:
            return target, ""
        target = below
    return None, why


def _pushed_up(portfolio: Portfolio, found: float, upper: float, lot_size: int | None, limits: dict,
               budget: Budget) -> float:
    """The largest whole dollar from ``found`` (raised) whose next one is not raised, searched by bisection
    up to just above ``upper`` (the least upper bound met: ``max_cash`` without the band or without the
    floor; the solve's acceptance tolerance may raise a dollar or two more), within ``PROBES`` solves and
    the budget."""
    high = float(math.floor(min(upper * (1 + 1e-9) + 2, portfolio.net_value_usd * (1 - 1e-12))))
    for probe in range(PROBES):  # the next dollar first (most often not raised: one solve), then bisection
        if found >= high or _seconds(budget) == 0:
            break
        target = found + 1 if probe == 0 else max(found + 1, float(math.floor((found + high + 1) / 2)))
        if _attempt(portfolio, target, lot_size, limits, budget)[0]:
            found = target
        else:
            high = target - 1
    return found


HEADLINE = re.compile(r"at most \$[\d,]+ can be raised within the limits( \(without the risk floor\))?")
"""The infeasible message's most-cash clause (``explain.infeasible``)."""


def with_tradable_cash(exc: InfeasibleLiquidation, portfolio: Portfolio, lot_size: int | None = 1,
                       known: float | None = None, **limits) -> InfeasibleLiquidation:
    """``exc`` with its "at most $X can be raised" replaced by :func:`tradable_cash` (the figure the
    tool raises when typed back, in ``lot_size`` lots; None: exact shares; ``known``: that figure
    when already computed); ``exc`` itself when the message states no such figure or none is found.
    ``limits``: as ``tradable_cash`` takes them."""
    if exc.max_cash is None or not HEADLINE.search(exc.headline):
        return exc
    found = known if known is not None else tradable_cash(portfolio, lot_size, **limits)
    if found is None:
        return exc
    restated = InfeasibleLiquidation(restate(str(exc), found, lot_size), cash_target=exc.cash_target,
                                     max_cash=found, blocking=exc.blocking, blocking_units=exc.blocking_units,
                                     headline=restate(exc.headline, found, lot_size),
                                     blocking_exact=exc.blocking_exact, blocking_totals=exc.blocking_totals)
    restated.stages, restated.seconds, restated.time_limit = getattr(exc, "stages", []), exc.seconds, exc.time_limit
    return restated


def as_traded(message: str, portfolio: Portfolio, lot_size: int | None = 1, **limits) -> str:
    """An infeasible ``message`` (as a failed result carries it) whose most-cash clause gives
    :func:`tradable_cash` in ``lot_size`` lots (None: exact shares), the way the caller trades;
    ``message`` itself when it states no such figure or none is found. ``limits``: as ``tradable_cash``
    takes them."""
    if not HEADLINE.search(message):
        return message
    found = tradable_cash(portfolio, lot_size, **limits)
    return message if found is None else restate(message, found, lot_size)


def restate(message: str, found: float, lot_size: int | None = 1) -> str:
    """An infeasible ``message`` whose most-cash clause gives ``found`` (USD, from :func:`tradable_cash`
    in ``lot_size`` lots; None: exact shares) instead of the bound it was written with."""
    basis = ("" if lot_size is None else " in whole shares" if lot_size == 1
             else f" in whole lots of {lot_size:,} shares")
    return HEADLINE.sub(f"the most that can be raised within the limits{basis} is ${found:,.0f}", message, count=1)
