"""Batch liquidation of many books: a local process pool by default, a Dask cluster on request.

One request per book (see :mod:`krg_liquidity.batch.requests`). Both engines call the same
per-book function, ``solve_book``; the driver writes each finished book atomically under
``OUTDIR/parts/`` and consolidates ``summary.parquet`` and ``trades.parquet`` at the end (see
:mod:`krg_liquidity.batch.store`), so a killed run started again with ``resume=True`` skips the
finished books and ends with exactly one row per book. A bad book gets its row with status and
error; the others carry on. Statuses: :mod:`krg_liquidity.core.status`.

Local workers come from :mod:`krg_liquidity.core.pool`: no worker outlives the batch.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from krg_liquidity.batch.requests import OPTIONAL, REQUIRED, BatchRequestError, BookRequest, read_requests
from krg_liquidity.batch.store import (
    SUMMARY_COLUMNS,
    BookOutcome,
    PartStore,
    concat_trades,
    summary_frame,
    write_outputs,
)
from krg_liquidity.book.datasets import load_covariance
from krg_liquidity.book.holdings import fill_strategy, name_default_control
from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.book.risk import FactorModel
from krg_liquidity.core import arguments
from krg_liquidity.core.cash import cash_usd, parse_cash
from krg_liquidity.core.errors import BookError, UnitsWarning
from krg_liquidity.core.pool import local_pool
from krg_liquidity.core.status import SOLVED, status_of
from krg_liquidity.model.assumptions import attach, parameter_text, risk_text
from krg_liquidity.report.write import check_output_folder
from krg_liquidity.solve.optimize import liquidate
from krg_liquidity.solve.rounding import round_trades
from krg_liquidity.solve.tradable import as_traded

SETTLED = SOLVED + ("infeasible",)
"""Statuses a re-run cannot change: ``resume`` skips these books."""

__all__ = ["OPTIONAL", "REQUIRED", "SOLVED", "SUMMARY_COLUMNS", "BatchInterrupted", "BatchRequestError",
           "BatchResult", "BookOutcome", "BookRequest", "read_requests", "run_batch", "solve_book"]


class BatchInterrupted(Exception):
    """The batch was stopped (Ctrl-C, SIGTERM) before every book was done.

    Parameters
    ----------
    done : int
        Books finished (saved under OUTDIR/parts when there is an output folder).
    total : int
        Books asked for.

    Examples
    --------
    >>> str(BatchInterrupted(3, 10))
    'interrupted: 3 of 10 books done'
    """

    def __init__(self, done: int, total: int):
        self.done, self.total = done, total
        super().__init__(f"interrupted: {done} of {total} books done")


@dataclass
class BatchResult:
    """A batch's answer, from :func:`run_batch`.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per book (``SUMMARY_COLUMNS``): status, cash target and raised (USD), cost (USD
        and bps), lower bound, gap, seconds, error, method, parameters, risk model, warnings.
    trades : pandas.DataFrame
        book_id and the trade columns of every book.
    seconds : float
        Seconds the batch took (wall clock).
    skipped : int
        Books already done in the output folder (``resume``).
    engine : str
        Where the books ran ("local xN" or "dask ADDRESS").
    notes : list of str
        What the output step could not do, in words (e.g. a workbook skipped for Excel's row limit).
    lots : pandas.DataFrame
        book_id and the lots sold of every book with tax lots (``LiquidationResult.lots``; empty without).

    Examples
    --------
    >>> from krg_liquidity import load_example
    >>> holdings, covariance = load_example()
    >>> batch = run_batch(pd.DataFrame({"book_id": ["a", "b"], "holdings": [holdings, holdings],
    ...                                 "covariance": [covariance, covariance], "cash": [1e8, 2e10]}), workers=1)
    >>> batch.summary["status"].tolist(), len(batch.failed), batch.exit_code
    (['optimal', 'infeasible'], 1, 3)
    """

    summary: pd.DataFrame
    trades: pd.DataFrame
    seconds: float = 0.0
    skipped: int = 0
    engine: str = "local"
    notes: list[str] = field(default_factory=list)
    lots: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["book_id"]))

    @property
    def failed(self) -> pd.DataFrame:
        """The summary rows of the books not solved (status other than "optimal" or "feasible")."""
        return self.summary[~self.summary["status"].isin(SOLVED)]

    @property
    def exit_code(self) -> int:
        """The command line's exit code: 0 when every book was solved, else 3."""
        return 0 if self.failed.empty else 3


# ----- the per-book function (runs in workers) -----

@lru_cache(maxsize=8)
def _covariance(path: str, modified: float) -> pd.DataFrame:
    """A covariance file read once per worker process (keyed by path and modification time)."""
    return load_covariance(path)


@lru_cache(maxsize=4)
def _factor_model(paths: tuple, modified: tuple) -> FactorModel:
    """A factor model read once per worker process (keyed by its files and their modification times)."""
    return FactorModel.from_files(*paths)


def _mtime(path) -> float:
    return os.path.getmtime(path) if isinstance(path, str) else 0.0


def _book_error(exc: Exception) -> str:
    """A failed book's message for the summary: a book's problems without the column table, and
    defaults named as the requests file gives them (not the CLI options)."""
    if isinstance(exc, BookError):
        exc = name_default_control(exc, "the requests file's trade_time or pov column")
        return "; ".join(str(problem) for problem in exc.problems)
    return str(exc)


def _risk_model(request: BookRequest):
    covariance = request.covariance
    if isinstance(covariance, str):
        covariance = _covariance(covariance, _mtime(covariance))
    model = request.factor_model
    if isinstance(model, str):
        paths = (model, request.factor_covariance, request.specific_variance)
        model = _factor_model(paths, tuple(_mtime(p) for p in paths))
    return covariance, model


def _holdings(request: BookRequest) -> pd.DataFrame:
    source = request.holdings
    if not isinstance(source, pd.DataFrame):
        from krg_liquidity.book.read import read_table

        source = read_table(source, sheet=request.sheet, what="holdings")
    return fill_strategy(source, request.trade_time, request.pov)


def solve_book(request: BookRequest) -> BookOutcome:
    """Liquidate one book; never raises: failures come back as a status and an error message.

    Parameters
    ----------
    request : BookRequest
        One book of :func:`read_requests`.

    Returns
    -------
    BookOutcome
        ``summary`` (one row of ``SUMMARY_COLUMNS``: status, cash target and raised in USD, cost
        in USD and bps, gap, seconds, error, ...) and ``trades``.

    Examples
    --------
    >>> from krg_liquidity import load_example
    >>> holdings, covariance = load_example()
    >>> book = read_requests(pd.DataFrame({"book_id": ["a"], "holdings": [holdings], "cash": [1e12]}))[0]
    >>> solve_book(book).summary["status"]
    'infeasible'
    """
    started = time.perf_counter()
    summary: dict[str, Any] = {c: np.nan for c in SUMMARY_COLUMNS}  # one row of the summary table
    summary.update(book_id=request.book_id, error="", method="", parameters="", risk_model="", warnings="")
    trades = pd.DataFrame()
    lots = pd.DataFrame()
    try:
        amount, percent = parse_cash(request.cash, "column 'cash'")
        summary["cash_target"] = np.nan if percent else amount  # a percent: in dollars once the book is read
        if request.problem:
            summary.update(status="bad_input", error=request.problem)
        else:
            covariance, model = _risk_model(request)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UnitsWarning)
                portfolio = Portfolio(_holdings(request), covariance, model)
            summary["cash_target"] = cash_usd(request.cash, portfolio.net_value_usd, name="column 'cash'",
                                              allow_small_cash=request.allow_small_cash,
                                              allow="set the allow_small_cash column to true for this row")
            taxed: dict[str, Any] = {} if request.lots is None else {"lots": request.lots, "tax": request.tax,
                                                                     "tax_weight": request.tax_weight}
            result = liquidate(portfolio, summary["cash_target"], limits=request.limits, raise_on_failure=False,
                               allow_small_cash=request.allow_small_cash, time_limit=request.time_limit,
                               fee_bps=request.fee_bps, **taxed)
            assumed = attach(result, portfolio).assumptions
            message = result.message
            if result.status == "infeasible":  # the most cash as this row trades (whole lots or exact shares)
                message = as_traded(message, portfolio, request.lot_size, limits=request.limits,
                                    time_limit=request.time_limit)
            summary.update(status=result.status, method=result.method, error=message,
                           parameters=parameter_text(assumed["parameters"]),
                           risk_model=risk_text(assumed["risk_model"]), warnings="; ".join(assumed["warnings"]))
            if result.success:
                if request.lot_size is not None:
                    result = round_trades(result, request.lot_size)
                    summary.update(status=result.status, error=result.message)  # whole lots may break a limit
                summary.update(cash_raised=result.cash_raised, cost_usd=result.cost_usd, cost_bps=result.cost_bps,
                               lower_bound_usd=result.objective_lower_bound_usd, gap=result.gap,
                               total_cost_usd=result.total_cost_usd, tax_usd=result.tax_usd)
                trades = result.trades.assign(book_id=request.book_id)
                if result.lots is not None:
                    lots = result.lots.loc[result.lots["shares_sold"] > 0].assign(book_id=request.book_id)
    except Exception as exc:  # a batch never loses a book: every failure is a status and a message
        status = status_of(exc)
        summary.update(status=status, error=_book_error(exc) if status != "error" else f"{type(exc).__name__}: {exc}")
    summary["seconds"] = time.perf_counter() - started
    return BookOutcome(summary, trades, lots)


