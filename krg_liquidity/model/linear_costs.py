"""Trading costs linear in the trade: half-spread, commission and sell-side fees, per name.

Each is a number of bps of the value traded (a commission per share becomes bps through the
price), charged on every dollar traded: the half-spread (half the full quoted bid-ask spread,
column ``spread_bps``), the commission (``commission_bps`` plus ``commission_per_share`` / price),
and the sell-side fees (``fee_bps``, or a book-wide default where the column is blank). A blank
cell or a missing column is 0, so a book without them costs what it did before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.core.errors import InputError

LINEAR_PARTS = ("spread", "commission", "fees")
"""The linear costs, in the order ``linear_cost_bps`` gives them."""


def _column(portfolio: Portfolio, name: str) -> np.ndarray:
    if name not in portfolio.holdings:
        return np.zeros(len(portfolio.holdings))
    return np.nan_to_num(portfolio.array(name), nan=0.0)


def check_fee(fee_bps: float) -> float:
    """The book-wide sell-side fee (bps of the proceeds), checked: a finite number >= 0 and below 10,000."""
    try:
        fee = float(fee_bps)
    except (TypeError, ValueError):
        raise InputError(f"fee_bps={fee_bps!r} must be a number of bps of the proceeds, e.g. 0.3") from None
    if not np.isfinite(fee) or fee < 0 or fee >= 1e4:
        raise InputError(f"fee_bps={fee_bps!r} must be a number of bps in [0, 10000), e.g. 0.3 (0.003%)")
    return fee


def linear_cost_bps(portfolio: Portfolio, fee_bps: float = 0.0) -> pd.DataFrame:
    """Each name's linear trading costs in bps of the value traded: half-spread, commission and fees.

    Parameters
    ----------
    portfolio : Portfolio
        The book; its optional columns ``spread_bps`` (full quoted spread, bps), ``commission_bps``,
        ``commission_per_share`` (currency per share) and ``fee_bps`` (bps of the proceeds) are read.
    fee_bps : float
        The sell-side fee (bps of the proceeds) of the names without their own ``fee_bps``.

    Returns
    -------
    pandas.DataFrame
        One row per name (index: symbol), columns ``spread``, ``commission``, ``fees`` and ``total`` (bps).

    Raises
    ------
    InputError
        ``fee_bps`` is negative, not finite or 10,000 bps or more.

    Examples
    --------
    >>> import pandas as pd
    >>> from krg_liquidity import Portfolio
    >>> book = pd.DataFrame({"Symbol": ["A"], "Shares": [1e5], "Price": [50.0], "ADV": [1e6],
    ...                      "Volatility": [0.3], "TradeTime": [1.0], "Spread (bps)": [4.0],
    ...                      "commission_per_share": [0.01]})
    >>> linear_cost_bps(Portfolio(book), fee_bps=0.3).loc["A"].round(6).tolist()
    [2.0, 2.0, 0.3, 4.3]
    """
    fee = check_fee(fee_bps)
    price = portfolio.array("price")
    spread = _column(portfolio, "spread_bps") / 2.0
    commission = _column(portfolio, "commission_bps") + _column(portfolio, "commission_per_share") / price * 1e4
    own = portfolio.array("fee_bps") if "fee_bps" in portfolio.holdings else np.full(len(price), np.nan)
    fees = np.where(np.isnan(own), fee, own)
    return pd.DataFrame({"spread": spread, "commission": commission, "fees": fees,
                         "total": spread + commission + fees},
                        index=pd.Index(portfolio.holdings["symbol"].to_numpy(), name="symbol"))
