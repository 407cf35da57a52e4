"""The command line: tables, JSON, files and exit codes."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import krg_liquidity as krg
from krg_liquidity import Portfolio
from krg_liquidity.book.datasets import data_path, load_example
from krg_liquidity.cli import app

EXAMPLE = ["data/example_portfolio.csv", "--covariance", "data/example_covariance.csv"]

runner = CliRunner()
HOLDINGS = str(data_path("example_portfolio.csv"))
COVARIANCE = str(data_path("example_covariance.csv"))


def run(*args):
    return runner.invoke(app, list(args))


def test_demo():
    result = run("demo")
    assert result.exit_code == 0, result.output
    assert "optimal" in result.output and "$1,000,000,000" in result.output


def test_demo_trades_whole_shares_and_its_most_cash_is_raised():
    """Issue 16 trial B7/A3: the demo printed fractional trades as integers (AAPL -855,752 for -855,751.6)
    with no rounding line, and a most cash ($1,621,476,287) that whole shares fell $1,562 short of."""
    result = run("demo")
    assert result.exit_code == 0, result.output
    assert "rounding       whole shares" in result.output
    shown = re.search(r"Most cash these limits allow in whole shares: \$([\d,]+)", result.output)
    assert shown is not None, result.output
    typed = run("liquidate", HOLDINGS, "--covariance", COVARIANCE, "--risk-band", "0.9", "1.1",
                "--max-total-mi-bps", "50", "--cash", shown.group(1), "--json")
    assert typed.exit_code == 0, typed.output


def test_pretrade():
    result = run("pretrade")
    assert result.exit_code == 0, result.output
    assert "AAPL" in result.output and "Total market impact" in result.output


def test_liquidate_json():
    result = run("liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", "1e9", "--risk-band", "0.9", "1.1",
                 "--max-total-mi-bps", "50", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    for key in ("status", "cash_target", "cash_raised", "cost_usd", "cost_bps", "lower_bound_usd", "gap",
                "risk_before", "risk_after", "marginal_cost_bps", "trades"):
        assert key in payload
    assert payload["status"] == "optimal"
    prices = pd.read_csv(HOLDINGS).set_index("Symbol")["Price"]
    assert 1e9 <= payload["cash_raised"] <= 1e9 + prices.sum()  # whole shares: each sale rounded up < 1 share
    assert payload["rounding"]["cash_raised_exact"] == pytest.approx(1e9, rel=1e-9)
    assert all(float(t["shares_traded"]).is_integer() for t in payload["trades"])
    assert payload["assumptions"]["parameters"]["a1"] == 708 and payload["assumptions"]["risk_model"]["names"] == 28
    trade = payload["trades"][0]
    assert set(trade) == {"symbol", "shares_before", "shares_traded", "shares_after", "value_traded_usd", "pov",
                          "trade_time_days", "mi_bps", "cost_usd", "weight_before", "weight_after", "limit_reached", "price",
                          "adv", "volatility"}
    assert sum(t["cost_usd"] for t in payload["trades"]) == pytest.approx(payload["cost_usd"], rel=1e-12)


def test_more_than_the_book_is_one_line():
    """150% of NAV with a band and a cap: one line naming the book's worth, exit 2, no solve and no budget words."""
    result = run("liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", "150%", "--risk-band", "0.9", "1.1",
                 "--max-total-mi-bps", "50")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "more than the book is worth" in lines[0] and "time" not in lines[0], result.output


def test_liquidate_table_and_output_files(tmp_path):
    csv_path, parquet_path = tmp_path / "trades.csv", tmp_path / "trades.parquet"
    result = run("liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", "5e8", "--output", str(csv_path))
    assert result.exit_code == 0, result.output
    assert "marginal cost" in result.output
    assert len(pd.read_csv(csv_path)) == 28
    result = run("liquidate", HOLDINGS, "--cash", "5e8", "--output", str(parquet_path))
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(parquet_path)["shares_traded"].sum() < 0
    assert pd.read_parquet(parquet_path).attrs["request"]["cash_target_usd"] == 5e8  # the request travels along


