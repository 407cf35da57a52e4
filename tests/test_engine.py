"""The solve engine's parts, each against an independent check: inversions, the separable search,
the dual solver, the floor's proof and certificate, the acceptance check, statuses and the time budget."""

import numpy as np
import pandas as pd
import pytest
from books import small_book
from budget_records import TickClock, counted_seconds
from checks import assert_feasible
from hypothesis import given, settings
from hypothesis import strategies as st

from krg_liquidity import (
    InfeasibleLiquidation,
    NoFeasiblePointFound,
    Portfolio,
    SolverTimeout,
    frontier,
    liquidate,
    load_example,
    synthetic_universe,
)
from krg_liquidity.core.plan import Budget, Trail
from krg_liquidity.model.params import KISSELL_2013_ALL_DATA
from krg_liquidity.model.trade_costs import TradeCosts
from krg_liquidity.solve import optimize as optimize_module
from krg_liquidity.solve.bounds import trade_bounds
from krg_liquidity.solve.reach import knapsack_min
from krg_liquidity.solve.request import Limits, capacity_request, liquidation_request
from krg_liquidity.solve.separable import solve_separable
from krg_liquidity.solve.verify import violations
from krg_liquidity.whatif.baseline import slsqp_liquidate


@pytest.fixture(scope="module")
def example():
    holdings, covariance = load_example()
    return holdings, covariance, Portfolio(holdings, covariance)


def costs_for(n, seed, fixed_pov=False):
    rng = np.random.default_rng(seed)
    pov = np.where(rng.uniform(size=n) < 0.5, rng.uniform(0.05, 0.5, n), np.nan) if fixed_pov else np.full(n, np.nan)
    return TradeCosts(KISSELL_2013_ALL_DATA, rng.uniform(0.1, 0.6, n), rng.uniform(5, 500, n),
                      rng.uniform(1e6, 1e10, n), rng.uniform(0.1, 5.0, n), pov)


# ---- trade-cost inversions ----------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), log_z=st.floats(-12, 3))
def test_marginal_inversion_round_trip(seed, log_z):
    costs = costs_for(16, seed, fixed_pov=seed % 2 == 0)
    z = np.full(16, np.exp(log_z))
    back = costs.z_at_marginal(costs.marginal_bps(z))
    np.testing.assert_allclose(back, z, rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), log_z=st.floats(-12, 3))
def test_impact_cap_inversion_round_trip(seed, log_z):
    costs = costs_for(16, seed, fixed_pov=seed % 2 == 1)
    z = np.full(16, np.exp(log_z))
    np.testing.assert_allclose(costs.z_at_mi(costs.mi_bps(z)), z, rtol=1e-9)


def test_marginal_is_the_derivative_of_cost():
    costs = costs_for(12, 3, fixed_pov=True)
    z, h = np.full(12, 0.07), 1e-7
    numeric = (costs.cost_usd(z + h) - costs.cost_usd(z - h)) / (2 * h) / costs.dollar_adv * 1e4
    np.testing.assert_allclose(costs.marginal_bps(z), numeric, rtol=1e-6)
    marginal, slope = costs.marginal_and_slope(z)
    np.testing.assert_allclose(marginal, costs.marginal_bps(z), rtol=1e-13)
    numeric_slope = (costs.marginal_bps(z + h) - costs.marginal_bps(z - h)) / (2 * h)
    np.testing.assert_allclose(slope, numeric_slope, rtol=1e-5)


# ---- the separable search ------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), fraction=st.floats(0.01, 0.9))
def test_separable_answer_meets_its_optimality_conditions(seed, fraction):
    holdings, _, _ = small_book(seed, n=20)
    book = Portfolio(holdings)
    request = capacity_request(book, limits=Limits())  # the costs only
    costs = request.costs()
    most = float(np.sum(costs.dollar_adv * trade_bounds(book, 0.0, costs, False).hi))
    cash = fraction * min(most, 0.5 * book.net_value_usd)
    bounds = trade_bounds(book, cash, costs, False)
    found = solve_separable(costs, bounds, cash)
    if found is None:  # the weight bounds move with the cash: out of reach is possible
        assert not (np.sum(costs.dollar_adv * bounds.lo) <= cash <= np.sum(costs.dollar_adv * bounds.hi))
        return
    u = found.u
    assert np.sum(costs.dollar_adv * u) == pytest.approx(cash, rel=1e-10)
    marginal = np.sign(u) * costs.marginal_bps(u)
    free = (u > bounds.lo + 1e-12) & (u < bounds.hi - 1e-12)
    np.testing.assert_allclose(marginal[free], found.marginal_cost_bps, rtol=1e-7)
    # a name stopped at its upper end would trade more at this multiplier, one at zero would not trade
    assert np.all(marginal[u >= bounds.hi - 1e-12] <= found.marginal_cost_bps * (1 + 1e-7))


