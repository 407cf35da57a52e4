"""How a solve is run: its options, a time budget shared by every stage, and a record of each stage tried.

A liquidation runs as a plan of stages (separable search, dual solver, conic program,
convex-concave iterations, certificate, ...). Each stage either returns a candidate or
declines with a reason; either way it leaves a :class:`Stage` record on the result, so
that a user can see which path answered, what was tried first and why it was declined.
"""

from __future__ import annotations

import importlib
import sys
import time
import warnings
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from krg_liquidity.core.errors import InputError

DEFAULT_TIME_LIMIT = 30.0
"""Seconds a solving call (``liquidate``, ``max_cash``, the schedules) may take by default."""

ENGINES = ("auto", "conic", "interior-point")
"""The engine choices, one keyword (``engine``) for liquidations and schedules. "auto": a liquidation runs its
plan of stages (separable search, dual solver, floor search, certificate, the conic program only where they
decline), a basket schedule its structured interior-point method where it suits, the conic program otherwise.
"conic": the conic program for every coupled stage (an independent cross-check). "interior-point": the
schedules' structured interior-point method alone (schedules only; a liquidation refuses it)."""

LIQUIDATION_ENGINES = ("auto", "conic")
"""The engines a liquidation (``liquidate``, ``max_cash``) takes."""


def check_time_limit(seconds: object) -> None:
    """Refuse a time limit that is not a positive number of seconds (None: no limit)."""
    if seconds is not None and not (isinstance(seconds, (int, float)) and seconds > 0):
        raise InputError(f"time_limit={seconds!r} must be a positive number of seconds (or None for no limit)")


@dataclass(frozen=True)
class SolverOptions:
    """How a solve is run, as one value.

    Parameters
    ----------
    engine : {"auto", "conic", "interior-point"}, default "auto"
        The engine (see ``ENGINES``; "interior-point" is for schedules only).
    time_limit : float or None, default ``DEFAULT_TIME_LIMIT`` (30 s)
        Seconds for the whole call (None: no limit).
    ladder : tuple of str, optional
        The conic solvers to try in turn, by cvxpy's names (e.g. ``("CLARABEL", "SCS")``); any solver
        cvxpy has installed may be named. None: the project's ladder (Clarabel twice with tuned steps,
        then SCS), which every published figure was measured with.
    solver_parameters : mapping, optional
        Extra parameters per solver name, passed to it on every attempt (tolerances, iterations), e.g.
        ``{"CLARABEL": {"tol_gap_rel": 1e-9}}``; they override the ladder's own.
    verbose : bool, default False
        Print the conic solvers' logs.

    Raises
    ------
    InputError
        An engine not in ``ENGINES``, a time limit that is not a positive number of seconds, a ladder
        naming a solver cvxpy has not installed (the message lists the installed ones), or solver
        parameters that are not a mapping of mappings.

    Examples
    --------
    >>> SolverOptions(engine="conic", ladder=("CLARABEL",)).ladder
    ('CLARABEL',)
    """

    engine: str = "auto"
    time_limit: float | None = DEFAULT_TIME_LIMIT
    ladder: tuple[str, ...] | None = None
    solver_parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    verbose: bool = False

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise InputError(f"engine={self.engine!r}: choose {' or '.join(repr(e) for e in ENGINES)}")
        check_time_limit(self.time_limit)
        if self.ladder is not None:
            ladder = (self.ladder,) if isinstance(self.ladder, str) else tuple(self.ladder)
            if not ladder or not all(isinstance(name, str) and name for name in ladder):
                raise InputError(f"ladder={self.ladder!r}: give solver names as cvxpy spells them, e.g. "
                                 "('CLARABEL', 'SCS')")
            ladder = tuple(name.upper() for name in ladder)
            installed = _installed_solvers()
            missing = sorted(set(ladder) - set(installed))
            if missing:
                raise InputError(f"ladder: solver(s) {', '.join(missing)} not installed with cvxpy: choose from "
                                 f"{', '.join(installed)}")
            object.__setattr__(self, "ladder", ladder)
        if not isinstance(self.solver_parameters, Mapping) or not all(
                isinstance(v, Mapping) for v in self.solver_parameters.values()):
            raise InputError("solver_parameters: give a dict of solver name -> dict of parameters, e.g. "
                             "{'CLARABEL': {'tol_gap_rel': 1e-9}}")
        object.__setattr__(self, "solver_parameters",
                           {str(k).upper(): dict(v) for k, v in self.solver_parameters.items()})

    @classmethod
    def of(cls, options: SolverOptions | None = None, *, engine: str = "auto",
           time_limit: float | None = DEFAULT_TIME_LIMIT) -> SolverOptions:
        """``options``, or the options the two keywords give; both at once is refused (say them once)."""
        if options is None:
            if engine not in ENGINES:  # in the caller's word for it
                raise InputError(f"engine={engine!r}: choose {' or '.join(repr(e) for e in ENGINES)}")
            return cls(engine=engine, time_limit=time_limit)
        if not isinstance(options, SolverOptions):
            raise InputError(f"options is a {type(options).__name__}: give a krg_liquidity.SolverOptions")
        given = [name for name, changed in (("engine", engine != "auto"),
                                            ("time_limit", time_limit != DEFAULT_TIME_LIMIT)) if changed]
        if given:
            raise InputError(f"options= and {', '.join(given)}= were both given: say them once, in "
                             "SolverOptions(...) or as keywords")
        return options


