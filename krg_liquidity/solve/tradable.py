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

import math
import re

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.core.errors import InfeasibleLiquidation, LiquidationError
from krg_liquidity.core.plan import DEFAULT_TIME_LIMIT, Budget
from krg_liquidity.model.impact import CostModel
from krg_liquidity.solve.capacity import max_cash
from krg_liquidity.solve.optimize import liquidate
from krg_liquidity.solve.rounding import round_trades

TRIES = 4
"""Candidates solved before giving up (each is one ``liquidate`` and one rounding)."""


def tradable_cash(portfolio: Portfolio, lot_size: int | None = 1, *, risk_band: tuple[float, float] | None = None,
                  max_total_mi_bps: float | None = None, allow_buys: bool = False,
                  cost_model: CostModel | None = None, time_limit: float | None = DEFAULT_TIME_LIMIT,
                  most: float | None = None) -> float | None:
    """The most cash (whole USD) the tool raises when it is typed back as the target.

    The candidates, in order: ``max_cash`` without the risk floor (exact; with a floor, an upper
    bound), then ``max_cash`` with it (a local search). Each is rounded down to a whole dollar,
    solved by ``liquidate`` and, with ``lot_size``, rounded to whole lots; a candidate whose whole
    lots fall short moves down to the cash they do raise.

    Parameters
    ----------
    portfolio : Portfolio
        The book.
    lot_size : int or None
        Shares per lot the answer is rounded to (1: whole shares); None: exact (fractional) shares.
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
        no candidate does within ``TRIES`` solves each (or no cash can be raised).

    Raises
    ------
    InputError
        Bad data or limits (solver outcomes are not raised: they make the answer None).

    Examples
    --------
    >>> from krg_liquidity import Portfolio, load_example, max_cash
    >>> book = Portfolio(*load_example())
    >>> exact, whole = max_cash(book), tradable_cash(book)
    >>> 0 <= exact - whole < 1e-5 * exact
    True
    """
    limits = {"risk_band": risk_band, "max_total_mi_bps": max_total_mi_bps, "allow_buys": allow_buys,
              "cost_model": cost_model}
    budget = Budget(time_limit)
    floor = risk_band is not None and risk_band[0] > 0
    tried = set()
    for without_floor in ((True, False) if floor else (False,)):
        band = (0.0, risk_band[1]) if without_floor and floor else risk_band
        if _seconds(budget) == 0:
            return None
        try:
            top = most if most is not None and not without_floor else max_cash(
                portfolio, time_limit=_seconds(budget), **{**limits, "risk_band": band})
        except LiquidationError:
            continue
        if top in tried:
            continue
        tried.add(top)
        found = _typed_back(portfolio, top, lot_size, limits, budget)
        if found is not None:
            return found
    return None


def _seconds(budget: Budget) -> float | None:
    """What is left of ``budget`` for the next call (None: no limit; 0: nothing left)."""
    if budget.limit is None:
        return None
    left = budget.left()
    return left if left > 0.01 else 0


def _typed_back(portfolio: Portfolio, most: float, lot_size: int | None, limits: dict,
                budget: Budget) -> float | None:
    """The largest whole-dollar target at or below ``most`` found to be raised (see ``tradable_cash``)."""
    target = float(math.floor(min(most, portfolio.net_value_usd * (1 - 1e-12))))
    for _ in range(TRIES):
        if not target > 0 or _seconds(budget) == 0:
            return None
        try:
            exact = liquidate(portfolio, target, raise_on_failure=False, allow_small_cash=True,
                              time_limit=_seconds(budget), **limits)
        except LiquidationError:
            return None
        if not exact.success:  # at the very edge the solver's tolerance may refuse it: a little less
            target = float(math.floor(target * (1 - 1e-9) - 1))
            continue
        if lot_size is None:
            return target
        rounded = round_trades(exact, lot_size, limits["cost_model"])
        if rounded.success:
            return target
        short = rounded.cash_raised < target
        target = float(math.floor(rounded.cash_raised if short else target * (1 - 1e-9) - 1))
    return None


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
    return InfeasibleLiquidation(restate(str(exc), found, lot_size), cash_target=exc.cash_target,
                                 max_cash=found, blocking=exc.blocking, blocking_units=exc.blocking_units,
                                 headline=restate(exc.headline, found, lot_size))


def restate(message: str, found: float, lot_size: int | None = 1) -> str:
    """An infeasible ``message`` whose most-cash clause gives ``found`` (USD, from :func:`tradable_cash`
    in ``lot_size`` lots; None: exact shares) instead of the bound it was written with."""
    basis = ("" if lot_size is None else " in whole shares" if lot_size == 1
             else f" in whole lots of {lot_size:,} shares")
    return HEADLINE.sub(f"the most that can be raised within the limits{basis} is ${found:,.0f}", message, count=1)
