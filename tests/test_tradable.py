"""One most-cash figure per request, and one the tool raises when it is typed back."""

import json
import re

import pytest
from typer.testing import CliRunner

import krg_liquidity as krg
from krg_liquidity.cli import app

BAND, CAP = (0.9, 1.1), 50
EXAMPLE = ["data/example_portfolio.csv", "--covariance", "data/example_covariance.csv"]


@pytest.fixture(scope="module")
def book():
    return krg.Portfolio(*krg.load_example())


def test_a_band_never_raises_the_most_cash_above_its_maximum_without_it(book):
    """Issue 16 trial A3: with the band's ceiling alone the conic answer said $1,621,476,341, above
    the $1,621,476,332 the limits allow without any band (a band only takes trades away)."""
    without = krg.max_cash(book, max_total_mi_bps=CAP)
    ceiling = krg.max_cash(book, risk_band=(0.0, BAND[1]), max_total_mi_bps=CAP)
    assert ceiling <= without


def test_the_whole_share_most_cash_is_raised_when_typed_back(book):
    """Issue 16 trial A3: the demo's $1,621,476,287, typed back with whole shares, was "$1,562.02 short"."""
    whole = krg.tradable_cash(book, 1, risk_band=BAND, max_total_mi_bps=CAP)
    exact = krg.tradable_cash(book, None, risk_band=BAND, max_total_mi_bps=CAP)
    assert whole == int(whole) and exact == int(exact) and whole <= exact
    assert exact <= krg.max_cash(book, max_total_mi_bps=CAP)  # never above the maximum without the band
    answer = krg.liquidate(book, whole, risk_band=BAND, max_total_mi_bps=CAP)
    rounded = krg.round_trades(answer)
    assert rounded.success and rounded.cash_raised >= whole
    assert krg.liquidate(book, exact, risk_band=BAND, max_total_mi_bps=CAP).success
    assert krg.tradable_cash(book, 1, risk_band=BAND, max_total_mi_bps=CAP) == whole  # one figure per request


@pytest.mark.parametrize("shares", [[], ["--exact-shares"]])
def test_the_infeasible_headline_gives_a_figure_the_cli_raises(shares):
    """Issue 16 trial A3: "cannot raise $1,621,476,340: at most $1,621,476,341 can be raised": the figure
    the message gave was refused when typed back."""
    limits = ["--risk-band", "0.9", "1.1", "--max-total-mi-bps", "50", *shares]
    refused = CliRunner().invoke(app, ["liquidate", *EXAMPLE, *limits, "--cash", "6e9", "--json"])
    assert refused.exit_code == 2
    payload = json.loads(refused.stdout)
    most = re.search(r"the most that can be raised within the limits(?: in whole shares)? is \$([\d,]+)",
                     payload["message"])
    assert most is not None, payload["message"]
    assert float(most.group(1).replace(",", "")) == payload["max_cash_raisable"]
    typed = CliRunner().invoke(app, ["liquidate", *EXAMPLE, *limits, "--cash", most.group(1), "--json"])
    assert typed.exit_code == 0, typed.output
    assert json.loads(typed.stdout)["cash_raised"] >= payload["max_cash_raisable"]


def test_the_report_of_an_impossible_request_gives_the_same_figure(tmp_path):
    """The report of a refused target printed the message's bound next to its own most cash."""
    path = tmp_path / "report.html"
    done = CliRunner().invoke(app, ["report", *EXAMPLE, "--risk-band", "0.9", "1.1", "--max-total-mi-bps", "50",
                                    "--cash", "6e9", "--output", str(path)])
    assert done.exit_code == 2, done.output
    shown = re.search(r"the most that can be raised within the limits in whole shares is \$([\d,]+)", done.output)
    assert shown is not None, done.output
    page = path.read_text()
    assert f"data-value='{float(shown.group(1).replace(',', ''))!r}'" in page and shown.group(0) in page


@pytest.mark.parametrize("lot", [1, None])
def test_the_most_tradable_cash_is_the_most_the_next_dollar_is_not_raised(book, lot):
    """Issue 16 trial: with a 17 bps cap and the 0.9-1.1 band the figure was $1,570,658,115 while $116 (and up to
    $155) was raised too: the figure offered is raised when typed back, and a dollar more is not."""
    limits = {"risk_band": BAND, "max_total_mi_bps": 17}
    most = krg.tradable_cash(book, lot, **limits)

    def raised(cash):
        answer = krg.liquidate(book, cash, raise_on_failure=False, **limits)
        if not answer.success or lot is None:
            return answer.success
        rounded = krg.round_trades(answer, lot)
        return rounded.success and rounded.cash_raised >= cash

    assert raised(most) and not raised(most + 1)
