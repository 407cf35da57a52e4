"""US netting of capital gains: the tax function, and the region-by-region optimum against the rules' cases written
out here as linear programs (scipy's HiGHS), random sales, and every other trade list priced the same way.

Rules (IRS Publication 550): short-term gains S and long-term gains L net within their term, then across;
S, L >= 0 pays rs S + rl L; a short-term loss offsets a long-term gain, rl (S + L); a long-term loss offsets a
short-term gain, rs (S + L); a net loss pays nothing and is carried forward.
"""

import json

import numpy as np
import pandas as pd
import pytest
from books import random_lots, small_book
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from typer.testing import CliRunner

from krg_liquidity import (
    CostModel,
    InputError,
    IStarParams,
    Limits,
    Portfolio,
    TaxRates,
    compare_after_tax,
    liquidate,
    load_example,
    round_trades,
)
from krg_liquidity.book.datasets import data_path
from krg_liquidity.cli import app
from krg_liquidity.model.tax import realized_tax

AS_OF = "2026-12-01"
HOLDINGS, COVARIANCE = str(data_path("example_portfolio.csv")), str(data_path("example_covariance.csv"))
RS, RL = 0.37, 0.238
LINEAR = TaxRates(RS, RL, as_of=AS_OF)
US = TaxRates(RS, RL, as_of=AS_OF, netting="us")
NO_IMPACT = CostModel(IStarParams(a1=1e-6, a2=0.55, a3=0.71, a4=0.5, b1=0.98, a5=0.0))


def us_tax(short_gain: float, long_gain: float) -> float:
    """The netted tax, written out case by case."""
    if short_gain >= 0 and long_gain >= 0:
        return RS * short_gain + RL * long_gain
    if short_gain < 0 and long_gain < 0:
        return 0.0
    if short_gain < 0:  # a short-term loss against a long-term gain
        return RL * max(long_gain + short_gain, 0.0)
    return RS * max(short_gain + long_gain, 0.0)  # a long-term loss against a short-term gain


@pytest.mark.parametrize("short_gain, long_gain, tax, carried", [
    (100.0, 50.0, RS * 100 + RL * 50, 0.0),
    (-30.0, 100.0, RL * 70, 0.0),
    (100.0, -30.0, RS * 70, 0.0),
    (-30.0, 10.0, 0.0, 20.0),
    (10.0, -30.0, 0.0, 20.0),
    (-5.0, -5.0, 0.0, 10.0),
])
def test_the_netted_tax_case_by_case(short_gain, long_gain, tax, carried):
    lots = pd.DataFrame({"term": ["short", "long"], "rate": [RS, RL], "gain_per_share": [short_gain, long_gain]})
    found = realized_tax(lots, np.array([1.0, 1.0]), US)
    assert found["tax_usd"] == pytest.approx(tax) and found["carryforward_usd"] == pytest.approx(carried)
    linear = realized_tax(lots, np.array([1.0, 1.0]), LINEAR)["tax_usd"]
    assert linear == pytest.approx(RS * short_gain + RL * long_gain)  # each lot at its own rate, credits too


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6))
def test_the_netted_tax_is_never_a_credit_and_matches_the_rules(short_gain, long_gain):
    lots = pd.DataFrame({"term": ["short", "long"], "rate": [RS, RL], "gain_per_share": [short_gain, long_gain]})
    found = realized_tax(lots, np.array([1.0, 1.0]), US)
    assert found["tax_usd"] >= 0
    assert found["tax_usd"] == pytest.approx(us_tax(short_gain, long_gain), abs=1e-6)
    assert found["carryforward_usd"] == pytest.approx(max(0.0, -(short_gain + long_gain)), abs=1e-6)


