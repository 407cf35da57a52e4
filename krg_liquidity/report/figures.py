"""The report's figures (matplotlib ``Figure`` objects, never shown) and their PNG encoding."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

if TYPE_CHECKING:
    from krg_liquidity.report.content import Report

from krg_liquidity.report.plots import plot_basket, plot_completion, plot_frontier


def frontier_figure(report: Report) -> Figure | None:
    """Average and marginal cost (bps) against cash raised ($M), the most cash line and this request as a star."""
    if report.frontier.empty or not report.frontier["status"].isin(("optimal", "feasible")).any():
        return None
    figure = plot_frontier(report.frontier, report.max_cash)
    result = report.result
    if result.success:
        axis = figure.axes[0]
        axis.plot([result.cash_raised / 1e6], [result.cost_bps], marker="*", markersize=16, color="C3",
                  linestyle="none", label=f"this request (${result.cash_raised / 1e6:,.0f}M, {result.cost_bps:.2f} bps)")
        axis.legend(loc="upper left")
    return figure


def completion_figure(report: Report) -> Figure | None:
    """Fraction of each name's order done over time (the 12 largest orders by value)."""
    if report.schedule.empty:
        return None
    traded = report.result.trades
    largest = traded.reindex(traded["value_traded_usd"].abs().sort_values(ascending=False).index)
    names = [s for s in largest["symbol"].astype(str) if s in set(report.schedule["symbol"].astype(str))][:12]
    return plot_completion(report.schedule, names)


def basket_figure(report: Report) -> Figure | None:
    """Cumulative cash raised and residual risk of the basket over time (needs a risk model)."""
    return None if report.basket.empty else plot_basket(report.basket)


def figures(report: Report) -> dict[str, Figure]:
    """Every figure the report has, by title."""
    found = {"Cost against cash raised": frontier_figure(report), "Schedule: completion by name": completion_figure(report),
             "Schedule: basket cash and risk": basket_figure(report)}
    return {title: figure for title, figure in found.items() if figure is not None}


def png_bytes(figure: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def data_uri(figure: Figure) -> str:
    """The figure as a ``data:image/png;base64,...`` URI (an image that needs no other file)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(figure)).decode("ascii")
