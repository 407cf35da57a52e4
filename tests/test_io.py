"""Files in and out: the round trip liquidate -> .xlsx -> schedule / pretrade / optimize_strategy, factor-model
files, outputs by extension, whole-share rounding, and JSON for every CLI outcome."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from krg_liquidity import (
    FactorModel,
    Portfolio,
    liquidate,
    load_example,
    optimize_strategy,
    plot_basket,
    pov_schedule,
    round_trades,
    synthetic_universe,
    write_result,
)
from krg_liquidity.book.datasets import data_path
from krg_liquidity.book.read import read_table
from krg_liquidity.cli import app
from krg_liquidity.cli.liquidate import pretrade_table
from krg_liquidity.core.errors import InputFileError, UnitsWarning
from krg_liquidity.core.numbers import parse_number
from krg_liquidity.model.assumptions import attach
from krg_liquidity.model.impact import CostModel
from krg_liquidity.schedule.basket import basket_view

HOLDINGS = str(data_path("example_portfolio.csv"))
COVARIANCE = str(data_path("example_covariance.csv"))


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def answer():
    portfolio = Portfolio(*load_example())
    return portfolio, attach(liquidate(portfolio, 1e9, risk_band=(0.9, 1.1)), portfolio)


def test_answer_files_keep_the_request_and_a_formatted_summary(tmp_path):
    """The workbook held the trades and raw to_dict fields only (no risk band, caps, buys or time limit, and a
    gap of 0.00e+00 as a bare float): now a request sheet and a summary a PM reads, numbers formatted."""
    import openpyxl

    path = tmp_path / "answer.xlsx"
    result = run("liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", "1e9", "--risk-band", "0.9", "1.1",
                 "--max-total-mi-bps", "50", "--allow-buys", "--time-limit", "20", "--output", path)
    assert result.exit_code == 0, result.output
    limits = "risk band 0.9-1.1x today's risk; total impact at most 50 bps; buys allowed; time limit 20 s"
    assert f"limits         {limits}" in result.output
    sheets = pd.read_excel(path, sheet_name=None)
    request = dict(zip(sheets["request"]["key"], sheets["request"]["value"]))
    assert (request["cash_target_usd"], request["risk_band_lo"], request["risk_band_hi"]) == (1e9, 0.9, 1.1)
    assert (request["max_total_mi_bps"], request["allow_buys"], request["time_limit_s"]) == (50, "yes", 20)
    lot = sheets["request"].set_index("key").loc["lot_size"]  # "shares | 1" read as one share traded
    assert (lot["item"], lot["value"], lot["unit"]) == ("trades rounded to lots of", 1, "shares per lot (1: whole shares)")
    summary = sheets["summary"].set_index("key")
    assert summary.loc["gap_usd", "item"] == "gap to the least possible cost"
    assert summary.loc["gap_usd", "unit"] == "USD"
    assert summary.loc["limits", "value"].startswith("0 (every limit met")
    book = openpyxl.load_workbook(path)["summary"]
    formats = {book.cell(row=r, column=4).value: book.cell(row=r, column=2).number_format
               for r in range(2, book.max_row + 1)}
    assert formats["cash_raised"] == "#,##0" and formats["cost_bps"] == "0.00" and formats["risk_after"] == "0.00%"
    record = json.loads(run("liquidate", HOLDINGS, "--cash", "1e9", "--max-total-mi-bps", "50", "--json").stdout)
    assert record["request"] == {"cash_target_usd": 1e9, "risk_band": None, "max_total_mi_bps": 50.0,
                                 "allow_buys": False, "max_total_cost_bps": None, "time_limit_s": 30.0}


def test_round_trip_through_xlsx(tmp_path, answer):
    path = tmp_path / "answer.xlsx"
    result = run("liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", "1e9", "--risk-band", "0.9", "1.1",
                 "--output", path)
    assert result.exit_code == 0, result.output
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["trades", "schedule", "grid", "summary", "costs", "liquidity", "request", "assumptions"]
    summary = dict(zip(sheets["summary"]["key"], sheets["summary"]["value"]))
    assert float(summary["cash_raised"]) >= 1e9 and summary["status"] == "optimal"
    assert "parameters.a1" in set(sheets["assumptions"]["item"])
    trades = read_table(path, sheet="trades")
    np.testing.assert_array_equal(trades["shares_traded"], np.round(trades["shares_traded"]))
    from_file = pov_schedule(path, start="2026-01-05")
    from_frame = pov_schedule(trades, start="2026-01-05")
    pd.testing.assert_frame_equal(from_file, from_frame)
    totals = from_file.groupby("symbol", observed=True)["shares"].sum()
    traded = trades.set_index("symbol")["shares_traded"]
    np.testing.assert_array_equal(totals.loc[traded[traded != 0].index], traded[traded != 0])
    model = CostModel()
    cost_from_file = pretrade_table(path, model)["market_impact_usd"].sum()
    assert cost_from_file == pytest.approx(trades["cost_usd"].sum(), rel=1e-9)
    strategy = optimize_strategy(path, 1e-6)
    assert list(strategy["symbol"]) == list(trades.loc[trades["shares_traded"] != 0, "symbol"])
    pd.testing.assert_frame_equal(strategy, optimize_strategy(trades, 1e-6))
    schedule_out = tmp_path / "schedule.csv"
    assert run("schedule", path, "--output", schedule_out, "--start", "2026-01-05").exit_code == 0
    assert pd.read_csv(schedule_out)["shares"].sum() == from_file["shares"].sum()
    pretrade = run("pretrade", path)
    assert pretrade.exit_code == 0 and "Total market impact" in pretrade.output
    as_json = tmp_path / "answer.json"
    assert run("liquidate", HOLDINGS, "--covariance", COVARIANCE, "--cash", "1e9", "--risk-band", "0.9", "1.1",
               "--output", as_json).exit_code == 0
    pd.testing.assert_frame_equal(pov_schedule(as_json, start="2026-01-05"), from_file)
    pd.testing.assert_frame_equal(optimize_strategy(as_json, 1e-6), strategy)


def test_every_function_takes_a_result_or_its_trades(answer):
    portfolio, result = answer
    pd.testing.assert_frame_equal(optimize_strategy(result, 1e-6), optimize_strategy(result.trades, 1e-6))
    pd.testing.assert_frame_equal(pov_schedule(result, start="2026-01-05"),
                                  pov_schedule(result.trades, start="2026-01-05"))
    assert len(pretrade_table(result.trades, CostModel())) == int((result.trades["shares_traded"] != 0).sum())
    view = basket_view(pov_schedule(result, start="2026-01-05"), portfolio, bucket_minutes=30)
    assert plot_basket(view).axes and plot_basket(view.buckets).axes


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json", ".xlsx"])
def test_outputs_by_extension(tmp_path, answer, suffix):
    _, result = answer
    path = write_result(result, tmp_path / f"answer{suffix}")
    if suffix == ".json":
        payload = json.loads(path.read_text())
        assert payload["assumptions"]["risk_model"] == {"kind": "full covariance", "names": 28}
        assert payload["cash_raised"] == result.cash_raised
    else:
        trades = read_table(path, sheet="trades" if suffix == ".xlsx" else None)
        np.testing.assert_allclose(trades["cost_usd"], result.trades["cost_usd"], rtol=1e-12)


def test_unknown_output_extension_refused_before_solving(tmp_path):
    result = run("liquidate", HOLDINGS, "--cash", "1e9", "--output", tmp_path / "trades.txt")
    assert result.exit_code == 2 and "unknown extension '.txt'" in result.output
    assert not (tmp_path / "trades.txt").exists()


def test_rounding_keeps_the_cash_target(answer):
    _, exact = answer
    for lot in (1, 100, 1000):
        rounded = round_trades(exact, lot_size=lot)
        traded = rounded.trades["shares_traded"].to_numpy()
        before = rounded.trades["shares_before"].to_numpy()
        whole_position = np.isclose(-traded, before)
        assert np.all((traded % lot == 0) | whole_position)
        assert rounded.cash_raised >= exact.cash_target
        assert rounded.cash_raised == pytest.approx(-(traded * rounded.trades["price"]).sum(), rel=1e-12)
        assert np.all(np.abs(traded - exact.trades["shares_traded"]) < lot)
        assert rounded.rounding["cash_raised_exact"] == exact.cash_raised
        assert rounded.cost_usd == pytest.approx(rounded.trades["cost_usd"].sum(), rel=1e-12)
    assert "rounding" in round_trades(exact).summary()


def test_factor_model_files_and_workbook(tmp_path):
    holdings, model = synthetic_universe(12, n_factors=3, seed=4)
    holdings.to_csv(tmp_path / "book.csv", index=False)
    model.exposures.to_csv(tmp_path / "exposures.csv")
    model.factor_covariance.to_csv(tmp_path / "factor_cov.csv", sep=";")
    np.sqrt(model.specific_variance).rename("specific_volatility").to_frame().to_csv(tmp_path / "specific.csv")
    with pd.ExcelWriter(tmp_path / "model.xlsx") as writer:
        model.exposures.to_excel(writer, sheet_name="exposures")
        model.factor_covariance.to_excel(writer, sheet_name="factor_covariance")
        model.specific_variance.rename("specific_variance").to_frame().to_excel(writer, sheet_name="specific_variance")
    from_files = FactorModel.from_files(tmp_path / "exposures.csv", tmp_path / "factor_cov.csv",
                                        tmp_path / "specific.csv")
    from_book = FactorModel.from_files(tmp_path / "model.xlsx")
    for read in (from_files, from_book):
        np.testing.assert_allclose(read.volatility().loc[model.symbols], model.volatility(), rtol=1e-12)
    direct = liquidate(Portfolio(holdings, factor_model=model), 1e8, risk_band=(0.9, 1.1))
    for args in (["--factor-model", tmp_path / "model.xlsx"],
                 ["--factor-model", tmp_path / "exposures.csv", "--factor-covariance", tmp_path / "factor_cov.csv",
                  "--specific-variance", tmp_path / "specific.csv"]):
        result = run("liquidate", tmp_path / "book.csv", "--cash", "1e8", "--risk-band", "0.9", "1.1", "--json",
                     "--exact-shares", *args)
        assert result.exit_code == 0, result.output
        payload = json.loads(result.stdout)
        assert payload["cost_usd"] == pytest.approx(direct.cost_usd, rel=1e-9)
        assert payload["assumptions"]["risk_model"] == {"kind": "factor model", "factors": 3, "names": 12}
    pd.DataFrame([dict(book_id="f", holdings="book.csv", factor_model="model.xlsx", cash=1e8, risk_band_lo=0.9,
                       risk_band_hi=1.1)]).to_csv(tmp_path / "requests.csv", index=False)
    from krg_liquidity import run_batch

    batch = run_batch(tmp_path / "requests.csv", workers=1)
    assert batch.summary.loc[0, "cost_usd"] == pytest.approx(direct.cost_usd, rel=1e-9)


@pytest.mark.parametrize("args, status, text", [
    (["liquidate", "missing.csv", "--cash", "1e6"], "bad_input", "file not found"),
    (["liquidate", HOLDINGS, "--cash", "1e9", "--mi-code", "2"], "bad_input", "give --parameters"),
    (["liquidate", HOLDINGS, "--cash", "1e9", "--mi-date", "2024-01-01"], "bad_input", "give --parameters"),
    (["liquidate", HOLDINGS, "--cash", "-5"], "bad_input", "positive number of dollars"),
    (["liquidate", HOLDINGS, "--cash", "6e9"], "infeasible", "cannot raise"),
    (["liquidate", HOLDINGS, "--cash", "1e9", "--covariance", HOLDINGS], "bad_input", "not square"),
    (["liquidate", HOLDINGS, "--cash", "1e9", "--trade-time", "1", "--pov", "0.1"], "bad_input", "not both"),
])
def test_json_for_every_outcome(args, status, text):
    result = run(*args, "--json")
    payload = json.loads(result.stdout)
    assert payload["status"] == status and text in payload["message"]
    assert result.exit_code == 2


def test_default_strategy_and_parameter_set_are_reported(tmp_path):
    book = pd.read_csv(HOLDINGS).drop(columns="TradeTime")
    book.to_csv(tmp_path / "book.csv", index=False)
    table = tmp_path / "mi.xlsx"
    pd.DataFrame([dict(code=7, date="2024-01-02", a1=354, a2=0.55, a3=0.71, a4=0.5, a5=0, b1=0.98,
                       source="half")]).to_excel(table, index=False)
    result = run("liquidate", tmp_path / "book.csv", "--cash", "5e8", "--trade-time", "0.5", "--parameters", table,
                 "--mi-code", "7")
    assert result.exit_code == 0, result.output
    assert "I-Star code 7, 2024-01-02: a1=354" in result.output and "trade_time_days = 0.5" in result.output


def test_spreadsheet_numbers():
    assert parse_number("1,234,567.5") == 1234567.5 and parse_number("-3%") == -0.03
    assert np.isnan(parse_number("12,34")) and np.isnan(parse_number("fast")) and np.isnan(parse_number(""))


def test_workbook_with_several_sheets_names_the_one_read():
    from pathlib import Path

    book = Path(__file__).resolve().parent / "corpus" / "ok_excel_named_sheet.xlsx"
    result = run("liquidate", book, "--cash", "1e8")
    assert result.exit_code == 2 and "sheet 'Notes' of Notes, Holdings; choose another with --sheet" in result.output


def test_factor_model_with_text_cells_is_bad_input():
    from krg_liquidity import InputError

    _, model = synthetic_universe(3, n_factors=2, seed=1)
    exposures = model.exposures.astype(object)
    exposures.iloc[0, 0] = "high"
    with pytest.raises(InputError, match="exposures has cells that are not numbers"):
        FactorModel(exposures, model.factor_covariance, model.specific_variance)


def test_pretrade_refuses_percent_volatility(tmp_path):
    book = pd.read_csv(HOLDINGS)
    book["Volatility"] = book["Volatility"] * 100
    book.to_csv(tmp_path / "pct.csv", index=False)
    result = run("pretrade", tmp_path / "pct.csv")
    assert result.exit_code == 2 and "column 'volatility' is above 3" in result.output


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_csv_title_line_above_the_headers_is_skipped(tmp_path, separator):
    """A report header ("Fund X holdings as of ...") above the column headers, with or without
    separators, and a blank line: the headers are still found."""
    book = pd.read_csv(data_path("example_portfolio.csv"))
    path = tmp_path / "titled.csv"
    body = book.to_csv(index=False, sep=separator)
    for title in ("Fund X holdings as of 2026-11-20", f"Fund X holdings{separator}{separator}{separator}"):
        path.write_text(f"{title}\n\n{body}")
        read = read_table(path, what="holdings")
        assert list(read.columns) == list(book.columns) and len(read) == len(book)
        assert read["Shares"].sum() == pytest.approx(book["Shares"].sum())


def test_totals_row_is_named_as_such():
    from krg_liquidity.core.errors import BookError

    holdings, covariance = load_example()
    total = pd.DataFrame([{"Symbol": "Total"}])
    with pytest.raises(BookError, match="has a totals row, not a position for Total; fix: delete the totals row") as info:
        Portfolio(pd.concat([holdings, total], ignore_index=True), covariance)
    assert len(info.value.problems) == 1  # not also "price missing for Total", "adv missing for Total", ...


EUROPEAN_BOOK = ("Ticker;Quantity;Last Price;ADV;Vol;TradeTime\n"
                 "AAA;207.500;12,50;1.500.000;24,1%;1\n"
                 "BBB;1.000;8,25;900.000;18%;1\n"
                 "CCC;12.000;100;2.000.000;0,2;1\n")


def test_european_separators_are_read_from_the_files_own_numbers(tmp_path):
    """Issue 16 item 12: '207.500' shares in a semicolon CSV was read as 207.5."""
    path = tmp_path / "book.csv"
    path.write_text(EUROPEAN_BOOK, encoding="utf-8")
    table = read_table(path)
    assert table["Quantity"].tolist() == [207_500.0, 1_000.0, 12_000.0]
    assert table["Last Price"].tolist() == [12.5, 8.25, 100.0]
    assert table["ADV"].tolist() == [1_500_000.0, 900_000.0, 2_000_000.0]
    assert table["Vol"].tolist() == pytest.approx([0.241, 0.18, 0.2])
    quoted = tmp_path / "quoted.csv"  # comma separated, decimal commas quoted
    quoted.write_text('symbol,shares,price\nAAA,207.500,"12,50"\nBBB,1.000,"8,25"\n', encoding="utf-8")
    assert read_table(quoted)["shares"].tolist() == [207_500.0, 1_000.0]
    mixed = tmp_path / "mixed.csv"  # both conventions: no guess, the file is refused naming a cell of each
    mixed.write_text("symbol;shares;price\nAAA;1,250.5;12,5\nBBB;1000;8\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"mixes decimal commas \('12,5' in column price\) and decimal points "
                                             r"\('1,250\.5' in column shares\)"):
        read_table(mixed)


def test_fractional_holdings_among_whole_ones_are_warned(tmp_path):
    """Without evidence of the convention, '207.500' is 207.5: the book says so by column, name and fix."""
    path = tmp_path / "book.csv"
    path.write_text("Ticker;Quantity;Last Price;ADV;Vol;TradeTime\nAAA;207.500;12;1500000;0.24;1\n"
                    "BBB;1000;8;900000;0.18;1\nCCC;12000;100;2000000;0.2;1\n", encoding="utf-8")
    with pytest.warns(UnitsWarning) as caught:
        Portfolio(read_table(path))
    text = " ".join(str(w.message) for w in caught)
    assert "column 'shares' is fractional for AAA (207.5)" in text and "207500" in text
    result = run("liquidate", path, "--cash", "1%", "--json")
    assert result.exit_code == 0, result.output
    assert any("AAA" in w and "thousands separator" in w for w in json.loads(result.stdout)["assumptions"]["warnings"])
    whole = tmp_path / "whole.csv"
    whole.write_text(EUROPEAN_BOOK, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitsWarning)
        Portfolio(read_table(whole))


def test_a_csv_mixing_decimal_commas_and_points_says_so(tmp_path):
    """Issue 16 trial item 20: a semicolon file with 12,50 next to 45.10 only said '12,50' was not a number."""
    path = tmp_path / "eu3.csv"
    path.write_text("Symbol;Shares;Price;ADV;Volatility;TradeTime\nAAA;207.500;12,50;1500000;0,241;1\n"
                    "BBB;1000;45.10;2000000;0.241;1\n")
    with pytest.raises(InputFileError, match=r"holdings file eu3\.csv mixes decimal commas \('12,50' in column "
                                             r"Price\) and decimal points \('45\.10' in column Price\)"):
        read_table(path, what="holdings")


def test_fractional_shares_warning_needs_two_whole_holdings_as_documented(tmp_path):
    """Issue 16 trial item 24: the README states the rule; a two-name book with one 207.500 is not warned."""
    rows = "AAA;207.500;12;1500000;0.24;1\nBBB;1000;8;900000;0.18;1\n"
    two, three = tmp_path / "two.csv", tmp_path / "three.csv"
    two.write_text("Ticker;Quantity;Last Price;ADV;Vol;TradeTime\n" + rows, encoding="utf-8")
    three.write_text("Ticker;Quantity;Last Price;ADV;Vol;TradeTime\n" + rows + "CCC;12000;100;2000000;0.2;1\n",
                     encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnitsWarning)
        Portfolio(read_table(two))
    with pytest.warns(UnitsWarning, match="column 'shares' is fractional for AAA"):
        Portfolio(read_table(three))