def test_separable_warm_start_agrees():
    holdings, _, _ = small_book(5, n=50)
    book = Portfolio(holdings)
    cold = liquidate(book, 0.1 * book.net_value_usd)
    warm = liquidate(book, 0.1 * book.net_value_usd, warm_start=liquidate(book, 0.12 * book.net_value_usd))
    np.testing.assert_allclose(warm.trades["shares_traded"], cold.trades["shares_traded"], rtol=1e-9, atol=1e-6)


# ---- the dual solver against the conic program ----------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_floor_steps_agree_with_the_conic_program(seed):
    holdings, covariance, model = small_book(seed, n=[10, 25, 40, 60][seed], bounds=seed % 2 == 0)
    book = Portfolio(holdings, factor_model=model) if seed % 2 else Portfolio(holdings, covariance)
    cash = 0.15 * book.net_value_usd
    free = liquidate(book, cash)
    band = (free.risk_after / free.risk_before + 0.02, 10.0)
    ours = liquidate(book, cash, risk_band=band)
    conic = liquidate(book, cash, risk_band=band, engine="conic")
    assert ours.method == "dual+convex-concave"
    assert ours.cost_usd <= conic.cost_usd * (1 + 1e-6)
    assert ours.lower_bound_usd <= conic.cost_usd * (1 + 1e-9)
    assert_feasible(holdings, ours, cash, covariance=covariance, risk_band=band)


# ---- the floor: proof, certificate ----------------------------------------------------------------

