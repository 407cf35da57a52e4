"""Book-wide per-name defaults (``Limits.max_pct_adv``, ``max_weight_change``, ``max_sold_fraction``).

A default is the same limit as the holdings column it stands for, written where the column is blank.
The checks: a book whose columns the test writes itself gives the same answer as the defaults; every
default holds on the returned trades (recomputed here from the shares); a value the holdings give
wins; contradictions and bad values are refused by name; a request only a default makes impossible
is proven impossible.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from books import small_book
from checks import assert_feasible
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import krg_liquidity as krg
from krg_liquidity.core.errors import InfeasibleLiquidation, InputError

TOL = 1e-7


def plain_book(seed: int, n: int = 8, short_fraction: float = 0.0):
    holdings, covariance, _ = small_book(seed, n=n, short_fraction=short_fraction, bounds=False)
    return holdings, covariance


def written_by_hand(holdings: pd.DataFrame, *, pct=None, change=None, sold=None) -> pd.DataFrame:
    """The holdings with the defaults' columns written out here, from their definitions."""
    out = holdings.copy()
    shares, price = out["shares"].to_numpy(float), out["price"].to_numpy(float)
    weight = shares * price / (shares * price).sum()
    if pct is not None:
        out["ub_max_pct_adv"] = pct
    if change is not None:
        out["lb_wt"], out["ub_wt"] = np.clip(weight - change, -1, 1), np.clip(weight + change, -1, 1)
    if sold is not None:
        out["lb_min_shares"] = np.where(shares > 0, (1 - sold) * shares, np.nan)
        out["ub_max_shares"] = np.where(shares < 0, (1 - sold) * shares, np.nan)
    return out


def held(result, holdings, *, pct=None, change=None, sold=None) -> None:
    """Each default holds on the trades, recomputed from the shares before and after."""
    shares, price, adv = (holdings[c].to_numpy(float) for c in ("shares", "price", "adv"))
    after = result.trades["shares_after"].to_numpy(float)
    traded = np.abs(after - shares)
    if pct is not None:
        assert np.all(traded <= pct * adv * (1 + TOL) + 1e-6)
    if change is not None:
        before = shares * price / (shares * price).sum()
        now = after * price / (after * price).sum()
        assert np.all(np.abs(now - before) <= change + TOL)
    if sold is not None:
        assert np.all(traded <= sold * np.abs(shares) * (1 + TOL) + 1e-6)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("defaults", [{"pct": 0.08}, {"change": 0.01}, {"sold": 0.3},
                                      {"pct": 0.1, "change": 0.02, "sold": 0.4}])
def test_defaults_match_the_columns_written_by_hand(seed, defaults):
    holdings, covariance = plain_book(seed)
    cash = 0.15 * float((holdings["shares"] * holdings["price"]).sum())
    names = {"pct": "max_pct_adv", "change": "max_weight_change", "sold": "max_sold_fraction"}
    limits = krg.Limits(**{names[k]: v for k, v in defaults.items()})
    by_hand = written_by_hand(holdings, **defaults)
    try:
        expected = krg.liquidate(krg.Portfolio(by_hand, covariance), cash)
    except InfeasibleLiquidation as exc:
        with pytest.raises(InfeasibleLiquidation) as raised:
            krg.liquidate(krg.Portfolio(holdings, covariance), cash, limits=limits)
        assert raised.value.max_cash == pytest.approx(exc.max_cash, rel=1e-9)
        return
    got = krg.liquidate(krg.Portfolio(holdings, covariance), cash, limits=limits)
    assert got.status == "optimal"
    assert got.cost_usd == pytest.approx(expected.cost_usd, rel=1e-9)
    np.testing.assert_allclose(got.trades["shares_after"], expected.trades["shares_after"], rtol=1e-9, atol=1e-6)
    held(got, holdings, **defaults)
    assert_feasible(by_hand, got, cash)


def test_a_value_the_holdings_give_wins():
    holdings, covariance = plain_book(4)
    holdings["ub_max_pct_adv"] = np.nan
    holdings.loc[0, "ub_max_pct_adv"] = 0.3
    book = krg.Portfolio(holdings, covariance)
    limits = krg.Limits(max_pct_adv=0.05)
    assert limits.book(book).array("ub_max_pct_adv").tolist() == [0.3] + [0.05] * (len(holdings) - 1)
    most = krg.max_cash(book, limits=limits)
    adv, price, shares = (holdings[c].to_numpy(float) for c in ("adv", "price", "shares"))
    cap = np.minimum(shares, np.r_[0.3, np.full(len(holdings) - 1, 0.05)] * adv)
    assert most == pytest.approx(float((cap * price).sum()), rel=1e-9)


