"""Optimal trade schedules: single name, basket, Almgren-Chriss special case, invariants."""

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from krg_liquidity import (
    KISSELL_2013_ALL_DATA,
    CostModel,
    InfeasibleSchedule,
    InputError,
    IStarParams,
    Portfolio,
    SolverTimeout,
    almgren_chriss,
    basket_view,
    liquidate,
    load_example,
    load_volume_profile,
    optimize_basket_schedule,
    optimize_schedule,
    plot_completion,
    plot_schedule_frontier,
    schedule_frontier,
    synthetic_universe,
    vwap_schedule,
)
from krg_liquidity.book.risk import RiskOperator
from krg_liquidity.cli import app
from krg_liquidity.model.profiles import profile_buckets
from krg_liquidity.schedule.barrier import BarrierSchedule
from krg_liquidity.schedule.check import basket_timing_risk_usd, check_schedule
from krg_liquidity.schedule.data import ProgramData
from krg_liquidity.schedule.program import ScheduleProgram

MATLAB_ORDER = {"shares": 100_000, "adv": 1_000_000, "volatility": 0.25, "price": 35.0}  # MATLAB's single-stock data


def flat_profile() -> pd.Series:
    minutes = [f"{(570 + m) // 60:02d}:{(570 + m) % 60:02d}" for m in range(390)]
    return pd.Series(1 / 390, index=minutes)


def random_profile(seed: int) -> pd.Series:
    return pd.Series(np.random.default_rng(seed).dirichlet(np.full(390, 2.0)), index=flat_profile().index)


def krg_objective_bps(fractions, order, volume, lam, alpha_bp=0.0, model=CostModel()):
    """MI + PA + lam TR (bps) of fractional schedules (rows), straight from krg's schedule formulas."""
    p = model.params
    fractions = np.atleast_2d(fractions)
    x = fractions * order["shares"]
    size = order["shares"] / order["adv"]
    istar = model.istar_bps(size, order["volatility"])
    with np.errstate(invalid="ignore", divide="ignore"):
        pov = np.where(x > 0, x / (x + volume), 0.0)
    mi = istar * (p.b1 * np.sum(fractions * pov**p.a4, axis=1) + 1 - p.b1)
    periods = volume.size
    dt = volume.sum() / order["adv"] / periods
    pa = alpha_bp * dt * (fractions * np.arange(1, periods + 1)).sum(axis=1)
    remaining = 1 - np.concatenate([np.zeros((len(x), 1)), np.cumsum(fractions, axis=1)], axis=1)
    r0, r1 = remaining[:, :-1], remaining[:, 1:]
    tr = order["volatility"] * np.sqrt(np.sum(dt * (r0 * r0 + r0 * r1 + r1 * r1) / 3, axis=1) / 250) * 1e4
    return mi + pa + lam * tr


# ----- single name -----

OTHER_A4 = IStarParams(a1=708.0, a2=0.55, a3=0.71, a4=0.8, b1=0.9)  # a4 != 0.5: the power-cone form


@pytest.mark.parametrize("periods, bucket, lam, alpha, params", [
    (2, 195, 0.3, 0.0, KISSELL_2013_ALL_DATA), (2, 195, 2.0, 30.0, KISSELL_2013_ALL_DATA),
    (3, 130, 0.8, 0.0, KISSELL_2013_ALL_DATA), (3, 130, 0.1, -40.0, KISSELL_2013_ALL_DATA),
    (3, 130, 0.5, 0.0, OTHER_A4), (2, 195, 0.05, 10.0, OTHER_A4)])
