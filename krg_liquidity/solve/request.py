"""A validated liquidation request: the book, the limits and (for ``liquidate``) the cash target, checked once.

:class:`Limits` is the public value of every request-level limit (risk band, total-impact cap, buys,
the shape limits, and book-wide per-name defaults); per-name limits are the book's columns, which the
defaults fill where they are blank. Two request types follow from it: a
:class:`CapacityRequest` (``max_cash``: the cash is what is searched for) and a
:class:`LiquidationRequest` (``liquidate``: a fixed cash target, in USD).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from krg_liquidity.book.portfolio import Portfolio, require_portfolio
from krg_liquidity.core.cash import cash_usd
from krg_liquidity.core.errors import InputError
from krg_liquidity.core.numbers import dollars
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.linear_costs import check_fee, linear_cost_bps
from krg_liquidity.model.trade_costs import TradeCosts
from krg_liquidity.solve.limits import Limits, group_problems
from krg_liquidity.solve.verify import violations


@dataclass(frozen=True)
class CapacityRequest:
    """A validated request without a cash target (``max_cash`` searches for the cash).

    ``portfolio``: the book; ``limits``: its request-level limits; ``cost_model``: the I-Star model.
    """

    portfolio: Portfolio
    limits: Limits
    cost_model: CostModel
    fee_bps: float = field(default=0.0, kw_only=True)  # sell-side fee of the names without their own (bps)
    names_filled: dict[str, int] = field(default_factory=dict, kw_only=True)  # per default: the names it applies to

    @property
    def risk_band(self) -> tuple[float, float] | None:
        return self.limits.risk_band

    @property
    def max_total_mi_bps(self) -> float | None:
        return self.limits.max_total_mi_bps

    @property
    def allow_buys(self) -> bool:
        return self.limits.allow_buys

    @property
    def has_floor(self) -> bool:
        return self.limits.has_floor

    @property
    def floor_ratio(self) -> float:
        """The band's bottom as a multiple of today's risk (0 without a band)."""
        return 0.0 if self.limits.risk_band is None else self.limits.risk_band[0]
    def linear_parts(self):
        """Each name's linear trading costs (``linear_cost_bps``: spread, commission, fees, total; bps)."""
        return linear_cost_bps(self.portfolio, self.fee_bps)

    def linear_bps(self) -> np.ndarray:
        """Each name's linear trading cost, all parts (bps of the value traded)."""
        return self.linear_parts()["total"].to_numpy()

    def costs(self) -> TradeCosts:
        """Each name's cost (impact plus the linear costs) as a function of its trade (fraction of ADV)."""
        p = self.portfolio
        pov = p.array("pov") if "pov" in p.holdings else np.full(len(p.holdings), np.nan)
        time_days = p.array("trade_time") if "trade_time" in p.holdings else np.full(len(p.holdings), np.nan)
        return TradeCosts(self.cost_model.params, p.array("volatility"), p.array("price"),
                          p.array("adv") * p.array("price"), time_days, pov, self.linear_bps())

    def check_at(self, shares_after: np.ndarray, cash: float, *, floor: bool = True, cap: bool = True,
                 traded: np.ndarray | None = None, impacts: Any = None) -> dict[str, float]:
        """Every limit's violation at cash target ``cash`` (USD), recomputed from the final shares
        (``verify.violations``).

        ``floor=False`` / ``cap=False`` leave out the risk floor / total-impact cap (for the
        relaxations that do not impose them). ``impacts``: ``verify.impact_table`` of these
        trades, when the caller has it already.
        """
        limits = self.limits if floor else self.limits.without_floor()
        return violations(self.portfolio, shares_after, cash, allow_buys=limits.allow_buys,
                          risk_band=limits.risk_band, max_total_mi_bps=limits.max_total_mi_bps if cap else None,
                          cost_model=self.cost_model, traded=traded, impacts=impacts, limits=limits,
                          max_total_cost_bps=limits.max_total_cost_bps if cap else None,
                          linear_bps=self.linear_bps() if limits.max_total_cost_bps is not None and cap else None)


