"""The liquidation optimizer against independent checks: recomputed feasibility, SLSQP, max_cash."""

import json

import numpy as np
import pandas as pd
import pytest
from books import covariance_of, small_book
from checks import assert_feasible
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krg_liquidity import (
    InfeasibleLiquidation,
    InputError,
    Portfolio,
    frontier,
    liquidate,
    load_example,
    max_cash,
    plot_frontier,
    synthetic_universe,
)
from krg_liquidity.core.plan import Budget
from krg_liquidity.solve.request import Limits, liquidation_request
from krg_liquidity.whatif.baseline import slsqp_liquidate


@pytest.fixture(scope="module")
def example():
    holdings, covariance = load_example()
    return holdings, covariance, Portfolio(holdings, covariance)


def test_example_request(example):
    holdings, covariance, book = example
    limits = dict(risk_band=(0.9, 1.1), max_total_mi_bps=50)
    result = liquidate(book, 1e9, **limits)
    assert result.status == "optimal" and result.gap == 0
    assert_feasible(holdings, result, 1e9, covariance=covariance, **limits)
    assert (result.trades["limit_reached"] == "participation cap").sum() >= 3


def test_limit_reached_in_plain_words():
    """A long sold out reads "fully sold", a short left alone "no short sales", a capped name "participation
    cap" (a short covered in full would read "fully covered"); the column is ``limit_reached``, not "binding",
    and no limit's internal key ("direction", "participation") shows."""
    from krg_liquidity.solve.limits import Direction

    assert list(Direction().reached_words(np.array([False, True, True]), np.array([-5.0, -5.0, 0.0]))) == [
        "fully covered", "no short sales", "no buys"]
    book = Portfolio(pd.DataFrame({
        "symbol": ["LONG", "SHORT", "CAPPED", "BIG"], "shares": [1_000.0, -1_000.0, 1e6, 1e7],
        "price": [10.0, 10.0, 10.0, 10.0], "adv": [1e7, 1e7, 1e6, 1e8], "volatility": [0.2, 0.2, 0.2, 0.2],
        "trade_time": [1.0, 1.0, 1.0, 1.0], "ub_max_pct_adv": [np.nan, np.nan, 0.01, np.nan]}))
    result = liquidate(book, 2e7)
    reached = dict(zip(result.trades["symbol"], result.trades["limit_reached"]))
    assert reached == {"LONG": "fully sold", "SHORT": "no short sales", "CAPPED": "participation cap", "BIG": ""}
    assert "binding" not in result.trades and "limit_reached" in result.to_dict()["trades"][0]


def test_summary_gap_and_violation_in_dollars_and_words(example):
    """The README's request printed "gap 0.00e+00" and "max violation 1.3e-14": now dollars, bps and words,
    with the raw numbers kept on the result and in its JSON."""
    result = liquidate(example[2], 1e9, risk_band=(0.9, 1.1), max_total_mi_bps=50)
    text = result.summary()
    assert "gap $0 (0.00 bps)" in text and "0 (every limit met, recomputed from the trades)" in text
    assert "e+00" not in text and "e-1" not in text
    record = json.loads(result.to_json())
    assert record["gap"] == result.gap and record["max_violation"] == result.max_violation
    assert record["violations"] == result.violations and "risk_ceiling" in record["violations"]  # every limit
    assert record["gap_usd"] == pytest.approx(result.cost_usd - result.lower_bound_usd, abs=1e-6)
    assert record["gap_bps"] == pytest.approx(record["gap_usd"] / result.cash_raised * 1e4)


