"""The market simulator: exact with the noises off, the cost model's mean and timing risk with them on,
the vectorized static path against the step-by-step one, seeds, and bad input."""

import numpy as np
import pandas as pd
import pytest

from krg_liquidity import (
    InconsistentInputError,
    InvalidValueError,
    almgren_chriss,
    optimize_basket_schedule,
    pov_schedule,
    schedule_impact,
    simulate,
    synthetic_universe,
)

TRADES = pd.DataFrame({"symbol": ["A", "B", "C"], "shares": [-200_000, -50_000, 30_000], "adv": [2e6, 1e6, 5e5],
                       "price": [50.0, 20.0, 80.0], "volatility": [0.3, 0.2, 0.4], "alpha_bp": [8.0, -3.0, 5.0],
                       "pov": [0.1, 0.05, 0.08]})
COVARIANCE = pd.DataFrame([[0.09, 0.03, 0.02], [0.03, 0.04, 0.01], [0.02, 0.01, 0.16]],
                          index=list("ABC"), columns=list("ABC"))


@pytest.fixture(scope="module")
def plan():
    return optimize_basket_schedule(TRADES, covariance=COVARIANCE, periods=13, risk_aversion=0.5, start="2026-03-02")


def test_no_noise_every_path_costs_the_plans_expected_cost(plan):
    sim = simulate(plan, TRADES, covariance=COVARIANCE, paths=50, seed=1, volume_noise=0, price_noise=False)
    assert np.allclose(sim.shortfall_usd, plan.impact_usd + plan.pa_usd, rtol=1e-10, atol=1e-6)
    assert sim.cash_by_period.shape == (50, 13)
    assert np.allclose(sim.cash_by_period, sim.planned_cash_usd[None, :])
    assert sim.timing_risk_usd == pytest.approx(plan.timing_risk_usd, rel=1e-9)
    assert not sim.shares_left.any()


def test_no_noise_pov_schedule_costs_the_cost_models_impact():
    trades = TRADES.drop(columns="alpha_bp")
    schedule = pov_schedule(trades, start="2026-03-02")
    sim = simulate(schedule, trades, paths=5, seed=0, volume_noise=0, price_noise=False)
    value = trades["shares"].abs() * trades["price"]
    expected = float((schedule_impact(schedule, trades).to_numpy() * value.to_numpy()).sum() / 1e4)
    assert np.allclose(sim.shortfall_usd, expected, rtol=1e-10)


def test_price_noise_mean_and_sd_match_expected_cost_and_timing_risk(plan):
    paths = 40_000
    sim = simulate(plan, TRADES, covariance=COVARIANCE, paths=paths, seed=3, volume_noise=0)
    error = sim.timing_risk_usd / np.sqrt(paths)
    assert abs(sim.shortfall_usd.mean() - (plan.impact_usd + plan.pa_usd)) < 4 * error
    assert sim.shortfall_usd.std() == pytest.approx(plan.timing_risk_usd, rel=4 / np.sqrt(2 * paths))


def test_static_fast_path_agrees_with_the_step_by_step_simulation(plan):
    """max_pov that never binds sends the plan through the per-name, per-period loop (prices drawn name by
    name): same mean, sd and cash-by-period spread as the static path's Gaussian cash noise."""
    paths = 20_000
    fast = simulate(plan, TRADES, covariance=COVARIANCE, paths=paths, seed=4, volume_noise=0.4)
    slow = simulate(plan, TRADES, covariance=COVARIANCE, paths=paths, seed=5, volume_noise=0.4, max_pov=0.999)
    assert not slow.shares_left.any()
    sd = fast.shortfall_usd.std()
    assert abs(fast.shortfall_usd.mean() - slow.shortfall_usd.mean()) < 4 * sd * np.sqrt(2 / paths)
    assert slow.shortfall_usd.std() == pytest.approx(sd, rel=0.04)
    assert np.allclose(slow.cash_by_period.std(axis=0), fast.cash_by_period.std(axis=0), rtol=0.04, atol=1.0)
    # volume noise raises the expected temporary impact (POV^a4 is convex in the volume): never lowers it
    assert fast.shortfall_usd.mean() > fast.expected_cost_usd - 4 * sd / np.sqrt(paths)


def test_binding_participation_cap_leaves_shares_and_marks_them():
    trades = TRADES.drop(columns="alpha_bp")
    schedule = pov_schedule(trades, start="2026-03-02")
    sim = simulate(schedule, trades, paths=2_000, seed=2, volume_noise=0.6, max_pov=0.1)
    left = sim.shares_left.sum(axis=1)
    assert (left > 0).any() and (left == 0).any()
    assert sim.summary_frame().set_index("item").loc["paths with shares left", "value"] > 0


