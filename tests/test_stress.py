"""Scenarios, stress tests, the date-range stress test and sensitivity."""

import numpy as np
import pandas as pd
import pytest
from books import small_book

from krg_liquidity import (
    CostModel,
    InputError,
    IStarParams,
    Portfolio,
    liquidate,
    load_example,
    max_cash,
    tradable_cash,
)
from krg_liquidity.solve.verify import impact_table
from krg_liquidity.whatif.rules import pro_rata
from krg_liquidity.whatif.scenarios import BUILT_IN, Scenario, built_in, by_column, scenarios_from_table
from krg_liquidity.whatif.sensitivity import sensitivity
from krg_liquidity.whatif.stress import STRESS_COLUMNS, date_range_stress, stress_test


@pytest.fixture(scope="module")
def example():
    return Portfolio(*load_example())


def _small(seed=4, n=6, factor=False):
    holdings, covariance, model = small_book(seed, n=n, bounds=False)
    return Portfolio(holdings, None if factor else covariance, model if factor else None)


@pytest.mark.parametrize("m", [0.25, 0.5, 2.0])
def test_adv_multiplier_changes_istar_as_the_formula(m):
    book = _small()
    shocked, model = Scenario("adv", adv=m).apply(book)
    traded = -0.3 * book.array("shares")
    size = 0.3 * book.array("shares") / book.array("adv")
    np.testing.assert_allclose(shocked.array("adv"), m * book.array("adv"))
    vol = book.array("volatility")
    # size scales by 1/m, so I* = a1 (size/m)^a2 vol^a3 = m^-a2 I*
    np.testing.assert_allclose(model.istar_bps(size / m, vol), m ** -0.55 * model.istar_bps(size, vol), rtol=1e-12)
    days = book.array("trade_time")
    pov = (size / m) / (size / m + days)
    expected = 708 * (size / m) ** 0.55 * vol ** 0.71 * (0.98 * pov ** 0.5 + 0.02)
    np.testing.assert_allclose(impact_table(shocked, traded, model)["mi_bps"], expected, rtol=1e-10)


def test_volatility_multiplier_scales_the_risk_model_and_impact():
    for factor in (False, True):
        book = _small(factor=factor)
        shocked, model = Scenario("vol", volatility={book.symbols[0]: 3.0}).apply(book)
        vol = book.array("volatility")
        assert shocked.array("volatility")[0] == pytest.approx(3 * vol[0])
        np.testing.assert_allclose(shocked.array("volatility")[1:], vol[1:])
        w = np.zeros(len(vol))
        w[0] = 1.0
        assert shocked.risk().sigma(w) == pytest.approx(3 * book.risk().sigma(w), rel=1e-12)
        w[:] = 0
        w[1] = 1.0
        assert shocked.risk().sigma(w) == pytest.approx(book.risk().sigma(w), rel=1e-12)


def test_column_multipliers_and_strategy_override():
    holdings, covariance, _ = small_book(2, n=6, bounds=False)
    holdings["sector"] = ["A", "A", "B", "B", "C", "C"]
    book = Portfolio(holdings, covariance)
    shocked, _ = Scenario("s", adv=by_column("sector", {"A": 0.5}, default=2.0), pov=0.1).apply(book)
    np.testing.assert_allclose(shocked.array("adv") / book.array("adv"), [0.5, 0.5, 2, 2, 2, 2])
    assert "trade_time" not in shocked.holdings and (shocked.array("pov") == 0.1).all()
    with pytest.raises(InputError, match="no column 'industry'"):
        Scenario("s", adv=by_column("industry", {})).apply(book)
    with pytest.raises(InputError, match="not in the book: ZZZ"):
        Scenario("s", volatility={"ZZZ": 2.0}).apply(book)
    with pytest.raises(InputError, match="positive"):
        Scenario("s", price=-1.0).apply(book)


