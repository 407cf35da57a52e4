"""Figures for stress tests and liquidity profiles. Each returns a matplotlib Figure, never calls ``show()``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from krg_liquidity.whatif.liquidity import LiquidityProfile


def plot_stress(table: pd.DataFrame, value: str = "cost_bps") -> Figure:
    """Grouped bars of ``value`` by scenario and method, from :func:`~krg_liquidity.stress_test`.

    A row without a number (a failed solve) gets no bar and its status is written at its place; a
    trade list that breaks a limit is hatched.

    Parameters
    ----------
    table : pandas.DataFrame
        A stress table (scenario, method, status and the ``value`` column).
    value : str
        The column drawn (default: cost in bps of the cash raised).

    Returns
    -------
    matplotlib.figure.Figure
        The figure (never shown).

    Examples
    --------
    >>> table = pd.DataFrame({"scenario": ["base", "base"], "method": ["optimized", "pro_rata"],
    ...                       "status": ["optimal", "limits_broken"], "cost_bps": [12.0, 30.0]})
    >>> type(plot_stress(table)).__name__
    'Figure'
    """
    figure = Figure(figsize=(8.0, 4.0), layout="constrained")
    axis = figure.add_subplot()
    scenarios = list(pd.unique(table["scenario"]))
    methods = list(pd.unique(table["method"]))
    width = 0.8 / max(1, len(methods))
    for j, method in enumerate(methods):
        rows = table[table["method"] == method].set_index("scenario").reindex(scenarios)
        x = np.arange(len(scenarios)) + (j - (len(methods) - 1) / 2) * width
        heights = rows[value].to_numpy(dtype=float)
        broken = (rows["status"] == "limits_broken").to_numpy() & np.isfinite(heights)
        kept = ~broken & np.isfinite(heights)
        if kept.any():
            axis.bar(x[kept], heights[kept], width, label=method.replace("_", "-"), color=f"C{j}")
        if broken.any():
            axis.bar(x[broken], heights[broken], width, color=f"C{j}", hatch="//", alpha=0.6,
                     label=f"{method.replace('_', '-')} (breaks a limit)")
        for xi, h, status in zip(x, heights, rows["status"]):
            if not np.isfinite(h):
                axis.text(xi, 0, str(status), rotation=90, ha="center", va="bottom", fontsize=8)
    axis.set_xticks(np.arange(len(scenarios)), scenarios)
    axis.set_ylabel(value.replace("_", " ").replace("bps", "(bps)").replace("usd", "(USD)"))
    axis.set_title("Liquidation cost by scenario and method")
    axis.grid(axis="y", alpha=0.3)
    axis.legend(fontsize=8)
    return figure


def plot_liquidity_buckets(profile: LiquidityProfile, top: int = 20) -> Figure:
    """Stacked bars of the value sold in each day bucket, from :func:`~krg_liquidity.liquidity_profile`.

    The book (share of gross value) on the left, the ``top`` largest positions ($M) on the right.

    Parameters
    ----------
    profile : LiquidityProfile
        A :func:`~krg_liquidity.liquidity_profile` answer.
    top : int
        Positions drawn on the right, largest first.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (never shown).

    Examples
    --------
    >>> from krg_liquidity import Portfolio, liquidity_profile, load_example
    >>> profile = liquidity_profile(Portfolio(*load_example()), 0.2, (1, 3))
    >>> type(plot_liquidity_buckets(profile, top=5)).__name__
    'Figure'
    """
    figure = Figure(figsize=(10.0, 4.2), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[1, 5])
    buckets = profile.buckets.set_index("symbol")
    labels = list(buckets.columns)
    book = buckets.loc["book"]
    names = buckets.drop(index="book")
    names = names.loc[names.sum(axis=1).sort_values(ascending=False).index[:top]]
    bottom_book, bottom = 0.0, np.zeros(len(names))
    share = (book / book.sum()).to_numpy(dtype=float)  # in the order of ``labels``
    for k, label in enumerate(labels):
        left.bar(["book"], [share[k]], bottom=bottom_book, color=f"C{k}")
        bottom_book += float(share[k])
        values = names[label].to_numpy() / 1e6
        right.bar(names.index, values, bottom=bottom, color=f"C{k}", label=label)
        bottom += values
    left.set_ylabel("share of gross value")
    left.set_ylim(0, 1)
    right.set_ylabel("position value ($M)")
    right.tick_params(axis="x", rotation=90)
    right.legend(fontsize=8, title=f"sold at {profile.pov_cap:.0%} POV")
    figure.suptitle("Liquidity profile: value sold within each horizon")
    return figure
