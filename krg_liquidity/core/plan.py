"""How a solve is run: a time budget shared by every stage, and a record of each stage tried.

A liquidation runs as a plan of stages (separable search, dual solver, conic program,
convex-concave iterations, certificate, ...). Each stage either returns a candidate or
declines with a reason; either way it leaves a :class:`Stage` record on the result, so
that a user can see which path answered, what was tried first and why it was declined.
"""

from __future__ import annotations

import importlib
import sys
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from krg_liquidity.core.errors import InputError

DEFAULT_TIME_LIMIT = 30.0
"""Seconds a ``liquidate`` call may take by default."""


@lru_cache(maxsize=1)
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
    """Wall-clock budget (seconds) for one call; ``None`` means no limit."""

    clock = staticmethod(time.perf_counter)
    """The clock every stage of a call is timed by (seconds); tests replace it with a fake one."""

    def __init__(self, seconds: float | None):
        if seconds is not None and not (isinstance(seconds, (int, float)) and seconds > 0):
            raise InputError(f"time_limit={seconds!r} must be a positive number of seconds (or None for no limit)")
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