def test_infeasible_exit_code_and_json():
    result = run("liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", "6e9", "--json")
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["status"] == "infeasible"
    assert 0 < payload["max_cash_raisable"] < 6e9
    assert "cannot raise" in payload["message"]
    assert payload["blocking"] and all(v > 0 for v in payload["blocking"].values())  # the fields stay
    assert set(payload["blocking_units"]) == set(payload["blocking"])


def test_infeasible_without_json_is_one_clear_line():
    result = run("liquidate", HOLDINGS, "--cash", "6e9")
    assert result.exit_code == 2
    assert "cannot raise $6,000,000,000" in result.output
    assert "Traceback" not in result.output


def test_tables_follow_the_terminal_width():
    """The console was fixed at 140 columns whenever stdout was not a terminal (a pipe, a pager, COLUMNS
    ignored): the trade table now takes the width the terminal (here COLUMNS) gives it."""
    def widest(columns: str) -> int:
        done = CliRunner().invoke(app, ["liquidate", HOLDINGS, "--cash", "1e9"], env={"COLUMNS": columns})
        assert done.exit_code == 0, done.output
        return max(len(line) for line in done.output.splitlines() if "│" in line)

    assert widest("90") <= 90 < widest("250")


def test_infeasible_message_is_a_headline_and_a_table():
    """The message was one 900-character sentence; now a headline with the most cash, the reason, and one
    row per blocking limit with how far it would have to give in its unit."""
    result = run("liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", "6e9", "--risk-band", "0.9", "1.1",
                 "--max-total-mi-bps", "50")
    assert result.exit_code == 2
    lines = result.output.removeprefix("error: ").splitlines()
    assert lines[0].startswith("cannot raise $6,000,000,000: the most that can be raised within the limits in "
                               "whole shares is $1,621,") and lines[0].endswith(".")  # typed back, it is raised
    assert lines[1].startswith("Why: ") and lines[2] == "Blocking limits, and how far each would have to give:"
    rows = {line.strip().split("  ")[0]: line.strip().split("  ")[-1].strip() for line in lines[3:]}
    assert rows["final-weight bounds (lb_wt/ub_wt)"].startswith("about $") and rows[
        "final-weight bounds (lb_wt/ub_wt)"].endswith(" on one name)")  # the band's floor enters linearized: estimates
    assert "fully sold (no flips, no buys)" not in rows  # selling more than is held gives last (ELASTIC_WEIGHT)
    assert rows["total impact cap (max_total_mi_bps)"] == "about 14.331 bps (cap 50 -> 64.331 bps)"
    assert re.fullmatch(r"about \$[\d,]+ in all over \d+ names \(up to \$[\d,]+ on one name\)",
                        rows["participation cap (ub_max_pct_adv)"])  # a per-name limit's total, then its largest
    assert "direction" not in result.output


@pytest.mark.parametrize("args, text", [
    (["liquidate", "missing.csv", "--cash", "1e6"], "file not found"),
    (["liquidate", HOLDINGS, "--cash", "-1"], "positive number of dollars"),
    (["liquidate", HOLDINGS, "--cash", "1e9", "--risk-band", "0.9", "1.1"], "risk model"),
])
def test_bad_input_exit_2(args, text):
    result = run(*args)
    assert result.exit_code == 2
    assert text in result.output
    assert "Traceback" not in result.output


def test_bad_column_names_symbol(tmp_path):
    book = pd.read_csv(HOLDINGS)
    book.loc[book.Symbol == "IBM", "ADV"] = np.nan
    path = tmp_path / "bad.csv"
    book.to_csv(path, index=False)
    result = run("liquidate", str(path), "--cash", "1e9")
    assert result.exit_code == 2
    assert "'adv'" in result.output and "IBM" in result.output
    assert result.output.startswith("error: the holdings: 1 problem(s)") and "shares per day" in result.output


