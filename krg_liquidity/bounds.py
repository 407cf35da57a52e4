"""Per-name limits as intervals on the trade u (fraction of ADV, positive = sell).

Every per-name limit of a liquidation is an interval on u once the cash target L is
fixed: final shares y = shares - u ADV, final weight y price / (V - L), and the impact
cap is a share cap because impact rises with size. Each group is kept apart so that an
infeasible request can say which group blocks it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .portfolio import Portfolio
from .trade_costs import TradeCosts

GROUP_LABELS = {
    "direction": "direction (sell longs, cover shorts, no flips)",
    "weight": "final-weight bounds (lb_wt/ub_wt)",
    "final_shares": "final-share bounds (lb_min_shares/ub_max_shares)",
    "final_value": "final-value bounds (lb_min_value/ub_max_value)",
    "participation": "participation cap (ub_max_pct_adv)",
    "impact_cap": "per-name impact cap (ub_max_mi_bps)",
}


@dataclass(frozen=True)
class TradeBounds:
    """lo <= u <= hi per name, the group giving each side, and each group's own interval."""

    lo: np.ndarray
    hi: np.ndarray
    lo_group: np.ndarray
    hi_group: np.ndarray
    groups: dict[str, tuple[np.ndarray, np.ndarray]]

    @property
    def conflicting(self) -> np.ndarray:
        return self.lo > self.hi + 1e-12

    def without(self, group: str) -> TradeBounds:
        """The same limits less one group (e.g. the weight bounds, which move with the cash)."""
        return combine({name: g for name, g in self.groups.items() if name != group})


def combine(groups: dict[str, tuple[np.ndarray, np.ndarray]]) -> TradeBounds:
    """Intersect the groups' intervals, remembering which group sets each side."""
    names = np.array(list(groups))
    lows = np.vstack([g[0] for g in groups.values()])
    highs = np.vstack([g[1] for g in groups.values()])
    lo_arg, hi_arg = lows.argmax(axis=0), highs.argmin(axis=0)
    columns = np.arange(lows.shape[1])
    lo, hi = lows[lo_arg, columns], highs[hi_arg, columns]
    lo_group = np.where(np.isfinite(lo), names[lo_arg], "")
    hi_group = np.where(np.isfinite(hi), names[hi_arg], "")
    return TradeBounds(lo, hi, lo_group, hi_group, groups)


def _column(portfolio: Portfolio, name: str) -> np.ndarray:
    if name in portfolio.holdings:
        return portfolio.array(name)
    return np.full(len(portfolio.holdings), np.nan)


def _final_shares_interval(shares, adv, low_shares, high_shares):
    """u-interval for final shares in [low_shares, high_shares] (NaN = unbounded)."""
    lo = np.where(np.isnan(high_shares), -np.inf, (shares - high_shares) / adv)
    hi = np.where(np.isnan(low_shares), np.inf, (shares - low_shares) / adv)
    return lo, hi


def trade_bounds(portfolio: Portfolio, cash: float, costs: TradeCosts, allow_buys: bool) -> TradeBounds:
    """Per-name intervals on u for raising ``cash`` dollars (V - cash is the final value)."""
    shares, price, adv = portfolio.array("shares"), portfolio.array("price"), portfolio.array("adv")
    post_value = portfolio.net_value_usd - cash
    groups: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if not allow_buys:
        held = shares / adv
        groups["direction"] = (np.minimum(held, 0.0), np.maximum(held, 0.0))
    groups["weight"] = _final_shares_interval(
        shares, adv, _column(portfolio, "lb_wt") * post_value / price, _column(portfolio, "ub_wt") * post_value / price)
    groups["final_shares"] = _final_shares_interval(
        shares, adv, _column(portfolio, "lb_min_shares"), _column(portfolio, "ub_max_shares"))
    groups["final_value"] = _final_shares_interval(
        shares, adv, _column(portfolio, "lb_min_value") / price, _column(portfolio, "ub_max_value") / price)
    pct = _column(portfolio, "ub_max_pct_adv")
    cap = np.where(np.isnan(pct), np.inf, pct)
    groups["participation"] = (-cap, cap)
    mi_cap = costs.z_at_mi(np.where(np.isnan(_column(portfolio, "ub_max_mi_bps")), np.inf,
                                    _column(portfolio, "ub_max_mi_bps")))
    groups["impact_cap"] = (-mi_cap, mi_cap)
    return combine(groups)
