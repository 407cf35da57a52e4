"""Cash milestones met with a stated probability, and the cost's CVaR as an objective term (issue 21, item 2)."""

from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from krg_liquidity import CostModel, InfeasibleSchedule, InvalidValueError, optimize_basket_schedule, schedule_frontier
from krg_liquidity.cli import app
from krg_liquidity.model.profiles import load_volume_profile, profile_buckets

PERIODS, LEVEL, START = 6, 0.95, "2026-03-02"


def book(n: int = 5, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sells (and one buy) with a full-rank covariance (correlations 0.3 plus noise)."""
    rng = np.random.default_rng(seed)
    symbols = [f"N{i}" for i in range(n)]
    shares = -np.round(rng.uniform(2e5, 8e5, n))
    shares[-1] = 1e5  # a buy: it costs cash
    trades = pd.DataFrame({"symbol": symbols, "shares": shares, "adv": rng.uniform(2e6, 6e6, n),
                           "price": rng.uniform(20, 120, n), "volatility": rng.uniform(0.2, 0.5, n)})
    loading = rng.normal(size=(n, n)) * 0.2
    correlation = 0.3 + 0.7 * np.eye(n) + 0.5 * (loading @ loading.T) * (1 - np.eye(n)) / n
    vol = trades["volatility"].to_numpy()
    covariance = pd.DataFrame(correlation * np.outer(vol, vol), index=symbols, columns=symbols)
    assert np.linalg.eigvalsh(covariance.to_numpy()).min() > 0
    return trades, covariance


def shares_grid(plan) -> np.ndarray:
    """Signed-free shares per name per period (names in the plan's order) from the returned table."""
    table = plan.schedule.assign(period=lambda t: (t["day"] - 1) * 13 + t.groupby(["symbol", "day"], observed=True)
                                 .cumcount())
    starts = sorted(plan.schedule["bucket_start"].unique())
    column = {s: k for k, s in enumerate(starts)}
    grid = np.zeros((len(plan.names), plan.periods))
    row = {s: i for i, s in enumerate(plan.names["symbol"])}
    for record in table.itertuples():
        grid[row[record.symbol], column[record.bucket_start]] += abs(record.shares)
    return grid


def distribution(plan, trades, covariance, period: int):
    """E[cash by the end of ``period``] and its sd, from the whole shares and the covariance alone:
    cash = sum over trades of side x shares x execution price, the price following a Brownian motion
    with the covariance, each period's trades spread evenly through it; expected cost by the
    I-Star schedule formula bucket by bucket."""
    frame = trades.set_index("symbol").loc[plan.names["symbol"]]
    grid = shares_grid(plan)
    price, sale = frame["price"].to_numpy(), -np.sign(frame["shares"].to_numpy())
    quantity = np.abs(frame["shares"].to_numpy())
    model = CostModel()
    volume = plan_volume(plan, frame)
    istar = model.istar_bps(quantity / frame["adv"].to_numpy(), frame["volatility"].to_numpy(), price)
    p = model.params
    pov = grid / (grid + volume)
    cost = (quantity * price * istar / 1e4)[:, None] * (p.b1 * grid / quantity[:, None] * pov**p.a4
                                                      + (1 - p.b1) * grid / quantity[:, None])
    done = grid[:, :period]
    expected = float((sale * price) @ done.sum(axis=1) - cost[:, :period].sum())
    c = covariance.loc[frame.index, frame.index].to_numpy()
    dt = 1.0 / 13 / 250  # years per half-hour bucket
    left = done.sum(axis=1, keepdims=True) - np.cumsum(np.c_[np.zeros(len(done)), done], axis=1)  # r_0..r_k
    dollars = (sale * price)[:, None] * left
    variance = 0.0
    for j in range(period):
        a, b = dollars[:, j], dollars[:, j + 1]
        mid, diff = (a + b) / 2, a - b  # the move's and the Brownian bridge's exposures
        variance += dt * (mid @ c @ mid + diff @ c @ diff / 12)
    return expected, float(np.sqrt(variance)), grid, cost, sale * price, c


def plan_volume(plan, frame) -> np.ndarray:
    """Other participants' shares per bucket: ADV x the bundled profile's fraction of each bucket."""
    _, fractions = profile_buckets(load_volume_profile(), 30)
    return frame["adv"].to_numpy()[:, None] * np.tile(fractions, 2)[None, :plan.periods]


def plans(trades, covariance, least):
    free = optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, risk_aversion=0.0, start=START)
    held = optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, risk_aversion=0.0, start=START,
                                    cash_by_period={3: least}, confidence=LEVEL)
    return free, held


