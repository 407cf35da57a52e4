"""Bad input raises a ValueError subclass naming the column, the symbols and the fix."""

import numpy as np
import pandas as pd
import pytest

from krg_liquidity import InconsistentInputError, InvalidValueError, MissingColumnError


def book(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame({
        "Symbol": ["AAA", "BBB", "CCC"],
        "Shares": [1000.0, 2000.0, 3000.0],
        "ADV": [1e5, 2e5, 3e5],
        "Price": [10.0, 20.0, 30.0],
        "Volatility": [0.2, 0.3, 0.25],
        "POV": [0.1, 0.1, 0.1],
    })
    for column, (index, value) in overrides.items():
        frame.loc[index, column] = value
    return frame


@pytest.mark.parametrize("column", ["Volatility", "ADV", "Price", "Shares"])
@pytest.mark.parametrize("bad", [np.nan, 0.0, -1.0])
def test_non_positive_or_missing_values(model, column, bad):
    with pytest.raises(InvalidValueError) as info:
        model.market_impact_usd(book(**{column: (1, bad)}))
    message = str(info.value)
    assert f"'{column.lower()}'" in message and "BBB" in message and "AAA" not in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("bad", [0.0, 1.5, -0.2])
def test_pov_outside_unit_interval(model, bad):
    with pytest.raises(InvalidValueError, match=r"'pov' must be in \(0, 1\] for CCC"):
        model.market_impact(book(POV=(2, bad)))


def test_trade_time_non_positive(model):
    frame = book().drop(columns="POV").assign(TradeTime=[1.0, 0.0, 1.0])
    with pytest.raises(InvalidValueError, match="'trade_time' must be > 0 days for BBB"):
        model.timing_risk(frame)


def test_missing_column(model):
    with pytest.raises(MissingColumnError, match="'volatility'"):
        model.istar(book().drop(columns="Volatility"))
    with pytest.raises(MissingColumnError, match="'size'"):
        model.istar(book().drop(columns=["Shares"]))


def test_missing_strategy_names_rows(model):
    frame = book().assign(POV=[0.1, np.nan, 0.1])
    with pytest.raises(MissingColumnError, match="BBB have no strategy"):
        model.market_impact(frame)


def test_size_disagreeing_with_shares(model):
    frame = book().assign(Size=[0.01, 0.5, 0.01])
    with pytest.raises(InconsistentInputError, match="'size' disagrees with shares/adv for BBB"):
        model.market_impact(frame)


def test_size_agreeing_is_accepted(model):
    frame = book().assign(Size=[0.01, 0.01, 0.01])
    assert np.all(np.isfinite(model.market_impact(frame)))


def test_duplicate_meaning_columns(model):
    frame = book().assign(pov=0.2)
    with pytest.raises(InconsistentInputError, match="both mean 'pov'"):
        model.market_impact(frame)


def test_snake_case_and_mixed_case_columns(model):
    frame = book()
    snake = frame.rename(columns=str.lower)
    shouty = frame.rename(columns=str.upper)
    base = model.market_impact(frame)
    pd.testing.assert_series_equal(model.market_impact(snake), base)
    pd.testing.assert_series_equal(model.market_impact(shouty), base)


def test_schedule_errors(model):
    frame = book().drop(columns="POV").iloc[:1].copy()
    frame["TradeSchedule"] = [[500.0, 400.0]]
    frame["VolumeProfile"] = [[1000.0, 1000.0]]
    with pytest.raises(InconsistentInputError, match="sums to 900"):
        model.market_impact(frame)
    frame["TradeSchedule"] = [[500.0, 500.0, 0.0]]
    with pytest.raises(InconsistentInputError, match="same, non-zero number of periods"):
        model.market_impact(frame)
