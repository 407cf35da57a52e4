"""compare_after_tax: the after-tax optimum against the impact-only optimum, a pro-rata sale and the lot rules.

The invariant is the optimizer's promise: no trade list that keeps the same limits and raises the same cash,
with its lots chosen by any rule, has a lower objective (trading cost + tax_weight x tax) than the after-tax
optimum, beyond the optimum's proven gap and the solver's tolerance. Every row is priced again here from its
trades and the raw lot columns, independently of the library's lot table.
"""

import numpy as np
import pandas as pd
import pytest
from books import random_lots, small_book
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krg_liquidity import (
    BookError,
    InputError,
    Limits,
    Portfolio,
    TaxRates,
    compare_after_tax,
    liquidate,
    load_example,
    pro_rata,
)
from krg_liquidity.model.tax import LOT_RULES
from krg_liquidity.whatif.after_tax import AFTER_TAX_COLUMNS, TRADE_LISTS

RATES = TaxRates(short_term=0.37, long_term=0.238, as_of="2026-12-01")
KEPT = ("optimal", "feasible")


def tolerance(optimum_row: pd.Series, gap_usd: float) -> float:
    """The optimum's proven gap plus the solver's relative accuracy on the objective's scale, USD."""
    scale = abs(optimum_row["trading_cost_usd"]) + abs(optimum_row["tax_usd"])
    return max(gap_usd, 0.0) + 1e-6 * scale + 0.01


def least_tax_by_hand(lots: pd.DataFrame, holdings: pd.DataFrame, sold: pd.Series) -> float:
    """Tax of each name's sale taken from its lots in increasing tax per dollar, from the raw lot columns."""
    price = holdings.set_index("symbol")["price"].reindex(lots["Symbol"]).to_numpy(float)
    held = (RATES.as_of - pd.to_datetime(lots["Open Date"])).dt.days.to_numpy()
    rate = np.where(held > 365, RATES.long_term, RATES.short_term)
    gain = price - lots["Unit Cost"].to_numpy(float)
    frame = pd.DataFrame({"symbol": lots["Symbol"], "shares": lots["Shares"].to_numpy(float),
                          "per_dollar": rate * gain / price, "tax_per_share": rate * gain})
    total = 0.0
    for symbol, group in frame.groupby("symbol"):
        left = float(sold.get(symbol, 0.0))
        for _, lot in group.sort_values("per_dollar", kind="stable").iterrows():
            take = min(lot["shares"], max(left, 0.0))
            total += take * lot["tax_per_share"]
            left -= take
    return total


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), fraction=st.floats(0.05, 0.6), weight=st.sampled_from([0.0, 0.5, 1.0, 1.5]),
       fee=st.sampled_from([0.0, 0.3, 2.0]))
def test_no_row_beats_the_after_tax_optimum(seed, fraction, weight, fee):
    holdings, covariance, _ = small_book(seed, n=6)
    holdings["spread_bps"] = np.random.default_rng(seed).uniform(1, 20, len(holdings))
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, seed)
    cash = fraction * book.net_value_usd
    table = compare_after_tax(book, cash, lots=lots, tax=RATES, tax_weight=weight, fee_bps=fee)
    assert list(table.columns) == list(AFTER_TAX_COLUMNS)
    assert len(table) == len(TRADE_LISTS) * len(LOT_RULES)
    optimum = liquidate(book, cash, lots=lots, tax=RATES, tax_weight=weight, fee_bps=fee, raise_on_failure=False)
    if not optimum.success:
        assert table["status"].iloc[0] == optimum.status and np.isnan(table["objective_usd"].iloc[0])
        return
    best = table.iloc[0]
    assert (best["trades"], best["lots"]) == ("after_tax_optimum", "least_tax")
    assert best["tax_usd"] == pytest.approx(optimum.tax_usd, rel=1e-9, abs=1e-6)
    assert best["trading_cost_usd"] == pytest.approx(optimum.total_cost_usd, rel=1e-9)
    allowed = tolerance(best, optimum.gap_usd)
    kept = table[table["status"].isin(KEPT)]  # every limit kept, the cash among them (checked from the trades)
    assert {"after_tax_optimum", "impact_optimum"} <= set(kept["trades"])
    assert (kept["objective_usd"] >= best["objective_usd"] - allowed).all(), kept[["trades", "lots", "extra_usd"]]
    for name, rows in table.groupby("trades"):  # the same trades: no lot rule pays less than least tax
        rows = rows.set_index("lots")
        assert (rows["tax_usd"] >= rows.loc["least_tax", "tax_usd"] - 1e-6 * abs(rows["tax_usd"]).max() - 1e-6).all()
    # the impact optimum's least-tax row, priced again from the raw lot columns
    impact = liquidate(book, cash, fee_bps=fee)
    sold = pd.Series(-impact.trades["shares_traded"].to_numpy(), index=impact.trades["symbol"]).clip(lower=0)
    row = table.set_index(["trades", "lots"]).loc[("impact_optimum", "least_tax")]
    assert row["tax_usd"] == pytest.approx(least_tax_by_hand(lots, book.holdings, sold), rel=1e-7, abs=1e-4)
    assert row["trading_cost_usd"] == pytest.approx(impact.total_cost_usd, rel=1e-9)
    assert row["objective_usd"] == pytest.approx(row["trading_cost_usd"] + weight * row["tax_usd"], rel=1e-12)


