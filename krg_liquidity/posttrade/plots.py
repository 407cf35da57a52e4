"""Post-trade figures (matplotlib). Each function returns a Figure and never calls ``show()``."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from krg_liquidity.posttrade.shortfall import PostTradeResult, bucket, group_table


def plot_cost_vs_size(result: PostTradeResult) -> Figure:
    """Execution cost per order (bps of arrival) against size (fraction of ADV, log scale).

    With the mean cost and the mean I-Star estimate by size bucket.

    Parameters
    ----------
    result : PostTradeResult
        An answer of :func:`~krg_liquidity.post_trade`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (never shown).

    Examples
    --------
    >>> from krg_liquidity import post_trade, synthetic_fills
    >>> type(plot_cost_vs_size(post_trade(synthetic_fills(n=60, seed=1)))).__name__
    'Figure'
    """
    orders = result.orders.dropna(subset=["arrival_cost_bps"])
    figure = Figure(figsize=(7.5, 4.0), layout="constrained")
    axis = figure.add_subplot()
    shown = orders.sample(min(len(orders), 5000), random_state=0) if len(orders) > 5000 else orders
    axis.scatter(shown["size"] * 100, shown["arrival_cost_bps"], s=4, alpha=0.25, color="grey",
                 label="orders" + (f" ({len(shown):,} of {len(orders):,} shown)" if len(shown) < len(orders) else ""))
    table = group_table(orders, "size")
    middle = orders.groupby(bucket(orders, "size"), observed=True)["size"].median().to_numpy() * 100
    axis.plot(middle, table["mean_cost_bps"], marker="o", color="C0", label="mean cost by size bucket")
    axis.plot(middle, table["mean_estimate_bps"], marker="s", linestyle="--", color="C3",
              label="mean I-Star estimate by size bucket")
    axis.set_xscale("log")
    axis.set_xlabel("executed size (% of ADV)")
    axis.set_ylabel("execution cost (bps of arrival)")
    axis.set_title("Execution cost against order size")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", fontsize="small")
    return figure


def plot_z_histogram(result: PostTradeResult) -> Figure:
    """Histogram of the z-scores with the standard normal density a well-fitted model gives.

    Parameters
    ----------
    result : PostTradeResult
        An answer of :func:`~krg_liquidity.post_trade`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (never shown).

    Examples
    --------
    >>> from krg_liquidity import post_trade, synthetic_fills
    >>> type(plot_z_histogram(post_trade(synthetic_fills(n=60, seed=1)))).__name__
    'Figure'
    """
    z = result.orders["z_score"].dropna().to_numpy()
    figure = Figure(figsize=(6.5, 4.0), layout="constrained")
    axis = figure.add_subplot()
    axis.hist(np.clip(z, -5, 5), bins=50, range=(-5, 5), density=True, color="C0", alpha=0.6,
              label=f"orders (mean {z.mean():.2f}, s.d. {z.std(ddof=1) if z.size > 1 else np.nan:.2f})")
    grid = np.linspace(-5, 5, 201)
    axis.plot(grid, np.exp(-grid ** 2 / 2) / np.sqrt(2 * np.pi), color="C3", label="standard normal (mean 0, s.d. 1)")
    axis.set_xlabel("z-score: (cost - estimate) / timing risk (clipped at ±5)")
    axis.set_ylabel("density")
    axis.set_title("Are the estimates right? z-scores")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", fontsize="small")
    return figure


def plot_estimate_vs_actual(result: PostTradeResult) -> Figure:
    """Mean execution cost against mean I-Star estimate (bps) in twenty groups of orders sorted by estimate.

    With the 45-degree line and ±2 standard errors.

    Parameters
    ----------
    result : PostTradeResult
        An answer of :func:`~krg_liquidity.post_trade`.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (never shown).

    Examples
    --------
    >>> from krg_liquidity import post_trade, synthetic_fills
    >>> type(plot_estimate_vs_actual(post_trade(synthetic_fills(n=60, seed=1)))).__name__
    'Figure'
    """
    orders = result.orders.dropna(subset=["arrival_cost_bps", "estimate_bps"]).sort_values("estimate_bps")
    groups = np.array_split(np.arange(len(orders)), min(20, max(len(orders), 1)))
    est = np.array([orders["estimate_bps"].iloc[g].mean() for g in groups if g.size])
    act = np.array([orders["arrival_cost_bps"].iloc[g].mean() for g in groups if g.size])
    err = np.array([orders["arrival_cost_bps"].iloc[g].std(ddof=1) / np.sqrt(g.size) if g.size > 1 else 0.0
                    for g in groups if g.size])
    figure = Figure(figsize=(6.0, 4.5), layout="constrained")
    axis = figure.add_subplot()
    axis.errorbar(est, act, yerr=2 * err, fmt="o", color="C0", label="mean cost of a group (±2 s.e.)")
    top = float(np.nanmax(np.r_[est, act, 1.0]))
    axis.plot([0, top], [0, top], color="grey", linestyle=":", label="cost = estimate")
    axis.set_xlabel("mean I-Star estimate (bps)")
    axis.set_ylabel("mean execution cost (bps of arrival)")
    axis.set_title("Estimate against actual, twenty groups by estimate")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", fontsize="small")
    return figure


def post_trade_figures(result: PostTradeResult) -> dict[str, Figure]:
    """The three post-trade figures by title (none when no order executed)."""
    if result.orders["arrival_cost_bps"].notna().sum() == 0:
        return {}
    return {"Execution cost against size": plot_cost_vs_size(result),
            "z-scores": plot_z_histogram(result),
            "Estimate against actual": plot_estimate_vs_actual(result)}