def test_a_limit_exceeded_within_the_tolerance_is_not_called_met(example):
    """Issue 16 trial A5: risk after 0.99000004x under a 0.99 ceiling (max_violation 4.3e-8) printed
    "max violation 0 (every limit met ...)": now it says by how much, within which tolerance."""
    import dataclasses

    result = liquidate(example[2], 1e9, risk_band=(0.5, 0.99))
    assert result.max_violation <= 1e-6
    noisy = dataclasses.replace(result, violations={**result.violations, "risk_ceiling": 4.3e-8})
    text = noisy.violation_text()
    assert not text.startswith("0 (every limit met")
    assert "within the accepted tolerance (1e-06)" in text
    assert "risk ceiling (risk_band hi) exceeded by 4.3e-08, as a fraction of today's risk" in text
    assert "()" not in text
    exact = dataclasses.replace(result, violations={key: 0.0 for key in result.violations})
    assert exact.violation_text() == "0 (every limit met, recomputed from the trades)"
    assert result.lower_bound_usd <= result.cost_usd  # never a cost below its own proven bound


def test_violation_text_names_the_worst_broken_limit(example):
    from krg_liquidity.whatif.rules import pro_rata

    broken = pro_rata(example[2], 1e9, risk_band=(0.9, 1.1), max_total_mi_bps=50)
    worst = max(broken.violations, key=broken.violations.get)
    assert worst == "impact_cap"
    assert broken.violation_text().startswith("per-name impact cap (ub_max_mi_bps) broken by ")
    assert "18.3" in broken.violation_text() and "1 more limit(s) broken" in broken.violation_text()


