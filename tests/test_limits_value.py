"""krg.Limits: one public value for the request-level limits, taken by every function that solves."""

import dataclasses

import numpy as np
import pytest

import krg_liquidity as krg
from krg_liquidity import InputError, Limits


@pytest.fixture(scope="module")
def book():
    return krg.Portfolio(*krg.load_example())


BAND_CAP = Limits(risk_band=(0.9, 1.1), max_total_mi_bps=50)


def test_limits_is_frozen_and_normalized():
    limits = Limits(risk_band=[0.9, "1.1"], max_total_mi_bps="50", allow_buys=1)
    assert limits == BAND_CAP.__class__(risk_band=(0.9, 1.1), max_total_mi_bps=50.0, allow_buys=True)
    assert isinstance(limits.risk_band, tuple) and isinstance(limits.max_total_mi_bps, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.allow_buys = False  # type: ignore[misc]
    assert Limits().to_dict() == {"risk_band": None, "max_total_mi_bps": None, "allow_buys": False,
                                  "max_total_cost_bps": None}
    assert BAND_CAP.without_floor().risk_band == (0.0, 1.1) and not BAND_CAP.without_floor().has_floor
    assert Limits(risk_band=(0, 1.1)).without_floor() == Limits(risk_band=(0, 1.1))


def test_a_band_in_the_words_a_pm_types():
    """Percents and ratios read as the CLI reads them: ("90%", "110%") is (0.9, 1.1)."""
    assert Limits(risk_band=("90%", "110%")).risk_band == (0.9, 1.1)
    assert Limits(risk_band=("0.95x", "1.05x")).risk_band == (0.95, 1.05)


@pytest.mark.parametrize("kwargs, words", [
    ({"risk_band": (1.1, 0.9)}, "0 <= lo <= hi"),
    ({"risk_band": (90, 110)}, "looks like percent"),
    ({"risk_band": "wide"}, "must be a pair"),
    ({"risk_band": (0.9, 1.1, 1.2)}, "must be a pair"),
    ({"risk_band": ("low", "high")}, "percents"),
    ({"max_total_mi_bps": -5}, "positive number of bps"),
    ({"max_total_mi_bps": "abc"}, "positive number of bps"),
    ({"max_total_mi_bps": 0.005}, "did you mean 50 bps"),
])
def test_bad_limits_are_refused_when_built(kwargs, words):
    with pytest.raises(InputError, match=words):
        Limits(**kwargs)


def test_limits_once_not_twice(book):
    with pytest.raises(InputError, match="say the limits once"):
        krg.liquidate(book, 1e9, limits=BAND_CAP, max_total_mi_bps=20)
    with pytest.raises(InputError, match="give a krg_liquidity.Limits"):
        krg.liquidate(book, 1e9, limits={"risk_band": (0.9, 1.1)})


def test_liquidate_with_limits_equals_the_keywords(book):
    by_value = krg.liquidate(book, 1e9, limits=BAND_CAP)
    by_keywords = krg.liquidate(book, 1e9, risk_band=(0.9, 1.1), max_total_mi_bps=50)
    assert by_value.status == by_keywords.status == "optimal"
    np.testing.assert_allclose(by_value.trades["shares_traded"], by_keywords.trades["shares_traded"], rtol=1e-9,
                               atol=1e-6)
    assert by_value.limits == BAND_CAP and by_value.request == by_keywords.request


def test_every_solving_function_takes_the_limits(book):
    tight = Limits(risk_band=(0.0, 0.6))  # no cash target can keep risk this low: every face must see it
    assert krg.liquidate(book, 1e9, limits=tight, raise_on_failure=False).status == "infeasible"
    with pytest.raises(krg.InfeasibleLiquidation):
        krg.max_cash(book, limits=tight)
    assert krg.tradable_cash(book, limits=tight, time_limit=20) is None
    assert krg.pro_rata(book, 1e9, limits=tight).status == "limits_broken"
    assert krg.waterfall(book, 1e9, limits=tight, max_pct_adv=0.2).status == "limits_broken"
    table = krg.compare(book, 1e9, max_pct_adv=0.2, limits=tight)
    assert table.set_index("method")["status"].to_dict() == {"optimized": "infeasible", "pro_rata": "limits_broken",
                                                             "waterfall": "limits_broken"}
    stress = krg.stress_test(book, 1e9, krg.whatif.scenarios.BUILT_IN[:1], with_max_cash=False, limits=tight)
    assert set(stress["status"]) == {"infeasible", "limits_broken"}
    assert set(krg.frontier(book, [5e8], limits=tight)["status"]) == {"infeasible"}


def test_the_result_keeps_its_request_so_the_report_needs_nothing_repeated(book):
    result = krg.liquidate(book, 1e9, limits=BAND_CAP)
    assert result.portfolio is book and result.limits == BAND_CAP
    report = krg.report.build_report(result, book, limits=Limits(max_total_mi_bps=40), frontier_points=2)
    assert report.request["max_total_mi_bps"] == 40 and report.request["risk_band"] is None
    html = result.to_html()  # the book and the limits come from the result itself
    assert "Frontier" in html or "frontier" in html
    assert "0.9" in html and "50" in html