@lru_cache(maxsize=1)
def _installed_solvers() -> tuple[str, ...]:
    """The conic solvers cvxpy can call here (cvxpy is imported only when a ladder is named)."""
    import cvxpy

    return tuple(cvxpy.installed_solvers())


def liquidation_options(options: SolverOptions | None, *, engine: str = "auto",
                        time_limit: float | None = DEFAULT_TIME_LIMIT) -> SolverOptions:
    """``SolverOptions.of`` for a liquidation, which refuses the schedules' own engine.

    >>> liquidation_options(None, engine="conic").engine
    'conic'
    """
    chosen = SolverOptions.of(options, engine=engine, time_limit=time_limit)
    if chosen.engine not in LIQUIDATION_ENGINES:
        raise InputError(f"engine={chosen.engine!r} is the schedules' structured solver: a liquidation takes "
                         f"{' or '.join(repr(e) for e in LIQUIDATION_ENGINES)}")
    return chosen


def renamed_engine(engine: str, method: str | None) -> str:
    """The engine a call asked for, when it may still use the former keyword ``method``.

    ``method`` (deprecated) is taken with a ``DeprecationWarning``; given together with a different
    ``engine`` it is refused.

    >>> renamed_engine("conic", None)
    'conic'
    """
    if method is None:
        return engine
    if engine != "auto" and engine != method:
        raise InputError(f"engine={engine!r} and method={method!r}: method is the former name of engine; give engine only")
    warnings.warn("method= is now engine= (the same choice, named as the schedules name it); method= will be removed",
                  DeprecationWarning, stacklevel=3)
    return method


def _blas_controller():
    """The BLAS libraries of the process, scanned once (a scan costs a few ms). SciPy ships its own
    OpenBLAS beside NumPy's and loads it with ``scipy.linalg``: it is loaded first, so that the scan
    finds both (a library loaded after the scan would keep all its threads)."""
    import scipy.linalg  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def prepare() -> None:
    """What every call sets up before its clock starts: the scan of the process's BLAS libraries
    (it imports scipy.linalg the first time, a few tenths of a second; a few ms after that)."""
    _blas_controller()


def one_blas_thread() -> AbstractContextManager[Any]:
    """A context in which BLAS uses one thread: the solve is many small products and solves,
    where threads only contend (measured up to 10x slower on a busy 2-core machine)."""
    return _blas_controller().limit(limits=1, user_api="blas")


CONIC_SETUP_SECONDS_PER_NAME = 1e-4
"""Seconds per name that one conic attempt spends before its solver can stop: cvxpy compiling the
program and Clarabel's setup, both outside the solver's own time limit (about 0.45 s at 5,000 names
and 0.1 s at 1,000 on a busy 2-core machine). A conic stage starts only when the time left covers it."""