def test_impossible_scenario_values_are_refused_before_any_solve():
    """Like pov=30, a multiplier <= 0 is refused when the scenario is made (or read), naming it."""
    for bad in (dict(adv=-0.5), dict(volatility={"AAPL": 0.0}), dict(price=by_column("sector", {"A": 2.0}, default=-1)),
                dict(adv="half")):
        with pytest.raises(InputError, match="scenario 's'.*positive multiplier"):
            Scenario("s", **bad)
    with pytest.raises(InputError, match="pov=30"):
        Scenario("s", pov=30)
    table = pd.DataFrame({"name": ["thin", "crash"], "adv": [0.5, -0.5]})
    with pytest.raises(InputError, match="scenario 'crash': adv=-0.5 must be a positive multiplier"):
        scenarios_from_table(table)
    both = pd.DataFrame({"name": ["crash", "slow"], "adv": [-0.5, None], "pov": [None, 30]})
    with pytest.raises(InputError, match="(?s)2 problems to fix:.*'crash': adv=-0.5.*'slow': pov=30"):
        scenarios_from_table(both)


def test_stress_table_rows_equal_separate_calls(example):
    scenarios = [built_in("base"), built_in("volatility doubled"),
                 Scenario("slow", trade_time=2.0, params=IStarParams(600, 0.5, 0.7, 0.5, 0.95))]
    limits = dict(risk_band=(0.9, 1.1), max_total_mi_bps=50)
    table = stress_test(example, 1e9, scenarios, max_pct_adv=0.2, **limits)
    assert list(table.columns) == list(STRESS_COLUMNS) and len(table) == 9
    for scenario in scenarios:
        book, model = scenario.apply(example)
        alone = liquidate(book, 1e9, cost_model=model, raise_on_failure=False, **limits)
        row = table[(table["scenario"] == scenario.name) & (table["method"] == "optimized")].iloc[0]
        assert row["status"] == alone.status
        if alone.success:
            assert row["cost_usd"] == pytest.approx(alone.cost_usd, rel=1e-6)
        most = tradable_cash(book, None, cost_model=model, **limits)  # typed back, the exact shares raise it
        assert row["max_cash_usd"] == most and liquidate(book, most, cost_model=model, **limits).success
        assert most <= max_cash(book, cost_model=model, max_total_mi_bps=50)
        rule = table[(table["scenario"] == scenario.name) & (table["method"] == "pro_rata")].iloc[0]
        assert rule["cost_usd"] == pytest.approx(pro_rata(book, 1e9, cost_model=model, **limits).cost_usd, rel=1e-12)


def test_stress_in_a_pool_matches_one_process():
    book = _small(seed=9, n=10)
    scenarios = [Scenario(f"adv x {m}", adv=m) for m in (1.0, 0.8, 0.6, 0.4)]
    one = stress_test(book, 0.1 * book.net_value_usd, scenarios, workers=1, with_max_cash=False)
    two = stress_test(book, 0.1 * book.net_value_usd, scenarios, workers=2, with_max_cash=False)
    pd.testing.assert_frame_equal(one.drop(columns=["seconds"]), two.drop(columns=["seconds"]), rtol=1e-7)
    opt = one[one["method"] == "optimized"]["cost_usd"].to_numpy()
    assert np.all(np.diff(opt) > 0)  # less volume, more cost


def test_failures_are_rows_and_bad_requests_are_refused(example):
    table = stress_test(example, 1e9, [built_in("2008-like")], methods=("optimized",), with_max_cash=False,
                        risk_band=(0.9, 1.1))
    assert table["status"].tolist() == ["infeasible"] and "cannot raise" in table["message"].iloc[0]
    with pytest.raises(InputError, match="unique"):
        stress_test(example, 1e9, [built_in("base"), built_in("base")])
    with pytest.raises(InputError, match="unknown method"):
        stress_test(example, 1e9, methods=("greedy",))


