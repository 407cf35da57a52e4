"""The one-file report: its HTML holds the result's numbers and loads nothing; the Excel reads back."""

from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import krg_liquidity as krg
from krg_liquidity.book.datasets import data_path
from krg_liquidity.cli import app
from krg_liquidity.report import build_report, render_html

LIMITS = {"risk_band": (0.9, 1.1), "max_total_mi_bps": 50.0}


class Tables(HTMLParser):
    """Every table of a page by id: rows of (text, data-value) cells; and every external reference."""

    def __init__(self):
        super().__init__()
        self.tables, self.current, self.row, self.cell, self.links = {}, None, None, None, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("src", "href"):
            if key in attrs and not attrs[key].startswith("data:"):
                self.links.append(attrs[key])
        if tag in ("script", "link", "iframe"):
            self.links.append(tag)
        if tag == "table":
            self.current = self.tables.setdefault(attrs.get("id"), [])
        elif tag == "tr" and self.current is not None:
            self.row = []
            self.current.append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ["", attrs.get("data-value")]
            self.row.append(self.cell)

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[0] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.cell = None
        elif tag == "table":
            self.current = None


@pytest.fixture(scope="module")
def solved():
    book = krg.Portfolio(*krg.load_example())
    result = krg.round_trades(krg.liquidate(book, 1e9, **LIMITS))
    return book, result, build_report(result, book, start="2026-11-23", **LIMITS)


def _values(table, column):
    header = [text.strip() for text, _ in table[0]]
    index = header.index(column)
    return [row[index] for row in table[1:]]


def test_html_totals_equal_the_result(solved):
    book, result, report = solved
    page = render_html(report)
    parsed = Tables()
    parsed.feed(page)
    assert parsed.links == []  # opens offline: no script, stylesheet or image from anywhere
    assert page.count("data:image/png;base64,") == 3  # frontier, completion, basket
    summary = {row[0][0]: row[1] for row in parsed.tables["summary"]}
    assert float(summary["cash raised"][1]) == result.cash_raised
    assert summary["cash raised"][0] == f"{result.cash_raised:,.0f}"
    assert float(summary["impact cost (USD)"][1]) == result.cost_usd
    assert summary["impact cost (bps of cash raised)"][0] == f"{result.cost_bps:.2f}"
    # the most cash as the answer trades (whole shares): the figure the tool raises when typed back
    assert float(summary["most cash the limits allow"][1]) == krg.tradable_cash(book, 1, **LIMITS)
    trades = parsed.tables["trades"]
    values = _values(trades, "value traded usd")
    costs = _values(trades, "cost usd")
    assert len(values) == int((result.trades["shares_traded"] != 0).sum()) + 1  # + the total row
    assert sum(float(v) for _, v in values[:-1]) == pytest.approx(-result.cash_raised, rel=1e-12)
    assert float(values[-1][1]) == pytest.approx(-result.cash_raised, rel=1e-12)
    assert float(costs[-1][1]) == pytest.approx(result.cost_usd, rel=1e-12)
    reached = [text for text, _ in _values(trades, "limit reached")]
    assert "participation cap" in reached and "min weight" in reached
    basket = parsed.tables["basket"]
    assert float(_values(basket, "cash raised usd")[-1][1]) == pytest.approx(result.cash_raised, rel=1e-9)
    assert float(_values(parsed.tables["pretrade"], "market impact usd")[-1][1]) > 0
    frontier = parsed.tables["frontier"]
    assert [t for t, _ in _values(frontier, "status")] == ["optimal"] * 8
    assert all(text == "0" for text, _ in _values(frontier, "gap usd"))  # dollars, not 0.0e+00
    comparison = parsed.tables["comparison"]
    assert [t for t, _ in _values(comparison, "method")] == ["optimized", "pro rata", "most liquid first"]
    risks = [t for t, _ in _values(comparison, "risk before")] + [t for t, _ in _values(comparison, "risk after")]
    assert all(t.endswith("%") for t in risks), risks  # one unit for risk before and after
    costs = [float(v) for _, v in _values(comparison, "cost usd")]
    assert costs[0] == pytest.approx(result.cost_usd, rel=1e-12) and min(costs[1:]) > costs[0]


def test_failed_request_report_says_why():
    book = krg.Portfolio(*krg.load_example())
    result = krg.liquidate(book, 6e9, raise_on_failure=False, **LIMITS)
    page = result.to_html(book, **LIMITS)
    assert "infeasible" in page and "Why there is no trade list" in page and "at most $1,621," in page
    assert "<table id='trades'" not in page


def test_excel_report_reads_back(solved, tmp_path):
    book, result, report = solved
    path = result.to_excel(tmp_path / "report.xlsx", book, **LIMITS)
    sheets = pd.read_excel(path, sheet_name=None)
    assert set(sheets) == {"request", "summary", "assumptions", "trades", "liquidity", "schedule", "grid", "basket",
                           "frontier", "comparison", "pretrade"}
    assert list(sheets["comparison"]["method"]) == ["optimized", "pro_rata", "waterfall"]
    summary = dict(zip(sheets["summary"]["key"], sheets["summary"]["value"]))
    assert float(summary["cash_raised"]) == pytest.approx(result.cash_raised, rel=1e-12)
    assert float(summary["cost_usd"]) == pytest.approx(result.cost_usd, rel=1e-12)
    assert sheets["trades"]["value_traded_usd"].sum() == pytest.approx(-result.cash_raised, rel=1e-12)
    assert sheets["schedule"]["shares"].sum() == result.trades["shares_traded"].sum()
    request = dict(zip(sheets["request"]["key"], sheets["request"]["value"]))
    assert request["risk_band_lo"] == 0.9 and request["max_total_mi_bps"] == 50
    import openpyxl

    comparison = openpyxl.load_workbook(path)["comparison"]
    column = [cell.value for cell in comparison[1]].index("max_violation") + 1
    assert comparison.cell(row=2, column=column).number_format == "0.00%"  # 1.3e-14 reads 0.00%, not 1.26E-14


