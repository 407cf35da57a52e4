"""Every exception krg_liquidity raises on purpose, in one place.

Input problems are ``ValueError`` subclasses (so ``except ValueError`` works) and
their messages name the column, the offending symbols and the fix. Optimization
outcomes that are not a usable answer derive from ``LiquidationError``.
"""

from __future__ import annotations

from collections.abc import Iterable


def _symbols_text(symbols: Iterable[object], limit: int = 8) -> str:
    symbols = [str(s) for s in symbols]
    shown = ", ".join(symbols[:limit])
    more = len(symbols) - limit
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
        super().__init__(
            f"column '{column}' {problem} for {_symbols_text(self.symbols)}; {fix}"
        )


class InconsistentInputError(InputError):
    """Two inputs disagree (e.g. size vs shares/ADV, or symbols of two tables)."""


class ParameterLookupError(InputError):
    """No I-Star parameter set matches the requested market-impact code and date."""


class LiquidationError(RuntimeError):
    """The optimizer could not return a usable liquidation."""


class InfeasibleLiquidation(LiquidationError):
    """The cash target cannot be raised inside the limits.

    Attributes: ``cash_target`` and ``max_cash`` (dollars; ``max_cash`` is None when
    the limits admit no trade at all), ``blocking``: mapping of constraint group to
    how far it would have to give (its units are in ``blocking_units``).
    """

    def __init__(self, message: str, cash_target: float, max_cash: float | None,
                 blocking: dict[str, float] | None = None,
                 blocking_units: dict[str, str] | None = None):
        self.cash_target = cash_target
        self.max_cash = max_cash
        self.blocking = dict(blocking or {})
        self.blocking_units = dict(blocking_units or {})
        super().__init__(message)


class SolverFailure(LiquidationError):
    """Every solver attempt failed or returned an answer that violates the limits."""

    def __init__(self, message: str, attempts: list | None = None):
        self.attempts = list(attempts or [])
        super().__init__(message)


class InfeasibleSchedule(LiquidationError):
    """No schedule meets the participation caps and cash milestones over the horizon.

    ``symbols``: the names that cannot complete (empty when a milestone is out of reach);
    ``reachable_usd``: for a milestone, the most cash the caps allow by then (else None).
    """

    def __init__(self, message: str, symbols=(), reachable_usd: float | None = None):
        self.symbols = [str(s) for s in symbols]
        self.reachable_usd = reachable_usd
        super().__init__(message)