def test_built_in_scenarios_are_as_documented():
    named = {s.name: s for s in BUILT_IN}
    assert (named["volume halved"].adv, named["volatility doubled"].volatility) == (0.5, 2.0)
    assert (named["2008-like"].adv, named["2008-like"].volatility) == (0.5, 2.5)


def test_scenario_table():
    table = pd.DataFrame({"name": ["calm", "stress"], "adv": [1.0, 0.4], "volatility": [np.nan, 3.0],
                          "a1": [np.nan, 900.0]})
    calm, stress = scenarios_from_table(table)
    assert calm.params is None and stress.params.a1 == 900 and stress.params.a2 == 0.55 and stress.adv == 0.4
    with pytest.raises(InputError, match="unknown columns vol"):
        scenarios_from_table(pd.DataFrame({"name": ["x"], "vol": [2]}))


def test_date_range_reproduces_each_dates_parameters():
    book = _small(seed=1, n=8)
    cash = 0.1 * book.net_value_usd
    table = pd.DataFrame({"code": [1, 1, 1, 2], "date": ["2024-01-02", "2024-03-01", "2024-02-01", "2024-02-01"],
                          "a1": [700.0, 650.0, 800.0, 300.0], "a2": [0.55, 0.6, 0.5, 0.5],
                          "a3": [0.71, 0.7, 0.75, 0.7], "a4": [0.5, 0.45, 0.5, 0.5], "b1": [0.98, 0.95, 0.9, 0.9]})
    found = date_range_stress(book, cash, table, code=1, end="2024-02-15")
    assert found["date"].tolist() == ["2024-01-02", "2024-02-01"]
    base = liquidate(book, cash, cost_model=CostModel(IStarParams(700, 0.55, 0.71, 0.5, 0.98)))
    for row in found.itertuples():
        source = table[(table["code"] == 1) & (table["date"] == row.date)].iloc[0]
        params = IStarParams(source.a1, source.a2, source.a3, source.a4, source.b1)
        assert (row.a1, row.a2, row.a3, row.a4, row.b1) == (params.a1, params.a2, params.a3, params.a4, params.b1)
        assert row.cost_usd == pytest.approx(liquidate(book, cash, cost_model=CostModel(params)).cost_usd, rel=1e-7)
        fixed = impact_table(book, base.trades["shares_traded"].to_numpy(), CostModel(params))["cost_usd"].sum()
        assert row.fixed_trades_cost_usd == pytest.approx(fixed, rel=1e-9)
    with pytest.raises(InputError, match="no rows for code 3"):
        date_range_stress(book, cash, table, code=3)


def test_sensitivity_matches_closed_forms_and_resolves():
    book = _small(seed=6, n=8)
    cash = 0.1 * book.net_value_usd
    found = sensitivity(book, cash, bump=1e-6)
    total = found.total.set_index("factor")
    assert total.loc["a1", "fixed_trades_elasticity"] == pytest.approx(1.0, rel=1e-9)
    assert total.loc["volatility", "fixed_trades_elasticity"] == pytest.approx(0.71, rel=1e-5)
    # no limit depends on the factors here: the re-solved change is the fixed-trades change to first order
    for factor in ("adv", "volatility", "a2", "b1"):
        assert total.loc[factor, "reoptimized_elasticity"] == pytest.approx(
            total.loc[factor, "fixed_trades_elasticity"], rel=1e-3, abs=1e-4)
    names = found.by_name[found.by_name["factor"] == "adv"]
    assert names["difference_usd"].sum() == pytest.approx(total.loc["adv", "fixed_trades_difference_usd"], rel=1e-9)
    big = sensitivity(book, cash, bump=0.3, factors=("adv",), base=found.base).total.iloc[0]
    assert big["reoptimized_cost_usd"] <= big["fixed_trades_cost_usd"] * (1 + 1e-9)  # re-solving can only help


