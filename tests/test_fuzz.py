"""Fuzz: random books in every regime. No call past its budget, every answer verified from its
trades, no "infeasible" without a proof. (benchmarks/bench_fuzz.py runs the large version.)"""

import numpy as np
import pytest
from budget_records import counted_seconds
from checks import assert_feasible
from fuzz_books import draw

from krg_liquidity import CostModel, liquidate
from krg_liquidity.solve.verify import violations
from krg_liquidity.whatif.baseline import slsqp_liquidate

BUDGET = 5.0
SLOW_SEEDS = {6, 25}  # the draws that take more than ~3 s each on a busy 2-core machine (13-name books)


@pytest.mark.parametrize("seed", [pytest.param(seed, marks=pytest.mark.slow) if seed in SLOW_SEEDS else seed
                                  for seed in range(42)])
def test_random_request_is_answered_honestly_within_budget(seed):
    drawn = draw(seed)
    if drawn is None:
        pytest.skip("net-short draw")
    holdings, covariance, book, cash, limits, regime = drawn
    result = liquidate(book, cash, time_limit=BUDGET, raise_on_failure=False, **limits)
    spent = counted_seconds(result.stages)  # the call's own records: each stage checks the budget
    assert spent <= 1.1 * BUDGET, (regime, spent, result.stages)
    outcomes = [s["outcome"] for s in result.stages]
    if result.success:
        assert_feasible(holdings, result, cash, covariance=covariance, risk_band=limits.get("risk_band"),
                        max_total_mi_bps=limits.get("max_total_mi_bps"), allow_buys=limits["allow_buys"])
    elif result.status == "infeasible":
        assert "proof" in outcomes, (regime, result.stages)
        if len(book.holdings) <= 13:  # SLSQP with numeric gradients is slow beyond a few names
            assert not local_search_finds_a_point(book, cash, limits), (regime, result.message)
    else:
        assert result.status in ("no_feasible_point_found", "timeout"), (regime, result.status, result.message)
    if regime == "slack":  # the unconstrained optimum meets the band
        assert result.status == "optimal", (regime, result.status, result.message)
    if regime == "unreachable_floor" and not limits["allow_buys"]:
        assert result.status in ("infeasible", "no_feasible_point_found")


def local_search_finds_a_point(book, cash, limits) -> bool:
    """Multistart SLSQP (MATLAB's method) on the same request: does any start end feasible?"""
    rng = np.random.default_rng(0)
    n = len(book.holdings)
    for x0 in [None] + [rng.dirichlet(np.ones(n)) for _ in range(3)]:
        try:
            local = slsqp_liquidate(book, cash, risk_band=limits.get("risk_band"), x0=x0,
                                    max_total_mi_bps=limits.get("max_total_mi_bps"), allow_buys=limits["allow_buys"])
        except ValueError:  # the per-name limits contradict each other: no point at all
            return False
        found = violations(book, local["shares_after"], cash, allow_buys=limits["allow_buys"],
                           risk_band=limits.get("risk_band"), max_total_mi_bps=limits.get("max_total_mi_bps"),
                           cost_model=CostModel())
        if max(found.values()) <= 1e-6:
            return True
    return False


@pytest.mark.parametrize("seed", [44, 79, 164])
def test_floor_search_tries_the_conic_steps_before_giving_up(seed):
    """Buys allowed: the dual ascents stall below the floor; the conic steps (what engine="conic"
    runs) find a point. These once ended "no_feasible_point_found" (seed 79 is a 4-name book)."""
    holdings, covariance, book, cash, limits, regime = draw(seed)
    assert limits["allow_buys"] and regime in ("floor", "narrow")
    result = liquidate(book, cash, time_limit=BUDGET, raise_on_failure=False, **limits)
    assert result.success, (result.status, result.message)
    assert_feasible(holdings, result, cash, covariance=covariance, risk_band=limits["risk_band"], allow_buys=True)
    assert [s["outcome"] for s in result.stages if s["stage"] == "floor-start"] == ["failed"]


def test_floor_message_prints_no_infinite_bound(monkeypatch):
    """With buys the risk has no upper bound: the message once read "no trade list can leave more than infx"."""
    from krg_liquidity.solve import optimize as optimize_module

    holdings, covariance, book, cash, limits, regime = draw(79)
    monkeypatch.setattr(optimize_module._Plan, "floor_by_conic", lambda self, relaxed: optimize_module.Declined("conic-convex-concave", "failed", "stubbed"))
    result = liquidate(book, cash, time_limit=BUDGET, raise_on_failure=False, **limits)
    assert result.status == "no_feasible_point_found"
    assert "inf" not in result.message.replace("infeasible", "") and "nan" not in result.message
