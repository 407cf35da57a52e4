"""Cost and marginal cost against cash raised: one liquidation per grid point."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from krg_liquidity.book.portfolio import Portfolio, require_portfolio
from krg_liquidity.core.cash import cash_usd
from krg_liquidity.core.errors import InputError, InvalidValueError
from krg_liquidity.solve.optimize import liquidate

FRONTIER_COLUMNS = ("cash", "status", "cost_usd", "cost_bps", "marginal_cost_bps", "lower_bound_usd", "gap",
                    "risk_after", "method", "seconds", "message", "total_cost_usd", "tax_usd", "gap_usd")


def frontier(portfolio: Portfolio, cash_grid: ArrayLike, **limits: Any) -> pd.DataFrame:
    """Liquidate at every cash amount of ``cash_grid`` with the same ``limits``.

    Each point starts its multiplier search from its neighbour's answer. A point that fails keeps
    its row, with its status ("infeasible", "timeout", "bad_input", ...), NaN costs and the
    message; nothing is dropped and one failure does not stop the others.

    Parameters
    ----------
    portfolio : Portfolio
        The book.
    cash_grid : sequence of float or str
        Amounts as :func:`~krg_liquidity.liquidate` takes them (USD, or text such as "5%" or "250m").
    **limits
        The keyword arguments of :func:`~krg_liquidity.liquidate` (``time_limit``, in seconds,
        applies per point).

    Returns
    -------
    pandas.DataFrame
        One row per point (``FRONTIER_COLUMNS``): cash (USD), status, cost_usd, cost_bps,
        marginal_cost_bps, lower_bound_usd (on what was minimized: impact, the all-in trading cost, or trading
        cost + tax with lots), gap, risk_after (annualized), method, seconds, message, then
        total_cost_usd (the all-in trading cost), tax_usd (with ``lots=``; NaN without) and gap_usd (what the
        point may cost over the least possible, USD).

    Raises
    ------
    InputError
        ``portfolio`` is not a Portfolio, or ``cash_grid`` is None.

    Examples
    --------
    >>> from krg_liquidity import load_example
    >>> holdings, covariance = load_example()
    >>> table = frontier(Portfolio(holdings, covariance), [5e8, "10%"])
    >>> bool(table["cost_bps"].is_monotonic_increasing), round(float(table["cash"].iloc[1]) / 1e9, 3)
    (True, 1.0)
    """
    require_portfolio(portfolio)
    if cash_grid is None:
        raise InvalidValueError("cash_grid", ["(all)"], "is None", "give the cash amounts to liquidate at, e.g. "
                                                                    "[5e8, 1e9] or ['5%', '10%']")
    rows, previous = [], None
    for point in np.atleast_1d(np.asarray(cash_grid, dtype=object)).tolist():
        cash = np.nan
        try:
            cash = cash_usd(point, portfolio.net_value_usd, allow_small_cash=limits.get("allow_small_cash", False))
            r = liquidate(portfolio, cash, raise_on_failure=False, warm_start=previous, **limits)
        except InputError as exc:  # a bad grid point (e.g. cash 0) gets its row; the others run
            rows.append((cash, "bad_input", *([np.nan] * 6), "", 0.0, f"grid point {point}: {exc}", np.nan, np.nan,
                         np.nan))
            continue
        rows.append((cash, r.status, r.cost_usd, r.cost_bps, r.marginal_cost_bps, r.objective_lower_bound_usd, r.gap,
                     r.risk_after if r.risk_after is not None else np.nan, r.method, r.seconds, r.message,
                     r.total_cost_usd, r.tax_usd, r.gap_usd))
        previous = r if r.success else previous
    return pd.DataFrame(rows, columns=list(FRONTIER_COLUMNS))
