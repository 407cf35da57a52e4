"""One reading of a cash target for every face: dollars, shorthands, percent; small targets refused."""

import pytest

import krg_liquidity as krg
from krg_liquidity.core.cash import cash_usd, parse_cash
from krg_liquidity.core.errors import InputError

NAV = 1e10


@pytest.mark.parametrize("text, usd", [
    ("1e9", 1e9), ("1,000,000,000", 1e9), ("$1,000,000,000", 1e9), ("$1e9", 1e9), ("1000000000", 1e9),
    ("250m", 2.5e8), ("250M", 2.5e8), ("250mm", 2.5e8), ("250 MM", 2.5e8), ("1.5bn", 1.5e9), ("1.5BN", 1.5e9),
    ("1.5b", 1.5e9), ("$1.5bn", 1.5e9), ("750k", 7.5e5), ("750K", 7.5e5), ("1,250m", 1.25e9), ("10%", 1e9),
    ("2.5 %", 2.5e8), (1e9, 1e9), (250_000_000, 2.5e8),
])
def test_amounts_as_a_pm_writes_them(text, usd):
    assert cash_usd(text, NAV) == pytest.approx(usd, rel=1e-15)


@pytest.mark.parametrize("text", ["a billion", "1,5", "10m%", "1.5 trillion", "m", "$", "", "nan", "inf", "1e9x"])
def test_anything_else_is_refused_by_name(text):
    with pytest.raises(InputError, match="is not an amount"):
        parse_cash(text, "column 'cash'")


@pytest.mark.parametrize("value", ["-1e9", "0", "(3,000)", -5.0, 0.0, "0%"])
def test_not_positive_is_refused(value):
    with pytest.raises(InputError, match="positive number of dollars"):
        cash_usd(value, NAV)


@pytest.mark.parametrize("value, guess", [(0.142, "did you mean 14.2%?"), ("0.142", "did you mean 14.2%?"),
                                          (10, "did you mean 10%?"), (999.0, ""), ("5k", "")])
def test_small_targets_are_refused_with_the_percent_they_meant(value, guess):
    with pytest.raises(InputError, match="allow_small_cash=True") as caught:
        cash_usd(value, NAV)
    assert guess in str(caught.value)
    assert cash_usd(value, NAV, allow_small_cash=True) > 0


def test_small_means_below_1000_on_a_book_worth_millions_or_below_a_millionth():
    assert cash_usd(999.0, 5e5) == 999.0  # a $500k book: $999 is 0.2% of it
    with pytest.raises(InputError):
        cash_usd(999.0, 1e6)
    assert cash_usd(1_000.0, 1e6) == 1_000.0
    with pytest.raises(InputError):
        cash_usd(9_999.0, 1e10)  # below 1e-6 of $10B
    with pytest.raises(InputError, match="below a cent"):
        cash_usd(0.001, 100.0, allow_small_cash=True)


@pytest.mark.parametrize("cash, nav, floor, rule", [
    (1_000.0, 1e10, "$10,000", "one millionth of the book's net value"),
    (999.0, 5e6, "$1,000", "$1,000 on a book worth $1M or more"),
    (0.01, 3e4, "$0.03", "one millionth of the book's net value"),
])
def test_small_cash_message_names_the_floor_that_applied(cash, nav, floor, rule):
    """Issue 16 trial item 9: "$1,000.00 ... below $1,000 (on a book worth millions) or one millionth"
    did not say that $10,000 was the floor on a $10B book (and $1,000 is not below $1,000)."""
    with pytest.raises(InputError) as caught:
        cash_usd(cash, nav, name="--cash", allow="pass --allow-small-cash")
    text = str(caught.value)
    assert f"below the smallest target of {floor} ({rule})" in text, text
    assert "on a book worth millions" not in text and "pass --allow-small-cash to raise" in text


def test_python_faces_take_text_and_refuse_small_cash():
    book = krg.Portfolio(*krg.load_example())
    nav = book.net_value_usd
    assert krg.liquidate(book, "10%").cash_target == pytest.approx(0.1 * nav, rel=1e-12)
    assert krg.liquidate(book, "250m").cash_target == 2.5e8
    assert krg.pro_rata(book, "$1.5bn").cash_target == 1.5e9
    table = krg.compare(book, "250m", max_pct_adv=0.2)
    assert (table["cash_raised_usd"] > 2.5e8 - 1).all()
    for call in (lambda: krg.liquidate(book, 0.142), lambda: krg.compare(book, 0.142),
                 lambda: krg.stress_test(book, 0.142, with_max_cash=False),
                 lambda: krg.waterfall(book, "0.142")):
        with pytest.raises(InputError, match=r"did you mean 14\.2%\?"):
            call()
    small = krg.liquidate(book, 500.0, allow_small_cash=True)
    assert small.success and small.cash_target == 500.0
    table = krg.stress_test(book, 500.0, krg.whatif.scenarios.BUILT_IN[:1], with_max_cash=False, allow_small_cash=True)
    assert set(table["status"]) <= {"optimal", "feasible", "limits_broken"}


def test_frontier_takes_text_points_and_gives_a_refused_one_its_row():
    book = krg.Portfolio(*krg.load_example())
    table = krg.frontier(book, ["5%", "250m", 0.142])
    assert table["cash"].iloc[:2].tolist() == pytest.approx([0.05 * book.net_value_usd, 2.5e8], rel=1e-12)
    assert table["status"].tolist() == ["optimal", "optimal", "bad_input"]
    assert "did you mean 14.2%?" in table["message"].iloc[2]


def test_money_is_written_with_the_sign_first_and_cents_when_small():
    """Issue 16 trial B17: "$-750,000" for a long/short book's negative net value, "cash target $0" for
    --cash 0.142 --allow-small-cash, "time limit inf s"."""
    import pandas as pd

    book = krg.Portfolio(pd.DataFrame({"symbol": ["A", "B"], "shares": [1000.0, -8500.0], "price": [100.0, 100.0],
                                       "adv": [1e5, 1e5], "volatility": [0.2, 0.2], "trade_time": [1.0, 1.0]}))
    with pytest.raises(krg.InputError, match=r"which is -\$750,000; give the cash in dollars"):
        krg.liquidate(book, "10%")
    example = krg.Portfolio(*krg.load_example())
    small = krg.liquidate(example, 0.142, allow_small_cash=True, time_limit=float("inf"))
    text = small.summary()
    assert "cash target    $0.14" in text and "no time limit" in text and "inf s" not in text
