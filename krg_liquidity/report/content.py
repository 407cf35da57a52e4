"""What a report holds: the request, the answer and the tables derived from it, computed once.

The HTML page (:mod:`.html`), the Excel workbook (:mod:`.excel`) and the desk app all read a
:class:`Report`, so every face shows the same numbers. Sections are data: a later section (a
comparison with other liquidation rules, say) is one more field filled here and one more block
in each renderer.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from krg_liquidity.book.portfolio import Portfolio, require_portfolio
from krg_liquidity.core import arguments
from krg_liquidity.core.errors import InvalidValueError
from krg_liquidity.core.plan import DEFAULT_TIME_LIMIT
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.params import IStarParams
from krg_liquidity.schedule.pov_vwap import pov_schedule
from krg_liquidity.solve.limits import Limits
from krg_liquidity.solve.result import LiquidationResult
from krg_liquidity.solve.tradable import most_tradable
from krg_liquidity.whatif.frontier import frontier

MAX_CASH_SHARE = 0.5
"""Share of the report's time limit for ``max_cash``: it sets the frontier's range and is the
hardest single solve (a risk band and an impact cap make it a sequence of solves); the frontier's
points share what it leaves."""

PRETRADE_COLUMNS = ("symbol", "shares_traded", "trade_time_days", "istar_bps", "market_impact_bps",
                    "timing_risk_bps", "market_impact_usd")


@dataclass
class Report:
    """A liquidation with everything a PM forwards.

    ``request``: cash target (USD), limits and time limit as asked. ``result``: the
    :class:`~krg_liquidity.LiquidationResult`. ``schedule``: its POV schedule (one row per name
    and bucket, whole shares). ``basket``: cash raised and residual risk per bucket (USD; empty
    without a risk model). ``frontier``: cost against cash (:func:`~krg_liquidity.whatif.frontier`,
    empty without the portfolio). ``max_cash``: the most cash the limits allow, as the answer
    trades (whole lots when it was rounded, else exact shares): a whole-dollar target the tool
    raises when typed back (:func:`~krg_liquidity.tradable_cash`; USD; None when not found, with a
    note in ``notes``). ``pretrade``: I-Star pre-trade numbers of each
    trade at its trade time (bps of traded value, USD).
    """

    request: dict
    result: LiquidationResult
    schedule: pd.DataFrame
    basket: pd.DataFrame
    frontier: pd.DataFrame
    max_cash: float | None
    pretrade: pd.DataFrame
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    notes: list[str] = field(default_factory=list)
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)  # optimized vs pro-rata vs waterfall


def build_report(result: LiquidationResult, portfolio: Portfolio | None = None, *, limits: Limits | None = None,
                 risk_band: tuple[float, float] | None = None, max_total_mi_bps: float | None = None,
                 allow_buys: bool = False,
                 time_limit: float | None = DEFAULT_TIME_LIMIT, cost_model: CostModel | None = None,
                 frontier_points: int = 8, bucket_minutes: int = 30, start: _dt.date | str | None = None,
                 lot_size: int | None = None) -> Report:
    """Derive the report's tables from ``result`` (and, for the frontier, ``max_cash`` and the basket
    risk, from the ``portfolio`` it was solved on with the same limits).

    ``limits`` (a :class:`~krg_liquidity.Limits`) or ``risk_band``, ``max_total_mi_bps``, ``allow_buys``:
    default to the ones the result was solved with (``result.request``). ``time_limit``: seconds for ``max_cash`` plus the whole frontier: ``max_cash``
    may take ``MAX_CASH_SHARE`` of it, the frontier's points share the rest. ``lot_size``: the lots
    the face trades, for the most cash (default: the answer's own rounding, else exact shares; a
    failed answer has none, so a face that trades whole shares passes 1).

    >>> from krg_liquidity import Portfolio, liquidate, load_example
    >>> book = Portfolio(*load_example())
    >>> report = build_report(liquidate(book, 1e9), book, frontier_points=3)
    >>> len(report.frontier), bool(report.schedule["shares"].sum() < 0)
    (3, True)
    """
    if not isinstance(result, LiquidationResult):
        raise InvalidValueError("result", ["(all)"], f"is a {type(result).__name__}, not a LiquidationResult",
                                "give the answer of liquidate(...), e.g. build_report(liquidate(book, 1e9), book)")
    if portfolio is not None:
        require_portfolio(portfolio)
    frontier_points = arguments.whole_number(frontier_points, "frontier_points",
                                             "give the number of frontier points, at least 1 (default 8)")
    if time_limit is not None:
        time_limit = arguments.time_limit(time_limit)
    asked = result.request or {}
    if limits is not None:  # given as one value: these limits, not the result's
        given = Limits.of(limits, risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys)
        risk_band, max_total_mi_bps, allow_buys = given.risk_band, given.max_total_mi_bps, given.allow_buys
    else:
        if risk_band is None and asked.get("risk_band") is not None:
            risk_band = tuple(asked["risk_band"])
        if max_total_mi_bps is None:
            max_total_mi_bps = asked.get("max_total_mi_bps")
        allow_buys = bool(allow_buys or asked.get("allow_buys", False))
        own = result.limits or Limits()  # the shape limits and the cost cap the answer was solved with, kept
        given = dataclasses.replace(own, risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys)
    request = {**asked, "cash_target_usd": result.cash_target, "risk_band": risk_band,
               "max_total_mi_bps": max_total_mi_bps, "allow_buys": bool(allow_buys), "time_limit_s": time_limit,
               "lot_size": (result.rounding or {}).get("lot_size")}
    model = cost_model or cost_model_of(result)
    notes: list[str] = []
    schedule = pd.DataFrame()
    basket = pd.DataFrame()
    if result.success:
        schedule = pov_schedule(result.trades, bucket_minutes=bucket_minutes, start=start)
        if portfolio is not None and portfolio.has_risk_model and not schedule.empty:
            from krg_liquidity.schedule.basket import basket_view

            basket = basket_view(schedule, portfolio, bucket_minutes).buckets
    most, table = None, pd.DataFrame()
    if portfolio is not None:
        keywords: dict[str, Any] = {"limits": given, "cost_model": model}  # every limit: the group rows too
        begin = time.perf_counter()
        lot = lot_size or (result.rounding or {}).get("lot_size")  # the most cash as the answer trades
        most, why = most_tradable(portfolio, None if lot is None else int(lot), **keywords,
                                  time_limit=None if time_limit is None else MAX_CASH_SHARE * time_limit)
        if most is None:
            notes.append(f"most cash not found: {why}")
        share = None
        if time_limit is not None:  # what max_cash left, at least a little for each point
            left = max(time_limit - (time.perf_counter() - begin), (1 - MAX_CASH_SHARE) * time_limit / 10)
            share = left / frontier_points
        top = 0.95 * most if most else 1.5 * result.cash_target
        grid = np.linspace(top / frontier_points, top, frontier_points)
        table = frontier(portfolio, grid, time_limit=share, allow_small_cash=True, **keywords)  # the grid is ours
    comparison = pd.DataFrame()
    if portfolio is not None:
        from krg_liquidity.whatif.rules import comparison_table, pro_rata, waterfall

        # allow_small_cash: the target was accepted by the liquidation
        checked: dict[str, Any] = {"limits": given, "cost_model": model, "allow_small_cash": True}
        comparison = comparison_table({"optimized": result, "pro_rata": pro_rata(portfolio, result.cash_target, **checked),
                                       "waterfall": waterfall(portfolio, result.cash_target, **checked)})
    return Report(request, result, schedule, basket, table, most, pretrade(result, model), notes=notes,
                  comparison=comparison)


def comparison_view(comparison: pd.DataFrame) -> pd.DataFrame:
    """The comparison as a PM reads it on screen: methods in words ("pro rata", "most liquid first"),
    without the solver's max_violation (the breaches are in words in the message); the data (the
    Excel sheet, ``Report.comparison``) keeps the keys."""
    from krg_liquidity.whatif.rules import METHOD_WORDS

    view = comparison.drop(columns=["max_violation"], errors="ignore")
    if "method" in view:
        view = view.assign(method=view["method"].map(lambda key: METHOD_WORDS.get(key, key)))
    return view


def pretrade(result: LiquidationResult, model: CostModel) -> pd.DataFrame:
    """I-Star pre-trade numbers of each traded name at its trade time: I* and market impact (bps),
    timing risk (bps), market impact (USD)."""
    traded = result.trades[result.trades["shares_traded"] != 0]
    if traded.empty:
        return pd.DataFrame(columns=list(PRETRADE_COLUMNS))
    orders = pd.DataFrame({"symbol": traded["symbol"].to_numpy(), "shares": traded["shares_traded"].abs().to_numpy(),
                           "adv": traded["adv"].to_numpy(), "volatility": traded["volatility"].to_numpy(),
                           "price": traded["price"].to_numpy(), "trade_time": traded["trade_time_days"].to_numpy()})
    orders["size"] = orders["shares"] / orders["adv"]
    return pd.DataFrame({
        "symbol": orders["symbol"],
        "shares_traded": traded["shares_traded"].to_numpy(),
        "trade_time_days": orders["trade_time"],
        "istar_bps": model.istar(orders),
        "market_impact_bps": model.market_impact(orders),
        "timing_risk_bps": model.timing_risk(orders),
        "market_impact_usd": model.market_impact_usd(orders),
    })


def cost_model_of(result: LiquidationResult) -> CostModel:
    """The I-Star model named in ``result.assumptions`` (the published default when it names none)."""
    parameters = (result.assumptions or {}).get("parameters")
    if not parameters:
        return CostModel()
    values = {k: parameters[k] for k in ("a1", "a2", "a3", "a4", "a5", "b1")}
    return CostModel(IStarParams(**values, code=parameters.get("code"), date=parameters.get("date"),
                                 source=parameters.get("source") or ""),
                     trading_days=(result.assumptions or {}).get("trading_days", 250))