def test_cost_is_sum_of_trade_costs(example):
    result = liquidate(example[2], 5e8)
    assert result.cost_usd == pytest.approx(result.trades["cost_usd"].sum(), rel=1e-12)
    assert result.cost_bps == pytest.approx(result.cost_usd / 5e8 * 1e4, rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_never_worse_than_multistart_slsqp(seed):
    holdings, covariance, _ = small_book(seed)
    book = Portfolio(holdings, covariance)
    cash = 0.15 * book.net_value_usd
    ours = liquidate(book, cash, risk_band=(0.0, 1.05))
    assert_feasible(holdings, ours, cash, covariance=covariance, risk_band=(0.0, 1.05))
    rng = np.random.default_rng(seed)
    starts = [None] + [rng.dirichlet(np.ones(len(holdings))) for _ in range(5)]
    best = np.inf
    for x0 in starts:
        local = slsqp_liquidate(book, cash, risk_band=(0.0, 1.05), x0=x0)
        if _slsqp_feasible(holdings, local, cash, covariance, (0.0, 1.05)):
            best = min(best, local["cost_usd"])
    assert np.isfinite(best), "no SLSQP start found a feasible point"
    assert ours.cost_usd <= best * (1 + 1e-6)


def _slsqp_feasible(holdings, local, cash, covariance, band):
    from checks import TOL
    s, p = holdings["shares"].to_numpy(float), holdings["price"].to_numpy(float)
    y = local["shares_after"]
    if abs(np.sum((s - y) * p) - cash) > TOL * cash:
        return False
    fake = type("R", (), {})()
    fake.trades = pd.DataFrame({"symbol": holdings["symbol"], "shares_after": y, "shares_traded": y - s})
    fake.cash_raised = float(np.sum((s - y) * p))
    from checks import recomputed_cost
    fake.cost_usd = recomputed_cost(holdings, y)[0].sum()
    c = covariance.to_numpy()
    w_after = y * p / (s @ p - cash)
    fake.risk_after = float(np.sqrt(w_after @ c @ w_after))
    fake.lower_bound_usd, fake.gap = 0.0, 0.0
    try:
        assert_feasible(holdings, fake, cash, covariance=covariance, risk_band=band)
    except AssertionError:
        return False
    return True


@pytest.mark.parametrize("seed", range(3))
def test_floor_bound_is_below_any_feasible_point(seed):
    holdings, covariance, _ = small_book(seed, bounds=False)
    book = Portfolio(holdings, covariance)
    cash = 0.2 * book.net_value_usd
    relaxed = liquidate(book, cash, risk_band=(0.0, 10.0))
    band = (relaxed.risk_after / relaxed.risk_before + 0.03, 10.0)  # floor binds
    ours = liquidate(book, cash, risk_band=band)
    assert ours.status in ("optimal", "feasible")
    assert ours.method in ("dual+convex-concave", "conic+convex-concave")
    assert ours.lower_bound_usd >= relaxed.cost_usd * (1 - 1e-9)  # never weaker than the bound without the floor
    assert_feasible(holdings, ours, cash, covariance=covariance, risk_band=band)
    cross_check = liquidate(book, cash, risk_band=band, engine="conic")
    assert cross_check.method == "conic+convex-concave"
    assert ours.lower_bound_usd <= cross_check.cost_usd * (1 + 1e-6)
    rng = np.random.default_rng(seed)
    for x0 in [None] + [rng.dirichlet(np.ones(len(holdings))) for _ in range(5)]:
        local = slsqp_liquidate(book, cash, risk_band=band, x0=x0)
        if _slsqp_feasible(holdings, local, cash, covariance, band):
            assert ours.lower_bound_usd <= local["cost_usd"] * (1 + 1e-6)


def test_slack_floor_is_certified(example):
    result = liquidate(example[2], 1e9, risk_band=(0.5, 2.0))
    assert result.status == "optimal" and result.gap == 0.0
    assert result.lower_bound_usd == result.cost_usd


def test_binding_ceiling_is_global(example):
    holdings, covariance, book = example
    free = liquidate(book, 1e9)
    band = (0.9, free.risk_after / free.risk_before - 0.004)
    result = liquidate(book, 1e9, risk_band=band)
    assert result.method == "dual" and result.status == "optimal"
    cross_check = liquidate(book, 1e9, risk_band=band, engine="conic")
    assert cross_check.method == "conic"
    assert result.cost_usd == pytest.approx(cross_check.cost_usd, rel=1e-6)
    assert result.marginal_cost_bps == pytest.approx(cross_check.marginal_cost_bps, rel=1e-3)
    assert result.cost_usd > free.cost_usd
    assert result.risk_after == pytest.approx(band[1] * result.risk_before, rel=1e-6)
    assert_feasible(holdings, result, 1e9, covariance=covariance, risk_band=band)


@pytest.mark.parametrize("seed", range(3))
def test_fast_path_agrees_with_conic(seed):
    holdings, covariance, _ = small_book(seed, n=40)
    book = Portfolio(holdings, covariance)
    cash = 0.2 * book.net_value_usd
    fast = liquidate(book, cash)
    conic = liquidate(book, cash, risk_band=(0.0, 1e6))  # ceiling never binds
    assert fast.method == "separable"
    forced = liquidate(book, cash, engine="conic")
    assert forced.method == "conic"
    assert forced.cost_usd == pytest.approx(fast.cost_usd, rel=1e-6)
    assert forced.marginal_cost_bps == pytest.approx(fast.marginal_cost_bps, rel=1e-4)
    assert conic.cost_usd == pytest.approx(fast.cost_usd, rel=1e-12)


def test_fixed_pov_names():
    holdings, covariance, _ = small_book(5, n=12)
    holdings["pov"] = np.where(np.arange(12) % 2 == 0, 0.15, np.nan)
    book = Portfolio(holdings, covariance)
    cash = 0.15 * book.net_value_usd
    fast = liquidate(book, cash)
    assert_feasible(holdings, fast, cash)
    fixed = holdings["pov"].notna().to_numpy() & (fast.trades["shares_traded"].to_numpy() != 0)
    np.testing.assert_allclose(fast.trades["pov"].to_numpy()[fixed], 0.15)
    assert liquidate(book, cash, engine="conic").cost_usd == pytest.approx(fast.cost_usd, rel=1e-6)
    with pytest.raises(ValueError, match="engine="):
        liquidate(book, cash, engine="fast")


@pytest.mark.parametrize("band, method, tolerance", [(None, "auto", 1e-6), ((0.9, 1.0), "auto", 1e-5),
                                                     ((0.9, 1.0), "conic", 1e-3)])
def test_marginal_cost_matches_finite_difference(example, band, method, tolerance):
    book = example[2]
    cash, step = 1e9, 1e5
    mid = liquidate(book, cash, risk_band=band, engine=method)
    up = liquidate(book, cash + step, risk_band=band, engine=method)
    down = liquidate(book, cash - step, risk_band=band, engine=method)
    assert mid.method == up.method == down.method == ("separable" if band is None and method == "auto"
                                                       else "dual" if method == "auto" else "conic")
    slope_bps = (up.cost_usd - down.cost_usd) / (2 * step) * 1e4
    assert mid.marginal_cost_bps == pytest.approx(slope_bps, rel=tolerance)


def test_factor_model_matches_covariance():
    holdings, covariance, model = small_book(3, n=12, bounds=False)
    full = Portfolio(holdings, covariance)
    free = liquidate(full, 0.2 * full.net_value_usd)
    band = (0.0, 0.98 * free.risk_after / free.risk_before)
    a = liquidate(full, 0.2 * full.net_value_usd, risk_band=band)
    b = liquidate(Portfolio(holdings, factor_model=model), 0.2 * full.net_value_usd, risk_band=band)
    assert a.method == b.method == "dual"
    assert b.cost_usd == pytest.approx(a.cost_usd, rel=1e-6)
    assert b.risk_after == pytest.approx(a.risk_after, rel=1e-6)


def test_long_short_book():
    holdings, covariance, _ = small_book(7, n=20, short_fraction=0.3, bounds=False)
    book = Portfolio(holdings, covariance)
    cash = 0.1 * book.net_value_usd
    result = liquidate(book, cash)
    assert_feasible(holdings, result, cash)
    shorts = holdings["shares"].to_numpy() < 0
    assert np.all(result.trades["shares_traded"].to_numpy()[shorts] == 0)  # covering costs cash
    buys = liquidate(book, cash, allow_buys=True)
    assert_feasible(holdings, buys, cash, allow_buys=True)
    assert buys.cost_usd <= result.cost_usd * (1 + 1e-9)


def test_forced_cover_of_a_short():
    holdings, covariance, _ = small_book(14, n=10, short_fraction=0.3, bounds=False)
    short = holdings.index[holdings["shares"] < 0][0]
    holdings["lb_min_shares"] = np.nan
    holdings.loc[short, "lb_min_shares"] = 0.5 * holdings.loc[short, "shares"]  # cover half
    book = Portfolio(holdings, covariance)
    result = liquidate(book, 0.1 * book.net_value_usd)
    assert result.trades.loc[short, "shares_traded"] == pytest.approx(-0.5 * holdings.loc[short, "shares"])
    assert_feasible(holdings, result, 0.1 * book.net_value_usd)


def test_matlab_decimal_impact_cap_is_converted(example):
    holdings, covariance, book = example
    cap_bps = np.where(holdings["Symbol"].isin(["VZ", "MSFT"]), 5.0, 25.0)
    matlab = holdings.drop(columns="UB_MaxMI_bps").assign(UB_MaxMI=cap_bps / 1e4)
    snake = holdings.assign(UB_MaxMI_bps=cap_bps)
    a = liquidate(Portfolio(matlab, covariance), 1e9)
    b = liquidate(Portfolio(snake, covariance), 1e9)
    assert a.cost_usd == pytest.approx(b.cost_usd, rel=1e-12)
    assert set(a.trades.loc[a.trades["limit_reached"] == "impact cap", "symbol"]) == {"VZ", "MSFT"}
    assert_feasible(matlab, a, 1e9)


# ----- impossible requests, each explained -----

def test_cash_above_value_is_one_line_at_once(example):
    """150% of NAV: one sentence, decided before any solve (no most-cash or elastic re-solve, no budget words)."""
    book = example[2]
    with pytest.raises(InfeasibleLiquidation, match="more than the book is worth") as info:
        liquidate(book, 1.5 * book.net_value_usd, risk_band=(0.9, 1.1), max_total_mi_bps=50)
    message = str(info.value)
    assert "150% of it" in message and "time budget" not in message and message.count(".") <= 3
    assert [(s["stage"], s["outcome"]) for s in info.value.stages] == [("request", "proof")]
    assert info.value.max_cash is None
    result = liquidate(book, 1.5 * book.net_value_usd, raise_on_failure=False)
    assert result.status == "infeasible" and result.message == message.replace(", risk_band", "")


def test_unreachable_floor_is_explained_from_its_proof(example):
    """The floor's proof names the blocking limit itself: no conic re-solve after it, no budget wording,
    and the 'without the floor' claim holds."""
    book = example[2]
    with pytest.raises(InfeasibleLiquidation, match="risk floor cannot be met") as info:
        liquidate(book, 1e9, risk_band=(1.6, 10.0))
    message = str(info.value)
    assert "time budget" not in message
    assert [s["stage"] for s in info.value.stages] == ["risk-model", "separable", "floor"]
    bound = float(message.split("more than ")[1].split("x")[0])
    assert info.value.blocking == {"risk_floor": pytest.approx(1.6 - bound, abs=1e-4)}
    without = liquidate(book, 1e9, risk_band=(0.0, 10.0))
    assert f"least impact {without.cost_usd / 1e9 * 1e4:.2f} bps" in message


def test_sixty_percent_is_impossible_and_max_cash_is_tight(example):
    holdings, covariance, book = example
    with pytest.raises(InfeasibleLiquidation) as info:
        liquidate(book, 0.6 * book.net_value_usd)
    most = info.value.max_cash
    assert most == pytest.approx(max_cash(book), rel=1e-9)
    assert info.value.blocking and "participation" in info.value.blocking
    result = liquidate(book, most * (1 - 1e-6))
    assert_feasible(holdings, result, most * (1 - 1e-6))
    with pytest.raises(InfeasibleLiquidation):
        liquidate(book, most * (1 + 1e-4))


@pytest.mark.parametrize("column, value, group", [
    ("UB_MaxPctADV", 0.002, "participation"),
    ("UB_MaxMI_bps", 0.5, "impact_cap"),
])
def test_caps_too_tight(example, column, value, group):
    holdings, covariance, _ = example
    book = Portfolio(holdings.assign(**{column: value}), covariance)
    with pytest.raises(InfeasibleLiquidation) as info:
        liquidate(book, 1e9)
    assert group in info.value.blocking
    assert info.value.max_cash < 1e9
    assert liquidate(book, info.value.max_cash * (1 - 1e-6)).status == "optimal"


def test_total_impact_cap_too_tight(example, monkeypatch):
    """The proof names the blocking cap and how far it must give (to the least cost) without an elastic re-solve."""
    from krg_liquidity.solve import explain

    monkeypatch.setattr(explain, "elastic", lambda *a: pytest.fail("the proof already says what blocks"))
    with pytest.raises(InfeasibleLiquidation, match="least possible impact is 10.133 bps") as info:
        liquidate(example[2], 1e9, max_total_mi_bps=5)
    least = liquidate(example[2], 1e9).cost_bps
    assert info.value.blocking == {"total_impact_cap": pytest.approx(least - 5, rel=1e-9)}
    assert info.value.blocking_units == {"total_impact_cap": "bps"}
    most = info.value.max_cash
    result = liquidate(example[2], most * (1 - 1e-6), max_total_mi_bps=5)
    assert result.cost_bps <= 5 * (1 + 1e-6)


def test_risk_band_no_portfolio_meets(example):
    with pytest.raises(InfeasibleLiquidation, match="risk") as info:
        liquidate(example[2], 1e9, risk_band=(0.5, 0.6))
    assert info.value.max_cash is None or info.value.max_cash < 1e9


def test_bad_requests_fail_before_solving(example):
    holdings, covariance, book = example
    with pytest.raises(InputError, match="positive number of dollars"):
        liquidate(book, -5)
    with pytest.raises(InputError, match="risk model"):
        liquidate(Portfolio(holdings), 1e9, risk_band=(0.9, 1.1))
    with pytest.raises(InputError, match="0 <= lo <= hi"):
        liquidate(book, 1e9, risk_band=(1.1, 0.9))
    with pytest.raises(InputError, match="has no row for AAPL"):
        Portfolio(holdings, covariance.drop(index="AAPL", columns="AAPL"))
    with pytest.raises(InputError, match="'price'.*MSFT"):
        Portfolio(holdings.assign(Price=np.where(holdings.Symbol == "MSFT", np.nan, holdings.Price)), covariance)
    with pytest.raises(InputError, match="'lb_wt' is above 'ub_wt' for GS"):
        Portfolio(holdings.assign(LB_Wt=np.where(holdings.Symbol == "GS", 0.5, holdings.LB_Wt)), covariance)
    with pytest.raises(InputError, match="trade time"):
        Portfolio(holdings.drop(columns="TradeTime"), covariance)


def test_result_serializes(example):
    result = liquidate(example[2], 1e9, risk_band=(0.9, 1.1))
    payload = json.loads(result.to_json())
    assert payload["status"] == "optimal"
    assert len(payload["trades"]) == 28 and "weight_after" in payload["trades"][0]
    assert "cash raised" in result.summary()
    assert "<table>" in result._repr_html_()


def test_frontier_and_plot(example):
    book = example[2]
    table = frontier(book, [4e8, 8e8, 3e9])
    assert list(table["status"]) == ["optimal", "optimal", "infeasible"]
    assert table["cost_bps"].iloc[1] > table["cost_bps"].iloc[0]
    assert table["marginal_cost_bps"].iloc[1] > table["cost_bps"].iloc[1]
    figure = plot_frontier(table, max_cash(book))
    assert figure.axes and figure.axes[0].get_xlabel() == "cash raised ($M)"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), first=st.floats(0.02, 0.5), second=st.floats(0.02, 0.5))