def test_knapsack_is_the_lp_optimum():
    rng = np.random.default_rng(0)
    from scipy.optimize import linprog
    for _ in range(20):
        n = 12
        lo, c = rng.uniform(-1, 0, n), rng.normal(size=n)
        hi = lo + rng.uniform(0, 1, n)
        total = rng.uniform(lo.sum(), hi.sum())
        ours = knapsack_min(c, lo, hi, total)
        lp = linprog(c, A_eq=np.ones((1, n)), b_eq=[total], bounds=list(zip(lo, hi)))
        assert c @ ours == pytest.approx(lp.fun, abs=1e-9)
        assert ours.sum() == pytest.approx(total) and np.all(ours >= lo - 1e-12) and np.all(ours <= hi + 1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("band", [(1.6, 10.0), (1.02, 1.05)])
def test_unreachable_floor_is_proven_and_no_local_search_beats_the_proof(example, band):
    holdings, covariance, book = example
    with pytest.raises(InfeasibleLiquidation, match="risk floor cannot be met") as info:
        liquidate(book, 1e9, risk_band=band, time_limit=5.0)  # a slower proof would end as a timeout
    assert any(s["outcome"] == "proof" for s in info.value.stages)
    assert counted_seconds(info.value.stages) <= 5.0
    bound = float(str(info.value).split("more than ")[1].split("x")[0])
    # independent: maximize the risk with SLSQP from many starts; it never passes the proven bound
    c = covariance.to_numpy()
    s, p = holdings["Shares"].to_numpy(float), holdings["Price"].to_numpy(float)
    net = s @ p
    today = np.sqrt((s * p / net) @ c @ (s * p / net))
    rng = np.random.default_rng(1)
    for x0 in [None] + [rng.dirichlet(np.ones(len(s))) for _ in range(4)]:
        local = slsqp_liquidate(book, 1e9, risk_band=None, x0=x0, objective="usd")
        w = local["weights"]
        assert np.sqrt(w @ c @ w) / today <= bound * (1 + 1e-9)


def test_example_band_101_105_answers_fast_and_certified(example):
    holdings, covariance, book = example
    result = liquidate(book, 1e9, risk_band=(1.01, 1.05), time_limit=5.0)
    assert "timeout" not in [s["outcome"] for s in result.stages] and counted_seconds(result.stages) <= 5.0
    assert result.status in ("optimal", "feasible") and result.gap <= 1e-3
    assert_feasible(holdings, result, 1e9, covariance=covariance, risk_band=(1.01, 1.05))
    assert [s["stage"] for s in result.stages][:3] == ["risk-model", "separable", "floor-start"]


@pytest.mark.parametrize("seed", range(3))
def test_certified_bound_is_below_every_local_answer(seed):
    holdings, covariance, _ = small_book(seed + 10, n=8, bounds=False)
    book = Portfolio(holdings, covariance)
    cash = 0.2 * book.net_value_usd
    free = liquidate(book, cash)
    band = (free.risk_after / free.risk_before + 0.03, 10.0)
    ours = liquidate(book, cash, risk_band=band)
    assert ours.lower_bound_usd >= free.cost_usd * (1 - 1e-9)
    rng = np.random.default_rng(seed)
    for x0 in [None] + [rng.dirichlet(np.ones(len(holdings))) for _ in range(8)]:
        local = slsqp_liquidate(book, cash, risk_band=band, x0=x0)
        y = local["shares_after"]
        found = violations(book, y, cash, allow_buys=False, risk_band=band, max_total_mi_bps=None,
                           cost_model=ours_model())
        if max(found.values()) <= 1e-7:
            assert ours.lower_bound_usd <= local["cost_usd"] * (1 + 1e-7)


def ours_model():
    from krg_liquidity import CostModel
    return CostModel()


# ---- the acceptance check (the safety net; each limit on its own: test_verify.py) -----------------------

def test_a_dual_answer_that_fails_the_check_is_not_returned(example, monkeypatch):
    holdings, covariance, book = example
    free = liquidate(book, 1e9)
    band = (0.0, free.risk_after / free.risk_before - 0.004)
    original = optimize_module.DualSolver.solve

    def corrupted(self, *args, **kwargs):
        point = original(self, *args, **kwargs)
        if point is not None:
            object.__setattr__(point, "u", point.u * 1.01)  # 1% too much cash
        return point

    monkeypatch.setattr(optimize_module.DualSolver, "solve", corrupted)
    result = liquidate(book, 1e9, risk_band=band)
    assert result.method == "conic"
    assert [s["outcome"] for s in result.stages if s["stage"] == "dual"] == ["failed"]
    assert_feasible(holdings, result, 1e9, covariance=covariance, risk_band=band)


def test_verify_sees_weight_bounds():
    holdings = pd.DataFrame({"symbol": ["A", "B"], "shares": [100.0, 100.0], "price": [10.0, 10.0],
                             "adv": [1e4, 1e4], "volatility": [0.2, 0.2], "trade_time": [1.0, 1.0],
                             "lb_wt": [0.6, np.nan]})
    book = Portfolio(holdings)
    found = violations(book, np.array([20.0, 80.0]), 1000.0, allow_buys=False, risk_band=None,
                       max_total_mi_bps=None, cost_model=ours_model())
    assert found["weight"] == pytest.approx(0.6 - 0.2)
    assert found["cash"] == 0.0


# ---- statuses and failures as results ----------------------------------------------------------------

def test_failures_flow_as_results(example):
    book = example[2]
    result = liquidate(book, 6e9, raise_on_failure=False)
    assert result.status == "infeasible" and not result.success
    assert "cannot raise" in result.message and np.isnan(result.cost_usd)
    assert "infeasible" in result.summary() and result.to_json()  # prints and serializes
    assert (result.trades["shares_traded"] == 0).all()


def test_timeout_names_the_stage_and_keeps_the_budget(monkeypatch):
    holdings, model = synthetic_universe(3000, n_factors=10, seed=4)
    book = Portfolio(holdings, factor_model=model)
    cash = 0.1 * book.net_value_usd
    free = liquidate(book, cash)
    band = (0.0, free.risk_after / free.risk_before - 0.02)
    book.risk()  # factored before the fake clock: the risk-model stage is then one record
    limit, tick = 1.0, 0.1
    monkeypatch.setattr(Budget, "clock", staticmethod(TickClock(tick)))  # 0.95 s to solve: 9 reads
    result = liquidate(book, cash, risk_band=band, time_limit=limit, raise_on_failure=False)
    assert result.status == "timeout" and "raise time_limit" in result.message
    assert result.stages[-1]["outcome"] == "timeout"
    # each stage checks the budget: the call stops within a few reads of the clock once it is spent
    assert counted_seconds(result.stages) <= limit + 5 * tick
    with pytest.raises((SolverTimeout, ValueError)):
        liquidate(book, cash, risk_band=band, time_limit=0.0)


@pytest.mark.parametrize("speed, step", [((1.0, 0.0), "factor structure"), ((0.0, 1.0), "Cholesky factor")])
def test_factoring_that_cannot_fit_is_skipped_for_time_and_kept_once_done(monkeypatch, speed, step):
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)  # a full covariance of full rank: both steps run
    from krg_liquidity.book import risk as risk_module
    monkeypatch.setattr(risk_module, "factoring_speed", lambda: speed)  # 1 s per entry (n^2) or per n^3
    result = liquidate(book, 1e9, risk_band=(0.5, 2.0), time_limit=1.0, raise_on_failure=False)
    assert result.status == "timeout" and "factoring the risk model" in result.message
    assert "raise time_limit" in result.message and step in result.message
    assert [(s["stage"], s["outcome"]) for s in result.stages] == [("risk-model", "timeout")]
    assert result.stages[0]["detail"].startswith("skipped for time") and not book.risk_factored
    monkeypatch.undo()
    book.risk()  # factored once (no limit): a later call under the same tiny budget reuses it
    monkeypatch.setattr(risk_module, "factoring_speed", lambda: speed)
    again = liquidate(book, 1e9, risk_band=(0.5, 2.0), time_limit=1.0, raise_on_failure=False)
    assert again.stages[0]["outcome"] == "done" and "already" in again.stages[0]["detail"]
    assert again.status == "optimal"


