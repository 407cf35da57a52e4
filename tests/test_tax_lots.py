"""Tax lots, linear model: against the fractional-knapsack closed form and a plain cvxpy + Clarabel program.

With impact (almost) zero and no other cost, the least-tax sale of L dollars takes the lots in
increasing tax per dollar of proceeds, rate x (1 - basis / price), until L is raised: a fractional
knapsack, computed here by sorting. With impact, the reference is a cvxpy program written here with
one sale variable per lot (names at fixed POVs: impact MI(1) (x / DV)^a2 x from CostModel's formula).
"""

import cvxpy as cp
import numpy as np
import pandas as pd
import pytest
from books import random_lots, small_book
from checks import assert_feasible
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krg_liquidity import (
    BookError,
    CostModel,
    InputError,
    IStarParams,
    Portfolio,
    TaxRates,
    liquidate,
    load_example,
    read_lots,
)

AS_OF = pd.Timestamp("2026-12-01")
RATES = TaxRates(short_term=0.37, long_term=0.238, long_term_after_days=365, as_of="2026-12-01")
NO_IMPACT = CostModel(IStarParams(a1=1e-6, a2=0.55, a3=0.71, a4=0.5, b1=0.98, a5=0.0))


def per_dollar(lots: pd.DataFrame, holdings: pd.DataFrame) -> np.ndarray:
    """Tax per dollar of proceeds of each lot, from the raw lot columns."""
    price = holdings.set_index("symbol")["price"].reindex(lots["Symbol"]).to_numpy(float)
    held = (AS_OF - pd.to_datetime(lots["Open Date"])).dt.days.to_numpy()
    rate = np.where(held > 365, RATES.long_term, RATES.short_term)
    return rate * (1.0 - lots["Unit Cost"].to_numpy(float) / price)


def knapsack(lots: pd.DataFrame, holdings: pd.DataFrame, cash: float) -> tuple[float, pd.Series]:
    """The least tax raising ``cash``: lots in increasing tax per dollar (closed form), and the value per name."""
    price = holdings.set_index("symbol")["price"].reindex(lots["Symbol"]).to_numpy(float)
    value = lots["Shares"].to_numpy(float) * price
    rate = per_dollar(lots, holdings)
    taken = np.zeros(len(lots))
    left = cash
    for i in np.argsort(rate, kind="stable"):
        taken[i] = min(value[i], left)
        left -= taken[i]
    return float(rate @ taken), pd.Series(taken, index=lots["Symbol"]).groupby(level=0).sum()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), fraction=st.floats(0.05, 0.9))
def test_tax_alone_is_a_fractional_knapsack(seed, fraction):
    holdings, covariance, _ = small_book(seed, 5, bounds=False)
    lots = random_lots(holdings, seed)
    cash = fraction * float((holdings["shares"] * holdings["price"]).sum())
    result = liquidate(Portfolio(holdings, covariance), cash, lots=lots, tax=RATES, cost_model=NO_IMPACT)
    best, by_name = knapsack(lots, holdings, cash)
    assert result.cost_usd <= 1e-6 * cash  # impact is negligible: the tax decides
    assert abs(result.tax_usd - best) <= 1e-6 * max(abs(best), 1e-3 * cash)
    sold = pd.Series(-result.trades["value_traded_usd"].to_numpy(), index=result.trades["symbol"])
    np.testing.assert_allclose(sold.reindex(by_name.index), by_name, atol=1e-5 * cash)
    # the lot table: each name's sale split over its lots in increasing tax per dollar, gains recomputed
    table = result.lots
    assert list(table["lot_id"]) == list(lots["Lot"])
    sold_shares = -result.trades["shares_traded"].to_numpy()
    assert sold_shares.min() >= -1e-7 * holdings["shares"].abs().max()  # at most the solver's rounding of a buy
    np.testing.assert_allclose(table.groupby("symbol")["shares_sold"].sum().reindex(holdings["symbol"]),
                               np.maximum(sold_shares, 0.0), rtol=1e-9, atol=1e-8 * holdings["shares"].abs().max())
    price = holdings.set_index("symbol")["price"].reindex(lots["Symbol"]).to_numpy(float)
    gain = (price - lots["Unit Cost"].to_numpy(float)) * table["shares_sold"].to_numpy()
    np.testing.assert_allclose(table["realized_gain_usd"], gain, rtol=1e-12, atol=1e-6)
    assert result.tax_usd == pytest.approx(float(table["tax_usd"].sum()), rel=1e-12)
    assert result.tax["realized_short_term_usd"] + result.tax["realized_long_term_usd"] == pytest.approx(gain.sum())
    assert_feasible(holdings, result, cash, model=NO_IMPACT)


