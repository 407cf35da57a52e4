"""Group limits, the tracking error to today's book and the liquidity left behind.

Each limit is checked against an independent cvxpy + Clarabel formulation written here (value sold per
name as a fraction of the net value, the I-Star cost at each name's fixed POV written out, the risk through
a Cholesky factor of the covariance): the same least cost, and every limit recomputed from the returned
trades.
"""

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest
from books import small_book
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import krg_liquidity as krg
from krg_liquidity.core.errors import InfeasibleLiquidation, InputError, SolverFailure

GROUPS = ("Tech", "Energy", "Health")


def grouped_book(seed: int, n: int = 9):
    """A long-only book at fixed POVs (each name's rate drawn), with a sector per name (every sector used)."""
    holdings, covariance, _ = small_book(seed, n=n, bounds=False)
    rng = np.random.default_rng(seed + 77)
    holdings = holdings.drop(columns=["trade_time"])
    holdings["pov"] = rng.uniform(0.05, 0.3, n)
    holdings["sector"] = [GROUPS[i % len(GROUPS)] for i in rng.permutation(n)]
    return holdings, covariance


def reference(holdings: pd.DataFrame, covariance: pd.DataFrame, cash: float, *, groups=None, sold=None,
              tracking=None, liquid=None, ceiling=None, strict=True):
    """Least impact (USD) raising ``cash`` by plain cvxpy + Clarabel, or None when the solver proves it
    infeasible. ``groups``: {group: (lo, hi)} post-trade weight bounds; ``sold``: {group: fraction};
    ``tracking``: annualized cap; ``liquid``: (fraction, days); ``ceiling``: post-trade risk at most this
    times today's."""
    params = krg.KISSELL_2013_ALL_DATA
    shares, price, adv = (holdings[c].to_numpy(float) for c in ("shares", "price", "adv"))
    vol, pov = holdings["volatility"].to_numpy(float), holdings["pov"].to_numpy(float)
    value = shares * price
    net = value.sum()
    w0, left = value / net, 1 - cash / net
    dv = adv * price
    # cost_usd = a1 vol^a3 / 1e4 (b1 pov^a4 + 1 - b1) z^(1 + a2) dv, z = v net / dv; in bps of the net value:
    alpha = 1 + params.a2
    coef = params.a1 * vol ** params.a3 * (params.b1 * pov ** params.a4 + 1 - params.b1) * (net / dv) ** (alpha - 1)
    v = cp.Variable(len(shares))
    after = w0 - v
    rows = [cp.sum(v) == cash / net, v >= 0, v <= w0]
    sector = holdings["sector"].to_numpy()
    for group, (lo, hi) in (groups or {}).items():
        mine = (sector == group).astype(float)
        rows += [mine @ after >= lo * left, mine @ after <= hi * left]
    for group, fraction in (sold or {}).items():
        mine = (sector == group).astype(float)
        rows.append(mine @ v <= fraction * (mine @ w0))
    root = np.linalg.cholesky(covariance.loc[holdings["symbol"], holdings["symbol"]].to_numpy())
    if tracking is not None:
        rows.append(cp.norm(root.T @ (after - w0 * left)) <= tracking * left)
    if ceiling is not None:
        rows.append(cp.norm(root.T @ after) <= ceiling * np.linalg.norm(root.T @ w0) * left)
    if liquid is not None:
        fraction, days = liquid
        can = days * pov / (1 - pov) * adv * price / net
        rows.append(cp.sum(cp.minimum(after, can)) >= fraction * left)
    problem = cp.Problem(cp.Minimize(coef @ cp.power(v, alpha)), rows)
    problem.solve(solver="CLARABEL")
    if problem.status == cp.INFEASIBLE:
        return None, None
    if not strict and problem.status in (cp.INFEASIBLE_INACCURATE, cp.OPTIMAL_INACCURATE):
        return np.nan, None  # the plain solver cannot decide: the draw is left out
    assert problem.status == cp.OPTIMAL, problem.status
    return problem.value * net / 1e4, v.value


def sector_weights(holdings, shares_after, post):
    value = pd.Series(shares_after * holdings["price"].to_numpy(float), index=holdings.index)
    return value.groupby(holdings["sector"].to_numpy()).sum() / post


def weights_today(holdings):
    value = holdings["shares"] * holdings["price"]
    return value.groupby(holdings["sector"]).sum() / value.sum()


def risk_root(holdings, covariance):
    return np.linalg.cholesky(covariance.loc[holdings["symbol"], holdings["symbol"]].to_numpy())


