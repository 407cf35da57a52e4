"""The batch engine: bad books isolated, durability under a kill, Dask, exit codes."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import krg_liquidity as krg
from krg_liquidity import InputError, Portfolio, liquidate, load_example, read_requests, run_batch
from krg_liquidity.batch.run import BatchRequestError
from krg_liquidity.cli import app


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    folder = tmp_path_factory.mktemp("batch")
    holdings, covariance = load_example()
    holdings.to_csv(folder / "book.csv", index=False)
    holdings.to_parquet(folder / "book.parquet", index=False)
    covariance.to_csv(folder / "cov.csv")
    holdings.assign(Price=np.where(holdings.Symbol == "IBM", np.nan, holdings.Price)).to_csv(folder / "bad.csv",
                                                                                             index=False)
    return folder


def write_requests(folder, rows, name="requests.csv"):
    path = folder / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def good_rows(count, start=0):
    return [dict(book_id=f"book {i}/x", holdings="book.csv" if i % 2 else "book.parquet", covariance="cov.csv",
                 cash=2e8 + 1e7 * i, risk_band_lo=0.9 if i % 3 == 0 else np.nan,
                 risk_band_hi=1.1 if i % 3 == 0 else np.nan) for i in range(start, start + count)]


def test_bad_and_infeasible_books_do_not_stop_the_others(workspace):
    rows = good_rows(4) + [dict(book_id="bad", holdings="bad.csv", covariance="cov.csv", cash=1e8),
                           dict(book_id="huge", holdings="book.csv", covariance="cov.csv", cash=6e9)]
    result = run_batch(write_requests(workspace, rows), workspace / "out1", workers=2)
    summary = result.summary.set_index("book_id")
    assert list(result.summary["book_id"]) == [r["book_id"] for r in rows]
    assert summary.loc["bad", "status"] == "bad_input" and "IBM" in summary.loc["bad", "error"]
    assert "Columns (headers match" not in summary.loc["bad", "error"]  # the problem, not the whole column table
    assert summary.loc["huge", "status"] == "infeasible" and "cannot raise" in summary.loc["huge", "error"]
    assert result.exit_code == 3 and len(result.failed) == 2
    holdings, covariance = load_example()
    direct = liquidate(Portfolio(holdings, covariance), 2e8 + 1e7 * 1)
    assert summary.loc["book 1/x", "cost_usd"] == pytest.approx(direct.cost_usd, rel=1e-12)
    on_disk = pd.read_parquet(workspace / "out1" / "summary.parquet")
    pd.testing.assert_frame_equal(on_disk, result.summary)
    trades = pd.read_parquet(workspace / "out1" / "trades.parquet")
    assert set(trades["book_id"]) == {f"book {i}/x" for i in range(4)}
    assert len(trades) == 4 * 28


def test_dataframes_in_memory():
    holdings, covariance = load_example()
    requests = pd.DataFrame({"book_id": ["a", "b"], "holdings": [holdings, holdings], "covariance": [covariance, None],
                             "cash": [1e8, 2e8], "allow_buys": ["false", "true"]})
    result = run_batch(requests, workers=1)
    assert list(result.summary["status"]) == ["optimal", "optimal"]
    assert result.exit_code == 0


def test_every_problem_of_a_requests_file_is_listed_at_once(workspace):
    rows = good_rows(3)
    rows[0].update(cash=-1)
    rows[1].update(time_limit="soon", allow_buys="maybe")
    rows[2].update(risk_band_lo=0.9, lot_size=2.5, covarance="cov.csv")  # and a misspelt column
    path = write_requests(workspace, rows, "many_problems.csv")
    with pytest.raises(BatchRequestError) as info:
        read_requests(path)
    text = str(info.value)
    assert text.startswith("the requests have 6 problems to fix:") and "unknown request column(s) covarance" in text
    for part in ("'cash' must be a positive number of dollars for books book 0/x", "'time_limit' must be a number",
                 "'allow_buys' must be true/false", "both risk_band_lo and risk_band_hi", "'lot_size' must be a whole"):
        assert part in text, part


@pytest.mark.parametrize("change, message", [
    (lambda rows: [{k: v for k, v in r.items() if k != "cash"} for r in rows], "missing cash"),
    (lambda rows: rows + [rows[0]], "repeated: book 0/x"),
    (lambda rows: [dict(rows[0], cash=-1)], "'cash' must be a positive"),
    (lambda rows: [dict(rows[0], risk_band_lo=0.9, risk_band_hi=np.nan)], "both risk_band_lo and risk_band_hi"),
    (lambda rows: [dict(rows[0], time_limit=0)], "'time_limit' must be a positive"),
])
def test_bad_request_files_rejected_before_work(workspace, change, message):
    path = write_requests(workspace, change(good_rows(2)), "bad_requests.csv")
    with pytest.raises(BatchRequestError, match=message):
        read_requests(path)
    result = CliRunner().invoke(app, ["batch", str(path), "--output", str(workspace / "never")])
    assert result.exit_code == 2 and message.split(":")[0] in result.output
    assert not (workspace / "never").exists()


def test_time_limit_per_book_and_failures_as_rows(workspace):
    rows = [dict(book_id="fast", holdings="book.csv", covariance="cov.csv", cash=1e9, time_limit=5),
            dict(book_id="floor", holdings="book.csv", covariance="cov.csv", cash=1e9, risk_band_lo=1.01,
                 risk_band_hi=1.05, time_limit=5),
            dict(book_id="unreachable", holdings="book.csv", covariance="cov.csv", cash=1e9, risk_band_lo=1.6,
                 risk_band_hi=10.0)]
    requests = read_requests(write_requests(workspace, rows, "timed.csv"))
    assert [r.time_limit for r in requests] == [5.0, 5.0, 30.0]
    result = run_batch(write_requests(workspace, rows, "timed.csv"), workers=1)
    summary = result.summary.set_index("book_id")
    assert summary.loc["fast", "status"] == "optimal" and summary.loc["floor", "status"] == "optimal"
    assert summary.loc["floor", "method"] == "dual+convex-concave"
    assert summary.loc["unreachable", "status"] == "infeasible"
    assert "risk floor cannot be met" in summary.loc["unreachable", "error"]


def test_cli_exit_codes(workspace):
    ok = write_requests(workspace, good_rows(3), "ok.csv")
    result = CliRunner().invoke(app, ["batch", str(ok), "--output", str(workspace / "out_ok"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "3 of 3 books solved" in result.output
    mixed = write_requests(workspace, good_rows(1) + [dict(book_id="bad", holdings="bad.csv", covariance="cov.csv",
                                                           cash=1e8)], "mixed.csv")
    result = CliRunner().invoke(app, ["batch", str(mixed), "--output", str(workspace / "out_mixed")])
    assert result.exit_code == 3 and "Failed books" in result.output


@pytest.mark.slow
def test_kill_and_resume_loses_nothing_and_duplicates_nothing(workspace):
    rows = good_rows(120)
    path = write_requests(workspace, rows, "many.csv")
    out = workspace / "out_kill"
    command = [sys.executable, "-m", "krg_liquidity", "batch", str(path), "--output", str(out), "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parts = out / "parts"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(parts.glob("*.summary.parquet"))) < 10:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished_before = len(list(parts.glob("*.summary.parquet")))
    assert 10 <= finished_before < len(rows), "the kill must land in the middle of the run"
    assert not (out / "summary.parquet").exists()
    resumed = run_batch(path, out, workers=2, resume=True)
    assert resumed.skipped == finished_before
    summary = pd.read_parquet(out / "summary.parquet")
    assert list(summary["book_id"]) == [r["book_id"] for r in rows]
    assert summary["book_id"].is_unique and (summary["status"] == "optimal").all()
    trades = pd.read_parquet(out / "trades.parquet")
    assert len(trades) == 28 * len(rows) and not trades.duplicated(["book_id", "symbol"]).any()
    clean = run_batch(path, workers=2)
    np.testing.assert_allclose(summary["cost_usd"], clean.summary["cost_usd"], rtol=1e-12)


@pytest.mark.slow
def test_dask_cluster_matches_local(workspace):
    distributed = pytest.importorskip("distributed")
    path = write_requests(workspace, good_rows(6) + [dict(book_id="bad", holdings="bad.csv", covariance="cov.csv",
                                                          cash=1e8)], "dask.csv")
    local = run_batch(path, workers=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = run_batch(path, workspace / "out_dask", scheduler=cluster.scheduler_address)
    assert remote.engine.startswith("dask")
    pd.testing.assert_frame_equal(remote.summary.drop(columns="seconds"), local.summary.drop(columns="seconds"))
    assert os.path.exists(workspace / "out_dask" / "trades.parquet")


def test_resume_runs_failed_books_again(workspace, tmp_path):
    holdings, covariance = load_example()
    covariance.to_csv(tmp_path / "cov.csv")
    holdings.to_csv(tmp_path / "ok.csv", index=False)
    rows = [dict(book_id="ok", holdings="ok.csv", covariance="cov.csv", cash=1e8),
            dict(book_id="late", holdings="late.csv", covariance="cov.csv", cash=1e8),
            dict(book_id="huge", holdings="ok.csv", covariance="cov.csv", cash=6e9)]
    path = write_requests(tmp_path, rows, "requests.csv")
    first = run_batch(path, tmp_path / "out", workers=1).summary.set_index("book_id")["status"]
    assert dict(first) == {"ok": "optimal", "late": "bad_input", "huge": "infeasible"}
    holdings.to_csv(tmp_path / "late.csv", index=False)  # the user fixes the missing file
    again = run_batch(path, tmp_path / "out", workers=1, resume=True)
    assert again.skipped == 2  # solved and proven impossible are settled; the bad book runs again
    assert dict(again.summary.set_index("book_id")["status"]) == {"ok": "optimal", "late": "optimal",
                                                                   "huge": "infeasible"}


def test_a_missing_trade_time_in_batch_points_to_the_requests_file(workspace):
    holdings, _ = load_example()
    holdings.drop(columns="TradeTime").to_csv(workspace / "no_time.csv", index=False)
    path = write_requests(workspace, [dict(book_id="t", holdings="no_time.csv", covariance="cov.csv", cash=1e8)],
                          "no_time.csv.requests.csv")
    error = run_batch(path, workspace / "out_time", workers=1).summary.iloc[0]["error"]
    assert "requests file's trade_time or pov column" in error and "--trade-time" not in error


def test_excel_cash_cell_formatted_as_a_percent_is_a_percent_of_the_book(workspace):
    """Issue 16 trial item 10: a cash cell typed as 10% in Excel (0.1 in a '0%' format) was read as $0.10."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["book_id", "holdings", "covariance", "cash", "pov"])
    for book_id, cash, cash_format in (("pct", 0.1, "0%"), ("half", 0.025, "0.0%"), ("usd", 2.5e8, "#,##0")):
        sheet.append([book_id, "book.csv", "cov.csv", cash, 0.1])
        sheet.cell(sheet.max_row, 4).number_format = cash_format
        sheet.cell(sheet.max_row, 5).number_format = "0%"
    path = workspace / "percent_cash.xlsx"
    workbook.save(path)
    requests = {r.book_id: r for r in read_requests(path)}
    assert (requests["pct"].cash, requests["half"].cash, requests["usd"].cash) == ("10%", "2.5%", "250000000")
    assert requests["pct"].pov == 0.1  # a number column reads the same fraction either way
    summary = run_batch(path, workspace / "out_percent_cash", workers=1).summary.set_index("book_id")
    nav = Portfolio(*load_example()).net_value_usd
    assert summary.loc["pct", "cash_target"] == pytest.approx(0.1 * nav, rel=1e-12)
    assert summary.loc["pct", "status"] == "optimal" and summary.loc["usd", "cash_target"] == 2.5e8


