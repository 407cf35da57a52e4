"""``liquidate``: raise cash at least total market impact inside the book's limits.

Problem (dollars; per name shares s, price p, ADV, trade time T or fixed POV):
minimize  sum_i MI_i(q_i)/1e4 * q_i * p_i      over final shares y, traded q = |y - s|
s.t.      sum_i (s_i - y_i) p_i = L                               (cash target)
          per-name limits (direction, weights y p/(V-L), shares, values, %ADV, impact)
          sum_i cost_i <= max_total_mi_bps/1e4 * L                 (optional)
          lo sigma(w) <= sigma(x) <= hi sigma(w)                    (optional risk band)

The solve is a plan of stages, each recorded on the result (``plan.Stage``):
1. ``separable``: every limit but the risk band is a per-name interval; the multiplier
   search gives the least cost. It proves a target out of reach, or a total-impact cap too
   tight (nothing costs less); if its answer meets the band it is the global optimum.
2. ``dual`` (the ceiling breaks): the convex problem with the risk ceiling by duality over
   its coupling rows (``dual.py``); ``conic`` (cvxpy + Clarabel) if that declines, or always
   with ``engine="conic"``. A certificate of infeasibility from it proves the request impossible.
3. ``floor`` (the floor breaks): a proof that the floor cannot be reached (``floor.py``),
   else a feasible start and convex-concave steps with the dual solver (the conic program's
   penalized steps as fallback); ``certificate`` bounds the cost from below (``certificate.py``).
Every answer is re-checked from its trades (``verify.py``) before it is returned. The time
budget is shared by all stages; when it runs out the best verified answer comes back as
"feasible" with its gap, or ``SolverTimeout`` names the stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from krg_liquidity.book.lots import read_lots
from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.book.risk import factoring_speed
from krg_liquidity.core.errors import InputError, LiquidationError, NoFeasiblePointFound, SolverFailure, SolverTimeout
from krg_liquidity.core.plan import (
    CONIC_SETUP_SECONDS_PER_NAME,
    DEFAULT_TIME_LIMIT,
    Budget,
    SolverOptions,
    Trail,
    liquidation_options,
    one_blas_thread,
    prepare,
    renamed_engine,
)
from krg_liquidity.model.assumptions import attach
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.tax import TaxRates, greedy_sale, lot_tax, most_carried, realized_tax, tax_regions
from krg_liquidity.model.trade_costs import TradeCosts
from krg_liquidity.solve import floor as floor_search
from krg_liquidity.solve import reach
from krg_liquidity.solve.bounds import TradeBounds, trade_bounds
from krg_liquidity.solve.certificate import floor_lower_bound
from krg_liquidity.solve.dual import DualPoint, DualSolver, OutOfTime
from krg_liquidity.solve.explain import beyond_the_book, floor_out_of_reach, infeasible, round_up
from krg_liquidity.solve.limits import LABELS, RiskCeiling, TotalCostCap, TotalImpactCap, risk_excess, shaped_words
from krg_liquidity.solve.lot_search import lot_steps, solve_lot_sale, tax_slope
from krg_liquidity.solve.request import Limits, LiquidationRequest, liquidation_request
from krg_liquidity.solve.result import LiquidationResult, failed_result, finished_result, with_lots
from krg_liquidity.solve.separable import reachable, solve_separable
from krg_liquidity.solve.verify import ACCEPT_VIOLATION

BAND_TOLERANCE = 1e-9


def liquidate(portfolio: Portfolio, cash: float | str, *, limits: Limits | None = None,
              risk_band: tuple[float, float] | None = None,
              max_total_mi_bps: float | None = None, allow_buys: bool = False,
              group_column: str | None = None, group_limits=None,
              max_tracking_error: float | None = None,
              min_liquid_fraction: tuple[float, float] | None = None,
              max_pct_adv: float | None = None, max_weight_change: float | None = None,
              max_sold_fraction: float | None = None,
              cost_model: CostModel | None = None, engine: str = "auto",
              time_limit: float | None = DEFAULT_TIME_LIMIT, raise_on_failure: bool = True,
              warm_start: LiquidationResult | None = None, allow_small_cash: bool = False,
              options: SolverOptions | None = None, method: str | None = None, fee_bps: float = 0.0, lots=None,
              tax: TaxRates | None = None, tax_weight: float = 1.0) -> LiquidationResult:
    """Raise ``cash`` from ``portfolio`` at least all-in trading cost: market impact, plus the half-spread,
    commission and sell-side fees the book's cost columns give (zero without them).

    Parameters
    ----------
    portfolio : Portfolio
        The book: holdings, market data and risk model.
    cash : float or str
        The target in dollars (a number), or text as :func:`krg_liquidity.core.cash.cash_usd` reads it:
        "10%" of the book's net value, "250m", "1.5bn", "$1,000,000,000". A target below $1,000 on a
        book worth millions, or below 1e-6 of its net value, raises ``InputError`` ("did you mean
        N%?") unless ``allow_small_cash=True``.
    limits : Limits, optional
        The request-level limits as one :class:`~krg_liquidity.Limits` value, or as the
        keywords below (not both).
    risk_band : tuple of float, optional
        ``(lo, hi)``: post-trade risk between lo and hi times today's (ratios; None: no band).
    max_total_mi_bps : float, optional
        Total impact cost at most this many bps of ``cash`` (None: no cap).
    allow_buys : bool
        Let trades add to positions or flip them (each trade still costs impact).
    group_column : str, optional
        The holdings column naming each name's group (None: the first of ``group``, ``sector``,
        ``industry``, ``country``, ``GICS Sector`` the book has).
    group_limits : dict or DataFrame, optional
        Group limits: a dict of book-wide defaults or a DataFrame indexed by group, with ``lb_wt``,
        ``ub_wt`` (post-trade weight bounds, fractions), ``max_weight_change`` (fraction of weight,
        0.02 = +/-2 points) and ``max_sold_fraction`` (fraction of the group's value). None: none.
    max_tracking_error : float, optional
        Annualized tracking error of the post-trade weights against today's, a fraction (0.01 = 1%).
    min_liquid_fraction : tuple of float, optional
        ``(f, D)``: at least the fraction f of the post-trade value sellable within D days at the
        names' participation rate (their ``pov``, else 20% of the volume).
    max_pct_adv, max_weight_change, max_sold_fraction : float, optional
        Book-wide per-name defaults, applied where the holdings leave the name's bound blank: trade at
        most this fraction of ADV; keep each weight within this many points of today's (0.02 = +/-2
        points); sell at most this fraction of each position (see :class:`~krg_liquidity.Limits`).
    cost_model : CostModel, optional
        The I-Star model pricing the trades (None: Kissell 2013 parameters).
    engine : str
        "auto" (the plan above) or "conic" (the conic program for every coupled stage: an
        independent cross-check); the schedules take the same keyword.
    time_limit : float or None
        Seconds for the whole call (None: no limit).
    raise_on_failure : bool
        False: a failure comes back as a result whose ``status`` says which, instead of raising.
    warm_start : LiquidationResult, optional
        The result of a nearby request (a frontier grid): its marginal cost starts the multiplier
        search.
    allow_small_cash : bool
        Accept a target below $1,000 (or below 1e-6 of the net value) as given.
    options : SolverOptions, optional
        How to solve as one value (engine, time limit, the conic solvers' ladder and parameters, their
        log), in place of ``engine`` and ``time_limit`` (not both).
    method : str, optional
        Deprecated: the former name of ``engine`` (a ``DeprecationWarning`` says so).
    fee_bps : float
        Sell-side fees (bps of the proceeds, e.g. regulatory fees) of the names without their own
        ``fee_bps`` column value. With ``allow_buys=True`` fees are refused (not priced on buys yet).
    lots : pandas.DataFrame or str or Path, optional
        The book's tax lots (:func:`~krg_liquidity.read_lots`: symbol, shares, cost basis, date acquired):
        the objective adds ``tax_weight`` x the capital-gains tax of the lots sold (linear model,
        :mod:`krg_liquidity.model.tax`): without a coupling limit, a multiplier search over each name's lots
        (``solve.lot_search``); with one, or under US netting, the conic program with one sale variable per lot.
        Sales only: refused with ``allow_buys``, a risk floor, or short positions.
    tax : TaxRates, optional
        The rates and the sale date (required with ``lots``).
    tax_weight : float
        The weight of a dollar of tax against a dollar of trading cost (>= 0; below 1 values deferral).

    Returns
    -------
    LiquidationResult
        The trades (shares and dollars per name), cash raised (USD), cost (USD and bps of the cash
        raised), risk before and after, the proven gap, and how it was found.

    Raises
    ------
    InputError
        Bad data or limits (a column, a value, a target), always before any solve.
    InputError
        ``engine`` is neither "auto" nor "conic".
    InfeasibleLiquidation
        Proven impossible; carries the most cash that can be raised and the blocking limits.
    NoFeasiblePointFound
        The local search under the risk floor found nothing (not a proof).
    SolverTimeout
        ``time_limit`` ran out before a verified trade list was found.
    SolverFailure
        No solver's answer passed the independent check of every limit.

    Examples
    --------
    >>> from krg_liquidity import Portfolio, load_example
    >>> holdings, covariance = load_example()
    >>> result = liquidate(Portfolio(holdings, covariance), 1e9)
    >>> result.status, round(result.cash_raised / 1e6, 3)
    ('optimal', 1000.0)
    """
    asked = Limits.of(limits, risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys,
                      group_column=group_column, group_limits=group_limits,
                      max_tracking_error=max_tracking_error, min_liquid_fraction=min_liquid_fraction,
                      max_pct_adv=max_pct_adv, max_weight_change=max_weight_change,
                      max_sold_fraction=max_sold_fraction)
    request = liquidation_request(portfolio, cash, limits=asked, cost_model=cost_model, allow_small_cash=allow_small_cash,
                                  fee_bps=fee_bps)
    portfolio = request.portfolio  # with the limits' book-wide per-name defaults
    lot_table = _checked_lots(portfolio, asked, lots, tax, tax_weight)
    chosen = liquidation_options(options, engine=renamed_engine(engine, method), time_limit=time_limit)
    prepare()
    factoring = ((request.risk_band is not None or request.limits.max_tracking_error is not None)
                 and request.cash < portfolio.net_value_usd)  # beyond the book: said at once
    if factoring and portfolio.covariance is not None and not portfolio.risk_factored:
        with one_blas_thread():
            factoring_speed()  # this machine's speed, measured once per process before the clock starts
    trail = Trail(Budget(chosen.time_limit, chosen))
    try:
        with one_blas_thread():
            if factoring:
                _factor_risk(portfolio, trail)
            result = _run(request, trail, chosen.engine, warm_start, lot_table, tax_weight, tax)
    except LiquidationError as exc:
        exc.stages = trail.to_list()
        exc.seconds, exc.time_limit = trail.budget.elapsed, trail.budget.limit  # how long it ran, of what budget
        if raise_on_failure:
            raise
        result = failed_result(request, exc, trail)
    return attach(result, portfolio, request.cost_model)


def _factor_risk(portfolio: Portfolio, trail: Trail) -> None:
    """Build the book's risk operator once (inside the budget), recorded as the "risk-model" stage; when the
    time left cannot cover factoring a full covariance, end at once as a timeout without starting it.
    Called with one BLAS thread: on a busy 2-core machine every thread made it 3-10x slower (0.16 s
    against 0.02 s at 1,000 names, 1.1 s against 0.37 s for a 2,500-name Cholesky factor)."""
    cached = portfolio.risk_factored
    try:
        operator = portfolio.risk(trail.budget.left)
    except SolverTimeout as skipped:
        trail.record("risk-model", "timeout", f"skipped for time: {skipped}")
        raise SolverTimeout(f"the time budget ({trail.budget.limit:g} s) cannot cover factoring the risk model "
                            f"({skipped}); raise time_limit (once factored, the risk model is kept on this Portfolio "
                            "and later calls skip this step)", "risk-model") from None
    trail.record("risk-model", "done", operator.describe() + (" (already, by an earlier call on this book)"
                                                              if cached else ""))


def _checked_lots(portfolio: Portfolio, limits: Limits, lots, tax, tax_weight) -> pd.DataFrame | None:
    """The lots' tax table (``model.tax.lot_tax``), or None without lots; every refusal before any solve."""
    if lots is None:
        if tax is not None:
            raise InputError("tax= was given without lots=: give the tax lots too (a table or a file)")
        return None
    if not isinstance(tax, TaxRates):
        raise InputError("lots= needs tax=TaxRates(short_term=..., long_term=..., as_of=...) to price the gains")
    try:
        weight = float(tax_weight)
    except (TypeError, ValueError):
        weight = float("nan")
    if not (np.isfinite(weight) and weight >= 0):
        raise InputError(f"tax_weight={tax_weight!r} must be a number >= 0 (1: a dollar of tax is a dollar of cost)")
    if limits.allow_buys:
        raise InputError("lots= is for sales only: buys would open new lots; keep allow_buys=False")
    if limits.has_floor:
        raise InputError("lots= does not take a risk floor yet (the floor's search does not price the tax); "
                         "give a ceiling alone: risk_band=(0, hi) (CLI --risk-band 0 HI)")
    table = read_lots(lots, portfolio, tax.unknown_basis)
    price = pd.Series(portfolio.array("price"), index=portfolio.symbols)
    return lot_tax(table, price, tax)


