"""Batch liquidation of many books: a local process pool by default, a Dask cluster on request.

One request per book (book_id, holdings, covariance, cash, optional risk_band_lo/hi,
max_total_mi_bps, allow_buys, time_limit in seconds, default 30). Both engines call the same per-book function,
``solve_book``; the driver writes each finished book atomically under ``OUTDIR/parts/`` and
consolidates ``summary.parquet`` and ``trades.parquet`` at the end, so a killed run started
again with ``resume=True`` skips the finished books and ends with exactly one row per book.
A bad book gets its row with status and error; the others carry on.
"""

from __future__ import annotations

import os
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .datasets import load_covariance
from .errors import InputError
from .optimize import liquidate
from .plan import DEFAULT_TIME_LIMIT
from .portfolio import Portfolio

REQUIRED = ("book_id", "holdings", "covariance", "cash")
OPTIONAL = ("risk_band_lo", "risk_band_hi", "max_total_mi_bps", "allow_buys", "time_limit")
SUMMARY_COLUMNS = ("book_id", "status", "cash_target", "cash_raised", "cost_usd", "cost_bps", "lower_bound_usd",
                   "gap", "seconds", "error", "method")
SOLVED = ("optimal", "feasible")


class BatchRequestError(InputError):
    """The requests table itself is unusable (nothing was run)."""


@dataclass(frozen=True)
class BookRequest:
    """One book's request: holdings and covariance are paths (or DataFrames), cash in USD."""

    book_id: str
    holdings: object
    covariance: object
    cash: float
    risk_band: tuple[float, float] | None = None
    max_total_mi_bps: float | None = None
    allow_buys: bool = False
    time_limit: float | None = DEFAULT_TIME_LIMIT


@dataclass
class BookOutcome:
    summary: dict
    trades: pd.DataFrame


@dataclass
class BatchResult:
    """``summary``: one row per book (SUMMARY_COLUMNS); ``trades``: book_id + the trade columns."""

    summary: pd.DataFrame
    trades: pd.DataFrame
    seconds: float = 0.0
    skipped: int = 0
    engine: str = "local"
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> pd.DataFrame:
        return self.summary[~self.summary["status"].isin(SOLVED)]

    @property
    def exit_code(self) -> int:
        return 0 if self.failed.empty else 3


# ----- reading requests -----

def read_requests(requests: pd.DataFrame | str | Path) -> list[BookRequest]:
    """Validate a requests table (CSV/Parquet path or DataFrame) before any work starts.

    Paths are resolved relative to the requests file; every referenced file must exist.
    """
    base = Path(".")
    if not isinstance(requests, pd.DataFrame):
        path = Path(requests)
        if not path.exists():
            raise BatchRequestError(f"requests file not found: {path}")
        base = path.resolve().parent
        try:
            requests = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
        except Exception as exc:  # any parser error becomes one clear line
            raise BatchRequestError(f"cannot read requests file {path}: {exc}") from None
    table = requests.rename(columns=lambda c: str(c).strip().lower())
    missing = [c for c in REQUIRED if c not in table]
    if missing:
        raise BatchRequestError(f"requests need columns {', '.join(REQUIRED)}; missing {', '.join(missing)}")
    if table.empty:
        raise BatchRequestError("the requests table has no rows")
    ids = table["book_id"].astype(str)
    duplicated = ids[ids.duplicated()].unique()
    if len(duplicated):
        raise BatchRequestError(f"book_id must be unique; repeated: {', '.join(duplicated[:8])}")
    cash = pd.to_numeric(table["cash"], errors="coerce")
    bad = ids[~(cash > 0)]
    if len(bad):
        raise BatchRequestError(f"column 'cash' must be a positive number of dollars for books {', '.join(bad[:8])}")
    out = []
    for i, row in table.reset_index(drop=True).iterrows():
        book = ids.iloc[i]
        holdings = _resolve(row["holdings"], base, book, "holdings", required=True)
        covariance = _resolve(row["covariance"], base, book, "covariance", required=False)
        band = _band(row, book)
        cap = _optional_float(row, "max_total_mi_bps", book)
        buys = _flag(row.get("allow_buys", False), book)
        limit = _optional_float(row, "time_limit", book)
        if limit is not None and not limit > 0:
            raise BatchRequestError(f"book {book}: column 'time_limit' must be a positive number of seconds")
        out.append(BookRequest(book, holdings, covariance, float(cash.iloc[i]), band, cap, buys,
                               DEFAULT_TIME_LIMIT if limit is None else limit))
    return out


