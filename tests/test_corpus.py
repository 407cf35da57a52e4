"""The corpus of odd and bad books (tests/corpus): each file's exact outcome, from Python, the CLI and batch."""

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from krg_liquidity import BookError, InputError, Portfolio, fill_strategy, read_covariance, read_table, run_batch
from krg_liquidity.cli import app

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = json.loads((CORPUS / "expected.json").read_text())
NUMBERS = ["shares", "price", "adv", "volatility", "trade_time"]


def test_corpus_is_large_enough():
    assert len(CASES) >= 30
    assert sum(c["status"] == "bad_input" for c in CASES.values()) >= 20
    assert all((CORPUS / name).exists() for name in CASES)


def load(name: str, case: dict):
    holdings = read_table(CORPUS / case.get("holdings", name), sheet=case.get("sheet"), what="holdings")
    holdings = fill_strategy(holdings, case.get("trade_time"))
    covariance = read_covariance(CORPUS / case["covariance"]) if "covariance" in case else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Portfolio(holdings, covariance)


@pytest.fixture(scope="module")
def reference():
    return load("reference.csv", {}).holdings.set_index("symbol")[NUMBERS]


@pytest.mark.parametrize("name", sorted(CASES))
def test_python(name, reference):
    case = CASES[name]
    if case["status"] == "ok":
        portfolio = load(name, case)
        if case.get("same_as_reference"):
            got = portfolio.holdings.set_index("symbol")[NUMBERS].loc[reference.index]
            np.testing.assert_allclose(got.to_numpy(float), reference.to_numpy(float), rtol=1e-12)
        if "symbols" in case:
            assert portfolio.symbols == case["symbols"]
        assert len(portfolio.warnings) == case.get("warnings", 0)
        return
    with pytest.raises(InputError) as info:
        load(name, case)
    if "problems" in case:
        assert isinstance(info.value, BookError)
        assert [[p.column, p.symbols] for p in info.value.problems] == case["problems"]
    if "message" in case:
        assert case["message"] in str(info.value)


def cli(name: str, case: dict):
    args = ["liquidate", str(CORPUS / case.get("holdings", name)), "--cash", "1e8", "--json"]
    if "covariance" in case:
        args += ["--covariance", str(CORPUS / case["covariance"])]
    if "sheet" in case:
        args += ["--sheet", case["sheet"]]
    if "trade_time" in case:
        args += ["--trade-time", str(case["trade_time"])]
    result = CliRunner().invoke(app, args)
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture(scope="module")
def reference_runs():
    return {kind: cli("reference.csv", case)[1] for kind, case in
            (("none", {}), ("cov", {"covariance": "reference_cov.csv"}))}


@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_json(name, reference_runs):
    case = CASES[name]
    code, payload = cli(name, case)
    if case["status"] == "ok":
        assert code == 0 and payload["status"] in ("optimal", "feasible")  # whole shares: the rounded cost's gap
        assert (payload["status"] == "optimal") == (payload["gap"] <= 1e-6 or payload["gap_usd"] < 0.01)
        assert len(payload["assumptions"]["warnings"]) == case.get("warnings", 0)
        if case.get("same_as_reference"):
            expected = reference_runs["cov" if "covariance" in case else "none"]
            assert payload["cost_usd"] == pytest.approx(expected["cost_usd"], rel=1e-9)
            traded = {t["symbol"]: t["shares_traded"] for t in payload["trades"]}
            assert traded == {t["symbol"]: t["shares_traded"] for t in expected["trades"]}
        return
    assert code == 2 and payload["status"] == "bad_input"
    if "problems" in case:
        assert [[p["column"], p["symbols"]] for p in payload["problems"]] == case["problems"]
    if "message" in case:
        assert case["message"] in payload["message"]


def test_batch_runs_the_corpus_with_one_row_per_book(tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    rows = [dict(book_id=name, holdings=case.get("holdings", name), covariance=case.get("covariance", ""), cash=1e8,
                 sheet=case.get("sheet", ""), trade_time=case.get("trade_time", np.nan))
            for name, case in CASES.items()]
    pd.DataFrame(rows).to_csv(folder / "requests.csv", index=False)
    result = run_batch(folder / "requests.csv", tmp_path / "out", workers=1)
    summary = result.summary.set_index("book_id")
    for name, case in CASES.items():
        expected = "optimal" if case["status"] == "ok" else "bad_input"
        assert summary.loc[name, "status"] == expected, (name, summary.loc[name, "error"])
        for column, _ in case.get("problems", []):
            assert f"'{column}'" in summary.loc[name, "error"]
        if "message" in case:
            assert case["message"] in summary.loc[name, "error"]