def _run(request: LiquidationRequest, trail: Trail, method: str, warm_start, lots: pd.DataFrame | None = None,
         tax_weight: float = 1.0, rates: TaxRates | None = None) -> LiquidationResult:
    start = warm_start.marginal_cost_bps if warm_start is not None and warm_start.success else None
    plan = _Plan(request, trail, method, start)
    if lots is None or rates is None:
        found = plan.run()
        return finished_result(request, found.u, found.marginal, found.lower_bound, found.path, trail, plan.bounds)
    names = pd.Index(request.portfolio.symbols).get_indexer(pd.Index(lots["symbol"]))  # read_lots: every symbol is held
    value = lots["shares"].to_numpy(dtype=float) * request.portfolio.array("price")[names]
    plan.lot_sale = (names, value, float(tax_weight) * lots["tax_per_dollar"].to_numpy(dtype=float))
    try:
        if rates.netting == "us":
            return _run_netted(request, plan, lots, rates, float(tax_weight))
        quick = plan.lot_separable() if method == "auto" and not request.limits.couples_names else None
        found = quick if quick is not None else plan.run()
    except SolverFailure as failure:
        return _untaxed(request, trail, method, lots, rates, float(tax_weight), failure)
    result = finished_result(request, found.u, found.marginal, found.lower_bound, found.path, trail, plan.bounds)
    return with_lots(result, lots, float(tax_weight), rates)