def test_single_name_matches_brute_force_grid(periods, bucket, lam, alpha, params):
    profile = random_profile(7)
    model = CostModel(params)
    solution = optimize_schedule(MATLAB_ORDER, profile=profile, periods=periods, risk_aversion=lam, alpha_bps=alpha,
                                 bucket_minutes=bucket, start="2026-03-02", cost_model=model)
    volume = MATLAB_ORDER["adv"] * profile_buckets(profile, bucket)[1][:periods]
    step = 0.002
    grid = np.arange(0, 1 + step / 2, step)
    points = np.array([p for p in itertools.product(grid, repeat=periods - 1) if sum(p) <= 1 + 1e-12])
    fractions = np.column_stack([points, 1 - points.sum(axis=1)])
    values = krg_objective_bps(fractions, MATLAB_ORDER, volume, lam, alpha, model)
    ours = np.zeros(periods)
    ours[(solution.schedule["bucket_start"].dt.hour * 60 + solution.schedule["bucket_start"].dt.minute - 570)
         // bucket] = solution.schedule["shares"].to_numpy() / MATLAB_ORDER["shares"]
    # the objective the test writes from krg's formulas equals the cost model's schedule path
    rows = pd.DataFrame({"Shares": [MATLAB_ORDER["shares"]], "ADV": [MATLAB_ORDER["adv"]], "Volatility": [0.25],
                         "TradeSchedule": [ours * MATLAB_ORDER["shares"]], "VolumeProfile": [volume],
                         "Alpha_bp": [alpha]})
    direct = (model.market_impact(rows) + model.price_appreciation(rows) + lam * model.timing_risk(rows)).iloc[0]
    assert krg_objective_bps(ours, MATLAB_ORDER, volume, lam, alpha, model)[0] == pytest.approx(direct, rel=1e-12)
    assert solution.objective_bps == pytest.approx(direct, rel=1e-12)
    assert solution.objective_bps <= values.min() + 1e-9  # no grid point beats the optimum
    best = fractions[values.argmin()]
    assert np.max(np.abs(best - ours)) <= 2 * step  # and the grid's best sits next to it


def test_single_order_without_a_price_says_dollars_are_per_dollar_of_price():
    unpriced = optimize_schedule({k: v for k, v in MATLAB_ORDER.items() if k != "price"}, periods=13)
    priced = optimize_schedule(MATLAB_ORDER, periods=13)
    assert any("no price given" in note for note in unpriced.notes) and "no price given" in unpriced.summary()
    assert priced.notes == [] and unpriced.objective_bps == pytest.approx(priced.objective_bps, rel=1e-9)
    assert "0 (every limit met, recomputed from the whole-share schedule)" in priced.summary()  # not "1.2e-10"


def test_matlab_single_stock_least_impact_is_equal_pov():
    """lambda = 0 and no alpha: least impact trades at one POV in every bucket, whatever the profile;
    its impact is the trade-time formula over the horizon (one day here: 100,000 / 1,100,000 POV)."""
    for profile in (flat_profile(), load_volume_profile()):
        solution = optimize_schedule(MATLAB_ORDER, profile=profile, periods=13, risk_aversion=0.0, start="2026-03-02")
        pov = solution.schedule["pov"].to_numpy()
        assert len(pov) == 13 and np.ptp(pov) < 2e-5  # within whole-share rounding
        expected = CostModel().impact_bps_at_trade_time(0.1, 0.25, 1.0)
        assert solution.names["mi_bps"].iloc[0] == pytest.approx(expected, rel=1e-5)
    flat = optimize_schedule(MATLAB_ORDER, profile=flat_profile(), periods=13, risk_aversion=0.0)
    assert np.ptp(flat.schedule["shares"].to_numpy()) <= 1.0  # equal shares per bucket


def test_risk_aversion_front_loads_and_trades_cost_for_risk():
    done, mi, tr = [], [], []
    for lam in (0.0, 0.2, 1.0, 5.0):
        solution = optimize_schedule(MATLAB_ORDER, profile=flat_profile(), periods=13, risk_aversion=lam)
        shares = solution.schedule["shares"].to_numpy()
        done.append(np.cumsum(shares) / shares.sum())
        mi.append(solution.names["mi_bps"].iloc[0])
        tr.append(solution.names["tr_bps"].iloc[0])
        if lam > 0:
            assert np.all(np.diff(shares) <= 1.0)  # decreasing: front-loaded (flat volume)
    for slower, faster in zip(done, done[1:]):
        assert np.all(faster >= slower - 1e-5)
    assert done[-1][0] > 0.5  # lambda = 5: more than half in the first half hour
    assert np.all(np.diff(mi) > 0) and np.all(np.diff(tr) < 0)


def test_free_schedule_beats_vwap_and_pov_of_the_same_horizon():
    profile = load_volume_profile()
    order = dict(MATLAB_ORDER, shares=-300_000)
    solution = optimize_schedule(order, profile=profile, periods=26, risk_aversion=0.5, alpha_bps=20.0)
    vwap = vwap_schedule(pd.DataFrame({"symbol": ["X"], "shares": [-300_000], "adv": [1e6]}), 2.0, profile=profile)
    model = CostModel()
    rows = pd.DataFrame({"Shares": [300_000], "ADV": [1e6], "Volatility": [0.25], "Alpha_bp": [20.0],
                         "TradeSchedule": [vwap["shares"].abs().to_numpy()],
                         "VolumeProfile": [vwap["expected_market_volume"].to_numpy()]})
    vwap_value = (model.market_impact(rows) + model.price_appreciation(rows) + 0.5 * model.timing_risk(rows)).iloc[0]
    assert solution.objective_bps < vwap_value
    assert solution.schedule["shares"].sum() == -300_000 and (solution.schedule["shares"] < 0).all()


# ----- Almgren-Chriss special case -----

@pytest.mark.parametrize("lam", [0.0, 1e-7, 1e-6, 1e-5])
def test_linear_impact_recovers_almgren_chriss_closed_form(lam):
    X, price, periods, tau, sigma, eta, gamma = 1e6, 50.0, 5, 1.0, 0.95, 2.5e-6, 2.5e-7
    eta_tilde = eta - 0.5 * gamma * tau
    data = ProgramData(
        value_usd=np.array([X * price]), side=np.array([1.0]), istar_bps=np.zeros(1),
        volume_ratio=np.ones((1, periods)), pa_bps=np.zeros((1, periods)), dt_days=np.full(periods, tau),
        risk=RiskOperator(np.zeros((1, 1)), np.array([sigma / price * np.sqrt(250)])), a4=0.5, b1=1.0,
        quadratic=np.full((1, periods), eta_tilde * X**2 / tau))  # (eta~/tau) n_k^2 in USD, n_k = X y_k
    ac = almgren_chriss(X, periods, tau, sigma, eta, gamma, 0.0, lam)
    # the optimum is E - gamma X^2 / 2 + lambda V of the closed form (in bps of X S0)
    optimum = (ac.expected_cost - 0.5 * gamma * X**2 + lam * ac.variance) / (X * price) * 1e4
    program = ScheduleProgram(data, kernel="step", measure="variance")
    fractions, status = program.solve(lam)
    structured = BarrierSchedule(data, kernel="step", measure="variance").solve(lam, tolerance=1e-10)
    assert status == "optimal" and structured.status == "optimal"
    for found, value in ((fractions, program.objective_bps), (structured.fractions, structured.objective_bps)):
        holdings = X * (1 - np.concatenate([[0.0], np.cumsum(found[0])]))
        np.testing.assert_allclose(holdings, ac.holdings, atol=1e-5 * X)
        assert value == pytest.approx(optimum, rel=1e-6)
    assert structured.objective_bps - structured.gap_bps <= optimum * (1 + 1e-12) + 1e-12  # the proven bound holds


# ----- basket -----

def two_day_basket(n=4, seed=3):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"symbol": [f"N{i}" for i in range(n)], "shares": -np.round(rng.uniform(1e5, 6e5, n)),
                         "adv": rng.uniform(1e6, 5e6, n), "price": rng.uniform(20, 120, n),
                         "volatility": rng.uniform(0.15, 0.45, n)})


