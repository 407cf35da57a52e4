"""``krg-liquidity report``: liquidate a book and write the one-file report (HTML or Excel)."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Any, Optional

import typer

from krg_liquidity.book.holdings import fill_strategy
from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.book.read import read_table
from krg_liquidity.cli import options
from krg_liquidity.cli.app import app
from krg_liquidity.cli.common import BOOK_HELP, EXIT_CODES, console, cost_model_from, report_failure, risk_model_from
from krg_liquidity.core.errors import UnitsWarning
from krg_liquidity.core.plan import DEFAULT_TIME_LIMIT
from krg_liquidity.report import build_report, check_report_path, write_report
from krg_liquidity.solve.optimize import liquidate as run_liquidation
from krg_liquidity.solve.rounding import round_trades
from krg_liquidity.solve.tradable import restate


@app.command(epilog=BOOK_HELP)
def report(
    holdings: Path = typer.Argument(..., help="Holdings: CSV (comma, semicolon or tab), .xlsx or .parquet."),
    cash: str = options.cash(),
    allow_small_cash: bool = options.allow_small_cash(),
    output: Path = typer.Option(..., help="The report: .html (one self-contained page, figures embedded) or .xlsx "
                                          "(a sheet per table)."),
    sheet: Optional[str] = typer.Option(None, help="Sheet of an .xlsx holdings file (default: the first)."),
    covariance: Optional[Path] = typer.Option(None, help="Covariance (annualized, decimal)."),
    factor_model: Optional[Path] = options.factor_model(),
    factor_covariance: Optional[Path] = options.factor_covariance(),
    specific_variance: Optional[Path] = options.specific_variance(),
    risk_band: Optional[tuple[float, float]] = options.risk_band(),
    max_total_mi_bps: Optional[float] = options.max_total_mi_bps(),
    allow_buys: bool = options.allow_buys(),
    group_column: Optional[str] = options.group_column(),
    max_group_weight_change: Optional[float] = options.max_group_weight_change(),
    max_tracking_error: Optional[float] = options.max_tracking_error(),
    max_pct_adv: Optional[float] = options.max_pct_adv(),
    max_weight_change: Optional[float] = options.max_weight_change(),
    max_sold_fraction: Optional[float] = options.max_sold_fraction(),
    min_liquid_fraction: Optional[str] = options.min_liquid_fraction(),
    max_total_cost_bps: Optional[float] = options.max_total_cost_bps(),
    parameters: Optional[Path] = options.parameters(),
    mi_code: Optional[int] = options.mi_code(),
    mi_date: Optional[str] = options.mi_date(),
    trade_time: Optional[float] = options.trade_time(),
    pov: Optional[float] = options.pov(),
    lot_size: int = typer.Option(1, help="Round trades to multiples of this many shares."),
    exact_shares: bool = typer.Option(False, help="Keep the optimizer's fractional shares (no rounding)."),
    bucket_minutes: int = typer.Option(30, help="Schedule bucket length in minutes."),
    time_limit: float = typer.Option(DEFAULT_TIME_LIMIT, help="Seconds for the solve, and again for the most "
                                                              "cash and the frontier together."),
    fee_bps: float = options.fee_bps(),
    lots: Optional[Path] = options.lots(),
    tax_short: Optional[float] = options.tax_short(),
    tax_long: Optional[float] = options.tax_long(),
    as_of: Optional[str] = options.as_of(),
    tax_weight: float = options.tax_weight(),
    netting: str = options.netting(),
    unknown_basis: str = options.unknown_basis(),
) -> None:
    """Raise CASH from HOLDINGS and write the report a PM forwards: request and assumptions, summary,
    costs (and with --lots the tax and the lots sold), trades, schedule, cost-vs-cash frontier and pre-trade
    costs (the frontier and the comparison price impact alone).

    A request that cannot be answered (impossible, timed out) still gets its report, with the
    reason; the exit code is then that of ``liquidate`` (2 or 3).
    """
    try:
        asked = options.check_limits(risk_band, time_limit, max_total_mi_bps, allow_buys, group_column=group_column,
                                     max_group_weight_change=max_group_weight_change,
                                     max_tracking_error=max_tracking_error, min_liquid_fraction=min_liquid_fraction,
                                     max_total_cost_bps=max_total_cost_bps,
                                     max_pct_adv=max_pct_adv, max_weight_change=max_weight_change,
                                     max_sold_fraction=max_sold_fraction)
        check_report_path(output)
        model = cost_model_from(parameters, mi_code, mi_date)
        cov, factors = risk_model_from(covariance, factor_model, factor_covariance, specific_variance)
        book = fill_strategy(read_table(holdings, sheet=sheet, what="holdings"), trade_time, pov)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnitsWarning)
            portfolio = Portfolio(book, cov, factors)
        limits: dict[str, Any] = {"limits": asked}
        taxed = options.tax_request(fee_bps, lots, tax_short, tax_long, as_of, netting, tax_weight,
                                    unknown_basis)
        result = run_liquidation(portfolio, options.cash_target(cash, portfolio, allow_small_cash), cost_model=model,
                                 time_limit=time_limit, raise_on_failure=False, allow_small_cash=allow_small_cash,
                                 **limits, **taxed)
        if result.success and not exact_shares:
            result = round_trades(result, lot_size, model)
        lot = None if exact_shares else lot_size
        content = build_report(result, portfolio, cost_model=model, time_limit=time_limit,
                               bucket_minutes=bucket_minutes, lot_size=lot, **limits)
        if result.status == "infeasible" and content.max_cash is not None:  # one most-cash figure
            result = dataclasses.replace(result, message=restate(result.message, content.max_cash, lot))
            content = dataclasses.replace(content, result=result)
        write_report(content, output)
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # every failure is one clear message, never a traceback
        report_failure(exc, json_output=False)
    console.print(f"{result.status}: wrote {output}", highlight=False, markup=False)
    if not result.success:
        console.print(result.message, highlight=False, markup=False)
        raise typer.Exit(EXIT_CODES.get(result.status, 1))