def assert_same_cost(result, least):
    assert result.success, result.status
    assert result.cost_usd == pytest.approx(least, rel=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_group_weight_band_against_a_plain_formulation(seed):
    holdings, covariance = grouped_book(seed)
    book = krg.Portfolio(holdings, covariance)
    cash = 0.3 * book.net_value_usd
    free = krg.liquidate(book, cash)
    post = book.net_value_usd - cash
    moved = (sector_weights(holdings, free.trades["shares_after"].to_numpy(), post) - weights_today(holdings)).abs()
    band = float(moved.max()) / 2  # binds on at least one sector
    today = weights_today(holdings)
    least, _ = reference(holdings, covariance, cash, groups={g: (today[g] - band, today[g] + band) for g in GROUPS})
    if least is None:
        with pytest.raises(InfeasibleLiquidation):
            krg.liquidate(book, cash, group_column="sector", group_limits={"max_weight_change": band})
        return
    result = krg.liquidate(book, cash, group_column="sector", group_limits={"max_weight_change": band})
    assert_same_cost(result, least)
    assert result.cost_usd > free.cost_usd * (1 + 1e-6)  # the band binds
    after = sector_weights(holdings, result.trades["shares_after"].to_numpy(), post)
    assert ((after - today).abs() <= band + 1e-7).all()
    assert result.method == "dual"  # the group rows as the dual engine's cuts
    conic = krg.liquidate(book, cash, group_column="sector", group_limits={"max_weight_change": band}, engine="conic")
    assert conic.method == "conic" and conic.cost_usd == pytest.approx(result.cost_usd, rel=1e-6)
    # the marginal cost moves with the group rows too (their bounds are rows in the post-trade value)
    assert result.marginal_cost_bps == pytest.approx(conic.marginal_cost_bps, rel=1e-4)


@pytest.mark.parametrize("seed", range(3))
def test_group_weight_bounds_table_and_sold_fraction(seed):
    holdings, covariance = grouped_book(seed)
    book = krg.Portfolio(holdings, covariance)
    cash = 0.25 * book.net_value_usd
    today = weights_today(holdings)
    table = pd.DataFrame({"ub_wt": [today["Tech"] + 0.01], "max_sold_fraction": [np.nan]}, index=["Tech"])
    table.loc["Energy"] = [np.nan, 0.15]
    least, _ = reference(holdings, covariance, cash, groups={"Tech": (-1, today["Tech"] + 0.01)},
                         sold={"Energy": 0.15})
    if least is None:
        with pytest.raises(InfeasibleLiquidation):
            krg.liquidate(book, cash, group_column="Sector", group_limits=table)
        return
    result = krg.liquidate(book, cash, group_column="Sector", group_limits=table)
    assert_same_cost(result, least)
    trades = result.trades
    post = book.net_value_usd - cash
    assert sector_weights(holdings, trades["shares_after"].to_numpy(), post)["Tech"] <= today["Tech"] + 0.01 + 1e-7
    energy = (holdings["sector"] == "Energy").to_numpy()
    sold = -(trades["shares_traded"].to_numpy() * holdings["price"].to_numpy())[energy].sum()
    held = (holdings["shares"] * holdings["price"]).to_numpy()[energy].sum()
    assert sold <= 0.15 * held * (1 + 1e-7)


@pytest.mark.parametrize("seed", range(4))
def test_tracking_error_against_a_plain_formulation(seed):
    holdings, covariance = grouped_book(seed)
    book = krg.Portfolio(holdings, covariance)
    cash = 0.3 * book.net_value_usd
    post = book.net_value_usd - cash
    root = risk_root(holdings, covariance)
    today = (holdings["shares"] * holdings["price"]).to_numpy() / book.net_value_usd

    def te(shares_after):
        return float(np.linalg.norm(root.T @ (shares_after * holdings["price"].to_numpy() / post - today)))

    free = krg.liquidate(book, cash)
    cap = te(free.trades["shares_after"].to_numpy()) / 3
    least, _ = reference(holdings, covariance, cash, tracking=cap)
    result = krg.liquidate(book, cash, max_tracking_error=cap)
    assert_same_cost(result, least)
    assert te(result.trades["shares_after"].to_numpy()) <= cap * (1 + 1e-6)
    assert result.violations["tracking_error"] <= 1e-6


@pytest.mark.parametrize("seed", range(4))
def test_liquidity_left_against_a_plain_formulation(seed):
    holdings, covariance = grouped_book(seed)
    book = krg.Portfolio(holdings, covariance)
    cash = 0.3 * book.net_value_usd
    post = book.net_value_usd - cash
    pov, adv, price = (holdings[c].to_numpy(float) for c in ("pov", "adv", "price"))
    days = 1.0

    def liquid(shares_after):
        return float(np.minimum(shares_after, days * pov / (1 - pov) * adv) @ price) / post

    free = krg.liquidate(book, cash)
    now = liquid(free.trades["shares_after"].to_numpy())
    fraction = min(now + 0.05, 0.99)
    least, _ = reference(holdings, covariance, cash, liquid=(fraction, days))
    if least is None:
        with pytest.raises(InfeasibleLiquidation, match="liquidity"):
            krg.liquidate(book, cash, min_liquid_fraction=(fraction, days))
        return
    result = krg.liquidate(book, cash, min_liquid_fraction=(fraction, days))
    assert_same_cost(result, least)
    assert liquid(result.trades["shares_after"].to_numpy()) >= fraction * (1 - 1e-6)


def test_all_three_together_against_a_plain_formulation():
    holdings, covariance = grouped_book(11, n=12)
    book = krg.Portfolio(holdings, covariance)
    cash = 0.2 * book.net_value_usd
    today = weights_today(holdings)
    band = 0.01
    least, _ = reference(holdings, covariance, cash, groups={g: (today[g] - band, today[g] + band) for g in GROUPS},
                         tracking=0.004, liquid=(0.2, 1.0))
    kwargs = {"group_column": "sector", "group_limits": {"max_weight_change": band}, "max_tracking_error": 0.004,
              "min_liquid_fraction": (0.2, 1.0)}
    if least is None:
        with pytest.raises(InfeasibleLiquidation):
            krg.liquidate(book, cash, **kwargs)
        return
    result = krg.liquidate(book, cash, **kwargs)
    assert_same_cost(result, least)
    assert result.max_violation <= 1e-6


def test_loose_limits_give_todays_answer():
    holdings, covariance = grouped_book(3)
    book = krg.Portfolio(holdings, covariance)
    cash = 0.3 * book.net_value_usd
    for band in (None, (0.0, 10.0)):
        plain = krg.liquidate(book, cash, risk_band=band)
        loose = krg.liquidate(book, cash, risk_band=band, group_column="sector",
                              group_limits={"max_weight_change": 1.0, "max_sold_fraction": 1.0},
                              max_tracking_error=0.99, min_liquid_fraction=(0.0, 1.0))
        assert np.array_equal(plain.trades["shares_traded"].to_numpy(), loose.trades["shares_traded"].to_numpy())
        assert loose.cost_usd == plain.cost_usd
        assert loose.method == plain.method


def test_a_separable_answer_breaking_a_group_limit_is_not_returned():
    holdings, covariance = grouped_book(5)
    book = krg.Portfolio(holdings, covariance)
    cash = 0.3 * book.net_value_usd
    result = krg.liquidate(book, cash, group_column="sector", group_limits={"max_weight_change": 0.005})
    assert result.method == "dual"  # the group rows as cuts; a liquidity floor: the conic program
    assert any(stage["stage"] == "shape" and stage["outcome"] == "declined" for stage in result.stages)
    assert result.max_violation <= 1e-6
    shaped = krg.liquidate(book, cash, group_column="sector", group_limits={"max_weight_change": 0.005},
                           min_liquid_fraction=(0.0, 1.0))
    assert shaped.method == "conic" and shaped.cost_usd == pytest.approx(result.cost_usd, rel=1e-6)


def test_a_request_only_the_group_limits_make_impossible_is_proven_and_named():
    holdings, covariance = grouped_book(2)
    book = krg.Portfolio(holdings, covariance)
    cash = 0.3 * book.net_value_usd
    krg.liquidate(book, cash)  # possible without them
    with pytest.raises(InfeasibleLiquidation) as caught:
        krg.liquidate(book, cash, group_column="sector", group_limits={"max_sold_fraction": 0.1})
    error = caught.value
    assert any(key.startswith("group_sold:") for key in error.blocking)
    assert "value sold of group" in str(error)


def test_a_request_only_the_tracking_error_makes_impossible_is_proven_and_named():
    holdings, covariance = grouped_book(4)
    holdings["lb_min_value"] = np.nan
    holdings.loc[0, "lb_min_value"] = holdings.loc[0, "shares"] * holdings.loc[0, "price"]  # one name kept whole
    book = krg.Portfolio(holdings, covariance)
    cash = 0.4 * book.net_value_usd
    krg.liquidate(book, cash)
    with pytest.raises(InfeasibleLiquidation) as caught:
        krg.liquidate(book, cash, max_tracking_error=1e-5)
    assert "tracking_error" in caught.value.blocking
    assert "tracking error to today's book (max_tracking_error)" in str(caught.value)


def test_a_request_only_the_liquidity_floor_makes_impossible_is_proven_and_named():
    holdings, covariance = grouped_book(6)
    book = krg.Portfolio(holdings, covariance)
    cash = 0.3 * book.net_value_usd
    with pytest.raises(InfeasibleLiquidation) as caught:
        krg.liquidate(book, cash, min_liquid_fraction=(0.99, 0.01))
    assert "liquidity" in str(caught.value)
    assert "liquidity_left" in caught.value.blocking


def test_max_cash_respects_the_new_limits():
    holdings, covariance = grouped_book(7)
    book = krg.Portfolio(holdings, covariance)
    free = krg.max_cash(book)
    capped = krg.max_cash(book, group_column="sector", group_limits={"max_sold_fraction": 0.2})
    held = (holdings["shares"] * holdings["price"]).sum()
    assert capped <= 0.2 * held * (1 + 1e-6)
    assert capped < free
    result = krg.liquidate(book, 0.999 * capped, group_column="sector", group_limits={"max_sold_fraction": 0.2})
    assert result.success


def test_bad_limits_are_listed_at_once():
    with pytest.raises(InputError) as caught:
        krg.Limits(group_limits={"lb_wt": 0.5, "ub_wt": 0.2, "max_change": 0.1}, max_tracking_error=1,
                   min_liquid_fraction=(50, 5))
    message = str(caught.value)
    for words in ("lb_wt=0.5 is above ub_wt=0.2", "unknown key(s) max_change", "did you mean 0.01?",
                  "did you mean 0.5?"):
        assert words in message


def test_a_bad_group_column_is_named_before_any_solve():
    holdings, covariance = grouped_book(1)
    holdings.loc[[0, 3], "sector"] = ["", np.nan]
    book = krg.Portfolio(holdings, covariance)
    table = pd.DataFrame({"ub_wt": [0.5, 0.4]}, index=["Tech", "Utilities"])
    with pytest.raises(InputError) as caught:
        krg.liquidate(book, "10%", group_column="sector", group_limits=table)
    message = str(caught.value)
    symbols = holdings["symbol"].to_numpy()
    assert f"blank for 2 name(s): {symbols[0]}, {symbols[3]}" in message
    assert "no name is in: Utilities" in message
    with pytest.raises(InputError, match="the holdings have no column 'desk'.*: sector$"):
        krg.liquidate(book, "10%", group_column="desk", group_limits={"ub_wt": 0.5})
    with pytest.raises(InputError, match="group_column='desk' is not a column of the holdings"):
        krg.liquidate(book, "10%", group_column="desk")  # asked for the by-group tables alone: said too


def test_a_tracking_error_needs_a_risk_model():
    holdings, _ = grouped_book(1)
    with pytest.raises(InputError, match="tracking-error cap needs a risk model"):
        krg.liquidate(krg.Portfolio(holdings), "10%", max_tracking_error=0.01)


def test_the_group_column_is_found_by_its_aliases():
    holdings, covariance = grouped_book(1)
    holdings = holdings.rename(columns={"sector": "GICS Sector"})
    book = krg.Portfolio(holdings, covariance)
    result = krg.liquidate(book, "10%", group_limits={"max_weight_change": 1.0})
    assert {f"group_weight:{g}" for g in GROUPS} <= set(result.violations)


def test_the_check_recomputes_each_new_limit_from_the_trades():
    from krg_liquidity import CostModel
    from krg_liquidity.solve.verify import violations

    holdings, covariance = grouped_book(8)
    book = krg.Portfolio(holdings, covariance)
    cash = 0.3 * book.net_value_usd
    post = book.net_value_usd - cash
    after = krg.liquidate(book, cash).trades["shares_after"].to_numpy()
    moved = sector_weights(holdings, after, post) - weights_today(holdings)
    band = float(moved.abs().max()) / 2
    root = risk_root(holdings, covariance)
    price = holdings["price"].to_numpy()
    te = float(np.linalg.norm(root.T @ (after * price / post - (holdings["shares"] * price).to_numpy()
                                        / book.net_value_usd)))
    pov, adv = holdings["pov"].to_numpy(), holdings["adv"].to_numpy()
    liquid = float(np.minimum(after, 0.1 * pov / (1 - pov) * adv) @ price) / post
    limits = krg.Limits(group_column="sector", group_limits={"max_weight_change": band}, max_tracking_error=te / 2,
                        min_liquid_fraction=(liquid + 0.1, 0.1))
    found = violations(book, after, cash, allow_buys=False, risk_band=None, max_total_mi_bps=None,
                       cost_model=CostModel(), limits=limits)
    for group in GROUPS:
        assert found[f"group_weight:{group}"] == pytest.approx(max(0.0, abs(moved[group]) - band), abs=1e-12)
    assert found["tracking_error"] == pytest.approx(te / 2, rel=1e-9)  # twice the cap: broken by one cap (absolute)
    assert found["liquidity_left"] == pytest.approx(0.1, rel=1e-9)
    met = violations(book, after, cash, allow_buys=False, risk_band=None, max_total_mi_bps=None,
                     cost_model=CostModel(), limits=krg.Limits(group_column="sector", max_tracking_error=te * 1.01,
                                                               group_limits={"max_weight_change": 2 * band}))
    assert max(met.values()) <= 1e-12


def test_max_cash_with_a_tracking_error_cap_agrees_with_liquidate():
    holdings, covariance = grouped_book(9)
    holdings["lb_min_value"] = np.nan
    holdings.loc[0, "lb_min_value"] = holdings.loc[0, "shares"] * holdings.loc[0, "price"]  # pro rata is out
    book = krg.Portfolio(holdings, covariance)
    most = krg.max_cash(book, max_tracking_error=0.002)
    assert 0 < most < krg.max_cash(book)
    assert krg.liquidate(book, 0.99 * most, max_tracking_error=0.002).success
    with pytest.raises(InfeasibleLiquidation):
        krg.liquidate(book, 1.01 * most, max_tracking_error=0.002)


def test_the_result_summarizes_groups_and_the_liquidity_left():
    holdings, covariance = grouped_book(3)
    book = krg.Portfolio(holdings, covariance)
    cash = 0.3 * book.net_value_usd
    result = krg.liquidate(book, cash, group_column="sector",
                           group_limits={"max_weight_change": 0.01, "max_sold_fraction": 0.4})
    table = result.groups
    price = holdings["price"].to_numpy()
    after = result.trades["shares_after"].to_numpy()
    sold = pd.Series((holdings["shares"].to_numpy() - after) * price).groupby(holdings["sector"].to_numpy()).sum()
    assert table["value_sold_usd"].to_numpy() == pytest.approx(sold[table.index].to_numpy(), rel=1e-9)
    assert table["value_sold_usd"].sum() == pytest.approx(cash, rel=1e-7)  # from the final shares
    assert table["weight_before"].to_numpy() == pytest.approx(weights_today(holdings)[table.index].to_numpy())
    expected = sector_weights(holdings, after, book.net_value_usd - cash)[table.index].to_numpy()
    assert table["weight_after"].to_numpy() == pytest.approx(expected, rel=1e-7)
    assert (table["weight_hi"] - table["weight_before"]).to_numpy() == pytest.approx(0.01)
    assert (table["limit_reached"] != "").any()  # the band binds somewhere (the test above shows it binds)
    liquid = result.liquidity_left
    assert list(liquid.index) == ["today", "after"]
    pov, adv = holdings["pov"].to_numpy(), holdings["adv"].to_numpy()
    for row, shares in (("today", holdings["shares"].to_numpy()), ("after", after)):
        per_day = pov / (1 - pov) * adv
        assert liquid.loc[row, "days_to_liquidate"] == pytest.approx(np.max(shares / per_day))
        assert liquid.loc[row, "sellable_1d"] == pytest.approx(np.minimum(shares, per_day) @ price / (shares @ price))
    assert krg.liquidate(krg.Portfolio(holdings.drop(columns=["sector"]), covariance), cash).groups is None


def test_the_group_summary_reads_with_a_tracking_error_and_a_liquidity_floor():
    """The README's example: group bands with a tracking error (once an AttributeError in result.groups)."""
    holdings, covariance = grouped_book(3)
    book = krg.Portfolio(holdings, covariance)
    result = krg.liquidate(book, 0.2 * book.net_value_usd, group_column="sector",
                           group_limits={"max_weight_change": 0.02}, max_tracking_error=0.01,
                           min_liquid_fraction=(0.2, 5))
    table = result.groups
    assert list(table.index) == sorted(set(holdings["sector"]))
    assert (table["weight_hi"] - table["weight_before"]).to_numpy() == pytest.approx(0.02)
    assert "tracking error" not in " ".join(table["limit_reached"])  # per-group words only


def test_the_cli_takes_the_new_limits(tmp_path):
    import json

    from typer.testing import CliRunner

    from krg_liquidity.cli import app

    holdings, covariance = grouped_book(3)
    holdings.to_csv(tmp_path / "book.csv", index=False)
    covariance.to_csv(tmp_path / "cov.csv")
    common = ["liquidate", str(tmp_path / "book.csv"), "--cash", "30%", "--covariance", str(tmp_path / "cov.csv"),
              "--exact-shares"]
    done = CliRunner().invoke(app, [*common, "--group-column", "sector", "--max-group-weight-change", "0.01",
                                    "--max-tracking-error", "0.01", "--min-liquid-fraction", "0.5,5", "--json"])
    assert done.exit_code == 0, done.output
    answer = json.loads(done.output)
    book = krg.Portfolio(holdings, covariance)
    python = krg.liquidate(book, "30%", group_column="sector", group_limits={"max_weight_change": 0.01},
                           max_tracking_error=0.01, min_liquid_fraction=(0.5, 5))
    assert answer["cost_usd"] == pytest.approx(python.cost_usd, rel=1e-9)
    assert answer["request"]["max_tracking_error"] == 0.01
    shown = CliRunner().invoke(app, [*common, "--max-group-weight-change", "0.01"])
    assert shown.exit_code == 0 and "Groups" in shown.output and "Liquidity left" in shown.output
    percent = CliRunner().invoke(app, [*common, "--group-column", "sector", "--max-group-weight-change", "1%",
                                       "--max-tracking-error", "1%", "--json"])
    assert percent.exit_code == 0, percent.output
    assert json.loads(percent.stdout)["request"]["max_tracking_error"] == 0.01
    holdings.assign(Desk="X").to_csv(tmp_path / "book2.csv", index=False)
    said = CliRunner().invoke(app, ["liquidate", str(tmp_path / "book2.csv"), "--cash", "30%", "--group-column",
                                    "sector", "--max-group-weight-change", "0.05"])
    assert "columns not used (carried to the trade table): Desk\n" in said.output  # the group column is used
    bad = CliRunner().invoke(app, [*common, "--max-tracking-error", "1", "--min-liquid-fraction", "5,5"])
    assert bad.exit_code == 2
    assert "--max-tracking-error 1" in bad.output and "did you mean 0.01?" in bad.output
    assert "--min-liquid-fraction 5,5" in bad.output


@pytest.mark.parametrize("seed", range(2))
def test_tracking_error_with_a_factor_model_and_a_risk_band(seed):
    """The factor model's tracking error (never expanded) against the plain formulation's full covariance, with
    a risk band that the answer must keep too."""
    holdings, covariance, model = small_book(seed + 20, n=9, bounds=False)
    holdings = holdings.drop(columns=["trade_time"]).assign(pov=0.1, sector="all")
    book = krg.Portfolio(holdings, factor_model=model)
    cash = 0.3 * book.net_value_usd
    least, _ = reference(holdings, covariance, cash, tracking=0.003)
    result = krg.liquidate(book, cash, max_tracking_error=0.003)
    assert_same_cost(result, least)
    banded = krg.liquidate(book, cash, max_tracking_error=0.003, risk_band=(0.9, 1.004))
    assert banded.success and banded.max_violation <= 1e-6
    assert banded.cost_usd > result.cost_usd * (1 + 1e-6)  # the ceiling binds as well
    assert_same_cost(banded, reference(holdings, covariance, cash, tracking=0.003, ceiling=1.004)[0])
    ratio = banded.risk_after / banded.risk_before
    assert 0.9 <= ratio <= 1.004 + 1e-6


def test_group_limits_are_stored_immutably_and_written_plainly():
    import json

    table = pd.DataFrame({"ub_wt": [0.4, np.nan], "max_weight_change": [np.nan, 0.02]}, index=["Tech", "*"])
    limits = krg.Limits(group_column="sector", group_limits=table, max_tracking_error="0.01")
    table.loc["Tech", "ub_wt"] = 0.9  # the caller's table changing later changes nothing
    assert limits.group_limits == (krg.Limits(group_limits={"max_weight_change": 0.02}).group_limits[0],
                                   limits.group_limits[1])
    assert limits.group_limits[1].group == "Tech" and limits.group_limits[1].ub_wt == 0.4
    assert hash(limits) == hash(krg.Limits(group_column="sector", group_limits=limits.group_limits,
                                           max_tracking_error=0.01))
    written = json.loads(json.dumps(limits.to_dict()))
    assert written["group_limits"][1] == {"group": "Tech", "lb_wt": None, "ub_wt": 0.4, "max_weight_change": None,
                                          "max_sold_fraction": None}
    assert "group_limits" not in krg.Limits().to_dict()


def test_the_most_cash_typed_back_keeps_the_group_limits():
    """The CLI's most-cash figure (tradable_cash) once dropped the group rows: $1.62B claimed where the bands allow
    $1.42B. It is the largest whole-share target raised within every limit, groups included."""
    from krg_liquidity.solve.tradable import tradable_cash

    holdings, covariance = krg.load_example()
    holdings = holdings.assign(Sector=[f"S{i % 5}" for i in range(len(holdings))])
    book = krg.Portfolio(holdings, covariance)
    limits = krg.Limits(group_column="Sector", group_limits={"max_weight_change": 0.005})
    most = krg.max_cash(book, limits=limits)
    assert most < 0.99 * krg.max_cash(book)  # the bands bind
    typed = tradable_cash(book, 1, limits=limits)
    assert typed is not None and most * (1 - 1e-6) <= typed <= most + 5
    assert krg.round_trades(krg.liquidate(book, typed, limits=limits)).success


def test_the_report_command_takes_the_shape_limits(tmp_path):
    from typer.testing import CliRunner

    from krg_liquidity.book.datasets import data_path
    from krg_liquidity.cli import app

    holdings, _ = krg.load_example()
    book = tmp_path / "book.csv"
    holdings.assign(Sector=[f"S{i % 5}" for i in range(len(holdings))]).to_csv(book, index=False)
    page = tmp_path / "report.html"
    out = CliRunner().invoke(app, ["report", str(book), "--covariance", str(data_path("example_covariance.csv")),
                                   "--cash", "10%", "--output", str(page), "--group-column", "Sector",
                                   "--max-group-weight-change", "0.005", "--max-tracking-error", "0.01"])
    assert out.exit_code == 0, out.output
    text = page.read_text()
    assert "group limits by Sector" in text and "tracking error at most 1% a year" in text
    bad = CliRunner().invoke(app, ["report", str(book), "--covariance", str(data_path("example_covariance.csv")),
                                   "--cash", "10%", "--output", str(page), "--max-tracking-error", "1"])
    assert bad.exit_code == 2 and "did you mean 0.01?" in bad.output


def test_the_trade_table_names_the_group_limit_that_shapes_a_name():
    holdings, covariance = krg.load_example()
    sectored = holdings.assign(Sector=[f"S{i % 4}" for i in range(len(holdings))])
    book = krg.Portfolio(sectored, covariance)
    result = krg.liquidate(book, 1e9, risk_band=(0.9, 1.1), max_total_mi_bps=50.0, group_column="Sector",
                           group_limits={"max_weight_change": 0.002})
    groups = result.groups
    at_limit = {g: words for g, words in zip(groups.index, groups["limit_reached"]) if words}
    assert at_limit  # the band binds some group
    trades = result.trades
    plain = krg.liquidate(book, 1e9, risk_band=(0.9, 1.1), max_total_mi_bps=50.0).trades
    for symbol, sector, words, traded in zip(trades["symbol"], trades["Sector"], trades["limit_reached"],
                                             trades["shares_traded"]):
        if words.startswith("group "):
            assert words == f"group {sector}: {at_limit[sector]}", symbol
        elif traded != 0:  # a traded name of a group at its band says so, unless its own limit stops it
            assert sector not in at_limit or words != "", symbol
    assert any(w.startswith("group ") for w in trades["limit_reached"])
    assert not any(w.startswith("group ") for w in plain["limit_reached"])


def _liquid_and_illiquid_book():
    """Ten large liquid names and thirty small illiquid ones, five sectors, every name at a POV of 10%."""
    holdings, model = krg.synthetic_universe(40, n_factors=5, seed=7)
    holdings["Sector"] = np.array(["Tech", "Financials", "Health", "Energy", "Consumer"])[np.arange(40) % 5]
    large = np.arange(40) < 10
    holdings["adv"] = np.where(large, holdings["adv"] * 3, holdings["adv"] * 0.03).round()
    return krg.Portfolio(holdings.drop(columns="trade_time").assign(pov=0.1), factor_model=model)


@pytest.mark.parametrize("band", [None, (0.0, 1.1), (0.9, 1.1)])
def test_a_liquidity_floor_only_a_larger_sale_meets_is_explained_as_such(band):
    """The post-trade book must be 90% sellable in a day: selling 60% cannot get there, selling (nearly) all can.
    The cash that meets the limits is not 'at most' anything: the message says a larger sale is needed."""
    book = _liquid_and_illiquid_book()
    with pytest.raises(InfeasibleLiquidation) as caught:
        krg.liquidate(book, "60%", risk_band=band, min_liquid_fraction=(0.9, 1))
    text = str(caught.value)
    assert "at most $" not in text and "liquidity floor (90% sellable within 1 day)" in text
    assert "liquidity_left" in caught.value.blocking  # the floor itself gives, not "sell more than is held"
    assert "direction" not in caught.value.blocking
    if band is not None and band[0] > 0:
        assert "can be raised within the limits without the risk floor, so the floor stops this target" in text
    else:
        assert "the limits can be met only by a larger sale" in text
    most = caught.value.max_cash
    assert most > 0.6 * book.net_value_usd
    assert krg.liquidate(book, 0.99 * most, risk_band=None if band is None else (0.0, band[1]),
                         min_liquid_fraction=(0.9, 1)).success  # the larger sale does meet it


def test_the_result_reports_its_tracking_error_to_todays_book():
    holdings, covariance = grouped_book(5)
    book = krg.Portfolio(holdings, covariance)
    result = krg.liquidate(book, 0.3 * book.net_value_usd, max_tracking_error=0.004)
    value = holdings["shares"].to_numpy(float) * holdings["price"].to_numpy(float)
    after = result.trades["shares_after"].to_numpy(float) * holdings["price"].to_numpy(float)
    active = after / after.sum() - value / value.sum()
    matrix = covariance.loc[holdings["symbol"], holdings["symbol"]].to_numpy()
    assert result.tracking_error == pytest.approx(float(np.sqrt(active @ matrix @ active)), rel=1e-9)
    assert result.tracking_error <= 0.004 * (1 + 1e-7)
    assert krg.liquidate(krg.Portfolio(holdings), "30%").tracking_error is None  # no risk model
    assert f"tracking error  {result.tracking_error:.2%} a year to today's book (cap 0.40%)" in result.summary()
    assert result.to_dict()["tracking_error"] == pytest.approx(result.tracking_error, rel=1e-12)
    plain = krg.liquidate(book, 0.3 * book.net_value_usd)  # no cap: not said (the summary stays as it was)
    assert "tracking error" not in plain.summary() and "tracking_error" not in plain.to_dict()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), share=st.floats(0.1, 0.7), cap=st.floats(0.2, 0.9),
       band=st.one_of(st.none(), st.floats(0.005, 0.05)))
