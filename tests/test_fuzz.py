"""Fuzz: random books in every regime. No call past its budget, every answer verified from its
trades, no "infeasible" without a proof. (benchmarks/bench_fuzz.py runs the large version.)"""

import time

import numpy as np
import pytest

from checks import assert_feasible
from fuzz_books import draw
from krg_liquidity import CostModel, liquidate
from krg_liquidity.baseline import slsqp_liquidate
from krg_liquidity.verify import violations

BUDGET = 5.0


@pytest.mark.parametrize("seed", range(42))
def test_random_request_is_answered_honestly_within_budget(seed):
    drawn = draw(seed)
    if drawn is None:
        pytest.skip("net-short draw")
    holdings, covariance, book, cash, limits, regime = drawn
    started = time.perf_counter()
    result = liquidate(book, cash, time_limit=BUDGET, raise_on_failure=False, **limits)
    elapsed = time.perf_counter() - started
    assert elapsed <= 1.1 * BUDGET, (regime, elapsed)
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
