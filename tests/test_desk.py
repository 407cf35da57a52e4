"""The desk through Streamlit's own test harness (AppTest): example, upload, solve, errors, downloads."""

import inspect
import io

import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("streamlit", reason="the desk needs the [app] extra (Streamlit)")
from streamlit.testing.v1 import AppTest  # noqa: E402

import krg_liquidity as krg  # noqa: E402
from krg_liquidity.book.datasets import data_path  # noqa: E402
from krg_liquidity.cli import app  # noqa: E402
from krg_liquidity.core.errors import SolverTimeout  # noqa: E402
from krg_liquidity.desk import PAGE  # noqa: E402
from krg_liquidity.desk import solve as desk_solve  # noqa: E402
from krg_liquidity.desk.inputs import DeskLimits, Upload, load_book  # noqa: E402

LIMITS = {"risk_band": (0.9, 1.1), "max_total_mi_bps": 50.0}
BAD_BOOK = b"Ticker,Quantity,Last Price,Vol,TradeTime\nAAA,1000,10,24.1,1\nBBB,2000,20,18,1\n"


def page() -> AppTest:
    return AppTest.from_file(str(PAGE), default_timeout=90)


def texts(at: AppTest, kind: str) -> list[str]:
    return [element.value for element in getattr(at, kind)]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def upload_mode(at: AppTest) -> AppTest:
    at.radio(key="source").set_value("Upload my book").run()
    return at


@pytest.mark.slow
def test_example_solve_matches_the_api_and_offers_downloads():
    at = page().run()
    assert not at.exception
    assert any("Book OK" in t and "28 names" in t for t in texts(at, "success"))
    book = krg.Portfolio(*krg.load_example())
    assert metrics(at)["Most cash these limits allow (whole shares)"] == f"${krg.tradable_cash(book, 1, **LIMITS):,.0f}"
    at.button(key="solve").click().run()
    assert not at.exception and not at.error
    expected = krg.round_trades(krg.liquidate(book, 1e9, **LIMITS))
    shown = metrics(at)
    assert shown["Cash raised"] == f"${expected.cash_raised:,.0f}"
    assert shown["Impact cost"] == f"${expected.cost_usd:,.0f}"
    assert shown["Cost (bps of cash)"] == f"{expected.cost_bps:.2f}"
    status = next(c.value for c in at.caption if c.value.startswith("Status "))
    assert expected.status == "optimal" and f"Status optimal, {expected.gap_text()};" in status  # the API's words
    assert "max violation 0 (every limit met" in status and "e-" not in status
    assert [b.label for b in at.get("download_button")] == [
        "Download trades.csv", "Download schedule.csv", "Download report.html", "Download report.xlsx"]
    table = at.dataframe[0].value
    assert len(table) == 28 and set(table["limit_reached"]) >= {"participation cap", "min weight"}
    assert table["value_traded_usd"].sum() == pytest.approx(-expected.cash_raised, rel=1e-12)
    comparison = at.dataframe[1].value  # the Compare tab
    assert list(comparison["method"]) == ["optimized", "pro rata", "most liquid first"]  # words on screen
    assert comparison["cost_usd"].iloc[0] == pytest.approx(expected.cost_usd, rel=1e-12)


def test_downloads_hold_the_answer():
    book = krg.Portfolio(*krg.load_example())
    outcome = desk_solve.run(book, desk_solve.DeskRequest(1e9, (0.9, 1.1), 50.0))
    files = desk_solve.downloads(outcome.report)
    result = outcome.report.result
    trades = pd.read_csv(io.BytesIO(files["trades.csv"][0]))
    assert trades["value_traded_usd"].sum() == pytest.approx(-result.cash_raised, rel=1e-12)
    schedule = pd.read_csv(io.BytesIO(files["schedule.csv"][0]))
    assert schedule["shares"].sum() == result.trades["shares_traded"].sum()
    assert f"{result.cash_raised:,.0f}" in files["report.html"][0].decode()
    summary = pd.read_excel(io.BytesIO(files["report.xlsx"][0]), sheet_name="summary")
    assert float(summary.set_index("key").loc["cost_usd", "value"]) == pytest.approx(result.cost_usd)


def test_bad_upload_lists_every_problem_and_tabs_do_not_mix():
    at = upload_mode(page().run())
    at.file_uploader(key="holdings").upload("my book.csv", BAD_BOOK, "text/csv")
    at.run()
    errors = " ".join(texts(at, "error"))
    assert "my book.csv" in errors and "problem(s) to fix" in errors
    assert "'adv'" in errors and "volatility" in errors and "percent" in errors  # both problems, in words
    assert not at.button  # nothing runs before the book is fixed
    other = page().run()  # a second tab: its own session, the example book, no error
    assert not other.error and any("Book OK" in t for t in texts(other, "success"))


