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
    """Bad input data: a missing column, a bad value, inconsistent columns.

    A ``ValueError``, so ``except ValueError`` catches it. The message names the column or
    parameter, the symbols and the fix. Raised before any solve.

    Examples
    --------
    >>> import krg_liquidity as krg
    >>> holdings, covariance = krg.load_example()
    >>> try:
    ...     krg.liquidate(krg.Portfolio(holdings, covariance), "ten million")
    ... except krg.InputError as exc:
    ...     print(type(exc).__name__, isinstance(exc, ValueError))
    InputError True
    """


class MissingColumnError(InputError):
    """A required column is absent.

    Parameters
    ----------
    column : str
        The missing column (snake_case name).
    available : iterable of str
        The columns the table has.
    fix : str
        How to fix it (default: "add a '<column>' column").

    Attributes
    ----------
    column : str
        The missing column.

    Examples
    --------
    >>> str(MissingColumnError("adv", ["symbol", "shares"]))
    "missing column 'adv' (have: symbol, shares); add a 'adv' column"
    """

    def __init__(self, column: str, available: Iterable[str], fix: str = ""):
        self.column = column
        hint = fix or f"add a '{column}' column"
        super().__init__(
            f"missing column '{column}' (have: {', '.join(map(str, available))}); {hint}"
        )


class InvalidValueError(InputError):
    """A column holds values outside their allowed range (or NaN).

    Parameters
    ----------
    column : str
        The column or parameter.
    symbols : iterable
        The symbols whose values are bad (``["(all)"]``: a parameter, or the whole column).
    problem : str
        What is wrong.
    fix : str
        How to fix it.

    Attributes
    ----------
    column : str
        The column or parameter.
    symbols : list of str
        The symbols concerned.

    Examples
    --------
    >>> str(InvalidValueError("pov", ["AAA"], "must be in (0, 1]", "give POV as a decimal, e.g. 0.1"))
    "column 'pov' must be in (0, 1] for AAA; give POV as a decimal, e.g. 0.1"
    """

    def __init__(self, column: str, symbols: Iterable[object], problem: str, fix: str):
        self.column = column
        self.symbols = [str(s) for s in symbols]
        if self.symbols == ["(all)"]:  # a parameter (or a whole column), not some rows
            super().__init__(f"'{column}' {problem}; {fix}")
        else:
            super().__init__(f"column '{column}' {problem} for {symbols_text(self.symbols)}; {fix}")


class InconsistentInputError(InputError):
    """Two inputs disagree (e.g. size vs shares/ADV, or symbols of two tables).

    Examples
    --------
    >>> from krg_liquidity import fill_strategy
    >>> import pandas as pd
    >>> try:
    ...     fill_strategy(pd.DataFrame({"symbol": ["A"]}), trade_time_days=1.0, pov=0.1)
    ... except InconsistentInputError as exc:
    ...     print(exc)
    give a default trade time or a default POV, not both
    """


class ParameterLookupError(InputError):
    """No I-Star parameter set matches the requested market-impact code and date.

    Examples
    --------
    >>> from krg_liquidity import load_parameters
    >>> try:
    ...     load_parameters(code=99)
    ... except ParameterLookupError as exc:
    ...     print(str(exc).split(";")[0])
    no I-Star parameters for market-impact code 99
    """


class LiquidationError(RuntimeError):
    """The optimizer could not return a usable liquidation.

    The base of the solver outcomes; each subclass maps to one status of the result vocabulary
    (``status``, one of ``STATUSES``), the word a result carries with ``raise_on_failure=False``.

    Attributes
    ----------
    status : str
        "error" here; each subclass sets its own.
    stages : sequence of dict
        The record of each stage tried (``Stage.to_dict``), set by ``liquidate`` (empty until then).
    seconds : float or None
        How long the call ran before it failed (wall clock), set by ``liquidate`` (None until then).
    time_limit : float or None
        The call's time budget (seconds; None: no limit), set by ``liquidate`` (None until then).

    Examples
    --------
    >>> import krg_liquidity as krg
    >>> book = krg.Portfolio(*krg.load_example())
    >>> try:
    ...     krg.liquidate(book, 2e10)
    ... except LiquidationError as exc:
    ...     print(type(exc).__name__, exc.status)
    InfeasibleLiquidation infeasible
    >>> krg.liquidate(book, 2e10, raise_on_failure=False).status
    'infeasible'
    """

    status: str = "error"
    seconds: float | None = None
    time_limit: float | None = None
    stages: Sequence[dict[str, Any]] = ()