def test_the_default_fills_one_side_of_a_weight_band_and_keeps_the_other():
    holdings, covariance = plain_book(5)
    weight = holdings["shares"] * holdings["price"] / (holdings["shares"] * holdings["price"]).sum()
    holdings["ub_wt"] = np.nan
    holdings.loc[1, "ub_wt"] = float(weight[1]) + 0.05
    filled = krg.Limits(max_weight_change=0.01).book(krg.Portfolio(holdings, covariance))
    np.testing.assert_allclose(filled.array("lb_wt"), weight - 0.01)
    assert filled.array("ub_wt")[1] == pytest.approx(weight[1] + 0.05)
    assert filled.array("ub_wt")[0] == pytest.approx(weight[0] + 0.01)


def test_shorts_cap_what_is_bought_back():
    holdings, covariance = plain_book(6, n=10, short_fraction=0.3)
    short = holdings["shares"].to_numpy() < 0
    assert short.any()
    filled = krg.Limits(max_sold_fraction=0.25).book(krg.Portfolio(holdings, covariance))
    shares = holdings["shares"].to_numpy(float)
    np.testing.assert_allclose(filled.array("ub_max_shares")[short], 0.75 * shares[short])
    assert np.isnan(filled.array("ub_max_shares")[~short]).all()
    np.testing.assert_allclose(filled.array("lb_min_shares")[~short], 0.75 * shares[~short])


def test_a_request_only_a_default_makes_impossible_is_proven_and_named():
    holdings, covariance = plain_book(7)
    net = float((holdings["shares"] * holdings["price"]).sum())
    book = krg.Portfolio(holdings, covariance)
    assert krg.liquidate(book, 0.1 * net).status == "optimal"
    with pytest.raises(InfeasibleLiquidation) as raised:
        krg.liquidate(book, 0.1 * net, max_sold_fraction=0.05)
    assert raised.value.max_cash == pytest.approx(0.05 * net, rel=1e-9)
    assert "final-share bounds" in str(raised.value)
    assert krg.max_cash(book, max_sold_fraction=0.05) == pytest.approx(0.05 * net, rel=1e-9)


def test_the_summary_says_how_many_names_each_default_applies_to():
    holdings, covariance = plain_book(13, n=10)
    holdings["ub_max_pct_adv"] = np.nan
    holdings.loc[[0, 1, 2], "ub_max_pct_adv"] = 0.2  # three names carry their own cap
    book = krg.Portfolio(holdings, covariance)
    result = krg.liquidate(book, "10%", max_pct_adv=0.3, max_sold_fraction=0.9)
    assert result.request["names_filled"] == {"max_pct_adv": 7, "max_sold_fraction": 10}
    words = " ".join(result.summary().split())
    assert "at most 30% of ADV traded (7 of 10 names)" in words and "(10 of 10 names)" in words


def test_loose_defaults_change_nothing():
    holdings, covariance = plain_book(8)
    book = krg.Portfolio(holdings, covariance)
    net = book.net_value_usd
    plain = krg.liquidate(book, 0.1 * net, risk_band=(0.9, 1.1))
    loose = krg.liquidate(book, 0.1 * net, limits=krg.Limits(risk_band=(0.9, 1.1), max_pct_adv=1.0,
                                                            max_weight_change=1.0, max_sold_fraction=1.0))
    assert loose.cost_usd == pytest.approx(plain.cost_usd, rel=1e-9)
    assert loose.request["max_pct_adv"] == 1.0 and "max_pct_adv" not in plain.request


def test_defaults_with_a_risk_band_hold_every_limit():
    holdings, covariance = plain_book(9, n=12)
    book = krg.Portfolio(holdings, covariance)
    net = book.net_value_usd
    result = krg.liquidate(book, 0.2 * net, risk_band=(0.97, 1.03), max_weight_change=0.02, max_pct_adv=0.2)
    held(result, holdings, pct=0.2, change=0.02)
    assert_feasible(written_by_hand(holdings, pct=0.2, change=0.02), result, 0.2 * net, covariance=covariance,
                    risk_band=(0.97, 1.03))


def test_the_filled_book_shares_the_risk_model_once_factored():
    holdings, covariance = plain_book(10)
    book = krg.Portfolio(holdings, covariance)
    krg.liquidate(book, 0.1 * book.net_value_usd, risk_band=(0.9, 1.1), max_pct_adv=0.5)
    assert book.risk_factored  # factored through the filled book, kept on the one the caller holds
    filled = krg.Limits(max_pct_adv=0.5).book(book)
    assert filled.risk_factored and filled.risk() is book.risk()


def test_a_default_contradicting_the_holdings_is_refused_by_name():
    holdings, covariance = plain_book(11)
    weight = holdings["shares"] * holdings["price"] / (holdings["shares"] * holdings["price"]).sum()
    holdings["ub_wt"] = np.nan
    holdings.loc[2, "ub_wt"] = float(weight[2]) - 0.05  # the file asks to sell it down 5 points
    book = krg.Portfolio(holdings, covariance)
    with pytest.raises(InputError) as raised:
        krg.liquidate(book, 0.1 * book.net_value_usd, max_weight_change=0.01)
    text = str(raised.value)
    assert "max_weight_change=0.01" in text and holdings.loc[2, "symbol"] in text and "lb_wt" in text


