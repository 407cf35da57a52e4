"""The liquidation as a conic program (cvxpy + Clarabel): the fallback and the cross-check.

Scaled variables: the value sold per name in the name's own dollar unit (its position's
value, at most S), and its absolute value; the value sold over a scale S (the cash target,
the value left near the whole book, or the book's gross value when the cash is a variable), the
trade in fractions of ADV, u, and z = |u| are expressions of them. The objective is in bps
of S, the cash row is a plain sum (= L / S), and every coefficient is O(1) instead of raw
dollars however far apart the names' sizes are.
Impact cost per name, with alpha = 1 + a2, beta = a4, r = (alpha + beta) / alpha:

  cost_usd = DV A / 1e4 * ( b1 * (z^r (z+T)^(1-r))^alpha + (1 - b1) z^alpha )   (trade time T)
  cost_usd = DV A / 1e4 * ( b1 p^beta + 1 - b1 ) z^alpha                           (fixed POV p)

each term a power cone, so the total cost is convex and the total-impact cap is a convex
constraint. Every limit adds its own rows (``limits.py``): per-name intervals, weight rows
on the final positions and the post-trade value (a variable tied to the positions, so the
cash target sits in the cash row alone and its multiplier is the full marginal cost), the
risk ceiling as a second-order cone, the risk floor as a linearization with a Parameter
gradient (convex-concave steps reuse the built problem, and its compiled form up to
``PARAMETRIZED_MAX_NAMES`` names).

Half-spread, commission and fees are linear in the value traded: ``program.linear`` (bps of S) is
added to the objective; ``program.cost`` stays impact alone (the total-impact cap's rows).

Every solve gets what is left of the time budget, and starts only when that covers its setup
(``solve``); the solver ladder is Clarabel, Clarabel without equilibration, then SCS with a time
limit and tolerances it can reach.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import cvxpy as cp
import numpy as np
from scipy import sparse

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.core.errors import InputError
from krg_liquidity.core.plan import CONIC_SETUP_SECONDS_PER_NAME, Budget
from krg_liquidity.model.trade_costs import TradeCosts
from krg_liquidity.solve.limits import NameLimit, RiskFloor, Weight
from krg_liquidity.solve.verify import ACCEPT_VIOLATION

# A shorter step than Clarabel's default (0.99) kept its power-cone iterations from stalling
# on every one of 74 random books where the default stalled on 10 (measured when this ladder was chosen).
SOLVER_LADDER = (
    ("CLARABEL", {"max_step_fraction": 0.9}),
    ("CLARABEL", {"max_step_fraction": 0.9, "equilibrate_enable": False}),
    ("SCS", {"eps_abs": 1e-7, "eps_rel": 1e-7, "max_iters": 20_000}),
)
TIME_OPTION = {"CLARABEL": "time_limit", "SCS": "time_limit_secs"}
TAX_OBJECTIVE_UNIT = 0.3
"""With tax lots the objective is divided by this fraction of the most tax the sale could pay or credit plus
the impact hint (bps of S). In raw units Clarabel failed on books whose tax was 30x their impact (300 and
1,000 names with a binding risk ceiling; SCS then took 6-30 s, once $3.5M from the optimum); at this unit it
solved them and 12 random 8-name books; at 0.03, 0.1 and 1 some of those failed (measured when chosen)."""
PARAMETRIZED_MAX_NAMES = 200
"""Up to this many names a program is compiled once in cvxpy's parametrized form, and a re-solve with
new Parameter values (the floor's convex-concave steps) skips the compilation. That form grows as the
names times the variables (0.06-0.09 s to build at 30-200 names, 0.4 s at 400, 28 s at 5,000), so a
larger program is compiled with its Parameters' values at each solve instead (0.05 s + about 20 us a
name)."""


@dataclass
class Attempt:
    """One solver call: what ran, what it said, how long it took."""

    solver: str
    options: dict
    status: str
    seconds: float
    max_violation: float | None = None
    accepted: bool = False

    def to_dict(self) -> dict:
        return {"solver": self.solver, "options": self.options, "status": self.status,
                "seconds": self.seconds, "max_violation": self.max_violation, "accepted": self.accepted}


@dataclass
class Program:
    """The scaled variables every limit writes its rows in, and the compiled problem."""

    portfolio: Portfolio
    costs: TradeCosts
    scale: float
    cash_for_intervals: float
    traded: cp.Expression  # value sold / S
    position: cp.Expression  # final positions / S
    post_scaled: cp.Variable  # (V - L) / S
    cash_scaled: cp.Variable | float
    cash_row: cp.Constraint
    cost: cp.Expression  # impact, bps of S
    u: cp.Expression
    sold: cp.Variable  # value sold per name / unit
    unit: np.ndarray  # each name's dollar unit (``name_units``)
    linear: cp.Expression | float = 0.0  # half-spread, commission and fees, bps of S
    tax: cp.Expression | float = 0.0  # weighted capital-gains tax of the lots sold, bps of S
    lot_sold: cp.Variable | None = None  # value sold of each lot / its name's unit
    sigma_today: float = 0.0
    post_level: float = 1.0  # (V - L) / S when the cash is fixed: the unit of a risk slack
    cost_unit: float = 1.0  # the "cost" objective is cost / cost_unit (bps of S)
    risk_norm: cp.Expression | None = None
    problem: cp.Problem | None = None
    floor_gradient: cp.Parameter | None = None
    floor_penalty: cp.Parameter | None = None
    floor_slack: cp.Variable | None = None
    slacks: dict = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    compile_seen: float = 0.0  # seconds cvxpy took to compile this program (the longest attempt)
    setup_seen: float = 0.0  # seconds an attempt spent before its solver could stop (the longest)
    skipped: str = ""  # why the last attempt was not started (the time left could not cover its setup)

    @property
    def cash_found(self) -> float | None:
        """The scaled cash (cash / ``scale``) of the last answer; None before one (or the fixed cash)."""
        cash = self.cash_scaled
        if isinstance(cash, cp.Variable):
            return None if cash.value is None else float(np.asarray(cash.value).item())
        return float(cash)

    @property
    def built(self) -> cp.Problem:
        """The compiled problem (``build`` sets it before any solve)."""
        if self.problem is None:
            raise AssertionError("the conic program was solved before it was built")
        return self.problem


def impact_cost_scaled(costs: TradeCosts, gross: cp.Expression, unit: np.ndarray,
                       scale: float) -> tuple[cp.Expression, list]:
    """Total impact cost in bps of ``scale`` dollars as a convex expression, and its cones.

    ``gross`` is each name's |value traded| in its own dollar ``unit``, so z = unit / DV * gross;
    each cone is written in ``gross`` (the perspective term is homogeneous: z^r (z+T)^(1-r) =
    (unit / DV) gross^r (gross + T DV / unit)^(1-r)), so that its entries are O(1) per name.
    The outer powers use cvxpy's exact power-cone form (``approx=False``); the perspective
    term is an explicit 3-D power cone.
    """
    p = costs.params
    alpha, beta = 1.0 + p.a2, p.a4
    size = unit / costs.dollar_adv  # z per unit of gross
    # DV A / S (unit / DV)^alpha: cost_usd * 1e4 / S per unit of the bracket, in the names' own units
    weight = costs.dollar_adv * costs.scale / scale * np.power(size, alpha)
    plain_coef = np.where(costs.fixed, costs.pov_factor, 1.0 - p.b1)
    total = (weight * plain_coef) @ cp.power(gross, alpha, approx=False)
    cones = []
    timed = np.flatnonzero(~costs.fixed)
    if timed.size:
        r = (alpha + beta) / alpha
        part = gross[timed]
        mid = cp.Variable(timed.size, nonneg=True)
        cones.append(cp.PowCone3D(mid, part + costs.trade_time[timed] / size[timed], part, 1.0 / r))
        total = total + (weight[timed] * p.b1) @ cp.power(mid, alpha, approx=False)
    return total, cones


ELASTIC_WEIGHT = {"direction": 10.0}
"""Weights of limits' slacks in the elastic re-solve: selling more than is held (or buying) is a give a sale can
only make with buys allowed, so the other limits give first."""


def build(portfolio: Portfolio, costs: TradeCosts, limits, *, cash: float | None, goal: str = "cost",
          cost_hint_usd: float | None = None, scale_usd: float | None = None,
          lot_sale: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
          lot_rows: tuple[np.ndarray, ...] = (), elastic_only=None) -> Program:
    """The program for ``limits`` (objects of ``limits.py``).

    ``cash=None``: the cash is a variable. ``goal``: "cost" (least impact, the risk floor as
    a penalized linearization), "cash" (most cash, same floor), or "elastic" (every limit
    but the cash row relaxed by its own slack; least total slack; ``elastic_only``: a test of a limit's key, the
    limits it accepts relaxed and the others held, no risk floor among them). ``cost_hint_usd``: the
    least cost of a relaxation (USD); a cost above 100 bps of S is divided down to O(100)
    in the objective, since the solver's relative tolerances would otherwise leave residuals
    in proportion to it (a book of names trading many days of their volume costs 1e5 bps); with lots,
    the unit is ``TAX_OBJECTIVE_UNIT`` of the hint plus the most tax the sale could pay or credit.
    ``scale_usd``: the dollar unit S (default: the cash target, or the book's gross value when
    the cash is a variable). Near the whole book the value left is the better unit: the rows of
    the post-trade book, its weights and risk, are then O(1).
    ``lot_sale``: (each lot's name index, its value in USD, its weighted tax per dollar of proceeds):
    one sale variable per lot, 0 <= sold <= its value, a name's lots adding up to its sale (sales
    only), and the lots' tax added to the objective. ``lot_rows``: rows r with r @ (proceeds per lot, USD)
    >= 0 (a region of US netting, ``model.tax.tax_regions``).
    """
    n = len(portfolio.holdings)
    dv = costs.dollar_adv
    net = portfolio.net_value_usd
    if scale_usd is not None:
        scale = float(scale_usd)
    else:
        scale = float(cash) if cash is not None else portfolio.gross_value_usd
    unit = name_units(portfolio.position_usd, dv, scale)
    sold = cp.Variable(n)  # value sold / unit, per name
    gross = cp.Variable(n, nonneg=True)  # >= |sold|
    traded = cp.multiply(unit / scale, sold)
    u = cp.multiply(unit / dv, sold)
    cash_scaled = cp.Variable(nonneg=True) if cash is None else float(cash) / scale
    position = portfolio.position_usd / scale - traded
    post_scaled = cp.Variable()
    cost, constraints = impact_cost_scaled(costs, gross, unit, scale)
    constraints += [post_scaled == cp.sum(position), gross >= sold, gross >= -sold]
    cash_row = cp.sum(traded) == cash_scaled
    program = Program(portfolio, costs, scale, 0.0 if cash is None else float(cash), traded, position,
                      post_scaled, cash_scaled, cash_row, cost, u, sold, unit)
    if costs.has_linear:  # linear in the value traded: linear_bps x |value| / S, in bps of S
        program.linear = (costs.linear_bps * unit / scale) @ gross
    if lot_sale is not None:
        names, value, per_dollar = lot_sale
        part = program.lot_sold = cp.Variable(len(names), nonneg=True)
        sums = sparse.csr_matrix((np.ones(len(names)), (names, np.arange(len(names)))), shape=(n, len(names)))
        constraints += [part <= value / unit[names], sums @ part == sold]
        program.tax = (1e4 * per_dollar * unit[names] / scale) @ part
        constraints += [(row * unit[names] / scale) @ part >= 0 for row in lot_rows]
    if cash is not None:
        program.post_level = (net - cash) / scale
    if any(limit.key in ("risk_ceiling", "risk_floor") for limit in limits):
        risk = portfolio.risk()
        program.sigma_today = risk.sigma(portfolio.position_usd / net)
        stacked = risk.stacked(position)
        exposure = cp.Variable(stacked.shape)  # the cone on its own variable, the dense rows as equalities:
        constraints.append(exposure == stacked)  # Clarabel stalled on the dense cone rows of the example book
        program.risk_norm = cp.norm(exposure)
    penalty_term = 0
    if goal != "elastic":  # the per-name intervals intersected: one pair of rows, not one per limit
        constraints += _box_rows(program, [limit for limit in limits if isinstance(limit, NameLimit)
                                           and not isinstance(limit, Weight)])
    for limit in limits:
        if goal != "elastic" and isinstance(limit, NameLimit) and not isinstance(limit, Weight):
            continue
        if goal == "elastic" and limit.key != "cash" and (elastic_only is None or elastic_only(limit.key)):
            # a per-name limit gives per name: its total is minimized
            slack = program.slacks[limit.key] = cp.Variable(n if isinstance(limit, NameLimit) else (), nonneg=True)
            constraints += limit.conic(program, slack)
        elif isinstance(limit, RiskFloor):
            program.floor_gradient = cp.Parameter(n)
            program.floor_penalty = cp.Parameter(nonneg=True)
            program.floor_slack = cp.Variable(nonneg=True)
            constraints += limit.conic(program, program.floor_slack, program.floor_gradient)
            penalty_term = program.floor_penalty * program.floor_slack
        else:
            constraints += limit.conic(program)
    hint_bps = cost_hint_usd * 1e4 / scale if cost_hint_usd is not None and np.isfinite(cost_hint_usd) else 0.0
    program.cost_unit = max(1.0, hint_bps / 100.0)
    if lot_sale is not None:  # the tax can dwarf the impact: the most it could reach (bps of S) sets the unit
        names, value, per_dollar = lot_sale
        reach = min(float(np.abs(per_dollar * value).sum()),
                    float(np.abs(per_dollar).max(initial=0.0)) * (float(cash) if cash is not None else scale))
        program.cost_unit = max(1.0, (hint_bps + 1e4 * reach / scale) * TAX_OBJECTIVE_UNIT)
    objective: cp.Minimize | cp.Maximize
    if goal == "cost":
        objective = cp.Minimize((cost + program.linear + program.tax + penalty_term) / program.cost_unit)
    elif goal == "cash":
        objective = cp.Maximize(cash_scaled - penalty_term)
    elif goal == "elastic":
        objective = cp.Minimize(sum(ELASTIC_WEIGHT.get(key, 1.0) * cp.sum(slack)
                                    for key, slack in program.slacks.items()))
    else:
        raise ValueError(f"goal={goal!r}: the conic program minimizes 'cost' or 'elastic' slack, or maximizes 'cash'")
    program.problem = cp.Problem(objective, constraints)
    return program


def _box_rows(program: Program, limits) -> list:
    """lo <= u <= hi from the intersection of the per-name intervals."""
    n = len(program.portfolio.holdings)
    lo, hi = np.full(n, -np.inf), np.full(n, np.inf)
    for limit in limits:
        low, high = limit.interval(program.portfolio, program.cash_for_intervals, program.costs)
        lo, hi = np.maximum(lo, low), np.minimum(hi, high)
    dv, unit, rows = program.costs.dollar_adv, program.unit, []
    for bound, side in ((lo, 1), (hi, -1)):
        finite = np.isfinite(bound)
        if finite.any():
            rows.append(side * (program.sold[finite] - bound[finite] * dv[finite] / unit[finite]) >= 0)
    return rows


def name_units(position_usd: np.ndarray, dollar_adv: np.ndarray, scale: float) -> np.ndarray:
    """Each name's own dollar unit for its trade variable: its position's value (its dollar ADV
    when it holds nothing), at most ``scale``. A name's trade is then O(1) in its own unit however
    far the names' sizes are apart (positions of $3 and $3e11 in one book), so the solver's
    tolerance is relative to each name, not to the largest."""
    own = np.where(position_usd != 0, np.abs(position_usd), dollar_adv)
    return np.clip(own, 1e-12 * scale, scale)


def ladder(names: tuple[str, ...] | None, parameters: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, dict]]:
    """The solver attempts to run in turn: ``SOLVER_LADDER``, or the named solvers (any cvxpy has
    installed), each with ``parameters`` for its name on top of its own. A name cvxpy has not
    installed is refused, listing the ones it has.

    >>> ladder(("SCS",), {"SCS": {"max_iters": 500}})
    [('SCS', {'max_iters': 500})]
    """
    rungs = SOLVER_LADDER if names is None else tuple((name, {}) for name in names)
    if names is not None:
        missing = sorted(set(names) - set(cp.installed_solvers()))
        if missing:
            raise InputError(f"solver(s) {', '.join(missing)} not installed with cvxpy: choose from "
                             f"{', '.join(cp.installed_solvers())} (SolverOptions.ladder)")
    return [(solver, {**own, **parameters.get(solver, {})}) for solver, own in rungs]


def solve(program: Program, check, budget: Budget) -> str:
    """Run the solver ladder until an answer passes ``check(u) -> max violation``.

    Returns the accepted status ("optimal" / "optimal_inaccurate"), or the last status
    ("infeasible", "unbounded", "solver_error", "timeout", ...) when no attempt is accepted.
    An "infeasible" or "unbounded" verdict from Clarabel ends the ladder. An "optimal_inaccurate" answer
    that passes the check is kept while the rest of the ladder looks for an accurate one (which replaces
    it); it is returned, with its values put back, when none comes.

    Above ``PARAMETRIZED_MAX_NAMES`` names each attempt compiles the program with its Parameters'
    current values (``ignore_dpp``): cvxpy's parametrized form of a power-cone program with an
    n-vector Parameter (the floor's gradient) takes time and memory in proportion to n times the
    number of variables (28 s at 5,000 names, against 0.1 s compiled with the values), and no
    solver time limit covers it. An attempt starts only when the time left covers its setup
    (compiling and the solver's setup, outside the solver's time limit: the longest seen on this
    program, at least ``CONIC_SETUP_SECONDS_PER_NAME`` a name); otherwise the ladder ends "timeout"
    and ``program.skipped`` says why. The solver gets what is left after the compilation.
    """
    last = "not_run"
    fallback = None  # (the attempt, its answer): the first inaccurate answer that passed the check
    program.skipped = ""
    names = len(program.portfolio.holdings)
    chosen = budget.options
    for solver, options in ladder(chosen.ladder, chosen.solver_parameters):
        left = budget.left()
        setup = max(CONIC_SETUP_SECONDS_PER_NAME * names, program.setup_seen)
        if left <= setup:
            if fallback is not None:  # out of time for a better one: the inaccurate answer stands
                break
            if left > 0:
                program.skipped = (f"a solver attempt was not started: {left:.2f} s left, less than the "
                                   f"{setup:.2f} s an attempt on {names:,} names takes before its solver can stop")
            return "timeout"
        if np.isfinite(left) and solver in TIME_OPTION:
            compiling = program.compile_seen or 0.5 * CONIC_SETUP_SECONDS_PER_NAME * names
            options[TIME_OPTION[solver]] = max(left - compiling, 1e-3)
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():  # an inaccurate answer is judged by its violation below
                warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                program.built.solve(solver=solver, ignore_dpp=names > PARAMETRIZED_MAX_NAMES,
                                      verbose=chosen.verbose, **options)
            status = program.built.status
        except cp.error.SolverError as exc:
            status = f"solver_error: {exc}".splitlines()[0][:200]
        attempt = Attempt(solver, options, status, time.perf_counter() - start)
        program.attempts.append(attempt)
        _measure_setup(program, attempt.seconds)
        last = "timeout" if budget.expired() and status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) else status
        if status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) and program.u.value is not None:
            attempt.max_violation = float(check(program.u.value))
            if attempt.max_violation <= ACCEPT_VIOLATION and status == cp.OPTIMAL:
                if fallback is not None:
                    fallback[0].accepted = False
                attempt.accepted = True
                return status
            if attempt.max_violation <= ACCEPT_VIOLATION and fallback is None:
                # kept, but the ladder goes on: an inaccurate answer proves no gap, an accurate one may follow
                attempt.accepted = True
                fallback = (attempt, _snapshot(program.built))
        elif status in (cp.INFEASIBLE, cp.UNBOUNDED) and solver == "CLARABEL" and fallback is None:
            return status
    if fallback is not None:
        _restore(program.built, fallback[1])
        return cp.OPTIMAL_INACCURATE
    if last in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):  # an answer that failed the check is not an answer
        return f"refused by the independent check ({last})"
    return last


def _snapshot(problem: cp.Problem) -> tuple[list, list]:
    """The values of a solved problem's variables and dual variables, to put back after later attempts."""
    return ([v.value for v in problem.variables()],
            [[d.value for d in c.dual_variables] for c in problem.constraints])


def _restore(problem: cp.Problem, saved: tuple[list, list]) -> None:
    """Put back what ``_snapshot`` saved (the answer an attempt found, over what later attempts left)."""
    for variable, value in zip(problem.variables(), saved[0]):
        variable.value = value
    for constraint, values in zip(problem.constraints, saved[1]):
        for dual, value in zip(constraint.dual_variables, values):
            dual.value = value


def _measure_setup(program: Program, seconds: float) -> None:
    """Record what the attempt just made (``seconds`` in all) spent outside its solver's iterations:
    cvxpy's compilation and the unpacking of the answer, plus the solver's whole time when it stopped
    before its first iteration (its setup, then)."""
    compiled = program.built.compilation_time or 0.0
    program.compile_seen = max(program.compile_seen, compiled)
    stats = program.built.solver_stats
    outside = seconds
    if stats is not None and stats.num_iters and stats.solve_time is not None:
        outside = max(compiled, seconds - float(stats.solve_time))
    program.setup_seen = max(program.setup_seen, outside)


def cash_multiplier(program: Program) -> float:
    """The cash row's multiplier: the marginal cost of the next dollar (bps)."""
    dual = program.cash_row.dual_value
    return float(-np.asarray(dual).item()) * program.cost_unit if dual is not None else float("nan")


def convex_concave(program: Program, position_of, risk, check, start_u: np.ndarray, budget: Budget,
                   max_steps: int = 30) -> tuple[np.ndarray | None, int, str]:
    """Penalty convex-concave steps on the floor in the conic program (the fallback of ``floor.py``).

    The floor is linearized at the current point; an elastic slack with a growing penalty
    reaches the feasible region first, then every iterate meets the floor and the cost falls.
    ``position_of(u)`` gives the positions (USD) of a trade; ``check(u)`` its largest violation.
    Returns (the last verified point or None, steps, reason it stopped or "").
    """
    gradient_at, penalty_at, slack = program.floor_gradient, program.floor_penalty, program.floor_slack
    if gradient_at is None or penalty_at is None or slack is None:
        raise AssertionError("the convex-concave steps need a program built with the floor's linearization")
    u, penalty, previous = start_u, 1e3, np.inf
    best: np.ndarray | None = None
    for step in range(1, max_steps + 1):
        position = position_of(u)
        sigma = risk.sigma(position)
        gradient = risk.covariance_times(position) / max(sigma, 1e-300)
        if not np.all(np.isfinite(gradient)):  # a start or step that is not a number: no step from it
            return best, step, "the risk's gradient is not finite at the current point"
        gradient_at.value = gradient
        penalty_at.value = penalty
        status = solve(program, lambda _u: 0.0, budget)  # judged below, once the slack is zero
        if status not in ("optimal", "optimal_inaccurate"):
            return best, step, program.skipped or f"a conic convex-concave step ended '{status}'"
        u = np.asarray(program.u.value, dtype=float)
        objective = float(program.built.value)
        if float(np.asarray(slack.value).item()) <= 1e-10:
            if check(u) <= ACCEPT_VIOLATION:
                best = u
            if abs(previous - objective) <= 1e-9 * max(1.0, abs(objective)):
                return best, step, ""
            previous = objective
        else:
            penalty = min(penalty * 10.0, 1e7)
    return best, max_steps, f"not settled after {max_steps} steps"
