"""Every exception krg_liquidity raises on purpose, in one place.

Input problems are ``ValueError`` subclasses (so ``except ValueError`` works) and
their messages name the column, the offending symbols and the fix. Optimization
outcomes that are not a usable answer derive from ``LiquidationError``; each maps to one
status of the result vocabulary (``LiquidationError.status``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def symbols_text(symbols: Iterable[object], limit: int = 8) -> str:
    names = [str(s) for s in symbols]
    shown = ", ".join(names[:limit])
    more = len(names) - limit
    return shown + (f" and {more} more" if more > 0 else "")


class InputError(ValueError):
    """Bad input data: a missing column, a bad value, inconsistent columns."""


class MissingColumnError(InputError):
    """A required column is absent."""

    def __init__(self, column: str, available: Iterable[str], fix: str = ""):
        self.column = column
        hint = fix or f"add a '{column}' column"
        super().__init__(
            f"missing column '{column}' (have: {', '.join(map(str, available))}); {hint}"
        )


class InvalidValueError(InputError):
    """A column holds values outside their allowed range (or NaN)."""

    def __init__(self, column: str, symbols: Iterable[object], problem: str, fix: str):
        self.column = column
        self.symbols = [str(s) for s in symbols]
        if self.symbols == ["(all)"]:  # a parameter (or a whole column), not some rows
            super().__init__(f"'{column}' {problem}; {fix}")
        else:
            super().__init__(f"column '{column}' {problem} for {symbols_text(self.symbols)}; {fix}")


class InconsistentInputError(InputError):
    """Two inputs disagree (e.g. size vs shares/ADV, or symbols of two tables)."""


class ParameterLookupError(InputError):
    """No I-Star parameter set matches the requested market-impact code and date."""


class LiquidationError(RuntimeError):
    """The optimizer could not return a usable liquidation.

    ``seconds``: how long the call ran before it failed (wall clock) and ``time_limit`` its budget (seconds;
    None: no limit), both set by ``liquidate`` (None until then). ``stages``: the stages the call ran, one
    record each (set by ``liquidate``; empty until then).
    """

    status = "error"
    seconds: float | None = None
    time_limit: float | None = None
    stages: Sequence[dict[str, Any]] = ()


class InfeasibleLiquidation(LiquidationError):
    """The cash target cannot be raised inside the limits.

    Attributes: ``cash_target`` and ``max_cash`` (dollars; ``max_cash`` is None when
    the limits admit no trade at all), ``blocking``: mapping of constraint group to
    how far it would have to give (its units are in ``blocking_units``; in words:
    ``explain.blocking_rows``). ``blocking_exact``: False when the amounts are estimates (the elastic
    re-solve of a request with a risk floor, which it linearizes), True otherwise. ``blocking_totals``:
    per per-name limit of ``blocking`` (whose amount is the largest on one name), the total it would
    have to give over all names (USD) and how many names give. The
    message is a headline (what can be raised), the reason, then the blocking limits as a table;
    ``headline`` is the message without that table.
    """

    status = "infeasible"

    def __init__(self, message: str, cash_target: float, max_cash: float | None,
                 blocking: dict[str, float] | None = None,
                 blocking_units: dict[str, str] | None = None, headline: str | None = None,
                 blocking_exact: bool = True, blocking_totals: dict[str, tuple[float, int]] | None = None):
        self.cash_target = cash_target
        self.blocking_totals = dict(blocking_totals or {})
        self.blocking_exact = blocking_exact
        self.max_cash = max_cash
        self.blocking = dict(blocking or {})
        self.blocking_units = dict(blocking_units or {})
        self.headline = message if headline is None else headline
        super().__init__(message)


class NoFeasiblePointFound(LiquidationError):
    """A local search (the risk floor is not convex) found no trade list meeting every limit.

    Not a proof that none exists. ``stages`` lists what was tried.
    """

    status = "no_feasible_point_found"

    def __init__(self, message: str, stages: list | None = None):
        self.stages = list(stages or [])
        super().__init__(message)


class SolverTimeout(LiquidationError):
    """The time budget ran out before any verified trade list was found; ``stage`` names where."""

    status = "timeout"

    def __init__(self, message: str, stage: str, stages: list | None = None):
        self.stage = stage
        self.stages = list(stages or [])
        super().__init__(message)


class SolverFailure(LiquidationError):
    """Every solver attempt failed or returned an answer that violates the limits."""

    status = "solver_failed"

    def __init__(self, message: str, attempts: list | None = None):
        self.attempts = list(attempts or [])
        super().__init__(message)


class InputFileError(InputError):
    """A file cannot be used: missing, not a regular file, an unknown format, or unreadable.

    The message names the file and the cause, never the file's contents.
    """


class BookError(InputError):
    """Every problem found in a book, reported together.

    ``problems``: a list of :class:`Problem` (column, symbols, what was found, the fix).
    The message lists them all, then the table of columns and units.
    """

    def __init__(self, problems: list, what: str = "the holdings", table: str = ""):
        self.problems = list(problems)
        self.what, self.table = what, table
        lines = [f"{what}: {len(self.problems)} problem(s) to fix:"]
        lines += [f"  - {p}" for p in self.problems]
        if table:
            lines += ["Columns (headers match case- and space-insensitively):", table]
        super().__init__("\n".join(lines))

    @property
    def columns(self) -> list[str]:
        return [p.column for p in self.problems]


class Problem:
    """One problem in a book: the column, the symbols concerned, what was found and the fix."""

    def __init__(self, column: str | None, problem: str, fix: str, symbols: Iterable[object] = (), found: str = ""):
        self.column, self.problem, self.fix, self.found = column, problem, fix, found
        self.symbols = [str(s) for s in symbols]

    def __str__(self) -> str:
        where = f" for {symbols_text(self.symbols)}" if self.symbols else ""
        found = f" (found {self.found})" if self.found else ""
        subject = f"column '{self.column}' " if self.column else ""
        return f"{subject}{self.problem}{where}{found}; fix: {self.fix}"

    def __repr__(self) -> str:
        return f"Problem({str(self)!r})"


class UnitsWarning(UserWarning):
    """A value that is allowed but looks like it is in the wrong unit (e.g. ADV in dollars)."""


class InfeasibleSchedule(LiquidationError):
    """No schedule meets the participation caps and cash milestones over the horizon.

    ``symbols``: the names that cannot complete (empty when a milestone is out of reach);
    ``reachable_usd``: for a milestone, the most cash the caps allow by then (else None).
    """

    status = "infeasible"

    def __init__(self, message: str, symbols: Iterable[object] = (), reachable_usd: float | None = None):
        self.symbols = [str(s) for s in symbols]
        self.reachable_usd = reachable_usd
        super().__init__(message)