def test_milestone_probability_and_summary(plan):
    cash = simulate(plan, TRADES, paths=1, volume_noise=0, price_noise=False).planned_cash_usd  # net of costs
    sim = simulate(plan, TRADES, covariance=COVARIANCE, paths=4_000, seed=9, milestones={6: cash[5]})
    p = sim.milestone_probability(6, cash[5])
    assert 0.3 < p < 0.7  # the plan's expected cash: about half the paths reach it
    frame = sim.summary_frame().set_index("item")
    assert frame.loc[f"P(cash by period 6 >= ${cash[5]:,.0f})", "value"] == p
    assert sim.cvar_usd(0.99) >= sim.var_usd(0.99) >= sim.var_usd(0.95)
    assert "CVaR 95%" in sim.summary()


def test_seeds_reproduce(plan):
    a = simulate(plan, TRADES, paths=300, seed=11)
    b = simulate(plan, TRADES, paths=300, seed=11)
    c = simulate(plan, TRADES, paths=300, seed=12)
    assert np.array_equal(a.shortfall_usd, b.shortfall_usd) and np.array_equal(a.cash_by_period, b.cash_by_period)
    assert not np.array_equal(a.shortfall_usd, c.shortfall_usd)


def test_almgren_chriss_trajectory():
    ac = almgren_chriss(1e5, 8, 0.25, 0.95, 2.5e-6, 2.5e-7, 0.0, 1e-6)
    order = pd.DataFrame({"symbol": ["X"], "shares": [-1e5], "adv": [1e6], "price": [50.0], "volatility": [0.3]})
    sim = simulate(ac, order, paths=200, seed=0)
    assert sim.cash_by_period.shape == (200, 8)
    assert sim.cash_by_period[:, -1].mean() == pytest.approx(5e6 - sim.shortfall_usd.mean(), rel=1e-9)


def test_factor_model_basket():
    holdings, model = synthetic_universe(40, n_factors=3, seed=1)
    trades = holdings.assign(shares=-np.round(0.2 * holdings["shares"]))
    plan = optimize_basket_schedule(trades, factor_model=model, periods=13, start="2026-03-02")
    sim = simulate(plan, trades, factor_model=model, paths=8_000, seed=1, volume_noise=0)
    assert sim.shortfall_usd.std() == pytest.approx(plan.timing_risk_usd, rel=0.05)


@pytest.mark.parametrize("paths", [0, -5, 1.5, "many"])
def test_bad_paths_named(plan, paths):
    with pytest.raises(InvalidValueError, match="paths"):
        simulate(plan, TRADES, paths=paths)


def test_absurd_paths_refused_with_the_estimate(plan):
    with pytest.raises(InvalidValueError, match=r"paths.*GB"):
        simulate(plan, TRADES, paths=10**13)


def test_trades_missing_a_name(plan):
    with pytest.raises(InconsistentInputError, match="no row for C"):
        simulate(plan, TRADES.iloc[:2])
    with pytest.raises(InconsistentInputError, match="risk model has no row for C"):
        simulate(plan, TRADES, covariance=COVARIANCE.iloc[:2, :2])


def test_milestone_after_the_plan_counts_the_final_cash(plan):
    sim = simulate(plan, TRADES, paths=200, seed=1, milestones={20: 1e6})
    assert sim.milestone_probability(20, 1e6) == np.mean(sim.cash_by_period[:, -1] >= 1e6)
    with pytest.raises(InvalidValueError, match="milestones"):
        simulate(plan, TRADES, paths=10, milestones={0: 1e6})


def test_figures(plan):
    import krg_liquidity as krg

    sim = simulate(plan, TRADES, paths=500, seed=1, milestones={4: 1e6})
    for figure in (krg.plot_shortfall_histogram(sim), krg.plot_cash_fan(sim)):
        assert figure.axes and figure.axes[0].get_title()


def test_cli_simulate(tmp_path, plan):
    from typer.testing import CliRunner

    from krg_liquidity.cli import app

    TRADES.to_csv(tmp_path / "trades.csv", index=False)
    plan.schedule.to_csv(tmp_path / "schedule.csv", index=False)
    runner = CliRunner()
    result = runner.invoke(app, ["simulate", str(tmp_path / "schedule.csv"), "--trades", str(tmp_path / "trades.csv"),
                                 "--paths", "500", "--seed", "3", "--milestone", "6:5e6", "--no-price-noise",
                                 "--volume-noise", "0", "--output", str(tmp_path / "paths.csv")])
    assert result.exit_code == 0, result.output
    assert "CVaR 95%" in result.output and "P(cash by period 6" in result.output
    paths = pd.read_csv(tmp_path / "paths.csv")
    assert len(paths) == 500 and np.allclose(paths["shortfall_usd"], plan.impact_usd + plan.pa_usd)
    bad = runner.invoke(app, ["simulate", str(tmp_path / "schedule.csv"), "--trades", str(tmp_path / "trades.csv"),
                              "--milestone", "six"])
    assert bad.exit_code == 2 and "--milestone" in bad.output and "Traceback" not in bad.output