def reference(holdings: pd.DataFrame, lots: pd.DataFrame, cash: float, weight: float = 1.0) -> float:
    """Least impact + weight x tax (USD) by a plain cvxpy + Clarabel program, one variable per lot."""
    model = CostModel()
    price, adv = holdings["price"].to_numpy(float), holdings["adv"].to_numpy(float)
    vol, pov = holdings["volatility"].to_numpy(float), holdings["pov"].to_numpy(float)
    dv = adv * price
    mi_at_one = model.impact_bps_at_pov(np.ones(len(price)), vol, pov, price)
    a2 = model.params.a2
    index = {s: i for i, s in enumerate(holdings["symbol"])}
    names = lots["Symbol"].map(index).to_numpy()
    lot_value = lots["Shares"].to_numpy(float) * price[names]
    x = cp.Variable(len(lots), nonneg=True)  # value sold of each lot / cash
    member = np.zeros((len(price), len(lots)))
    member[names, np.arange(len(lots))] = 1.0
    t = member @ x  # value sold of each name / cash
    impact = cp.sum(cp.multiply(mi_at_one * (cash / dv) ** a2, cp.power(t, 1 + a2, approx=False)))  # bps of cash
    tax = 1e4 * weight * per_dollar(lots, holdings) @ x
    problem = cp.Problem(cp.Minimize(impact + tax), [cp.sum(x) == 1, x <= lot_value / cash])
    problem.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    if problem.status != "optimal":  # tolerances past what this instance reaches: Clarabel's own (1e-8)
        problem.solve(solver="CLARABEL")
    assert problem.status == "optimal"
    return problem.value / 1e4 * cash


@pytest.mark.parametrize(("seed", "weight"), [(1, 1.0), (2, 0.5), (3, 0.0), (4, 2.0)])
def test_impact_and_tax_match_plain_cvxpy(seed, weight):
    holdings, covariance, _ = small_book(seed, 6, bounds=False)
    holdings = holdings.drop(columns=["trade_time"]).assign(pov=np.random.default_rng(seed).uniform(0.05, 0.3, 6))
    lots = random_lots(holdings, seed)
    cash = 0.25 * float((holdings["shares"] * holdings["price"]).sum())
    result = liquidate(Portfolio(holdings, covariance), cash, lots=lots, tax=RATES, tax_weight=weight)
    best = reference(holdings, lots, cash, weight)
    found = result.cost_usd + weight * result.tax_usd
    assert abs(found - best) <= 1e-6 * max(abs(best), result.cost_usd)
    assert result.costs.loc["tax", "usd"] == result.tax_usd
    if weight == 0.0:  # no tax in the objective: the impact-only optimum
        plain = liquidate(Portfolio(holdings, covariance), cash)
        assert result.cost_usd == pytest.approx(plain.cost_usd, rel=1e-6)


def test_example_book_keeps_every_limit_with_lots():
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, 7)
    limits = {"risk_band": (0.0, 1.05), "max_total_mi_bps": 50}
    result = liquidate(book, 1e9, lots=lots, tax=RATES, **limits)
    plain = liquidate(book, 1e9, **limits)
    assert result.success and result.method == "conic"
    assert_feasible(holdings, result, 1e9, covariance=covariance, **limits)
    taxed_plain = liquidate(book, 1e9, lots=lots, tax=RATES, tax_weight=0.0, **limits)
    assert result.cost_usd + result.tax_usd <= taxed_plain.cost_usd + taxed_plain.tax_usd + 1e-6 * 1e9
    assert result.cost_usd >= plain.cost_usd * (1 - 1e-6)  # the impact-only optimum is the least impact