def test_custom_parameter_table(tmp_path):
    table = tmp_path / "mi.csv"
    table.write_text("code,date,a1,a2,a3,a4,a5,b1,source\n7,2024-01-02,354,0.55,0.71,0.5,0,0.98,half\n")
    base = json.loads(run("liquidate", HOLDINGS, "--cash", "5e8", "--json").stdout)
    half = json.loads(run("liquidate", HOLDINGS, "--cash", "5e8", "--json", "--parameters", str(table),
                          "--mi-code", "7").stdout)
    assert half["cost_usd"] == pytest.approx(base["cost_usd"] / 2, rel=1e-6)
    missing = run("liquidate", HOLDINGS, "--cash", "5e8", "--parameters", str(table), "--mi-code", "3")
    assert missing.exit_code == 2 and "market-impact code 3" in missing.output


def test_time_limit_and_honest_statuses_in_json(tmp_path):
    holdings, covariance = load_example()
    holdings.to_csv(tmp_path / "book.csv", index=False)
    covariance.to_csv(tmp_path / "cov.csv")
    base = ["liquidate", str(tmp_path / "book.csv"), "--covariance", str(tmp_path / "cov.csv"), "--cash", "1e9",
            "--json"]
    proven = CliRunner().invoke(app, base + ["--risk-band", "1.6", "10"])
    assert proven.exit_code == 2
    payload = json.loads(proven.stdout)
    assert payload["status"] == "infeasible" and any(s["outcome"] == "proof" for s in payload["stages"])
    solved = CliRunner().invoke(app, base + ["--risk-band", "1.01", "1.05", "--time-limit", "10"])
    assert solved.exit_code == 0
    answer = json.loads(solved.stdout)
    assert answer["status"] == "optimal" and [s["stage"] for s in answer["stages"]][-1] == "certificate"
    refused = CliRunner().invoke(app, base + ["--time-limit", "0"])
    assert refused.exit_code == 2 and json.loads(refused.stdout)["status"] == "bad_input"


