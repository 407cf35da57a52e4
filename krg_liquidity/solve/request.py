"""A validated liquidation request: the book, the limits and (for ``liquidate``) the cash target, checked once.

:class:`Limits` is the public value of every request-level limit (risk band, total-impact cap, buys);
per-name limits are the book's columns. Two request types follow from it: a
:class:`CapacityRequest` (``max_cash``: the cash is what is searched for) and a
:class:`LiquidationRequest` (``liquidate``: a fixed cash target, in USD).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from krg_liquidity.book.portfolio import Portfolio, require_portfolio
from krg_liquidity.core.cash import cash_usd
from krg_liquidity.core.errors import InputError
from krg_liquidity.core.numbers import dollars
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.trade_costs import TradeCosts
from krg_liquidity.solve.verify import violations

SMALLEST_TOTAL_IMPACT_BPS = 0.1
"""The smallest total-impact cap accepted (bps of the cash). A cap below it is refused, with no way around:
it is a fraction or a percent typed as bps (0.005 for 0.5%, i.e. 50 bps), since no trade list of a size
worth capping costs so little (0.1 bps is $10 per $1M raised)."""


def small_cap_message(cap_bps: float) -> str:
    """Why a total-impact cap below ``SMALLEST_TOTAL_IMPACT_BPS`` is refused, with the cap it likely meant.

    >>> small_cap_message(0.005)[:96]
    'max_total_mi_bps=0.005 bps is below the smallest cap of 0.1 bps: did you mean 50 bps (0.005 = 0.'
    """
    return (f"max_total_mi_bps={cap_bps:g} bps is below the smallest cap of {SMALLEST_TOTAL_IMPACT_BPS:g} bps: "
            f"did you mean {cap_bps * 1e4:g} bps ({cap_bps:g} = {cap_bps * 100:g}%) or {cap_bps * 100:g} bps "
            f"({cap_bps:g}%)? Give the cap in bps of the cash raised (50, 50bps or 0.5%)")


@dataclass(frozen=True)
class Limits:
    """The request-level limits of a liquidation, checked when built.

    Parameters
    ----------
    risk_band : tuple of float, optional
        ``(lo, hi)``: post-trade risk (annualized volatility of the final weights) between ``lo`` and
        ``hi`` times today's. ``lo = 0`` is a ceiling alone. None: no band.
    max_total_mi_bps : float, optional
        Total market-impact cost at most this many bps of the cash raised (impact only). None: no cap.
    allow_buys : bool, default False
        Let trades add to positions or flip them (each trade still costs impact).

    Raises
    ------
    InputError
        A band out of order, negative or written in percent, or a cap that is not a positive number of
        bps (or below ``SMALLEST_TOTAL_IMPACT_BPS``, a fraction typed as bps).

    Examples
    --------
    >>> from krg_liquidity import Limits
    >>> Limits(risk_band=(0.9, 1.1), max_total_mi_bps=50)
    Limits(risk_band=(0.9, 1.1), max_total_mi_bps=50.0, allow_buys=False)
    >>> Limits(risk_band=(0.9, 1.1)).without_floor().risk_band
    (0.0, 1.1)
    """

    risk_band: tuple[float, float] | None = None
    max_total_mi_bps: float | None = None
    allow_buys: bool = False

    def __post_init__(self) -> None:
        band = self.risk_band
        if band is not None:
            try:
                low, high = (float(v) for v in band)
            except (TypeError, ValueError):
                raise InputError("risk_band must be a pair (lo, hi), e.g. (0.9, 1.1)") from None
            if not (0 <= low <= high) or not np.isfinite(high):
                raise InputError(f"risk_band=({low}, {high}) needs 0 <= lo <= hi, e.g. (0.9, 1.1)")
            if low > 5:
                raise InputError(f"risk_band=({low:g}, {high:g}) asks for at least {low:g}x today's risk: this looks "
                                 f"like percent; give ratios of today's risk, e.g. ({low / 100:g}, {high / 100:g})")
            object.__setattr__(self, "risk_band", (low, high))
        cap = self.max_total_mi_bps
        if cap is not None:
            try:
                cap = float(cap)
            except (TypeError, ValueError):
                raise InputError(f"max_total_mi_bps={cap!r} must be a positive number of bps") from None
            if not np.isfinite(cap) or cap <= 0:
                raise InputError(f"max_total_mi_bps={cap} must be a positive number of bps")
            if cap < SMALLEST_TOTAL_IMPACT_BPS:
                raise InputError(small_cap_message(cap))
            object.__setattr__(self, "max_total_mi_bps", cap)
        object.__setattr__(self, "allow_buys", bool(self.allow_buys))

    @property
    def has_floor(self) -> bool:
        """True when the band's bottom asks for some risk to be kept (``lo > 0``)."""
        return self.risk_band is not None and self.risk_band[0] > 0

    def without_floor(self) -> Limits:
        """The same limits with the band's bottom dropped (the convex relaxation of the risk floor)."""
        return self if not self.has_floor else replace(self, risk_band=(0.0, self.risk_band[1]))  # type: ignore[index]

    def to_dict(self) -> dict[str, Any]:
        """Plain values (the band as a list), as JSON and the result's ``request`` record write them."""
        values = asdict(self)
        values["risk_band"] = None if self.risk_band is None else list(self.risk_band)
        return values

    @classmethod
    def of(cls, limits: Limits | None = None, *, risk_band: tuple[float, float] | None = None,
           max_total_mi_bps: float | None = None, allow_buys: bool = False) -> Limits:
        """``limits``, or the limits the keywords give; both at once is refused (say the limits once).

        >>> Limits.of(risk_band=(0.9, 1.1)).risk_band
        (0.9, 1.1)
        """
        if limits is None:
            return cls(risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys)
        if not isinstance(limits, Limits):
            raise InputError(f"limits is a {type(limits).__name__}: give a krg_liquidity.Limits, e.g. "
                             "Limits(risk_band=(0.9, 1.1), max_total_mi_bps=50)")
        given = [name for name, value in (("risk_band", risk_band), ("max_total_mi_bps", max_total_mi_bps),
                                          ("allow_buys", allow_buys or None)) if value is not None]
        if given:
            raise InputError(f"limits= and {', '.join(given)}= were both given: say the limits once, either as "
                             "limits=Limits(...) or as keywords")
        return limits