def test_random_books_feasible_and_cost_monotone(seed, first, second):
    holdings, covariance, _ = small_book(seed, n=8)
    book = Portfolio(holdings, covariance)
    most = max_cash(book)
    results = {}
    for fraction in sorted({first, second}):
        cash = fraction * most
        results[fraction] = liquidate(book, cash)
        assert_feasible(holdings, results[fraction], cash)
    costs = [results[f].cost_usd for f in sorted(results)]
    assert all(later >= earlier * (1 - 1e-9) for earlier, later in zip(costs, costs[1:]))


@pytest.mark.parametrize("seed", range(8))
def test_ceiling_path_agrees_with_conic_on_random_books(seed):
    holdings, covariance, model = small_book(seed, n=[8, 30, 60, 120][seed % 4], short_fraction=0.2 * (seed % 2),
                                             bounds=seed % 2 == 0)
    if seed % 3 == 0:
        holdings["pov"] = np.where(np.arange(len(holdings)) % 2 == 0, 0.1, np.nan)
    book = Portfolio(holdings, factor_model=model) if seed % 2 else Portfolio(holdings, covariance)
    if book.net_value_usd <= 0:
        pytest.skip("net-short draw")
    cash = 0.05 * book.net_value_usd
    free = liquidate(book, cash, allow_buys=seed % 4 == 1)
    band = (0.0, 0.99 * free.risk_after / free.risk_before)
    fast = liquidate(book, cash, risk_band=band, allow_buys=seed % 4 == 1)
    conic = liquidate(book, cash, risk_band=band, allow_buys=seed % 4 == 1, engine="conic")
    assert fast.method in ("dual", "conic") and conic.method == "conic"
    assert fast.cost_usd == pytest.approx(conic.cost_usd, rel=1e-6)
    assert_feasible(holdings, fast, cash, covariance=covariance, risk_band=band, allow_buys=seed % 4 == 1)


