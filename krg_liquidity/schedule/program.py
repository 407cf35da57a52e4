"""The free-form schedule as one conic program (Clarabel through cvxpy), compiled once, solved per
lambda: the engine for a full covariance on many names, and the fallback when the structured
interior-point method (:mod:`krg_liquidity.schedule.barrier`) has no strictly feasible start or
does not finish. This docstring holds the convexity proof both engines rely on.

Variable: R (names x periods), the fraction of each order still to trade after each period
(R_0 = 1, R_N = 0); the fraction traded in period j is y_j = R_{j-1} - R_j >= 0. Every term is
in bps of S, the gross value of all orders (USD), so the data are O(1) whatever the book's size.

Impact (I-Star, trade-schedule form). With X the order (shares), v_j the other participants'
volume and POV_j = x_j / (x_j + v_j), krg's MI = I* (b1 sum_j (x_j/X) POV_j^a4 + 1 - b1), i.e.

    MI = I* b1 / X * sum_j f(x_j, v_j) + (1 - b1) I*,    f(x, v) = x^(1+a4) / (x + v)^a4.

f(x, v) = (x + v) h(x / (x + v)) with h(u) = u^(1+a4) convex: the perspective of a convex
function, evaluated at the affine point (x, x + v), is convex; so MI is convex in the schedule.
Its epigraph is a 3-D power cone, f <= m  <=>  m^(1/(1+a4)) (x + v)^(a4/(1+a4)) >= x.
f is homogeneous of degree 1, so in fractions of the order f(x, v) = X f(y, v/X).

Timing risk: residual dollar positions r_j (names), linear within each period (krg / basket
view: sum_j dt_j (r_{j-1}'C r_{j-1} + r_{j-1}'C r_j + r_j'C r_j) / 3 / trading_days, written
as the squared norm of ((r_{j-1} + r_j)/2, (r_{j-1} - r_j)/sqrt(12)) through the risk operator)
or held through each period (Almgren & Chriss: sum_j dt_j r_j'C r_j / trading_days).
Risk term: lambda x the standard deviation ("std", krg's lambda TR, lambda unitless) or
lambda x the variance ("variance", Almgren-Chriss, lambda in 1/USD).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import cvxpy as cp
import numpy as np

from krg_liquidity.core.plan import SolverOptions
from krg_liquidity.schedule.data import KERNELS, MEASURES, ProgramData, cash_risk_root, time_kernel_root
from krg_liquidity.solve.conic import TIME_OPTION, Attempt

# The first attempt asks for the requested tolerance; the fallbacks for 1e-7 (the answer is rounded
# to whole shares and re-verified anyway): on the example book the primal residual drifted up
# after the gap had closed to 1e-10 when asked for 1e-8 with equilibration on.
# qdldl: 0.4 s against faer's 1.9 s on a 100-name, 26-period basket when chosen; even at 500 names.
SOLVER_LADDER: tuple[dict[str, float | bool], ...] = ({}, {"equilibrate_enable": False, "tolerance": 1e-7},
                 {"max_step_fraction": 0.9, "static_regularization_constant": 1e-7, "tolerance": 1e-7})
STATUS = {cp.OPTIMAL: "optimal", cp.OPTIMAL_INACCURATE: "optimal_inaccurate", cp.INFEASIBLE: "infeasible",
          cp.INFEASIBLE_INACCURATE: "infeasible", cp.UNBOUNDED: "unbounded", cp.UNBOUNDED_INACCURATE: "unbounded",
          cp.USER_LIMIT: "timeout"}


def schedule_ladder(options: SolverOptions | None) -> list[tuple[str, dict[str, Any]]]:
    """The schedule program's attempts in turn, (solver, parameters): Clarabel on ``SOLVER_LADDER``'s tuned
    steps, or the solvers ``options.ladder`` names; ``options.solver_parameters`` go on top of each.

    >>> [solver for solver, _ in schedule_ladder(None)]
    ['CLARABEL', 'CLARABEL', 'CLARABEL']
    """
    extra = {} if options is None else options.solver_parameters
    rungs: list[tuple[str, dict[str, Any]]] = (
        [("CLARABEL", dict(rung)) for rung in SOLVER_LADDER] if options is None or options.ladder is None
        else [(name, {}) for name in options.ladder])
    return [(solver, own | dict(extra.get(solver, {}))) for solver, own in rungs]


@dataclass
class ScheduleProgram:
    """Compiled problem; ``solve(risk_aversion)`` writes the parameter and returns fractions (n x N)."""

    data: ProgramData
    kernel: str = "linear"
    measure: str = "std"
    problem: cp.Problem = field(init=False)
    attempts: list = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.kernel not in KERNELS or self.measure not in MEASURES:
            raise ValueError(f"kernel must be one of {KERNELS} and measure one of {MEASURES}")
        d = self.data
        n, periods = d.volume_ratio.shape
        if periods < 2:
            raise ValueError("a schedule program needs at least 2 periods")
        self.scale = float(d.value_usd.sum())
        weight = d.value_usd / self.scale  # each order's share of S
        self.remaining = cp.Variable((n, periods - 1))
        full = cp.hstack([np.ones((n, 1)), self.remaining, np.zeros((n, 1))])
        traded = full[:, :-1] - full[:, 1:]
        self.traded = traded
        constraints = [] if (d.quadratic is None and d.a4 == 0.5) else [traded >= 0]  # else implied by the cones
        if d.cap is not None and np.isfinite(d.cap).any():
            finite = np.isfinite(d.cap)
            constraints.append(traded[finite] <= d.cap[finite])
        if d.quadratic is not None:
            impact = cp.multiply(d.quadratic * 1e4 / self.scale, cp.square(traded))
        else:
            impact = self._istar(traded, weight, constraints)
        cells = cp.multiply(d.pa_bps * weight[:, None], traded) + impact  # expected cost per cell, bps of S
        cost = cp.sum(cells)
        self.cost_bps = cost
        self.risk_bps = self._risk(full, weight)
        constraints += self.extra_constraints
        self.risk_aversion = cp.Parameter(nonneg=True)
        if self.measure == "std":
            risk_term = self.risk_aversion * cp.norm(self.risk_bps, 2)
        else:  # lambda Var_usd in bps of S = lambda S / 1e4 * ||risk_bps||^2
            risk_term = self.risk_aversion * (self.scale / 1e4) * cp.sum_squares(self.risk_bps)
        if d.std_weight:
            risk_term = risk_term + d.std_weight * cp.norm(self.risk_bps, 2)
        if d.milestones and d.confidence_z > 0:
            self.milestone_rows = [self._confident(full, cells, weight, k, c / self.scale * 1e4)
                                   for k, c in d.milestones]
            constraints += self.milestone_rows
        elif d.milestones:
            ks = np.array([k for k, _ in d.milestones], dtype=int)
            least = np.array([c for _, c in d.milestones], dtype=float) / self.scale
            self.milestone_rows = (d.side * weight) @ (1.0 - full[:, ks]) >= least
            constraints.append(self.milestone_rows)
        self.problem = cp.Problem(cp.Minimize(cost + risk_term), constraints)

    def _confident(self, full, cells, weight, period: int, least_bps: float):
        """E[cash by ``period``] - z sd >= least (bps of S) as one second-order cone: E is the
        nominal cash less the expected cost of the cells traded by then (impact, PA and I-Star's
        permanent share (1 - b1) I*, which the objective drops as a constant), sd the risk
        operator through :func:`cash_risk_root` on R_j - R_k."""
        d = self.data
        exposure = d.side * weight
        done = full[:, :period]
        permanent = ((1 - d.b1) * d.istar_bps * weight)[:, None] if d.quadratic is None else np.zeros((len(weight), 1))
        traded = self.traded[:, :period]
        expected = 1e4 * (exposure @ (1.0 - full[:, period])) - cp.sum(cells[:, :period]) - cp.sum(
            cp.multiply(permanent, traded))
        root = cash_risk_root(d.dt_days, period, self.kernel) * (1e4 / np.sqrt(d.trading_days))
        left = cp.multiply(exposure[:, None], done - full[:, period:period + 1])  # r_0 .. r_{k-1}
        parts = [(d.risk.top @ left) @ root]
        if d.risk.diag is not None:
            parts.append(cp.multiply(d.risk.diag[:, None], left) @ root)
        spread = cp.norm(cp.hstack([cp.vec(p, order="F") for p in parts]), 2)
        return d.confidence_z * spread <= expected - least_bps

    def _istar(self, traded, weight, constraints):
        """w_i I*_i b1 f(y_ij, V_ij) per cell (n x N) in bps of S: each f through two 3-D
        second-order cones (a4 = 1/2) or one 3-D power cone (any other a4)."""
        d = self.data
        n, periods = d.volume_ratio.shape
        # m is scaled by each name's value of sum_j f at an even-POV schedule, so that m = O(1/N).
        even_pov = 1.0 / (1.0 + d.volume_ratio.sum(axis=1))
        unit = np.power(even_pov, d.a4)
        m = cp.Variable((n, periods), nonneg=d.a4 != 0.5)  # the cones imply m, s >= 0
        scaled = cp.multiply(unit[:, None], m)
        if d.a4 == 0.5:  # f = y^2 / s with s^2 <= y (y + V): two 3-D second-order cones per cell
            s = cp.Variable((n, periods))
            y, v, ms = (cp.vec(e, order="F") for e in (traded, cp.Constant(d.volume_ratio), scaled))
            sv = cp.vec(s, order="F")
            constraints.append(cp.SOC(ms + sv, cp.vstack([2 * y, ms - sv]), axis=0))
            constraints.append(cp.SOC(2 * y + v, cp.vstack([2 * sv, v]), axis=0))
            return cp.multiply((weight * d.istar_bps * d.b1 * unit)[:, None], m)
        constraints.append(cp.PowCone3D(cp.vec(cp.multiply(unit[:, None], m), order="F"),
                                        cp.vec(traded + d.volume_ratio, order="F"), cp.vec(traded, order="F"),
                                        1.0 / (1.0 + d.a4)))
        return cp.multiply((weight * d.istar_bps * d.b1 * unit)[:, None], m)

    def _risk(self, full, weight):
        """The vector whose norm is the timing risk in bps of S: (G R) L and (D R) L, with L the
        Cholesky factor of the time kernel over R_0..R_{N-1} (bidiagonal), G the factor rows, D the
        specific volatilities, both times each order's residual exposure."""
        d = self.data
        exposure = d.side * weight  # residual position per unit fraction, in units of S
        head = full[:, :-1]  # R_0 .. R_{N-1}; R_N = 0 adds nothing
        chol = time_kernel_root(d.dt_days, self.kernel) * (1e4 / np.sqrt(d.trading_days))
        # Factor exposures as their own variables: each dense row (all names) appears once, in an
        # equality, and the cone sees only short, sparse combinations of them.
        loading = d.risk.top * exposure
        self.exposure = cp.Variable((loading.shape[0], head.shape[1] - 1))
        self.extra_constraints = [self.exposure == loading @ self.remaining]
        factor = cp.hstack([loading.sum(axis=1, keepdims=True), self.exposure])
        parts = [factor @ chol]
        if d.risk.diag is not None:
            parts.append(cp.multiply((d.risk.diag * exposure)[:, None], head) @ chol)
        return cp.hstack([cp.vec(p, order="F") for p in parts])

    def solve(self, risk_aversion: float, time_limit: float = 30.0, tolerance: float = 1e-8,
              options: SolverOptions | None = None) -> tuple[np.ndarray, str]:
        """Fractions traded (n x N) and our status ("optimal", "optimal_inaccurate", "infeasible",
        "unbounded", "timeout", "solver_error"). ``tolerance``: Clarabel's gap and feasibility
        tolerances on the first attempt; ``time_limit`` (seconds) for the whole ladder: each attempt gets
        what is left, and reaching it ends the ladder. ``options``: the solvers to try instead of
        ``SOLVER_LADDER`` (its ``ladder``), their extra parameters and their log (``verbose``)."""
        self.risk_aversion.value = float(risk_aversion)
        self.attempts = []  # this call's attempts only
        status = "not_run"
        deadline = time.perf_counter() + float(time_limit)
        for number, (solver, rung) in enumerate(schedule_ladder(options)):
            left = deadline - time.perf_counter()
            if number and left <= 0:  # the first attempt always runs, however little time is left
                status = "timeout"
                break
            left = max(left, 1e-6)
            given: dict[str, Any] = dict(rung)
            if solver == "CLARABEL":
                tol = given.pop("tolerance", tolerance)
                given = {"direct_solve_method": "qdldl", "tol_gap_abs": tol, "tol_gap_rel": tol, "tol_feas": tol} | given
            if solver in TIME_OPTION:
                given[TIME_OPTION[solver]] = left
            start = time.perf_counter()
            try:
                with warnings.catch_warnings():  # inaccurate answers are verified by the caller
                    warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                    self.problem.solve(solver=solver, verbose=options is not None and options.verbose, **given)
                status = STATUS.get(self.problem.status, "solver_error")
            except cp.error.SolverError as exc:
                status = "solver_error"
                self.attempts.append(Attempt(solver, given, f"solver_error: {str(exc)[:120]}",
                                             time.perf_counter() - start))
                continue
            self.attempts.append(Attempt(solver, given, status, time.perf_counter() - start))
            if status in ("optimal", "optimal_inaccurate") and self.traded.value is not None:
                self.attempts[-1].accepted = True
                return np.clip(self.traded.value, 0.0, None), status
            if status in ("infeasible", "unbounded", "timeout"):  # another attempt would not change these
                break
        return np.empty(0), status

    @property
    def milestone_duals(self) -> np.ndarray:
        """The milestones' multipliers (>= 0, bps of S per unit of S) from the last solve; zeros if none."""
        rows = getattr(self, "milestone_rows", None)
        if isinstance(rows, list):  # confidence milestones: one scalar cone row each
            return np.array([max(float(r.dual_value), 0.0) if r.dual_value is not None else 0.0 for r in rows])
        if rows is None or rows.dual_value is None:
            return np.zeros(len(self.data.milestones))
        return np.maximum(np.atleast_1d(np.asarray(rows.dual_value, dtype=float)), 0.0)

    @property
    def objective_bps(self) -> float:
        return float(self.problem.value)
