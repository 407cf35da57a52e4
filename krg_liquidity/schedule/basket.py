"""The basket over a schedule: cash arriving bucket by bucket, and the risk still carried.

Residual position of a name after a bucket = the part of its order not yet executed, as the
position it still exposes the book to: positive for shares still to sell, negative for
shares still to buy (USD). The basket's residual risk uses the full risk model, correlations included (MATLAB's
per-name timing risk ignores them). Timing risk of the whole execution, in dollars:
sqrt( sum_b dt_b (r_{b-1}'C r_{b-1} + r_{b-1}'C r_b + r_b'C r_b) / 3 / trading_days ),
residuals linear within a bucket, dt_b the bucket's fraction of a trading day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.core.errors import InconsistentInputError


@dataclass(frozen=True)
class BasketView:
    """Cash raised and residual risk over a schedule, from :func:`basket_view`.

    Attributes
    ----------
    buckets : pandas.DataFrame
        Per bucket_start: cash_raised_usd, cum_cash_usd, residual_value_usd, residual_risk_usd
        (annualized, correlated).
    timing_risk_usd : float
        Timing risk over the execution (USD).
    timing_risk_uncorrelated_usd : float
        The same with correlations ignored (USD).

    Examples
    --------
    >>> from krg_liquidity import Portfolio, liquidate, load_example, pov_schedule
    >>> book = Portfolio(*load_example())
    >>> view = basket_view(pov_schedule(liquidate(book, 1e9).trades, start="2026-01-05"), book, 30)
    >>> list(view.buckets.columns)
    ['bucket_start', 'cash_raised_usd', 'cum_cash_usd', 'residual_value_usd', 'residual_risk_usd']
    """

    buckets: pd.DataFrame
    timing_risk_usd: float
    timing_risk_uncorrelated_usd: float


def basket_view(schedule: pd.DataFrame, portfolio: Portfolio, bucket_minutes: int, session_minutes: int = 390,
                trading_days: int = 250) -> BasketView:
    """Cash raised and residual risk over ``schedule`` for names of ``portfolio`` (prices, risk model).

    Parameters
    ----------
    schedule : pandas.DataFrame
        A tidy schedule (:func:`pov_schedule`, :func:`vwap_schedule` or ``ScheduleSolution.schedule``).
    portfolio : Portfolio
        The book holding every traded name (prices in USD, its risk model).
    bucket_minutes : int
        Minutes per bucket of the schedule.
    session_minutes : int
        Minutes per trading day.
    trading_days : int
        Trading days per year (annualized risk to the execution's horizon).

    Returns
    -------
    BasketView
        Per bucket cash and residual risk (USD), and the timing risk of the execution (USD).

    Raises
    ------
    InconsistentInputError
        The schedule trades a name the portfolio does not hold.

    Examples
    --------
    >>> from krg_liquidity import Portfolio, liquidate, load_example, pov_schedule
    >>> book = Portfolio(*load_example())
    >>> schedule = pov_schedule(liquidate(book, 1e9).trades, start="2026-01-05")
    >>> view = basket_view(schedule, book, bucket_minutes=30)
    >>> round(float(view.buckets["cum_cash_usd"].iloc[-1]) / 1e9, 3)
    1.0
    """
    held = portfolio.holdings.set_index("symbol")
    symbols = list(pd.unique(schedule["symbol"].astype(str)))
    missing = [s for s in symbols if s not in held.index]
    if missing:
        raise InconsistentInputError(f"the schedule trades {', '.join(missing[:8])}, which the portfolio does not hold")
    times = np.sort(schedule["bucket_start"].unique())
    grid = pd.DataFrame(0.0, index=times, columns=symbols)
    traded = schedule.assign(symbol=schedule["symbol"].astype(str)).pivot_table(
        index="bucket_start", columns="symbol", values="shares", aggfunc="sum", observed=True).fillna(0.0)
    grid.loc[traded.index, traded.columns] = traded.to_numpy()
    price = held.loc[symbols, "price"].to_numpy(float)
    orders = grid.sum().to_numpy()
    executed = grid.cumsum().to_numpy()
    residual = (executed - orders) * price  # position still to sell after each bucket (USD; < 0: to buy)
    start = -orders * price
    before = np.vstack([start, residual[:-1]])
    index = [portfolio.symbols.index(s) for s in symbols]
    risk = portfolio.risk()
    top = risk.top[:, index]
    diag = risk.diag[index] if risk.diag is not None else None

    def cross(a, b):  # a_b' C b_b per row
        out = np.einsum("km,km->k", (top @ a.T).T, (top @ b.T).T)
        return out + (np.einsum("km,km->k", a * diag, b * diag) if diag is not None else 0.0)

    dt = bucket_minutes / session_minutes
    variance = dt * (cross(before, before) + cross(before, residual) + cross(residual, residual)) / 3.0
    own = np.einsum("km,km->km", before, before) + before * residual + residual * residual
    name_var = (np.einsum("ij,ij->j", top, top) + (diag**2 if diag is not None else 0.0))
    uncorrelated = dt * (own * name_var).sum() / 3.0
    cash = -(grid.to_numpy() * price).sum(axis=1)
    buckets = pd.DataFrame({
        "bucket_start": times,
        "cash_raised_usd": cash,
        "cum_cash_usd": np.cumsum(cash),
        "residual_value_usd": residual.sum(axis=1),
        "residual_risk_usd": np.sqrt(np.maximum(cross(residual, residual), 0.0)),
    })
    return BasketView(buckets, float(np.sqrt(variance.sum() / trading_days)),
                      float(np.sqrt(uncorrelated / trading_days)))
