"""The I-Star cost model against published values and its own invariants."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krg_liquidity import KISSELL_2013_ALL_DATA, CostModel, IStarParams


def one(**columns) -> pd.DataFrame:
    return pd.DataFrame({k: [v] for k, v in columns.items()})


def test_worked_istar_example(model):
    trades = one(Size=0.10, Volatility=0.30, POV=0.20)
    assert model.istar(trades).iloc[0] == pytest.approx(84.88, abs=0.005)
    assert model.market_impact(trades).iloc[0] == pytest.approx(38.90, abs=0.005)


def test_istar_formula_by_hand(model):
    p = KISSELL_2013_ALL_DATA
    expected = p.a1 * 0.10**p.a2 * 0.30**p.a3
    assert model.istar(one(Size=0.10, Volatility=0.30)).iloc[0] == pytest.approx(expected, rel=1e-12)


def test_components_add_up(model):
    parts = model.market_impact(one(Size=0.10, Volatility=0.30, POV=0.20), components=True)
    row = parts.iloc[0]
    assert row.temporary_bps + row.permanent_bps == pytest.approx(row.market_impact_bps, rel=1e-12)
    assert row.permanent_bps == pytest.approx(0.02 * 84.8769, rel=1e-4)


def test_mathworks_timing_risk_table(model, mathworks_tr):
    tr = model.timing_risk(mathworks_tr.drop(columns="TR"))
    np.testing.assert_allclose(tr.to_numpy(), mathworks_tr["TR"].to_numpy(), atol=6e-5)
    assert tr.index.equals(mathworks_tr.index)


def test_timing_risk_same_by_trade_time(model, mathworks_tr):
    frame = mathworks_tr.drop(columns=["TR"])
    frame["TradeTime"] = CostModel.pov_to_trade_time(frame.pop("POV").to_numpy(), frame["Size"].to_numpy())
    np.testing.assert_allclose(model.timing_risk(frame), mathworks_tr["TR"], atol=6e-5)


def test_price_appreciation_example_both_paths(model):
    base = dict(Size=0.10, Shares=100000, ADV=1_000_000, Volatility=0.25, Price=35.0, Alpha_bp=50)
    assert model.price_appreciation(one(**base, POV=0.20)).iloc[0] == pytest.approx(10.0, abs=1e-12)
    assert model.price_appreciation(one(**base, TradeTime=0.40)).iloc[0] == pytest.approx(10.0, abs=1e-12)


def test_price_appreciation_schedule_formula(model):
    ts, vp = [20000.0, 30000.0, 50000.0], [100000.0, 150000.0, 250000.0]
    trades = one(Shares=100000, ADV=1_000_000, Volatility=0.25, Alpha_bp=40)
    trades["TradeSchedule"] = [ts]
    trades["VolumeProfile"] = [vp]
    day_time = sum(vp) / 1_000_000
    expected = 40 * day_time / 3 * (1 * 20000 + 2 * 30000 + 3 * 50000) / 100000
    assert model.price_appreciation(trades).iloc[0] == pytest.approx(expected, rel=1e-12)


def test_conversions_example():
    assert CostModel.pov_to_trade_time(0.20, 0.10) == pytest.approx(0.40)
    assert CostModel.trade_time_to_pov(0.40, 0.10) == pytest.approx(0.20)


def test_strategy_precedence_pov_over_time(model):
    both = one(Size=0.10, Volatility=0.30, POV=0.20, TradeTime=5.0)
    assert model.market_impact(both).iloc[0] == pytest.approx(38.8965, abs=1e-3)
    mixed = pd.DataFrame({"Size": [0.1, 0.1], "Volatility": [0.3, 0.3], "POV": [0.2, np.nan],
                          "TradeTime": [np.nan, 0.4]})
    mi = model.market_impact(mixed)
    assert mi.iloc[0] == pytest.approx(mi.iloc[1], rel=1e-12)


def test_liquidity_factor_is_istar_of_one_dollar(model):
    trades = one(ADV=2_000_000, Price=40.0, Volatility=0.25)
    size = 1.0 / (2_000_000 * 40.0)
    expected = model.istar(one(Size=size, Volatility=0.25)).iloc[0]
    assert model.liquidity_factor(trades).iloc[0] == pytest.approx(expected, rel=1e-12)


def test_price_term_a5():
    model = CostModel(IStarParams(708, 0.55, 0.71, 0.5, 0.98, a5=0.1))
    trades = one(Size=0.1, Volatility=0.3, Price=100.0)
    base = CostModel().istar(trades).iloc[0]
    assert model.istar(trades).iloc[0] == pytest.approx(base * 100.0**0.1, rel=1e-12)


def test_dollar_cost(model):
    trades = one(Shares=100000, ADV=1_000_000, Volatility=0.30, POV=0.20, Price=50.0)
    mi = model.market_impact(trades).iloc[0]
    assert model.market_impact_usd(trades).iloc[0] == pytest.approx(mi / 1e4 * 100000 * 50.0)
    assert CostModel.bps_to_usd(10.0, -1000, 20.0) == pytest.approx(20.0)


def test_cost_curves_shape_and_values(model):
    trades = pd.DataFrame({"Symbol": ["A", "B"], "Volatility": [0.2, 0.3], "ADV": [1e6, 2e6]})
    curves = model.cost_curves(trades, sizes=[0.05, 0.1], pov=[0.1, 0.2, 0.3])
    assert len(curves) == 2 * 2 * 3
    row = curves[(curves.symbol == "B") & (curves["size"] == 0.1) & np.isclose(curves.pov, 0.2)].iloc[0]
    direct = model.market_impact(one(Size=0.1, Volatility=0.3, POV=0.2)).iloc[0]
    assert row.market_impact_bps == pytest.approx(direct)
    assert row.shares == pytest.approx(0.1 * 2e6)
    by_time = model.cost_curves(trades.iloc[:1], sizes=[0.1], trade_time=[0.4])
    assert by_time.pov.iloc[0] == pytest.approx(0.2)


def test_output_aligned_to_input_index(model):
    trades = pd.DataFrame({"Size": [0.1, 0.2], "Volatility": [0.3, 0.2], "POV": [0.1, 0.1]}, index=[10, 3])
    assert list(model.market_impact(trades).index) == [10, 3]


sizes = st.floats(1e-4, 2.0)
povs = st.floats(1e-3, 1.0)
vols = st.floats(0.01, 2.0)


@settings(max_examples=200, deadline=None)
@given(size=sizes, factor=st.floats(1.01, 10.0), pov=povs, vol=vols)
def test_impact_rises_with_size(size, factor, pov, vol):
    model = CostModel()
    small = model.impact_bps_at_pov(size, vol, pov)
    large = model.impact_bps_at_pov(size * factor, vol, pov)
    assert large > small


@settings(max_examples=200, deadline=None)
@given(size=sizes, pov=st.floats(1e-3, 0.99), bump=st.floats(1.001, 5.0), vol=vols)
def test_impact_rises_with_pov_and_timing_risk_falls(size, pov, bump, vol):
    model = CostModel()
    pov2 = min(1.0, pov * bump)
    trades = pd.DataFrame({"Size": [size, size], "Volatility": [vol, vol], "POV": [pov, pov2]})
    mi = model.market_impact(trades).to_numpy()
    tr = model.timing_risk(trades).to_numpy()
    assert mi[1] > mi[0]
    assert tr[1] < tr[0]


@settings(max_examples=200, deadline=None)
@given(size=sizes, pov=povs)
def test_conversions_invert(size, pov):
    days = CostModel.pov_to_trade_time(pov, size)
    assert CostModel.trade_time_to_pov(days, size) == pytest.approx(pov, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(shares=st.integers(1_000, 5_000_000), pov=st.floats(0.01, 0.9),
       profile=st.lists(st.floats(1e4, 1e7), min_size=1, max_size=30), vol=vols)
def test_constant_pov_schedule_matches_pov(shares, pov, profile, vol):
    vp = np.asarray(profile)
    ts = pov / (1 - pov) * vp  # constant POV in every period
    ts = ts * shares / ts.sum()
    vp = ts * (1 - pov) / pov
    adv = 10_000_000.0
    model = CostModel()
    sched = pd.DataFrame({"Shares": [float(ts.sum())], "ADV": [adv], "Volatility": [vol]})
    sched["TradeSchedule"] = [ts]
    sched["VolumeProfile"] = [vp]
    flat = pd.DataFrame({"Shares": [float(ts.sum())], "ADV": [adv], "Volatility": [vol], "POV": [pov]})
    assert model.market_impact(sched).iloc[0] == pytest.approx(model.market_impact(flat).iloc[0], rel=1e-9)
    uniform = sched.copy()
    uniform["TradeSchedule"] = [np.full(len(vp), ts.sum() / len(vp))]
    uniform["VolumeProfile"] = [np.full(len(vp), vp.sum() / len(vp))]
    assert model.timing_risk(uniform).iloc[0] == pytest.approx(model.timing_risk(flat).iloc[0], rel=1e-9)


# ---- costs far outside ordinary trades are flagged -----------------------------------------------

THIN_BOOK = pd.DataFrame({"symbol": ["PENNY", "WHALE", "THIN", "BIG"],
                          "shares": [1e8, 1000, 50_000, 2e6], "price": [0.01, 1e5, 25.0, 150.0],
                          "adv": [1e9, 100, 100, 1e9], "volatility": [0.8, 0.3, 0.5, 0.2], "trade_time": [1.0] * 4})


def test_an_answer_with_impact_far_outside_the_model_says_so():
    """Raising 99.9% sells THIN at 99.7% POV for 10,650 bps (more than its price): the result carries a plain
    warning naming the names, in its assumptions, its summary and its JSON; an ordinary answer carries none."""
    import warnings

    from krg_liquidity import Portfolio, liquidate, load_example

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = Portfolio(THIN_BOOK)
    result = liquidate(book, "99.9%")
    note = [w for w in result.assumptions["warnings"] if "I-Star formula is extrapolated" in w]
    assert len(note) == 1 and note[0].startswith("THIN: 10,650 bps at 99.7% POV; WHALE: 1,020 bps at 90.9% POV")
    assert "the cost shown is unreliable" in note[0]
    assert note[0] in result.summary()
    assert note[0] in result.to_json()
    ordinary = liquidate(Portfolio(*load_example()), 1e9)
    assert not any("extrapolated" in w for w in ordinary.assumptions["warnings"])


def test_pretrade_flags_impact_far_outside_the_model(tmp_path):
    from typer.testing import CliRunner

    from krg_liquidity.cli import app

    path = tmp_path / "thin.csv"
    THIN_BOOK.to_csv(path, index=False)
    done = CliRunner().invoke(app, ["pretrade", str(path)], env={"COLUMNS": "400"})
    assert done.exit_code == 0, done.output
    assert "warning: THIN: 13,192 bps at 99.8% POV; WHALE: 1,020 bps at 90.9% POV" in done.output
    assert "PENNY:" not in done.output and "BIG:" not in done.output


def test_schedules_of_different_lengths_price_as_each_row_alone():
    """The schedule rows are priced together (padded to the longest schedule): each row's MI, TR, PA
    and trade time equal the same row priced alone, next to POV and trade-time rows."""
    trades = pd.DataFrame({
        "symbol": ["A", "B", "C", "D"], "shares": [3e5, 5e5, 2e5, 1e5], "adv": [2e6, 4e6, 1e6, 3e6],
        "volatility": [0.3, 0.2, 0.4, 0.25], "price": [50.0, 20.0, 80.0, 10.0], "alpha_bp": [5.0, -3.0, 2.0, 1.0],
        "pov": [np.nan, np.nan, 0.1, np.nan], "trade_time": [np.nan, np.nan, np.nan, 0.5],
        "trade_schedule": [[1e5, 2e5], [1e5, 0.0, 3e5, 5e4, 5e4], None, None],
        "volume_profile": [[1e6, 1e6], [8e5, 9e5, 1e6, 7e5, 6e5], None, None]})
    model = CostModel()
    together = [model.market_impact(trades), model.timing_risk(trades), model.price_appreciation(trades),
                model.trade_time(trades)]
    for row in range(len(trades)):
        alone = trades.iloc[[row]]
        for priced, method in zip(together, (model.market_impact, model.timing_risk, model.price_appreciation,
                                             model.trade_time)):
            assert priced.iloc[row] == pytest.approx(method(alone).iloc[0], rel=1e-12)
    # the padded row B alone, by the formulas: 2 of its periods end its horizon (sum VP / ADV days)
    ts, vp = np.array([1e5, 0.0, 3e5, 5e4, 5e4]), np.array([8e5, 9e5, 1e6, 7e5, 6e5])
    pov_term = np.sum(ts / ts.sum() * (ts / (ts + vp)) ** model.params.a4)
    istar = model.istar(trades.iloc[[1]]).iloc[0]
    assert together[0].iloc[1] == pytest.approx(model.params.b1 * istar * pov_term + (1 - model.params.b1) * istar,
                                                 rel=1e-12)
    assert together[3].iloc[1] == pytest.approx(vp.sum() / 4e6, rel=1e-15)


def test_bad_schedules_are_all_named():
    trades = pd.DataFrame({"symbol": ["A", "B", "C"], "shares": [2.0, 2.0, 2.0], "adv": [1e6] * 3,
                           "volatility": [0.3] * 3, "price": [10.0] * 3,
                           "trade_schedule": [[1.0, 1.0], [-1.0, 3.0], [np.nan, 2.0]],
                           "volume_profile": [[1e3, 1e3], [1e3, 1e3], [1e3, 1e3]]})
    with pytest.raises(ValueError, match="trade_schedule") as info:
        CostModel().market_impact(trades)
    assert "for B, C;" in str(info.value)
