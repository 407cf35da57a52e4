"""Figures (matplotlib). Each function returns a Figure and never calls ``show()``."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure


def plot_frontier(table: pd.DataFrame, max_cash: float | None = None) -> Figure:
    """Average and marginal impact cost (bps) against cash raised, from :func:`frontier`."""
    figure = Figure(figsize=(7.5, 4.0), layout="constrained")
    axis = figure.add_subplot()
    ok = table[table["status"] != "infeasible"]
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