def test_no_feasible_point_is_not_called_infeasible(monkeypatch, example):
    holdings, covariance, book = example
    from krg_liquidity.solve import floor as floor_module
    monkeypatch.setattr(floor_module, "reach_floor", lambda solver, v, *args: (None, 0.9))
    monkeypatch.setattr(optimize_module._Plan, "floor_by_conic", lambda self, relaxed: optimize_module.Declined("conic-convex-concave", "failed", "stubbed"))
    with pytest.raises(NoFeasiblePointFound, match="not a proof") as info:
        liquidate(book, 1e9, risk_band=(1.01, 1.05))
    assert "highest risk found" in str(info.value) and "(proven)" in str(info.value)
    result = liquidate(book, 1e9, risk_band=(1.01, 1.05), raise_on_failure=False)
    assert result.status == "no_feasible_point_found"


def test_frontier_keeps_going_and_marks_failures(example):
    book = example[2]
    table = frontier(book, [4e8, 6e9, 8e8], risk_band=(0.5, 2.0))
    assert list(table["status"]) == ["optimal", "infeasible", "optimal"]
    assert np.isnan(table["cost_usd"].iloc[1]) and "cannot raise" in table["message"].iloc[1]


def test_stages_record_the_path(example):
    book = example[2]
    free = liquidate(book, 1e9)
    assert [(s["stage"], s["outcome"]) for s in free.stages] == [("separable", "accepted")]
    ceiling = liquidate(book, 1e9, risk_band=(0.0, free.risk_after / free.risk_before - 0.004))
    assert [(s["stage"], s["outcome"]) for s in ceiling.stages] == [("risk-model", "done"), ("separable", "declined"),
                                                                    ("dual", "accepted")]
    assert all(s["seconds"] >= 0 for s in ceiling.stages)


