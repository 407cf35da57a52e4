"""Trading schedules, basket view, strategy optimization and Almgren-Chriss."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from krg_liquidity import (
    CostModel,
    InputError,
    Portfolio,
    almgren_chriss,
    almgren_chriss_frontier,
    basket_view,
    liquidate,
    load_example,
    load_volume_profile,
    optimize_strategy,
    plot_almgren_chriss_frontier,
    plot_basket,
    plot_completion,
    pov_schedule,
    schedule_impact,
    vwap_schedule,
)
from krg_liquidity.cli import app
from krg_liquidity.schedule.strategy import discrete_cost_and_variance

DIVISORS = [1, 2, 3, 5, 6, 10, 13, 15, 26, 30, 39, 65, 78, 130, 195, 390]


def flat_profile() -> pd.Series:
    minutes = [f"{(570 + m) // 60:02d}:{(570 + m) % 60:02d}" for m in range(390)]
    return pd.Series(1 / 390, index=minutes)


def random_profile(seed: int) -> pd.Series:
    profile = flat_profile()
    return pd.Series(np.random.default_rng(seed).dirichlet(np.full(390, 2.0)), index=profile.index)


@settings(max_examples=60, deadline=None)
@given(shares=st.lists(st.integers(-2_000_000, 2_000_000), min_size=1, max_size=6),
       pov=st.floats(0.005, 0.6), seed=st.integers(0, 1000), bucket=st.sampled_from(DIVISORS[2:]))
def test_pov_schedule_invariants(shares, pov, seed, bucket):
    n = len(shares)
    rng = np.random.default_rng(seed)
    trades = pd.DataFrame({"symbol": [f"N{i}" for i in range(n)], "shares": shares,
                           "adv": rng.uniform(2e5, 5e6, n), "pov": pov})
    profile = random_profile(seed)
    schedule = pov_schedule(trades, profile=profile, bucket_minutes=bucket, start="2026-03-02")
    for row in trades.itertuples():
        rows = schedule[schedule["symbol"] == row.symbol]
        if row.shares == 0:
            assert rows.empty
            continue
        assert rows["shares"].sum() == row.shares  # exact, whole shares
        assert np.all(rows["shares"] == np.round(rows["shares"]))
        assert np.all(np.sign(rows["shares"]) == np.sign(row.shares))
        size = abs(row.shares) / row.adv
        days = math.ceil(size * (1 - pov) / pov - 1e-9) if size * (1 - pov) / pov > 1e-9 else 1
        assert rows["day"].max() <= max(days, 1)
        assert rows["day"].max() >= max(days, 1) or abs(row.shares) <= len(rows) + 1
        assert np.all(rows["pov"].iloc[:-1] <= pov * (1 + 1e-12))
        assert rows["fraction_done"].iloc[-1] == pytest.approx(1.0)
        assert np.all(np.diff(np.abs(rows["cum_shares"])) >= 0)


def test_days_and_pov_per_bucket():
    trades = pd.DataFrame({"symbol": ["A"], "shares": [-450_000], "adv": [1e6], "pov": [0.1]})
    schedule = pov_schedule(trades, bucket_minutes=30, start="2026-03-06")  # a Friday
    assert schedule["day"].max() == math.ceil(0.45 * 0.9 / 0.1)  # 4.05 days -> 5
    assert schedule["bucket_start"].iloc[0] == pd.Timestamp("2026-03-06 09:30")
    assert schedule[schedule["day"] == 2]["bucket_start"].iloc[0] == pd.Timestamp("2026-03-09 09:30")
    np.testing.assert_allclose(schedule["pov"].iloc[:-1], 0.1, atol=1e-4)
    assert len(schedule) == 4 * 13 + 1


def test_liquidation_result_feeds_schedule():
    holdings, covariance = load_example()
    result = liquidate(Portfolio(holdings, covariance), 1e9)
    schedule = pov_schedule(result.trades, start="2026-03-02")
    totals = schedule.groupby("symbol", observed=True)["shares"].sum().to_dict()
    expected = np.round(result.trades.set_index("symbol")["shares_traded"]).to_dict()
    assert totals == {k: v for k, v in expected.items() if v != 0}


def test_zero_trade_has_no_rows():
    trades = pd.DataFrame({"symbol": ["A", "B"], "shares": [0, 0], "adv": [1e6, 1e6], "pov": [0.0, 0.0]})
    assert pov_schedule(trades).empty


@pytest.mark.parametrize("change, text", [
    (dict(adv=0.0), "'adv'"),
    (dict(adv=np.nan), "'adv'"),
    (dict(pov=1.5), "'pov' must be in"),
])
def test_bad_orders(change, text):
    trades = pd.DataFrame({"symbol": ["A"], "shares": [1000], "adv": [1e6], "pov": [0.1]}).assign(**change)
    with pytest.raises(InputError, match=text):
        pov_schedule(trades)


def test_bad_trade_time_and_profiles():
    trades = pd.DataFrame({"symbol": ["A"], "shares": [1000], "adv": [1e6], "trade_time": [0.0]})
    with pytest.raises(InputError, match="'trade_time' must be > 0 days for A"):
        pov_schedule(trades)
    good = trades.assign(trade_time=1.0)
    with pytest.raises(InputError, match="bucket_minutes=7 must divide the 390-minute session"):
        pov_schedule(good, bucket_minutes=7)
    with pytest.raises(InputError, match="sum to 1"):
        pov_schedule(good, profile=flat_profile() * 1.1)
    with pytest.raises(InputError, match="no row for A"):
        pov_schedule(good, profile=pd.DataFrame([flat_profile().to_numpy()], index=["B"], columns=flat_profile().index))


def test_per_symbol_profiles():
    profiles = pd.DataFrame([random_profile(1).to_numpy(), random_profile(2).to_numpy()], index=["A", "B"],
                            columns=flat_profile().index)
    trades = pd.DataFrame({"symbol": ["A", "B"], "shares": [-50_000, -50_000], "adv": [1e6, 1e6], "pov": [0.1, 0.1]})
    schedule = pov_schedule(trades, profile=profiles, bucket_minutes=30, start="2026-03-02")
    a = schedule[schedule.symbol == "A"]["expected_market_volume"].to_numpy()
    b = schedule[schedule.symbol == "B"]["expected_market_volume"].to_numpy()
    assert not np.allclose(a[: min(len(a), len(b))], b[: min(len(a), len(b))])


@pytest.mark.parametrize("days", [1.0, 2.0])
def test_constant_pov_schedule_impact_equals_pov_formula(days):
    size, pov = days * 0.1 / 0.9, 0.1  # trade time exactly `days` at 10% POV
    trades = pd.DataFrame({"symbol": ["A"], "shares": [-size * 1e6], "adv": [1e6], "pov": [pov], "volatility": [0.3]})
    schedule = pov_schedule(trades, bucket_minutes=15, whole_shares=False, start="2026-03-02")
    assert schedule["day"].max() == days
    impact = schedule_impact(schedule, trades).iloc[0]
    direct = CostModel().market_impact(pd.DataFrame({"Size": [size], "Volatility": [0.3], "POV": [pov]})).iloc[0]
    assert impact == pytest.approx(direct, rel=1e-9)


def test_vwap_schedule_follows_volume():
    trades = pd.DataFrame({"symbol": ["A"], "shares": [-1_000_003], "adv": [5e6]})
    schedule = vwap_schedule(trades, horizon_days=2.0, bucket_minutes=30, start="2026-03-02")
    assert schedule["shares"].sum() == -1_000_003
    assert len(schedule) == 26
    expected = schedule["expected_market_volume"] / schedule["expected_market_volume"].sum() * 1_000_003
    assert np.all(np.abs(schedule["shares"].abs() - expected) <= 1.0)


def test_basket_view_cash_and_single_name_timing_risk():
    trades = pd.DataFrame({"symbol": ["A"], "shares": [-300_000], "adv": [3e6], "trade_time": [1.0]})
    holdings = pd.DataFrame({"symbol": ["A", "B"], "shares": [1e6, 1e6], "price": [50.0, 20.0], "adv": [3e6, 1e6],
                             "volatility": [0.3, 0.2], "trade_time": [1.0, 1.0]})
    covariance = pd.DataFrame([[0.09, 0.01], [0.01, 0.04]], index=["A", "B"], columns=["A", "B"])
    book = Portfolio(holdings, covariance)
    schedule = pov_schedule(trades, profile=flat_profile(), bucket_minutes=5, whole_shares=False, start="2026-03-02")
    view = basket_view(schedule, book, bucket_minutes=5)
    assert view.buckets["cum_cash_usd"].iloc[-1] == pytest.approx(300_000 * 50.0)
    assert view.buckets["residual_value_usd"].iloc[-1] == pytest.approx(0.0, abs=1e-6)
    tr_bps = CostModel().timing_risk(pd.DataFrame({"Shares": [300_000], "ADV": [3e6], "Volatility": [0.3],
                                                   "TradeTime": [1.0]})).iloc[0]
    assert view.timing_risk_usd == pytest.approx(tr_bps / 1e4 * 300_000 * 50.0, rel=1e-9)
    assert view.timing_risk_uncorrelated_usd == pytest.approx(view.timing_risk_usd, rel=1e-9)


def test_basket_correlations_matter():
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    result = liquidate(book, 1e9)
    schedule = pov_schedule(result.trades, bucket_minutes=30, start="2026-03-02")
    view = basket_view(schedule, book, bucket_minutes=30)
    assert view.timing_risk_usd > 1.5 * view.timing_risk_uncorrelated_usd  # a long book: positive correlations
    assert view.buckets["cum_cash_usd"].iloc[-1] == pytest.approx(-(schedule["shares"] * schedule["symbol"].map(
        holdings.set_index("Symbol")["Price"]).astype(float)).sum())
    assert plot_basket(view.buckets).axes and plot_completion(schedule).axes


# ----- strategy choice -----

def test_optimize_strategy_is_a_minimum_and_monotone_in_risk_aversion():
    trades = pd.DataFrame({"Symbol": ["A", "B"], "Size": [0.1, 0.3], "Volatility": [0.25, 0.3], "Alpha_bp": [0, 20]})
    model = CostModel()
    previous = None
    for lam in (0.02, 0.1, 0.3):
        best = optimize_strategy(trades, lam)
        for row in best.itertuples():
            for bump in (0.98, 1.02):
                pov = min(1.0, row.pov * bump)
                trial = trades.iloc[[row.Index]].assign(POV=pov)
                value = (model.market_impact(trial) + model.price_appreciation(trial)
                         + lam * model.timing_risk(trial)).iloc[0]
                assert value >= row.objective_bps - 1e-9
        if previous is not None:
            assert np.all(best["pov"].to_numpy() >= previous)
        previous = best["pov"].to_numpy()
    neutral = optimize_strategy(trades.assign(Alpha_bp=0.0), 0.0)
    assert np.allclose(neutral["pov"], 1e-4)  # no risk, no alpha: trade as slowly as allowed


# ----- Almgren-Chriss -----

PAPER = dict(shares=1e6, periods=5, period_days=1.0, sigma=0.95, eta=2.5e-6, gamma=2.5e-7, epsilon=0.0625)


@pytest.mark.parametrize("lam", [0.0, 1e-8, 1e-7, 1e-6, 1e-5])
def test_almgren_chriss_closed_form_matches_discrete_sums(lam):
    ac = almgren_chriss(**PAPER, risk_aversion=lam)
    expected, variance = discrete_cost_and_variance(ac, PAPER["sigma"], PAPER["eta"], PAPER["gamma"],
                                                    PAPER["epsilon"], PAPER["period_days"])
    assert ac.expected_cost == pytest.approx(expected, rel=1e-10)
    assert ac.variance == pytest.approx(variance, rel=1e-10)
    assert ac.holdings[0] == pytest.approx(1e6, rel=1e-12) and ac.holdings[-1] == pytest.approx(0.0, abs=1e-6)
    assert ac.trades.sum() == pytest.approx(1e6)


def test_almgren_chriss_paper_example():
    ac = almgren_chriss(**PAPER, risk_aversion=1e-6)
    assert ac.kappa == pytest.approx(0.6, abs=0.01)
    straight = almgren_chriss(**PAPER, risk_aversion=0.0)
    np.testing.assert_allclose(straight.holdings, [1e6, 8e5, 6e5, 4e5, 2e5, 0.0])
    assert ac.expected_cost > straight.expected_cost and ac.variance < straight.variance


def test_almgren_chriss_frontier_and_errors():
    table = almgren_chriss_frontier(**PAPER, risk_aversions=[0, 1e-7, 1e-6, 1e-5])
    assert table["std_usd"].is_monotonic_decreasing and table["expected_cost_usd"].is_monotonic_increasing
    assert plot_almgren_chriss_frontier(table).axes
    with pytest.raises(ValueError, match="eta - gamma"):
        almgren_chriss(**{**PAPER, "gamma": 1e-4}, risk_aversion=1e-6)


def test_cli_schedule_round_trip(tmp_path):
    trades = pd.DataFrame({"symbol": ["A", "B"], "shares": [-123_457, 50_000], "adv": [2e6, 1e6], "pov": [0.05, 0.1]})
    source, target = tmp_path / "trades.csv", tmp_path / "schedule.parquet"
    trades.to_csv(source, index=False)
    result = CliRunner().invoke(app, ["schedule", str(source), "--output", str(target), "--bucket-minutes", "15",
                                      "--start", "2026-03-02"])
    assert result.exit_code == 0, result.output
    back = pd.read_parquet(target)
    assert back.groupby("symbol", observed=True)["shares"].sum().to_dict() == {"A": -123_457, "B": 50_000}
    assert "(1 sell, 1 buy)" in result.output and "every order is a buy" not in result.output
    bad = CliRunner().invoke(app, ["schedule", str(source), "--output", str(target), "--bucket-minutes", "7"])
    assert bad.exit_code == 2 and "must divide" in bad.output
    holdings = tmp_path / "holdings.csv"  # a book of positions given by mistake: scheduled as buys, and said so
    trades.assign(shares=[123_457, 50_000]).to_csv(holdings, index=False)
    result = CliRunner().invoke(app, ["schedule", str(holdings), "--output", str(target)])
    assert result.exit_code == 0 and "(0 sell, 2 buy)" in result.output
    assert "every order is a buy" in result.output and "krg-liquidity liquidate" in result.output
    weekend = CliRunner().invoke(app, ["schedule", str(source), "--output", str(target), "--start", "2026-02-28"])
    assert weekend.exit_code == 0 and "2026-02-28 is not a business day" in weekend.output
    assert "starts on Monday 2026-03-02" in weekend.output
    nonsense = CliRunner().invoke(app, ["schedule", str(source), "--output", str(target), "--start", "2026-13-45"])
    assert nonsense.exit_code == 2 and "'start' is not a date" in nonsense.output and "YYYY-MM-DD" in nonsense.output


def test_schedule_grid_for_traders(tmp_path):
    """A trader's grid: one row per bucket, one column of shares per name (each sums to its order), from the
    API, the --grid option and the grid sheet of an .xlsx schedule."""
    import openpyxl

    from krg_liquidity import schedule_grid

    trades = pd.DataFrame({"symbol": ["A", "B", "C"], "shares": [-123_457, 50_000, -7],
                           "adv": [2e6, 1e6, 1e5], "pov": [0.05, 0.1, 0.2]})
    plan = pov_schedule(trades, bucket_minutes=30, start="2026-03-02")
    grid = schedule_grid(plan)
    assert list(grid.columns) == ["day", "bucket_start", "A", "B", "C"]
    assert len(grid) == plan[["day", "bucket_start"]].drop_duplicates().shape[0]
    assert grid["bucket_start"].is_monotonic_increasing
    assert grid[["A", "B", "C"]].sum().to_dict() == {"A": -123_457, "B": 50_000, "C": -7}
    assert (grid["C"] == 0).sum() == len(grid) - 1  # C trades in one bucket: zeros elsewhere
    source, target, csv = tmp_path / "trades.csv", tmp_path / "schedule.xlsx", tmp_path / "grid.csv"
    trades.to_csv(source, index=False)
    result = CliRunner().invoke(app, ["schedule", str(source), "--output", str(target), "--grid", str(csv),
                                      "--start", "2026-03-02"])
    assert result.exit_code == 0, result.output
    from_csv = pd.read_csv(csv)
    assert list(from_csv.columns) == list(grid.columns) and from_csv["A"].tolist() == grid["A"].tolist()
    sheets = pd.read_excel(target, sheet_name=None)
    assert list(sheets) == ["schedule", "grid"] and sheets["grid"]["B"].sum() == 50_000
    assert openpyxl.load_workbook(target)["grid"]["C2"].number_format == "#,##0"
    with pytest.raises(ValueError, match="schedule"):
        schedule_grid(trades)  # the trades, not a schedule


def test_bundled_profile_is_a_model_summing_to_one():
    profile = load_volume_profile()
    assert len(profile) == 390 and profile.sum() == pytest.approx(1.0)
    assert profile.iloc[0] > 2 * profile.iloc[195] and profile.iloc[-1] > 2 * profile.iloc[195]


def test_pov_schedule_over_a_profile_with_an_empty_bucket_and_a_percent_profile():
    minutes = [f"{(570 + m) // 60:02d}:{(570 + m) % 60:02d}" for m in range(390)]
    profile = pd.Series(1 / 390, index=minutes)
    gap = profile.copy()
    gap.iloc[120:180] = 0.0  # 11:30-12:29: nobody trades
    trades = pd.DataFrame({"symbol": ["A"], "shares": [-300_000], "adv": [2e6], "pov": [0.1]})
    schedule = pov_schedule(trades, profile=gap / gap.sum(), start="2026-03-02")
    assert schedule["pov"].notna().all() and schedule["pov"].max() <= 0.1 + 1e-9
    with pytest.raises(InputError, match="sums to 100; it looks like percent: divide the fractions by 100"):
        pov_schedule(trades, profile=profile * 100)


def test_cli_schedule_starts_at_the_next_session_and_says_it_rounded(tmp_path):
    """Issue 16 trial item 20: run after the close the schedule still started today at 09:30, and
    fractional orders were rounded to whole shares without a word."""
    import datetime as dt

    from krg_liquidity.cli.schedule import next_session

    utc = dt.timezone.utc
    assert next_session(None, 30, dt.datetime(2026, 12, 3, 18, 30, tzinfo=utc)) == ("2026-12-03", "")  # 13:30 NY
    day, note = next_session(None, 30, dt.datetime(2026, 12, 3, 21, 30, tzinfo=utc))  # 16:30 in New York
    assert day == "2026-12-04" and "today's session is over" in note and "Friday 2026-12-04" in note
    assert next_session(None, 30, dt.datetime(2026, 12, 5, 15, 0, tzinfo=utc))[0] == "2026-12-07"  # a Saturday
    source, target = tmp_path / "trades.csv", tmp_path / "schedule.csv"
    source.write_text("symbol,shares_traded,adv,pov\nA,-100.4,100000,0.1\nB,-200,100000,0.1\n")
    result = CliRunner().invoke(app, ["schedule", str(source), "--output", str(target), "--start", "2026-01-05"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "1 order is fractional (A -100.4 shares); the schedule rounds each order to whole shares (A -100)" \
        in result.output
    assert pd.read_csv(target).groupby("symbol")["shares"].sum().to_dict() == {"A": -100, "B": -200}