@pytest.fixture(scope="module")
def binding():
    trades, covariance = book()
    free = optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, risk_aversion=0.0, start=START)
    z = NormalDist().inv_cdf(LEVEL)
    e0, sd0, *_ = distribution(free, trades, covariance, 3)
    least = e0 - z * sd0 + 0.25 * (free.cash_by_period_usd[-1] - e0)  # out of the unconstrained plan's reach
    held = optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, risk_aversion=0.0, start=START,
                                    cash_by_period={3: least}, confidence=LEVEL)
    return trades, covariance, free, held, least, z


def test_confidence_milestone_holds_and_binds(binding):
    trades, covariance, free, held, least, z = binding
    expected, sd, *_ = distribution(held, trades, covariance, 3)
    assert expected - z * sd >= least  # recomputed from the whole shares and the covariance
    assert expected - z * sd == pytest.approx(least, rel=1e-4)  # binds: the cheaper plan falls short
    assert held.objective_usd > free.objective_usd and held.status == "optimal"
    row = held.milestones.iloc[0]
    assert row["expected_cash_usd"] == pytest.approx(expected, rel=1e-9)
    assert row["sd_cash_usd"] == pytest.approx(sd, rel=1e-9)
    assert row["probability"] >= LEVEL and held.violations["cash_confidence"] == 0.0
    assert any("second-order cones" in note for note in held.notes)
    assert all(a["engine"] == "conic" for a in held.attempts)
    assert 0 <= held.gap_usd <= 1e-4 * held.objective_usd
    assert "with probability" in held.summary()
    frame = held.summary_frame().set_index("item")
    assert frame.loc["cash_by_period_3_probability", "value"] == pytest.approx(row["probability"])


def test_confidence_milestone_slack_leaves_the_plan_alone(binding):
    trades, covariance, free, _, _, z = binding
    e0, sd0, *_ = distribution(free, trades, covariance, 3)
    easy = optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, risk_aversion=0.0, start=START,
                                    cash_by_period={3: 0.9 * (e0 - z * sd0)}, confidence=LEVEL)
    assert easy.objective_usd == pytest.approx(free.objective_usd, rel=1e-6)


def test_monte_carlo_meets_the_milestone_with_the_stated_probability(binding):
    """Gaussian price moves per period plus the even trading's Brownian-bridge term, 4,000 paths: the
    share of paths raising the milestone is within a 99.9% binomial interval of the confidence."""
    trades, covariance, _, held, least, _ = binding
    expected, sd, grid, cost, dollars_per_share, c = distribution(held, trades, covariance, 3)
    rng = np.random.default_rng(21)
    paths, k, dt = 4000, 3, 1.0 / 13 / 250
    root = np.linalg.cholesky(c * dt)
    moves = rng.standard_normal((paths, k, len(c))) @ root.T  # returns per period
    bridge = rng.standard_normal((paths, k, len(c))) @ root.T / np.sqrt(12.0)
    before = np.cumsum(moves, axis=1) - moves  # the return at each period's start
    fills = 1.0 + before + moves / 2 + bridge  # even trading within the period: average execution price / start
    cash = np.einsum("pki,ik,i->p", fills, grid[:, :k], dollars_per_share) - cost[:, :k].sum()
    assert cash.mean() == pytest.approx(expected, abs=5 * sd / np.sqrt(paths))
    assert cash.std() == pytest.approx(sd, rel=0.05)
    met = float(np.mean(cash >= least))
    half = 3.29 * np.sqrt(LEVEL * (1 - LEVEL) / paths)
    assert abs(met - LEVEL) <= half, (met, half)


def test_confidence_bad_input_is_named():
    trades, covariance = book()
    for bad in (0.5, 1.0, 1.2, 0.3, "abc"):
        with pytest.raises(InvalidValueError, match="confidence"):
            optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, cash_by_period={3: 1e8},
                                     confidence=bad)
    with pytest.raises(InvalidValueError, match="confidence.*cash_by_period"):
        optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, confidence=0.95)
    value = float((trades["shares"].abs() * trades["price"]).sum())
    with pytest.raises(InfeasibleSchedule) as info:
        optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, max_pov=0.5, cash_by_period={1: value})
    reach = info.value.reachable_usd
    with pytest.raises(InfeasibleSchedule, match="at 99.9% confidence"):  # nominally reachable, not at 99.9%
        optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, max_pov=0.5,
                                 cash_by_period={1: 0.999 * reach}, confidence=0.999)
    for bad in ((1.5, 1.0), (0.95, -1.0), 0.95, (0.95,)):
        with pytest.raises(InvalidValueError, match="cvar"):
            optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, cvar=bad)


