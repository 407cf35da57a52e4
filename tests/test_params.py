import pandas as pd
import pytest

from krg_liquidity import (
    KISSELL_2013_ALL_DATA,
    CostModel,
    InputError,
    IStarParams,
    ParameterLookupError,
    load_parameters,
    select_parameters,
)


def test_published_default():
    assert KISSELL_2013_ALL_DATA == IStarParams(708, 0.55, 0.71, 0.50, 0.98, 0.0)
    assert CostModel().params is KISSELL_2013_ALL_DATA
    assert load_parameters(code=1) == KISSELL_2013_ALL_DATA


@pytest.mark.parametrize("kwargs", [dict(a1=0), dict(a2=-0.1), dict(b1=0), dict(b1=1.2), dict(a3=float("nan"))])
def test_invalid_params_rejected(kwargs):
    values = dict(a1=708, a2=0.55, a3=0.71, a4=0.5, b1=0.98) | kwargs
    with pytest.raises(InputError):
        IStarParams(**values)


@pytest.fixture
def table(tmp_path):
    frame = pd.DataFrame({
        "code": [1, 1, 1, 2],
        "date": ["2024-01-31", "2024-02-29", "2024-03-29", "2024-02-29"],
        "a1": [700, 710, 720, 500], "a2": [0.5] * 4, "a3": [0.7] * 4, "a4": [0.5] * 4,
        "a5": [0.0] * 4, "b1": [0.95] * 4, "source": ["test"] * 4,
    })
    path = tmp_path / "mi.csv"
    frame.to_csv(path, index=False)
    return path


def test_latest_on_or_before(table):
    assert load_parameters(table, code=1, date="2024-03-01").a1 == 710
    assert load_parameters(table, code=1, date="2024-02-29").a1 == 710
    assert load_parameters(table, code=1).a1 == 720
    assert load_parameters(table, code=2, date="2025-01-01").a1 == 500


def test_no_match_is_clear(table):
    with pytest.raises(ParameterLookupError, match="code 1 dated on or before 2023-12-31"):
        load_parameters(table, code=1, date="2023-12-31")
    with pytest.raises(ParameterLookupError, match=r"codes \[1, 2\]"):
        load_parameters(table, code=7)


def test_bad_row_named(tmp_path):
    frame = pd.DataFrame({"code": [3], "date": ["2024-01-01"], "a1": [700], "a2": [0.5], "a3": [0.7],
                          "a4": [0.5], "b1": [1.5]})
    with pytest.raises(InputError, match="code=3.*b1"):
        select_parameters(frame, 3)