# ---- one model of the limits: each limit's forms agree ------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_each_limit_interval_agrees_with_its_violation(seed):
    """A trade at a limit's interval end breaks nothing of that limit; one step beyond breaks it."""
    from krg_liquidity.solve.limits import NAME_LIMITS, Outcome
    from krg_liquidity.solve.verify import impact_table

    holdings, _, _ = small_book(seed, n=12, short_fraction=0.3)
    holdings["ub_wt"] = np.where((np.arange(12) % 4 == 0) & holdings["lb_wt"].isna(), 0.3, np.nan)
    holdings["ub_max_shares"] = np.where(np.arange(12) % 5 == 1, holdings["shares"].abs() * 1.5, np.nan)
    holdings["ub_max_value"] = np.where(np.arange(12) % 6 == 2, (holdings["shares"] * holdings["price"]).abs(), np.nan)
    book = Portfolio(holdings)
    if book.net_value_usd <= 0:
        pytest.skip("net-short draw")
    cash = 0.1 * book.net_value_usd
    costs = liquidation_request(book, cash, limits=Limits()).costs()
    shares, adv = book.array("shares"), book.array("adv")
    model = ours_model()
    checked = 0
    for limit in NAME_LIMITS:
        if not limit.applies(book, False):
            continue
        lo, hi = limit.interval(book, cash, costs)
        for i in range(12):
            for end, beyond in ((lo[i], -1e-3), (hi[i], 1e-3)):
                if not np.isfinite(end):
                    continue
                for step, broken in ((0.0, False), (beyond * max(1.0, abs(end)), True)):
                    u = np.zeros(12)
                    u[i] = end + step
                    after = shares - u * adv
                    outcome = Outcome(book, after, cash, impact_table(book, after - shares, model))
                    if limit.key == "weight":  # weights are measured on the value actually left
                        continue
                    value = limit.violation(outcome)
                    assert (value > 1e-12) == broken, (limit.key, i, end, step, value)
                    checked += 1
    assert checked > 20


def test_a_proof_resting_on_a_non_finite_figure_is_not_returned(monkeypatch):
    """A reach of $nan once printed "the per-name limits allow at most $nan" as a proof."""
    holdings, covariance = load_example()
    monkeypatch.setattr(optimize_module, "solve_separable", lambda *args, **kwargs: None)
    monkeypatch.setattr(optimize_module, "reachable", lambda *args: (float("nan"), float("nan")))
    result = liquidate(Portfolio(holdings, covariance), 1e9, raise_on_failure=False)
    assert result.status == "solver_failed", result.message
    assert "nan" not in result.message and "proof" not in [s["outcome"] for s in result.stages]


# ---- time budgets: the factorization and the certificate inside them ----------------------------

def full_from_factors(n: int, k: int, seed: int):
    """A book whose full covariance is a k-factor model's, handed over as an n x n matrix."""
    from books import covariance_of

    from krg_liquidity import synthetic_universe

    holdings, model = synthetic_universe(n, n_factors=k, seed=seed)
    return holdings, covariance_of(model)


def test_a_factor_models_full_covariance_is_factored_to_its_factors():
    """Given as n x n, a k-factor covariance is found to be k rows and a diagonal, exactly; a generic
    covariance keeps its Cholesky factor; a sample covariance of T days keeps T rows."""
    from krg_liquidity.book.risk import risk_operator

    holdings, covariance = full_from_factors(300, 7, seed=4)
    symbols = holdings["symbol"]
    operator = risk_operator(covariance, None, symbols)
    assert operator.top.shape == (7, 300) and operator.diag is not None
    c = covariance.to_numpy()
    rng = np.random.default_rng(0)
    for x in rng.normal(size=(5, 300)):
        assert operator.sigma(x) == pytest.approx(np.sqrt(x @ c @ x), rel=1e-12)
        assert operator.covariance_times(x) == pytest.approx(c @ x, rel=1e-10, abs=1e-14)
    root = rng.normal(size=(300, 300))
    generic = pd.DataFrame(root @ root.T / 300, index=symbols, columns=symbols)
    assert risk_operator(generic, None, symbols).top.shape == (300, 300)
    returns = rng.normal(size=(60, 300)) * 0.01
    sample = pd.DataFrame(np.cov(returns, rowvar=False), index=symbols, columns=symbols)
    operator = risk_operator(sample, None, symbols)
    assert operator.top.shape == (59, 300)
    x = rng.normal(size=300)
    assert operator.sigma(x) == pytest.approx(np.sqrt(x @ sample.to_numpy() @ x), rel=1e-9)


def test_the_factorization_is_a_stage_inside_the_budget():
    """A fresh book's covariance is factored inside the call's budget and recorded as the first stage
    (its seconds count against the limit); a second call on the same book reuses it."""
    holdings, covariance = full_from_factors(120, 5, seed=6)
    book = Portfolio(holdings, covariance)
    cash = 0.1 * book.net_value_usd
    free = liquidate(book, cash)
    band = (0.0, free.risk_after / free.risk_before - 0.01)
    book = Portfolio(holdings, covariance)  # fresh: reporting risk_after factored the first one
    assert not book.risk_factored
    first = liquidate(book, cash, risk_band=band, time_limit=30)
    stage = first.stages[0]
    assert (stage["stage"], stage["outcome"]) == ("risk-model", "done")
    assert "5 factor rows" in stage["detail"] and "already" not in stage["detail"]
    assert sum(s["seconds"] for s in first.stages) <= first.seconds
    again = liquidate(book, cash, risk_band=band)
    assert "already" in again.stages[0]["detail"]
    assert again.cost_usd == pytest.approx(first.cost_usd, rel=1e-9)