def test_cvar_term_is_the_gaussian_tail_weight_on_the_timing_risk():
    """With risk_aversion 0 and weight 1 the objective is the cost's CVaR, mean + phi(z)/(1-a) sd: the
    same schedule as lambda = phi(z)/(1-a) on the std measure; with the variance measure both terms."""
    trades, covariance = book()
    normal = NormalDist()
    tail = normal.pdf(normal.inv_cdf(LEVEL)) / (1 - LEVEL)
    cvar = optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, risk_aversion=0.0,
                                    cvar=(LEVEL, 1.0))
    same = optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, risk_aversion=tail)
    assert cvar.objective_usd == pytest.approx(same.objective_usd, rel=1e-7)
    assert cvar.cvar[2] == pytest.approx(cvar.impact_usd + cvar.pa_usd + tail * cvar.timing_risk_usd, rel=1e-12)
    assert cvar.cvar[2] == pytest.approx(cvar.objective_usd, rel=1e-12) and "cost CVaR" in cvar.summary()
    both = {engine: optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, risk_aversion=1e-8,
                                             risk_measure="variance", cvar=(LEVEL, 0.5), engine=engine)
            for engine in ("interior-point", "conic")}
    assert both["interior-point"].objective_usd == pytest.approx(both["conic"].objective_usd, rel=1e-6)


def test_cli_confidence(tmp_path):
    trades, covariance = book()
    source, cov, target = tmp_path / "trades.csv", tmp_path / "cov.csv", tmp_path / "plan.csv"
    trades.to_csv(source, index=False)
    covariance.to_csv(cov)
    value = float((trades["shares"].clip(upper=0).abs() * trades["price"]).sum())
    base = ["schedule", str(source), "--output", str(target), "--optimize", "--periods", str(PERIODS),
            "--covariance", str(cov), "--start", START]
    result = CliRunner().invoke(app, [*base, "--cash-by-period", f"3:{0.3 * value:.0f}", "--confidence", "0.95"])
    assert result.exit_code == 0, result.output
    assert "cash by period 3" in result.output and "probability" in result.output
    bad = CliRunner().invoke(app, [*base, "--cash-by-period", f"3:{0.3 * value:.0f}", "--confidence", "1.5"])
    assert bad.exit_code == 2 and "confidence" in bad.output


def test_cli_cvar_and_engine(tmp_path):
    """--cvar LEVEL WEIGHT is the Python cvar=(level, weight): the same objective, printed with its CVaR."""
    trades, covariance = book()
    source, cov, target = tmp_path / "trades.csv", tmp_path / "cov.csv", tmp_path / "plan.csv"
    trades.to_csv(source, index=False)
    covariance.to_csv(cov)
    base = ["schedule", str(source), "--output", str(target), "--optimize", "--periods", str(PERIODS),
            "--covariance", str(cov), "--start", START, "--risk-aversion", "0"]
    result = CliRunner().invoke(app, [*base, "--cvar", "95%", "1", "--engine", "conic"])
    assert result.exit_code == 0, result.output
    direct = optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, risk_aversion=0.0,
                                      cvar=(0.95, 1.0), engine="conic", start=START)
    assert "cost CVaR" in result.output and f"${direct.cvar[2]:,.0f} at 95.0%" in result.output
    bad = CliRunner().invoke(app, [*base, "--cvar", "1.5", "1"])
    assert bad.exit_code == 2 and "cvar" in bad.output
    unused = CliRunner().invoke(app, ["schedule", str(source), "--output", str(target), "--cvar", "0.95", "1"])
    assert unused.exit_code == 2 and "--cvar applies only with --optimize" in unused.output


def test_frontier_with_confidence_milestones():
    """schedule_frontier takes confidence as the single schedule does: each point meets the milestone with that
    probability (its stored table says so), at a cost no lower than without the confidence."""
    trades, covariance = book()
    value = float((trades["shares"].clip(upper=0).abs() * trades["price"]).sum())
    milestone = {3: 0.3 * value}
    sure = schedule_frontier(trades, [0.0, 1.0], covariance=covariance, periods=PERIODS, cash_by_period=milestone,
                             confidence=0.95)
    plain = schedule_frontier(trades, [0.0, 1.0], covariance=covariance, periods=PERIODS, cash_by_period=milestone)
    assert list(sure["status"]) == ["optimal", "optimal"] and (sure["max_violation"] <= 1e-6).all()
    assert (sure["objective_usd"].to_numpy() >= plain["objective_usd"].to_numpy() * (1 - 1e-9)).all()
    for lam in (0.0, 1.0):
        single = optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, risk_aversion=lam,
                                          cash_by_period=milestone, confidence=0.95)
        row = sure.set_index("risk_aversion").loc[lam]
        assert row["objective_usd"] == pytest.approx(single.objective_usd, rel=1e-6)