@dataclass(frozen=True)
class LiquidationRequest(CapacityRequest):
    """A validated request to raise ``cash`` (USD, positive) from the book within the limits."""

    cash: float

    def check(self, shares_after: np.ndarray, *, floor: bool = True, cap: bool = True,
              traded: np.ndarray | None = None, impacts: Any = None) -> dict[str, float]:
        """Every limit's violation at this request's cash target (see :meth:`CapacityRequest.check_at`)."""
        return self.check_at(shares_after, self.cash, floor=floor, cap=cap, traded=traded, impacts=impacts)

    def record(self, time_limit: float | None) -> dict[str, Any]:
        """The request as asked, plain values (``LiquidationResult.request``): cash target (USD), risk band
        (ratios of today's risk, or None), total-impact cap (bps of the cash, or None), buys allowed,
        time limit (seconds, None for none)."""
        fee = {"fee_bps": self.fee_bps} if self.fee_bps else {}
        filled = {"names_filled": dict(self.names_filled), "names": len(self.portfolio.symbols)} if self.names_filled else {}
        return {"cash_target_usd": self.cash, **self.limits.to_dict(), **fee, **filled, "time_limit_s": time_limit}



def _checked_book(portfolio: Portfolio, limits: Limits) -> None:
    require_portfolio(portfolio)
    if portfolio.net_value_usd <= 0:
        raise InputError(f"the book's net value is {dollars(portfolio.net_value_usd)}; "
                         "liquidating for cash needs a positive net value")
    problems = []
    for asked, what in ((limits.risk_band, "a risk band"), (limits.max_tracking_error, "a tracking-error cap")):
        if asked is not None and not portfolio.has_risk_model:
            problems.append(f"{what} needs a risk model: give a covariance or a factor model (Python: "
                            "Portfolio(..., covariance=...) or factor_model=...; CLI: --covariance or --factor-model)")
    problems += group_problems(portfolio, limits)
    if problems:
        raise InputError("; ".join(problems))


def capacity_request(portfolio: Portfolio, *, limits: Limits, cost_model: CostModel | None = None,
                     fee_bps: float = 0.0) -> CapacityRequest:
    """Check a ``max_cash`` request once: the book (a Portfolio of positive net value) and a risk model when
    the limits have a band. The request's book carries the limits' book-wide per-name defaults
    (:meth:`Limits.book`). Raises ``InputError`` naming what to fix."""
    if not isinstance(limits, Limits):
        raise InputError(f"limits is a {type(limits).__name__}: give a krg_liquidity.Limits")
    _checked_book(portfolio, limits)
    filled = limits.names_filled(portfolio)
    portfolio = limits.book(portfolio)  # the book-wide per-name defaults, where the holdings leave a bound blank
    request = CapacityRequest(portfolio, limits, cost_model if cost_model is not None else CostModel(),
                              fee_bps=check_fee(fee_bps), names_filled=filled)
    if limits.allow_buys and np.any(request.linear_parts()["fees"].to_numpy() > 0):
        raise InputError("sell-side fees (fee_bps) are not priced on buys yet: with allow_buys=True give no fee_bps "
                         "(column or default), or keep allow_buys=False")
    return request


def liquidation_request(portfolio: Portfolio, cash: float | str, *, limits: Limits, cost_model: CostModel | None = None,
                        allow_small_cash: bool = False, fee_bps: float = 0.0) -> LiquidationRequest:
    """Check a ``liquidate`` request once; ``cash`` as :func:`~krg_liquidity.core.cash.cash_usd` reads it
    (dollars, "10%", "250m"; a tiny target is refused unless ``allow_small_cash``). The cash is read
    first, so a percent of a book worth nothing is refused in the cash's words."""
    require_portfolio(portfolio)
    target = cash_usd(cash, portfolio.net_value_usd, allow_small_cash=allow_small_cash)
    capacity = capacity_request(portfolio, limits=limits, cost_model=cost_model, fee_bps=fee_bps)
    return LiquidationRequest(capacity.portfolio, capacity.limits, capacity.cost_model, target, fee_bps=capacity.fee_bps,
                              names_filled=capacity.names_filled)
