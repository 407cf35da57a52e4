"""What every command shares: failing with one clear message (or one JSON object), printing tables,
reading the cost model and the risk model from the options."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd
import typer
from rich import box
from rich.console import Console, ConsoleDimensions
from rich.table import Table

from krg_liquidity.book.columns import column_table
from krg_liquidity.book.datasets import load_covariance
from krg_liquidity.book.holdings import name_default_control
from krg_liquidity.book.risk import FactorModel
from krg_liquidity.core.errors import BookError, InfeasibleLiquidation, InputError
from krg_liquidity.core.status import status_of
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.params import KISSELL_2013_ALL_DATA, load_parameters

WIDTH_WITHOUT_TERMINAL = 140
"""Columns for tables written to a file or a pipe when no terminal and no COLUMNS give a width."""


class TerminalConsole(Console):
    """A rich Console as wide as the terminal (or ``COLUMNS``), looked up at each print, so tables use the
    whole window and follow a resize; with no terminal at all, ``WIDTH_WITHOUT_TERMINAL`` columns."""

    @property
    def size(self) -> ConsoleDimensions:
        found = super().size
        if self._width is None and "COLUMNS" not in os.environ and not any(os.isatty(fd) for fd in (0, 1, 2)):
            return ConsoleDimensions(WIDTH_WITHOUT_TERMINAL, found.height)
        return found

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size  # a fixed size, as rich's own Console.size setter keeps it


console = TerminalConsole()

DEFAULT_STRATEGY_OPTIONS = "--trade-time DAYS or --pov DECIMAL"
EXIT_CODES = {"bad_input": 2, "infeasible": 2, "no_feasible_point_found": 3, "timeout": 3, "solver_failed": 3,
              "limits_broken": 3, "error": 1}
BOOK_HELP = ("Book columns (headers match case-, space- and punctuation-insensitively; CSV with comma, semicolon "
             "or tab, .xlsx or .parquet). Percent text ('24%') and thousands separators ('200,000') are read; "
             "units are checked (see the README):\n\n\b\n" + column_table())


def fail(message: str, code: int = 2) -> None:
    Console(stderr=True, soft_wrap=True).print(f"error: {message}", highlight=False, markup=False)
    raise typer.Exit(code)


def print_json(payload: dict) -> None:
    typer.echo(json.dumps(payload, allow_nan=False, default=_plain))


def _plain(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def failure_payload(exc: BaseException) -> dict:
    """One JSON object for a failure: status (see ``krg_liquidity.core.status``), message, and details."""
    if isinstance(exc, BookError):
        exc = name_default_control(exc, DEFAULT_STRATEGY_OPTIONS)
    status = status_of(exc)
    message = str(exc) if status != "error" else f"{type(exc).__name__}: {exc}"
    payload: dict[str, Any] = {"status": status, "message": message}
    if isinstance(exc, BookError):
        payload["problems"] = [{"column": p.column, "problem": p.problem, "symbols": p.symbols, "found": p.found,
                                "fix": p.fix} for p in exc.problems]
    if isinstance(exc, InfeasibleLiquidation):
        payload.update(cash_target=exc.cash_target, max_cash_raisable=exc.max_cash, blocking=exc.blocking,
                       blocking_units=exc.blocking_units)
    seconds = getattr(exc, "seconds", None)  # set on a failed solve, with its time budget
    if seconds is not None:
        payload.update(seconds=seconds, time_limit_s=getattr(exc, "time_limit", None))
    stages = getattr(exc, "stages", None)
    if stages:
        payload["stages"] = stages
    return payload


def report_failure(exc: BaseException, json_output: bool) -> None:
    """Print the failure (JSON or one message on stderr) and exit with its code."""
    payload = failure_payload(exc)
    code = EXIT_CODES.get(payload["status"], 1)
    if json_output:
        print_json(payload)
        raise typer.Exit(code)
    fail(payload["message"], code)


def cost_model_from(parameters: Optional[Path], mi_code: Optional[int], mi_date: Optional[str]) -> CostModel:
    """The I-Star model: the published default, or a set picked from a parameter table by code and date."""
    if parameters is None:
        if mi_code is not None or mi_date is not None:
            raise InputError("--mi-code and --mi-date pick a set from a parameter table: give --parameters FILE "
                             f"(without it the published set is used: Kissell 2013, code {KISSELL_2013_ALL_DATA.code})")
        return CostModel(KISSELL_2013_ALL_DATA)
    return CostModel(load_parameters(parameters, code=1 if mi_code is None else mi_code, date=mi_date))


def risk_model_from(covariance: Optional[Path], factor_model: Optional[Path], factor_covariance: Optional[Path],
                    specific_variance: Optional[Path]) -> tuple[pd.DataFrame | None, FactorModel | None]:
    """(covariance DataFrame or None, FactorModel or None) from the risk-model options."""
    parts = [factor_covariance, specific_variance]
    if covariance is not None and (factor_model is not None or any(p is not None for p in parts)):
        raise InputError("give --covariance or a factor model (--factor-model), not both")
    if any(p is not None for p in parts) and factor_model is None:
        raise InputError("--factor-covariance and --specific-variance go with --factor-model EXPOSURES")
    if covariance is not None:
        return load_covariance(covariance), None
    if factor_model is not None:
        return None, FactorModel.from_files(factor_model, factor_covariance, specific_variance)
    return None, None


def print_frame(frame: pd.DataFrame, title: str, formats: dict[str, str], compact: bool = False,
                keys: int = 0) -> None:
    """``frame`` as a table on the console, numbers formatted by ``formats`` (column -> format spec).

    A number or a one-word cell (a status) is never wrapped mid-word: each column is at least as wide
    as its longest word; text wraps between words. Numeric columns (blank cells allowed) are right-aligned.
    ``compact``: no vertical rules and one space between columns (a wide table such as stress's fits
    120 columns). ``keys``: the leading columns that name a row; when the columns cannot fit the
    console even at their narrowest, the table is printed in parts, each repeating these.
    """
    cells = {column: [format(value, formats[column]) if column in formats and _is_number(value) else str(value)
                      for value in frame[column]] for column in frame.columns}
    headers = {column: column.replace("_", " ") for column in frame.columns}
    gap = 1 if compact else 3
    narrowest = {column: min(max((len(word) for text in [headers[column], *shown] for word in text.split()),
                                 default=1), _LONGEST_WORD) for column, shown in cells.items()}
    for part, columns in enumerate(_parts(list(frame.columns), narrowest, keys, gap, console.width)):
        table = (Table(title=title if part == 0 else f"{title} (continued)", show_lines=False, box=box.SIMPLE_HEAD,
                       padding=(0, 0), pad_edge=False) if compact
                 else Table(title=title if part == 0 else f"{title} (continued)", show_lines=False))
        natural = sum(max(len(t) for t in [headers[c], *cells[c]]) + gap for c in columns)
        narrow = natural > console.width  # then headers wrap between words so that numbers need not
        for column in columns:
            values = frame[column]
            numeric = all(_is_number(v) or v == "" for v in values) and any(_is_number(v) for v in values)
            one_word = not any(" " in text.strip() for text in cells[column])  # numbers, statuses: that wide
            table.add_column(headers[column], justify="right" if numeric else "left", overflow="fold",
                             min_width=narrowest[column], width=narrowest[column] if one_word and narrow else None)
        for row in zip(*(cells[c] for c in columns)):
            table.add_row(*row)
        console.print(table)


_LONGEST_WORD = 40  # a longer word (a path, a message) may fold


def _parts(columns: list[str], widths: dict[str, int], keys: int, gap: int, room: int) -> list[list[str]]:
    """The columns in groups that each fit ``room`` characters at their narrowest (``widths`` plus a ``gap``
    each), every group led by the first ``keys`` columns; one group when they all fit or ``keys`` is 0."""
    if not keys or sum(widths[c] + gap for c in columns) <= room:
        return [columns]
    lead, rest = columns[:keys], columns[keys:]
    parts: list[list[str]] = []
    used = room  # start a new group at the first column
    for column in rest:
        width = widths[column] + gap
        if used + width > room:
            parts.append(list(lead))
            used = sum(widths[c] + gap for c in lead)
        parts[-1].append(column)
        used += width
    return parts


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def trades_sheet(path: Path) -> str | None:
    """The "trades" sheet of a result workbook, else the first sheet."""
    if path.suffix.lower() not in (".xlsx", ".xlsm") or not path.is_file():
        return None
    from krg_liquidity.book.read import sheet_names

    return next((n for n in sheet_names(path) if n.strip().lower() == "trades"), None)


def with_sheet_hint(exc: BookError, holdings: Path, sheet: str | None) -> BookError:
    """Name the sheet that was read when a workbook has several and none was chosen."""
    if sheet is not None or holdings.suffix.lower() not in (".xlsx", ".xlsm"):
        return exc
    from krg_liquidity.book.read import sheet_names

    names = sheet_names(holdings)
    if len(names) < 2:
        return exc
    return BookError(exc.problems, what=f"the holdings (sheet '{names[0]}' of {', '.join(names)}; choose another "
                                        "with --sheet NAME)", table=column_table(required_only=True))


def reraise_exit(exc: BaseException) -> None:
    """Let typer's own exits through a handler that reports every other error."""
    if isinstance(exc, (typer.Exit, typer.Abort)):
        raise exc
