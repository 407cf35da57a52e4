"""Commands on one book: ``liquidate``, ``pretrade`` and ``demo`` (``schedule`` is in :mod:`.schedule`)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd
import typer

from krg_liquidity.book import columns as col
from krg_liquidity.book import units
from krg_liquidity.book.columns import column_table
from krg_liquidity.book.datasets import load_example
from krg_liquidity.book.holdings import fill_strategy, without_strategy
from krg_liquidity.book.orders import as_orders
from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.book.read import read_table
from krg_liquidity.cli import options
from krg_liquidity.cli.app import app
from krg_liquidity.cli.common import (
    BOOK_HELP,
    EXIT_CODES,
    console,
    cost_model_from,
    print_frame,
    print_json,
    report_failure,
    reraise_exit,
    risk_model_from,
    trades_sheet,
    with_sheet_hint,
)
from krg_liquidity.core.errors import BookError, InfeasibleLiquidation, InputError, UnitsWarning
from krg_liquidity.core.numbers import dollars
from krg_liquidity.core.plan import DEFAULT_TIME_LIMIT
from krg_liquidity.model.assumptions import attach
from krg_liquidity.model.impact import CostModel, extrapolation_warning
from krg_liquidity.report.write import check_output, shape_sheets, write_result, write_schedule
from krg_liquidity.schedule.pov_vwap import pov_schedule
from krg_liquidity.solve.limits import find_group_column
from krg_liquidity.solve.optimize import liquidate as run_liquidation
from krg_liquidity.solve.result import LiquidationResult
from krg_liquidity.solve.rounding import round_trades
from krg_liquidity.solve.tradable import tradable_cash, with_tradable_cash


def pretrade_table(holdings: pd.DataFrame | str | Path, model: CostModel) -> pd.DataFrame:
    """Impact, timing risk and liquidity factor per order: each whole position of a holdings table,
    or each trade of a trade list (a LiquidationResult's trades, or its file)."""
    orders = as_orders(holdings)
    values = {name: col.non_numeric(orders, name)[0] for name in ("volatility", "shares", "adv", "size")
              if name in orders}
    problems = units.check_book_units(values, orders["symbol"].to_numpy())
    if problems:
        raise BookError(problems, what="the orders", table=column_table(required_only=True))
    days = model.trade_time(orders)
    size = (col.numeric(orders, "size") if "size" in orders
            else col.numeric(orders, "shares") / col.numeric(orders, "adv"))
    with np.errstate(invalid="ignore", divide="ignore"):
        pov = size / (size + np.asarray(days, dtype=float))
    return pd.DataFrame({
        "symbol": orders["symbol"],
        "trade_time_days": days,
        "pov": pov,
        "istar_bps": model.istar(orders),
        "market_impact_bps": model.market_impact(orders),
        "timing_risk_bps": model.timing_risk(orders),
        "liquidity_factor_bps_per_usd": model.liquidity_factor(orders),  # I* of a $1 order
        "market_impact_usd": model.market_impact_usd(orders),
    })


@app.command(epilog=BOOK_HELP)
def pretrade(
    holdings: Optional[Path] = typer.Argument(None, help="Holdings or a trade list (CSV/.xlsx/Parquet; default: "
                                                         "the bundled example book)."),
    parameters: Optional[Path] = options.parameters(),
    mi_code: Optional[int] = options.mi_code(),
    mi_date: Optional[str] = options.mi_date(),
    trade_time: Optional[float] = options.trade_time(),
    pov: Optional[float] = options.pov(),
) -> None:
    """Pre-trade cost table: each whole position (or each trade of a trade list) at its trade time."""
    try:
        book = load_example()[0] if holdings is None else read_table(holdings, what="holdings",
                                                                     sheet=trades_sheet(holdings))
        table = pretrade_table(fill_strategy(book, trade_time, pov), cost_model_from(parameters, mi_code, mi_date))
    except Exception as exc:  # every failure is one clear message
        reraise_exit(exc)
        report_failure(exc, json_output=False)
    print_frame(table, "Pre-trade costs", {
        "trade_time_days": ".2f", "pov": ".2%", "istar_bps": ".2f", "market_impact_bps": ".2f",
        "timing_risk_bps": ".2f", "liquidity_factor_bps_per_usd": ".4g", "market_impact_usd": ",.0f"})
    console.print(f"Total market impact: ${table['market_impact_usd'].sum():,.0f}")
    note = extrapolation_warning(table["symbol"].to_numpy(), table["pov"].to_numpy(),
                                 table["market_impact_bps"].to_numpy())
    if note is not None:
        console.print(f"warning: {note}", markup=False)


TRADE_FORMATS = {"shares_before": ",.0f", "shares_traded": ",.0f", "shares_after": ",.0f",
                 "value_traded_usd": ",.0f", "pov": ".2%", "trade_time_days": ".2f", "mi_bps": ".2f",
                 "cost_usd": ",.0f", "weight_before": ".2%", "weight_after": ".2%"}


GROUP_FORMATS = {"value_sold_usd": ",.0f", "weight_before": ".2%", "weight_after": ".2%", "weight_lo": ".2%",
                 "weight_hi": ".2%", "max_sold_fraction": ".0%"}
LIQUIDITY_FORMATS = {"value_usd": ",.0f", "days_to_liquidate": ".2f", "sellable_1d": ".1%", "sellable_5d": ".1%",
                     "sellable_20d": ".1%"}

SCREEN_ROWS = 40
"""Trade rows printed on screen at most: the largest by value (the full table goes to --output or --json)."""


def print_result(result: LiquidationResult) -> None:
    traded = result.trades[result.trades["shares_traded"] != 0]
    more = len(traded) - SCREEN_ROWS
    if more > 0:
        largest = traded["value_traded_usd"].abs().sort_values(ascending=False, kind="stable")
        traded = traded.loc[largest.index[:SCREEN_ROWS]]
    shown = traded.loc[:, ["symbol", "shares_traded", "value_traded_usd", "pov", "mi_bps", "cost_usd",
                           "weight_before", "weight_after", "limit_reached"]]
    print_frame(shown, f"Trades: the {SCREEN_ROWS} largest by value" if more > 0 else "Trades", TRADE_FORMATS)
    if more > 0:
        console.print(f"... and {more:,} more names; the full table is in --output FILE (.csv, .xlsx, .parquet, "
                      ".json) or --json", highlight=False, markup=False)
    limits = result.limits
    groups = result.groups if limits is not None and limits.group_limits else None
    if groups is not None:
        print_frame(groups.reset_index().astype(object).fillna("none"), "Groups", GROUP_FORMATS)
    if limits is not None and limits.has_shape_limits and result.liquidity_left is not None:
        print_frame(shape_sheets(result)["liquidity"], "Liquidity left (at each name's POV)", LIQUIDITY_FORMATS)
    console.print(result.summary(), highlight=False, markup=False, soft_wrap=True)  # the terminal wraps text
    costs = result.costs
    usd = costs["usd"].to_dict()
    if result.success and (usd["total"] != usd["impact"] or "tax" in usd):  # more than impact to show
        print_frame(costs.reset_index(names="cost"), "All-in costs", {"usd": ",.0f", "bps": ".2f"})
    if result.lots is not None:
        sold = result.lots[result.lots["shares_sold"] > 0]
        print_frame(sold.loc[:, ["symbol", "lot_id", "term", "shares_sold", "cost_basis_per_share",
                                 "realized_gain_usd", "tax_usd"]].head(SCREEN_ROWS), "Lots sold",
                    {"shares_sold": ",.0f", "cost_basis_per_share": ",.2f", "realized_gain_usd": ",.0f",
                     "tax_usd": ",.0f"})
        carried = result.tax.get("carryforward_usd", 0.0)
        console.print(f"Tax {dollars(result.tax_usd)} (realized short-term "
                      f"{dollars(result.tax['realized_short_term_usd'])}, long-term "
                      f"{dollars(result.tax['realized_long_term_usd'])}"
                      + (f"; net loss carried forward {dollars(carried)}" if carried > 0 else "") + ")",
                      highlight=False, markup=False)


@app.command(epilog=BOOK_HELP)
def liquidate(
    holdings: Path = typer.Argument(..., help="Holdings: CSV (comma, semicolon or tab), .xlsx or .parquet."),
    cash: str = options.cash(),
    allow_small_cash: bool = options.allow_small_cash(),
    sheet: Optional[str] = typer.Option(None, help="Sheet of an .xlsx holdings file (name or 0-based number; "
                                                   "default: the first)."),
    covariance: Optional[Path] = typer.Option(None, help="Covariance (annualized, decimal): first column the symbol, "
                                                         "header the symbols."),
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
    parameters: Optional[Path] = options.parameters(),
    mi_code: Optional[int] = options.mi_code(),
    mi_date: Optional[str] = options.mi_date(),
    trade_time: Optional[float] = options.trade_time(),
    pov: Optional[float] = options.pov(),
    lot_size: int = typer.Option(1, help="Round trades to whole lots of this many shares, inside each name's "
                                         "limits: each trade first to the lot that raises less cash, then the "
                                         "names where it costs least one lot up until the cash target is met."),
    exact_shares: bool = typer.Option(False, help="Keep the optimizer's fractional shares (no rounding)."),
    output: Optional[Path] = typer.Option(None, help="Write the answer here by extension: .csv/.parquet (trades), "
                                                     ".xlsx (trades, schedule, grid, summary, request, "
                                                     "assumptions), .json."),
    schedule: Optional[Path] = typer.Option(None, help="Also write the POV schedule here (.csv, .xlsx, .parquet, "
                                                       ".json; an .xlsx also gets the 'grid' sheet)."),
    bucket_minutes: int = typer.Option(30, help="Schedule bucket length in minutes (must divide the session)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object on stdout, for every outcome."),
    time_limit: float = typer.Option(DEFAULT_TIME_LIMIT, help="Seconds the solve may take; past it the best "
                                     "verified answer is returned (status feasible) or the run ends with status "
                                     "timeout."),
    fee_bps: float = options.fee_bps(),
    max_total_cost_bps: Optional[float] = options.max_total_cost_bps(),
    lots: Optional[Path] = options.lots(),
    tax_short: Optional[float] = options.tax_short(),
    tax_long: Optional[float] = options.tax_long(),
    as_of: Optional[str] = options.as_of(),
    tax_weight: float = options.tax_weight(),
    netting: str = options.netting(),
    unknown_basis: str = options.unknown_basis(),
) -> None:
    """Raise CASH from HOLDINGS at least all-in cost: impact, spread, commission, fees (and tax with --lots).

    Exit codes: 0 answered (optimal or feasible); 2 bad input or a request proven impossible;
    3 no answer found (timeout, no_feasible_point_found under the risk floor, solver_failed, or
    limits_broken: whole lots cannot keep a limit; the message names it).
    """
    try:
        asked = options.check_limits(risk_band, time_limit, max_total_mi_bps, allow_buys, group_column=group_column,
                                     max_group_weight_change=max_group_weight_change,
                                     max_tracking_error=max_tracking_error, min_liquid_fraction=min_liquid_fraction,
                                     max_total_cost_bps=max_total_cost_bps,
                                     max_pct_adv=max_pct_adv, max_weight_change=max_weight_change,
                                     max_sold_fraction=max_sold_fraction)
        taxed = options.tax_request(fee_bps, lots, tax_short, tax_long, as_of, netting, tax_weight,
                                    unknown_basis)
        for path in (output, schedule):
            if path is not None:
                check_output(path)
        if exact_shares and lot_size != 1:
            raise InputError(f"--lot-size {lot_size} and --exact-shares contradict each other: keep one")
        model = cost_model_from(parameters, mi_code, mi_date)
        cov, factors = risk_model_from(covariance, factor_model, factor_covariance, specific_variance)
        raw = read_table(holdings, sheet=sheet, what="holdings")
        defaulted = int(without_strategy(raw).sum())  # the names --trade-time / --pov apply to
        book = fill_strategy(raw, trade_time, pov)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnitsWarning)  # they are listed on the result
            try:
                portfolio = Portfolio(book, cov, factors)
            except BookError as exc:
                raise with_sheet_hint(exc, holdings, sheet) from None
        grouped = find_group_column(portfolio, asked.group_column) if asked.group_column or asked.group_limits else None
        unused = [c for c in portfolio.extra_columns if c != grouped]  # the group column is read
        if unused and not json_output:  # said, not dropped silently
            typer.echo(f"columns not used (carried to the trade table): {', '.join(unused)}",
                       err=True)
        target = options.cash_target(cash, portfolio, allow_small_cash)
        limits: dict[str, Any] = {"limits": asked, "cost_model": model, "time_limit": time_limit}
        try:
            result = run_liquidation(portfolio, target, allow_small_cash=allow_small_cash, **limits, **taxed)
        except InfeasibleLiquidation as exc:  # the most cash as this run trades it: typed back, it is raised
            raise with_tradable_cash(exc, portfolio, None if exact_shares else lot_size, **limits) from None
        defaults = {k: v for k, v in (("trade_time_days", trade_time), ("pov", pov)) if v is not None and defaulted}
        attach(result, portfolio, model, defaults)
        if not exact_shares:
            result = round_trades(result, lot_size, model)
        plan = None
        if schedule is not None or (output is not None and output.suffix.lower() == ".xlsx"):
            plan = pov_schedule(result.trades, bucket_minutes=bucket_minutes)
        if output is not None:
            write_result(result, output, schedule=plan)
        if schedule is not None and plan is not None:  # plan is built whenever a schedule file is asked for
            write_schedule(plan, schedule)
    except Exception as exc:  # every failure is one message or one JSON object, never a traceback
        reraise_exit(exc)
        report_failure(exc, json_output)
    if json_output:
        print_json(result.to_dict())
    else:
        print_result(result)
    if not result.success:  # whole lots that cannot keep a limit: the list is shown, the run is not a success
        raise typer.Exit(EXIT_CODES.get(result.status, 1))


@app.command()
def demo() -> None:
    """Raise $1B (10%) from the bundled $10B book: risk band 0.9-1.1, total impact at most 50 bps."""
    holdings, covariance = load_example()
    portfolio = Portfolio(holdings, covariance)
    target = round(0.10 * portfolio.net_value_usd, -6)
    console.print(f"Example book: {len(holdings)} Dow stocks (2014 data), net value ${portfolio.net_value_usd:,.0f}. "
                  f"Raising ${target:,.0f} with risk band 0.9-1.1 and total impact <= 50 bps.", highlight=False)
    result = attach(run_liquidation(portfolio, target, risk_band=(0.9, 1.1), max_total_mi_bps=50), portfolio)
    print_result(round_trades(result))  # whole shares, as liquidate trades by default
    most = tradable_cash(portfolio, risk_band=(0.9, 1.1), max_total_mi_bps=50)
    if most is not None:  # typed back as --cash, whole shares raise it
        console.print(f"Most cash these limits allow in whole shares: ${most:,.0f}", highlight=False)