def test_the_dual_engines_tracking_error_row_agrees_with_the_plain_formulation(seed, share, cap, band):
    """A tracking-error cap (a fraction of the free answer's), with or without sector bands, in the dual engine: the
    plain formulation's least cost, the cap met, and the marginal cost the slope of the least cost."""
    holdings, covariance = grouped_book(seed)
    book = krg.Portfolio(holdings, covariance)
    cash = share * book.net_value_usd
    free = krg.liquidate(book, cash).tracking_error
    assume(free > 1e-4)
    te = cap * free
    today = weights_today(holdings)
    groups = None if band is None else {g: (today[g] - band, today[g] + band) for g in GROUPS}
    least, _ = reference(holdings, covariance, cash, groups=groups, tracking=te, strict=False)
    assume(least is not None and np.isfinite(least))
    rules = {} if band is None else {"group_column": "sector", "group_limits": {"max_weight_change": band}}
    result = krg.liquidate(book, cash, max_tracking_error=te, **rules)
    assert_same_cost(result, least)
    assert result.tracking_error <= te + 1e-9 and result.max_violation <= 1e-6
    step = 1e-4 * cash
    up, down = (krg.liquidate(book, cash + d, max_tracking_error=te, **rules) for d in (step, -step))
    assert result.marginal_cost_bps == pytest.approx((up.cost_usd - down.cost_usd) / (2 * step) * 1e4, rel=1e-4)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), share=st.floats(0.1, 0.7), band=st.floats(0.002, 0.05),
       sold=st.one_of(st.none(), st.floats(0.3, 0.9)), ceiling=st.one_of(st.none(), st.floats(0.9, 1.2)))
