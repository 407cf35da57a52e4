"""Figures of a market simulation (``simulate``): the spread of the cost, and of the cash raised over time.

Each function returns a matplotlib Figure and never calls ``show()``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from krg_liquidity.schedule.simulate import Simulation


def plot_shortfall_histogram(simulation: Simulation, bins: int = 60) -> Figure:
    """Histogram of the implementation shortfall ($M) over the paths, with the cost model's expected cost,
    the simulated mean and the 95% VaR and CVaR marked.

    Parameters
    ----------
    simulation : Simulation
        The answer of :func:`~krg_liquidity.simulate`.
    bins : int
        Histogram bins.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import krg_liquidity as krg
    >>> trades = krg.liquidate(krg.Portfolio(*krg.load_example()), 1e8).trades
    >>> plan = krg.pov_schedule(trades)
    >>> figure = plot_shortfall_histogram(krg.simulate(plan, trades, paths=200, seed=1))
    >>> len(figure.axes)
    1
    """
    figure = Figure(figsize=(7.5, 4.0), layout="constrained")
    axis = figure.add_subplot()
    axis.hist(simulation.shortfall_usd / 1e6, bins=bins, color="C0", alpha=0.75)
    marks = (("expected (cost model)", simulation.expected_cost_usd, "k", "-"),
             ("simulated mean", float(simulation.shortfall_usd.mean()), "C2", "--"),
             ("VaR 95%", simulation.var_usd(0.95), "C1", ":"), ("CVaR 95%", simulation.cvar_usd(0.95), "C3", ":"))
    for label, value, color, style in marks:
        axis.axvline(value / 1e6, color=color, linestyle=style, label=f"{label}: ${value / 1e6:,.2f}M")
    axis.set_xlabel("implementation shortfall ($M, positive = cost)")
    axis.set_ylabel("paths")
    axis.set_title(f"Cost over {simulation.paths:,} simulated markets")
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small")
    return figure


def plot_cash_fan(simulation: Simulation, milestones: bool = True) -> Figure:
    """Fan chart of the cash raised by the end of each period ($M): median, 25-75% and 5-95% bands, and
    the milestones (with the share of paths meeting each).

    Parameters
    ----------
    simulation : Simulation
        The answer of :func:`~krg_liquidity.simulate`.
    milestones : bool
        Mark the simulation's milestones.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import krg_liquidity as krg
    >>> trades = krg.liquidate(krg.Portfolio(*krg.load_example()), 1e8).trades
    >>> plan = krg.pov_schedule(trades)
    >>> figure = plot_cash_fan(krg.simulate(plan, trades, paths=200, seed=1, milestones={1: 5e7}))
    >>> len(figure.axes)
    1
    """
    figure = Figure(figsize=(7.5, 4.0), layout="constrained")
    axis = figure.add_subplot()
    cash = simulation.cash_by_period / 1e6
    period = np.arange(1, cash.shape[1] + 1)
    q = np.quantile(cash, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    axis.fill_between(period, q[0], q[4], color="C0", alpha=0.2, label="5-95% of paths")
    axis.fill_between(period, q[1], q[3], color="C0", alpha=0.4, label="25-75% of paths")
    axis.plot(period, q[2], color="C0", marker=".", label="median")
    if milestones:
        for k, least in sorted(simulation.milestones.items()):
            share = simulation.milestone_probability(k, least)
            axis.plot([k], [least / 1e6], marker="D", color="C3", linestyle="none")
            axis.annotate(f"${least / 1e6:,.1f}M: {share:.0%}", (k, least / 1e6), textcoords="offset points",
                          xytext=(5, -12), fontsize="small", color="C3")
    axis.set_xlabel("period (cash by its end)")
    axis.set_ylabel("cash raised ($M)")
    axis.set_title("Cash raised over time")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", fontsize="small")
    return figure