def test_the_certificate_stage_checks_the_budget(example, monkeypatch):
    """With no time left the certificate does not start its linear program: it returns the bound at the
    steps' own multipliers (valid, weaker) and says the budget ran out; with time, the LP gets at most
    what is left."""
    from krg_liquidity.solve import certificate

    holdings, covariance, book = example
    cash = 1e9
    band = (1.01, 1.05)
    request = liquidation_request(book, cash, limits=Limits(risk_band=band))
    plan = optimize_module._Plan(request, Trail(Budget(None)), "auto")
    found = plan.run()
    level = band[0] * plan.sigma_today * (book.net_value_usd - cash) / cash

    given = []
    import scipy.optimize

    real = scipy.optimize.linprog
    monkeypatch.setattr(scipy.optimize, "linprog", lambda *a, **k: given.append(k["options"]["time_limit"])
                        or real(*a, **k))
    trail = Trail(Budget(None))
    full = certificate.floor_lower_bound(plan.dual_solver, plan.floor_point, level, trail, Budget(7.0))
    assert given and 0 < given[0] <= 7.0

    class Spent(Budget):
        def left(self) -> float:
            return 0.0

    given.clear()
    trail = Trail(Budget(None))
    quick = certificate.floor_lower_bound(plan.dual_solver, plan.floor_point, level, trail, Spent(1.0))
    assert not given and "time budget ran out" in trail.stages[-1].detail
    assert quick is not None and quick <= full * (1 + 1e-7) and quick <= plan.cost(found.u) * (1 + 1e-9)


