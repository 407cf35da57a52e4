"""Cost and marginal cost against cash raised: one liquidation per grid point."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import InfeasibleLiquidation
from .optimize import liquidate
from .portfolio import Portfolio

FRONTIER_COLUMNS = ("cash", "status", "cost_usd", "cost_bps", "marginal_cost_bps", "lower_bound_usd", "gap",
                    "risk_after", "message")


def frontier(portfolio: Portfolio, cash_grid, **limits) -> pd.DataFrame:
    """Liquidate at every cash amount of ``cash_grid`` (USD) with the same ``limits``.

    ``limits`` are the keyword arguments of :func:`liquidate`. Points beyond what the limits
    allow get status "infeasible" and NaN costs; nothing is dropped.

    >>> from krg_liquidity import load_example
    >>> holdings, covariance = load_example()
    >>> table = frontier(Portfolio(holdings, covariance), [5e8, 1e9])
    >>> bool(table["cost_bps"].is_monotonic_increasing)
    True
    """
    rows = []
    for cash in np.asarray(cash_grid, dtype=float):
        try:
            r = liquidate(portfolio, cash, **limits)
            rows.append((cash, r.status, r.cost_usd, r.cost_bps, r.marginal_cost_bps, r.lower_bound_usd, r.gap,
                         r.risk_after, ""))
        except InfeasibleLiquidation as exc:
            rows.append((cash, "infeasible", np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, str(exc)))
    return pd.DataFrame(rows, columns=list(FRONTIER_COLUMNS))