def _resolve(value, base: Path, book: str, column: str, required: bool):
    if isinstance(value, pd.DataFrame):
        return value
    if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
        if required:
            raise BatchRequestError(f"book {book}: column '{column}' is empty; give a path to a CSV or Parquet file")
        return None
    path = Path(str(value))
    path = path if path.is_absolute() else base / path
    if not path.exists():
        raise BatchRequestError(f"book {book}: {column} file not found: {path}")
    return str(path)


def _optional_float(row, column: str, book: str) -> float | None:
    value = row.get(column, np.nan)
    if value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise BatchRequestError(f"book {book}: column '{column}' must be a number, not {value!r}") from None


def _band(row, book: str):
    lo, hi = _optional_float(row, "risk_band_lo", book), _optional_float(row, "risk_band_hi", book)
    if (lo is None) != (hi is None):
        raise BatchRequestError(f"book {book}: give both risk_band_lo and risk_band_hi, or neither")
    return None if lo is None else (lo, hi)


def _flag(value, book: str) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    text = str(value).strip().lower()
    if text in ("", "0", "false", "no", "n"):
        return False
    if text in ("1", "true", "yes", "y"):
        return True
    raise BatchRequestError(f"book {book}: column 'allow_buys' must be true/false, not {value!r}")


# ----- the per-book function (runs in workers) -----

@lru_cache(maxsize=8)
def _covariance(path: str, modified: float) -> pd.DataFrame:
    """A covariance file read once per worker process (keyed by path and modification time)."""
    return load_covariance(path)


def _table(source) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    path = Path(source)
    return pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)


def solve_book(request: BookRequest) -> BookOutcome:
    """Liquidate one book; never raises: failures come back as a status and an error message."""
    started = time.perf_counter()
    summary = {c: np.nan for c in SUMMARY_COLUMNS}
    summary.update(book_id=request.book_id, cash_target=request.cash, error="", method="")
    trades = pd.DataFrame()
    try:
        covariance = request.covariance
        if isinstance(covariance, str):
            covariance = _covariance(covariance, os.path.getmtime(covariance))
        result = liquidate(Portfolio(_table(request.holdings), covariance), request.cash,
                           risk_band=request.risk_band, max_total_mi_bps=request.max_total_mi_bps,
                           allow_buys=request.allow_buys, time_limit=request.time_limit, raise_on_failure=False)
        summary.update(status=result.status, method=result.method, error=result.message)
        if result.success:
            summary.update(cash_raised=result.cash_raised, cost_usd=result.cost_usd, cost_bps=result.cost_bps,
                           lower_bound_usd=result.lower_bound_usd, gap=result.gap)
            trades = result.trades.assign(book_id=request.book_id)
    except (InputError, FileNotFoundError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        summary.update(status="bad_input", error=str(exc))
    except Exception as exc:  # a batch never loses a book to an unexpected error
        summary.update(status="error", error=f"{type(exc).__name__}: {exc}")
    summary["seconds"] = time.perf_counter() - started
    return BookOutcome(summary, trades)


# ----- durable output -----

def _part_name(book_id: str) -> str:
    return urllib.parse.quote(book_id, safe="") or "%00"


def _write_atomically(frame: pd.DataFrame, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, path)


class PartStore:
    """OUTDIR/parts/<book>.trades.parquet then <book>.summary.parquet (the summary marks a book done)."""

    def __init__(self, outdir: Path):
        self.parts = Path(outdir) / "parts"
        self.parts.mkdir(parents=True, exist_ok=True)

    def finished(self) -> set[str]:
        return {urllib.parse.unquote(p.name[: -len(".summary.parquet")]) for p in self.parts.glob("*.summary.parquet")}

    def clear(self) -> None:
        for path in self.parts.glob("*.parquet"):
            path.unlink()

    def save(self, outcome: BookOutcome) -> None:
        name = _part_name(outcome.summary["book_id"])
        _write_atomically(outcome.trades, self.parts / f"{name}.trades.parquet")
        _write_atomically(_summary_frame([outcome.summary]), self.parts / f"{name}.summary.parquet")

    def outcome(self, book_id: str) -> BookOutcome:
        """A book finished by an earlier run, read back from its parts."""
        name = _part_name(book_id)
        summary = pd.read_parquet(self.parts / f"{name}.summary.parquet").iloc[0].to_dict()
        return BookOutcome(summary, pd.read_parquet(self.parts / f"{name}.trades.parquet"))


def _summary_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    frame["book_id"] = frame["book_id"].astype(str)
    frame["status"] = frame["status"].astype(str)
    frame["error"] = frame["error"].fillna("").astype(str)
    frame["method"] = frame["method"].fillna("").astype(str)
    for column in SUMMARY_COLUMNS[2:-2]:
        frame[column] = frame[column].astype(float)
    return frame


def _concat_trades(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=["book_id"])
    trades = pd.concat(parts, ignore_index=True)
    return trades[["book_id", *[c for c in trades.columns if c != "book_id"]]]


# ----- engines -----

def _local(requests: list[BookRequest], workers: int) -> Iterable[BookOutcome]:
    if workers <= 1:
        yield from map(solve_book, requests)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(solve_book, r) for r in requests]
        for future in as_completed(futures):
            yield future.result()