def test_sensitivity_caps_b1_at_one_and_says_so():
    book = _small(seed=6, n=8)
    row = sensitivity(book, 0.1 * book.net_value_usd, bump=0.1, factors=("b1",)).total.iloc[0]
    assert (row["base_value"], row["adjusted_value"]) == (0.98, 1.0)  # 0.98 x 1.1 capped at 1
    from krg_liquidity.whatif.sensitivity import _adjusted

    scenario, _, adjusted = _adjusted("b1", 0.1, book, CostModel())
    assert adjusted == 1.0 and "capped at 1" in scenario.name and "capped at 1" in scenario.params.source


def test_sensitivity_adv_elasticity_at_fixed_pov_is_minus_a2():
    holdings, covariance, _ = small_book(3, n=5, bounds=False)
    holdings = holdings.drop(columns="trade_time").assign(pov=0.1)
    found = sensitivity(Portfolio(holdings, covariance), 1e8, bump=1e-6, factors=("adv",))
    np.testing.assert_allclose(found.by_name["elasticity"], -0.55, rtol=1e-5)
    with pytest.raises(InputError, match="bump"):
        sensitivity(Portfolio(holdings, covariance), 1e8, bump=0)


def test_readme_stress_table_is_what_the_code_gives(example):
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("## Stress tests, baselines"):readme.index("## Batch runs")]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith(("| base |", "| volatility doubled |"))]
    assert len(rows) == 6
    table = stress_test(example, 1e9, [Scenario("base"), Scenario("volatility doubled", volatility=2.0)],
                        risk_band=(0.9, 1.1), max_total_mi_bps=50)
    for cells in rows:
        scenario, method, status, cost = (c.strip() for c in cells[:4])
        row = table[(table["scenario"] == scenario) & (table["method"] == method.replace("-", "_"))].iloc[0]
        assert row["status"] == status
        assert f"{row['cost_usd']:,.0f}" == cost
        assert f"{row['max_cash_usd'] / 1e9:.3f}" == cells[8].strip()


