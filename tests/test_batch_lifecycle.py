"""Batch runs that stop cleanly (kill, kill -9, Ctrl-C), refuse what they must not read, and write CSV/Excel."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from krg_liquidity import load_example, run_batch
from krg_liquidity.batch.store import PartStore

psutil = pytest.importorskip("psutil")
BOOKS = 300


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lifecycle")
    holdings, covariance = load_example()
    holdings.to_csv(folder / "book.csv", index=False)
    covariance.to_csv(folder / "cov.csv")
    # a binding risk floor (convex-concave steps, tens of ms a book): the run lasts long enough for a signal
    rows = [dict(book_id=f"b{i}", holdings="book.csv", covariance="cov.csv", cash=1e9 + 1e5 * i, risk_band_lo=1.01,
                 risk_band_hi=1.05) for i in range(BOOKS)]
    pd.DataFrame(rows).to_csv(folder / "many.csv", index=False)
    return folder


def start(folder, out):
    command = [sys.executable, "-m", "krg_liquidity", "batch", str(folder / "many.csv"), "--output", str(out),
               "--workers", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    driver = psutil.Process(process.pid)
    deadline = time.time() + 60
    while time.time() < deadline and (len(driver.children()) < 2 or len(list((out / "parts").glob("*.summary.parquet")))
                                      < 5):
        time.sleep(0.05)
    workers = driver.children(recursive=True)
    assert len(workers) >= 2, "the pool must be running when the signal lands"
    return process, workers


def gone(process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def assert_all_gone(workers, seconds=10.0):
    deadline = time.time() + seconds
    while time.time() < deadline and not all(gone(w) for w in workers):
        time.sleep(0.05)
    survivors = [w for w in workers if not gone(w)]
    for worker in survivors:  # do not leave them running when the test fails
        worker.kill()
    assert not survivors, [w.pid for w in survivors]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_no_worker_survives_the_driver(folder, tmp_path, sig):
    process, workers = start(folder, tmp_path / "out")
    process.send_signal(sig)
    _, err = process.communicate(timeout=30)
    assert_all_gone(workers)
    if sig != signal.SIGKILL:
        assert process.returncode == 130
        assert "books done" in err and "--resume" in err and "Traceback" not in err


@pytest.mark.slow
def test_resume_after_interrupt_completes(folder, tmp_path):
    out = tmp_path / "out"
    process, workers = start(folder, out)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    assert_all_gone(workers)
    done = len(list((out / "parts").glob("*.summary.parquet")))
    assert 0 < done < BOOKS
    result = run_batch(folder / "many.csv", out, workers=2, resume=True)
    assert result.skipped == done and len(result.summary) == BOOKS and result.summary["book_id"].is_unique


def test_stale_temporary_parts_are_removed(tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = parts / f".b1.summary.parquet.{dead.pid}.tmp"
    live = parts / f".b2.summary.parquet.{os.getppid()}.tmp"  # a process that is alive
    stale.write_bytes(b"x")
    live.write_bytes(b"x")
    store = PartStore(tmp_path)
    assert not stale.exists() and live.exists() and store.stale_removed == 1


def test_refused_paths_get_their_own_rows(folder, tmp_path):
    work = tmp_path / "requests"
    work.mkdir()
    (work / "sub").mkdir()
    secret = tmp_path / "secret.csv"
    secret.write_text("api_key,password,symbol\nabc,hunter2,X\n")
    holdings, covariance = load_example()
    holdings.to_csv(work / "book.csv", index=False)
    covariance.to_csv(work / "cov.csv")
    os.mkfifo(work / "pipe.csv")
    rows = [dict(book_id="good", holdings="book.csv", covariance="cov.csv", cash=1e8, lot_size=100),
            dict(book_id="missing", holdings="nowhere.csv", covariance="cov.csv", cash=1e8),
            dict(book_id="up", holdings="../secret.csv", covariance="", cash=1e8),
            dict(book_id="absolute", holdings=str(secret), covariance="", cash=1e8),
            dict(book_id="folder", holdings="sub", covariance="", cash=1e8),
            dict(book_id="fifo", holdings="pipe.csv", covariance="", cash=1e8),
            dict(book_id="cov_missing", holdings="book.csv", covariance="nope.csv", cash=1e8)]
    pd.DataFrame(rows).to_csv(work / "requests.csv", index=False)
    result = run_batch(work / "requests.csv", tmp_path / "out", workers=1, formats=("csv", "xlsx"))  # the fifo is never opened
    summary = result.summary.set_index("book_id")
    assert summary.loc["good", "status"] in ("optimal", "feasible")  # round lots: optimal only within the gap tolerance
    assert (summary.loc["good", "status"] == "optimal") == (summary.loc["good", "gap"] <= 1e-6)
    assert summary.loc["good", "parameters"].startswith("I-Star code 1, 2013-01-01: a1=708")
    assert summary.loc["good", "risk_model"] == "full covariance over 28 names"
    good = result.trades[result.trades["book_id"] == "good"]
    whole = np.isclose(-good["shares_traded"], good["shares_before"]) | (good["shares_traded"] % 100 == 0)
    assert whole.all() and summary.loc["good", "cash_raised"] >= 1e8
    raised = -(good["shares_traded"] * good["price"]).sum()
    assert summary.loc["good", "cash_raised"] == pytest.approx(raised, rel=1e-12)
    for book, text in (("missing", "holdings file not found"), ("up", "outside the requests file's folder"),
                       ("absolute", "outside the requests file's folder"), ("folder", "not a regular file"),
                       ("fifo", "not a regular file"), ("cov_missing", "covariance file not found")):
        assert summary.loc[book, "status"] == "bad_input" and text in summary.loc[book, "error"], book
    assert not summary["error"].str.contains("api_key|password|hunter2").any()
    csv = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert list(csv["book_id"]) == [r["book_id"] for r in rows]
    workbook = pd.read_excel(tmp_path / "out" / "results.xlsx", sheet_name=None)
    assert set(workbook) == {"summary", "trades"} and len(workbook["trades"]) == 28
    np.testing.assert_allclose(workbook["trades"]["cost_usd"], result.trades["cost_usd"], rtol=1e-12)