def test_the_dual_engines_group_cuts_agree_with_the_plain_formulation(seed, share, band, sold, ceiling):
    """Group bands (and a cap on each group's value sold, and a risk ceiling) solved with the group rows as the
    dual engine's cuts: the plain cvxpy formulation's least cost (or its proof that none exists), every limit
    recomputed from the trades."""
    holdings, covariance = grouped_book(seed)
    book = krg.Portfolio(holdings, covariance)
    cash = share * book.net_value_usd
    today = weights_today(holdings)
    rules = {"max_weight_change": band} | ({} if sold is None else {"max_sold_fraction": sold})
    least, _ = reference(holdings, covariance, cash, groups={g: (today[g] - band, today[g] + band) for g in GROUPS},
                         sold=None if sold is None else {g: sold for g in GROUPS}, ceiling=ceiling, strict=False)
    assume(least is None or np.isfinite(least))
    band_arg = None if ceiling is None else (0.0, ceiling)
    if least is None:  # proven impossible: never an answer; a proof, or (at the edge of feasibility) an honest failure
        with pytest.raises((InfeasibleLiquidation, SolverFailure)):
            krg.liquidate(book, cash, group_column="sector", group_limits=rules, risk_band=band_arg)
        return
    result = krg.liquidate(book, cash, group_column="sector", group_limits=rules, risk_band=band_arg)
    assert_same_cost(result, least)
    assert result.max_violation <= 1e-6
    after = sector_weights(holdings, result.trades["shares_after"].to_numpy(), book.net_value_usd - cash)
    assert ((after - today).abs() <= band + 1e-7).all()


