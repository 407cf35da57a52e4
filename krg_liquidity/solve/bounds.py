"""The per-name limits intersected: one interval on each name's trade u (fraction of ADV, + = sell).

Every per-name limit (``limits.NAME_LIMITS``) is an interval on u once the cash target L
is fixed; each group is kept apart so that a binding side can be named and an infeasible
request can say which group blocks it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.model.trade_costs import TradeCosts
from krg_liquidity.solve.limits import NAME_LIMITS


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


def trade_bounds(portfolio: Portfolio, cash: float, costs: TradeCosts, allow_buys: bool,
                 exclude: tuple[str, ...] = ()) -> TradeBounds:
    """Per-name intervals on u for raising ``cash`` dollars, from every per-name limit that applies."""
    groups = {limit.key: limit.interval(portfolio, cash, costs) for limit in NAME_LIMITS
              if limit.applies(portfolio, allow_buys) and limit.key not in exclude}
    if not groups:
        n = len(portfolio.holdings)
        groups["none"] = (np.full(n, -np.inf), np.full(n, np.inf))
    return combine(groups)