def test_diagonal_basket_equals_single_name_solves():
    """With C diagonal, sum_i MI_i + lam sqrt(sum_i TR_i^2) is stationary where each name solves
    MI_i + lam_i TR_i with lam_i = lam TR_i / TR (the KKT conditions); the optimum is unique."""
    trades = two_day_basket()
    covariance = pd.DataFrame(np.diag(trades["volatility"] ** 2), index=trades["symbol"], columns=trades["symbol"])
    lam = 1.5
    basket = optimize_basket_schedule(trades, covariance=covariance, periods=13, risk_aversion=lam)
    value = trades["shares"].abs() * trades["price"]
    name_tr_usd = basket.names["tr_bps"].to_numpy() / 1e4 * value.to_numpy()
    assert basket.timing_risk_usd == pytest.approx(np.sqrt(np.sum(name_tr_usd**2)), rel=1e-9)
    for i, row in trades.iterrows():
        alone = optimize_schedule(row.to_dict(), periods=13, risk_aversion=lam * name_tr_usd[i] / basket.timing_risk_usd)
        ours = basket.schedule[basket.schedule["symbol"] == row["symbol"]]["shares"].to_numpy()
        theirs = alone.schedule["shares"].to_numpy()
        assert np.max(np.abs(ours - theirs)) <= 2e-4 * abs(row["shares"])


def hedged_pair(correlation: float):
    trades = pd.DataFrame({"symbol": ["FAST", "SLOW"], "shares": [-400_000, -400_000], "adv": [2e7, 5e5],
                           "price": [50.0, 50.0], "volatility": [0.40, 0.40]})
    c = correlation * 0.16
    covariance = pd.DataFrame([[0.16, c], [c, 0.16]], index=trades["symbol"], columns=trades["symbol"])
    plan = optimize_basket_schedule(trades, covariance=covariance, periods=26, risk_aversion=1.0)
    wide = plan.schedule.pivot_table(index="bucket_start", columns="symbol", values="fraction_done",
                                     observed=True).ffill().fillna(0.0)
    return plan, wide