def test_ceiling_and_total_cap_that_cannot_both_hold(example):
    book = example[2]
    free = liquidate(book, 1e9)
    band = (0.0, 0.995 * free.risk_after / free.risk_before)
    capped = liquidate(book, 1e9, risk_band=band)
    assert capped.method == "dual"
    assert liquidate(book, 1e9, risk_band=band, max_total_mi_bps=capped.cost_bps * 1.001).method == "dual"
    with pytest.raises(InfeasibleLiquidation) as info:
        liquidate(book, 1e9, risk_band=band, max_total_mi_bps=(free.cost_bps + capped.cost_bps) / 2)
    assert {"total_impact_cap", "risk_ceiling"} & set(info.value.blocking)


@pytest.mark.parametrize("seed", [0, 2])
def test_band_at_99_percent_of_the_book_is_answered(seed):
    """A 40-name book, band (0.9, 1.1), 99% of NAV, with and without a total-impact cap just above
    the least cost: once "solver_failed" (the conic answer, scaled by the cash, broke the band on
    the 1% left)."""
    holdings, model = synthetic_universe(40, n_factors=5, seed=seed)
    covariance = covariance_of(model)
    book = Portfolio(holdings, covariance)
    cash = 0.99 * book.net_value_usd
    band = (0.9, 1.1)
    free = liquidate(book, cash, risk_band=band, raise_on_failure=False)
    assert free.success, (free.status, free.message)
    assert_feasible(holdings, free, cash, covariance=covariance, risk_band=band)
    cap = 1.05 * free.cost_bps
    capped = liquidate(book, cash, risk_band=band, max_total_mi_bps=cap, raise_on_failure=False)
    assert capped.success, (capped.status, capped.message)
    assert_feasible(holdings, capped, cash, covariance=covariance, risk_band=band, max_total_mi_bps=cap)