def test_cash_as_the_cli_reads_it_and_small_cash_refused_per_book(workspace):
    """Issue 16 item 1: a cash of 10% was solved for $0.10 (status optimal, counted as solved)."""
    rows = [dict(book_id="pct", holdings="book.csv", cash="10%"), dict(book_id="short", holdings="book.csv", cash="250m"),
            dict(book_id="decimal", holdings="book.csv", cash="0.142"),
            dict(book_id="small", holdings="book.csv", cash="500", allow_small_cash="true")]
    path = write_requests(workspace, rows, "cash_forms.csv")
    nav = Portfolio(*load_example()).net_value_usd
    result = run_batch(path, workspace / "out_cash", workers=1)
    summary = result.summary.set_index("book_id")
    assert summary.loc["pct", "status"] == "optimal"
    assert summary.loc["pct", "cash_target"] == pytest.approx(0.1 * nav, rel=1e-12)
    assert summary.loc["pct", "cash_raised"] == pytest.approx(0.1 * nav, rel=1e-9)
    assert summary.loc["short", "cash_target"] == 2.5e8
    assert summary.loc["decimal", "status"] == "bad_input"
    assert "did you mean 14.2%?" in summary.loc["decimal", "error"] and ("set the allow_small_cash column to true for this row"
                                                                 in summary.loc["decimal", "error"])
    assert summary.loc["small", "status"] == "optimal" and summary.loc["small", "cash_raised"] == pytest.approx(500, rel=1e-9)
    assert result.exit_code == 3 and list(result.failed["book_id"]) == ["decimal"]
    shown = CliRunner().invoke(app, ["batch", str(path), "--output", str(workspace / "out_cash_cli"), "--workers", "1"])
    assert shown.exit_code == 3 and "3 of 4 books solved" in shown.output, shown.output