def test_bad_lots_are_listed_at_once():
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, 3)
    lots.loc[0, "Shares"] += 10.0  # its symbol's lots now exceed the position
    lots.loc[1, "Unit Cost"] = -5.0
    lots.loc[2, "Open Date"] = "not a date"
    extra = pd.DataFrame([{"Symbol": "ZZZZ", "Shares": 5.0, "Unit Cost": 1.0, "Open Date": "2020-01-01", "Lot": "z"}])
    with pytest.raises(BookError) as caught:
        read_lots(pd.concat([lots, extra], ignore_index=True), book)
    text = str(caught.value)
    symbol = lots.loc[0, "Symbol"]
    assert "do not add up" in text and f"{symbol} (lots" in text and "+10" in text
    assert "must be >= 0" in text and "is not a date" in text and "ZZZZ" in text
    future = random_lots(book.holdings, 4)
    future.loc[5, "Open Date"] = "2027-03-01"
    with pytest.raises(BookError, match="after the sale date"):
        liquidate(book, 1e9, lots=future, tax=RATES)
    with pytest.raises(BookError, match="cost_basis_per_share"):
        read_lots(lots.drop(columns=["Unit Cost"]), book)


def test_totals_and_aliases_of_the_lot_table():
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, 5)
    total = lots.assign(**{"Cost Basis": lots["Unit Cost"] * lots["Shares"]}).drop(columns=["Unit Cost"])
    total = total.rename(columns={"Open Date": "Purchase Date"})
    a, b = read_lots(lots, book), read_lots(total, book)
    np.testing.assert_allclose(a["cost_basis_per_share"], b["cost_basis_per_share"], rtol=1e-12)
    assert (a["acquired"] == b["acquired"]).all()


@pytest.mark.parametrize(("rates", "words"), [
    ({"short_term": 37, "long_term": 0.2}, "did you mean 0.37"),
    ({"short_term": 0.37, "long_term": -0.1}, "long_term"),
    ({"short_term": 0.37, "long_term": 1.0}, "below 1"),
    ({"short_term": "x", "long_term": 0.2}, "not a number"),
    ({"short_term": 0.37, "long_term": 0.2, "as_of": "someday"}, "not a date"),
    ({"short_term": 0.37, "long_term": 0.2, "long_term_after_days": 0}, "whole number"),
])
def test_bad_rates_are_named(rates, words):
    with pytest.raises(InputError, match=words):
        TaxRates(**rates)


def test_requests_lots_cannot_serve_are_refused():
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, 6)
    for kwargs, words in (({"allow_buys": True}, "sales only"), ({"risk_band": (0.9, 1.1)}, "risk floor"),
                          ({"tax": None}, "needs tax"), ({"tax_weight": -1.0}, "tax_weight")):
        given = {"lots": lots, "tax": RATES, **kwargs}
        with pytest.raises(InputError, match=words):
            liquidate(book, 1e9, **given)
    with pytest.raises(InputError, match="without lots"):
        liquidate(book, 1e9, tax=RATES)
    short = holdings.drop(columns=["Value"]).assign(
        Shares=np.where(np.arange(len(holdings)) == 0, -1000.0, holdings["Shares"]))
    long_lots = random_lots(Portfolio(short, covariance).holdings.iloc[1:], 6)
    with pytest.raises(BookError, match="is a short position: covering with tax lots is not handled"):
        read_lots(long_lots, Portfolio(short, covariance))