def test_hedged_pair_is_traded_together():
    """Two sells of equal value, one name liquid and one not. Uncorrelated, the liquid name is done
    early and the other drags on; negatively correlated, each residual hedges the other and the
    optimizer keeps their completion paths together."""
    independent, wide0 = hedged_pair(0.0)
    hedged, wide1 = hedged_pair(-0.9)
    gap0 = float(np.max(np.abs(wide0["FAST"] - wide0["SLOW"])))
    gap1 = float(np.max(np.abs(wide1["FAST"] - wide1["SLOW"])))
    assert gap0 > 0.3 and gap1 < 0.5 * gap0
    assert hedged.timing_risk_usd < independent.timing_risk_usd


def test_liquidation_to_schedule_in_one_call():
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    result = liquidate(book, 1e9)
    plan = optimize_basket_schedule(result.trades, covariance=covariance, periods=26, risk_aversion=1.0,
                                    cash_by_period={13: 6e8}, start="2026-03-02")
    totals = plan.schedule.groupby("symbol", observed=True)["shares"].sum().to_dict()
    expected = np.round(result.trades.set_index("symbol")["shares_traded"]).to_dict()
    assert totals == {k: v for k, v in expected.items() if v != 0}
    assert plan.max_violation == 0.0 and plan.status == "optimal"
    view = basket_view(plan.schedule, book, bucket_minutes=30)
    assert view.timing_risk_usd == pytest.approx(plan.timing_risk_usd, rel=1e-9)
    day1 = view.buckets[view.buckets["bucket_start"] < pd.Timestamp("2026-03-03")]["cash_raised_usd"].sum()
    assert day1 >= 6e8
    assert plan.objective_usd == pytest.approx(plan.solver_objective_usd, rel=1e-6)
    assert plot_completion(plan.schedule).axes


def test_cash_milestone_binds_and_costs():
    trades = two_day_basket(5, seed=11)
    free = optimize_basket_schedule(trades, periods=26, risk_aversion=0.05)
    value = float((trades["shares"].abs() * trades["price"]).sum())
    day1 = free.cash_by_period_usd[12]
    assert day1 < 0.8 * value
    target = day1 + 0.5 * (value - day1)
    held = optimize_basket_schedule(trades, periods=26, risk_aversion=0.05, cash_by_period={13: target})
    assert held.cash_by_period_usd[12] >= target and held.violations["cash_milestones"] == 0.0
    assert held.objective_usd > free.objective_usd
    with pytest.raises(InfeasibleSchedule, match="cannot raise") as info:
        optimize_basket_schedule(trades, periods=26, max_pov=0.3, cash_by_period={1: 0.9 * value})
    assert 0 < info.value.reachable_usd < 0.9 * value


def test_participation_caps():
    trades = two_day_basket(3, seed=5)
    plan = optimize_basket_schedule(trades, periods=26, risk_aversion=3.0, max_pov=0.2)
    assert plan.schedule["pov"].max() <= 0.2 + 1e-12
    assert plan.schedule["pov"].max() >= 0.2 - 1e-4  # binding
    uncapped = optimize_basket_schedule(trades, periods=26, risk_aversion=3.0)
    assert uncapped.schedule["pov"].max() > 0.2
    with pytest.raises(InfeasibleSchedule, match="raise max_pov to at least") as info:
        optimize_basket_schedule(trades, periods=2, max_pov=0.05)
    assert info.value.symbols


def test_factor_model_basket_and_buys():
    holdings, model = synthetic_universe(30, n_factors=3, seed=2, short_fraction=0.3)
    trades = holdings.assign(shares=-np.round(holdings["shares"] * 0.2))  # sells of longs, buys covering shorts
    plan = optimize_basket_schedule(trades, factor_model=model, periods=13, risk_aversion=1.0)
    assert plan.max_violation == 0.0
    signs = plan.schedule.groupby("symbol", observed=True)["shares"].agg(lambda s: set(np.sign(s)))
    assert all(len(s) == 1 for s in signs)
    book = Portfolio(holdings, factor_model=model)
    assert basket_view(plan.schedule, book, 30).timing_risk_usd == pytest.approx(plan.timing_risk_usd, rel=1e-9)


def test_frontier_is_monotone_and_plots():
    trades = two_day_basket(4, seed=1)
    table = schedule_frontier(trades, [0.0, 0.3, 1.0, 3.0], periods=26)
    assert (table["status"] == "optimal").all() and (table["max_violation"] == 0).all()
    assert table["cost_usd"].is_monotonic_increasing and table["timing_risk_usd"].is_monotonic_decreasing
    assert plot_schedule_frontier(table).axes


