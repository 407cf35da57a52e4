"""The status of an answer: one vocabulary for ``liquidate``, its JSON, the CLI and batch summaries.

=========================  ======================================================================
status                     meaning
=========================  ======================================================================
optimal                    solved to global optimality (gap <= 1e-6)
feasible                   every limit holds; optimality not proven (the gap is reported)
infeasible                 proven impossible: the limits cannot raise the cash (max cash given)
no_feasible_point_found    the local search found no point meeting the limits; not a proof
timeout                    the time limit ran out before an answer
solver_failed              every solver attempt failed or returned a point that breaks a limit
bad_input                  the input cannot be used (file, column, value, unit); nothing was solved
error                      an unexpected error (a bug): please report it with the input
limits_broken              a rule-based trade list (pro-rata, waterfall; ``rules.py``), or an
                           answer rounded to whole lots (``rounding.py``), that breaks the limits
                           named in its message; never an exact answer of ``liquidate``
=========================  ======================================================================
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """The status of an answer (the table above), str-valued: ``Status.OPTIMAL == "optimal"``, and JSON,
    CSV and the screen write the word itself."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    NO_FEASIBLE_POINT_FOUND = "no_feasible_point_found"
    TIMEOUT = "timeout"
    SOLVER_FAILED = "solver_failed"
    BAD_INPUT = "bad_input"
    ERROR = "error"
    LIMITS_BROKEN = "limits_broken"


STATUSES = tuple(status.value for status in Status)
"""Every status word a result, a frontier / stress row or a batch summary can carry.

"optimal" and "feasible" are answers (``LiquidationResult.success``); "infeasible",
"no_feasible_point_found", "timeout" and "solver_failed" are solver outcomes (each the ``status``
of its ``LiquidationError``); "bad_input" is input that cannot be used; "error" an unexpected
error; "limits_broken" a rule's (or a rounded) trade list that breaks the limits named in its
message. The meaning of each is in :mod:`krg_liquidity.core.status`.

Examples
--------
>>> STATUSES[:2]
('optimal', 'feasible')
"""
SOLVED = (Status.OPTIMAL.value, Status.FEASIBLE.value)


def status_of(exc: BaseException) -> Status:
    """The status word for an exception raised while reading or solving a book.

    An exception may carry its own ``status`` (one of STATUSES); else by class: input
    problems are "bad_input", an infeasible liquidation "infeasible", a solver failure
    "solver_failed", a timeout "timeout", anything else "error".

    >>> from krg_liquidity.core.errors import InputError
    >>> [str(status_of(exc)) for exc in (InputError("x"), KeyError("x"))]
    ['bad_input', 'error']
    """
    from krg_liquidity.core.errors import InfeasibleLiquidation, InputError, SolverFailure

    own = getattr(exc, "status", None)
    if isinstance(own, str) and own in STATUSES:
        return Status(own)
    if isinstance(exc, InputError):
        return Status.BAD_INPUT
    if isinstance(exc, InfeasibleLiquidation):
        return Status.INFEASIBLE
    if isinstance(exc, SolverFailure):
        return Status.SOLVER_FAILED
    if isinstance(exc, TimeoutError):
        return Status.TIMEOUT
    return Status.ERROR