@pytest.mark.slow
def test_uploaded_book_and_covariance_solve_by_percent_of_nav():
    at = upload_mode(page().run())
    at.file_uploader(key="holdings").upload("book.csv", data_path("example_portfolio.csv").read_bytes(), "text/csv")
    at.radio(key="risk_kind").set_value("Covariance").run()
    at.file_uploader(key="risk_file").upload("cov.csv", data_path("example_covariance.csv").read_bytes(), "text/csv")
    at.run()
    assert any("book.csv + covariance cov.csv" in t for t in texts(at, "success"))
    at.radio(key="cash_unit").set_value("% of NAV").run()
    at.number_input(key="cash_pct").set_value(5.0).run()
    at.button(key="solve").click().run()
    assert not at.exception and not at.error
    raised = float(metrics(at)["Cash raised"].strip("$").replace(",", ""))
    assert raised == pytest.approx(0.05 * 9_999_999_989, rel=1e-5)


def test_impossible_request_gives_most_cash_and_blocking_limits():
    at = page().run()
    at.text_input(key="cash_usd").input("6bn").run()
    at.button(key="solve").click().run()
    assert not at.exception
    errors = " ".join(texts(at, "error"))
    assert errors.startswith("infeasible: cannot raise $6,000,000,000")
    assert metrics(at)["Most cash raisable within the limits"].startswith("$1,621,")
    # one figure for the most cash on the page, not the explanation's floor-free bound next to it
    shown = metrics(at)["Most cash these limits allow (whole shares)"]
    assert metrics(at)["Most cash raisable within the limits"] == shown
    assert f"in whole shares is {shown}" in errors  # the headline gives the same figure
    assert len(at.table) == 1  # the blocking limits
    blocking = at.table[0].value
    assert "participation cap (ub_max_pct_adv)" in list(blocking["limit"]) and "direction" not in list(blocking["limit"])
    # the desk's default band has a floor, which the re-solve linearizes: the gives are estimates
    assert all(give.startswith(("up to about $", "about $")) or "bps" in give for give in blocking["would have to give"])
    assert "Blocking limits" not in errors  # the table is shown once, as a table


def test_timeout_is_a_message_with_the_most_cash(monkeypatch):
    def out_of_time(*args, **kwargs):
        raise SolverTimeout("the time budget ran out in stage 'dual' before any verified answer", "dual")

    monkeypatch.setattr(desk_solve, "liquidate", out_of_time)
    at = page().run()
    at.button(key="solve").click().run()
    assert not at.exception
    assert " ".join(texts(at, "error")).startswith("timeout: the time budget ran out")
    assert metrics(at)["Most cash raisable within the limits"].startswith("$1,621,")


def test_server_path_in_the_address_is_refused():
    at = page()
    at.query_params["holdings"] = "/etc/passwd"
    at.run()
    shown = " ".join(texts(at, "error") + texts(at, "markdown") + texts(at, "success"))
    assert "Refused" in shown and "root:" not in shown


def test_oversized_upload_is_refused(monkeypatch):
    monkeypatch.setenv("KRG_DESK_MAX_UPLOAD_MB", "1")
    at = upload_mode(page().run())
    at.file_uploader(key="holdings").upload("big.csv", BAD_BOOK + b"0" * (2 << 20), "text/csv")
    at.run()
    assert "big.csv is 2.0 MB; this desk takes files up to 1 MB" in " ".join(texts(at, "error"))


def test_inputs_name_only_the_users_file_and_cap_the_book():
    wrong = load_book(Upload("book.xlsx", BAD_BOOK))  # a CSV named .xlsx
    assert wrong.problems == ["holdings file book.xlsx is not a readable .xlsx workbook; save it from Excel as "
                              ".xlsx, or export a CSV"]
    sneaky = load_book(Upload("../../etc/passwd", b"root:x:0:0"))
    assert not sneaky.ok and "unknown extension" in sneaky.problems[0] and "root:x" not in sneaky.problems[0]
    big = load_book(Upload("book.csv", data_path("example_portfolio.csv").read_bytes()),
                    limits=DeskLimits(max_names=10))
    assert big.problems == ["holdings book.csv has 28 rows; this desk takes books of up to 10 names"]