@pytest.mark.parametrize("seed", [1, 3])
def test_a_binding_risk_ceiling_holds_for_both_optima(seed):
    """The ceiling is set 2% below the after-tax optimum's own risk ratio, so it binds."""
    holdings, covariance, _ = small_book(seed, n=8, bounds=False)
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, seed)
    cash = 0.3 * book.net_value_usd
    free = liquidate(book, cash, lots=lots, tax=RATES)
    hi = 0.98 * free.risk_after / free.risk_before
    table = compare_after_tax(book, cash, lots=lots, tax=RATES, limits=Limits(risk_band=(0.0, hi)))
    optimum = liquidate(book, cash, lots=lots, tax=RATES, limits=Limits(risk_band=(0.0, hi)))
    assert optimum.success and optimum.risk_after <= hi * optimum.risk_before * (1 + 1e-6)
    best = table.iloc[0]
    assert best["objective_usd"] > free.total_cost_usd + free.tax_usd  # the ceiling costs something
    kept = table[table["status"].isin(KEPT)]
    assert (kept["objective_usd"] >= best["objective_usd"] - tolerance(best, optimum.gap_usd)).all()
    rule = pro_rata(book, cash, limits=Limits(risk_band=(0.0, hi)))
    assert (table.loc[table["trades"] == "pro_rata", "status"] == rule.status).all()


def test_the_bundled_book_saves_tax_against_the_impact_optimum():
    """Bases 60-140% of the price: the impact-only optimum pays more after tax than the after-tax optimum."""
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, 11)
    table = compare_after_tax(book, 1e9, lots=lots, tax=RATES).set_index(["trades", "lots"])
    assert table.loc[("after_tax_optimum", "least_tax"), "extra_usd"] == 0.0
    assert table.loc[("impact_optimum", "least_tax"), "extra_usd"] > 1e5
    assert table.loc[("impact_optimum", "least_tax"), "trading_cost_usd"] < table.loc[
        ("after_tax_optimum", "least_tax"), "trading_cost_usd"]  # it saves impact and pays it back in tax
    broken = table[table["status"] == "limits_broken"]
    assert len(broken) and (broken["limits_broken"] != "").all()  # the pro-rata sale says which limits it breaks
    assert (table.loc[table["status"] != "limits_broken", "limits_broken"] == "").all()


def test_bad_lots_and_rates_are_refused_before_any_solve():
    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, 3)
    with pytest.raises(BookError, match=r"do not add up to the held shares for \w+ \(lots [\d,.]+ vs held [\d,.]+: -[\d,.]+ shares\)"):
        compare_after_tax(book, 1e9, lots=lots.iloc[1:], tax=RATES)
    with pytest.raises(InputError, match="tax=TaxRates"):
        compare_after_tax(book, 1e9, lots=lots, tax=None)
    with pytest.raises(InputError, match="tax_weight"):
        compare_after_tax(book, 1e9, lots=lots, tax=RATES, tax_weight=-1)


def test_the_frontier_takes_the_lots_and_shows_the_tax():
    from krg_liquidity import frontier

    book = Portfolio(*load_example())
    lots = random_lots(book.holdings, 4)
    table = frontier(book, ["5%", "10%"], lots=lots, tax=RATES, fee_bps=0.3)
    for (_, row), cash in zip(table.iterrows(), ("5%", "10%")):
        direct = liquidate(book, cash, lots=lots, tax=RATES, fee_bps=0.3)
        assert row["status"] == direct.status
        assert row["tax_usd"] == pytest.approx(direct.tax_usd, rel=1e-9, abs=1e-3)
        assert row["total_cost_usd"] == pytest.approx(direct.total_cost_usd, rel=1e-9)
    assert table["tax_usd"].notna().all() and frontier(book, ["5%"])["tax_usd"].isna().all()