class Budget:
    """Wall-clock budget (seconds) for one call; ``None`` means no limit. It carries the call's
    :class:`SolverOptions` to every stage that runs a solver."""

    clock = staticmethod(time.perf_counter)
    """The clock every stage of a call is timed by (seconds); tests replace it with a fake one."""

    def __init__(self, seconds: float | None, options: SolverOptions | None = None):
        self.options = options if options is not None else SolverOptions(time_limit=seconds)
        """The solver options of the call (its ladder, parameters and log setting)."""
        check_time_limit(seconds)
        self.limit = None if seconds is None else float(seconds)
        self.start = self.clock()
        self.not_counted = 0.0  # seconds spent loading solver libraries (``Trail.load``)

    @property
    def elapsed(self) -> float:
        """Wall-clock seconds since the call started, all of them."""
        return self.clock() - self.start

    RESERVE = 0.05
    """Share of the limit kept back for checking the answer and building the result."""

    def left(self) -> float:
        """Seconds left for solving (inf without a limit, never negative)."""
        if self.limit is None:
            return float("inf")
        return max(0.0, self.limit * (1.0 - self.RESERVE) - (self.elapsed - self.not_counted))

    def expired(self) -> bool:
        return self.left() <= 0.0



@dataclass
class Stage:
    """One stage of a solve: what ran, for how long, and how it ended.

    ``outcome``: "accepted" (its answer was returned), "candidate" (a verified point that a
    later stage improved), "declined" (not applicable or not needed; ``detail`` says why),
    "failed" (it ran and gave nothing usable), "timeout" (the budget ran out inside it, or
    what was left could not cover its setup: skipped for time, ``detail`` says so),
    "proof" (it proved the request impossible), "bound" (it computed a lower bound),
    "done" (a helper step that succeeded, e.g. finding a start).
    """

    name: str
    outcome: str
    seconds: float
    detail: str = ""
    iterations: int = 0

    def to_dict(self) -> dict:
        return {"stage": self.name, "outcome": self.outcome, "seconds": self.seconds,
                "detail": self.detail, "iterations": self.iterations}


@dataclass
class Trail:
    """The stages of one call, in order, with a clock per stage."""

    budget: Budget
    stages: list[Stage] = field(default_factory=list)
    solver_attempts: list[dict] = field(default_factory=list)
    _started: float = field(init=False)

    def __post_init__(self) -> None:
        self._started = self.budget.clock()

    def begin(self) -> None:
        self._started = self.budget.clock()

    def record(self, name: str, outcome: str, detail: str = "", iterations: int = 0) -> Stage:
        now = self.budget.clock()
        stage = Stage(name, outcome, now - self._started, detail, iterations)
        self.stages.append(stage)
        self._started = now
        return stage

    def promote(self) -> None:
        """Mark the last 'candidate' as the accepted answer."""
        for stage in reversed(self.stages):
            if stage.outcome == "candidate":
                stage.outcome = "accepted"
                return

    def load(self, module: str) -> None:
        """Import a stage's solver library (cvxpy, scipy.optimize) the first time a call in this process
        needs it, recorded as a "load" stage. Loading is set-up of the process, as importing this package
        is: its seconds (about 1-2 s for cvxpy, 0.2-0.5 s for scipy.optimize) do not count against the
        time limit, and the stage under way is timed without them."""
        if module in sys.modules:
            return
        start = self.budget.clock()
        importlib.import_module(module)
        seconds = self.budget.clock() - start
        self.budget.not_counted += seconds
        self._started += seconds
        self.stages.append(Stage("load", "done", seconds, f"{module} loaded (once per process; not counted "
                                                          "in the time limit)"))

    def ran_out(self) -> bool:
        """Whether a stage ran out of time or was skipped for lack of it."""
        return any(stage.outcome == "timeout" for stage in self.stages)

    def to_list(self) -> list[dict]:
        return [stage.to_dict() for stage in self.stages]