def test_app_command_binds_localhost_by_default(monkeypatch):
    seen = {}

    def fake_exec(path, command, env):  # the server replaces the CLI process: no child outlives a kill
        seen.update(path=path, command=command, env=env)

    monkeypatch.setattr("krg_liquidity.cli.app_command.os.execve", fake_exec)
    run = CliRunner().invoke(app, ["app", "--port", "8765", "--max-upload-mb", "5"])
    assert run.exit_code == 0, run.output
    command = " ".join(seen["command"])
    assert "--server.address 127.0.0.1" in command and "--server.port 8765" in command
    assert "--server.maxUploadSize 5" in command and "--server.enableStaticServing false" in command
    assert seen["env"]["KRG_DESK_MAX_UPLOAD_MB"] == "5"


@pytest.mark.slow
def test_factor_model_workbook_upload(tmp_path):
    holdings, model = krg.synthetic_universe(40, n_factors=3, seed=2)
    path = tmp_path / "model.xlsx"
    with pd.ExcelWriter(path) as writer:
        model.exposures.rename_axis("symbol").to_excel(writer, sheet_name="exposures")
        model.factor_covariance.rename_axis("factor").to_excel(writer, sheet_name="factor_covariance")
        model.specific_variance.rename("specific_variance").rename_axis("symbol").to_excel(
            writer, sheet_name="specific_variance")
    book = load_book(Upload("book.csv", holdings.to_csv(index=False).encode()),
                     factor_model=Upload("model.xlsx", path.read_bytes()))
    assert book.ok, book.problems
    assert book.portfolio.factor_model.exposures.shape == (40, 3)
    outcome = desk_solve.run(book.portfolio, desk_solve.DeskRequest(0.05 * book.portfolio.net_value_usd, (0.95, 1.05)))
    assert outcome.success and outcome.report.result.risk_after is not None
    capped = load_book(Upload("book.csv", holdings.to_csv(index=False).encode()),
                       factor_model=Upload("model.xlsx", path.read_bytes()), limits=DeskLimits(max_factors=2))
    assert capped.problems == ["factor model model.xlsx has 3 factors; this desk takes up to 2"]


