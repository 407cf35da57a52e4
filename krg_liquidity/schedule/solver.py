"""Which engine solves a schedule problem, and the proven bound on every answer.

The structured interior-point method (:mod:`krg_liquidity.schedule.barrier`) runs first when the
risk model has few rows (a factor model, or a covariance on a few names); the conic program
(:mod:`krg_liquidity.schedule.program`, Clarabel through cvxpy, imported only when needed) runs
when it does not apply or does not finish. Whichever answers, the lower bound on the optimum comes
from the same convexity argument (``BarrierSchedule.bound``), so every answer carries a gap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from krg_liquidity.core.plan import ENGINES, SolverOptions, one_blas_thread
from krg_liquidity.schedule.barrier import BarrierSchedule, suits
from krg_liquidity.schedule.data import ProgramData

# A stalled interior-point run is taken as optimal within this relative gap (over the program's
# limits): rounding to whole shares moves the objective by about as much.
NEAR_OPTIMAL = 1e-6


@dataclass
class EngineAnswer:
    """``fractions`` (n x N), ``status`` ("optimal", "optimal_inaccurate", "feasible", or the conic
    program's failure), ``objective_bps`` and ``lower_bps`` (bps of S, the proven bound on the
    optimum), ``attempts``: one dict per engine call (engine, status, seconds, accepted)."""

    fractions: np.ndarray
    status: str
    objective_bps: float
    lower_bps: float
    attempts: list = field(default_factory=list)


class ScheduleSolver:
    """One schedule problem; ``solve(risk_aversion, time_limit, tolerance)`` returns an EngineAnswer."""

    def __init__(self, data: ProgramData, kernel: str = "linear", measure: str = "std", engine: str = "auto",
                 options: SolverOptions | None = None) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine={engine!r} must be one of {ENGINES}")
        self.data, self.kernel, self.measure, self.options = data, kernel, measure, options
        self.structured = BarrierSchedule(data, kernel, measure)
        self.use_structured = engine == "interior-point" or (engine == "auto" and suits(data))
        self.use_conic = engine in ("auto", "conic")
        self.note = ""
        if data.confidence_z > 0:  # second-order cones: the conic program's alone
            if engine != "conic":
                self.note = (f"engine {engine!r}: the confidence milestones are second-order cones, which only the "
                             "conic program takes; it solved this schedule")
            self.use_structured, self.use_conic = False, True
        self._conic = None

    @property
    def conic(self):
        """The compiled conic program (built on first use: compiling costs about 0.1 s at 500 names)."""
        if self._conic is None:
            from krg_liquidity.schedule.program import ScheduleProgram

            self._conic = ScheduleProgram(self.data, kernel=self.kernel, measure=self.measure)
        return self._conic

    def solve(self, risk_aversion: float, time_limit: float = 30.0, tolerance: float = 1e-8,
              warm: np.ndarray | None = None) -> EngineAnswer:
        """``time_limit`` (seconds) for the whole call; ``tolerance``: the relative gap asked for.
        An interior-point run that stalls within NEAR_OPTIMAL of its bound is optimal; one short of
        that (time, or a stall) is kept as "feasible", the conic program then runs if time is left,
        and the better answer is returned with the higher of the two proven bounds. BLAS runs on one
        thread throughout, as in ``liquidate`` (many small products, where threads only contend).
        ``warm``: fractions (n x N) for the interior-point method to start near."""
        with one_blas_thread():
            return self._solve(risk_aversion, time_limit, tolerance, warm)

    def _solve(self, risk_aversion: float, time_limit: float, tolerance: float, warm=None) -> EngineAnswer:
        deadline = time.perf_counter() + time_limit
        attempts, ours = [], None
        if self.use_structured:
            start = time.perf_counter()
            answer = self.structured.solve(risk_aversion, time_limit, tolerance, warm)
            close = answer.program_gap_bps <= NEAR_OPTIMAL * max(1.0, abs(answer.objective_bps))
            optimal = answer.status == "optimal" or (answer.status == "stalled" and close)
            attempts.append({"engine": "interior-point", "status": answer.status, "newton_steps": answer.newton_steps,
                             "seconds": time.perf_counter() - start, "accepted": optimal})
            if answer.fractions.size:
                status = "optimal" if optimal else "feasible"
                ours = EngineAnswer(answer.fractions, status, answer.objective_bps,
                                    answer.objective_bps - answer.gap_bps, attempts)
            if status_done(ours) or not self.use_conic or time.perf_counter() >= deadline:
                if ours is not None:
                    attempts[-1]["accepted"] = True  # the answer returned, optimal or not
                return ours or EngineAnswer(np.empty(0), answer.status, np.nan, np.nan, attempts)
        fractions, status = self.conic.solve(risk_aversion, max(deadline - time.perf_counter(), 1e-6), tolerance,
                                             self.options)
        attempts += [dict(a.to_dict(), engine="conic") for a in self.conic.attempts]
        if fractions.size == 0:
            if ours is not None:
                attempts[0]["accepted"] = True
                return ours
            return EngineAnswer(fractions, status, np.nan, np.nan, attempts)
        duals = self.conic.milestone_duals[self.structured.rows_kept]
        objective, lower = self.structured.bound(fractions, risk_aversion, duals)
        if ours is not None:
            lower = max(lower, ours.lower_bps)
            if ours.objective_bps <= objective:
                attempts[0]["accepted"], attempts[-1]["accepted"] = True, False
                proven = ours.objective_bps - lower <= tolerance * max(1.0, abs(ours.objective_bps))
                return EngineAnswer(ours.fractions, "optimal" if proven else "feasible", ours.objective_bps, lower,
                                    attempts)
        return EngineAnswer(fractions, status, objective, lower, attempts)


def status_done(answer: EngineAnswer | None) -> bool:
    return answer is not None and answer.status == "optimal"
