"""Command line: ``krg-liquidity demo | pretrade | liquidate``.

The CLI only reads files, calls the public API and prints; bad input exits with code 2
and one line, never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TaskProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)
from rich.text import Text
from rich.table import Table

from .batch import SOLVED, BatchResult, read_requests, run_batch
from .capacity import max_cash
from .columns import normalize_columns
from .datasets import load_covariance, load_example
from .errors import InfeasibleLiquidation, InputError, LiquidationError
from .impact import CostModel
from .optimize import liquidate as run_liquidation
from .params import KISSELL_2013_ALL_DATA, load_parameters
from .portfolio import Portfolio
from .profiles import load_volume_profile
from .schedule import pov_schedule
from .optimal_schedule import optimize_basket_schedule
from .result import LiquidationResult

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Constrained portfolio liquidation at least market impact (I-Star model).")
console = Console(width=None if sys.stdout.isatty() else 140)


@app.callback()
def main() -> None:
    """krg-liquidity: pick what to sell to raise cash at least market impact."""


def fail(message: str, code: int = 2) -> None:
    Console(stderr=True, soft_wrap=True).print(f"error: {message}", highlight=False, markup=False)
    raise typer.Exit(code)


def read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        fail(f"file not found: {path}")
    try:
        return pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # any reader error becomes one clear line
        fail(f"cannot read {path}: {exc}")


def cost_model_from(parameters: Optional[Path], mi_code: int, mi_date: Optional[str]) -> CostModel:
    if parameters is None:
        return CostModel(KISSELL_2013_ALL_DATA)
    return CostModel(load_parameters(parameters, code=mi_code, date=mi_date))


def pretrade_table(holdings: pd.DataFrame, model: CostModel) -> pd.DataFrame:
    """Impact, timing risk and liquidity factor of selling each whole position at its trade time."""
    orders = normalize_columns(holdings)
    if "shares" in orders:
        orders["shares"] = pd.to_numeric(orders["shares"], errors="coerce").abs()
    return pd.DataFrame({
        "symbol": orders["symbol"],
        "trade_time_days": model.trade_time(orders),
        "istar_bps": model.istar(orders),
        "market_impact_bps": model.market_impact(orders),
        "timing_risk_bps": model.timing_risk(orders),
        "liquidity_factor_bps": model.liquidity_factor(orders),
        "market_impact_usd": model.market_impact_usd(orders),
    })


def print_frame(frame: pd.DataFrame, title: str, formats: dict[str, str]) -> None:
    table = Table(title=title, show_lines=False)
    for column in frame.columns:
        table.add_column(column.replace("_", " "), justify="left" if frame[column].dtype == object else "right",
                         overflow="fold")
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row):
            fmt = formats.get(column)
            cells.append(format(value, fmt) if fmt and isinstance(value, (int, float)) else str(value))
        table.add_row(*cells)
    console.print(table)


@app.command()
def pretrade(
    holdings: Optional[Path] = typer.Argument(None, help="Holdings CSV/Parquet (default: the bundled example book)."),
    parameters: Optional[Path] = typer.Option(None, help="I-Star parameter table (CSV: code,date,a1..a5,b1,source)."),
    mi_code: int = typer.Option(1, help="Market-impact code to pick from the parameter table."),
    mi_date: Optional[str] = typer.Option(None, help="Use the latest parameters dated on or before this day."),
) -> None:
    """Pre-trade cost table: selling each whole position at its trade time."""
    book = load_example()[0] if holdings is None else read_table(holdings)
    try:
        table = pretrade_table(book, cost_model_from(parameters, mi_code, mi_date))
    except InputError as exc:
        fail(str(exc))
    print_frame(table, "Pre-trade costs (whole positions)", {
        "trade_time_days": ".2f", "istar_bps": ".2f", "market_impact_bps": ".2f",
        "timing_risk_bps": ".2f", "liquidity_factor_bps": ".4g", "market_impact_usd": ",.0f"})
    console.print(f"Total market impact: ${table['market_impact_usd'].sum():,.0f}")


TRADE_FORMATS = {"shares_before": ",.0f", "shares_traded": ",.0f", "shares_after": ",.0f",
                 "value_traded_usd": ",.0f", "pov": ".2%", "trade_time_days": ".2f", "mi_bps": ".2f",
                 "cost_usd": ",.0f", "weight_before": ".2%", "weight_after": ".2%"}


def print_result(result: LiquidationResult) -> None:
    traded = result.trades[result.trades["shares_traded"] != 0]
    shown = traded.loc[:, ["symbol", "shares_traded", "value_traded_usd", "pov", "mi_bps", "cost_usd",
                           "weight_before", "weight_after", "binding"]]
    print_frame(shown, "Trades", TRADE_FORMATS)
    console.print(result.summary(), highlight=False, markup=False)


def _print_json(payload: dict) -> None:
    typer.echo(json.dumps(payload, allow_nan=False, default=float))


@app.command()
def liquidate(
    holdings: Path = typer.Argument(..., help="Holdings CSV/Parquet (MATLAB TradeDataPortOpt or snake_case columns)."),
    cash: float = typer.Option(..., help="Cash to raise, USD."),
    covariance: Optional[Path] = typer.Option(None, help="Covariance CSV: first column the symbol, header the symbols (annualized)."),
    risk_band: Optional[tuple[float, float]] = typer.Option(None, help="Post-trade risk between LO and HI x today's, e.g. 0.9 1.1."),
    max_total_mi_bps: Optional[float] = typer.Option(None, help="Total impact cost at most this many bps of the cash."),
    allow_buys: bool = typer.Option(False, help="Allow trades that add to or flip positions."),
    parameters: Optional[Path] = typer.Option(None, help="I-Star parameter table (CSV: code,date,a1..a5,b1,source)."),
    mi_code: int = typer.Option(1, help="Market-impact code to pick from the parameter table."),
    mi_date: Optional[str] = typer.Option(None, help="Use the latest parameters dated on or before this day."),
    output: Optional[Path] = typer.Option(None, help="Write the trade table here (CSV, or Parquet by extension)."),
    schedule: Optional[Path] = typer.Option(None, help="Also write the POV trading schedule here (CSV or Parquet)."),
    bucket_minutes: int = typer.Option(30, help="Schedule bucket length in minutes (must divide the session)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object on stdout instead of tables."),
) -> None:
    """Raise CASH from HOLDINGS at least total market impact."""
    try:
        book = read_table(holdings)
        cov = load_covariance(covariance) if covariance is not None else None
        portfolio = Portfolio(book, cov)
        model = cost_model_from(parameters, mi_code, mi_date)
        result = run_liquidation(portfolio, cash, risk_band=risk_band, max_total_mi_bps=max_total_mi_bps,
                                 allow_buys=allow_buys, cost_model=model)
    except InfeasibleLiquidation as exc:
        if json_output:
            _print_json({"status": "infeasible", "message": str(exc), "cash_target": cash,
                         "max_cash_raisable": exc.max_cash, "blocking": exc.blocking})
            raise typer.Exit(2)
        fail(str(exc))
    except (InputError, LiquidationError, FileNotFoundError, pd.errors.ParserError) as exc:
        if json_output:
            _print_json({"status": "error", "message": str(exc)})
            raise typer.Exit(2)
        fail(str(exc))
    if output is not None:
        write_table(result.trades, output)
    if schedule is not None:
        try:
            write_table(pov_schedule(result.trades, bucket_minutes=bucket_minutes), schedule)
        except InputError as exc:
            fail(str(exc))
    if json_output:
        payload = result.to_dict()
        payload["cash_target"] = result.cash_target
        _print_json(payload)
    else:
        print_result(result)


def write_table(frame: pd.DataFrame, path: Path) -> None:
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


@app.command("schedule")
def schedule_command(
    trades: Path = typer.Argument(..., help="Trades CSV/Parquet: symbol, shares (signed) or shares_traded, adv, pov or trade_time."),
    output: Path = typer.Option(..., help="Write the schedule here (CSV, or Parquet by extension)."),
    profile: Optional[Path] = typer.Option(None, help="Volume profile CSV (minute HH:MM, fraction); default: the US model."),
    bucket_minutes: int = typer.Option(30, help="Bucket length in minutes (must divide the session)."),
    start: Optional[str] = typer.Option(None, help="First trading day, YYYY-MM-DD (default: today)."),
    optimize: bool = typer.Option(False, "--optimize", help="Optimal schedule (impact + λ x timing risk) instead of "
                                                            "POV; the trades need price and volatility."),
    risk_aversion: float = typer.Option(1.0, help="With --optimize: λ, dollars of expected cost per dollar of timing risk."),
    periods: int = typer.Option(26, help="With --optimize: buckets in the horizon (26 = two days of 30 minutes)."),
    covariance: Optional[Path] = typer.Option(None, help="With --optimize: covariance CSV (annualized); default: uncorrelated."),
    max_pov: Optional[float] = typer.Option(None, help="With --optimize: most participation per bucket, e.g. 0.2."),
) -> None:
    """Turn trade sizes into a schedule: shares per name per bucket per day (POV, or optimal with --optimize)."""
    table = read_table(trades)
    solution = None
    try:
        shape = load_volume_profile(profile) if profile is not None else None
        if optimize:
            cov = load_covariance(covariance) if covariance is not None else None
            solution = optimize_basket_schedule(table, covariance=cov, profile=shape, periods=periods,
                                                risk_aversion=risk_aversion, bucket_minutes=bucket_minutes,
                                                start=start, max_pov=max_pov)
            plan = solution.schedule
        else:
            plan = pov_schedule(table, profile=shape, bucket_minutes=bucket_minutes, start=start)
    except (InputError, LiquidationError, FileNotFoundError) as exc:
        fail(str(exc))
    write_table(plan, output)
    if solution is not None:
        console.print(solution.summary(), highlight=False, markup=False)
    days = int(plan["day"].max()) if len(plan) else 0
    console.print(f"{plan['symbol'].nunique()} names, {len(plan):,} buckets over {days} day(s) -> {output}",
                  highlight=False)


@app.command()
def batch(
    requests: Path = typer.Argument(..., help="Requests CSV/Parquet: book_id, holdings, covariance, cash[, risk_band_lo, "
                                              "risk_band_hi, max_total_mi_bps, allow_buys]; paths relative to it."),
    output: Path = typer.Option(..., help="Output folder: summary.parquet, trades.parquet (and parts/ while running)."),
    workers: Optional[int] = typer.Option(None, help="Local worker processes (default: the number of cores)."),
    scheduler: Optional[str] = typer.Option(None, help="Dask scheduler address, e.g. tcp://10.0.0.5:8786."),
    resume: bool = typer.Option(False, help="Skip books already finished in OUTPUT (after a killed run)."),
) -> None:
    """Liquidate many books; exit 0 if every book is solved, 3 if some failed, 2 for a bad requests file."""
    try:
        total = len(read_requests(requests))
    except InputError as exc:
        fail(str(exc))
    interactive = sys.stderr.isatty()
    err = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                  RateColumn(), TimeElapsedColumn(), TimeRemainingColumn(), console=err, disable=not interactive) as bar:
        task = bar.add_task("books", total=total)

        def advance(_outcome) -> None:
            bar.advance(task)

        try:
            result = run_batch(requests, output, workers=workers, scheduler=scheduler, resume=resume, progress=advance)
        except InputError as exc:
            fail(str(exc))
    print_batch_summary(result)
    raise typer.Exit(result.exit_code)


class RateColumn(ProgressColumn):
    """Books per second."""

    def render(self, task) -> Text:
        return Text(f"{task.speed:.1f} books/s" if task.speed else "- books/s")


def print_batch_summary(result: BatchResult) -> None:
    summary = result.summary
    solved = summary[summary["status"].isin(SOLVED)]
    console.print(f"{len(solved)} of {len(summary)} books solved ({result.skipped} skipped as already done) "
                  f"in {result.seconds:.1f} s on {result.engine}; cash raised ${solved['cash_raised'].sum():,.0f}, "
                  f"impact ${solved['cost_usd'].sum():,.0f}", highlight=False)
    if len(result.failed):
        print_frame(result.failed[["book_id", "status", "error"]].head(20), "Failed books", {})
    slowest = summary.nlargest(min(5, len(summary)), "seconds")[["book_id", "status", "seconds"]]
    print_frame(slowest, "Slowest books", {"seconds": ".3f"})


@app.command()
def demo() -> None:
    """Raise $1B (10%) from the bundled $10B book: risk band 0.9-1.1, total impact at most 50 bps."""
    holdings, covariance = load_example()
    portfolio = Portfolio(holdings, covariance)
    target = round(0.10 * portfolio.net_value_usd, -6)
    console.print(f"Example book: {len(holdings)} Dow stocks (2014 data), net value ${portfolio.net_value_usd:,.0f}. "
                  f"Raising ${target:,.0f} with risk band 0.9-1.1 and total impact <= 50 bps.", highlight=False)
    result = run_liquidation(portfolio, target, risk_band=(0.9, 1.1), max_total_mi_bps=50)
    print_result(result)
    console.print(f"Most cash these limits allow: ${max_cash(portfolio, risk_band=(0.9, 1.1), max_total_mi_bps=50):,.0f}",
                  highlight=False)
