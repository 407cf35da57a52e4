"""Book checks from Python: every problem at once, units warnings, defaults for the trading horizon."""

import numpy as np
import pandas as pd
import pytest

from krg_liquidity import BookError, Portfolio, UnitsWarning, fill_strategy, load_example


def small():
    holdings, covariance = load_example()
    names = holdings["Symbol"].head(4).tolist()
    book = holdings.head(4)[["Symbol", "Shares", "Price", "ADV", "Volatility", "TradeTime"]].copy()
    return book, covariance.loc[names, names]


def test_risk_model_and_holdings_problems_together():
    book, covariance = small()
    book.loc[1, "Price"] = -1.0
    vol = np.sqrt(np.diag(covariance))
    with pytest.raises(BookError) as info:
        Portfolio(book, covariance / np.outer(vol, vol))
    problems = info.value.problems
    assert [p.problem for p in problems] == ["the covariance has a unit diagonal", "must be > 0"]
    assert problems[1].column == "price" and problems[1].symbols == [book.loc[1, "Symbol"]]
    assert "Columns (headers match" in str(info.value)


def test_units_warning_is_raised_and_kept():
    book, covariance = small()
    book["ADV"] = book["ADV"] * book["Price"] * 100
    with pytest.warns(UnitsWarning, match="is ADV in dollars"):
        portfolio = Portfolio(book, covariance)
    assert len(portfolio.warnings) == 1


def test_long_short_book_gets_a_leverage_note():
    from krg_liquidity import synthetic_universe

    holdings, model = synthetic_universe(40, n_factors=3, seed=1, short_fraction=0.35)  # gross 3.3x net
    with pytest.warns(UnitsWarning, match=r"gross value .* is 3\.3x the net value .* fractions of the net value"):
        Portfolio(holdings, factor_model=model)
    holdings, model = synthetic_universe(40, n_factors=3, seed=1, short_fraction=0.3)  # 2.7x: no note
    assert Portfolio(holdings, factor_model=model).warnings == ()


def test_volatility_taken_from_the_risk_model_is_checked_for_units():
    book, covariance = small()
    with pytest.raises(BookError, match="percent squared"):
        Portfolio(book.drop(columns="Volatility"), covariance * 1e4)
    portfolio = Portfolio(book.drop(columns="Volatility"), covariance)
    np.testing.assert_allclose(portfolio.array("volatility"), np.sqrt(np.diag(covariance)))


def test_fill_strategy_keeps_given_values_and_refuses_two_defaults():
    book = pd.DataFrame({"Symbol": ["A", "B", "C"], "TradeTime": [0.5, np.nan, ""], "POV": [np.nan, 0.2, np.nan]})
    filled = fill_strategy(book, trade_time_days=2.0)
    times = pd.to_numeric(filled["trade_time"])
    assert times[0] == 0.5 and np.isnan(times[1]) and times[2] == 2.0  # B keeps its POV
    assert filled["pov"].tolist()[1] == 0.2
    with pytest.raises(ValueError, match="not both"):
        fill_strategy(book, trade_time_days=1.0, pov=0.1)
    with pytest.raises(ValueError, match="must be > 0 days"):
        fill_strategy(book, trade_time_days=0.0)


def test_from_files_with_default_trade_time(tmp_path):
    book, covariance = small()
    book.drop(columns="TradeTime").to_csv(tmp_path / "book.csv", sep=";", index=False)
    covariance.to_csv(tmp_path / "cov.csv")
    portfolio = Portfolio.from_files(tmp_path / "book.csv", tmp_path / "cov.csv", trade_time_days=0.75)
    assert (portfolio.array("trade_time") == 0.75).all()


@pytest.mark.parametrize(("column", "value", "canonical", "fix"), [
    ("TradeTime", np.inf, "trade_time", "finite horizon in days"),
    ("UB_MaxMI_bps", np.inf, "ub_max_mi_bps", "empty for no limit"),
    ("UB_MaxShares", -np.inf, "ub_max_shares", "empty for no limit"),
    ("LB_Wt", np.inf, "lb_wt", "empty for no limit"),
])
def test_infinite_numbers_are_refused_by_column_and_symbol(column, value, canonical, fix):
    """trade_time = inf once passed and ended as a false "infeasible" ("at most $nan")."""
    book, covariance = small()
    book[column] = np.nan
    book.loc[2, column] = value
    with pytest.raises(BookError) as info:
        Portfolio(book, covariance)
    found = [p for p in info.value.problems if p.problem == "is infinite"]
    assert len(found) == 1 and found[0].column == canonical and found[0].symbols == [book.loc[2, "Symbol"]]
    assert fix in found[0].fix


@pytest.mark.parametrize("default", [np.inf, np.nan, -1.0])
def test_infinite_default_trade_time_is_refused(default):
    book, _ = small()
    with pytest.raises(ValueError, match="trade time"):
        fill_strategy(book.drop(columns="TradeTime"), trade_time_days=default)


def test_missing_trade_time_names_the_python_default():
    holdings, covariance = load_example()
    with pytest.raises(BookError) as info:
        Portfolio(holdings.drop(columns="TradeTime"), covariance)
    assert "trade_time_days=DAYS or pov=DECIMAL (fill_strategy or Portfolio.from_files)" in str(info.value)
    assert "--trade-time" not in str(info.value)


def test_risk_operator_without_a_risk_model_names_the_fix():
    from krg_liquidity.book.risk import risk_operator
    from krg_liquidity.core.errors import InputError

    with pytest.raises(InputError, match="pass a covariance matrix or a factor_model"):
        risk_operator(None, None, ["AAA"])
