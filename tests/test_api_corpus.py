"""A table of bad inputs to the newer APIs (schedules, stress, profile, report, desk): each is refused by
a named error (or, on the desk, a bad_input outcome / a listed problem) with a key phrase; none raises
a raw exception from pandas, numpy or the solvers.

The book-file corpus (tests/corpus, test_corpus.py) and the cost-model checks (test_bad_input.py)
cover the holdings themselves; this table covers the arguments of the calls made with a valid book.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import pytest

from krg_liquidity import (
    BookError,
    InconsistentInputError,
    InfeasibleSchedule,
    InputError,
    InputFileError,
    InvalidValueError,
    LiquidationError,
    MissingColumnError,
    Portfolio,
    Scenario,
    compare,
    frontier,
    liquidate,
    liquidity_profile,
    load_example,
    max_cash,
    optimize_basket_schedule,
    optimize_schedule,
    pov_schedule,
    schedule_frontier,
    stress_test,
    synthetic_universe,
    vwap_schedule,
)
from krg_liquidity.desk.inputs import Upload, load_book
from krg_liquidity.desk.solve import DeskRequest
from krg_liquidity.desk.solve import run as desk_run
from krg_liquidity.report import build_report, write_report

ORDER = {"shares": 100_000, "adv": 1e6, "volatility": 0.25}
TRADES = pd.DataFrame({"symbol": ["A", "B"], "shares": [-200_000, -50_000], "adv": [2e6, 1e6],
                       "price": [50.0, 20.0], "volatility": [0.3, 0.2]})
COV = pd.DataFrame([[0.09, 0.01], [0.01, 0.04]], index=["A", "B"], columns=["A", "B"])
TEXT_COV = COV.astype(object)
TEXT_COV.iloc[0, 1] = "x"
DESK = "desk"  # expected: the desk's Outcome has status bad_input
LISTED = "listed"  # expected: the desk's Book lists the problem


@dataclass(frozen=True)
class Case:
    name: str
    call: Callable
    expected: type | str
    phrase: str


def _folder_html(ctx):
    folder = ctx.folder / "report.html"
    folder.mkdir(exist_ok=True)
    return write_report(build_report(ctx.result), folder)


def _book_csv(ctx) -> bytes:
    return ctx.book.holdings.to_csv(index=False).encode()


CASES = [
    # optimize_schedule (one name)
    Case("order None", lambda c: optimize_schedule(None), InvalidValueError, "'order' is a NoneType"),
    Case("order text", lambda c: optimize_schedule("AAPL"), InvalidValueError, "give a dict, Series or one-row"),
    Case("order empty", lambda c: optimize_schedule({}), MissingColumnError, "missing column 'shares'"),
    Case("order shares text", lambda c: optimize_schedule({**ORDER, "shares": "abc"}), InvalidValueError,
         "'shares' is not a number"),
    Case("periods nan", lambda c: optimize_schedule(ORDER, periods=float("nan")), InvalidValueError,
         "'periods' is nan, not a number"),
    Case("periods 0", lambda c: optimize_schedule(ORDER, periods=0), InvalidValueError, "whole number >= 1"),
    Case("periods 2.5", lambda c: optimize_schedule(ORDER, periods=2.5), InvalidValueError, "whole number >= 1"),
    Case("periods inf", lambda c: optimize_schedule(ORDER, periods=float("inf")), InvalidValueError,
         "whole number >= 1"),
    Case("periods 100000", lambda c: optimize_schedule(ORDER, periods=100_000), InvalidValueError,
         "GiB of memory"),
    Case("risk_aversion text", lambda c: optimize_schedule(ORDER, risk_aversion="x"), InvalidValueError,
         "'risk_aversion' is 'x', not a number"),
    Case("risk_aversion negative", lambda c: optimize_schedule(ORDER, risk_aversion=-1), InvalidValueError,
         "'risk_aversion' is -1"),
    Case("risk_aversion None", lambda c: optimize_schedule(ORDER, risk_aversion=None), InvalidValueError,
         "'risk_aversion' is None"),
    Case("alpha text", lambda c: optimize_schedule(ORDER, alpha_bps="x"), InvalidValueError, "'alpha_bps' is 'x'"),
    Case("max_pov 150%", lambda c: optimize_schedule(ORDER, max_pov="150%"), InvalidValueError,
         "'max_pov' must be in (0, 1] (it is 1.5)"),
    Case("max_pov 0", lambda c: optimize_schedule(ORDER, max_pov=0), InvalidValueError, "'max_pov' must be in"),
    Case("max_pov text", lambda c: optimize_schedule(ORDER, max_pov="lots"), InvalidValueError,
         "'max_pov' is 'lots', not a number"),
    Case("max_pov two values", lambda c: optimize_schedule(ORDER, max_pov=[0.1, 0.2]), InvalidValueError,
         "has 2 values for 1 traded names"),
    Case("profile ndarray", lambda c: optimize_schedule(ORDER, profile=np.full(13, 1 / 13)), InputError,
         "profile is a ndarray of 13 values"),
    Case("profile list", lambda c: optimize_schedule(ORDER, profile=[0.5, 0.5]), InputError, "profile is a list"),
    Case("profile without times", lambda c: optimize_schedule(ORDER, profile=pd.Series([0.5, 0.5])), InputError,
         "'HH:MM'"),
    Case("bucket_minutes text", lambda c: optimize_schedule(ORDER, bucket_minutes="x"), InvalidValueError,
         "'bucket_minutes' is 'x'"),
    Case("bucket_minutes 7", lambda c: optimize_schedule(ORDER, bucket_minutes=7), InputError,
         "must divide the 390-minute session"),
    Case("start text", lambda c: optimize_schedule(ORDER, start="yesterday"), InvalidValueError, "YYYY-MM-DD"),
    Case("engine unknown", lambda c: optimize_schedule(ORDER, engine="fast"), InvalidValueError,
         "'engine' is 'fast'"),
    Case("cost_model text", lambda c: optimize_schedule(ORDER, cost_model="istar"), InvalidValueError,
         "'cost_model' is a str"),
    Case("time_limit 0", lambda c: optimize_schedule(ORDER, time_limit=0), InvalidValueError,
         "'time_limit' is 0; it must be a positive number of seconds"),
    Case("time_limit negative", lambda c: optimize_schedule(ORDER, time_limit=-1), InvalidValueError,
         "'time_limit' is -1"),
    Case("time_limit nan", lambda c: optimize_schedule(ORDER, time_limit=float("nan")), InvalidValueError,
         "'time_limit' is nan"),
    Case("time_limit text", lambda c: optimize_schedule(ORDER, time_limit="x"), InvalidValueError,
         "'time_limit' is 'x'"),
    # optimize_basket_schedule / schedule_frontier
    Case("basket trades None", lambda c: optimize_basket_schedule(None), InvalidValueError, "'trades' is a NoneType"),
    Case("basket covariance text cell", lambda c: optimize_basket_schedule(TRADES, covariance=TEXT_COV), BookError,
         "the covariance has missing or infinite entries for A"),
    Case("basket covariance other names", lambda c: optimize_basket_schedule(
        TRADES, covariance=pd.DataFrame([[0.04]], index=["Z"], columns=["Z"])), InconsistentInputError,
         "the risk model has no row for A, B"),
    Case("basket factor_model text", lambda c: optimize_basket_schedule(TRADES, factor_model="x"), InvalidValueError,
         "'factor_model' is a str"),
    Case("basket cash_by_period key text", lambda c: optimize_basket_schedule(TRADES, cash_by_period={"x": 1e8}),
         InvalidValueError, "'cash_by_period' must name a period in 1..26 for x"),
    Case("basket cash_by_period value text", lambda c: optimize_basket_schedule(TRADES, cash_by_period={13: "lots"}),
         InvalidValueError, "with a finite amount for 13"),
    Case("basket cash_by_period length", lambda c: optimize_basket_schedule(TRADES, cash_by_period=[1e6, 2e6]),
         InvalidValueError, "has 2 entries for 26 periods"),
    Case("basket cash_by_period out of reach", lambda c: optimize_basket_schedule(TRADES, cash_by_period={13: 1e20}),
         InfeasibleSchedule, "cannot raise"),
    Case("basket max_pov length", lambda c: optimize_basket_schedule(TRADES, max_pov=[0.1, 0.2, 0.3]),
         InvalidValueError, "'max_pov' has 3 values for 2 traded names"),
    Case("basket max_pov dict text", lambda c: optimize_basket_schedule(TRADES, max_pov={"A": "abc"}),
         InvalidValueError, "'max_pov' is not a number for A"),
    Case("basket max_pov unknown symbol", lambda c: optimize_basket_schedule(TRADES, max_pov={"ZZ": 0.1}),
         InvalidValueError, "names a symbol that is not traded for ZZ"),
    Case("basket horizon text", lambda c: optimize_basket_schedule(TRADES, horizon="x"), InvalidValueError,
         "'horizon' is 'x'"),
    Case("basket risk_measure", lambda c: optimize_basket_schedule(TRADES, risk_measure="var"), InvalidValueError,
         "'risk_measure' is 'var'"),
    Case("basket time_limit -1", lambda c: optimize_basket_schedule(TRADES, time_limit=-1), InvalidValueError,
         "'time_limit' is -1"),
    Case("frontier lambdas text", lambda c: schedule_frontier(TRADES, "x"), InvalidValueError,
         "'risk_aversions' is 'x', not a list"),
    Case("frontier lambda text", lambda c: schedule_frontier(TRADES, ["x"]), InvalidValueError,
         "'risk_aversions' is 'x'"),
    # POV / VWAP schedules
    Case("pov_schedule None", lambda c: pov_schedule(None), InvalidValueError, "'trades' is a NoneType"),
    Case("pov_schedule bucket text", lambda c: pov_schedule(c.result.trades, bucket_minutes="x"), InvalidValueError,
         "'bucket_minutes' is 'x'"),
    Case("vwap horizon text", lambda c: vwap_schedule(c.result.trades, "x"), InvalidValueError,
         "'horizon_days' is 'x'"),
    Case("vwap horizon nan", lambda c: vwap_schedule(c.result.trades, float("nan")), InvalidValueError,
         "'horizon_days'"),
    # stress_test
    Case("stress DataFrame", lambda c: stress_test(c.book.holdings, 1e9), InvalidValueError,
         "'portfolio' is a DataFrame (a holdings table), not a Portfolio"),
    Case("stress None", lambda c: stress_test(None, 1e9), InvalidValueError, "'portfolio' is a NoneType"),
    Case("stress cash text", lambda c: stress_test(c.book, "x"), InvalidValueError, "'cash' is 'x'"),
    Case("stress scenario text", lambda c: stress_test(c.book, 1e9, ["base"]), InputError, "Scenario objects"),
    Case("stress no scenario", lambda c: stress_test(c.book, 1e9, []), InputError, "at least one scenario"),
    Case("stress method", lambda c: stress_test(c.book, 1e9, methods="magic"), InputError, "unknown method(s)"),
    Case("stress workers 0", lambda c: stress_test(c.book, 1e9, workers=0), InvalidValueError, "'workers' is 0"),
    Case("stress workers -2", lambda c: stress_test(c.book, 1e9, workers=-2), InvalidValueError, "'workers' is -2"),
    Case("stress max_pct_adv negative", lambda c: stress_test(c.book, 1e9, max_pct_adv=-1), InvalidValueError,
         "'max_pct_adv' is -1; it must be positive"),
    Case("stress max_pct_adv text", lambda c: stress_test(c.book, 1e9, max_pct_adv="abc"), InvalidValueError,
         "'max_pct_adv' is 'abc'"),
    Case("stress scenario multiplier text", lambda c: stress_test(c.book, 1e9, [Scenario("x", adv="abc")]),
         InputError, "adv='abc' must be a positive multiplier"),
    # liquidity_profile
    Case("profile DataFrame", lambda c: liquidity_profile(c.book.holdings), InvalidValueError,
         "'portfolio' is a DataFrame"),
    Case("profile pov_cap 20% reads as 0.2 (1 is refused)", lambda c: liquidity_profile(c.book, pov_cap="100%"),
         InvalidValueError, "'pov_cap' must be in (0, 1) (it is 1)"),
    Case("profile pov_cap text", lambda c: liquidity_profile(c.book, pov_cap="x"), InvalidValueError,
         "'pov_cap' is 'x'"),
    Case("profile horizons text", lambda c: liquidity_profile(c.book, horizons="1,3,7"), InvalidValueError,
         "'horizons' is '1,3,7', not a list of days"),
    Case("profile horizons decreasing", lambda c: liquidity_profile(c.book, horizons=[3, 1]), InvalidValueError,
         "not increasing positive days"),
    Case("profile horizons empty", lambda c: liquidity_profile(c.book, horizons=[]), InvalidValueError,
         "not increasing positive days"),
    Case("profile horizon text item", lambda c: liquidity_profile(c.book, horizons=["a"]), InvalidValueError,
         "'horizons' is 'a'"),
    Case("profile cost budget text", lambda c: liquidity_profile(c.book, cost_budget_bps="x"), InvalidValueError,
         "'cost_budget_bps' is 'x'"),
    Case("profile cost budget 0", lambda c: liquidity_profile(c.book, cost_budget_bps=0), InvalidValueError,
         "'cost_budget_bps' is 0"),
    Case("profile time_limit 0", lambda c: liquidity_profile(c.book, time_limit=0), InputError, "time_limit=0"),
    # build_report / write_report
    Case("report None", lambda c: build_report(None), InvalidValueError, "'result' is a NoneType"),
    Case("report of trades", lambda c: build_report(c.result.trades), InvalidValueError,
         "'result' is a DataFrame, not a LiquidationResult"),
    Case("report portfolio DataFrame", lambda c: build_report(c.result, c.book.holdings), InvalidValueError,
         "'portfolio' is a DataFrame"),
    Case("report frontier_points 0", lambda c: build_report(c.result, c.book, frontier_points=0), InvalidValueError,
         "'frontier_points' is 0"),
    Case("report frontier_points text", lambda c: build_report(c.result, c.book, frontier_points="x"),
         InvalidValueError, "'frontier_points' is 'x'"),
    Case("report time_limit 0", lambda c: build_report(c.result, c.book, time_limit=0), InvalidValueError,
         "'time_limit' is 0"),
    Case("report path a folder", lambda c: write_report(build_report(c.result), c.folder), InputFileError,
         "is a folder; give a file name inside it"),
    Case("report path a folder named .html", _folder_html, InputFileError, "is a folder"),
    Case("report folder missing", lambda c: write_report(build_report(c.result), c.folder / "no" / "r.html"),
         InputFileError, "does not exist"),
    Case("report extension", lambda c: write_report(build_report(c.result), c.folder / "r.pdf"), InputFileError,
         "unknown extension '.pdf'"),
    Case("report not a Report", lambda c: write_report(None, c.folder / "r.html"), InvalidValueError,
         "'report' is a NoneType"),
    Case("to_excel a folder", lambda c: c.result.to_excel(c.folder), InputFileError, "is a folder"),
    # desk
    Case("desk time_limit 0", lambda c: desk_run(c.book, DeskRequest(1e9, time_limit=0)), DESK, "time_limit=0"),
    Case("desk cash nan", lambda c: desk_run(c.book, DeskRequest(float("nan"))), DESK, "Cash to raise 'nan' is not an amount"),
    Case("desk cash negative", lambda c: desk_run(c.book, DeskRequest(-5.0)), DESK, "must be a positive number"),
    Case("desk band crossed", lambda c: desk_run(c.book, DeskRequest(1e9, risk_band=(2.0, 1.0))), DESK,
         "needs 0 <= lo <= hi"),
    Case("desk impact cap negative", lambda c: desk_run(c.book, DeskRequest(1e9, max_total_mi_bps=-1.0)), DESK,
         "max_total_mi_bps=-1.0"),
    Case("desk upload empty", lambda c: load_book(Upload("b.csv", b"")), LISTED, "is empty"),
    Case("desk upload binary", lambda c: load_book(Upload("b.csv", b"\x00\x01\x02")), LISTED, "is binary"),
    Case("desk upload broken workbook", lambda c: load_book(Upload("b.xlsx", b"PK\x03\x04garbage")), LISTED,
         "not a readable .xlsx workbook"),
    Case("desk default trade time nan", lambda c: load_book(Upload("b.csv", _book_csv(c)),
                                                            trade_time_days=float("nan")), LISTED,
         "default trade time nan must be > 0 days"),
    Case("desk covariance not square", lambda c: load_book(Upload("b.csv", _book_csv(c)),
                                                           covariance=Upload("c.csv", b"a,b\n1,2\n")), LISTED,
         "not square"),
    Case("desk no trade time", lambda c: load_book(Upload("b.csv", c.book.holdings.drop(
        columns=["trade_time"]).to_csv(index=False).encode())), LISTED, "'Default trade time (days)' box"),
    # the book and the core calls: one argument in another's place, or None
    Case("portfolio factor model positional", lambda c: Portfolio(*synthetic_universe(20, n_factors=2, seed=1)),
         InvalidValueError, "pass a factor model by keyword: Portfolio(holdings, factor_model=model)"),
    Case("from_files factor model positional", lambda c: Portfolio.from_files(
        "book.csv", synthetic_universe(20, n_factors=2, seed=1)[1]), InvalidValueError,
        "Portfolio.from_files(holdings, factor_model=model)"),
    Case("portfolio covariance as factor model", lambda c: Portfolio(c.book.holdings, None, c.book.covariance),
         InvalidValueError, "'factor_model' is a DataFrame (a covariance matrix goes in covariance=)"),
    Case("portfolio covariance path", lambda c: Portfolio(c.book.holdings, "cov.csv"), InvalidValueError,
         "Portfolio.from_files(holdings_path, covariance_path)"),
    Case("portfolio holdings path", lambda c: Portfolio("book.csv"), InvalidValueError,
         "Portfolio.from_files('book.csv')"),
    Case("portfolio holdings None", lambda c: Portfolio(None), InvalidValueError, "'holdings' is None"),
    Case("portfolio of a portfolio", lambda c: Portfolio(c.book), InvalidValueError,
         "'holdings' is a Portfolio, not a DataFrame"),
    Case("liquidate cash None", lambda c: liquidate(c.book, None), InputError, "cash None is not an amount"),
    Case("liquidate book None", lambda c: liquidate(None, 1e9), InvalidValueError, "'portfolio' is a NoneType"),
    Case("liquidate holdings table", lambda c: liquidate(c.book.holdings, 1e9), InvalidValueError,
         "(a holdings table), not a Portfolio"),
    Case("max_cash book None", lambda c: max_cash(None), InvalidValueError, "'portfolio' is a NoneType"),
    Case("compare cash None", lambda c: compare(c.book, None), InputError, "cash None is not an amount"),
    Case("compare book None", lambda c: compare(None, 1e9), InvalidValueError, "'portfolio' is a NoneType"),
    Case("stress cash None", lambda c: stress_test(c.book, None), InvalidValueError, "'cash' is None"),
    Case("stress book None", lambda c: stress_test(None, 1e9), InvalidValueError, "'portfolio' is a NoneType"),
    Case("frontier grid None", lambda c: frontier(c.book, None), InvalidValueError, "'cash_grid' is None"),
    Case("frontier book None", lambda c: frontier(None, [1e9]), InvalidValueError, "'portfolio' is a NoneType"),
]


@dataclass
class Context:
    book: Portfolio
    result: object
    folder: object


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = Portfolio(*load_example())
    return Context(book, liquidate(book, 1e9), tmp_path_factory.mktemp("api_corpus"))


def test_the_corpus_covers_every_face():
    assert len(CASES) >= 80 and len({c.name for c in CASES}) == len(CASES)
    calls = " ".join(c.name for c in CASES)
    for face in ("order", "basket", "frontier", "stress", "profile", "report", "desk", "vwap"):
        assert face in calls


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_refused_by_name(case, ctx):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            answer = case.call(ctx)
    except (InputError, LiquidationError) as exc:  # a named refusal: the expected class and its phrase
        assert isinstance(case.expected, type) and isinstance(exc, case.expected), f"{type(exc).__name__}: {exc}"
        assert case.phrase in str(exc), str(exc)
        return
    except Exception as exc:  # anything else is a raw error: the corpus allows none
        pytest.fail(f"raw {type(exc).__name__}: {exc}")
    if case.expected == DESK:
        assert answer.status == "bad_input" and case.phrase in answer.message, answer.message
    elif case.expected == LISTED:
        assert not answer.ok and any(case.phrase in p for p in answer.problems), answer.problems
    else:
        pytest.fail(f"accepted; expected {case.expected.__name__}")


def test_percent_text_reads_as_a_fraction_as_in_a_book(ctx):
    """max_pov and pov_cap take "20%" as 0.2, the way a book's pov column reads it."""
    as_text = optimize_schedule(ORDER, periods=13, max_pov="20%", start="2026-03-02")
    as_number = optimize_schedule(ORDER, periods=13, max_pov=0.2, start="2026-03-02")
    pd.testing.assert_frame_equal(as_text.schedule, as_number.schedule)
    text = liquidity_profile(ctx.book, pov_cap="20%", horizons=(1, 3), time_limit=10)
    number = liquidity_profile(ctx.book, pov_cap=0.2, horizons=(1, 3), time_limit=10)
    pd.testing.assert_frame_equal(text.buckets, number.buckets)