def _dask(requests: list[BookRequest], scheduler: str) -> Iterable[BookOutcome]:
    from dask.distributed import Client, as_completed

    with Client(scheduler, timeout="30s") as client:
        futures = client.map(solve_book, requests, pure=False)
        for future in as_completed(futures):
            yield future.result()


def run_batch(requests, output_dir: str | Path | None = None, *, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False,
              progress: Callable[[BookOutcome], None] | None = None) -> BatchResult:
    """Liquidate every book of ``requests`` (a path or a DataFrame; see ``read_requests``).

    ``workers``: local processes (default: the number of cores; 1 runs in this process).
    ``scheduler``: a Dask scheduler address ("tcp://host:port"): the same per-book function runs
    on the cluster (files must be reachable from the workers). ``output_dir``: write parts as
    books finish and ``summary.parquet`` / ``trades.parquet`` at the end; with ``resume``, books
    already finished there are skipped. ``progress`` is called once per finished book.
    """
    started = time.perf_counter()
    books = read_requests(requests)
    store = PartStore(Path(output_dir)) if output_dir is not None else None
    done: set[str] = set()
    if store is not None:
        if resume:
            done = store.finished() & {b.book_id for b in books}
        else:
            store.clear()
    todo = [b for b in books if b.book_id not in done]
    engine = f"dask {scheduler}" if scheduler else f"local x{workers or os.cpu_count() or 1}"
    outcomes = _dask(todo, scheduler) if scheduler else _local(todo, workers or os.cpu_count() or 1)
    collected: dict[str, BookOutcome] = {}
    for outcome in outcomes:
        if store is not None:
            store.save(outcome)
        collected[outcome.summary["book_id"]] = outcome
        if progress is not None:
            progress(outcome)
    for book in done:  # books finished by an earlier run come back from their parts
        collected[book] = store.outcome(book)
    order = [b.book_id for b in books]
    summary = _summary_frame([collected[b].summary for b in order])
    trades = _concat_trades([collected[b].trades for b in order if len(collected[b].trades)])
    if store is not None:
        _write_atomically(summary, Path(output_dir) / "summary.parquet")
        _write_atomically(trades, Path(output_dir) / "trades.parquet")
    return BatchResult(summary, trades, time.perf_counter() - started, skipped=len(done), engine=engine)
