"""Re-planning the rest of a basket schedule from the fills and prices so far, and the simulator's
re-planning policy."""

import numpy as np
import pandas as pd
import pytest

from krg_liquidity import (
    InconsistentInputError,
    InvalidValueError,
    optimize_basket_schedule,
    replan,
    schedule_grid,
    simulate,
)
from tests.test_simulate import COVARIANCE, TRADES

PRICES = {"A": 50.0, "B": 20.0, "C": 80.0}


@pytest.fixture(scope="module")
def plan():
    return optimize_basket_schedule(TRADES, covariance=COVARIANCE, periods=13, risk_aversion=0.5, start="2026-03-02")


def _done(plan, periods):
    return schedule_grid(plan).iloc[:periods][["A", "B", "C"]].sum().to_dict()


def test_replan_trades_exactly_what_is_left_on_the_plans_clock(plan):
    done = _done(plan, 4)
    new = replan(plan, done, PRICES, TRADES, periods_done=4, covariance=COVARIANCE)
    totals = new.schedule.groupby("symbol", observed=True)["shares"].sum()
    order = TRADES.set_index("symbol")["shares"]
    for symbol, shares in totals.items():
        assert shares == order[symbol] - done[symbol]
    assert new.periods == 9
    assert new.schedule["bucket_start"].min() >= plan.schedule["bucket_start"].sort_values().unique()[4]
    original = plan.schedule.set_index(["symbol", "bucket_start"])["expected_market_volume"]
    again = new.schedule.set_index(["symbol", "bucket_start"])["expected_market_volume"]
    common = again.index.intersection(original.index)
    assert len(common) and np.allclose(again.loc[common], original.loc[common])  # the right buckets of the day


def test_replan_after_a_rally_sells_faster(plan):
    done = _done(plan, 4)
    calm = replan(plan, done, PRICES, TRADES, periods_done=4, covariance=COVARIANCE)
    rally = replan(plan, done, {**PRICES, "A": 60.0}, TRADES, periods_done=4, covariance=COVARIANCE)
    first = lambda sol: sol.schedule[sol.schedule["symbol"] == "A"]["shares"].iloc[0]
    assert abs(first(rally)) >= abs(first(calm))  # more dollars at risk: trade sooner


def test_fills_exceeding_the_order(plan):
    with pytest.raises(InvalidValueError, match=r"fills_so_far.*exceeds the order.*A"):
        replan(plan, {"A": -250_000}, PRICES, TRADES, periods_done=3)
    with pytest.raises(InvalidValueError, match=r"against the order's side.*A"):
        replan(plan, {"A": 1_000}, PRICES, TRADES, periods_done=3)


def test_market_snapshot_missing_names(plan):
    with pytest.raises(InconsistentInputError, match="no price for C"):
        replan(plan, {"A": -1_000}, {"A": 50.0, "B": 20.0}, TRADES, periods_done=3)
    with pytest.raises(InconsistentInputError, match="ZZZ"):
        replan(plan, {"ZZZ": -1}, PRICES, TRADES, periods_done=3)
    with pytest.raises(InvalidValueError, match="periods_done"):
        replan(plan, {}, PRICES, TRADES, periods_done=13)


def test_simulated_replanning_policy(plan):
    static = simulate(plan, TRADES, covariance=COVARIANCE, paths=12, seed=2, volume_noise=0, price_noise=False)
    adaptive = simulate(plan, TRADES, covariance=COVARIANCE, paths=12, seed=2, volume_noise=0.3, replan_every=6)
    assert adaptive.settings["replan_every"] == 6
    assert not adaptive.shares_left.any()
    assert np.isfinite(adaptive.shortfall_usd).all() and static.paths == adaptive.paths
    with pytest.raises(InvalidValueError, match="replan_every"):
        simulate(plan.schedule, TRADES, paths=5, replan_every=2)  # a table, not an optimal schedule


def test_replanning_policy_without_noise_completes(plan):
    """Re-planning every 4 periods with no market noise: every share of the order is traded, and the cost
    stays within the plan's cost plus its timing risk."""
    sim = simulate(plan, TRADES, covariance=COVARIANCE, paths=1, seed=0, volume_noise=0, price_noise=False,
                   replan_every=4)
    assert sim.cash_by_period.shape == (1, 13)
    assert 0 < sim.shortfall_usd[0] < plan.impact_usd + plan.pa_usd + plan.timing_risk_usd
    assert isinstance(sim.summary_frame(), pd.DataFrame)