def test_one_blas_thread_covers_scipys_own_blas():
    """SciPy ships its own OpenBLAS beside NumPy's: the one-thread context must limit both, even when it
    is first used before anything imported scipy.linalg (a fresh process)."""
    import subprocess
    import sys

    code = ("import numpy\n"
            "from krg_liquidity.core.plan import one_blas_thread\n"
            "with one_blas_thread():\n"
            "    pass\n"
            "import scipy.linalg\n"
            "from threadpoolctl import threadpool_info\n"
            "with one_blas_thread():\n"
            "    print(sorted({p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[1]", out


def test_the_floors_proof_is_cut_short_by_the_budget(example, monkeypatch):
    """The upper bound on the risk goes through the rows of A in blocks and checks the budget between them:
    the same bound in blocks of any size, and no bound (inf, nothing proven) when no time is left."""
    from krg_liquidity.solve import reach

    class Spent(Budget):
        def left(self) -> float:
            return 0.0

    book = example[2]
    request = liquidation_request(book, 1e9, limits=Limits(risk_band=(1.01, 1.05)))
    solver = optimize_module._Plan(request, Trail(Budget(None)), "auto").dual_solver
    whole = reach.risk_upper_bound(solver)
    monkeypatch.setattr(reach, "ROWS_AT_ONCE", 3)
    assert reach.risk_upper_bound(solver, Budget(None)) == pytest.approx(whole, rel=1e-13)
    assert reach.risk_upper_bound(solver, Spent(1.0)) == np.inf


class Ticking(Budget):
    """A budget on a fake clock: ``left()`` gives the next of ``seconds`` on each call (the last one
    after that), so that a test decides what a stage finds left, whatever the machine's speed."""

    def __init__(self, *seconds: float):
        super().__init__(100.0)
        self.seconds = list(seconds)

    def left(self) -> float:
        return self.seconds.pop(0) if len(self.seconds) > 1 else self.seconds[0]


def floor_program(book, cash, band):
    from krg_liquidity.solve import conic
    from krg_liquidity.solve.limits import NAME_LIMITS, coupling_limits

    request = liquidation_request(book, cash, limits=Limits(risk_band=band))
    limits = [limit for limit in NAME_LIMITS if limit.applies(book, False)] + coupling_limits(band, None)
    return request, conic.build(book, request.costs(), limits, cash=cash)


def test_the_conic_floor_steps_compile_with_values_and_get_what_is_left(example, monkeypatch):
    """The floor's conic steps on a large book: each solve compiles the program with the gradient's values,
    not cvxpy's parametrized form (its size is the names times the variables: 28 s to compile at 5,000
    names, which no time limit covered); the solver is given what is left minus the compilation; the steps
    check the budget between them and stop, with what they have, when it is spent. A small book keeps the
    parametrized form (its re-solves skip the compilation)."""
    from krg_liquidity.solve import conic

    holdings, covariance, book = example
    _, small = floor_program(book, 1e9, (1.01, 1.05))
    small.floor_gradient.value, small.floor_penalty.value = np.zeros(len(holdings)), 1.0
    conic.solve(small, lambda u: 0.0, Budget(None))
    assert small.problem._cache.param_prog is not None
    monkeypatch.setattr(conic, "PARAMETRIZED_MAX_NAMES", len(holdings) - 1)  # the example book counts as large
    band = (1.01, 1.05)
    request, program = floor_program(book, 1e9, band)
    plan = optimize_module._Plan(request, Trail(Budget(None)), "auto")
    start = plan.separable().u
    shares, adv, price = book.array("shares"), book.array("adv"), book.array("price")
    budget = Ticking(5.0, 5.0, 0.0)  # the first step's attempt has 5 s, the next step finds none
    u, steps, reason = conic.convex_concave(program, lambda x: (shares - x * adv) * price, book.risk(),
                                            lambda x: plan.worst(x, cap=False)[0], start, budget)
    assert program.problem._cache.param_prog is None  # nothing parametrized was built
    assert steps == 2 and len(program.attempts) == 1 and "'timeout'" in reason
    given = program.attempts[0].options["time_limit"]
    assert 0 < given < 5.0


def test_a_conic_attempt_that_cannot_set_up_in_what_is_left_is_not_started(example):
    """A solver attempt starts only if the time left covers its setup (compiling, the solver's setup):
    at 0.1 ms left nothing is started, and the program says why."""
    from krg_liquidity.solve import conic

    holdings, covariance, book = example
    request, program = floor_program(book, 1e9, (0.0, 1.05))
    status = conic.solve(program, lambda u: 0.0, Ticking(1e-4))
    assert status == "timeout" and program.attempts == []
    assert program.skipped.startswith("a solver attempt was not started: 0.00 s left")


def test_a_conic_stage_is_skipped_for_time_and_the_call_ends_timeout(example, monkeypatch):
    """When the local ascents stall and the time left cannot cover the conic program's setup, the conic
    stage is recorded as skipped for time and the call ends "timeout" (raise time_limit), neither a late
    answer nor "no feasible point found"; a ceiling that needs the conic program ends the same way."""
    from krg_liquidity.solve import floor as floor_module

    holdings, covariance, book = example
    monkeypatch.setattr(floor_module, "reach_floor", lambda solver, v, *args: (None, 0.9))
    request = liquidation_request(book, 1e9, limits=Limits(risk_band=(1.01, 1.05)))
    trail = Trail(Ticking(1e-4))
    with pytest.raises(SolverTimeout, match="conic-convex-concave stage was skipped for time") as info:
        optimize_module._Plan(request, trail, "auto").run()
    assert info.value.stage == "floor"
    skipped = [s for s in trail.stages if s.name == "conic-convex-concave"]
    assert skipped and skipped[0].outcome == "timeout" and skipped[0].detail.startswith("skipped for time")

    trail = Trail(Ticking(1e-4))
    request = liquidation_request(book, 1e9, limits=Limits(risk_band=(0.0, 1.05)))
    with pytest.raises(SolverTimeout, match="raise time_limit"):
        optimize_module._Plan(request, trail, "conic").run()
    assert trail.stages[-1].name == "conic" and trail.stages[-1].detail.startswith("skipped for time")


def test_loading_a_solver_library_is_recorded_and_not_counted(monkeypatch):
    """A stage's solver library is imported the first time a call needs it, as a "load" stage whose
    seconds do not count against the time limit (they are process set-up, as importing the package is)."""
    import sys

    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    budget = Budget(10.0)
    trail = Trail(budget)
    trail.load("colorsys")
    trail.load("colorsys")  # loaded already: nothing to record
    assert [s.name for s in trail.stages] == ["load"] and "not counted" in trail.stages[0].detail
    assert budget.not_counted == trail.stages[0].seconds > 0