def lot_data(lots: pd.DataFrame, price: pd.Series, cash: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each lot's short-term mask, gain per dollar of proceeds and proceeds capacity in units of the cash."""
    p = price.reindex(lots["Symbol"]).to_numpy(float)
    held = (pd.Timestamp(AS_OF) - pd.to_datetime(lots["Open Date"])).dt.days.to_numpy()
    return held <= 365, 1.0 - lots["Unit Cost"].to_numpy(float) / p, lots["Shares"].to_numpy(float) * p / cash


def least_netted_tax_by_cases(lots: pd.DataFrame, price: pd.Series, cash: float) -> float:
    """The least netted tax raising ``cash`` from the lots (no other cost, no other limit): the four cases of the
    rules written out here, each a linear program solved by scipy's HiGHS, the least of them (USD)."""
    short, g, cap = lot_data(lots, price, cash)
    s, l = np.where(short, g, 0.0), np.where(short, 0.0, g)
    cases = [  # (tax per unit of proceeds, rows A with A @ y <= 0)
        (np.where(short, RS, RL) * g, [-s, -l]),  # both terms gains
        (RL * g, [s, -l, -g]),  # a short-term loss offsets a long-term gain
        (RS * g, [-s, l, -g]),  # a long-term loss offsets a short-term gain
        (np.zeros(len(g)), [g]),  # a net loss
    ]
    best = np.inf
    for rate, rows in cases:
        found = linprog(rate, A_ub=np.array(rows), b_ub=np.zeros(len(rows)), A_eq=np.ones((1, len(g))), b_eq=[1.0],
                        bounds=list(zip(np.zeros(len(g)), cap)), method="highs")
        if found.status == 0:
            best = min(best, float(found.fun))
    return best * cash


def sampled_netted_tax(lots: pd.DataFrame, price: pd.Series, cash: float, samples: int = 3000) -> float:
    """The least netted tax over random sales raising ``cash`` (each within its lot), priced by ``us_tax``."""
    short, g, cap = lot_data(lots, price, cash)
    rng = np.random.default_rng(0)
    best = np.inf
    for _ in range(samples):
        y = np.zeros(len(g))
        left = 1.0
        for j in rng.permutation(len(g)):  # fill the lots in a random order, a random share of each
            take = min(cap[j], left) * (1.0 if rng.uniform() < 0.5 else rng.uniform())
            y[j], left = take, left - take
        if left > 1e-12:
            continue
        best = min(best, us_tax(float(g[short] @ y[short]), float(g[~short] @ y[~short])))
    return best * cash


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(2, 4), fraction=st.floats(0.05, 0.9))
@example(seed=6539, n=4, fraction=0.46484375)  # a region Clarabel neither solves nor proves empty
def test_the_netted_optimum_matches_the_rules_case_by_case(seed, n, fraction):
    holdings, covariance, _ = small_book(seed, n=n, bounds=False)
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, seed)
    cash = fraction * book.net_value_usd
    result = liquidate(book, cash, lots=lots, tax=US, cost_model=NO_IMPACT)
    assert result.status in ("optimal", "feasible")  # feasible: a region neither solved nor proven empty
    price = book.holdings.set_index("symbol")["price"]
    least = least_netted_tax_by_cases(lots, price, cash)
    trading = result.total_cost_usd  # tiny: the impact model is all but zero
    assert result.tax_usd + trading >= least - 1e-7 * cash - 1e-3  # never below the true least
    if result.status == "optimal":
        assert result.tax_usd + trading == pytest.approx(least, abs=1e-7 * cash + 1e-3)
    else:
        assert np.isnan(result.gap) and any(s["outcome"] == "failed" for s in result.stages)
    assert result.tax_usd <= sampled_netted_tax(lots, price, cash) + 1e-7 * cash
    # the reported tax is the rules' tax of the reported lots
    short = result.lots["term"] == "short"
    gains = result.lots["realized_gain_usd"]
    assert result.tax_usd == pytest.approx(us_tax(gains[short].sum(), gains[~short].sum()), abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_with_impact_no_other_trade_list_pays_less_after_netting(seed):
    """The netted optimum against the linear model's answer, the impact-only optimum and a pro-rata sale, each
    priced under netting with every lot rule: none costs less (trading cost + netted tax)."""
    holdings, covariance, _ = small_book(seed, n=6)
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, seed)
    cash = 0.3 * book.net_value_usd
    best = liquidate(book, cash, lots=lots, tax=US)
    assert best.success
    objective = best.total_cost_usd + best.tax_usd
    linear = liquidate(book, cash, lots=lots, tax=LINEAR)
    priced = realized_tax(best.lots, linear.lots["shares_sold"].to_numpy(), US)["tax_usd"]
    assert linear.total_cost_usd + priced >= objective - 1e-6 * abs(objective) - 1.0
    table = compare_after_tax(book, cash, lots=lots, tax=US)
    kept = table[table["status"].isin(["optimal", "feasible"])]
    assert table["objective_usd"].iloc[0] == pytest.approx(objective, rel=1e-9)
    assert (kept["objective_usd"] >= objective - 1e-6 * abs(objective) - 1.0).all()
    assert (table["tax_usd"].dropna() >= 0).all()  # netting never credits a loss