def test_stress_on_a_dask_cluster_matches_one_process():
    distributed = pytest.importorskip("dask.distributed")
    book = _small(seed=9, n=10)
    scenarios = [Scenario(f"vol x {m}", volatility=m) for m in (1.0, 1.5, 2.0)]
    one = stress_test(book, 0.1 * book.net_value_usd, scenarios, workers=1, with_max_cash=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        dask = stress_test(book, 0.1 * book.net_value_usd, scenarios, scheduler=cluster.scheduler_address,
                           with_max_cash=False)
    pd.testing.assert_frame_equal(one.drop(columns=["seconds"]), dask.drop(columns=["seconds"]), rtol=1e-7)


def test_scenario_table_with_symbol_and_column_rows():
    holdings, covariance, _ = small_book(2, n=4, bounds=False)
    holdings["sector"] = ["A", "B", "B", "C"]
    book = Portfolio(holdings, covariance)
    first = book.symbols[0]
    table = pd.DataFrame({"name": ["by name", "by name", "by sector", "by sector"],
                          "adv": [0.8, 0.5, np.nan, 0.25], "volatility": [np.nan, 2.0, 1.5, np.nan],
                          "symbol": [np.nan, first, np.nan, np.nan], "column": [np.nan, np.nan, np.nan, "sector"],
                          "value": [np.nan, np.nan, np.nan, "B"]})
    by_name, by_sector = scenarios_from_table(table)
    shocked, _ = by_name.apply(book)
    np.testing.assert_allclose(shocked.array("adv") / book.array("adv"), [0.5, 0.8, 0.8, 0.8])
    np.testing.assert_allclose(shocked.array("volatility") / book.array("volatility"), [2, 1, 1, 1])
    shocked, _ = by_sector.apply(book)
    np.testing.assert_allclose(shocked.array("adv") / book.array("adv"), [1, 0.25, 0.25, 1])
    np.testing.assert_allclose(shocked.array("volatility") / book.array("volatility"), [1.5] * 4)
    mixed = table.assign(name="one")
    with pytest.raises(InputError, match="mixes symbol rows and column rows"):
        scenarios_from_table(mixed.iloc[1:])


def test_an_impossible_scenario_gives_one_most_cash_figure(example):
    """Issue 16 trial A3/B11: "volume halved" said "at most $866,840,408" while its max_cash column held
    866,840,358; the row's message and column now give the same figure, and liquidate raises it."""
    from krg_liquidity.whatif.scenarios import BUILT_IN

    halved = next(s for s in BUILT_IN if s.name == "volume halved")
    limits = dict(risk_band=(0.9, 1.1), max_total_mi_bps=50)
    row = stress_test(example, 1e9, [halved], methods=("optimized",), **limits).iloc[0]
    assert row["status"] == "infeasible"
    assert f"the most that can be raised within the limits is ${row['max_cash_usd']:,.0f}." in row["message"]
    book, model = halved.apply(example)
    assert liquidate(book, row["max_cash_usd"], cost_model=model, **limits).success


def test_stress_with_tax_lots_prices_each_scenario_after_tax(example, tmp_path):
    from books import random_lots

    from krg_liquidity import TaxRates
    from krg_liquidity.book.lots import read_lots
    from krg_liquidity.model.tax import lot_tax

    lots = random_lots(example.holdings, 5)
    lots.to_csv(tmp_path / "lots.csv", index=False)
    rates = TaxRates(0.37, 0.238, as_of="2026-12-01")
    scenarios = [built_in("base"), Scenario("prices down 20%", price=0.8)]
    table = stress_test(example, 1e9, scenarios, with_max_cash=False, max_total_mi_bps=50,
                        lots=tmp_path / "lots.csv", tax=rates, fee_bps=0.5)
    for scenario in scenarios:
        book, model = scenario.apply(example)
        alone = liquidate(book, 1e9, cost_model=model, max_total_mi_bps=50, lots=lots, tax=rates, fee_bps=0.5)
        rows = table[table["scenario"] == scenario.name].set_index("method")
        assert rows.loc["optimized", "tax_usd"] == pytest.approx(alone.tax_usd, rel=1e-6, abs=1.0)
        # the pro-rata slice's tax, its lots least tax first, recomputed here from the lots at the scenario's prices
        rule = pro_rata(book, 1e9, cost_model=model, max_total_mi_bps=50, fee_bps=0.5)
        price = dict(zip(book.symbols, book.array("price")))
        taxed = lot_tax(read_lots(lots, book), pd.Series(price), rates)
        sold = dict(zip(rule.trades["symbol"], -rule.trades["shares_traded"]))
        least = 0.0
        for symbol, group in taxed.sort_values("tax_per_dollar", kind="stable").groupby("symbol", sort=False):
            left = sold[symbol]
            for shares, per_dollar in zip(group["shares"], group["tax_per_dollar"]):
                take = min(shares, left)
                least += take * price[symbol] * per_dollar
                left -= take
        assert rows.loc["pro_rata", "tax_usd"] == pytest.approx(least, rel=1e-9)
        # after tax, against the optimized row: the rule's all-in cost plus tax over the optimum's, never below it
        taxed_rule = rows.loc["pro_rata"]
        extra = ((rule.total_cost_usd + least) - (alone.total_cost_usd + alone.tax_usd)) / 1e9 * 1e4
        assert taxed_rule["extra_after_tax_bps"] == pytest.approx(extra, rel=1e-6, abs=1e-6)
        assert taxed_rule["extra_after_tax_bps"] >= -1e-6 and rows.loc["optimized", "extra_after_tax_bps"] == 0
    down = table.set_index(["scenario", "method"]).loc[("prices down 20%", "optimized"), "tax_usd"]
    assert down < table.set_index(["scenario", "method"]).loc[("base", "optimized"), "tax_usd"]  # smaller gains
    with pytest.raises(InputError, match="go together"):
        stress_test(example, 1e9, scenarios, with_max_cash=False, lots=lots)