def test_the_work_around_the_search_is_one_pass(monkeypatch):
    """Beyond the multiplier search, a call prices its answer once (one I-Star evaluation per name, shared by
    the check and the trade table) and does no Python loop over the names (the factor model's symbol list,
    about 2 us a name under pandas' arrow strings, is not built)."""
    from krg_liquidity import CostModel, synthetic_universe
    from krg_liquidity.book.risk import FactorModel

    holdings, model = synthetic_universe(400, n_factors=4, seed=2)
    holdings.loc[::3, "pov"] = 0.1  # both kinds of names: fixed POV and trade time
    holdings.loc[::3, "trade_time"] = np.nan
    book = Portfolio(holdings, factor_model=model)
    cash = 0.1 * book.net_value_usd
    calls = []
    real = CostModel.istar_bps
    monkeypatch.setattr(CostModel, "istar_bps", lambda self, *a: calls.append(len(a[0])) or real(self, *a))
    monkeypatch.setattr(FactorModel, "symbols", property(lambda self: pytest.fail("symbols built per call")))
    result = liquidate(book, cash)
    assert result.status == "optimal" and result.method == "separable"
    assert calls == [400]
    assert result.assumptions["risk_model"] == {"kind": "factor model", "factors": 4, "names": 400}


class Spent(Budget):
    """A budget with no time left (no clock involved)."""

    def left(self) -> float:
        return 0.0


def test_explanations_keep_to_their_budget_and_say_so_once(example):
    """The most-cash bisection checks the budget (it no longer runs its 40-odd searches past it), and an
    explanation short of time says what it could not compute in one sentence."""
    from krg_liquidity.core.errors import SolverTimeout
    from krg_liquidity.solve.capacity import most_cash
    from krg_liquidity.solve.explain import infeasible

    request = liquidation_request(example[2], 1e9, limits=Limits(max_total_mi_bps=5.0))
    with pytest.raises(SolverTimeout, match="bisection"):
        most_cash(request, Spent(1.0))
    message = str(infeasible(request, "a reason", Spent(1.0)))
    assert message.count("time budget") == 1 and "The most cash and the blocking limits could not be computed" in message
