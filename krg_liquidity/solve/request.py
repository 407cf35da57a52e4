"""A validated liquidation request: the book, the target and the limits, checked once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from krg_liquidity.book.portfolio import Portfolio, require_portfolio
from krg_liquidity.core.cash import cash_usd
from krg_liquidity.core.errors import InputError
from krg_liquidity.core.numbers import dollars
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.trade_costs import TradeCosts
from krg_liquidity.solve.verify import violations


@dataclass(frozen=True)
class Request:
    """A validated liquidation request."""

    portfolio: Portfolio
    cash: float | None
    risk_band: tuple[float, float] | None
    max_total_mi_bps: float | None
    allow_buys: bool
    cost_model: CostModel

    def costs(self) -> TradeCosts:
        p = self.portfolio
        pov = p.array("pov") if "pov" in p.holdings else np.full(len(p.holdings), np.nan)
        time_days = p.array("trade_time") if "trade_time" in p.holdings else np.full(len(p.holdings), np.nan)
        return TradeCosts(self.cost_model.params, p.array("volatility"), p.array("price"),
                          p.array("adv") * p.array("price"), time_days, pov)

    def check(self, shares_after: np.ndarray, cash: float | None = None, *, floor: bool = True,
              cap: bool = True, traded: np.ndarray | None = None, impacts=None) -> dict[str, float]:
        """Every limit's violation, recomputed from the final shares (``verify.violations``).

        ``floor=False`` / ``cap=False`` leave out the risk floor / total-impact cap (for the
        relaxations that do not impose them). ``impacts``: ``verify.impact_table`` of these
        trades, when the caller has it already.
        """
        band = self.risk_band
        if band is not None and not floor:
            band = (0.0, band[1])
        return violations(self.portfolio, shares_after, self.cash if cash is None else cash,
                          allow_buys=self.allow_buys, risk_band=band,
                          max_total_mi_bps=self.max_total_mi_bps if cap else None, cost_model=self.cost_model,
                          traded=traded, impacts=impacts)

    @property
    def has_floor(self) -> bool:
        return self.risk_band is not None and self.risk_band[0] > 0

    def record(self, time_limit: float | None) -> dict:
        """The request as asked, plain values (``LiquidationResult.request``): cash target (USD), risk band
        (ratios of today's risk, or None), total-impact cap (bps of the cash, or None), buys allowed,
        time limit (seconds, None for none)."""
        return {"cash_target_usd": self.cash, "risk_band": None if self.risk_band is None else list(self.risk_band),
                "max_total_mi_bps": self.max_total_mi_bps, "allow_buys": self.allow_buys, "time_limit_s": time_limit}


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


def make_request(portfolio, cash, risk_band, max_total_mi_bps, allow_buys, cost_model,
                 allow_small_cash: bool = False, *, searched: bool = False) -> Request:
    """Check a request once; ``cash`` as :func:`cash.cash_usd` reads it (dollars, "10%", "250m").
    ``searched``: the cash is what the caller searches for (``max_cash``), given as None; otherwise
    None is refused like any unreadable amount."""
    require_portfolio(portfolio)
    if cash is not None or not searched:
        cash = cash_usd(cash, portfolio.net_value_usd, allow_small_cash=allow_small_cash)
    if portfolio.net_value_usd <= 0:
        raise InputError(f"the book's net value is {dollars(portfolio.net_value_usd)}; "
                         "liquidating for cash needs a positive net value")
    if risk_band is not None:
        try:
            low, high = (float(v) for v in risk_band)
        except (TypeError, ValueError):
            raise InputError("risk_band must be a pair (lo, hi), e.g. (0.9, 1.1)") from None
        if not (0 <= low <= high) or not np.isfinite(high):
            raise InputError(f"risk_band=({low}, {high}) needs 0 <= lo <= hi, e.g. (0.9, 1.1)")
        if low > 5:
            raise InputError(f"risk_band=({low:g}, {high:g}) asks for at least {low:g}x today's risk: this looks like "
                             f"percent; give ratios of today's risk, e.g. ({low / 100:g}, {high / 100:g})")
        if not portfolio.has_risk_model:
            raise InputError("a risk band needs a risk model: give a covariance or a factor model (Python: "
                             "Portfolio(..., covariance=...) or factor_model=...; CLI: --covariance or --factor-model)")
        risk_band = (low, high)
    if max_total_mi_bps is not None:
        max_total_mi_bps = float(max_total_mi_bps)
        if not np.isfinite(max_total_mi_bps) or max_total_mi_bps <= 0:
            raise InputError(f"max_total_mi_bps={max_total_mi_bps} must be a positive number of bps")
        if max_total_mi_bps < SMALLEST_TOTAL_IMPACT_BPS:
            raise InputError(small_cap_message(max_total_mi_bps))
    cost_model = cost_model if cost_model is not None else CostModel()
    return Request(portfolio, cash, risk_band, max_total_mi_bps, bool(allow_buys), cost_model)