def test_risk_band_help_shows_two_numbers_with_a_space():
    result = CliRunner().invoke(app, ["liquidate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "--risk-band LO HI" in result.output and "--risk-band 0.9 1.1" in result.output


def test_numeric_options_take_percents_and_bps_as_a_pm_types_them():
    """Issue 16 trial item 12: --risk-band 90% 110%, --pov 10%, --max-total-mi-bps 50bps, --pov-cap 20%
    were refused with "Input should be a valid number"."""
    from krg_liquidity.cli import options

    assert [options.fraction(t) for t in ("20%", "0.2", "5 %")] == [0.2, 0.2, 0.05]
    assert [options.ratio(t) for t in ("90%", "110%", "0.9x", "1.1")] == [0.9, 1.1, 0.9, 1.1]
    assert [options.bps(t) for t in ("50bps", "50 bps", "50BP", "0.5%", "50")] == [50.0, 50.0, 50.0, 50.0, 50.0]
    base = ["liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", "10%", "--json"]
    typed = run(*base, "--risk-band", "90%", "110%", "--max-total-mi-bps", "50 bps", "--pov", "10%")
    plain = run(*base, "--risk-band", "0.9", "1.1", "--max-total-mi-bps", "50", "--pov", "0.1")
    assert typed.exit_code == plain.exit_code == 0, typed.output
    assert json.loads(typed.stdout)["request"] == json.loads(plain.stdout)["request"]
    assert json.loads(typed.stdout)["cost_usd"] == json.loads(plain.stdout)["cost_usd"]
    profile = [run("profile", HOLDINGS, "--covariance", COVARIANCE, "--pov-cap", cap, "--cost-budget-bps", budget,
                   "--horizons", "1,3", "--json") for cap, budget in (("20%", "50bps"), ("0.2", "50"))]
    assert profile[0].exit_code == 0 and json.loads(profile[0].stdout) == json.loads(profile[1].stdout)
    for option, value, words in (("--risk-band", ["ninety", "1.1"], "'ninety' is not a multiple of today's risk"),
                                 ("--max-total-mi-bps", ["50bp%"], "'50bp%' is not a number of basis points"),
                                 ("--pov", ["ten"], "'ten' is not a fraction")):
        refused = runner.invoke(app, base[:-1] + [option, *value], env={"COLUMNS": "200"})
        assert refused.exit_code == 2 and words in refused.output and option in refused.output, refused.output


@pytest.mark.parametrize("text, usd", [("1,000,000,000", 1e9), ("$1e9", 1e9), ("1e9", 1e9), ("10%", None),
                                       ("250m", 2.5e8), ("1.5bn", 1.5e9), ("$1.5BN", 1.5e9), ("750k", 7.5e5),
                                       ("250MM", 2.5e8), ("1b", 1e9)])
def test_cash_as_a_spreadsheet_writes_it_or_a_percent_of_nav(text, usd):
    holdings, covariance = load_example()
    nav = Portfolio(holdings, covariance).net_value_usd
    result = CliRunner().invoke(app, ["liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", text, "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["cash_target"] == pytest.approx(usd if usd is not None else 0.1 * nav, rel=1e-12)


def test_cash_that_is_not_an_amount_is_bad_input():
    result = CliRunner().invoke(app, ["liquidate", HOLDINGS, "--cash", "a billion"])
    assert result.exit_code == 2 and "--cash 'a billion' is not an amount" in result.output


def test_cash_typed_as_a_decimal_percent_is_refused_with_the_percent_it_meant():
    """Issue 16 item 2: --cash 0.142 (14.2% typed as a decimal) sold one share of each of 28 names, exit 0."""
    result = CliRunner().invoke(app, ["liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", "0.142"])
    assert result.exit_code == 2, result.output
    assert "did you mean 14.2%?" in result.output and "--allow-small-cash" in result.output
    assert "Traceback" not in result.output
    below_a_millionth = CliRunner().invoke(app, ["liquidate", HOLDINGS, "--cash", "5000", "--json"])
    assert below_a_millionth.exit_code == 2 and json.loads(below_a_millionth.stdout)["status"] == "bad_input"
    for command in (["report", HOLDINGS, "--output", "r.html"], ["stress", HOLDINGS, "--no-max-cash"]):
        refused = CliRunner().invoke(app, command + ["--cash", "0.142"])
        assert refused.exit_code == 2 and "did you mean 14.2%?" in refused.output, refused.output


def test_small_cash_on_purpose_is_answered():
    result = CliRunner().invoke(app, ["liquidate", HOLDINGS, "--cash", "500", "--allow-small-cash", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["status"] in ("optimal", "feasible") and answer["cash_target"] == 500 and answer["cash_raised"] >= 500
    # whole shares raise more than $500: the gap is the rounded cost's, "optimal" only within the tolerance
    # (1e-6 of the cost, or under a cent)
    assert answer["gap_usd"] == pytest.approx(max(0.0, answer["cost_usd"] - answer["lower_bound_usd"]))
    assert (answer["status"] == "optimal") == (answer["gap"] <= 1e-6 or answer["gap_usd"] < 0.01)


def test_the_screen_shows_the_largest_trades_and_the_files_keep_them_all(tmp_path):
    """A book of many names (the trial's 5,000 printed 5,000 rows, most of the run's time): the screen
    shows the 40 largest trades by value and says how many more there are; --output and --json keep all."""
    from krg_liquidity import synthetic_universe
    from krg_liquidity.cli.liquidate import SCREEN_ROWS

    holdings, _ = synthetic_universe(70, n_factors=3, seed=1)
    book = tmp_path / "book.csv"
    holdings.to_csv(book, index=False)
    out = tmp_path / "trades.csv"
    shown = run("liquidate", str(book), "--cash", "30%", "--output", str(out))
    assert shown.exit_code == 0, shown.output
    trades = pd.read_csv(out)
    traded = trades[trades["shares_traded"] != 0]
    assert len(traded) > SCREEN_ROWS
    assert f"... and {len(traded) - SCREEN_ROWS} more names; the full table is in --output FILE" in shown.output
    largest = traded.loc[traded["value_traded_usd"].abs().nlargest(SCREEN_ROWS).index, "symbol"]
    smallest = traded.loc[traded["value_traded_usd"].abs().nsmallest(3).index, "symbol"]
    rows = {line.split()[1] for line in shown.output.splitlines() if line.startswith("│")}
    assert set(largest) <= rows and not set(smallest) & rows
    payload = json.loads(run("liquidate", str(book), "--cash", "30%", "--json").stdout)
    assert sum(t["shares_traded"] != 0 for t in payload["trades"]) == len(traded)


def test_a_default_pov_is_reported_only_where_it_applied(tmp_path):
    """--pov 20% on a book whose names all carry a trade time changed nothing, yet the summary said
    'default pov = 0.2 for names without their own'."""
    unused = run("liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", "1e9", "--pov", "20%")
    assert unused.exit_code == 0 and "default" not in unused.output
    holdings, _ = load_example()
    book = tmp_path / "no_trade_time.csv"
    holdings.drop(columns="TradeTime").to_csv(book, index=False)
    used = run("liquidate", str(book), "--covariance", COVARIANCE, "--cash", "1e9", "--pov", "20%")
    assert used.exit_code == 0 and "pov = 0.2 for names without their own" in used.output


@pytest.mark.parametrize(("args", "words"), [(["--risk-band", "1.1", "0.9"], "--risk-band 1.1 0.9: LO and HI need"),
                                             (["--time-limit", "0"], "--time-limit 0: give a positive number")])
def test_request_options_are_refused_in_the_command_lines_words(args, words):
    """'risk_band=(1.1, 0.9) needs ...' and 'time_limit=0.0 ... (or None for no limit)' named Python arguments."""
    result = run("liquidate", HOLDINGS, "--cash", "1e9", *args)
    assert result.exit_code == 2 and words in result.output and "None" not in result.output


@pytest.mark.parametrize("cap", ["0.005", "0.05bps"])
def test_a_total_impact_cap_below_a_tenth_of_a_bps_is_refused_with_the_cap_it_likely_meant(cap):
    """Issue 16 trial: --max-total-mi-bps 0.005 (0.5% typed as a fraction) was taken as 0.005 bps, no hint."""
    done = CliRunner().invoke(app, ["liquidate", *EXAMPLE, "--cash", "1e9", "--max-total-mi-bps", cap, "--json"])
    assert done.exit_code == 2
    payload = json.loads(done.stdout)
    assert payload["status"] == "bad_input" and payload["message"].startswith("--max-total-mi-bps")
    assert "did you mean" in payload["message"] and "0.1 bps" in payload["message"]
    with pytest.raises(krg.InputError, match="did you mean 50 bps"):
        krg.liquidate(krg.Portfolio(*krg.load_example()), 1e9, max_total_mi_bps=0.005)


def test_a_timeout_in_json_says_how_long_it_ran_and_its_budget(monkeypatch):
    """Issue 16 trial: the timeout --json object had no seconds."""
    from krg_liquidity.solve import optimize

    def out_of_time(*args):
        raise krg.SolverTimeout("the time budget (7 s) ran out in the dual stage", "dual")

    monkeypatch.setattr(optimize, "_run", out_of_time)
    done = CliRunner().invoke(app, ["liquidate", *EXAMPLE, "--cash", "1.5e9", "--risk-band", "1.0", "1.01",
                                    "--time-limit", "7", "--json"])
    payload = json.loads(done.stdout)
    assert payload["status"] == "timeout" and done.exit_code == 3
    assert payload["time_limit_s"] == 7 and payload["seconds"] >= 0
