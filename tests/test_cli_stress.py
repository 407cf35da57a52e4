"""``krg-liquidity stress`` and ``krg-liquidity profile``: tables out, the same numbers as the API, clear errors."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from krg_liquidity import InputError, Portfolio, load_example, stress_test
from krg_liquidity.book.datasets import data_path
from krg_liquidity.cli import app
from krg_liquidity.whatif.liquidity import liquidity_profile
from krg_liquidity.whatif.scenarios import Scenario

runner = CliRunner()
BOOK, COV = str(data_path("example_portfolio.csv")), str(data_path("example_covariance.csv"))


def run(*args):
    return runner.invoke(app, list(args))


def test_stress_writes_the_api_table(tmp_path):
    scenarios = tmp_path / "scenarios.csv"
    scenarios.write_text("name,adv,volatility,a1\nbase,,,\nthin,0.7,1.5,\nheavy,,,900\n")
    out = tmp_path / "stress.csv"
    result = run("stress", BOOK, "--cash", "1e9", "--covariance", COV, "--risk-band", "0.9", "1.1",
                 "--scenario", str(scenarios), "--max-pct-adv", "0.2", "--output", str(out))
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert len(written) == 9 and "limits_broken" in written
    holdings, covariance = load_example()
    api = stress_test(Portfolio(holdings, covariance), 1e9, [Scenario("base"), Scenario("thin", adv=0.7, volatility=1.5)],
                      risk_band=(0.9, 1.1), max_pct_adv=0.2)
    for row in api.itertuples():
        match = written[(written["scenario"] == row.scenario) & (written["method"] == row.method)].iloc[0]
        assert match["status"] == row.status
        if row.status != "infeasible":
            assert match["cost_usd"] == pytest.approx(row.cost_usd, rel=1e-7)
    wide = CliRunner().invoke(app, ["stress", BOOK, "--cash", "1e9", "--covariance", COV, "--risk-band", "0.9", "1.1",
                                    "--scenario", str(scenarios), "--max-pct-adv", "0.2"], env={"COLUMNS": "300"})
    assert wide.exit_code == 0 and "raised usd" in wide.output  # on screen too: a rule may fall short of the cash
    assert "impact cap" in wide.output and "impact_cap" not in wide.output  # limits in words, not their keys


def test_stress_json_and_date_range(tmp_path):
    table = tmp_path / "params.csv"
    table.write_text("code,date,a1,a2,a3,a4,a5,b1\n1,2024-01-02,708,0.55,0.71,0.5,0,0.98\n"
                     "1,2024-02-01,900,0.55,0.71,0.5,0,0.98\n")
    result = run("stress", BOOK, "--cash", "5e8", "--date-range", "--parameters", str(table), "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["rows"]
    assert [r["date"] for r in rows] == ["2024-01-02", "2024-02-01"]
    assert rows[1]["fixed_trades_cost_usd"] == pytest.approx(rows[0]["cost_usd"] * 900 / 708, rel=1e-9)


def test_stress_errors_name_the_fix(tmp_path):
    result = run("stress", BOOK, "--cash", "1e9", "--date-range")
    assert result.exit_code == 2 and "--parameters" in result.output
    bad = tmp_path / "s.csv"
    bad.write_text("name,vol\nx,2\n")
    result = run("stress", BOOK, "--cash", "1e9", "--scenario", str(bad))
    assert result.exit_code == 2 and "unknown columns vol" in result.output


def test_profile_outputs(tmp_path):
    out = tmp_path / "profile.xlsx"
    result = run("profile", BOOK, "--pov-cap", "0.1", "--horizons", "1,5", "--cost-budget-bps", "25", "--output", str(out))
    assert result.exit_code == 0, result.output
    sheets = pd.read_excel(out, sheet_name=None)
    assert set(sheets) == {"book", "buckets", "by_horizon", "days", "request"}
    assert f"wrote {out}" in result.output.replace("\n", "")  # issue 16 trial item 20: it says so
    asked = sheets["request"].set_index("key")["value"]
    assert float(asked["pov_cap"]) == 0.1 and asked["horizons"] == "1, 5" and float(asked["cost_budget_bps"]) == 25
    api = liquidity_profile(Portfolio(*load_example()), 0.1, (1, 5), cost_budget_bps=25)
    pd.testing.assert_series_equal(sheets["book"]["max_cash_usd"], api.book["max_cash_usd"], rtol=1e-9)
    result = run("profile", BOOK, "--horizons", "1;3")
    assert result.exit_code == 2 and "commas" in result.output
    result = run("profile", BOOK, "--json")
    assert json.loads(result.output)["book"][0]["horizon_days"] == 1


def _no_trade_time(tmp_path):
    holdings, _ = load_example()
    path = tmp_path / "no_time.csv"
    holdings.drop(columns="TradeTime").to_csv(path, index=False)
    return path


def test_profile_needs_no_trade_time(tmp_path):
    """The profile trades every name at the POV cap: a book without trade_time or pov is profiled."""
    result = run("profile", str(_no_trade_time(tmp_path)), "--covariance", COV, "--horizons", "1,3", "--json")
    assert result.exit_code == 0, result.output
    assert "--trade-time" not in result.output
    with_time = run("profile", BOOK, "--covariance", COV, "--horizons", "1,3", "--json")
    assert json.loads(result.output)["book"] == json.loads(with_time.output)["book"]
    refused = run("profile", BOOK, "--pov-cap", "1.5")
    assert refused.exit_code == 2 and "'--pov-cap' must be in (0, 1) (it is 1.5)" in refused.output


def test_missing_trade_time_names_the_command_line_options(tmp_path):
    result = run("liquidate", str(_no_trade_time(tmp_path)), "--cash", "1e9")
    assert result.exit_code == 2 and "a default for the names without one: --trade-time DAYS or --pov DECIMAL" \
        in result.output
    assert "fill_strategy" not in result.output


def test_stress_exit_codes_and_labels(tmp_path):
    """A cash target refused before any row is solved exits 2; a scenario cell that is not a number and an invalid waterfall cap
    are bad input (exit 2, named), not bugs; workers below 1 are refused by name."""
    every_bad = run("stress", BOOK, "--cash", "0.001", "--covariance", COV, "--no-max-cash")
    assert every_bad.exit_code == 2 and "did you mean 0.1%?" in every_bad.output
    as_json = run("stress", BOOK, "--cash", "0.001", "--covariance", COV, "--no-max-cash", "--json")
    assert as_json.exit_code == 2 and json.loads(as_json.output)["status"] == "bad_input"
    cells = tmp_path / "s.csv"
    cells.write_text("name,adv\nbad,abc\n")
    result = run("stress", BOOK, "--cash", "1e9", "--scenario", str(cells), "--no-max-cash")
    assert result.exit_code == 2 and "scenario 'bad': adv='abc' is not a number" in result.output
    for cap in ("-1", "0"):
        result = run("stress", BOOK, "--cash", "1e9", "--max-pct-adv", cap, "--no-max-cash")
        assert result.exit_code == 2 and "'max_pct_adv' is" in result.output
    book = Portfolio(*load_example())
    with pytest.raises(InputError, match="'max_pct_adv' is 'abc', not a number"):
        stress_test(book, 1e9, with_max_cash=False, max_pct_adv="abc")
    for workers in ("0", "-2"):
        result = run("stress", BOOK, "--cash", "1e9", "--workers", workers)
        assert result.exit_code == 2 and "--workers" in result.output
    with pytest.raises(InputError, match="'workers' is 0"):
        stress_test(book, 1e9, with_max_cash=False, workers=0)


@pytest.mark.parametrize("command", [
    ["report", BOOK, "--cash", "1e9"], ["liquidate", BOOK, "--cash", "1e9"], ["stress", BOOK, "--cash", "1e9"],
    ["profile", BOOK], ["schedule", BOOK]])
def test_output_naming_a_folder_is_refused_before_any_solve(tmp_path, command, monkeypatch):
    def no_solve(*args, **kwargs):
        raise AssertionError("solved before checking --output")

    for module in ("krg_liquidity.cli.liquidate", "krg_liquidity.cli.report", "krg_liquidity.cli.stress"):
        for name in ("run_liquidation", "stress_test", "liquidity_profile"):
            monkeypatch.setattr(f"{module}.{name}", no_solve, raising=False)
    folder = tmp_path / ("out.html" if command[0] == "report" else "out.csv")
    folder.mkdir()
    result = run(*command, "--output", str(folder))
    assert result.exit_code == 2, result.output
    assert f"{folder} is a folder; give a file name inside it" in result.output


@pytest.mark.slow
@pytest.mark.parametrize("width", [120, 80])
def test_stress_table_never_splits_a_number_or_status(width):
    """Issue 16 trial item 13: at the default width numbers wrapped mid-digit ("1,621,476,\\n288") and
    statuses mid-word ("limits_bro\\nken"); an infeasible row showed no reason on screen. 120 columns
    hold the table; at 80 it comes in two parts, each led by scenario and method."""
    args = ["stress", BOOK, "--cash", "1.6e9", "--covariance", COV, "--risk-band", "0.9", "1.1"]
    shown = CliRunner().invoke(app, args, env={"COLUMNS": str(width)})
    table = CliRunner().invoke(app, args + ["--json"])
    assert shown.exit_code == 0 and table.exit_code == 0, shown.output
    rows = pd.DataFrame(json.loads(table.stdout)["rows"])
    assert max(len(line) for line in shown.output.splitlines()) <= width
    assert ("Stress test (continued)" in shown.output) == (width < 120)
    for column in ("cash_raised_usd", "max_cash_usd", "cost_usd"):
        for value in rows[column].dropna():
            assert f"{value:,.0f}" in shown.output, (column, value, shown.output)
    assert shown.output.count("limits_broken") == int((rows["status"] == "limits_broken").sum())
    infeasible = rows[rows["status"] == "infeasible"]
    assert len(infeasible) and "Why some rows have no answer:" in shown.output
    for scenario in infeasible["scenario"]:
        assert f"{scenario} / optimized (infeasible): cannot raise $1,600,000,000" in shown.output, shown.output


def test_stress_workbook_has_the_request(tmp_path):
    """Issue 16 trial item 20: the stress workbook carried no request sheet, and nothing said it was written."""
    out = tmp_path / "stress.xlsx"
    result = run("stress", BOOK, "--cash", "5%", "--covariance", COV, "--risk-band", "90%", "110%", "--no-max-cash",
                 "--max-pct-adv", "20%", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output.replace("\n", "")
    asked = pd.read_excel(out, sheet_name="request").set_index("key")["value"]
    nav = Portfolio(*load_example()).net_value_usd
    assert float(asked["cash_target_usd"]) == pytest.approx(0.05 * nav, rel=1e-12)
    assert (float(asked["risk_band_lo"]), float(asked["risk_band_hi"]), float(asked["max_pct_adv"])) == (0.9, 1.1, 0.2)
    assert asked["scenario"] == "base, volume halved, volatility doubled, 2008-like"


def test_the_most_cash_column_says_exact_shares():
    """stress_test's most cash is in exact shares; shown as plain 'max cash usd' a PM typed it back to liquidate,
    whose default whole shares fall $1,606 short of it."""
    result = run("stress", BOOK, "--cash", "1e9", "--covariance", COV)
    assert result.exit_code == 0 and "exact shares" in result.output


def test_stress_with_tax_lots_on_the_command_line(tmp_path):
    import json
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from books import random_lots

    import krg_liquidity as krg

    holdings, covariance = krg.load_example()
    book = krg.Portfolio(holdings, covariance)
    holdings.to_csv(tmp_path / "book.csv", index=False)
    random_lots(book.holdings, 5).to_csv(tmp_path / "lots.csv", index=False)
    args = ["stress", str(tmp_path / "book.csv"), "--cash", "1e9", "--no-max-cash", "--lots", str(tmp_path / "lots.csv"),
            "--tax-short", "37%", "--tax-long", "0.238", "--as-of", "2026-12-01"]
    done = CliRunner().invoke(app, [*args, "--json"])
    assert done.exit_code == 0, done.output
    rows = json.loads(done.stdout)["rows"]
    direct = krg.stress_test(book, 1e9, with_max_cash=False, lots=tmp_path / "lots.csv",
                             tax=krg.TaxRates(0.37, 0.238, as_of="2026-12-01"))
    taxes = [float("nan") if r["tax_usd"] is None else r["tax_usd"] for r in rows]
    assert taxes == pytest.approx(direct["tax_usd"].tolist(), rel=1e-6, nan_ok=True)
    shown = CliRunner().invoke(app, args)
    assert shown.exit_code == 0 and "tax usd" in shown.output.replace("_", " ")
    plain = CliRunner().invoke(app, args[:5])
    assert plain.exit_code == 0 and "tax" not in plain.output.split("Stress test")[1].splitlines()[2]
    refused = CliRunner().invoke(app, [*args[:3], "--date-range", "--parameters", "x.csv", "--lots", "l.csv",
                                       "--tax-short", "0.3", "--tax-long", "0.2"])
    assert refused.exit_code == 2