def test_two_workers_end_quietly_and_workers_below_one_are_refused(workspace):
    """A successful run with a pool prints nothing on stderr (no worker tracebacks at shutdown)."""
    path = write_requests(workspace, good_rows(3), "quiet.csv")
    command = [sys.executable, "-m", "krg_liquidity", "batch", str(path), "--output", str(workspace / "out_quiet"),
               "--workers", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr
    for workers in ("0", "-2"):
        result = CliRunner().invoke(app, ["batch", str(path), "--output", str(workspace / "out_w"), "--workers",
                                          workers])
        assert result.exit_code == 2 and "--workers" in result.output
    with pytest.raises(InputError, match="'workers' is 0"):
        run_batch(path, workers=0)


def test_an_output_that_is_a_file_is_refused_before_work(workspace):
    path = write_requests(workspace, good_rows(1), "one.csv")
    taken = workspace / "taken.txt"
    taken.write_text("not a folder")
    result = CliRunner().invoke(app, ["batch", str(path), "--output", str(taken), "--workers", "1"])
    assert result.exit_code == 2 and "is a file; give a folder" in result.output
    result = CliRunner().invoke(app, ["batch", str(path), "--output", str(taken / "sub"), "--workers", "1"])
    assert result.exit_code == 2 and "is a file, not a folder" in result.output
    assert taken.read_text() == "not a folder"


def test_caps_and_bands_are_read_as_the_cli_reads_them(workspace):
    """A max_total_mi_bps cell of '50bps' refused the whole requests file, although --max-total-mi-bps takes it."""
    typed = dict(book_id="typed", holdings="book.csv", covariance="cov.csv", cash="1e9", max_total_mi_bps="50bps",
                 risk_band_lo="90%", risk_band_hi="1.1x")
    plain = dict(book_id="plain", holdings="book.csv", covariance="cov.csv", cash=1e9, max_total_mi_bps=50,
                 risk_band_lo=0.9, risk_band_hi=1.1)
    requests = {r.book_id: r for r in read_requests(write_requests(workspace, [typed, plain], "typed.csv"))}
    assert requests["typed"].limits.max_total_mi_bps == requests["plain"].limits.max_total_mi_bps == 50
    assert requests["typed"].limits.risk_band == requests["plain"].limits.risk_band == (0.9, 1.1)


def test_each_row_carries_one_limits_value_checked_as_limits_checks_it(workspace):
    """A row's limits are a krg.Limits: a band out of order or a cap typed as a fraction is named with its book,
    with the table's other problems, before any work."""
    rows = [dict(book_id="upside", holdings="book.csv", covariance="cov.csv", cash=1e9, risk_band_lo=1.1,
                 risk_band_hi=0.9),
            dict(book_id="fraction", holdings="book.csv", covariance="cov.csv", cash=1e9, max_total_mi_bps=0.005),
            dict(book_id="fine", holdings="book.csv", covariance="cov.csv", cash=1e9, allow_buys="yes")]
    with pytest.raises(BatchRequestError) as caught:
        read_requests(write_requests(workspace, rows, "limits.csv"))
    text = str(caught.value)
    assert "2 problems" in text and "book upside: risk_band=(1.1, 0.9) needs 0 <= lo <= hi" in text
    assert "book fraction: max_total_mi_bps=0.005 bps is below the smallest cap" in text
    fine = read_requests(write_requests(workspace, rows[2:], "fine.csv"))[0]
    assert fine.limits == krg.Limits(allow_buys=True)


def test_an_infeasible_row_states_the_most_cash_as_that_row_trades():
    """Issue 16 trial: a row trading whole shares gave the most cash in exact shares ("at most $X can be raised"),
    a figure that, typed back in whole shares, was not checked to be raised."""
    import re

    import krg_liquidity as krg

    holdings, covariance = load_example()
    requests = pd.DataFrame({"book_id": ["whole", "exact"], "holdings": [holdings, holdings],
                             "covariance": [covariance, covariance], "cash": [6e9, 6e9],
                             "max_total_mi_bps": [50, 50], "lot_size": [1, None]})
    summary = run_batch(requests, workers=1).summary.set_index("book_id")
    book = Portfolio(holdings, covariance)
    for row, lot, words in (("whole", 1, " in whole shares"), ("exact", None, "")):
        error = summary.loc[row, "error"]
        found = re.search(rf"the most that can be raised within the limits{words} is \$([\d,]+)", error)
        assert found is not None, error
        assert float(found.group(1).replace(",", "")) == krg.tradable_cash(book, lot, max_total_mi_bps=50)


def test_books_with_tax_lots_fees_and_a_cost_cap(workspace):
    """A lots column per book (with its rates), a sell fee and an all-in cap; a book whose lots do not add up is
    its own bad_input row, and the others run."""
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from books import random_lots

    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    lots = random_lots(book.holdings, 4)
    lots.to_csv(workspace / "lots.csv", index=False)
    lots.iloc[1:].to_csv(workspace / "short_lots.csv", index=False)
    rows = [dict(book_id="taxed", holdings="book.csv", covariance="cov.csv", cash="10%", lots="lots.csv",
                 tax_short="37%", tax_long=0.238, as_of="2026-12-01", netting="us", fee_bps=0.3),
            dict(book_id="capped", holdings="book.csv", covariance="cov.csv", cash=1e9, fee_bps=0.3,
                 max_total_cost_bps="60bps"),
            dict(book_id="bad lots", holdings="book.csv", covariance="cov.csv", cash=1e9, lots="short_lots.csv",
                 tax_short=0.37, tax_long=0.238, as_of="2026-12-01")]
    result = run_batch(write_requests(workspace, rows, "taxed.csv"), workspace / "out_tax", workers=1)
    summary = result.summary.set_index("book_id")
    rates = krg.TaxRates(0.37, 0.238, as_of="2026-12-01", netting="us")
    direct = liquidate(book, "10%", lots=lots, tax=rates, fee_bps=0.3)
    assert summary.loc["taxed", "status"] == "optimal"
    assert summary.loc["taxed", "tax_usd"] == pytest.approx(direct.tax_usd, rel=1e-9, abs=1e-3)
    assert summary.loc["taxed", "total_cost_usd"] == pytest.approx(direct.total_cost_usd, rel=1e-9)
    assert summary.loc["capped", "status"] == "optimal" and np.isnan(summary.loc["capped", "tax_usd"])
    assert summary.loc["capped", "total_cost_usd"] <= 60e-4 * 1e9 * (1 + 1e-9)
    assert summary.loc["bad lots", "status"] == "bad_input" and "do not add up" in summary.loc["bad lots", "error"]
    sold = pd.read_parquet(workspace / "out_tax" / "lots.parquet")  # the lots sold, with their book
    assert set(sold["book_id"]) == {"taxed"} and list(sold.columns[:2]) == ["book_id", "symbol"]
    assert sold["shares_sold"].sum() == pytest.approx(direct.lots["shares_sold"].sum(), rel=1e-9)
    assert sold["tax_usd"].sum() == pytest.approx(direct.lots["tax_usd"].sum(), rel=1e-6, abs=1e-3)
    pd.testing.assert_frame_equal(sold, result.lots)
    again = run_batch(write_requests(workspace, rows, "taxed.csv"), workspace / "out_tax", workers=1, resume=True)
    assert again.skipped == 2 and len(again.lots) == len(sold)  # read back from the parts


def test_a_books_unknown_basis_column_takes_the_unlisted_shares_at_zero_basis(workspace):
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from books import random_lots

    holdings, covariance = load_example()
    book = Portfolio(holdings, covariance)
    random_lots(book.holdings, 4).iloc[1:].to_csv(workspace / "short_lots.csv", index=False)
    rows = [dict(book_id=name, holdings="book.csv", covariance="cov.csv", cash=1e9, lots="short_lots.csv",
                 tax_short=0.37, tax_long=0.238, as_of="2026-12-01", unknown_basis=rule)
            for name, rule in (("zero", "zero"), ("refused", None))]
    summary = run_batch(write_requests(workspace, rows, "unknown.csv"), workspace / "out_unknown",
                        workers=1).summary.set_index("book_id")
    rates = krg.TaxRates(0.37, 0.238, as_of="2026-12-01", unknown_basis="zero")
    direct = liquidate(book, 1e9, lots=workspace / "short_lots.csv", tax=rates)
    assert summary.loc["zero", "status"] == "optimal"
    assert summary.loc["zero", "tax_usd"] == pytest.approx(direct.tax_usd, rel=1e-9, abs=1e-3)
    assert summary.loc["refused", "status"] == "bad_input" and "unknown_basis" in summary.loc["refused", "error"]


def test_tax_columns_without_lots_or_lots_without_rates_are_named():
    holdings, covariance = load_example()
    requests = pd.DataFrame({"book_id": ["a", "b"], "holdings": [holdings, holdings], "cash": [1e8, 1e8],
                             "tax_short": [0.37, None], "lots": [None, holdings]})
    with pytest.raises(BatchRequestError) as caught:
        read_requests(requests)
    text = str(caught.value)
    assert "book a: column(s) tax_short need a 'lots' file" in text
    assert "book b: a 'lots' file needs the tax rates: give tax_short and tax_long" in text


def test_books_with_shape_limits():
    holdings, covariance = load_example()
    sectored = holdings.assign(Sector=[f"S{i % 5}" for i in range(len(holdings))])
    requests = pd.DataFrame({"book_id": ["shaped", "free"], "holdings": [sectored, sectored],
                             "covariance": [covariance, covariance], "cash": ["10%", "10%"],
                             "group_column": ["Sector", None], "max_group_weight_change": [0.005, None],
                             "max_tracking_error": [0.01, None]})
    summary = run_batch(requests, workers=1).summary.set_index("book_id")
    book = Portfolio(sectored, covariance)
    limits = krg.Limits(group_column="Sector", group_limits={"max_weight_change": 0.005}, max_tracking_error=0.01)
    direct = liquidate(book, "10%", limits=limits)
    assert summary.loc["shaped", "cost_usd"] == pytest.approx(direct.cost_usd, rel=1e-9)
    assert summary.loc["shaped", "cost_usd"] > summary.loc["free", "cost_usd"]  # the bands bind
    with pytest.raises(BatchRequestError, match="book a: give both min_liquid_fraction and min_liquid_days"):
        read_requests(pd.DataFrame({"book_id": ["a"], "holdings": [holdings], "cash": [1e8],
                                    "min_liquid_fraction": [0.5]}))


def test_books_with_per_name_defaults():
    holdings, covariance = small_book_without_bounds()
    requests = pd.DataFrame({"book_id": ["capped", "free", "bad"], "holdings": [holdings] * 3,
                             "covariance": [covariance] * 3, "cash": ["20%"] * 3,
                             "max_pct_adv": ["20%", None, None], "max_weight_change": [0.03, None, None],
                             "max_sold_fraction": [0.6, None, None]})
    summary = run_batch(requests.iloc[:2], workers=1).summary.set_index("book_id")
    limits = krg.Limits(max_pct_adv=0.2, max_weight_change=0.03, max_sold_fraction=0.6)
    direct = liquidate(Portfolio(holdings, covariance), "20%", limits=limits)
    assert summary.loc["capped", "cost_usd"] == pytest.approx(direct.cost_usd, rel=1e-9)
    assert summary.loc["capped", "cost_usd"] > summary.loc["free", "cost_usd"]  # the defaults bind
    requests.loc[2, "max_sold_fraction"] = 60
    with pytest.raises(BatchRequestError, match="book bad: max_sold_fraction=60.0 must be between 0 and 1"):
        read_requests(requests)


def small_book_without_bounds():
    from krg_liquidity import synthetic_universe

    holdings, model = synthetic_universe(12, n_factors=2, seed=31)
    exposures = model.exposures.to_numpy()
    covariance = exposures @ model.factor_covariance.to_numpy() @ exposures.T + np.diag(model.specific_variance)
    index = model.exposures.index
    return holdings, pd.DataFrame(covariance, index=index, columns=index)


def test_the_batch_help_names_every_request_column():
    from krg_liquidity.batch.requests import OPTIONAL, REQUIRED
    from krg_liquidity.cli.batch import REQUESTS_HELP

    assert all(column in REQUESTS_HELP for column in REQUIRED + OPTIONAL)
