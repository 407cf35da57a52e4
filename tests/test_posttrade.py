"""Post-trade: reading fills (all problems at once, skip_bad), the shortfall identity, estimates and tables."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import krg_liquidity as krg
from krg_liquidity.core.errors import BookError
from krg_liquidity.posttrade.fills import read_fills


def _fills(**changes) -> pd.DataFrame:
    table = pd.DataFrame({
        "Ticker": ["AAA", "BBB", "CCC"], "Side": ["Buy", "S", "sell"], "Shares": [10_000, 20_000, 5_000],
        "Filled Shares": [10_000, 12_000, 0], "Decision Price": [50.0, 20.0, 10.0], "Arrival Px": [50.1, 19.9, 10.2],
        "Avg Price": [50.3, 19.8, None], "End Price": [51.0, 19.5, 10.5], "ADV": [1e6, 5e5, 2e5],
        "Volatility": [0.3, 0.4, 0.25], "POV": [0.1, 0.2, None], "Broker": ["X", "Y", "X"], "Fees": [50, 60, 0]})
    return table.assign(**changes)


def test_fills_are_read_through_aliases_and_from_files(tmp_path):
    frame = _fills()
    for suffix in (".csv", ".xlsx", ".parquet", ".json"):
        path = tmp_path / f"fills{suffix}"
        krg.write_table(frame, path)
        fills = read_fills(path)
        assert list(fills.orders["side"]) == ["buy", "sell", "sell"], suffix
        assert fills.orders["executed_shares"].tolist() == [10_000, 12_000, 0]
        assert fills.orders["sign"].tolist() == [1, -1, -1]


def test_every_bad_input_is_named_at_once_with_its_rows():
    bad = _fills(**{"Side": ["buy", "hold", "sell"], "Filled Shares": [10_000, 30_000, 0],
                    "Arrival Px": [50.1, 19.9, None], "ADV": [1e6, 0, 2e5], "Volatility": [30.0, 0.4, 0.25]})
    with pytest.raises(BookError) as caught:
        read_fills(bad)
    text = str(caught.value)
    assert {p.column for p in caught.value.problems} == {"side", "executed_shares", "arrival_price", "adv",
                                                         "volatility"}
    assert "row 2 (BBB)" in text and "row 3 (CCC)" in text and "row 1 (AAA)" in text
    assert "percent" in text and "skip_bad=True" in text


def test_negative_order_size_is_named_once_not_as_an_overfill():
    with pytest.raises(BookError) as caught:
        read_fills(_fills(**{"Shares": [10_000, -20_000, 5_000], "Filled Shares": [10_000, 0, 0]}))
    assert [(p.column, p.symbols) for p in caught.value.problems] == [("shares", ["row 2 (BBB)"])]


def test_skip_bad_sets_orders_aside_and_says_why():
    fills = read_fills(_fills(**{"Avg Price": [None, 19.8, None]}), skip_bad=True)
    assert fills.orders["symbol"].tolist() == ["BBB", "CCC"]
    assert fills.skipped[["row", "symbol"]].values.tolist() == [[1, "AAA"]]
    assert "avg_price" in fills.skipped["reason"].iloc[0]
    result = krg.post_trade(_fills(**{"Avg Price": [None, 19.8, None]}), skip_bad=True)
    assert len(result.skipped) == 1 and any("set aside" in n for n in result.notes)


def test_missing_columns_and_strategy_are_refused_even_with_skip_bad():
    with pytest.raises(BookError, match="'arrival_price' is missing"):
        read_fills(_fills().drop(columns=["Arrival Px"]), skip_bad=True)
    with pytest.raises(BookError, match="market_volume"):
        read_fills(_fills().drop(columns=["POV"]))


def test_pov_from_market_volume_and_default_decision_price():
    table = _fills().drop(columns=["POV", "Decision Price"]).assign(**{"Market Volume": [100_000, 60_000, 0]})
    fills = read_fills(table)
    assert fills.orders["pov"].tolist()[:2] == [0.1, 0.2]
    assert (fills.orders["decision_price"] == fills.orders["arrival_price"]).all()
    assert any("decision_price" in n for n in fills.notes)


def test_shortfall_parts_by_hand():
    orders = krg.post_trade(_fills()).orders.set_index("symbol")
    # AAA buy 10,000 all filled: delay 10,000*(50.1-50), execution 10,000*(50.3-50.1), fees 50
    assert orders.loc["AAA", ["delay_usd", "execution_usd", "opportunity_usd", "fees_usd", "total_usd"]].tolist() \
        == pytest.approx([1000.0, 2000.0, 0.0, 50.0, 3050.0])
    # BBB sell 20,000, 12,000 filled: delay -20,000*(19.9-20), exec -12,000*(19.8-19.9), opp -8,000*(19.5-19.9)
    assert orders.loc["BBB", ["delay_usd", "execution_usd", "opportunity_usd"]].tolist() == \
        pytest.approx([2000.0, 1200.0, 3200.0])
    assert orders.loc["BBB", "total_bps"] == pytest.approx((2000 + 1200 + 3200 + 60) / (20_000 * 20.0) * 1e4)
    # CCC never traded: all opportunity, no estimate
    assert orders.loc["CCC", "opportunity_usd"] == pytest.approx(-5000 * (10.5 - 10.2))
    assert np.isnan(orders.loc["CCC", "estimate_bps"]) and np.isnan(orders.loc["CCC", "z_score"])
    trades = pd.DataFrame({"size": [0.01], "volatility": [0.3], "pov": [0.1]})
    assert orders.loc["AAA", "estimate_bps"] == pytest.approx(krg.CostModel().market_impact(trades).iloc[0])
    z = (orders.loc["AAA", "arrival_cost_bps"] - orders.loc["AAA", "estimate_bps"]) / orders.loc["AAA", "timing_risk_bps"]
    assert orders.loc["AAA", "z_score"] == pytest.approx(z)


prices = st.floats(0.5, 5_000.0)


@settings(max_examples=200, deadline=None)
@given(side=st.sampled_from(["buy", "sell"]), shares=st.integers(1, 50_000_000), filled=st.floats(0.0, 1.0),
       decision=prices, arrival=prices, avg=prices, end=prices, fees=st.floats(0.0, 1e5))
def test_shortfall_identity_to_the_cent(side, shares, filled, decision, arrival, avg, end, fees):
    executed = float(np.floor(shares * filled))
    table = pd.DataFrame({"symbol": ["X"], "side": [side], "shares": [shares], "executed_shares": [executed],
                          "decision_price": [decision], "arrival_price": [arrival], "avg_price": [avg],
                          "end_price": [end], "adv": [1e8], "volatility": [0.3], "pov": [0.1], "fees_usd": [fees]})
    row = krg.post_trade(table).orders.iloc[0]
    s = 1 if side == "buy" else -1
    paper_minus_real = s * executed * avg + s * (shares - executed) * end - s * shares * decision + fees
    parts = row["delay_usd"] + row["execution_usd"] + row["opportunity_usd"] + row["fees_usd"]
    assert abs(row["total_usd"] - parts) < 0.005
    assert abs(row["total_usd"] - paper_minus_real) < 0.005
    bps = row["delay_bps"] + row["execution_bps"] + row["opportunity_bps"] + row["fees_bps"]
    assert row["total_bps"] == pytest.approx(bps, abs=1e-6)


def test_truths_own_z_scores_are_standard_normal():
    truth = krg.IStarParams(450.0, 0.62, 0.85, 0.40, 0.90)
    result = krg.post_trade(krg.synthetic_fills(truth, n=4000, seed=3), krg.CostModel(truth))
    z = result.orders["z_score"]
    assert abs(z.mean()) < 0.1 and abs(z.std() - 1) < 0.1
    # the default model does not fit this truth: its z-scores are biased
    assert abs(krg.post_trade(krg.synthetic_fills(truth, n=4000, seed=3)).orders["z_score"].mean()) > 0.1


def test_tables_by_broker_and_bucket():
    result = krg.post_trade(krg.synthetic_fills(n=600, seed=2))
    tables = result.tables
    assert set(tables) == {"by_broker", "by_algorithm", "by_size", "by_pov", "by_volatility"}
    for name, table in tables.items():
        assert table["orders"].sum() == 600, name
        assert table["total_usd"].sum() == pytest.approx(result.orders["total_usd"].sum())
    broker_a = result.orders[result.orders["broker"] == "Broker A"]
    row = tables["by_broker"].set_index("broker").loc["Broker A"]
    assert row["mean_z"] == pytest.approx(broker_a["z_score"].mean())
    assert row["mean_estimate_bps"] == pytest.approx(broker_a["estimate_bps"].mean())


# ----- calibration -----
import warnings  # noqa: E402

from typer.testing import CliRunner  # noqa: E402

from krg_liquidity.cli import app  # noqa: E402
from krg_liquidity.core.errors import InputError  # noqa: E402
from krg_liquidity.posttrade.calibration import CalibrationWarning  # noqa: E402

TRUTH = krg.IStarParams(450.0, 0.62, 0.85, 0.40, 0.90)
NAMES = ("a1", "a2", "a3", "a4", "b1")


def test_noise_free_fills_give_back_the_truth():
    fit = krg.calibrate(krg.synthetic_fills(TRUTH, n=400, seed=11, noise=0.0), bootstrap=0)
    for name in NAMES:
        assert getattr(fit.parameters, name) == pytest.approx(getattr(TRUTH, name), abs=1e-6), name
    assert fit.statistics["z_sd"] < 1e-6


def test_truth_is_inside_the_95_percent_intervals_on_2000_orders():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        fit = krg.calibrate(krg.synthetic_fills(TRUTH, n=2000, seed=4), bootstrap=100, seed=4)
    table = fit.table.set_index("parameter")
    for name in NAMES:
        assert table.loc[name, "ci_low"] <= getattr(TRUTH, name) <= table.loc[name, "ci_high"], name
        assert table.loc[name, "ci_low"] <= table.loc[name, "estimate"] <= table.loc[name, "ci_high"], name
    assert abs(fit.statistics["z_mean"]) < 0.1 and abs(fit.statistics["z_sd"] - 1) < 0.1
    assert abs(fit.statistics["heldout_z_mean"]) < 0.15 and abs(fit.statistics["heldout_z_sd"] - 1) < 0.15
    assert "Calibrated to 2,000 executed orders" in fit.parameters.source


def test_one_pov_leaves_a4_and_b1_at_their_prior():
    fills = krg.synthetic_fills(TRUTH, n=300, seed=2, noise=0.0).assign(pov=0.12)
    with pytest.warns(CalibrationWarning, match="nearly the same POV"):
        fit = krg.calibrate(fills, bootstrap=0)
    assert (fit.parameters.a4, fit.parameters.b1) == (krg.KISSELL_2013_ALL_DATA.a4, krg.KISSELL_2013_ALL_DATA.b1)
    assert fit.table.set_index("parameter")["held_at_prior"].to_dict() == {
        "a1": False, "a2": False, "a3": False, "a4": True, "b1": True}


def test_fewer_orders_than_parameters_is_refused():
    with pytest.raises(InputError, match="more executed orders than parameters"):
        krg.calibrate(krg.synthetic_fills(n=4, seed=1), bootstrap=0)


def test_large_fills_use_the_one_step_bootstrap(monkeypatch):
    from krg_liquidity.posttrade import calibration

    monkeypatch.setattr(calibration, "REFIT_LIMIT", 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        fit = krg.calibrate(krg.synthetic_fills(TRUTH, n=3000, seed=8), bootstrap=100, seed=8)
    assert fit.statistics["bootstrap_method"] == "one-step"
    table = fit.table.set_index("parameter")
    for name in ("a2", "a3"):
        assert table.loc[name, "ci_low"] <= getattr(TRUTH, name) <= table.loc[name, "ci_high"], name


def test_calibrated_table_is_read_back_by_parameters(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CalibrationWarning)
        fit = krg.calibrate(krg.synthetic_fills(TRUTH, n=300, seed=5, noise=0.0), bootstrap=0, code=7)
    path = tmp_path / "params.csv"
    fit.write(path)
    fit.write(path)  # the same code and date again: replaced, not duplicated
    loaded = krg.load_parameters(path, code=7)
    assert loaded == fit.parameters and loaded.source.startswith("Calibrated to 300")
    assert len(krg.read_parameter_table(path)) == 1


def test_cli_posttrade_and_calibrate(tmp_path):
    fills = tmp_path / "fills.csv"
    krg.synthetic_fills(TRUTH, n=200, seed=6, noise=0.0).to_csv(fills, index=False)
    runner = CliRunner()
    shown = runner.invoke(app, ["posttrade", str(fills), "--output", str(tmp_path / "pt.xlsx")])
    assert shown.exit_code == 0, shown.output
    assert "by broker" in shown.output and (tmp_path / "pt.xlsx").is_file()
    params = tmp_path / "params.csv"
    fitted = runner.invoke(app, ["calibrate", str(fills), "--output", str(params), "--bootstrap", "0", "--code", "3"])
    assert fitted.exit_code == 0, fitted.output
    assert "--mi-code 3" in fitted.output
    assert krg.load_parameters(params, code=3).a1 == pytest.approx(TRUTH.a1, rel=1e-6)
    bad = tmp_path / "bad.csv"
    krg.synthetic_fills(n=5, seed=1).assign(side="hold").to_csv(bad, index=False)
    refused = runner.invoke(app, ["posttrade", str(bad)])
    assert refused.exit_code == 2 and "is not buy or sell" in refused.output and "Traceback" not in refused.output


def test_cli_json_for_posttrade_and_calibrate(tmp_path):
    """--json prints one object a script reads: every order with its shortfall parts (the identity holds in the
    JSON too), the fitted parameters by name, and a failure as a status and a message."""
    import json

    fills = tmp_path / "fills.csv"
    source = krg.synthetic_fills(TRUTH, n=120, seed=7, noise=0.0)
    source.to_csv(fills, index=False)
    runner = CliRunner()
    shown = runner.invoke(app, ["posttrade", str(fills), "--json"])
    assert shown.exit_code == 0, shown.output
    payload = json.loads(shown.output)
    assert len(payload["orders"]) == 120 and "by_size" in payload["tables"]
    for order in payload["orders"]:
        parts = order["delay_usd"] + order["execution_usd"] + order["opportunity_usd"] + order["fees_usd"]
        assert parts == pytest.approx(order["total_usd"], abs=0.01)
    fitted = runner.invoke(app, ["calibrate", str(fills), "--output", str(tmp_path / "p.csv"), "--bootstrap", "0",
                                 "--json"])
    assert fitted.exit_code == 0, fitted.output
    fit = json.loads(fitted.output)
    assert fit["parameters"]["a1"] == pytest.approx(TRUTH.a1, rel=1e-6) and fit["output"].endswith("p.csv")
    assert [row["parameter"] for row in fit["table"]] == ["a1", "a2", "a3", "a4", "b1"]
    bad = tmp_path / "bad.csv"
    source.assign(side="hold").to_csv(bad, index=False)
    refused = runner.invoke(app, ["posttrade", str(bad), "--json"])
    failure = json.loads(refused.output)
    assert refused.exit_code == 2 and failure["status"] == "bad_input" and "is not buy or sell" in failure["message"]


def test_html_report_has_tables_and_figures(tmp_path):
    result = krg.post_trade(krg.synthetic_fills(n=150, seed=3))
    path = krg.write_post_trade(result, tmp_path / "pt.html")
    text = path.read_text()
    assert "id='by_broker'" in text and text.count("data:image/png;base64") == 3


def test_bundled_sample_fills_are_read_and_analysed():
    from krg_liquidity.book.datasets import data_path

    result = krg.post_trade(data_path("sample_fills.csv"))
    assert len(result.orders) == 1000 and result.skipped.empty
    assert set(result.orders["broker"]) == {"Broker A", "Broker B", "Broker C"}


def test_readme_lists_the_fill_columns():
    from pathlib import Path

    from krg_liquidity.posttrade.fills import fill_column_table

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert fill_column_table(markdown=True) in readme


def test_post_trade_is_written_by_extension(tmp_path):
    from krg_liquidity.core.errors import InputFileError

    result = krg.post_trade(krg.synthetic_fills(n=60, seed=9, partial_fraction=0.5))
    sheets = pd.read_excel(krg.write_post_trade(result, tmp_path / "pt.xlsx"), sheet_name=None)
    assert {"summary", "orders", "by_broker", "by_algorithm", "by_size", "by_pov", "by_volatility"} <= set(sheets)
    assert len(sheets["orders"]) == 60
    back = pd.read_csv(krg.write_post_trade(result, tmp_path / "orders.csv"))
    assert back["total_usd"].tolist() == pytest.approx(result.orders["total_usd"].tolist())
    with pytest.raises(InputFileError, match="unknown extension"):
        krg.write_post_trade(result, tmp_path / "pt.txt")


def test_b1_at_one_is_not_called_the_edge_of_a_search_range():
    truth = krg.IStarParams(450.0, 0.62, 0.85, 0.40, 1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CalibrationWarning)
        fit = krg.calibrate(krg.synthetic_fills(truth, n=300, seed=12, noise=0.0), bootstrap=0)
    assert fit.parameters.b1 == pytest.approx(1.0, abs=1e-6)
    assert not any("edge" in str(w.message) for w in caught)