def _untaxed(request: LiquidationRequest, trail: Trail, method: str, lots: pd.DataFrame, rates: TaxRates,
             weight: float, failure: SolverFailure) -> LiquidationResult:
    """The solve with the lots failed: the tax does not change which trade lists keep the limits, so the solve
    without it proves the request impossible (raised) or finds the least trading cost, whose sales are then
    split over the lots least tax first: ``feasible``, with no proven gap after tax."""
    trail.record("tax lots", "failed", f"no answer with the tax in the objective ({failure}); solved without it")
    plan = _Plan(request, trail, method, None)
    found = plan.run()
    result = finished_result(request, found.u, found.marginal, float("nan"), found.path, trail, plan.bounds)
    result.message = ("the solve with the tax lots failed: these are the trades of least trading cost, their lots "
                      "taken least tax first; not proven optimal after tax")
    sold = pd.Series(-result.trades["shares_traded"].to_numpy(dtype=float), index=result.trades["symbol"])
    return with_lots(result, lots, weight, rates, split=most_carried(lots, greedy_sale(lots, sold), rates))


def _run_netted(request: LiquidationRequest, plan: _Plan, lots: pd.DataFrame, rates: TaxRates,
                weight: float) -> LiquidationResult:
    """US netting: the conic program once per region of (short-term, long-term) net gains
    (``model.tax.tax_regions``), each convex with the tax linear in it; the least objective of all is the
    global optimum. An empty region is skipped (the solver's certificate); when every region is empty the
    limits themselves are impossible, and the linear model's solve says why."""
    assert plan.lot_sale is not None
    names, value, linear = plan.lot_sale
    price = request.portfolio.array("price")[names]
    best: tuple[float, Candidate, np.ndarray, str, float] | None = None
    proven = True  # every region's optimum proven (an inaccurate one may hide a lower objective)
    failure: SolverFailure | None = None
    for region in tax_regions(lots, rates):
        plan.lot_sale, plan.lot_rows = (names, value, weight * region.per_dollar), region.rows
        try:
            found = plan.run()
        except EmptyRegion:
            plan.trail.record("netting", "declined", f"region '{region.name}' holds no trade list within the limits")
            continue
        except SolverFailure as exc:  # neither an answer nor a proof there: what the others find is not proven least
            failure, proven = exc, False
            plan.trail.record("netting", "failed", f"region '{region.name}': no solver answer nor proof ({exc})")
            continue
        shares = np.minimum(np.maximum(np.asarray(plan.lot_split, dtype=float), 0.0) / price, lots["shares"].to_numpy())
        paid = realized_tax(lots, shares, rates)
        objective = plan.cost(found.u) + weight * paid["tax_usd"]
        proven = proven and found.lower_bound is None
        plan.trail.record("netting", "candidate", f"region '{region.name}': trading cost + tax ${objective:,.0f}")
        carried = paid["carryforward_usd"]
        tied = best is not None and abs(objective - best[0]) <= 1e-9 * max(1.0, abs(objective))
        if best is None or (objective < best[0] and not tied) or (tied and carried > best[4]):
            best = (objective, found, shares, region.name, carried)  # a tie: the larger loss carried forward
    if best is None and failure is not None:
        raise failure
    if best is None:
        plan.lot_sale, plan.lot_rows = (names, value, linear), ()
        plan.run()  # raises: no region holds a trade list, so the limits alone are impossible
        raise SolverFailure("every region of US netting was proven empty, but the limits are not",
                            plan.trail.solver_attempts)
    objective, found, shares, name, _ = best
    shares = most_carried(lots, shares, rates)
    plan.trail.record("netting", "accepted", f"region '{name}' is the least of the regions' optima")
    lower = None if proven else float("nan")
    result = finished_result(request, found.u, found.marginal, lower, found.path, plan.trail, plan.bounds)
    return with_lots(result, lots, weight, rates, split=shares)


class EmptyRegion(Exception):
    """A region of US netting holds no trade list within the limits (the solver's certificate)."""


@dataclass
class Candidate:
    """A verified answer of one stage: trades u (fraction of ADV), marginal cost (bps), lower bound (USD)."""

    u: np.ndarray
    marginal: float
    lower_bound: float | None  # None: the answer is the global optimum; NaN: nothing is proven
    path: str


@dataclass(frozen=True)
class Declined:
    """A stage that returned no verified answer: its name, what the trail recorded (``outcome``: "failed"
    or "timeout") and why, in words. The plan goes on to its next stage."""

    stage: str
    outcome: str
    reason: str