def test_cli_liquidate_with_lots(tmp_path):
    import json

    from typer.testing import CliRunner

    from krg_liquidity.cli import app

    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    holdings.assign(**{"Spread (bps)": 4.0, "Sector": "S"}).to_csv(tmp_path / "book.csv", index=False)
    covariance.to_csv(tmp_path / "cov.csv")
    lots = random_lots(book.holdings, 8)
    lots.to_csv(tmp_path / "lots.csv", index=False)
    args = ["liquidate", str(tmp_path / "book.csv"), "--cash", "1e9", "--covariance", str(tmp_path / "cov.csv"),
            "--lots", str(tmp_path / "lots.csv"), "--tax-short", "0.37", "--tax-long", "0.238",
            "--as-of", "2026-12-01", "--exact-shares", "--json"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    record = json.loads(done.stdout)
    direct = liquidate(Portfolio(holdings.assign(**{"Spread (bps)": 4.0}), covariance), 1e9, lots=lots, tax=RATES)
    assert record["cost_usd"] == pytest.approx(direct.cost_usd, rel=1e-6)
    refused = CliRunner().invoke(app, args[:6] + ["--lots", str(tmp_path / "lots.csv"), "--tax-short", "37",
                                                  "--tax-long", "0.2"])
    assert refused.exit_code == 2 and "did you mean 0.37" in refused.output


def test_after_tax_optimum_beats_every_lot_rule():
    """The after-tax optimum costs no more (impact + tax) than the impact-only optimum's trades with their lots
    chosen by any rule (FIFO, LIFO, HIFO, pro rata, least tax), and each rule's tax is recomputed here."""
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, 11)
    best = liquidate(book, 1e9, lots=lots, tax=RATES)
    impact_only = liquidate(book, 1e9, lots=lots, tax=RATES, tax_weight=0.0)
    rules = impact_only.tax_by_rule()
    assert list(rules.index) == ["least_tax", "fifo", "lifo", "hifo", "pro_rata"]
    assert (rules["extra_tax_usd"] >= -1e-6).all()
    for rule, row in rules.iterrows():
        assert best.cost_usd + best.tax_usd <= impact_only.cost_usd + row["tax_usd"] + 1e-7 * 1e9, rule
    # FIFO by hand: each name's oldest lots first
    sold = -impact_only.trades.set_index("symbol")["shares_traded"]
    price = book.holdings.set_index("symbol")["price"]
    rate = per_dollar(lots, book.holdings) / (1.0 - lots["Unit Cost"].to_numpy() / price.reindex(lots["Symbol"]).to_numpy())
    fifo = 0.0
    for symbol, group in lots.assign(rate=rate).groupby("Symbol"):
        left = max(float(sold[symbol]), 0.0)
        for _, lot in group.sort_values("Open Date").iterrows():
            take = min(lot["Shares"], left)
            left -= take
            fifo += lot["rate"] * (price[symbol] - lot["Unit Cost"]) * take
    assert rules.loc["fifo", "tax_usd"] == pytest.approx(fifo, rel=1e-9, abs=1e-3)


def test_dates_are_read_without_guessing_and_problems_speak_the_files_headers():
    """10/12/2025 is 10 December in one export and October 12 in another; the term (and the rate) hangs on it."""
    book = Portfolio(*load_example())
    lots = random_lots(book.holdings, 12)
    ambiguous = lots.assign(**{"Open Date": "10/12/2025"})
    with pytest.raises(BookError, match=r"column 'Open Date' could be day-first or month-first .*found '10/12/2025'"):
        read_lots(ambiguous, book)
    day_first = ambiguous.copy()
    day_first.loc[0, "Open Date"] = "25/12/2024"  # a day above 12: the column is day-first
    read = read_lots(day_first, book)
    assert read["acquired"].iloc[1] == pd.Timestamp("2025-12-10") and read["acquired"].iloc[0] == pd.Timestamp("2024-12-25")
    mixed = day_first.copy()
    mixed.loc[1, "Open Date"] = "01/13/2024"
    with pytest.raises(BookError, match=r"mixes day-first and month-first dates: day-first for \S+ \('25/12/2024'\), "
                                        r"month-first for \S+ \('01/13/2024'\)"):
        read_lots(mixed, book)
    negative = lots.copy()
    negative.loc[0, "Unit Cost"] = -60.83
    with pytest.raises(BookError, match=r"column 'Unit Cost' must be >= 0 for .* \(found '-60.83'\)"):
        read_lots(negative, book)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), fraction=st.floats(0.02, 0.9), weight=st.sampled_from([0.0, 0.3, 1.0, 2.0]),
       spread=st.booleans())