def test_all_gains_netting_and_the_linear_model_agree():
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, 9)
    lots["Unit Cost"] = lots["Unit Cost"] * 0.5  # every lot at a gain
    linear = liquidate(book, 1e9, lots=lots, tax=LINEAR)
    netted = liquidate(book, 1e9, lots=lots, tax=US)
    assert netted.status == linear.status == "optimal"
    assert netted.tax_usd == pytest.approx(linear.tax_usd, rel=1e-6)
    assert netted.total_cost_usd + netted.tax_usd == pytest.approx(linear.total_cost_usd + linear.tax_usd, rel=1e-7)
    assert netted.tax["carryforward_usd"] == 0.0


def test_a_net_loss_is_carried_forward_not_credited():
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, 4)
    lots["Unit Cost"] = lots["Unit Cost"] * 3.0  # every lot at a loss
    linear = liquidate(book, 1e9, lots=lots, tax=LINEAR)
    netted = liquidate(book, 1e9, lots=lots, tax=US)
    assert linear.tax_usd < 0  # the linear model credits the losses
    assert netted.tax_usd == 0.0 and netted.tax["carryforward_usd"] > 0
    assert netted.total_cost_usd <= linear.total_cost_usd + 1e-6 * linear.total_cost_usd  # no credit to chase
    rules = netted.tax_by_rule()
    assert "optimizer" in rules.index and (rules["tax_usd"] == 0.0).all()


def test_rounding_keeps_the_optimizers_lot_mix():
    holdings, covariance, _ = small_book(3, n=6, bounds=False)
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, 3)
    exact = liquidate(book, 0.3 * book.net_value_usd, lots=lots, tax=US)
    rounded = round_trades(exact)
    sold = rounded.lots.groupby("symbol")["shares_sold"].sum()
    traded = -rounded.trades.set_index("symbol")["shares_traded"]
    assert np.allclose(sold.reindex(traded.index).fillna(0.0), traded.clip(lower=0.0), atol=1e-6)
    assert (rounded.lots["shares_sold"] <= rounded.lots["shares"] + 1e-9).all()
    short = rounded.lots["term"] == "short"
    gains = rounded.lots["realized_gain_usd"]
    assert rounded.tax_usd == pytest.approx(us_tax(gains[short].sum(), gains[~short].sum()), abs=1e-6)
    assert rounded.tax_usd == pytest.approx(exact.tax_usd, abs=1e-4 * exact.cash_raised)


def test_an_unknown_netting_is_refused_by_name():
    with pytest.raises(InputError, match="netting='uk'"):
        TaxRates(RS, RL, as_of=AS_OF, netting="uk")


def test_the_cli_takes_netting(tmp_path):
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, 4)
    lots["Unit Cost"] = lots["Unit Cost"] * 3.0
    path = tmp_path / "lots.csv"
    lots.to_csv(path, index=False)
    out = CliRunner().invoke(app, ["liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", "10%", "--lots", str(path), "--tax-short", "0.37",
                                   "--tax-long", "0.238", "--as-of", AS_OF, "--netting", "us"])
    assert out.exit_code == 0, out.output
    assert "Tax $0.00 (" in out.output and "net loss carried forward $" in out.output
    bad = CliRunner().invoke(app, ["liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", "10%", "--lots", str(path), "--tax-short", "0.37",
                                   "--tax-long", "0.238", "--as-of", AS_OF, "--netting", "uk"])
    assert bad.exit_code == 2 and "--netting 'uk'" in bad.output


def test_the_request_written_with_the_answer_carries_the_fee_the_cost_cap_and_the_tax():
    book = Portfolio(*load_example())
    lots = random_lots(book.holdings, 4)
    result = liquidate(book, "10%", fee_bps=0.3, limits=Limits(max_total_cost_bps=60), lots=lots, tax=US)
    assert result.request["fee_bps"] == 0.3 and result.request["max_total_cost_bps"] == 60
    assert result.request["tax"] == {"short_term": RS, "long_term": RL, "long_term_after_days": 365,
                                     "as_of": AS_OF, "netting": "us", "tax_weight": 1.0}
    summary = result.summary()
    for words in ("all-in trading cost at most 60 bps", "sell fee 0.3 bps", "37.0% short-term", "US netting",
                  "sale date 2026-12-01"):
        assert words in summary
    assert json.loads(result.to_json())["request"]["tax"]["netting"] == "us"


def test_the_cli_reads_rates_as_percents_and_names_its_own_options(tmp_path):
    lots = random_lots(Portfolio(*load_example()).holdings, 4)
    path = tmp_path / "lots.csv"
    lots.to_csv(path, index=False)
    base = ["liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", "10%", "--lots", str(path)]
    ok = CliRunner().invoke(app, base + ["--tax-short", "37%", "--tax-long", "23.8%", "--as-of", AS_OF])
    assert ok.exit_code == 0, ok.output
    assert "37.0% short-term, 23.8% long-term" in ok.output
    bad = CliRunner().invoke(app, base + ["--tax-short", "37", "--tax-long", "0.238", "--as-of", "2026-13-01"])
    assert bad.exit_code == 2
    assert "--tax-short 37.0 must be a decimal rate below 1 (did you mean 0.37?" in bad.output
    assert "--as-of '2026-13-01' is not a date" in bad.output