class _Plan:
    def __init__(self, request: LiquidationRequest, trail: Trail, method: str, start: float | None = None):
        self.request, self.trail, self.method = request, trail, method
        self.start = start if start is not None and np.isfinite(start) and start != 0 else None
        self.budget = trail.budget
        p = request.portfolio
        self.shares, self.adv, self.price = p.array("shares"), p.array("adv"), p.array("price")
        self.costs: TradeCosts = request.costs()
        self.bounds: TradeBounds = trade_bounds(p, request.cash, self.costs, request.allow_buys)
        self.caps_bind = False  # a cost cap binds the least all-in cost: the conic program takes over
        self.lot_sale: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # tax lots: the conic program
        self.lot_rows: tuple[np.ndarray, ...] = ()  # a region of US netting: rows on the lots' proceeds
        self.lot_split: np.ndarray | None = None  # the conic answer's proceeds per lot (USD)
        self.cuts: tuple[np.ndarray, np.ndarray] | None = None  # group limits as the dual engine's linear cuts
        self.cut_moves: np.ndarray | None = None  # each cut's move of the marginal cost (``limits.group_cuts``)
        self.tracking_cap: float | None = None  # a tracking error as the dual engine's quadratic row (no band)

    # ---- helpers ----------------------------------------------------------------------------
    def worst(self, u: np.ndarray, floor: bool = True, cap: bool = True) -> tuple[float, str]:
        found = self.request.check(self.shares - u * self.adv, floor=floor, cap=cap, traded=-u * self.adv)
        key = max(found, key=lambda name: found[name])
        return found[key], key

    def cost(self, u: np.ndarray) -> float:
        """The objective (USD): impact plus the linear costs."""
        return float(self.costs.cost_usd(u).sum())

    def impact(self, u: np.ndarray) -> float:
        """Market impact alone (USD): what ``max_total_mi_bps`` caps."""
        return float(self.costs.impact_usd(u).sum())

    def cap_excess(self, u: np.ndarray) -> list[tuple[type[TotalImpactCap], float, float]]:
        """The caps ``u`` exceeds (beyond their proof tolerance): (cap class, cap in bps, cost in bps)."""
        cash, limits = self.request.cash, self.request.limits
        found: list[tuple[type[TotalImpactCap], float, float]] = []
        for kind, cap, cost in ((TotalImpactCap, limits.max_total_mi_bps, self.impact),
                                (TotalCostCap, limits.max_total_cost_bps, self.cost)):
            if cap is not None and kind(cap).exceeded(cost(u), cash):
                found.append((kind, cap, cost(u) / cash * 1e4))
        return found

    def band_misses(self, u: np.ndarray) -> tuple[float, float]:
        """(floor shortfall, ceiling excess) of post-trade risk, as fractions of today's risk."""
        band = self.request.risk_band
        if band is None:
            return 0.0, 0.0
        p = self.request.portfolio
        net, today = p.net_value_usd, self.sigma_today
        after = p.risk().sigma((self.shares - u * self.adv) * self.price / (net - self.request.cash))
        return -risk_excess(band[0], today, after), risk_excess(band[1], today, after)

    def impossible(self, stage: str, reason: str, *figures: float, known: tuple[dict, dict] | None = None,
                   conflicts: dict[str, float] | None = None):
        """The exception proving the request impossible; ``figures``: the numbers the proof rests on;
        ``known``: (blocking, units) when the proof itself says which limit blocks;
        ``conflicts``: the conflicting per-name limit groups the reason names (``explain.infeasible``).
        A figure that is not finite is no proof: the stage failed (``SolverFailure``)."""
        if not all(np.isfinite(figure) for figure in figures):
            self.trail.record(stage, "failed", f"a non-finite figure where a proof was expected: {reason}")
            return SolverFailure(f"the {stage} stage computed a non-finite bound; no proof of infeasibility "
                                 "(please report this book)", self.trail.solver_attempts)
        self.trail.record(stage, "proof", reason)
        return infeasible(self.request, reason, self.budget, known, conflicts)

    def decline(self, stage: str, outcome: str, reason: str, iterations: int = 0) -> Declined:
        """Record a stage that found no verified answer, and say so as a value."""
        self.trail.record(stage, outcome, reason, iterations)
        return Declined(stage, outcome, reason)

    def timeout(self, stage: str, detail: str = "") -> SolverTimeout:
        self.trail.record(stage, "timeout", detail or "the time budget ran out")
        skipped = [s for s in self.trail.stages if s.outcome == "timeout" and s.detail.startswith("skipped for time")]
        why = f" (the {skipped[-1].name} stage was {skipped[-1].detail})" if skipped else ""
        return SolverTimeout(f"the time budget ({self.budget.limit:g} s) ran out in the {stage} stage "
                             f"before any verified trade list was found{why}; raise time_limit", stage)

    @property
    def band(self) -> tuple[float, float]:
        """The risk band, for the stages that run only when the request has one."""
        band = self.request.risk_band
        if band is None:
            raise AssertionError("a risk-band stage ran on a request without a risk band")
        return band

    @cached_property
    def sigma_today(self) -> float:
        """Today's annualized risk (of the weights), computed once per call."""
        p = self.request.portfolio
        return p.risk().sigma(p.position_usd / p.net_value_usd)

    @cached_property
    def dual_solver(self) -> DualSolver:
        """One dual solver per call: the ceiling, its reach and the floor share it (and its warm start). Without a
        risk band (group cuts alone) it has no ceiling and no risk rows."""
        p, cash = self.request.portfolio, self.request.cash
        if self.tracking_cap is not None:  # sigma(y p - w (V - L)) <= cap (V - L): a ceiling on the active positions
            left = p.net_value_usd - cash
            active = p.position_usd - p.position_usd / p.net_value_usd * left
            return DualSolver(self.costs, self.bounds, cash, p.risk(), active, self.tracking_cap * left, left)
        if self.request.risk_band is None:
            return DualSolver(self.costs, self.bounds, cash, None, p.position_usd)
        ceiling = self.band[1] * self.sigma_today * (p.net_value_usd - cash)
        return DualSolver(self.costs, self.bounds, cash, p.risk(), p.position_usd, ceiling)

    # ---- the plan -----------------------------------------------------------------------------
    def run(self) -> Candidate:
        request, p = self.request, self.request.portfolio
        cash = request.cash
        self.trail.begin()
        if cash >= p.net_value_usd:
            self.trail.record("request", "proof", "the cash target is not below the book's net value")
            raise beyond_the_book(cash, p.net_value_usd)
        relaxed = self.separable()
        if self.lot_sale is not None:  # the separable and dual engines do not know the tax
            found = self.ceiling_by_conic(relaxed)
            self.trail.promote()
            return found
        if request.limits.has_shape_limits and self.method == "auto":
            # the separable search and the dual engine know no group, tracking-error or liquidity rows: their
            # answer stands only when it meets them (then it is the optimum of a relaxation that is feasible),
            # else every coupled stage is the conic program's
            worst, key = self.worst(relaxed.u, floor=False, cap=False)
            if worst > ACCEPT_VIOLATION:
                broken = f"the least-cost answer without the {shaped_words(request.limits)} breaks " \
                         f"{LABELS.get(key, key)} by {worst:.2g}"
                self.shape_rows()
                if self.dual_rows:
                    rows = " and ".join(words for words, there in (
                        ("the group rows as linear cuts", self.cuts is not None),
                        ("the tracking error as its quadratic row", self.tracking_cap is not None)) if there)
                    self.trail.record("shape", "declined", f"{broken}: the dual engine solves with {rows}")
                else:
                    self.trail.record("shape", "declined", f"{broken}: the conic program solves with them")
                    self.method = "conic"
        if (relaxed.path == "separable" and self.method == "auto" and not self.dual_rows
                and max(self.band_misses(relaxed.u)) <= BAND_TOLERANCE):
            self.trail.promote()
            return relaxed
        shortfall, excess = self.band_misses(relaxed.u)
        if excess > BAND_TOLERANCE or self.method == "conic" or self.caps_bind or self.dual_rows:
            relaxed = self.ceiling(relaxed)
        if not request.has_floor or self.band_misses(relaxed.u)[0] <= BAND_TOLERANCE:
            self.trail.promote()
            return relaxed
        return self.floor(relaxed)

    def separable(self) -> Candidate:
        request, cash = self.request, self.request.cash
        fast = solve_separable(self.costs, self.bounds, cash, start=self.start)
        if fast is None:
            low, high = reachable(self.costs, self.bounds)
            figures = () if self.bounds.conflicting.any() else (low,) if low > cash else (high,)
            raise self.impossible("separable", _out_of_reach(request.portfolio, self.bounds, (low, high), cash),
                                  *figures, conflicts=_conflict_gaps(self.bounds, self.costs.dollar_adv))
        least = self.cost(fast.u)
        cap = request.max_total_mi_bps
        impact_least = least
        if cap is not None and self.costs.has_linear:  # the least impact, not the least all-in cost
            alone = solve_separable(self.costs.impact_only(), self.bounds, cash)
            impact_least = float(self.costs.impact_usd(alone.u).sum()) if alone is not None else least
        if cap is not None and TotalImpactCap(cap).exceeded(impact_least, cash):
            give = impact_least / cash * 1e4 - cap  # the cap must rise at least to the least impact (without a band)
            shown = round_up(impact_least / cash * 1e4, 3)  # the figure the cap must reach, as the table shows it
            raise self.impossible("separable", f"the least possible impact is {shown:.3f} bps, "
                                               f"above max_total_mi_bps={cap}", impact_least,
                                  known=({TotalImpactCap.key: give}, {TotalImpactCap.key: TotalImpactCap.unit}))
        total_cap = request.limits.max_total_cost_bps
        if total_cap is not None and TotalCostCap(total_cap).exceeded(least, cash):
            give = least / cash * 1e4 - total_cap
            figure = round_up(least / cash * 1e4, 3)
            raise self.impossible("separable", f"the least possible all-in trading cost is {figure:.3f} bps, "
                                               f"above max_total_cost_bps={total_cap}", least,
                                  known=({TotalCostCap.key: give}, {TotalCostCap.key: TotalCostCap.unit}))
        binding = self.cap_excess(fast.u)
        if binding:  # the least all-in cost breaks a cap each could meet alone: the caps couple the names
            self.caps_bind = True
            self.trail.record("separable", "declined", "the least all-in cost breaks "
                              + ", ".join(f"{kind.label} ({cost:.3f} > {bps:g} bps)" for kind, bps, cost in binding)
                              + f"; {fast.evaluations} multiplier evaluations", fast.evaluations)
            return Candidate(fast.u, fast.marginal_cost_bps, None, "separable-relaxation")
        shortfall, excess = self.band_misses(fast.u)  # the answer itself is checked once, when it is returned
        note = f"{fast.evaluations} multiplier evaluations"
        if excess > BAND_TOLERANCE:
            self.trail.record("separable", "declined", f"breaks the risk ceiling by {excess:.2%} of today's risk; {note}",
                              fast.evaluations)
        elif shortfall > BAND_TOLERANCE:
            self.trail.record("separable", "candidate", f"meets every convex limit but breaks the risk floor by "
                                                        f"{shortfall:.2%} of today's risk; {note}", fast.evaluations)
        else:
            self.trail.record("separable", "candidate", note, fast.evaluations)
        marginal = _separable_marginal(request.portfolio, self.costs, self.bounds, fast.u, fast.marginal_cost_bps)
        return Candidate(fast.u, marginal, None, "separable")

    def ceiling(self, start: Candidate) -> Candidate:
        """The convex problem with the risk ceiling (no floor): dual solver, else a proof that the
        ceiling is out of reach, else the conic program (at once when a cost cap binds: the dual solver
        does not know the caps)."""
        if self.method == "auto" and not self.caps_bind:
            found = self.ceiling_by_dual(start)
            if isinstance(found, Candidate):
                return found
            if not self.dual_rows:  # with shape rows the conic program proves or solves (it names the limit)
                self.ceiling_reach(start)
        return self.ceiling_by_conic(start)

    @property
    def dual_rows(self) -> bool:
        """Whether shape limits ride in the dual engine (group cuts, a tracking error's quadratic row)."""
        return self.cuts is not None or self.tracking_cap is not None

    def shape_rows(self) -> None:
        """The shape limits the dual engine takes: group limits as linear cuts (``limits.group_cuts``) and, without a
        risk band, a tracking error as its quadratic row (on the active positions). Nothing is set (the conic
        program then solves) with a liquidity floor, a risk floor, lots or a cost cap, or a tracking error beside a
        risk band (two quadratic rows)."""
        from krg_liquidity.solve.limits import group_cuts, shape_limits

        request, p = self.request, self.request.portfolio
        limits = request.limits
        if (limits.has_floor or self.lot_sale is not None or limits.max_total_mi_bps is not None
                or limits.max_total_cost_bps is not None or limits.min_liquid_fraction is not None
                or (limits.max_tracking_error is not None and limits.risk_band is not None)):
            return
        found = group_cuts(shape_limits(p, limits), p.position_usd, p.net_value_usd, request.cash)
        if found is None:
            return
        if len(found[1]):
            self.cuts, self.cut_moves = (found[0], found[1]), found[2]
        self.tracking_cap = limits.max_tracking_error

    def ceiling_reach(self, start: Candidate) -> None:
        """Raise the proof if no trade list within the per-name limits gets under the ceiling."""
        solver = self.dual_solver
        ceiling2 = solver.R2
        if ceiling2 is None:
            raise AssertionError("the ceiling's reach was asked of a solver without a ceiling")
        lowest2 = reach.risk_lower_bound(solver, start.u / solver.per_value, ceiling2, self.budget)
        if lowest2 > ceiling2:
            p, cash = self.request.portfolio, self.request.cash
            scale = self.sigma_today * (p.net_value_usd - cash) / cash
            least = np.sqrt(lowest2) / scale  # a multiple of today's risk: the ceiling must rise at least to it
            top = self.band[1]
            raise self.impossible("ceiling-reach", f"the risk ceiling cannot be met: no trade list within the "
                                                   f"per-name limits leaves less than {least:.4f}x "
                                                   f"today's risk (ceiling {top:g}x)", lowest2,
                                  known=({RiskCeiling.key: least - top}, {RiskCeiling.key: RiskCeiling.unit}))
        self.trail.record("ceiling-reach", "done", "the ceiling is within reach of the per-name limits")

    def ceiling_by_dual(self, start: Candidate) -> Candidate | Declined:
        solver = self.dual_solver
        try:
            point = solver.solve(start.marginal, self.cuts, self.budget, lazy=self.cuts is not None)
        except OutOfTime:
            raise self.timeout("dual") from None
        if point is None:
            return self.decline("dual", "failed", "dual Newton did not converge", solver.steps)
        worst, key = self.worst(point.u, floor=False, cap=False)
        if worst > ACCEPT_VIOLATION:
            return self.decline("dual", "failed", f"refused by the independent check: {key} off by {worst:.1e}",
                                solver.steps)
        self.check_cap(point.u, "dual")
        if self.cap_excess(point.u):  # the least all-in cost breaks the impact cap: the conic program holds it
            self.caps_bind = True
            return self.decline("dual", "declined", "the least all-in cost breaks the total impact cap", solver.steps)
        through = f" ({solver.cg_steps} conjugate-gradient steps through the names)" if solver.cg_steps else ""
        self.trail.record("dual", "candidate", f"{solver.steps} Newton steps{through}", solver.steps)
        return Candidate(point.u, self.dual_marginal(point, None), None, "dual")

    def conic_skip(self) -> str:
        """Why a conic stage is not started ("" when it is): the time left does not cover its setup
        (compiling and the solver's setup, outside the solver's own time limit). Otherwise cvxpy is
        loaded (the first time, off the clock)."""
        need, left = CONIC_SETUP_SECONDS_PER_NAME * len(self.shares), self.budget.left()
        if left <= need:
            return f"skipped for time: {left:.2f} s left, less than the {need:.2f} s the conic program takes to set up"
        self.trail.load("cvxpy")
        return ""

    def lot_separable(self) -> Candidate | None:
        """Tax lots and per-name limits alone: the multiplier search over each name's lots
        (``lot_search``); None (the conic program then) when it finds no answer the check accepts."""
        assert self.lot_sale is not None
        self.trail.begin()
        names, value, per_dollar = self.lot_sale
        steps = lot_steps(self.costs, names, value, per_dollar)
        found = solve_lot_sale(self.costs, self.bounds, steps, self.request.cash)
        if found is None:
            self.trail.record("separable", "declined", "the lots' multiplier search found no sale raising the cash")
            return None
        u, multiplier, evaluations = found
        worst, key = self.worst(u, floor=False)
        if worst > ACCEPT_VIOLATION:
            self.trail.record("separable", "declined", f"breaks {LABELS.get(key, key)} by {worst:.2g}; "
                                                       f"{evaluations} multiplier evaluations", evaluations)
            return None
        self.trail.record("separable", "accepted", f"the lots' multiplier search: {evaluations} evaluations",
                          evaluations)
        marginal = _separable_marginal(self.request.portfolio, self.costs, self.bounds, u, multiplier,
                                       extra_bps=tax_slope(steps, u))
        return Candidate(u, marginal, None, "separable")

    def ceiling_by_conic(self, relaxed: Candidate) -> Candidate:
        skip = self.conic_skip()
        if skip:
            raise self.timeout("conic", skip)
        from krg_liquidity.solve import conic
        from krg_liquidity.solve.limits import applying

        request, p = self.request, self.request.portfolio
        limits = applying(p, request.limits, floor=False)
        left = p.net_value_usd - request.cash
        # near the whole book, scaled by the value left first (its weights and risk are O(1) then)
        for scale in ((left, request.cash) if left < request.cash else (request.cash,)):
            program = conic.build(p, self.costs, limits, cash=request.cash, cost_hint_usd=self.cost(relaxed.u),
                                  scale_usd=scale, lot_sale=self.lot_sale, lot_rows=self.lot_rows)
            status = conic.solve(program, lambda u: self.worst(u, floor=False)[0], self.budget)
            self.trail.solver_attempts += [a.to_dict() for a in program.attempts]
            if status in ("optimal", "optimal_inaccurate", "timeout"):
                break  # an "infeasible" stands as a proof only from the cash-scaled program, the last one
        if status == "infeasible" and self.lot_rows:
            raise EmptyRegion()
        if status == "infeasible":
            coupled = [words for words in ("the risk ceiling" if request.risk_band is not None else "",
                                           f"the {shaped_words(request.limits)}" if request.limits.has_shape_limits
                                           else "",
                                           "the cost caps" if (request.limits.max_total_mi_bps is not None
                                                               or request.limits.max_total_cost_bps is not None)
                                           else "") if words]
            raise self.impossible("conic", f"no trade list meets {' and '.join(coupled) or 'the coupled limits'} "
                                           "together with the other limits (the solver's certificate of infeasibility)")
        if status == "timeout":
            raise self.timeout("conic", program.skipped)
        if status not in ("optimal", "optimal_inaccurate"):
            self.trail.record("conic", "failed", f"no solver attempt was accepted (last: {status})")
            raise SolverFailure(f"the conic solve failed ({status}) on every solver", self.trail.solver_attempts)
        u = np.asarray(program.u.value, dtype=float)
        if program.lot_sold is not None and self.lot_sale is not None:
            self.lot_split = np.asarray(program.lot_sold.value, dtype=float) * program.unit[self.lot_sale[0]]
        self.check_cap(u, "conic")
        if status == "optimal_inaccurate":  # the solver stopped short of its tolerances: its point proves nothing
            self.trail.record("conic", "candidate", f"{len(program.attempts)} solver attempt(s), optimal_inaccurate: "
                                                    "every limit holds, no gap is proven")
            return Candidate(u, conic.cash_multiplier(program), float("nan"), "conic")
        self.trail.record("conic", "candidate", f"{len(program.attempts)} solver attempt(s), {status}")
        return Candidate(u, conic.cash_multiplier(program), None, "conic")

    def check_cap(self, u: np.ndarray, stage: str) -> None:
        """The optimum of a relaxation costs more than the cap: nothing within the limits costs less."""
        if stage == "conic" and (self.caps_bind or self.costs.has_linear or self.lot_sale is not None):
            return  # the conic program holds the caps as rows: an answer meets them (an infeasible one is proven)
        for kind, cap, least in self.cap_excess(u):  # the cap must rise at least to it (exactly, without a floor)
            if kind is TotalImpactCap and self.costs.has_linear:  # u is the least all-in cost, not the least impact
                continue
            what = "impact" if kind is TotalImpactCap else "all-in trading cost"
            raise self.impossible(stage, f"the least {what} within the risk ceiling and the other limits is "
                                         f"{round_up(least, 3):.3f} bps, above {kind.label.split('(')[1][:-1]}={cap}",
                                  least, known=({kind.key: least - cap}, {kind.key: kind.unit}))

    def floor(self, relaxed: Candidate) -> Candidate:
        """The risk floor: proof, feasible start, convex-concave steps, certificate."""
        p, cash = self.request.portfolio, self.request.cash
        solver = self.dual_solver
        sigma0 = self.sigma_today
        post = (p.net_value_usd - cash) / cash
        level = self.band[0] * sigma0 * post
        risk_times = p.risk().covariance_times
        highest = reach.risk_upper_bound(solver, self.budget)
        if highest < level * (1 - 1e-9):
            reason = (f"the risk floor cannot be met: no trade list within the per-name limits leaves more than "
                      f"{highest / (sigma0 * post):.4f}x today's risk (floor {self.band[0]:g}x)")
            if not np.isfinite(highest):
                raise self.impossible("floor", reason, highest)
            self.trail.record("floor", "proof", reason)  # explained from the proof: no re-solve
            raise floor_out_of_reach(self.request, reason, highest / (sigma0 * post), self.cost(relaxed.u))
        if self.budget.expired():  # the bound may have been cut short (inf): nothing is proven either way
            raise self.timeout("floor")
        relaxed_cost = self.cost(relaxed.u)
        best: Candidate | Declined = Declined("floor", "failed", "not tried")
        self.highest_found: float | None = None
        self.floor_point: DualPoint | None = None
        self.verified_start: Candidate | None = None  # a start meeting every limit (floor_by_dual)
        if self.method == "auto":
            best = self.floor_by_dual(solver, relaxed, level, risk_times)
        if isinstance(best, Declined) and not self.budget.expired():
            best = self.floor_by_conic(relaxed)  # what engine="conic" would try, before giving up
        if isinstance(best, Declined) and self.verified_start is not None:
            self.trail.record("floor", "candidate", "neither the convex-concave steps nor the conic steps settled: "
                                                    "the verified start is returned, with its gap")
            best = self.verified_start
        if isinstance(best, Declined):
            if self.budget.expired() or self.trail.ran_out():
                raise self.timeout("floor")
            seen = ""
            if self.highest_found is not None and np.isfinite(self.highest_found):
                found = self.highest_found / (sigma0 * post)
                seen = f" The highest risk found within the other limits is {found:.4f}x today's"
                seen += (f"; no trade list can leave more than {highest / (sigma0 * post):.4f}x (proven)."
                         if np.isfinite(highest) else ".")
            self.trail.record("floor", "failed", "no point meeting the floor was found")
            raise NoFeasiblePointFound(
                "no trade list meeting the risk floor was found. The floor is not convex and this search is "
                "local, so this is not a proof that none exists; widen the risk band or lower the cash target."
                + seen)
        cost = self.cost(best.u)
        bound = relaxed_cost
        certified = None
        if best.path == "dual+convex-concave" and self.floor_point is not None and not self.budget.expired():
            certified = floor_lower_bound(solver, self.floor_point, level, self.trail, self.budget)
        if certified is not None:
            bound = max(bound, certified)
        for kind, cap, found in self.cap_excess(best.u):
            name = kind.label.split("(")[1][:-1]
            # the bound is on the all-in cost: a proof for the all-in cap, or for either cap without linear costs
            if (kind is TotalCostCap or not self.costs.has_linear) and kind(cap).exceeded(bound, cash):
                raise self.impossible("certificate", f"no trade list meeting the risk floor costs less than "
                                                     f"{bound / cash * 1e4:.2f} bps, above {name}={cap}", bound)
            raise NoFeasiblePointFound(
                f"the trade list found for the risk floor costs {found:.2f} bps, above "
                f"{name}={cap}, and a cheaper one could not be ruled out (the search is local)")
        self.trail.promote()
        return Candidate(best.u, best.marginal, min(bound, cost), best.path)

    def floor_by_dual(self, solver: DualSolver, relaxed: Candidate, level: float,
                      risk_times) -> Candidate | Declined:
        v0 = relaxed.u / solver.per_value
        start, highest = floor_search.reach_floor(solver, v0, level, risk_times, self.budget)
        if start is None:
            self.highest_found = highest
            return self.decline("floor-start", "failed", "the local ascents of the risk stalled below the floor")
        start_u = start * solver.per_value
        start_ok = self.worst(start_u, cap=False)[0] <= ACCEPT_VIOLATION  # a verified answer if the steps fail
        if start_ok:
            self.verified_start = Candidate(start_u, float("nan"), None, "dual+convex-concave")
        self.trail.record("floor-start", "done", "a point meeting the floor was found"
                          + (" and every other limit" if start_ok else ""))

        def accept(point: DualPoint) -> bool:
            return self.worst(point.u, cap=False)[0] <= ACCEPT_VIOLATION

        try:
            steps = floor_search.convex_concave(solver, start, level, risk_times, relaxed.marginal, self.budget,
                                                accept)
        except OutOfTime:
            steps = floor_search.FloorSteps(None, 0, "the time budget ran out")
        if steps.point is None and self.verified_start is not None and self.budget.expired():
            self.trail.record("convex-concave", "candidate", "the time budget ran out: the verified start is "
                                                             "returned, with its gap", steps.steps)
            return self.verified_start
        if steps.point is None:
            return self.decline("convex-concave", "failed", steps.reason, steps.steps)
        self.trail.record("convex-concave", "candidate", steps.reason or f"settled after {steps.steps} steps",
                          steps.steps)
        self.floor_point = steps.point
        found = Candidate(steps.point.u, self.dual_marginal(steps.point, level), None, "dual+convex-concave")
        if steps.reason and not self.budget.expired():  # stopped before settling: the conic steps go on from here
            further = self.floor_by_conic(found)
            if isinstance(further, Candidate) and self.cost(further.u) < self.cost(found.u):
                return further
        return found

    def floor_by_conic(self, relaxed: Candidate) -> Candidate | Declined:
        skip = self.conic_skip()
        if skip:
            return self.decline("conic-convex-concave", "timeout", skip)
        from krg_liquidity.solve import conic
        from krg_liquidity.solve.limits import applying

        request, p = self.request, self.request.portfolio
        limits = applying(p, request.limits, cap=False)
        program = conic.build(p, self.costs, limits, cash=request.cash, cost_hint_usd=self.cost(relaxed.u),
                              scale_usd=min(request.cash, p.net_value_usd - request.cash))
        u, steps, reason = conic.convex_concave(
            program, lambda x: (self.shares - x * self.adv) * self.price, p.risk(),
            lambda x: self.worst(x, cap=False)[0], relaxed.u, self.budget)
        self.trail.solver_attempts += [a.to_dict() for a in program.attempts]
        if u is None:
            return self.decline("conic-convex-concave", "timeout" if program.skipped or self.budget.expired() else
                                "failed", reason or "no feasible point", steps)
        self.trail.record("conic-convex-concave", "candidate", reason or f"settled after {steps} steps", steps)
        return Candidate(np.asarray(u, dtype=float), conic.cash_multiplier(program), None, "conic+convex-concave")

    def dual_marginal(self, point: DualPoint, floor_level: float | None) -> float:
        """d(cost)/d(cash) in bps: the cash multiplier plus the moves of the band and weight bounds with L."""
        p, cash = self.request.portfolio, self.request.cash
        marginal = point.cash_multiplier
        if self.request.risk_band is not None:
            band = self.band
            sigma0 = self.sigma_today
            post = (p.net_value_usd - cash) / cash
            marginal += 2.0 * point.risk_multiplier * (band[1] * sigma0 * post) * band[1] * sigma0
            if floor_level is not None and point.cut_multipliers.size:
                marginal -= float(point.cut_multipliers.sum()) * band[0] * sigma0
        if self.cut_moves is not None and floor_level is None:  # the group rows move with the cash too
            marginal += float(point.cut_multipliers @ self.cut_moves)
        if self.tracking_cap is not None and point.risk_multiplier > 0:
            # the row |active|^2 <= (cap (V - L))^2 moves with the cash twice: its center w (V - L) and its bound
            # (USD Lagrangian differentiated in L, then in the dual's units: v = USD / S, mu per S^2)
            w = p.position_usd / p.net_value_usd
            post = (p.net_value_usd - cash) / cash
            active = (p.position_usd - w * (p.net_value_usd - cash)) / cash - point.v
            risk = p.risk()
            covariance_times = risk.top.T @ (risk.top @ active) + (0.0 if risk.diag is None else risk.diag**2 * active)
            marginal += 2.0 * point.risk_multiplier * (float(w @ covariance_times) + self.tracking_cap**2 * post)
        at_high = (self.bounds.hi_group == "weight") & (point.slack_high > 0)
        at_low = (self.bounds.lo_group == "weight") & (point.slack_low > 0)
        if at_high.any():
            marginal -= float(np.sum(point.slack_high[at_high] * p.array("lb_wt")[at_high]))
        if at_low.any():
            marginal += float(np.sum(point.slack_low[at_low] * p.array("ub_wt")[at_low]))
        return float(marginal)