def test_the_lots_multiplier_search_is_the_conic_optimum(seed, fraction, weight, spread):
    """Without a coupling limit the lots go to their own multiplier search (method "separable"): the same
    objective as the conic program over one variable per lot, on books with binding per-name bounds."""
    holdings, covariance, _ = small_book(seed, n=8)
    if spread:
        holdings["spread_bps"] = np.random.default_rng(seed).uniform(0, 30, len(holdings))
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, seed, per_name=4)
    cash = fraction * book.net_value_usd
    fast = liquidate(book, cash, lots=lots, tax=RATES, tax_weight=weight, raise_on_failure=False)
    slow = liquidate(book, cash, lots=lots, tax=RATES, tax_weight=weight, engine="conic", raise_on_failure=False)
    assert fast.status == slow.status or not (fast.success and slow.success)
    if not slow.success:
        assert not fast.success  # never an answer where the conic program proves none
        return
    assert fast.method == "separable" and fast.success
    assert_feasible(holdings, fast, cash, covariance=covariance)
    objective = fast.total_cost_usd + weight * fast.tax_usd
    reference = slow.total_cost_usd + weight * slow.tax_usd
    assert objective <= reference + 1e-7 * (abs(reference) + slow.total_cost_usd) + 1e-3
    assert objective == pytest.approx(reference, rel=1e-6, abs=1e-2)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_the_least_tax_split_is_the_lot_by_lot_walk(seed):
    """greedy_sale (vectorized) against the walk it stands for: each name's lots in increasing tax per dollar,
    ties in the lots' order, each taken whole until the name's sale is used up."""
    from krg_liquidity.model.tax import greedy_sale

    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 30))
    lots = pd.DataFrame({"symbol": rng.choice(list("ABCDE"), m), "shares": rng.uniform(0, 100, m).round(1),
                         "tax_per_dollar": rng.choice([-0.1, 0.0, 0.05, 0.1], m)})
    sold = pd.Series(rng.uniform(-10, 200, 5), index=list("ABCDE"))
    expected = np.zeros(m)
    for symbol in "ABCDE":
        left = max(float(sold[symbol]), 0.0)
        for i in sorted(np.flatnonzero(lots["symbol"].to_numpy() == symbol),
                        key=lambda i: (lots["tax_per_dollar"][i], i)):
            expected[i] = min(lots["shares"][i], left)
            left -= expected[i]
    np.testing.assert_allclose(greedy_sale(lots, sold), expected, rtol=0, atol=1e-9)


def test_a_failed_solve_with_lots_falls_back_to_the_solve_without_the_tax(monkeypatch):
    """The tax changes the objective, not which trade lists keep the limits: when the solve with the lots fails,
    the solve without them proves the request impossible or gives the least-trading-cost trades, feasible, with
    their lots least tax first and no proven gap after tax."""
    from krg_liquidity.core.errors import SolverFailure
    from krg_liquidity.solve import optimize

    book = Portfolio(*load_example())
    lots = random_lots(book.holdings, 4)
    free = liquidate(book, "10%", lots=lots, tax=RATES)
    ceiling = 0.97 * free.risk_after / free.risk_before  # the lots' conic program once ended "solver_failed" here
    impossible = liquidate(book, "10%", lots=lots, tax=RATES, risk_band=(0, ceiling), raise_on_failure=False)
    assert impossible.status == "infeasible" and "risk ceiling" in impossible.message

    def fails(self):
        raise SolverFailure("forced", [])

    monkeypatch.setattr(optimize._Plan, "lot_separable", fails)
    result = liquidate(book, "10%", lots=lots, tax=RATES)
    plain = liquidate(book, "10%")
    assert result.status == "feasible" and np.isnan(result.gap) and "not proven optimal after tax" in result.message
    np.testing.assert_allclose(result.trades["shares_traded"], plain.trades["shares_traded"], rtol=1e-9, atol=1e-6)
    assert result.lots is not None and result.lots["shares_sold"].sum() == pytest.approx(
        -plain.trades["shares_traded"].sum(), rel=1e-9)