def test_report_command_writes_html(tmp_path):
    out = tmp_path / "report.html"
    run = CliRunner().invoke(app, ["report", str(data_path("example_portfolio.csv")), "--cash", "1e9", "--covariance",
                                   str(data_path("example_covariance.csv")), "--risk-band", "0.9", "1.1",
                                   "--max-total-mi-bps", "50", "--output", str(out)])
    assert run.exit_code == 0, run.output
    assert "optimal: wrote" in run.output
    parsed = Tables()
    parsed.feed(out.read_text())
    summary = {row[0][0]: row[1] for row in parsed.tables["summary"]}
    assert np.isclose(float(summary["cash raised"][1]), 1e9, rtol=1e-5)


def test_report_command_refuses_unknown_extension(tmp_path):
    run = CliRunner().invoke(app, ["report", str(data_path("example_portfolio.csv")), "--cash", "1e9",
                                   "--output", str(tmp_path / "report.pdf")])
    assert run.exit_code == 2 and "use one of .html, .htm, .xlsx" in run.output


def test_max_cash_gets_half_the_report_budget(monkeypatch):
    """A band and an impact cap make max_cash a sequence of solves (3.7 s on a 40-name book, where the
    report used to give it 30/9 s and said "most cash not found"): it now gets half the budget and
    the frontier's points share what it leaves."""
    from books import covariance_of

    import krg_liquidity.report.content as content

    asked, real = [], content.most_tradable

    def spy(portfolio, lot_size, *, time_limit=None, **limits):
        asked.append(time_limit)
        return real(portfolio, lot_size, time_limit=time_limit, **limits)

    monkeypatch.setattr(content, "most_tradable", spy)
    holdings, model = krg.synthetic_universe(40, seed=3)
    book = krg.Portfolio(holdings, covariance_of(model))
    limits = {"risk_band": (0.9, 1.1), "max_total_mi_bps": 20.0}
    result = krg.liquidate(book, 0.1 * book.net_value_usd, **limits)
    report = build_report(result, book, time_limit=30.0, frontier_points=4, **limits)
    assert asked == [15.0]
    assert report.max_cash is not None and report.max_cash > result.cash_target
    assert not any("most cash not found" in note for note in report.notes)
    assert (report.frontier["status"] == "optimal").all()


def test_the_report_shows_the_groups_and_the_liquidity_left(tmp_path):
    holdings, covariance = krg.load_example()
    sectored = holdings.assign(Sector=[f"S{i % 4}" for i in range(len(holdings))])
    book = krg.Portfolio(sectored, covariance)
    limits = krg.Limits(**LIMITS, group_column="Sector", group_limits={"max_weight_change": 0.002},
                        max_pct_adv=0.5, max_sold_fraction=0.3)
    result = krg.liquidate(book, 1e9, limits=limits)
    report = build_report(result, book, start="2026-11-23", limits=limits)
    parsed = Tables()
    parsed.feed(render_html(report))
    groups = parsed.tables["groups"]
    assert [t for t, _ in _values(groups, "group")] == ["S0", "S1", "S2", "S3", "total"]
    after = [float(v) for _, v in _values(groups, "weight after")[:-1]]
    assert after == pytest.approx(result.groups["weight_after"].tolist(), abs=1e-15)
    assert float(_values(groups, "value sold usd")[-1][1]) == pytest.approx(result.cash_raised, rel=1e-12)
    assert any("max weight" in t or "min weight" in t for t, _ in _values(groups, "limit reached"))
    liquidity = parsed.tables["liquidity"]
    assert [t for t, _ in _values(liquidity, "book")] == ["today", "after"]
    sellable = [float(v) for _, v in _values(liquidity, "sellable 5d")]
    assert sellable == pytest.approx(result.liquidity_left["sellable_5d"].tolist(), rel=1e-12)
    request = {row[0][0]: row[1][0] for row in parsed.tables["request"]}
    assert "at most 50% of ADV traded" in request["all limits, in words"]
    path = result.to_excel(tmp_path / "report.xlsx", book, limits=limits)
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets["groups"]["group"]) == ["S0", "S1", "S2", "S3"]
    assert list(sheets["liquidity"]["book"]) == ["today", "after"]
    asked = dict(zip(sheets["request"]["key"], sheets["request"]["value"]))
    assert asked["max_sold_fraction"] == 0.3 and asked["group_limits.max_weight_change"] == 0.002
    assert asked["group_column"] == "Sector"


def test_the_liquidity_left_grows_with_the_horizon_on_the_bundled_book():
    """Its names' ub_max_pct_adv caps each day's sale, not the whole sale: more days, more sold."""
    book = krg.Portfolio(*krg.load_example())
    table = krg.liquidate(book, 1e9, **LIMITS).liquidity_left
    assert np.isfinite(table["days_to_liquidate"]).all()
    assert (table["sellable_1d"] < table["sellable_5d"]).all() and (table["sellable_5d"] <= table["sellable_20d"]).all()
