"""Liquidity profile: days, buckets that add up to the book, costs at the cap, most cash per horizon."""

import numpy as np
import pytest
from books import small_book

from krg_liquidity import CostModel, InputError, Portfolio, load_example, max_cash
from krg_liquidity.whatif.liquidity import bucket_labels, horizon_book, liquidity_profile


def _book(seed=7, n=12, short_fraction=0.0):
    holdings, covariance, _ = small_book(seed, n=n, short_fraction=short_fraction, bounds=False)
    return holdings, Portfolio(holdings, covariance)


@pytest.mark.parametrize("short_fraction", [0.0, 0.3])
def test_buckets_sum_to_the_book(short_fraction):
    holdings, book = _book(short_fraction=short_fraction)
    profile = liquidity_profile(book, 0.2, (1, 3, 7, 30))
    names = profile.buckets[profile.buckets["symbol"] != "book"].set_index("symbol")
    position = np.abs(holdings["shares"] * holdings["price"]).to_numpy()
    np.testing.assert_allclose(names.sum(axis=1).to_numpy(), position, rtol=1e-12)
    assert (names.to_numpy() >= -1e-6).all()
    book_row = profile.buckets[profile.buckets["symbol"] == "book"].iloc[0, 1:]
    assert book_row.sum() == pytest.approx(book.gross_value_usd, rel=1e-12)
    assert list(profile.buckets.columns[1:]) == ["within 1 day", "1-3 days", "3-7 days", "7-30 days", "beyond 30 days"]


def test_days_and_sellable_follow_the_pov_conversion():
    holdings, book = _book()
    p = 0.25
    profile = liquidity_profile(book, p, (1, 2))
    size = np.abs(holdings["shares"] / holdings["adv"]).to_numpy()
    np.testing.assert_allclose(profile.days["days_to_liquidate"], CostModel.pov_to_trade_time(p, size), rtol=1e-12)
    one = profile.by_horizon[profile.by_horizon["horizon_days"] == 1]
    q = np.minimum(np.abs(holdings["shares"]), p / (1 - p) * holdings["adv"]).to_numpy()
    np.testing.assert_allclose(one["shares_sellable"], q, rtol=1e-12)
    mi = CostModel().impact_bps_at_pov(q / holdings["adv"].to_numpy(), holdings["volatility"].to_numpy(), p)
    np.testing.assert_allclose(one["mi_bps"], mi, rtol=1e-12)
    done = profile.days["days_to_liquidate"].to_numpy() <= 1
    np.testing.assert_allclose(one["fraction_of_position"].to_numpy()[done], 1.0)


def test_most_cash_per_horizon():
    holdings, book = _book()
    free = liquidity_profile(book, 0.2, (1, 3))
    # without a cost budget the most cash is what the cap lets the longs sell (a long-only book)
    np.testing.assert_allclose(free.book["max_cash_usd"], np.minimum(free.book["value_sellable_usd"],
                                                                     book.net_value_usd), rtol=1e-6)
    budget = liquidity_profile(book, 0.2, (1, 3, 7), cost_budget_bps=15)
    most = budget.book["max_cash_usd"].to_numpy()
    assert np.all(np.diff(most) >= -1e-6 * most[:-1]) and np.all(most <= free.book["max_cash_usd"].max() + 1)
    alone = max_cash(horizon_book(book, 3, 0.2), max_total_mi_bps=15)
    assert most[1] == pytest.approx(alone, rel=1e-9)


def test_book_limits_are_kept_only_on_request():
    book = Portfolio(*load_example())
    loose = liquidity_profile(book, 0.2, (1, 30), cost_budget_bps=30)
    kept = liquidity_profile(book, 0.2, (1, 30), cost_budget_bps=30, book_limits=True)
    assert (kept.book["max_cash_usd"] <= loose.book["max_cash_usd"] * (1 + 1e-9)).all()
    assert "lb_wt" in horizon_book(book, 1, 0.2, book_limits=True).holdings
    assert "lb_wt" not in horizon_book(book, 1, 0.2).holdings


def test_bad_profile_requests():
    _, book = _book()
    with pytest.raises(InputError, match="pov_cap"):
        liquidity_profile(book, 20)
    with pytest.raises(InputError, match="increasing"):
        liquidity_profile(book, 0.2, (3, 1))
    assert bucket_labels((0.5, 2)) == ["within 0.5 days", "0.5-2 days", "beyond 2 days"]


def test_figures():
    from matplotlib.figure import Figure

    from krg_liquidity import Scenario, plot_liquidity_buckets, plot_stress, stress_test

    book = Portfolio(*load_example())
    profile = liquidity_profile(book, 0.2, (1, 3))
    figure = plot_liquidity_buckets(profile, top=5)
    assert isinstance(figure, Figure) and len(figure.axes[1].patches) == 5 * 3  # 5 names x 3 buckets
    table = stress_test(book, 1e9, [Scenario("base"), Scenario("thin", adv=0.5)], risk_band=(0.9, 1.1),
                        with_max_cash=False)
    figure = plot_stress(table)
    axis = figure.axes[0]
    assert [t.get_text() for t in axis.get_xticklabels()] == ["base", "thin"]
    assert "infeasible" in [t.get_text() for t in axis.texts]  # the thin book's optimized row has no bar
    assert len(axis.patches) == 5