@pytest.mark.parametrize("change, error, text", [
    (dict(price=np.nan), InputError, "'price'"),
    (dict(adv=-1.0), InputError, "'adv'"),
])
def test_bad_input_names_the_column(change, error, text):
    trades = two_day_basket(2).assign(**change)
    with pytest.raises(error, match=text):
        optimize_basket_schedule(trades, periods=13)


def test_bad_input_messages():
    trades = two_day_basket(2)
    with pytest.raises(InputError, match="missing column 'price'"):
        optimize_basket_schedule(trades.drop(columns="price"), periods=13)
    covariance = pd.DataFrame([[0.04]], index=["N0"], columns=["N0"])
    with pytest.raises(InputError, match="no row for N1"):
        optimize_basket_schedule(trades, covariance=covariance, periods=13)
    with pytest.raises(InputError, match=r"^'max_pov' must be in \(0, 1\] \(it is 20\); give .* 0.2 for 20%"):
        optimize_basket_schedule(trades, periods=13, max_pov=20)
    with pytest.raises(InputError, match="column 'max_pov' must be in .* for N1"):
        optimize_basket_schedule(trades, periods=13, max_pov={"N1": 1.5})
    assert "uncorrelated" in optimize_basket_schedule(trades, periods=13).summary()
    with pytest.raises(InputError, match="'risk_aversion'"):
        optimize_basket_schedule(trades, periods=13, risk_aversion=-1.0)
    with pytest.raises(InputError, match="cash_by_period"):
        optimize_basket_schedule(trades, periods=13, cash_by_period={14: 1e6})
    with pytest.raises(InputError, match="one order"):
        optimize_schedule(trades, periods=13)


# ----- invariants -----

@settings(max_examples=12, deadline=None)
@given(shares=st.lists(st.integers(-3_000_000, 3_000_000).filter(lambda s: s != 0), min_size=1, max_size=4),
       lam=st.floats(0.0, 3.0), periods=st.integers(1, 12), seed=st.integers(0, 1000),
       cap=st.one_of(st.none(), st.floats(0.1, 0.5)))