def test_shares_no_lot_lists_are_refused_or_taken_at_zero_basis(tmp_path):
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, 11)
    first, second = book.symbols[:2]
    lots = lots[lots["Symbol"] != second]  # no lot at all for the second name
    lots.loc[lots.index[0], "Shares"] -= 500.0  # the first name's lots list 500 shares too few
    assert lots.iloc[0]["Symbol"] == first
    with pytest.raises(BookError) as caught:
        read_lots(lots, book)
    assert "unknown_basis='zero'" in str(caught.value) and f"{first} (lots" in str(caught.value)
    table = read_lots(lots, book, unknown_basis="zero")
    added = table[table["lot_id"].str.endswith("-unknown-basis")].set_index("symbol")
    assert added.loc[first, "shares"] == pytest.approx(500.0)
    assert added.loc[second, "shares"] == book.array("shares")[1]
    assert (added["cost_basis_per_share"] == 0).all() and added["acquired"].isna().all()
    too_many = random_lots(book.holdings, 12)
    too_many.loc[0, "Shares"] += 1.0
    with pytest.raises(BookError, match="may not list more shares than are held"):
        read_lots(too_many, book, unknown_basis="zero")
    rates = TaxRates(0.37, 0.238, as_of="2026-12-01", unknown_basis="zero")
    result = liquidate(book, 1.621e9, lots=lots, tax=rates)  # near the most cash: the unknown lots are needed
    unknown = result.lots[result.lots["lot_id"].str.endswith("-unknown-basis")]
    assert set(unknown["term"]) == {"short"}  # the higher rate: its date is unknown
    price = dict(zip(book.symbols, book.array("price")))
    gain = unknown["shares_sold"] * unknown["symbol"].map(price)  # zero basis: the whole proceeds are gain
    np.testing.assert_allclose(unknown["realized_gain_usd"], gain, rtol=1e-12)
    np.testing.assert_allclose(unknown["tax_usd"], 0.37 * gain, rtol=1e-12)
    assert result.tax["unknown_basis_shares"] == pytest.approx(500.0 + book.array("shares")[1])
    assert 0 < result.tax["unknown_basis_sold"] == pytest.approx(unknown["shares_sold"].sum())
    assert "taken at zero basis, short-term" in result.summary()
    assert result.request["tax"]["unknown_basis"] == "zero" and "unknown_basis" not in liquidate(
        book, 1e9, lots=random_lots(book.holdings, 8), tax=RATES).request["tax"]
    assert result.to_dict()["lots"][-1]["acquired"] is None  # no date, said as none
    with pytest.raises(InputError, match="unknown_basis='guess'"):
        TaxRates(0.37, 0.2, unknown_basis="guess")

    from typer.testing import CliRunner

    from krg_liquidity.cli import app

    holdings.to_csv(tmp_path / "book.csv", index=False)
    lots.to_csv(tmp_path / "lots.csv", index=False)
    args = ["liquidate", str(tmp_path / "book.csv"), "--cash", "1e9", "--lots", str(tmp_path / "lots.csv"),
            "--tax-short", "0.37", "--tax-long", "0.238", "--as-of", "2026-12-01", "--exact-shares"]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "--unknown-basis zero" in " ".join(refused.output.split())
    done = CliRunner().invoke(app, [*args, "--unknown-basis", "zero"])
    assert done.exit_code == 0, done.output
    assert "taken at zero basis" in " ".join(done.output.split())


def test_the_report_shows_the_costs_the_lots_and_the_lot_rules(tmp_path):
    from krg_liquidity.report import build_report, render_html

    holdings, covariance = load_example()
    book = Portfolio(holdings.assign(**{"Spread (bps)": 4.0}), covariance)
    lots = random_lots(book.holdings, 8)
    result = liquidate(book, 1e9, lots=lots, tax=RATES)
    report = build_report(result, book, frontier_points=2)
    page = render_html(report)
    assert "The same sales, lots chosen by the usual rules" in page and "highest basis first (HIFO)" in page
    rules = result.tax_by_rule()
    assert (rules["extra_tax_usd"] >= -1e-6).all()  # linear model: no rule pays less than the reported lots
    path = result.to_excel(tmp_path / "report.xlsx", book, frontier_points=2)
    sheets = pd.read_excel(path, sheet_name=None)
    assert {"costs", "lots", "lot_rules"} <= set(sheets)
    shown = sheets["lot_rules"].set_index("rule")
    assert shown.loc["first in, first out (FIFO)", "tax_usd"] == pytest.approx(rules.loc["fifo", "tax_usd"], rel=1e-9)
    assert sheets["lots"]["tax_usd"].sum() == pytest.approx(result.lots["tax_usd"].sum(), rel=1e-9)
    assert sheets["costs"].set_index("cost").loc["total", "usd"] == pytest.approx(result.total_cost_usd, rel=1e-9)


@pytest.mark.parametrize("engine", ["auto", "conic"])
def test_the_marginal_cost_with_lots_is_the_slope_of_the_least_objective(engine):
    """The bundled book's names sit at weight bounds that move with the cash: the marginal cost of the next dollar
    (impact, linear costs and the tax of the lot each name sells next) against finite differences of the optimum."""
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, 3)
    lots = lots[lots["Symbol"].isin(book.symbols[:5])]  # the rest at zero basis, short-term: 37% of proceeds
    rates = TaxRates(0.37, 0.238, as_of="2026-12-01", unknown_basis="zero")
    cash, step = 1e9, 1e5
    here = liquidate(book, cash, lots=lots, tax=rates, engine=engine)
    up = liquidate(book, cash + step, lots=lots, tax=rates, engine=engine)
    down = liquidate(book, cash - step, lots=lots, tax=rates, engine=engine)
    slope = (up.objective_usd - down.objective_usd) / (2 * step) * 1e4
    assert here.marginal_cost_bps == pytest.approx(slope, rel=1e-5)