def test_a_group_band_that_blocks_is_named_even_when_per_name_limits_could_give_instead():
    """The least total give may be in per-name limits; the group limits the reason names are then listed too, with
    how far they alone would have to give (every other limit kept)."""
    holdings, covariance = krg.load_example()
    book = krg.Portfolio(holdings.assign(Sector=[f"S{i % 4}" for i in range(len(holdings))]), covariance)
    rules = {"group_column": "Sector", "group_limits": {"max_weight_change": 0.001}}
    most = krg.max_cash(book, **rules)
    assert most < 1.55e9 < krg.max_cash(book)  # only the group band makes it impossible
    with pytest.raises(InfeasibleLiquidation) as caught:
        krg.liquidate(book, 1.55e9, **rules)
    text = str(caught.value)
    shaped = [line for line in text.splitlines() if line.strip().startswith("weight of group")]
    assert shaped and all(line.endswith("(instead of the rows above: the shape limits alone)") for line in shaped)
    assert any(key.startswith("group_weight:") for key in caught.value.blocking)


def test_the_summary_words_the_group_rule_and_a_group_breach_has_its_unit():
    from krg_liquidity.solve.limits import MEASURED

    holdings, covariance = grouped_book(4)
    book = krg.Portfolio(holdings, covariance)
    table = pd.DataFrame({"max_weight_change": [0.05, np.nan], "max_sold_fraction": [np.nan, 0.9]},
                         index=["*", "Tech"])
    result = krg.liquidate(book, "20%", group_column="sector", group_limits=table)
    words = " ".join(result.summary().split())
    assert "group limits by sector (each group's weight within +/-5 points; 1 group with its own)" in words
    assert MEASURED.get("group_weight:Tech") == "fraction of the post-trade value"
    assert MEASURED.get("group_sold:Tech") == "fraction of the group's value"