def _out_of_reach(portfolio: Portfolio, bounds: TradeBounds, reach: tuple[float, float], cash: float) -> str:
    if bounds.conflicting.any():
        where = np.flatnonzero(bounds.conflicting)
        pairs = [f"{portfolio.symbols[i]} ({bounds.lo_group[i].replace('_', ' ')} vs "
                 f"{bounds.hi_group[i].replace('_', ' ')})" for i in where[:8]]
        more = f" and {len(where) - 8} more" if len(where) > 8 else ""
        return (f"at this target the limits of {', '.join(pairs)}{more} cannot all hold (the weight bounds move "
                "with the cash raised)")
    moving = " (more at a larger one: the weight bounds move with the cash raised)" if "weight" in bounds.groups else ""
    if reach[0] > cash:
        return f"at a ${cash:,.0f} target the per-name limits force trades raising at least ${reach[0]:,.0f}" + moving
    moving = " (less at a smaller one: the weight bounds move with the cash raised)" if moving else ""
    return f"at a ${cash:,.0f} target the per-name limits let the names raise at most ${reach[1]:,.0f}" + moving


def _conflict_gaps(bounds: TradeBounds, dollar_adv: np.ndarray) -> dict[str, float]:
    """Per limit group in a conflict, the largest gap (USD, on one name) between its side of the interval and
    the other side: how far it alone would have to give to settle its conflicts."""
    where = np.flatnonzero(bounds.conflicting)
    gaps: dict[str, float] = {}
    for i in where:
        gap = float((bounds.lo[i] - bounds.hi[i]) * dollar_adv[i])
        for group in (bounds.lo_group[i], bounds.hi_group[i]):
            gaps[str(group)] = max(gaps.get(str(group), 0.0), gap)
    return gaps