@dataclass(frozen=True)
class CapacityRequest:
    """A validated request without a cash target (``max_cash`` searches for the cash).

    ``portfolio``: the book; ``limits``: its request-level limits; ``cost_model``: the I-Star model.
    """

    portfolio: Portfolio
    limits: Limits
    cost_model: CostModel

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

    def costs(self) -> TradeCosts:
        """Each name's impact cost as a function of its trade (fraction of ADV)."""
        p = self.portfolio
        pov = p.array("pov") if "pov" in p.holdings else np.full(len(p.holdings), np.nan)
        time_days = p.array("trade_time") if "trade_time" in p.holdings else np.full(len(p.holdings), np.nan)
        return TradeCosts(self.cost_model.params, p.array("volatility"), p.array("price"),
                          p.array("adv") * p.array("price"), time_days, pov)

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
                          cost_model=self.cost_model, traded=traded, impacts=impacts)


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
        return {"cash_target_usd": self.cash, **self.limits.to_dict(), "time_limit_s": time_limit}



def _checked_book(portfolio: Portfolio, limits: Limits) -> None:
    require_portfolio(portfolio)
    if portfolio.net_value_usd <= 0:
        raise InputError(f"the book's net value is {dollars(portfolio.net_value_usd)}; "
                         "liquidating for cash needs a positive net value")
    if limits.risk_band is not None and not portfolio.has_risk_model:
        raise InputError("a risk band needs a risk model: give a covariance or a factor model (Python: "
                         "Portfolio(..., covariance=...) or factor_model=...; CLI: --covariance or --factor-model)")


def capacity_request(portfolio: Portfolio, *, limits: Limits, cost_model: CostModel | None = None) -> CapacityRequest:
    """Check a ``max_cash`` request once: the book (a Portfolio of positive net value) and a risk model when
    the limits have a band. Raises ``InputError`` naming what to fix."""
    if not isinstance(limits, Limits):
        raise InputError(f"limits is a {type(limits).__name__}: give a krg_liquidity.Limits")
    _checked_book(portfolio, limits)
    return CapacityRequest(portfolio, limits, cost_model if cost_model is not None else CostModel())


def liquidation_request(portfolio: Portfolio, cash: float | str, *, limits: Limits, cost_model: CostModel | None = None,
                        allow_small_cash: bool = False) -> LiquidationRequest:
    """Check a ``liquidate`` request once; ``cash`` as :func:`~krg_liquidity.core.cash.cash_usd` reads it
    (dollars, "10%", "250m"; a tiny target is refused unless ``allow_small_cash``). The cash is read
    first, so a percent of a book worth nothing is refused in the cash's words."""
    require_portfolio(portfolio)
    target = cash_usd(cash, portfolio.net_value_usd, allow_small_cash=allow_small_cash)
    capacity = capacity_request(portfolio, limits=limits, cost_model=cost_model)
    return LiquidationRequest(portfolio, capacity.limits, capacity.cost_model, target)