class InfeasibleLiquidation(LiquidationError):
    """The cash target cannot be raised inside the limits.

    The message is a headline (what can be raised), the reason, then the blocking limits as a
    table.

    Parameters
    ----------
    message : str
        The full message.
    cash_target : float
        The cash asked for (USD).
    max_cash : float or None
        The most cash the limits allow (USD); None when the limits admit no trade at all, or when
        the target is at or above the book's net value (nothing is solved to say so).
    blocking : dict of str to float, optional
        Constraint group to how far it would have to give.
    blocking_units : dict of str to str, optional
        The unit of each ``blocking`` amount (in words: ``explain.blocking_rows``).
    headline : str, optional
        The message without the table (default: the message).
    blocking_exact : bool
        False when the amounts are estimates (the elastic re-solve of a request with a risk
        floor, which it linearizes).
    blocking_totals : dict of str to tuple of (float, int), optional
        Per per-name limit of ``blocking`` (whose amount is the largest on one name), the total it
        would have to give over all names (USD) and how many names give.

    Attributes
    ----------
    cash_target, max_cash, blocking, blocking_units, headline, blocking_exact, blocking_totals
        As given.
    status : str
        "infeasible".

    Examples
    --------
    >>> import krg_liquidity as krg
    >>> book = krg.Portfolio(*krg.load_example())
    >>> try:
    ...     krg.liquidate(book, 2e10)
    ... except InfeasibleLiquidation as exc:
    ...     print(exc.status, exc.max_cash, exc.headline.split(":")[0])
    infeasible None cannot raise $20,000,000,000
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

    Not a proof that none exists.

    Parameters
    ----------
    message : str
        What was tried and the fix.
    stages : list, optional
        The stages tried, with their outcomes.

    Attributes
    ----------
    stages : list
        As given.
    status : str
        "no_feasible_point_found".

    Examples
    --------
    >>> NoFeasiblePointFound("no trade list keeps the risk floor", stages=[{"stage": "floor"}]).status
    'no_feasible_point_found'
    """

    status = "no_feasible_point_found"

    def __init__(self, message: str, stages: list | None = None):
        self.stages = list(stages or [])
        super().__init__(message)


class SolverTimeout(LiquidationError):
    """The time budget ran out before any verified trade list was found.

    Parameters
    ----------
    message : str
        What ran out, and the fix.
    stage : str
        The stage that was running.
    stages : list, optional
        The stages tried, with their times.

    Attributes
    ----------
    stage : str
        As given.
    stages : list
        As given.
    status : str
        "timeout".

    Examples
    --------
    >>> exc = SolverTimeout("no verified trade list within 1 s; raise time_limit", stage="dual")
    >>> exc.status, exc.stage
    ('timeout', 'dual')
    """

    status = "timeout"

    def __init__(self, message: str, stage: str, stages: list | None = None):
        self.stage = stage
        self.stages = list(stages or [])
        super().__init__(message)


class SolverFailure(LiquidationError):
    """Every solver attempt failed or returned an answer that violates the limits.

    Parameters
    ----------
    message : str
        What failed.
    attempts : list, optional
        Every solver call (solver, status, seconds, ...).

    Attributes
    ----------
    attempts : list
        As given.
    status : str
        "solver_failed".

    Examples
    --------
    >>> SolverFailure("every solver failed", attempts=[{"solver": "CLARABEL"}]).status
    'solver_failed'
    """

    status = "solver_failed"

    def __init__(self, message: str, attempts: list | None = None):
        self.attempts = list(attempts or [])
        super().__init__(message)


class InputFileError(InputError):
    """A file cannot be used: missing, not a regular file, an unknown format, or unreadable.

    The message names the file and the cause, never the file's contents.

    Examples
    --------
    >>> from krg_liquidity import read_table
    >>> try:
    ...     read_table("no_such_book.csv", what="holdings")
    ... except InputFileError as exc:
    ...     print(exc)
    holdings file not found: no_such_book.csv
    """


class BookError(InputError):
    """Every problem found in a book, reported together.

    The message lists them all, then the table of columns and units.

    Parameters
    ----------
    problems : list of Problem
        Each with the column, the symbols concerned, what was found and the fix.
    what : str
        What was checked ("the holdings", "the risk model", ...).
    table : str
        The table of columns and units appended to the message (empty: none).

    Attributes
    ----------
    problems : list of Problem
        The problems, as given.
    columns : list of str
        The column of each problem.

    Examples
    --------
    >>> import pandas as pd
    >>> from krg_liquidity import Portfolio
    >>> try:
    ...     Portfolio(pd.DataFrame({"symbol": ["A"], "shares": [100], "price": [-5.0], "adv": [1e6],
    ...                             "volatility": [0.2], "trade_time": [1.0]}))
    ... except BookError as exc:
    ...     print(exc.columns)
    ['price']
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
    """A value that is allowed but looks like it is in the wrong unit (e.g. ADV in dollars).

    Issued with :func:`warnings.warn`; a Portfolio keeps its units warnings in ``warnings``.
    """


class InfeasibleSchedule(LiquidationError):
    """No schedule meets the participation caps and cash milestones over the horizon.

    Parameters
    ----------
    message : str
        What is out of reach, and the fix.
    symbols : iterable
        The names that cannot complete (empty when a milestone is out of reach).
    reachable_usd : float, optional
        For a milestone, the most cash the caps allow by then (USD; else None).

    Attributes
    ----------
    symbols : list of str
        As given.
    reachable_usd : float or None
        As given.
    status : str
        "infeasible".

    Examples
    --------
    >>> from krg_liquidity import optimize_schedule
    >>> try:
    ...     optimize_schedule({"shares": 900_000, "adv": 1e6, "volatility": 0.25}, max_pov=0.1)
    ... except InfeasibleSchedule as exc:
    ...     print(exc.status)
    infeasible
    """

    status = "infeasible"

    def __init__(self, message: str, symbols: Iterable[object] = (), reachable_usd: float | None = None):
        self.symbols = [str(s) for s in symbols]
        self.reachable_usd = reachable_usd
        super().__init__(message)