def test_the_workbook_carries_the_costs_the_lots_and_the_tax_settings(tmp_path):
    from krg_liquidity import write_result

    book = Portfolio(*load_example())
    result = liquidate(book, "10%", fee_bps=0.3, lots=random_lots(book.holdings, 4), tax=US)
    path = write_result(result, tmp_path / "answer.xlsx")
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["trades", "schedule", "grid", "summary", "costs", "lots", "lot_rules", "liquidity", "request", "assumptions"]
    costs = sheets["costs"].set_index("cost")["usd"]
    assert costs["tax"] == pytest.approx(result.tax_usd, abs=0.01) and costs["total"] == pytest.approx(
        result.total_cost_usd, rel=1e-9)
    assert sheets["lots"]["shares_sold"].sum() == pytest.approx(result.lots["shares_sold"].sum(), rel=1e-9)
    request = dict(zip(sheets["request"]["key"], sheets["request"]["value"]))
    assert request["tax.netting"] == "US netting" and float(request["fee_bps"]) == 0.3
    summary = dict(zip(sheets["summary"]["item"], sheets["summary"]["value"]))
    assert float(summary["capital-gains tax"]) == pytest.approx(result.tax_usd, abs=0.01)
    assert "least possible trading cost + tax (proven lower bound)" in summary


def test_the_html_report_shows_the_costs_the_tax_and_the_lots_sold():
    book = Portfolio(*load_example())
    result = liquidate(book, "10%", fee_bps=0.3, lots=random_lots(book.holdings, 4), tax=LINEAR)
    page = result.to_html()
    assert "<table id='costs'>" in page and "<table id='lots'>" in page
    assert "least possible trading cost + tax (USD, proven)" in page
    assert f"data-value='{result.tax_usd!r}'" in page  # the tax row carries the exact figure
    assert "each loss credited at its rate" in page and "realized long-term gain (USD)" in page
    assert "The frontier is solved without the tax lots" in page and "priced by impact alone" in page
    sold = int((result.lots["shares_sold"] > 0.5).sum())
    lots_table = page.split("<table id='lots'>")[1].split("</table>")[0]
    assert lots_table.count("<tr>") == sold + 1  # a header and one row per lot sold (then the total row)


def test_the_report_command_takes_the_lots(tmp_path):
    lots = random_lots(Portfolio(*load_example()).holdings, 4)
    path = tmp_path / "lots.csv"
    lots.to_csv(path, index=False)
    page = tmp_path / "report.html"
    out = CliRunner().invoke(app, ["report", HOLDINGS, "--covariance", COVARIANCE, "--cash", "10%", "--output",
                                   str(page), "--lots", str(path), "--tax-short", "37%", "--tax-long", "0.238",
                                   "--as-of", AS_OF, "--netting", "us", "--fee-bps", "0.3"])
    assert out.exit_code == 0, out.output
    text = page.read_text()
    assert "<table id='lots'>" in text and "capital-gains tax (USD)" in text and "<table id='costs'>" in text


@pytest.mark.parametrize("seed", [4, 5])
def test_among_splits_of_equal_tax_the_most_loss_is_carried_forward(seed):
    """A trial: with every region at tax 0 the optimizer's split realized $64.6M of long-term gains and carried
    forward $13.1M, where selling the same trades highest basis first carried forward $237M."""
    book = Portfolio(*load_example())
    lots = random_lots(book.holdings, seed)
    result = liquidate(book, "10%", lots=lots, tax=US)
    rules = result.tax_by_rule()
    table = result.lots
    sold = table.groupby("symbol", sort=False)["shares_sold"].sum()
    from krg_liquidity.model.tax import split_by_rule

    for rule in rules.index.drop("optimizer"):
        paid = realized_tax(table, split_by_rule(table, sold, rule), US)
        if paid["tax_usd"] <= result.tax_usd + 0.01:
            assert result.tax["carryforward_usd"] >= paid["carryforward_usd"] - 0.01, rule
    table_after = compare_after_tax(book, "10%", lots=lots, tax=US)
    assert table_after["lots"].iloc[0] == "optimizer"  # the optimizer's own split, named as such
    assert table_after["tax_usd"].iloc[0] == pytest.approx(result.tax_usd, abs=0.01)
