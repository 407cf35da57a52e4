"""Durable batch output: one part per finished book, written atomically, consolidated at the end.

``OUTDIR/parts/<book>.trades.parquet`` then ``<book>.summary.parquet`` (the summary marks a book
done). Each file is written to ``.<name>.<pid>.tmp`` and renamed; temporary files left by a
killed run (their process is gone) are removed when a store opens. At the end,
``summary.parquet`` and ``trades.parquet``, and on request CSV copies or one ``results.xlsx``.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

SUMMARY_COLUMNS = ("book_id", "status", "cash_target", "cash_raised", "cost_usd", "cost_bps", "lower_bound_usd",
                   "gap", "seconds", "error", "method", "parameters", "risk_model", "warnings", "total_cost_usd",
                   "tax_usd")
FLOAT_COLUMNS = ("cash_target", "cash_raised", "cost_usd", "cost_bps", "lower_bound_usd", "gap", "seconds",
                 "total_cost_usd", "tax_usd")
TEXT_COLUMNS = ("error", "method", "parameters", "risk_model", "warnings")
EXTRA_FORMATS = ("csv", "xlsx")
EXCEL_MAX_ROWS = 1_048_575
_TEMPORARY = re.compile(r"^\..+\.(\d+)\.tmp$")


@dataclass
class BookOutcome:
    summary: dict
    trades: pd.DataFrame
    lots: pd.DataFrame = field(default_factory=pd.DataFrame)  # with tax lots: each lot's sale, gain and tax


def part_name(book_id: str) -> str:
    return urllib.parse.quote(book_id, safe="") or "%00"


def write_atomically(frame: pd.DataFrame, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_parquet(temporary, index=False)
    os.replace(temporary, path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: Path) -> int:
    """Remove ``.*.<pid>.tmp`` files whose writing process no longer exists; returns how many."""
    removed = 0
    for path in folder.glob(".*.tmp"):
        match = _TEMPORARY.match(path.name)
        if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


class PartStore:
    """The parts folder of one output folder."""

    def __init__(self, outdir: Path):
        self.outdir = Path(outdir)
        self.parts = self.outdir / "parts"
        self.parts.mkdir(parents=True, exist_ok=True)
        self.stale_removed = remove_stale_temporaries(self.parts) + remove_stale_temporaries(self.outdir)

    def finished(self) -> set[str]:
        return {urllib.parse.unquote(p.name[: -len(".summary.parquet")]) for p in self.parts.glob("*.summary.parquet")}

    def clear(self) -> None:
        for path in self.parts.glob("*.parquet"):
            path.unlink()

    def save(self, outcome: BookOutcome) -> None:
        name = part_name(outcome.summary["book_id"])
        write_atomically(outcome.trades, self.parts / f"{name}.trades.parquet")
        if len(outcome.lots):
            write_atomically(outcome.lots, self.parts / f"{name}.lots.parquet")
        write_atomically(summary_frame([outcome.summary]), self.parts / f"{name}.summary.parquet")  # last: done

    def outcome(self, book_id: str) -> BookOutcome:
        """A book finished by an earlier run, read back from its parts."""
        name = part_name(book_id)
        summary = pd.read_parquet(self.parts / f"{name}.summary.parquet").iloc[0].to_dict()
        lots = self.parts / f"{name}.lots.parquet"
        return BookOutcome(summary, pd.read_parquet(self.parts / f"{name}.trades.parquet"),
                           pd.read_parquet(lots) if lots.exists() else pd.DataFrame())


def summary_frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    frame["book_id"] = frame["book_id"].astype(str)
    frame["status"] = frame["status"].astype(str)
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].fillna("").astype(str)
    for column in FLOAT_COLUMNS:
        frame[column] = frame[column].astype(float)
    return frame


def concat_trades(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=["book_id"])
    trades = pd.concat(parts, ignore_index=True)
    return trades[["book_id", *[c for c in trades.columns if c != "book_id"]]]


def write_outputs(summary: pd.DataFrame, trades: pd.DataFrame, outdir: Path,
                  formats: tuple[str, ...] = (), lots: pd.DataFrame | None = None) -> list[str]:
    """summary.parquet and trades.parquet (and lots.parquet when books had tax lots), plus ``formats`` ("csv":
    the same as CSV files; "xlsx": results.xlsx with sheets summary, trades and lots). Returns notes (e.g. a
    workbook skipped for Excel's row limit)."""
    unknown = [f for f in formats if f not in EXTRA_FORMATS]
    if unknown:
        raise ValueError(f"unknown output format {unknown[0]!r}; use {', '.join(EXTRA_FORMATS)}")
    write_atomically(summary, outdir / "summary.parquet")
    write_atomically(trades, outdir / "trades.parquet")
    sold = lots if lots is not None and len(lots) else None
    if sold is not None:
        write_atomically(sold, outdir / "lots.parquet")
    notes = []
    if "csv" in formats:
        summary.to_csv(outdir / "summary.csv", index=False)
        trades.to_csv(outdir / "trades.csv", index=False)
        if sold is not None:
            sold.to_csv(outdir / "lots.csv", index=False)
    if "xlsx" in formats:
        if len(trades) > EXCEL_MAX_ROWS:
            notes.append(f"results.xlsx not written: {len(trades):,} trade rows exceed Excel's sheet limit; "
                         "use the Parquet or CSV files")
        else:
            from krg_liquidity.report.write import write_workbook

            write_workbook({"summary": summary, "trades": trades, **({} if sold is None else {"lots": sold})},
                           outdir / "results.xlsx")
    return notes
