"""Dynamic programming for one order, against the literature: Almgren-Chriss's closed form without the price
state; with it, aggressive in the money and a mean-variance frontier on or below the static one."""

import numpy as np
import pytest

from krg_liquidity import InvalidValueError, IStarImpact, LinearImpact, almgren_chriss, dynamic_schedule
from krg_liquidity.schedule.strategy import almgren_chriss_frontier

X, N, TAU, SIGMA, ETA = 1e6, 5, 1.0, 0.95, 2.5e-6  # Almgren & Chriss's example scale
SMALL = {"shares_grid": 51, "cost_grid": 101, "quadrature": 7, "paths": 4_000}


@pytest.mark.parametrize("risk_aversion", [0.0, 1e-7, 1e-6, 2e-6])
def test_no_price_state_is_almgren_chriss_to_grid_accuracy(risk_aversion):
    grid = 401
    plan = dynamic_schedule(X, N, TAU, SIGMA, LinearImpact(ETA), risk_aversion=risk_aversion, shares_grid=grid)
    closed = almgren_chriss(X, N, TAU, SIGMA, ETA, 0.0, 0.0, risk_aversion)
    assert np.max(np.abs(plan.holdings - closed.holdings)) <= X / (grid - 1)
    assert plan.expected_cost_usd + risk_aversion * plan.std_usd**2 <= (
        closed.expected_cost + risk_aversion * closed.variance) * (1 + 1e-3)


def test_permanent_impact_is_almgren_chriss_too():
    gamma = 2.5e-7
    plan = dynamic_schedule(X, N, TAU, SIGMA, LinearImpact(ETA, gamma), risk_aversion=1e-6, shares_grid=401)
    closed = almgren_chriss(X, N, TAU, SIGMA, ETA, gamma, 0.0, 1e-6)
    assert np.max(np.abs(plan.holdings - closed.holdings)) <= X / 400
    assert plan.expected_cost_usd == pytest.approx(closed.expected_cost, rel=2e-3)


def test_price_state_is_aggressive_in_the_money():
    plan = dynamic_schedule(X, N, TAU, SIGMA, LinearImpact(ETA), risk_aversion=1e-6, price_state=True, **SMALL)
    static = dynamic_schedule(X, N, TAU, SIGMA, LinearImpact(ETA), risk_aversion=1e-6, **SMALL)
    left = plan.holdings[1]
    sales = [plan.trade(2, left, static.expected_cost_usd + k * static.std_usd) for k in (-1.5, 0.0, 1.5)]
    assert sales[0] > sales[1] > sales[2]  # lower cost so far (the price rose for the seller): sell faster


def test_price_state_frontier_on_or_below_the_static_one():
    shocks = np.random.default_rng(5).standard_normal((20_000, N))
    frontier = almgren_chriss_frontier(X, N, TAU, SIGMA, ETA, 0.0, 0.0, np.geomspace(1e-9, 1e-4, 400))
    for risk_aversion in (3e-7, 1e-6, 3e-6):
        plan = dynamic_schedule(X, N, TAU, SIGMA, LinearImpact(ETA), risk_aversion=risk_aversion, price_state=True,
                                **SMALL)
        cost = plan.simulate(shocks=shocks)
        static_mean = np.interp(cost.std(), frontier["std_usd"][::-1], frontier["expected_cost_usd"][::-1])
        assert cost.mean() <= static_mean + 3 * cost.std() / np.sqrt(cost.size)


def _cvar(cost, level=0.95):
    return np.sort(cost)[int(level * cost.size):].mean()


def test_cvar_objectives():
    static = dynamic_schedule(X, N, TAU, SIGMA, LinearImpact(ETA), objective="cvar", **SMALL)
    frontier = almgren_chriss_frontier(X, N, TAU, SIGMA, ETA, 0.0, 0.0, np.geomspace(1e-9, 1e-4, 400))
    tail = 2.0627128075074  # phi(z_0.95) / 0.05
    best = (frontier["expected_cost_usd"] + tail * frontier["std_usd"]).min()
    assert static.objective_usd == pytest.approx(best, rel=5e-3)
    adaptive = dynamic_schedule(X, N, TAU, SIGMA, LinearImpact(ETA), objective="cvar", price_state=True, **SMALL)
    shocks = np.random.default_rng(6).standard_normal((20_000, N))
    assert _cvar(adaptive.simulate(shocks=shocks)) <= _cvar(static.simulate(shocks=shocks)) * 1.005


def test_istar_impact():
    impact = IStarImpact.from_order(2e5, adv=1e6, price=50.0, volatility=0.3, period_days=0.1)
    sigma = 50.0 * 0.3 / np.sqrt(250)
    neutral = dynamic_schedule(2e5, 10, 0.1, sigma, impact, shares_grid=201)
    assert np.allclose(neutral.trades, 2e4, atol=1e3)  # risk neutral, flat volume: even POV (to the grid)
    averse = dynamic_schedule(2e5, 10, 0.1, sigma, impact, risk_aversion=1e-4, shares_grid=201)
    assert averse.trades[0] > neutral.trades[0] and averse.std_usd < neutral.std_usd


def test_bad_input_named():
    with pytest.raises(InvalidValueError, match="shares"):
        dynamic_schedule(-5, N, TAU, SIGMA, LinearImpact(ETA))
    with pytest.raises(InvalidValueError, match="objective"):
        dynamic_schedule(X, N, TAU, SIGMA, LinearImpact(ETA), objective="utility")
    with pytest.raises(InvalidValueError, match="level"):
        dynamic_schedule(X, N, TAU, SIGMA, LinearImpact(ETA), objective="cvar", level=1.0)


def test_the_market_simulator_points_a_dynamic_policy_to_its_own_simulation():
    from krg_liquidity import simulate

    plan = dynamic_schedule(X, N, TAU, SIGMA, LinearImpact(ETA), risk_aversion=1e-6, shares_grid=41)
    with pytest.raises(InvalidValueError, match=r"plan\.simulate\(paths, seed\)"):
        simulate(plan, paths=10)
    assert plan.simulate(paths=50, seed=1).shape == (50,)