def test_optimal_schedule_invariants(shares, lam, periods, seed, cap):
    rng = np.random.default_rng(seed)
    n = len(shares)
    trades = pd.DataFrame({"symbol": [f"S{i}" for i in range(n)], "shares": shares, "adv": rng.uniform(5e6, 2e7, n),
                           "price": rng.uniform(5, 300, n), "volatility": rng.uniform(0.1, 0.6, n)})
    profile = random_profile(seed)
    try:
        plan = optimize_basket_schedule(trades, profile=profile, periods=periods, risk_aversion=lam, bucket_minutes=65,
                                        max_pov=cap)
    except InfeasibleSchedule:
        assert cap is not None  # only caps can make it infeasible here
        return
    table = plan.schedule
    assert plan.max_violation == 0.0
    for row in trades.itertuples():
        rows = table[table["symbol"] == row.symbol]
        assert rows["shares"].sum() == row.shares and np.all(np.sign(rows["shares"]) == np.sign(row.shares))
        assert np.all(rows["shares"] == np.round(rows["shares"]))
        assert rows["fraction_done"].iloc[-1] == pytest.approx(1.0)
    if cap is not None:
        assert table["pov"].max() <= cap + 1e-12
    # no worse than trading at the same pace in every name (VWAP over the horizon) when that is allowed
    vwap = vwap_schedule(trades, periods / 6, profile=profile, bucket_minutes=65)
    if cap is None or vwap["pov"].max() <= cap:
        model = CostModel()
        grid = np.zeros((n, periods))
        index = {s: i for i, s in enumerate(trades["symbol"])}
        minute = vwap["bucket_start"].dt.hour * 60 + vwap["bucket_start"].dt.minute
        k = ((vwap["day"] - 1) * 6 + (minute - 570) // 65).to_numpy()
        grid[vwap["symbol"].astype(str).map(index).to_numpy(), k] = vwap["shares"].abs().to_numpy()
        volume = trades["adv"].to_numpy()[:, None] * np.array([profile_fraction(profile, j) for j in range(periods)])
        rows = trades.assign(shares=trades["shares"].abs(), trade_schedule=list(grid), volume_profile=list(volume))
        value = (trades["shares"].abs() * trades["price"]).to_numpy()
        cost = float((model.market_impact(rows) + model.price_appreciation(rows.assign(alpha_bp=0.0))).to_numpy() @ value) / 1e4
        risk = RiskOperator(np.zeros((1, n)), trades["volatility"].to_numpy())
        tr = basket_timing_risk_usd(grid, -np.sign(trades["shares"].to_numpy()), trades["price"].to_numpy(), risk,
                                    np.full(periods, 1 / 6))
        assert plan.objective_usd <= cost + lam * tr + 1e-6 * value.sum()


def profile_fraction(profile: pd.Series, period: int) -> float:
    """Fraction of the day's volume in 65-minute bucket ``period % 6``."""
    j = period % 6
    return float(profile.iloc[65 * j: 65 * (j + 1)].sum())


def test_cli_schedule_optimize(tmp_path):
    trades = two_day_basket(3, seed=4)
    source, target = tmp_path / "trades.csv", tmp_path / "schedule.csv"
    trades.to_csv(source, index=False)
    runner = CliRunner()
    result = runner.invoke(app, ["schedule", str(source), "--output", str(target), "--optimize", "--risk-aversion", "2",
                                 "--periods", "13", "--start", "2026-03-02"])
    assert result.exit_code == 0, result.output
    back = pd.read_csv(target)
    assert back.groupby("symbol")["shares"].sum().to_dict() == trades.set_index("symbol")["shares"].to_dict()
    assert "timing risk" in result.output and "gap to optimum" in result.output
    workbook = tmp_path / "schedule.xlsx"
    result = runner.invoke(app, ["schedule", str(source), "--output", str(workbook), "--optimize", "--periods", "13"])
    assert result.exit_code == 0, result.output
    sheets = pd.read_excel(workbook, sheet_name=None)
    assert list(sheets) == ["schedule", "grid", "names", "summary"]
    summary = sheets["summary"].set_index("item")
    assert summary.loc["status", "value"] == "optimal" and summary.loc["engine", "value"] == "interior-point"
    assert float(summary.loc["gap_to_optimum", "value"]) >= 0 and summary.loc["objective", "unit"] == "USD"
    assert sheets["names"]["shares"].sum() == trades["shares"].sum()
    value = float((trades["shares"].abs() * trades["price"]).sum())
    result = runner.invoke(app, ["schedule", str(source), "--output", str(target), "--optimize", "--periods", "26",
                                 "--risk-aversion", "0.01", "--cash-by-period", f"13:{0.9 * value}", "--horizon",
                                 "N1:10", "--time-limit", "20", "--start", "2026-03-02"])
    assert result.exit_code == 0, result.output
    back = pd.read_csv(target, parse_dates=["bucket_start"])
    assert back[back["symbol"] == "N1"]["bucket_start"].max() < pd.Timestamp("2026-03-02 14:30")  # period 10
    day1 = back[back["day"] == 1]
    assert float((day1["shares"].abs() * day1["symbol"].map(trades.set_index("symbol")["price"])).sum()) >= 0.9 * value
    for extra, text in ((["--horizon", "N1=10"], "give KEY:VALUE"), (["--cash-by-period", "x:1"], "give KEY:VALUE")):
        bad = runner.invoke(app, ["schedule", str(source), "--output", str(target), "--optimize", *extra])
        assert bad.exit_code == 2 and text in bad.output
    bad = runner.invoke(app, ["schedule", str(source), "--output", str(target), "--max-pov", "0.1"])
    assert bad.exit_code == 2 and "--max-pov applies only with --optimize" in bad.output
    bad = runner.invoke(app, ["schedule", str(source), "--output", str(target), "--optimize", "--periods", "1",
                              "--max-pov", "0.01"])
    assert bad.exit_code == 2 and "raise max_pov to at least" in bad.output


def test_checks_catch_broken_schedules():
    """The verifier is not a rubber stamp: each kind of breach shows up in its own entry."""
    quantity, volume = np.array([100.0]), np.array([[300.0, 300.0]])
    good, cash = check_schedule(np.array([[50.0, 50.0]]), quantity, volume, np.array([0.2]), np.array([1.0]),
                                np.array([10.0]), ((1, 400.0),))
    assert max(good.values()) == 0.0 and cash.tolist() == [500.0, 1000.0]
    bad, _ = check_schedule(np.array([[90.0, 9.5]]), quantity, volume, np.array([0.2]), np.array([1.0]),
                            np.array([10.0]), ((1, 1000.0),))
    assert bad["totals_shares"] == pytest.approx(0.5) and bad["whole_shares"] == pytest.approx(0.5)
    assert bad["pov_cap"] == pytest.approx(90 / 390 - 0.2) and bad["cash_milestones"] == pytest.approx(0.1)
    negative, _ = check_schedule(np.array([[110.0, -10.0]]), quantity, volume, np.array([1.0]), np.array([1.0]),
                                 np.array([10.0]), ())
    assert negative["negative_shares"] == 10.0


def test_time_limit_and_variance_measure():
    trades = two_day_basket(4)
    with pytest.raises(SolverTimeout, match="time_limit") as info:
        optimize_basket_schedule(trades, periods=26, time_limit=1e-6, engine="conic")
    assert [a["status"] for a in info.value.stages] == ["timeout"] and info.value.status == "timeout"
    # the interior-point method out of time returns its checked iterate as "feasible", with a proven gap
    rushed = optimize_basket_schedule(trades, periods=26, time_limit=1e-6)
    best = optimize_basket_schedule(trades, periods=26)
    assert rushed.status == "feasible" and best.status == "optimal"
    assert [a["engine"] for a in rushed.attempts] == ["interior-point"]
    assert rushed.max_violation == 0.0 and rushed.objective_usd > best.objective_usd
    assert rushed.objective_usd - rushed.gap_usd <= best.objective_usd + 1e-6 * best.objective_usd
    assert best.gap_usd <= 1e-6 * best.objective_usd
    plan = optimize_basket_schedule(trades, periods=26, risk_aversion=2e-7, risk_measure="variance")
    assert plan.objective_usd == pytest.approx(plan.impact_usd + plan.pa_usd + 2e-7 * plan.timing_risk_usd**2)
    assert plan.objective_usd == pytest.approx(plan.solver_objective_usd, rel=1e-6)
    with pytest.raises(ValueError, match="risk_measure"):
        optimize_basket_schedule(trades, periods=26, risk_measure="cvar")


def test_per_name_horizon():
    """A name given a horizon of one day is done on day 1; the others keep two days; the cost rises."""
    trades = two_day_basket(4, seed=8)
    free = optimize_basket_schedule(trades, periods=26, risk_aversion=0.3)
    held = optimize_basket_schedule(trades, periods=26, risk_aversion=0.3, horizon={"N0": 13, "N1": 20}, max_pov=0.3)
    last = held.schedule.groupby("symbol", observed=True)["bucket_start"].max()
    assert last["N0"] < pd.Timestamp(last["N2"].date()) and held.names.set_index("symbol").loc["N0", "done_day1"] == 1.0
    n1 = held.schedule[held.schedule["symbol"] == "N1"]
    assert (n1["day"] == 2).any() and len(n1) <= 20
    assert held.violations["horizon_shares"] == 0.0 and held.max_violation == 0.0
    assert held.objective_usd > free.objective_usd
    assert held.names.set_index("symbol").loc["N0", "done_day1"] > free.names.set_index("symbol").loc["N0", "done_day1"]
    conic = optimize_basket_schedule(trades, periods=26, risk_aversion=0.3, horizon={"N0": 13, "N1": 20}, max_pov=0.3,
                                     engine="conic")
    assert conic.objective_usd == pytest.approx(held.objective_usd, rel=1e-6)
    with pytest.raises(InputError, match="'horizon'.*N2"):
        optimize_basket_schedule(trades, periods=26, horizon={"N0": 13, "N1": 13, "N2": 27, "N3": 2})
    with pytest.raises(InfeasibleSchedule, match="cannot complete within the horizon given"):
        optimize_basket_schedule(trades, periods=26, max_pov=0.05, horizon=1)
    late, _ = check_schedule(np.array([[5.0, 5.0]]), np.array([10.0]), np.array([[100.0, 100.0]]), np.array([1.0]),
                             np.array([1.0]), np.array([10.0]), (), last_period=np.array([1]))
    assert late["horizon_shares"] == 5.0


def test_profile_with_an_empty_bucket_is_refused_with_its_times():
    profile = flat_profile().copy()
    profile.iloc[120:180] = 0.0  # 11:30 to 12:29: no volume
    with pytest.raises(InputError, match="'profile'.*11:30, 12:00.*wider buckets"):
        optimize_basket_schedule(two_day_basket(2), profile=profile / profile.sum(), periods=13)


def test_schedule_inputs_get_the_books_units_rules():
    trades = two_day_basket(3)
    with pytest.raises(InputError, match="'volatility' is above 3.*0.241"):
        optimize_basket_schedule(trades.assign(volatility=trades["volatility"] * 100), periods=13)
    with pytest.raises(InputError, match="'volatility' is above 3"):
        optimize_schedule(dict(MATLAB_ORDER, volatility=25.0), periods=13)
    covariance = pd.DataFrame(np.diag(trades["volatility"] ** 2), index=trades["symbol"], columns=trades["symbol"])
    with pytest.raises(InputError, match="percent squared"):
        optimize_basket_schedule(trades, covariance=covariance * 1e4, periods=13)
    factors = pd.DataFrame(np.ones((3, 2)), index=trades["symbol"], columns=["F1", "F2"])  # a factor table
    with pytest.raises(InputError, match="(?s)the covariance: .*not square.*it is 3 x 2"):
        optimize_basket_schedule(trades, covariance=factors, periods=13)
    with pytest.raises(InputError, match="correlation"):
        optimize_basket_schedule(trades.drop(columns="volatility"), periods=13,
                                 covariance=pd.DataFrame(np.eye(3), index=covariance.index, columns=covariance.columns))


@pytest.mark.parametrize("header", ["shares_traded", "Shares Traded", "SharesTraded"])
def test_traded_shares_win_over_the_position_in_any_spelling(header):
    trades = two_day_basket(2).rename(columns={"shares": header}).assign(Shares=[5e6, 7e6])  # positions
    plan = optimize_basket_schedule(trades, periods=13)
    assert plan.names["shares"].tolist() == trades[header].tolist()


def test_mistyped_symbols_and_milestones_are_refused_with_the_fix():
    trades = two_day_basket(3)
    with pytest.raises(InputError, match="'horizon' names a symbol that is not traded for N9"):
        optimize_basket_schedule(trades, periods=26, horizon={"N9": 13})
    with pytest.raises(InputError, match="'max_pov' names a symbol that is not traded for ZZZ"):
        optimize_basket_schedule(trades, periods=26, max_pov={"N0": 0.1, "ZZZ": 0.1})
    capped = optimize_basket_schedule(trades, periods=26, max_pov={"N0": 0.05})  # the others uncapped
    assert capped.schedule[capped.schedule["symbol"] == "N0"]["pov"].max() <= 0.05 + 1e-12
    value = float((trades["shares"].abs() * trades["price"]).sum())
    with pytest.raises(InfeasibleSchedule, match="all the basket raises"):
        optimize_basket_schedule(trades, periods=26, cash_by_period={26: 2 * value})
    with pytest.raises(InputError, match="milestones are USD"):
        optimize_basket_schedule(trades, periods=26, cash_by_period={13: 0.6})
    with pytest.raises(InputError, match="this basket only buys"):
        optimize_basket_schedule(trades.assign(shares=trades["shares"].abs()), periods=26, cash_by_period={13: 1e6})
    with pytest.raises(InfeasibleSchedule, match="cannot complete within 1 period under"):
        optimize_basket_schedule(trades, periods=1, max_pov=0.01)


def test_names_held_to_one_period_are_priced_in_the_objective_and_the_bound():
    trades = two_day_basket(3)
    for horizon in ({"N0": 1}, 1):
        plan = optimize_basket_schedule(trades, periods=13, horizon=horizon)
        conic = optimize_basket_schedule(trades, periods=13, horizon=horizon, engine="conic")
        assert plan.status == "optimal" and plan.max_violation == 0.0
        assert plan.objective_usd == pytest.approx(plan.solver_objective_usd, rel=1e-6)
        assert plan.gap_usd <= 1e-6 * plan.objective_usd
        assert plan.objective_usd == pytest.approx(conic.objective_usd, rel=1e-6)


def test_cli_schedule_optimize_with_a_factor_model_workbook(tmp_path):
    holdings, model = synthetic_universe(12, n_factors=3, seed=5)
    trades = holdings.assign(shares=-np.round(0.2 * holdings["shares"]))
    with pd.ExcelWriter(tmp_path / "model.xlsx") as writer:
        model.exposures.to_excel(writer, sheet_name="exposures")
        model.factor_covariance.to_excel(writer, sheet_name="factor_covariance")
        model.specific_variance.rename("specific_variance").to_frame().to_excel(writer, sheet_name="specific_variance")
    source, target = tmp_path / "trades.csv", tmp_path / "plan.csv"
    trades.to_csv(source, index=False)
    result = CliRunner().invoke(app, ["schedule", str(source), "--output", str(target), "--optimize",
                                      "--factor-model", str(tmp_path / "model.xlsx"), "--periods", "13"])
    assert result.exit_code == 0, result.output
    direct = optimize_basket_schedule(trades, factor_model=model, periods=13)
    assert f"${direct.timing_risk_usd:,.0f}" in result.output  # the same basket risk as the Python call