def test_an_unexpected_error_is_a_message_not_a_traceback(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("something nobody planned for")

    monkeypatch.setattr(desk_solve, "run", broken)
    at = page().run()
    at.button(key="solve").click().run()
    assert not at.exception
    assert texts(at, "error") == ["Unexpected error (a bug; please report it with the input): RuntimeError: "
                                  "something nobody planned for"]


def test_tables_are_formatted_for_reading():
    from krg_liquidity.desk.views import formats
    from krg_liquidity.schedule.pov_vwap import SCHEDULE_COLUMNS
    from krg_liquidity.whatif.rules import COMPARE_COLUMNS

    frame = pd.DataFrame(columns=list(COMPARE_COLUMNS) + list(SCHEDULE_COLUMNS) + ["market_impact_usd", "trade_time_days"])
    found = formats(frame)
    assert found["cost_usd"] == found["shares"] == found["market_impact_usd"] == "{:,.0f}"
    assert found["cost_bps"] == found["extra_cost_bps"] == found["trade_time_days"] == "{:.2f}"
    assert found["risk_after"] == found["pov"] == found["fraction_done"] == "{:.2%}"
    assert "max_violation" not in found and "symbol" not in found and "message" not in found
    assert "e}" not in "".join(found.values())  # no scientific notation on a screen


def test_percent_of_nav_at_or_above_100_gets_the_solvers_message():
    at = page().run()
    at.radio(key="cash_unit").set_value("% of NAV").run()
    at.number_input(key="cash_pct").set_value(150.0).run()
    assert not at.exception and any("150.00% of NAV" in c.value for c in at.caption)  # the value typed is used
    at.button(key="solve").click().run()
    assert not at.exception
    errors = " ".join(texts(at, "error"))
    assert errors.startswith("infeasible: cannot raise $14,999,999,9") or "net value" in errors, errors


@pytest.mark.slow
def test_most_cash_shown_typed_back_is_raised_in_whole_shares():
    """At the exact most cash, 25 participation caps bind at fractions of a share, so whole shares fell
    $1,562 short of the figure the desk showed (issue 16 trial A3): the figure shown is now the whole-share
    most cash, and typed back it is raised with every cap kept."""
    at = page().run()
    shown = metrics(at)["Most cash these limits allow (whole shares)"]
    at.text_input(key="cash_usd").input(shown).run()
    at.button(key="solve").click().run()
    assert not at.exception and not at.error, texts(at, "error")
    assert "short" not in " ".join(texts(at, "warning"))

    def number(text):
        return float(text.strip("$").replace(",", ""))

    raised = number(metrics(at)["Cash raised"])
    assert number(shown) <= raised < number(shown) * (1 + 1e-5)
    book = krg.Portfolio(*krg.load_example())
    assert number(shown) < krg.max_cash(book, **LIMITS)  # below the exact (fractional-share) figure
    rounded = krg.round_trades(krg.liquidate(book, number(shown), **LIMITS))
    traded = rounded.trades["shares_traded"].abs().to_numpy()
    assert rounded.success and (traded <= book.array("ub_max_pct_adv") * book.array("adv") + 1e-9).all()


def test_switching_the_cash_unit_keeps_the_amount():
    at = page().run()
    at.text_input(key="cash_usd").input("600m").run()
    at.radio(key="cash_unit").set_value("% of NAV").run()
    assert not at.exception
    assert any("asking $600,000,000" in c.value for c in at.caption)  # the same cash, now as a percent
    at.radio(key="cash_unit").set_value("USD").run()
    assert at.text_input(key="cash_usd").value == "600,000,000"


@pytest.mark.slow
def test_cash_typed_as_a_decimal_percent_is_refused_until_allowed():
    """Issue 16 item 2 on the desk: 0.142 in the USD box would sell one share of each name."""
    at = page().run()
    at.text_input(key="cash_usd").input("0.142").run()
    assert not at.exception
    assert any("did you mean 14.2%?" in e and "Allow a small cash target" in e for e in texts(at, "error"))
    at.button(key="solve").click().run()
    assert " ".join(texts(at, "error")).startswith("bad_input: Cash to raise 0.142")
    assert "Cash raised" not in metrics(at)
    at.text_input(key="cash_usd").input("1.5bn").run()
    assert any("asking $1,500,000,000" in c.value for c in at.caption)
    at.text_input(key="cash_usd").input("500").run()
    at.checkbox(key="allow_small_cash").check().run()
    at.button(key="solve").click().run()
    assert not at.error, texts(at, "error")
    assert float(metrics(at)["Cash raised"].strip("$").replace(",", "")) >= 500


def test_missing_trade_time_names_the_desks_own_box():
    """The desk's message names its sidebar box, not a command-line option."""
    holdings, _ = krg.load_example()
    data = holdings.drop(columns="TradeTime").to_csv(index=False).encode()
    book = load_book(Upload("book.csv", data))
    assert not book.ok and len(book.problems) == 1
    assert "the 'Default trade time (days)' box in the sidebar" in book.problems[0]
    assert "--trade-time" not in book.problems[0] and "fill_strategy" not in book.problems[0]
    assert load_book(Upload("book.csv", data), trade_time_days=1.0).ok


def test_the_time_limit_starts_at_the_librarys_default():
    """The sidebar's time limit starts where liquidate's does (capped by the service's most seconds)."""
    default = inspect.signature(krg.liquidate).parameters["time_limit"].default
    at = page().run()
    assert at.slider(key="time_limit").value == min(default, DeskLimits().max_seconds)
    assert desk_solve.DeskRequest("1e9").time_limit == default


def test_a_refused_book_has_no_portfolio_to_solve():
    book = load_book(Upload("book.csv", b"symbol,shares\nAAA,not a number\n"))
    assert not book.ok
    with pytest.raises(krg.InputError, match="fix these problems"):
        book.validated()


def test_per_name_limits_for_the_whole_book_reach_the_solve():
    at = page().run()
    assert not at.checkbox(key="use_max_sold_fraction").value  # off until asked for
    at.checkbox(key="use_max_sold_fraction").check().run()
    at.number_input(key="max_sold_fraction").set_value(15.0).run()
    book = krg.Portfolio(*krg.load_example())
    limits = krg.Limits(**LIMITS, max_sold_fraction=0.15)
    assert metrics(at)["Most cash these limits allow (whole shares)"] == f"${krg.tradable_cash(book, 1, limits=limits):,.0f}"
    at.button(key="solve").click().run()
    assert not at.exception and not at.error
    expected = krg.round_trades(krg.liquidate(book, 1e9, limits=limits))
    assert metrics(at)["Impact cost"] == f"${expected.cost_usd:,.0f}"
    assert expected.cost_usd > krg.liquidate(book, 1e9, **LIMITS).cost_usd * 1.05  # the limit binds


def test_the_book_shape_fields_and_the_shape_tab():
    holdings, covariance = krg.load_example()
    sectored = holdings.assign(Sector=[f"S{i % 4}" for i in range(len(holdings))])
    at = upload_mode(page().run())
    at.file_uploader(key="holdings").upload("book.csv", sectored.to_csv(index=False).encode(), "text/csv")
    at.radio(key="risk_kind").set_value("Covariance").run()
    at.file_uploader(key="risk_file").upload("cov.csv", covariance.to_csv().encode(), "text/csv")
    at.run()
    assert at.selectbox(key="group_column").value == "Sector"  # found by its name
    at.checkbox(key="use_max_group_weight_change").check().run()
    at.number_input(key="max_group_weight_change").set_value(0.5).run()
    at.checkbox(key="use_max_tracking_error").check().run()
    at.number_input(key="max_tracking_error").set_value(1.0).run()
    at.button(key="solve").click().run()
    assert not at.exception and not at.error
    book = krg.Portfolio(sectored, covariance)
    limits = krg.Limits(**LIMITS, group_column="Sector", group_limits={"max_weight_change": 0.005},
                        max_tracking_error=0.01)
    expected = krg.round_trades(krg.liquidate(book, 1e9, limits=limits))
    assert metrics(at)["Impact cost"] == f"${expected.cost_usd:,.0f}"
    shown = {frame.value.columns[0]: frame.value for frame in at.dataframe}
    groups = shown["group"]
    assert list(groups["group"]) == ["S0", "S1", "S2", "S3"]
    assert groups["weight_after"].to_numpy() == pytest.approx(expected.groups["weight_after"].to_numpy(), abs=1e-12)
    assert list(shown["book"]["book"]) == ["today", "after"]


def test_a_wrong_shape_field_is_a_message():
    book = krg.Portfolio(krg.load_example()[0])  # no risk model
    outcome = desk_solve.run(book, desk_solve.DeskRequest(1e9, max_tracking_error=0.01))
    assert outcome.status == "bad_input" and "needs a risk model" in outcome.message
    outcome = desk_solve.run(book, desk_solve.DeskRequest(1e9, max_pct_adv=20.0))
    assert outcome.status == "bad_input" and "did you mean 0.2?" in outcome.message


def test_a_taxable_account_uploads_lots_and_shows_the_tax_tab():
    import datetime

    from books import random_lots

    book = krg.Portfolio(*krg.load_example())
    lots = random_lots(book.holdings, 8)
    at = page().run()
    at.file_uploader(key="lots_file").upload("lots.csv", lots.to_csv(index=False).encode(), "text/csv").run()
    at.date_input(key="as_of").set_value(datetime.date(2026, 12, 1)).run()
    at.selectbox(key="netting").set_value(next(k for k in at.selectbox(key="netting").options if k.startswith("US")))
    at.run()
    assert any(f"lots.csv: {len(lots)} lots read" in c for c in texts(at, "caption"))
    at.button(key="solve").click().run()
    assert not at.exception and not at.error
    assert any("keeps its ceiling only (1.1x" in w for w in texts(at, "warning"))  # said, not silently dropped
    rates = krg.TaxRates(0.37, 0.238, as_of="2026-12-01", netting="us")
    expected = krg.round_trades(krg.liquidate(book, 1e9, risk_band=(0.0, 1.1), max_total_mi_bps=50.0, lots=lots,
                                              tax=rates))
    shown = metrics(at)
    assert shown["Capital-gains tax"] == f"${expected.tax_usd:,.0f}"
    assert shown["All-in trading cost"] == f"${expected.total_cost_usd:,.0f}"
    rules = next(frame.value for frame in at.dataframe if frame.value.columns[0] == "rule")
    assert "the optimizer's lots" in list(rules["rule"]) and "highest basis first (HIFO)" in list(rules["rule"])


def test_lots_that_do_not_fit_the_book_are_listed_and_stop_the_solve():
    from books import random_lots

    book = krg.Portfolio(*krg.load_example())
    lots = random_lots(book.holdings, 9).iloc[1:]  # one lot missing: its position is not covered
    at = page().run()
    at.file_uploader(key="lots_file").upload("lots.csv", lots.to_csv(index=False).encode(), "text/csv").run()
    sidebar_errors = " ".join(texts(at, "error"))
    assert "lots.csv: 1 problem(s) to fix" in sidebar_errors and "do not add up" in sidebar_errors
    at.button(key="solve").click().run()
    assert not at.exception
    assert any(e.startswith("bad_input: tax lots lots.csv: fix these problems") for e in texts(at, "error"))
    at.checkbox(key="unknown_basis").check().run()  # the way out the message names
    assert not any("problem(s) to fix" in e for e in texts(at, "error"))