def _separable_marginal(portfolio: Portfolio, costs: TradeCosts, bounds: TradeBounds, u: np.ndarray,
                        multiplier: float, extra_bps: np.ndarray | None = None) -> float:
    """d(least cost)/d(cash) in bps: the multiplier, corrected for weight bounds that move with the cash.

    A name held at a weight bound w must sell w more dollars for each extra dollar raised
    (its bound is w (V - L)) at its own marginal cost (plus ``extra_bps``: the tax on its next dollar, with
    lots); the free names supply the rest at the multiplier.
    """
    from krg_liquidity.solve.result import binding_labels

    labels = binding_labels(u, bounds.lo, bounds.hi, bounds.lo_group, bounds.hi_group)
    at_hi, at_lo = (labels == "weight") & (u == bounds.hi), (labels == "weight") & (u == bounds.lo)
    if not (at_hi.any() or at_lo.any()):
        return multiplier
    moves = np.zeros(len(u))
    if at_hi.any():
        moves[at_hi] = portfolio.array("lb_wt")[at_hi]
    if at_lo.any():
        moves[at_lo] = portfolio.array("ub_wt")[at_lo]
    own = np.sign(u) * costs.marginal_bps(u) + (0.0 if extra_bps is None else extra_bps)
    return float(multiplier + np.sum(moves * (own - multiplier)))