# ----- engines -----

def _local(requests: list[BookRequest], workers: int) -> Generator[BookOutcome, None, None]:
    if workers <= 1:
        yield from map(solve_book, requests)
        return
    from concurrent.futures import as_completed

    with local_pool(workers) as pool:
        futures = [pool.submit(solve_book, r) for r in requests]
        for future in as_completed(futures):
            yield future.result()


def _dask(requests: list[BookRequest], scheduler: str) -> Generator[BookOutcome, None, None]:
    from dask.distributed import Client, as_completed

    with Client(scheduler, timeout="30s") as client:
        futures = client.map(solve_book, requests, pure=False)
        for future in as_completed(futures):
            yield future.result()


def run_batch(requests: pd.DataFrame | str | Path, output_dir: str | Path | None = None, *,
              workers: int | None = None,
              scheduler: str | None = None, resume: bool = False,
              progress: Callable[[BookOutcome], None] | None = None,
              formats: tuple[str, ...] = ()) -> BatchResult:
    """Liquidate every book of ``requests``.

    Books that fail (bad input, infeasible, timeout) get their row with a status and the error;
    they do not stop the others.

    Parameters
    ----------
    requests : str, Path or pandas.DataFrame
        A requests file (CSV, .xlsx, Parquet) or table: one row per book (see
        :func:`read_requests`).
    output_dir : str or Path, optional
        Write parts as books finish and ``summary.parquet`` / ``trades.parquet`` at the end
        (None: nothing is written).
    workers : int, optional
        Local processes (default: the number of cores; 1 runs in this process).
    scheduler : str, optional
        A Dask scheduler address ("tcp://host:port"): the same per-book function runs on the
        cluster (files must be reachable from the workers).
    resume : bool
        Skip the books already solved in ``output_dir`` (or proven infeasible); every other book
        (bad input, timeout, a failed solve) runs again.
    progress : callable, optional
        Called once per finished book.
    formats : tuple of str
        Extra output formats: "csv" and/or "xlsx".

    Returns
    -------
    BatchResult
        One summary row per book (money in USD, cost in bps) and every book's trades.

    Raises
    ------
    InputError
        The requests table cannot be used (``BatchRequestError``: missing columns, no rows, repeated
        book ids, bad cash, ...), or a bad ``workers`` or output folder; raised before any work.
    BatchInterrupted
        Ctrl-C (KeyboardInterrupt) stopped the workers; carries the count of books done.

    Examples
    --------
    >>> from krg_liquidity import load_example
    >>> holdings, covariance = load_example()
    >>> requests = pd.DataFrame({"book_id": ["a"], "holdings": [holdings], "covariance": [covariance],
    ...                          "cash": [1e8]})
    >>> batch = run_batch(requests, workers=1)
    >>> batch.summary["status"].tolist(), batch.exit_code
    (['optimal'], 0)
    """
    started = time.perf_counter()
    if workers is not None:
        workers = arguments.whole_number(workers, "workers", "give the number of local processes, 1 or more "
                                         "(None: one per core)")
    books = read_requests(requests)
    store = PartStore(check_output_folder(output_dir, "batch output")) if output_dir is not None else None
    done: set[str] = set()
    if store is not None:
        if resume:  # solved or proven impossible: settled; the rest run again (a fixed file, more time)
            asked = {b.book_id for b in books}
            done = {book for book in store.finished() & asked if store.outcome(book).summary["status"] in SETTLED}
        else:
            store.clear()
    todo = [b for b in books if b.book_id not in done]
    engine = f"dask {scheduler}" if scheduler else f"local x{workers or os.cpu_count() or 1}"
    outcomes = _dask(todo, scheduler) if scheduler else _local(todo, workers or os.cpu_count() or 1)
    collected: dict[str, BookOutcome] = {}
    try:
        for outcome in outcomes:
            if store is not None:
                store.save(outcome)
            collected[outcome.summary["book_id"]] = outcome
            if progress is not None:
                progress(outcome)
    except KeyboardInterrupt:
        outcomes.close()
        raise BatchInterrupted(len(done) + len(collected), len(books)) from None
    finally:
        outcomes.close()
    if store is not None:  # books finished by an earlier run come back from their parts
        for book in done:
            collected[book] = store.outcome(book)
    order = [b.book_id for b in books]
    summary = summary_frame([collected[b].summary for b in order])
    trades = concat_trades([collected[b].trades for b in order if len(collected[b].trades)])
    sold = concat_trades([collected[b].lots for b in order if len(collected[b].lots)])
    notes = write_outputs(summary, trades, Path(output_dir), formats, sold) if output_dir is not None else []
    return BatchResult(summary, trades, time.perf_counter() - started, skipped=len(done), engine=engine, notes=notes,
                       lots=sold)
