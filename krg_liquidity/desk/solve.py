"""The desk's requests: the most cash, one liquidation and its report, each under a time budget.

Failures come back as words (an :class:`Outcome` with the status, the message, the most cash
raisable and the blocking limits), never as an exception, so the page never shows a traceback.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.core.cash import cash_usd
from krg_liquidity.core.errors import InfeasibleLiquidation, InputError, LiquidationError
from krg_liquidity.core.plan import DEFAULT_TIME_LIMIT
from krg_liquidity.core.status import status_of
from krg_liquidity.desk.inputs import LotsUpload
from krg_liquidity.model.tax import TaxRates
from krg_liquidity.report import Report, build_report, render_html, write_excel
from krg_liquidity.solve.explain import blocking_rows
from krg_liquidity.solve.limits import Limits
from krg_liquidity.solve.optimize import liquidate
from krg_liquidity.solve.rounding import round_trades
from krg_liquidity.solve.tradable import most_tradable, with_tradable_cash

SMALL_CASH_BOX = "Allow a small cash target"


@dataclass(frozen=True)
class DeskRequest:
    """What the PM asked, as the page's fields hold it: cash as typed (USD, "250m", "1.5bn" or "10%":
    :mod:`krg_liquidity.core.cash`), risk band (lo, hi) x today's risk or None, total impact cap (bps of
    cash) or None, whether buys are allowed, the time limit (seconds), and whether a small cash target is
    meant; the per-name defaults and the book's shape limits (None: not set); the uploaded tax lots and their
    rates (None: an untaxed account). ``limits()`` builds the request's :class:`~krg_liquidity.Limits` from them
    (checked then), ``taxed()`` the tax keywords."""

    cash: float | str
    risk_band: tuple[float, float] | None = None
    max_total_mi_bps: float | None = None
    allow_buys: bool = False
    time_limit: float = DEFAULT_TIME_LIMIT
    allow_small_cash: bool = False
    max_pct_adv: float | None = None
    max_weight_change: float | None = None
    max_sold_fraction: float | None = None
    group_column: str | None = None
    max_group_weight_change: float | None = None
    max_tracking_error: float | None = None
    min_liquid_fraction: tuple[float, float] | None = None
    lots: LotsUpload | None = None
    tax: TaxRates | None = None

    def taxed(self) -> dict[str, Any]:
        """``liquidate``'s tax keywords (``lots``, ``tax``) when tax lots were uploaded; ``InputError`` naming the
        lots' problems when they cannot be used."""
        if self.lots is None:
            return {}
        if not self.lots.ok or self.tax is None:
            raise InputError(f"tax lots {self.lots.label}: fix these problems (or remove the file) before anything "
                             "runs: " + "; ".join(self.lots.problems or ("give the tax rates",)))
        return {"lots": self.lots.raw, "tax": self.tax}

    def limits(self) -> Limits:
        """The request-level limits as one value; ``InputError`` in Limits' words when a field is wrong.

        The per-name defaults (``max_pct_adv``, ``max_weight_change``, ``max_sold_fraction``: fractions) apply
        where the book leaves the bound blank; ``group_column`` with ``max_group_weight_change`` (fraction of
        weight, 0.02 = +/-2 points) bands every group's weight; ``max_tracking_error`` (annualized fraction) and
        ``min_liquid_fraction`` ((fraction, days)) as :class:`~krg_liquidity.Limits` reads them."""
        change = self.max_group_weight_change
        return Limits(risk_band=self.risk_band, max_total_mi_bps=self.max_total_mi_bps, allow_buys=self.allow_buys,
                      group_column=self.group_column,
                      group_limits=None if change is None else {"max_weight_change": change},
                      max_tracking_error=self.max_tracking_error, min_liquid_fraction=self.min_liquid_fraction,
                      max_pct_adv=self.max_pct_adv, max_weight_change=self.max_weight_change,
                      max_sold_fraction=self.max_sold_fraction)


@dataclass
class Outcome:
    """A solved request (``report`` set) or why not: ``status``, ``message``, ``max_cash`` (USD or
    None) and ``blocking`` (limit in words -> how far it would have to give, in its unit)."""

    status: str
    message: str = ""
    report: Report | None = None
    max_cash: float | None = None
    blocking: dict[str, str] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.report is not None


def most_cash(portfolio: Portfolio, request: DeskRequest) -> tuple[float | None, str]:
    """The most cash (USD) the request's limits allow in whole shares (typed back as the cash, the
    desk raises it: :func:`~krg_liquidity.tradable_cash`), or None and the reason in words (what the
    solve at the most cash said, e.g. a risk floor out of reach there; the time budget only when it ran out)."""
    try:
        return most_tradable(portfolio, 1, time_limit=request.time_limit, limits=request.limits())
    except (LiquidationError, InputError) as exc:
        return None, f"{status_of(exc)}: {exc}"


def cash_of(portfolio: Portfolio, request: DeskRequest) -> float:
    """The request's cash in USD, read as the CLI reads --cash; InputError in the desk's words."""
    return cash_usd(request.cash, portfolio.net_value_usd, allow_small_cash=request.allow_small_cash,
                    name="Cash to raise", allow=f'tick the box "{SMALL_CASH_BOX}"')


def run(portfolio: Portfolio, request: DeskRequest, known_max_cash: float | None = None) -> Outcome:
    """Liquidate (whole shares), then derive the report's tables (frontier under the same time limit)."""
    try:
        result = liquidate(portfolio, cash_of(portfolio, request), time_limit=request.time_limit,
                           allow_small_cash=request.allow_small_cash, limits=request.limits(), **request.taxed())
    except InfeasibleLiquidation as exc:
        blocking = dict(blocking_rows(exc.blocking, exc.blocking_units, request, exc.blocking_exact,
                                      exc.blocking_totals))
        exc = with_tradable_cash(exc, portfolio, 1, known_max_cash, time_limit=request.time_limit,
                                 limits=request.limits())
        most = exc.max_cash  # one figure on the page, in whole shares as the desk trades
        return Outcome("infeasible", exc.headline, max_cash=most, blocking=blocking)  # the table is shown apart
    except (LiquidationError, InputError) as exc:
        return Outcome(status_of(exc), str(exc), max_cash=known_max_cash)
    result = round_trades(result)
    report = build_report(result, portfolio, time_limit=request.time_limit, limits=request.limits())
    return Outcome(result.status, result.message, report=report, max_cash=report.max_cash)


def downloads(report: Report) -> dict[str, tuple[bytes, str]]:
    """File name -> (bytes, MIME type): the trade list and the schedule (CSV), the report (HTML, Excel)."""
    files = {}
    trades = report.result.trades
    files["trades.csv"] = (trades[trades["shares_traded"] != 0].to_csv(index=False).encode(), "text/csv")
    files["schedule.csv"] = (report.schedule.to_csv(index=False).encode(), "text/csv")
    files["report.html"] = (render_html(report).encode("utf-8"), "text/html")
    with tempfile.TemporaryDirectory(prefix="krg-desk-") as folder:
        workbook = write_excel(report, Path(folder) / "report.xlsx").read_bytes()
    files["report.xlsx"] = (workbook,
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return files


__all__ = ["DeskRequest", "Outcome", "cash_of", "downloads", "most_cash", "run"]