@pytest.mark.parametrize("keyword, value, words", [
    ("max_pct_adv", 10, "did you mean 0.1"), ("max_pct_adv", 0, "above 0"),
    ("max_weight_change", 2, "did you mean 0.02"), ("max_weight_change", -0.1, "between 0 and 1"),
    ("max_sold_fraction", "50", "did you mean 0.5"), ("max_sold_fraction", "half", "between 0 and 1")])
def test_bad_defaults_are_refused_with_the_fix(keyword, value, words):
    with pytest.raises(InputError, match=words):
        krg.Limits(**{keyword: value})


def test_every_bad_default_is_listed_at_once():
    with pytest.raises(InputError) as raised:
        krg.Limits(max_pct_adv=20, max_sold_fraction=2)
    assert "max_pct_adv" in str(raised.value) and "max_sold_fraction" in str(raised.value)


def test_percent_text_reads_as_a_fraction():
    assert krg.Limits(max_pct_adv="10%", max_weight_change="2%").name_defaults == {
        "max_pct_adv": 0.1, "max_weight_change": 0.02}


def test_limits_and_the_same_keywords_are_refused_together():
    with pytest.raises(InputError, match="say the limits once"):
        krg.Limits.of(krg.Limits(), max_pct_adv=0.1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), fraction=st.floats(0.01, 0.5), pct=st.floats(0.02, 0.5),
       change=st.floats(0.002, 0.05), sold=st.floats(0.05, 1.0))
def test_whatever_is_returned_keeps_every_default(seed, fraction, pct, change, sold):
    holdings, covariance = plain_book(seed, n=7)
    book = krg.Portfolio(holdings, covariance)
    cash = fraction * book.net_value_usd
    limits = krg.Limits(max_pct_adv=pct, max_weight_change=change, max_sold_fraction=sold)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = krg.liquidate(book, cash, limits=limits)
        except InfeasibleLiquidation as exc:
            assert exc.max_cash < cash  # proven: the most that can be raised is below the target
            assert krg.max_cash(book, limits=limits) == pytest.approx(exc.max_cash, rel=1e-6, abs=1.0)
            return
    held(result, holdings, pct=pct, change=change, sold=sold)
    assert_feasible(written_by_hand(holdings, pct=pct, change=change, sold=sold), result, cash)


def test_the_cli_and_the_report_take_the_defaults(tmp_path):
    import json

    from typer.testing import CliRunner

    from krg_liquidity.cli import app

    holdings, covariance = plain_book(12, n=10)
    holdings.to_csv(tmp_path / "book.csv", index=False)
    covariance.to_csv(tmp_path / "cov.csv")
    common = ["liquidate", str(tmp_path / "book.csv"), "--cash", "20%", "--covariance", str(tmp_path / "cov.csv"),
              "--exact-shares"]
    flags = ["--max-pct-adv", "30%", "--max-weight-change", "0.03", "--max-sold-fraction", "0.6"]
    done = CliRunner().invoke(app, [*common, *flags, "--json"])
    assert done.exit_code == 0, done.output
    answer = json.loads(done.output)
    python = krg.liquidate(krg.Portfolio(holdings, covariance), "20%", max_pct_adv=0.3, max_weight_change=0.03,
                           max_sold_fraction=0.6)
    assert answer["cost_usd"] == pytest.approx(python.cost_usd, rel=1e-9)
    assert python.cost_usd > krg.liquidate(krg.Portfolio(holdings, covariance), "20%").cost_usd  # they bind
    assert {k: answer["request"][k] for k in ("max_pct_adv", "max_weight_change", "max_sold_fraction")} == {
        "max_pct_adv": 0.3, "max_weight_change": 0.03, "max_sold_fraction": 0.6}
    shown = CliRunner().invoke(app, [*common, *flags])
    assert "each name, where the book gives no bound: at most 30% of ADV traded" in " ".join(shown.output.split())
    bad = CliRunner().invoke(app, [*common, "--max-pct-adv", "20", "--max-sold-fraction", "1.5"])
    assert bad.exit_code == 2
    assert "--max-pct-adv 20" in bad.output and "did you mean 0.2?" in bad.output
    assert "--max-sold-fraction 1.5" in bad.output
    page = tmp_path / "report.html"
    made = CliRunner().invoke(app, ["report", str(tmp_path / "book.csv"), "--cash", "20%", "--covariance",
                                    str(tmp_path / "cov.csv"), *flags, "--output", str(page)])
    assert made.exit_code == 0, made.output
    assert "at most 30% of ADV traded" in page.read_text()
