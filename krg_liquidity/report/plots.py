"""Figures (matplotlib). Each function returns a Figure and never calls ``show()``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from krg_liquidity.schedule.basket import BasketView


def plot_frontier(table: pd.DataFrame, max_cash: float | None = None) -> Figure:
    """Average and marginal impact cost (bps) against cash raised, from :func:`~krg_liquidity.whatif.frontier`.

    Parameters
    ----------
    table : pandas.DataFrame
        A frontier table (cash in USD, status, cost_bps, marginal_cost_bps); failed points are left
        out.
    max_cash : float, optional
        The most cash the limits allow (USD), drawn as a vertical line.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (never shown).

    Examples
    --------
    >>> table = pd.DataFrame({"cash": [5e8, 1e9], "status": ["optimal", "optimal"],
    ...                       "cost_bps": [10.0, 14.0], "marginal_cost_bps": [15.0, 21.0]})
    >>> type(plot_frontier(table, max_cash=2e9)).__name__
    'Figure'
    """
    figure = Figure(figsize=(7.5, 4.0), layout="constrained")
    axis = figure.add_subplot()
    ok = table[table["status"].isin(("optimal", "feasible"))]
    cash_m = ok["cash"] / 1e6
    axis.plot(cash_m, ok["cost_bps"], marker="o", label="average cost (bps of cash raised)")
    axis.plot(cash_m, ok["marginal_cost_bps"], marker=".", linestyle="--", label="marginal cost (bps, next dollar)")
    if max_cash is not None:
        axis.axvline(max_cash / 1e6, color="grey", linestyle=":", label=f"most cash the limits allow (${max_cash / 1e6:,.0f}M)")
    axis.set_xlabel("cash raised ($M)")
    axis.set_ylabel("market impact (bps)")
    axis.set_title("Liquidation cost frontier")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left")
    return figure


def _bucket_length(times) -> pd.Timedelta:
    unique = pd.Series(pd.to_datetime(pd.unique(times))).sort_values()
    steps = unique.diff().dropna()
    return steps.min() if len(steps) else pd.Timedelta(minutes=30)


def plot_completion(schedule: pd.DataFrame, symbols: Iterable[str] | None = None) -> Figure:
    """Fraction of each name's order done over time (one line per name).

    Parameters
    ----------
    schedule : pandas.DataFrame
        A tidy schedule (symbol, bucket_start, fraction_done), e.g. :func:`~krg_liquidity.pov_schedule`.
    symbols : sequence of str, optional
        The names drawn (default: the first 12).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (never shown).

    Examples
    --------
    >>> from krg_liquidity import pov_schedule
    >>> trades = pd.DataFrame({"symbol": ["A"], "shares": [-30000], "adv": [1e6], "pov": [0.02]})
    >>> type(plot_completion(pov_schedule(trades, start="2026-01-05"))).__name__
    'Figure'
    """
    figure = Figure(figsize=(8.0, 4.0), layout="constrained")
    axis = figure.add_subplot()
    names = list(pd.unique(schedule["symbol"].astype(str)))[:12] if symbols is None else list(symbols)
    length = _bucket_length(schedule["bucket_start"])
    for name in names:
        rows = schedule[schedule["symbol"].astype(str) == name]
        ends = rows["bucket_start"] + length  # done at the end of each bucket
        axis.plot([rows["bucket_start"].iloc[0], *ends], [0.0, *rows["fraction_done"]], marker=".", label=name)
    axis.set_ylabel("fraction of the order done")
    axis.set_ylim(0, 1.02)
    axis.set_title("Completion by name")
    axis.grid(alpha=0.3)
    axis.legend(ncol=4, fontsize="small", loc="lower right")
    figure.autofmt_xdate()
    return figure


def plot_basket(buckets: BasketView | pd.DataFrame) -> Figure:
    """Cumulative cash raised and residual risk (annualized, USD) over time, from ``basket_view``.

    Parameters
    ----------
    buckets : BasketView or pandas.DataFrame
        A :func:`~krg_liquidity.basket_view` or its ``buckets`` table (bucket_start, cum_cash_usd,
        residual_risk_usd).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (never shown); dollars in $M.

    Examples
    --------
    >>> buckets = pd.DataFrame({"bucket_start": pd.to_datetime(["2026-01-05 09:30", "2026-01-05 10:00"]),
    ...                         "cum_cash_usd": [5e6, 1e7], "residual_risk_usd": [2e6, 0.0]})
    >>> type(plot_basket(buckets)).__name__
    'Figure'
    """
    table = buckets if isinstance(buckets, pd.DataFrame) else buckets.buckets
    figure = Figure(figsize=(8.0, 4.0), layout="constrained")
    cash_axis = figure.add_subplot()
    ends = table["bucket_start"] + _bucket_length(table["bucket_start"])
    cash_axis.plot(ends, table["cum_cash_usd"] / 1e6, marker=".", color="C0")
    cash_axis.set_ylabel("cash raised ($M)", color="C0")
    risk_axis = cash_axis.twinx()
    risk_axis.plot(ends, table["residual_risk_usd"] / 1e6, marker=".", color="C3")
    risk_axis.set_ylabel("residual risk, annualized ($M)", color="C3")
    cash_axis.set_title("Basket: cash in and risk still carried")
    cash_axis.grid(alpha=0.3)
    figure.autofmt_xdate()
    return figure


def plot_almgren_chriss_frontier(table: pd.DataFrame) -> Figure:
    """Expected cost against standard deviation (USD), from ``almgren_chriss_frontier``.

    Parameters
    ----------
    table : pandas.DataFrame
        An :func:`~krg_liquidity.almgren_chriss_frontier` table (std_usd, expected_cost_usd).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (never shown); dollars in $M.

    Examples
    --------
    >>> from krg_liquidity import almgren_chriss_frontier
    >>> table = almgren_chriss_frontier(1e6, 5, 1.0, 0.95, 2.5e-6, 2.5e-7, 0.0625, [0.0, 1e-6])
    >>> type(plot_almgren_chriss_frontier(table)).__name__
    'Figure'
    """
    figure = Figure(figsize=(6.0, 4.0), layout="constrained")
    axis = figure.add_subplot()
    axis.plot(table["std_usd"] / 1e6, table["expected_cost_usd"] / 1e6, marker="o")
    axis.set_xlabel("standard deviation of cost ($M)")
    axis.set_ylabel("expected cost ($M)")
    axis.set_title("Almgren-Chriss efficient frontier")
    axis.grid(alpha=0.3)
    return figure


def plot_schedule_frontier(table: pd.DataFrame) -> Figure:
    """Expected cost (MI + PA) against timing risk (USD), one point per lambda, from ``schedule_frontier``.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`~krg_liquidity.schedule_frontier` table (risk_aversion, timing_risk_usd, cost_usd).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (never shown); dollars in $M.

    Examples
    --------
    >>> table = pd.DataFrame({"risk_aversion": [0.0, 1.0], "timing_risk_usd": [3e6, 1e6],
    ...                       "cost_usd": [1e6, 2e6]})
    >>> type(plot_schedule_frontier(table)).__name__
    'Figure'
    """
    figure = Figure(figsize=(6.5, 4.0), layout="constrained")
    axis = figure.add_subplot()
    axis.plot(table["timing_risk_usd"] / 1e6, table["cost_usd"] / 1e6, marker="o")
    for row in table.to_dict("records"):
        axis.annotate(f"λ={row['risk_aversion']:g}", (row["timing_risk_usd"] / 1e6, row["cost_usd"] / 1e6),
                      textcoords="offset points", xytext=(4, 4), fontsize="small")
    axis.set_xlabel("timing risk of the basket, 1 s.d. ($M)")
    axis.set_ylabel("expected cost: impact + alpha ($M)")
    axis.set_title("Optimal schedule efficient frontier")
    axis.grid(alpha=0.3)
    return figure
