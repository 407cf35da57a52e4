"""Liquidity profile: how much of the book can be sold within 1, 3, 7, 30 days at a participation cap.

At a participation (POV) cap p, a name trades p / (1 - p) x ADV shares a day (POV counts our
shares against ours plus the market's, as in I-Star: POV = Q / (Q + T x ADV)), so selling its
whole position takes ``size x (1 - p) / p`` days (size = |shares| / ADV): the I-Star trade-time
conversion. Within a horizon of h days a name sells ``min(|shares|, h p / (1 - p) ADV)`` shares,
priced by I-Star at POV p. The buckets split each position's value by when it is sold
("within 1 day", "1-3 days", ..., "beyond 30 days"), so they add up to the position's absolute
value, and over the book to its gross value.

The largest cash raisable within each horizon at no more than a cost budget (bps of the cash) is
``max_cash`` on the book with every name traded over the horizon (trade time h days, so its POV is
q / (q + h ADV), at most p), a participation limit of the horizon's capped volume (h p / (1 - p) of
ADV, or the name's own ``ub_max_pct_adv`` if tighter) and a total-impact cap of the budget. By
default only the market limits it (``book_limits=False``: the book's own bounds are dropped: a
mandate's weight bounds and a single liquidation's caps are not market liquidity);
``book_limits=True`` keeps them. Day buckets in the style of fund
liquidity risk management (SEC rule 22e-4 classifies holdings by the business days needed to
convert them to cash without significantly changing their market value); this is a model of
trading capacity, not a regulatory classification.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from krg_liquidity.book.portfolio import BOUND_COLUMNS, Portfolio, require_portfolio
from krg_liquidity.core import arguments
from krg_liquidity.core.errors import InvalidValueError, LiquidationError
from krg_liquidity.core.plan import DEFAULT_TIME_LIMIT
from krg_liquidity.model.impact import CostModel
from krg_liquidity.solve.capacity import max_cash
from krg_liquidity.whatif.scenarios import derived

HORIZON_COLUMNS = ("horizon_days", "symbol", "shares_sellable", "value_sellable_usd", "fraction_of_position", "mi_bps",
                   "cost_usd")
BOOK_COLUMNS = ("horizon_days", "value_sellable_usd", "fraction_of_gross", "cost_usd", "cost_bps", "max_cash_usd",
                "max_cash_fraction_of_net", "max_cash_status")


@dataclass
class LiquidityProfile:
    """``days``: per name, days to sell the whole position at the cap; ``by_horizon``: per horizon
    and name (HORIZON_COLUMNS); ``book``: per horizon (BOOK_COLUMNS); ``buckets``: per name, the
    value (USD) sold in each window, one column per bucket, plus a "book" row. ``pov_cap``,
    ``horizons`` (days) and ``cost_budget_bps`` as given."""

    days: pd.DataFrame
    by_horizon: pd.DataFrame
    book: pd.DataFrame
    buckets: pd.DataFrame
    pov_cap: float
    horizons: tuple[float, ...]
    cost_budget_bps: float | None


def bucket_labels(horizons: Iterable[float]) -> list[str]:
    """["within 1 day", "1-3 days", ..., "beyond 30 days"] for the horizons (days)."""
    h = [f"{v:g}" for v in horizons]
    return ([f"within {h[0]} day" + ("" if h[0] == "1" else "s")] + [f"{a}-{b} days" for a, b in zip(h, h[1:])]
            + [f"beyond {h[-1]} days"])


def horizon_days(horizons: Sequence[float | str]) -> tuple[float, ...]:
    """Horizons (days) as increasing positive floats; anything else is an InvalidValueError.

    >>> horizon_days([1, 3.0, "7"])
    (1.0, 3.0, 7.0)
    """
    fix = "give increasing positive numbers of days as a list, e.g. (1, 3, 7, 30)"
    if isinstance(horizons, str) or np.ndim(horizons) != 1:
        raise InvalidValueError("horizons", ["(all)"], f"is {horizons!r}, not a list of days", fix)
    days = tuple(arguments.number(h, "horizons", fix) for h in horizons)
    if not days or any(not (np.isfinite(h) and h > 0) for h in days) or list(days) != sorted(set(days)):
        raise InvalidValueError("horizons", ["(all)"], f"is {days}, not increasing positive days", fix)
    return days


def liquidity_profile(portfolio: Portfolio, pov_cap: float = 0.2, horizons: Sequence[float] = (1, 3, 7, 30), *,
                      cost_budget_bps: float | None = None, book_limits: bool = False,
                      risk_band: tuple[float, float] | None = None,
                      cost_model: CostModel | None = None,
                      time_limit: float | None = DEFAULT_TIME_LIMIT) -> LiquidityProfile:
    """Per name and for the book: value sellable within each horizon (days) at ``pov_cap``, its cost, the
    days to liquidate each name, buckets, and the most cash raisable within each horizon.

    Values in USD, costs in USD and bps.

    Parameters
    ----------
    portfolio : Portfolio
        The book.
    pov_cap : float
        Participation (fraction of market volume), in (0, 1).
    horizons : sequence of float
        Increasing positive horizons (days).
    cost_budget_bps : float, optional
        Total impact at most this many bps of the cash (None: no cost limit; the participation
        limit alone).
    book_limits : bool
        Keep the book's own per-name bounds in the max-cash solves (see the module docstring).
    risk_band : tuple of float, optional
        As in :func:`~krg_liquidity.liquidate`, applied to the max-cash solves.
    cost_model : CostModel, optional
        The I-Star model (None: Kissell 2013 parameters).
    time_limit : float or None
        Seconds for each max-cash solve (None: no limit).

    Returns
    -------
    LiquidityProfile
        ``days`` (per name, days to sell the whole position at the cap), ``by_horizon`` (per
        horizon and name), ``book`` (per horizon, with the most cash) and ``buckets`` (per name, the
        value sold in each window).

    Raises
    ------
    InputError
        A bad book, ``pov_cap``, ``horizons`` or ``cost_budget_bps``.

    Examples
    --------
    >>> from krg_liquidity import Portfolio, load_example
    >>> profile = liquidity_profile(Portfolio(*load_example()), 0.2, (1, 3))
    >>> list(profile.buckets.columns)
    ['symbol', 'within 1 day', '1-3 days', 'beyond 3 days']
    """
    require_portfolio(portfolio)
    pov_cap = arguments.fraction(pov_cap, "pov_cap", closed=False)
    horizons = horizon_days(horizons)
    if cost_budget_bps is not None:
        fix = "give the most total impact in bps of the cash, e.g. 25 (or None: no cost limit)"
        cost_budget_bps = arguments.number(cost_budget_bps, "cost_budget_bps", fix)
        if not (np.isfinite(cost_budget_bps) and cost_budget_bps > 0):
            raise InvalidValueError("cost_budget_bps", ["(all)"], f"is {cost_budget_bps:g}; it must be positive", fix)
    model = cost_model or CostModel()
    symbols = portfolio.holdings["symbol"].to_numpy()
    shares, price, adv, vol = (portfolio.array(c) for c in ("shares", "price", "adv", "volatility"))
    held = np.abs(shares)
    per_day = pov_cap / (1.0 - pov_cap) * adv  # shares a day at the cap
    days = held / per_day
    position = held * price
    parts, book_rows, sold = [], [], []
    for h in horizons:
        q = np.minimum(held, h * per_day)
        mi = np.where(q > 0, model.impact_bps_at_pov(q / adv, vol, pov_cap, price), 0.0)
        cost = model.bps_to_usd(mi, q, price)
        sold.append(q * price)
        parts.append(pd.DataFrame({"horizon_days": h, "symbol": symbols, "shares_sellable": q,
                                   "value_sellable_usd": q * price,
                                   "fraction_of_position": np.divide(q, held, out=np.ones_like(q), where=held > 0),
                                   "mi_bps": mi, "cost_usd": cost}))
        most, status = _most_cash(horizon_book(portfolio, h, pov_cap, book_limits), cost_budget_bps, risk_band,
                                  model, time_limit)
        value = float((q * price).sum())
        book_rows.append((h, value, value / position.sum(), float(cost.sum()),
                          float(cost.sum()) / value * 1e4 if value > 0 else 0.0, most,
                          most / portfolio.net_value_usd, status))
    edges = np.vstack([np.zeros(len(symbols))] + sold + [position])
    buckets = pd.DataFrame(np.diff(edges, axis=0).T, columns=bucket_labels(horizons))
    buckets.insert(0, "symbol", symbols)
    total = buckets.drop(columns="symbol").sum().to_frame().T.assign(symbol="book")
    buckets = pd.concat([buckets, total[buckets.columns]], ignore_index=True)
    return LiquidityProfile(
        days=pd.DataFrame({"symbol": symbols, "position_usd": shares * price, "size_adv": held / adv,
                           "days_to_liquidate": days}),
        by_horizon=pd.concat(parts, ignore_index=True), book=pd.DataFrame(book_rows, columns=list(BOOK_COLUMNS)),
        buckets=buckets, pov_cap=float(pov_cap), horizons=horizons, cost_budget_bps=cost_budget_bps)


def horizon_book(portfolio: Portfolio, horizon_days: float, pov_cap: float, book_limits: bool = False) -> Portfolio:
    """The book traded over ``horizon_days`` (its trade time) with at most the horizon's volume at
    ``pov_cap`` per name (and its own per-name bounds when ``book_limits``)."""
    drop = ("trade_time", "pov", "size") + (() if book_limits else BOUND_COLUMNS)
    h = portfolio.holdings.drop(columns=[c for c in drop if c in portfolio.holdings])
    cap = horizon_days * pov_cap / (1.0 - pov_cap)
    own = h["ub_max_pct_adv"].to_numpy(dtype=float) if "ub_max_pct_adv" in h else np.full(len(h), np.nan)
    h = h.assign(trade_time=horizon_days, ub_max_pct_adv=np.fmin(own, cap))
    return derived(portfolio, h, portfolio.covariance, portfolio.factor_model)


def _most_cash(book, budget, risk_band, model, time_limit) -> tuple[float, str]:
    try:
        most = max_cash(book, risk_band=risk_band, max_total_mi_bps=budget,
                        cost_model=model, time_limit=time_limit)
    except LiquidationError as exc:
        return (0.0 if exc.status == "infeasible" else float("nan")), exc.status
    return most, "optimal"
