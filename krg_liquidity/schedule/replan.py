"""Re-planning a basket schedule part-way through: the rest of the orders, optimized from what happened.

After ``periods_done`` periods of an optimal basket schedule, ``replan`` takes the shares filled so far
and the market now (prices; optionally updated ADV and volatility) and solves
``optimize_basket_schedule`` again for the shares still to trade over the periods still left, with the
plan's risk aversion and risk measure, the volume profile turned so that the first period left is the
right bucket of the day, and the answer's times put back on the original plan's clock. The solve starts
from the plan's own remaining periods (``warm_start``): the same optimum, certified the same way, in
fewer interior-point steps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from krg_liquidity.book import columns as col
from krg_liquidity.book.orders import as_table
from krg_liquidity.core import arguments
from krg_liquidity.core.errors import InconsistentInputError, InvalidValueError, symbols_text
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.profiles import load_volume_profile, profile_buckets
from krg_liquidity.schedule.optimal import ScheduleSolution, optimize_basket_schedule


def _by_symbol(values, name: str, column: str) -> pd.Series:
    """A dict / Series by symbol, or a table with symbol and ``column``: floats by symbol."""
    if isinstance(values, pd.DataFrame):
        frame = col.normalize_columns(as_table(values, what=name))
        col.require(frame, column, context=name)
        return pd.Series(col.numeric(frame, column), index=frame["symbol"].astype(str))
    if isinstance(values, (dict, pd.Series)):
        series = pd.Series({str(k): arguments.number(v, name, f"give {name} as numbers by symbol")
                            for k, v in dict(values).items()}, dtype=float)
        return series
    raise InvalidValueError(name, ["(all)"], f"is a {type(values).__name__}",
                            f"give {name} as a dict by symbol or a table with symbol and {column}")


def _turned(profile, minutes: int):
    """The profile started ``minutes`` into the session, its labels kept (its first bucket then reads as the
    open: the schedule's times are put back afterwards)."""
    table = profile.to_frame().T if isinstance(profile, pd.Series) else profile
    clock = [int(h) * 60 + int(m) for h, m in (str(c).split(":") for c in table.columns)]
    step = clock[1] - clock[0] if len(clock) > 1 else minutes
    turned = pd.DataFrame(np.roll(table.to_numpy(float), -(minutes // step), axis=1), index=table.index,
                          columns=table.columns)
    if isinstance(profile, pd.Series):
        first = turned.iloc[0]
        first.name = profile.name
        return first
    return turned


def replan(plan: ScheduleSolution, fills_so_far, market_now, trades, *, periods_done: int,
           covariance: pd.DataFrame | None = None, factor_model=None, profile=None, bucket_minutes: int = 30,
           max_pov=None, cost_model: CostModel | None = None, time_limit: float = 30.0) -> ScheduleSolution:
    """The rest of ``plan`` re-optimized after ``periods_done`` periods.

    Parameters
    ----------
    plan : ScheduleSolution
        The schedule being executed (``optimize_basket_schedule``).
    fills_so_far : dict, Series or DataFrame
        Shares filled so far by symbol, signed as the orders (negative for sales); names not given: none.
    market_now : dict, Series or DataFrame
        Price now (USD) by symbol, or a table with symbol, price and optionally adv and volatility.
        Every name with shares left needs a price.
    trades : DataFrame
        The orders the plan was made from (symbol, signed shares, adv, price, volatility, ...).
    periods_done : int
        Periods already traded (1 .. plan.periods - 1).
    covariance, factor_model, profile, bucket_minutes, max_pov, cost_model, time_limit
        As for ``optimize_basket_schedule`` (the plan's own, for a like-for-like re-plan).

    Returns
    -------
    ScheduleSolution
        Over the periods left; its schedule's ``day`` and ``bucket_start`` are on the plan's clock.

    Raises
    ------
    InvalidValueError
        Fills larger than an order or against its side; ``periods_done`` outside the plan.
    InconsistentInputError
        Fills or market data naming symbols the plan does not trade; a name left to trade with no price.

    Examples
    --------
    >>> trades = pd.DataFrame({"symbol": ["A", "B"], "shares": [-200_000, -50_000], "adv": [2e6, 1e6],
    ...                        "price": [50.0, 20.0], "volatility": [0.3, 0.2]})
    >>> plan = optimize_basket_schedule(trades, periods=13, risk_aversion=0.5, start="2026-03-02")
    >>> rest = replan(plan, {"A": -150_000, "B": -20_000}, {"A": 48.0, "B": 20.5}, trades, periods_done=4)
    >>> rest.periods, rest.schedule.groupby("symbol", observed=True)["shares"].sum().to_dict()
    (9, {'A': -50000.0, 'B': -30000.0})
    """
    if not isinstance(plan, ScheduleSolution):
        raise InvalidValueError("plan", ["(all)"], f"is a {type(plan).__name__}",
                                "give the ScheduleSolution being executed (optimize_basket_schedule)")
    periods_done = arguments.whole_number(periods_done, "periods_done", f"give 1..{plan.periods - 1}", low=1)
    if periods_done >= plan.periods:
        raise InvalidValueError("periods_done", ["(all)"], f"is {periods_done}; the plan has {plan.periods} periods",
                                f"give 1..{plan.periods - 1} (nothing is left to re-plan after the last)")
    orders = col.normalize_columns(as_table(getattr(trades, "trades", trades)))
    orders = col.use_traded_shares(orders).set_index("symbol")
    symbols = [str(s) for s in plan.names["symbol"]]
    missing = [s for s in symbols if s not in orders.index]
    if missing:
        raise InconsistentInputError(f"the trades have no row for {symbols_text(missing)}, which the plan trades; "
                                     "pass the trades the plan was made from")
    order = pd.Series(plan.names["shares"].to_numpy(float), index=symbols)
    fills = _by_symbol(fills_so_far, "fills_so_far", "shares")
    unknown = [s for s in fills.index if s not in order.index]
    if unknown:
        raise InconsistentInputError(f"fills_so_far names {symbols_text(unknown)}, which the plan does not trade; "
                                     "fix the symbols")
    fills = fills.reindex(order.index, fill_value=0.0)
    against = fills.index[(fills * order < 0)]
    if len(against):
        raise InvalidValueError("fills_so_far", against, "is against the order's side",
                                "give fills signed as the orders (negative for sales)")
    over = fills.index[fills.abs() > order.abs() + 0.5]
    if len(over):
        raise InvalidValueError("fills_so_far", over, f"exceeds the order (e.g. {over[0]}: {fills[over[0]]:,.0f} of "
                                f"{order[over[0]]:,.0f} shares)", "fills cannot exceed the order; check the fills")
    left = (order - fills).round()
    left = left[left != 0]
    if left.empty:
        raise InvalidValueError("fills_so_far", ["(all)"], "fill every order", "nothing is left to re-plan")
    market = market_now if isinstance(market_now, pd.DataFrame) else pd.DataFrame(
        {"symbol": list(_by_symbol(market_now, "market_now", "price").index),
         "price": _by_symbol(market_now, "market_now", "price").to_numpy()})
    market = col.normalize_columns(as_table(market, what="market_now")).set_index("symbol")
    col.require(market.reset_index(), "price", context="market_now")
    no_price = [s for s in left.index if s not in market.index]
    if no_price:
        raise InconsistentInputError(f"market_now has no price for {symbols_text(no_price)}, which still have shares "
                                     "to trade; give every such name's price now")
    rest = orders.loc[list(left.index)].copy()
    rest["shares"] = left.to_numpy()
    for column in ("price", "adv", "volatility"):
        if column in market:
            values = market.loc[list(left.index), column]
            rest[column] = col.numeric(values.rename(column).reset_index(), column, positive=True)
    rest = rest.drop(columns=[c for c in ("shares_traded",) if c in rest]).reset_index()
    starts, _ = profile_buckets(profile if profile is not None else load_volume_profile(), bucket_minutes)
    per_day = starts.size
    turn = (periods_done % per_day) * bucket_minutes
    base = profile if profile is not None else load_volume_profile()
    first_day = pd.Timestamp(pd.to_datetime(plan.schedule["bucket_start"]).min().date())
    solution = optimize_basket_schedule(rest, covariance=covariance, factor_model=factor_model,
                                        profile=_turned(base, turn) if turn else base,
                                        periods=plan.periods - periods_done, risk_aversion=plan.risk_aversion,
                                        bucket_minutes=bucket_minutes, max_pov=max_pov,
                                        risk_measure=plan.risk_measure, cost_model=cost_model, start=first_day,
                                        time_limit=time_limit, warm_start=plan)
    table = solution.schedule
    stamp = pd.to_datetime(table["bucket_start"])
    slot = np.searchsorted(starts, (stamp.dt.hour * 60 + stamp.dt.minute).to_numpy())
    period = periods_done + (table["day"].to_numpy(int) - 1) * per_day + slot
    day = period // per_day
    dates = np.busday_offset(np.datetime64(first_day.date(), "D"), day, roll="forward")
    table["day"] = day + 1
    table["bucket_start"] = dates.astype("datetime64[m]") + starts[period % per_day].astype("timedelta64[m]")
    solution.notes.append(f"re-planned after {periods_done} of {plan.periods} periods: {len(left)} names, "
                          f"{int(left.abs().sum()):,} shares left")
    return solution
