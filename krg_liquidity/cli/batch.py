"""The ``batch`` command: many books, a progress bar, a clean stop on Ctrl-C or SIGTERM."""

from __future__ import annotations

import shlex
import signal
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from krg_liquidity.batch.run import BatchInterrupted, BatchResult, read_requests, run_batch
from krg_liquidity.batch.store import EXTRA_FORMATS
from krg_liquidity.cli.app import app
from krg_liquidity.cli.common import console, fail, print_frame
from krg_liquidity.core.errors import InputError
from krg_liquidity.core.numbers import dollars
from krg_liquidity.core.status import SOLVED

REQUESTS_HELP = ("Requests (CSV/.xlsx/Parquet): book_id, holdings, cash; optional covariance or factor_model "
                 "(+ factor_covariance, specific_variance), sheet, risk_band_lo, risk_band_hi, max_total_mi_bps, "
                 "allow_buys, allow_small_cash, trade_time, pov, lot_size, time_limit; costs and tax: fee_bps, "
                 "max_total_cost_bps, lots (+ tax_short, tax_long, as_of, netting, tax_weight, unknown_basis); shape: group_column, "
                 "max_group_weight_change, max_tracking_error, min_liquid_fraction (+ min_liquid_days); per-name defaults: max_pct_adv, "
                 "max_weight_change, max_sold_fraction. File paths relative to the requests file, inside its folder.")


class RateColumn(ProgressColumn):
    """Books per second."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f} books/s" if task.speed else "- books/s")


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt


def resume_command(requests: Path, output: Path, workers: Optional[int], scheduler: Optional[str],
                   formats: list[str]) -> str:
    words = ["krg-liquidity", "batch", str(requests), "--output", str(output), "--resume"]
    if workers is not None:
        words += ["--workers", str(workers)]
    if scheduler is not None:
        words += ["--scheduler", scheduler]
    for name in formats:
        words += ["--also", name]
    return " ".join(shlex.quote(w) for w in words)


@app.command()
def batch(
    requests: Path = typer.Argument(..., help=REQUESTS_HELP),
    output: Path = typer.Option(..., help="Output folder: summary.parquet, trades.parquet (and parts/ while running)."),
    workers: Optional[int] = typer.Option(None, min=1, help="Local worker processes (default: the number of cores)."),
    scheduler: Optional[str] = typer.Option(None, help="Dask scheduler address, e.g. tcp://10.0.0.5:8786."),
    resume: bool = typer.Option(False, help="Skip books already finished in OUTPUT (after a killed run)."),
    also: list[str] = typer.Option([], help="Also write the results as 'csv' (summary.csv, trades.csv) or 'xlsx' "
                                            "(results.xlsx); repeat for both."),
) -> None:
    """Liquidate many books; exit 0 if every book is solved, 3 if some failed, 2 for a bad requests file,
    130 if interrupted (the finished books are kept: run again with --resume)."""
    formats = tuple(dict.fromkeys(a.strip().lower() for a in also))
    if any(f not in EXTRA_FORMATS for f in formats):
        unknown = ", ".join(f for f in formats if f not in EXTRA_FORMATS)
        fail(f"--also takes {' or '.join(EXTRA_FORMATS)}, not {unknown}")
    try:
        total = len(read_requests(requests))
    except InputError as exc:
        fail(str(exc))
    interactive = sys.stderr.isatty()
    err = Console(stderr=True)
    previous = signal.signal(signal.SIGTERM, _terminate)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                      RateColumn(), TimeElapsedColumn(), TimeRemainingColumn(), console=err,
                      disable=not interactive) as bar:
            task = bar.add_task("books", total=total)

            def advance(_outcome: object) -> None:
                bar.advance(task)

            result = run_batch(requests, output, workers=workers, scheduler=scheduler, resume=resume,
                               progress=advance, formats=formats)
    except BatchInterrupted as stop:
        err.print(f"interrupted: {stop.done} of {stop.total} books done and saved in {output / 'parts'}.\n"
                  f"Resume with: {resume_command(requests, output, workers, scheduler, list(formats))}",
                  highlight=False, markup=False)
        raise typer.Exit(130)
    except InputError as exc:
        fail(str(exc))
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    print_batch_summary(result)
    raise typer.Exit(result.exit_code)


def print_batch_summary(result: BatchResult) -> None:
    summary = result.summary
    solved = summary[summary["status"].isin(SOLVED)]
    console.print(f"{len(solved)} of {len(summary)} books solved ({result.skipped} skipped as already done) "
                  f"in {result.seconds:.1f} s on {result.engine}; cash raised ${solved['cash_raised'].sum():,.0f}, "
                  f"impact ${solved['cost_usd'].sum():,.0f}"
                  + (f", all-in trading cost ${solved['total_cost_usd'].sum():,.0f}"
                     if (solved["total_cost_usd"] != solved["cost_usd"]).any() else "")
                  + (f", tax {dollars(float(solved['tax_usd'].sum()))}" if solved["tax_usd"].notna().any() else ""),
                  highlight=False)
    for note in result.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    if len(result.failed):
        print_frame(result.failed[["book_id", "status", "error"]].head(20), "Failed books", {})
    slowest = summary.nlargest(min(5, len(summary)), "seconds")[["book_id", "status", "seconds"]]
    print_frame(slowest, "Slowest books", {"seconds": ".3f"})
