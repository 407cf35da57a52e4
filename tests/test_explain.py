"""An impossible request's explanation agrees with itself: the Why line, the "at most" figures and the
blocking table name the same limits and the same numbers, and a limit moved as far as the table says is
enough (on the bundled book)."""

import re

import pytest

import krg_liquidity as krg
from krg_liquidity import InfeasibleLiquidation
from krg_liquidity.solve.explain import blocking_rows


@pytest.fixture(scope="module")
def book():
    holdings, covariance = krg.load_example()
    return krg.Portfolio(holdings, covariance)


def refusal(book, cash, **kwargs) -> InfeasibleLiquidation:
    with pytest.raises(InfeasibleLiquidation) as info:
        krg.liquidate(book, cash, **kwargs)
    return info.value


def figure(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text!r}"
    return float(found.group(1).replace(",", ""))


@pytest.mark.parametrize("cap", [5.0, 9.9])
def test_total_impact_cap_row_moves_the_cap_to_the_least_impact(book, cap):
    """The Why's least impact X is the cap's target in the table (X - cap away); a cap moved there is
    enough, a cap a little below it is still refused."""
    message = str(refusal(book, 1e9, max_total_mi_bps=cap))
    least = figure(r"least possible impact is ([\d.]+) bps", message)
    target = figure(rf"\(cap {cap:g} -> ([\d.]+) bps\)", message)
    give = figure(r"total impact cap \(max_total_mi_bps\)\s+([\d.]+) bps", message)
    assert target == least and give == pytest.approx(least - cap, abs=1e-9)
    assert krg.liquidate(book, 1e9, max_total_mi_bps=target).cost_bps <= target
    refusal(book, 1e9, max_total_mi_bps=target - 0.002)


def test_risk_ceiling_row_moves_the_top_to_the_proven_least_risk(book):
    """Band 0.5-0.6: the proof says no trade list leaves less than 0.9870x; the table moves the top there
    (not to an elastic figure that also relaxes the per-name limits)."""
    error = refusal(book, 1e9, risk_band=(0.5, 0.6))
    message = str(error)
    least = figure(r"leaves less than ([\d.]+)x", message)
    assert figure(r"band top 0\.6 -> ([\d.]+)x", message) >= least
    assert set(error.blocking) == {"risk_ceiling"} and error.blocking_exact
    assert error.blocking["risk_ceiling"] == pytest.approx(least - 0.6, abs=1e-4)
    refusal(book, 1e9, risk_band=(0.5, least - 0.01))


@pytest.mark.parametrize("bottom", [1.6, 1.02])
def test_risk_floor_row_moves_the_bottom_to_the_proven_most_risk(book, bottom):
    """The floor's row reads 'band bottom 1.6 -> 1.0183x': down to the proven most risk, shown to the same
    digits as the Why (never rounded above it), and the give is the distance between the two."""
    message = str(refusal(book, 1e9, risk_band=(bottom, 10.0)))
    most = figure(r"leaves more than ([\d.]+)x", message)
    target = figure(rf"band bottom {bottom:g} -> ([\d.]+)x", message)
    assert target == most
    assert figure(r"at least ([\d.]+)% of today's risk", message) == pytest.approx((bottom - most) * 100, abs=1e-9)


def test_an_estimated_floor_give_says_about(book):
    """The elastic re-solve linearizes the floor (a restriction): its gives are estimates, said with 'about';
    without a floor they are not."""
    error = refusal(book, 1e9, risk_band=(1.01, 10.0), max_total_mi_bps=10.5)
    assert "risk_floor" in error.blocking and not error.blocking_exact
    assert re.search(r"risk floor \(risk_band lo\)\s+about [\d.]+% of today's risk \(band bottom 1.01 -> [\d.]+x\)",
                     str(error))
    assert all(" about " in f" {give}" for _, give in blocking_rows(
        error.blocking, error.blocking_units, exact=False, totals=error.blocking_totals))
    if set(error.blocking) == {"risk_floor"}:  # the floor alone gives: moved as far as the table says is enough
        target = figure(r"band bottom 1.01 -> ([\d.]+)x", str(error))
        assert krg.liquidate(book, 1e9, risk_band=(target, 10.0), max_total_mi_bps=10.5).success
    plain = refusal(book, 1.7e9)
    assert plain.blocking_exact and "about" not in str(plain)


def test_one_most_cash_per_message(book):
    """Volume halved: the headline's most cash and the Why's per-name reach differ (the weight bounds move
    with the cash); the Why ties its figure to the requested target so the two do not contradict."""
    holdings, covariance = krg.load_example()
    thin = krg.Portfolio(holdings.assign(ADV=holdings["ADV"] * 0.5), covariance)
    error = refusal(thin, 1e9)
    headline, why = str(error).splitlines()[:2]
    assert figure(r"at most \$([\d,]+) can be raised", headline) == pytest.approx(error.max_cash, abs=1)
    assert "at most" not in why.replace("at a $1,000,000,000 target the per-name limits let the names raise at most",
                                        "")
    assert "less at a smaller one" in why


def test_a_conflict_named_in_the_why_is_in_the_table(book):
    """A final-value floor at half the position on 10 names, raising $5B: the Why names weight-vs-participation
    conflicts; both limits of the conflict are in the table (from the re-solve, or with the gap one alone would
    have to give when the re-solve settles them through the other)."""
    holdings, covariance = krg.load_example()
    floors = holdings.copy()
    floors.loc[floors.index[:10], "LB_MinValue"] = 0.5 * (floors["Shares"] * floors["Price"])[:10]
    error = refusal(krg.Portfolio(floors, covariance), 5e9)
    why = str(error).splitlines()[1]
    named = {group for pair in re.findall(r"\((\w+) vs (\w+)\)", why) for group in pair}
    assert named == {"weight", "participation"}
    assert named <= set(error.blocking)
    table = str(error).split("would have to give:")[1]
    assert "final-weight bounds" in table and "participation cap" in table


@pytest.mark.parametrize("band", [(0.5, 0.6), (1.6, 10.0)])
def test_a_risk_bound_row_says_at_least(book, band):
    """The band's rows rest on bounds of the least (most) reachable risk: moving the band that far is needed
    and may not be enough (0.987 is still refused, 0.988 answers), so the row says 'at least'."""
    message = str(refusal(book, 1e9, risk_band=band))
    row = message.splitlines()[-1]
    assert "at least" in row and ("band top" in row) == (band[1] < 1)


def test_a_cash_and_a_floor_both_out_of_reach_are_both_said_with_the_floors_proof(book):
    """Issue 16 trial: $3B with a 1.6x floor and a 50 bps cap was explained as a cash problem only (the floor's
    row an estimate, "1.6 -> 1.0717x", at the target), although the floor is proven out of reach at the most
    cash the other limits allow. The headline, the Why and the floor's row give that proof and its amount."""
    error = refusal(book, 3e9, risk_band=(1.6, 10.0), max_total_mi_bps=50)
    headline, why = str(error).splitlines()[:2]
    most = figure(r"at most \$([\d,]+) can be raised within the other limits", headline)
    assert "the risk floor is out of reach too" in headline and error.max_cash is None
    assert figure(r"and at \$([\d,]+) no trade list", why) == most
    highest = figure(r"leaves more than ([\d.]+)x today's risk \(floor 1\.6x\)", why)
    row = re.search(r"risk floor \(risk_band lo\)\s+(.*)", str(error)).group(1)
    assert row.startswith("at least ") and f"1.6 -> {highest:.4f}x) at ${most:,.0f}" in row
    again = refusal(book, most, risk_band=(1.6, 10.0), max_total_mi_bps=50)  # the floor's own proof there
    assert figure(r"leaves more than ([\d.]+)x", str(again)) == highest


def test_the_desk_says_why_there_is_no_most_cash_without_blaming_time(book):
    """Issue 16 trial: the desk's most cash for the same request said "no target ... was raised in time"."""
    from krg_liquidity.desk.solve import DeskRequest, most_cash

    most, why = most_cash(book, DeskRequest(3e9, risk_band=(1.6, 10.0), max_total_mi_bps=50, time_limit=30))
    assert most is None and "time" not in why and "the risk floor cannot be met" in why


@pytest.mark.parametrize("cash, band", [(6e9, (0.5, 0.6)), (1e9, (0.0, 0.975))])
def test_no_cash_target_names_the_ceiling_that_blocks_every_target(book, cash, band):
    """Issue 16 trial: "no cash target can be met" with a Why about weight vs participation at $6B: the headline
    and the Why did not fit. The ceiling blocks every target (the solver's certificate); the Why says so first,
    and the claim holds: a small target is refused too, and max_cash finds nothing."""
    error = refusal(book, cash, risk_band=band)
    headline, why = str(error).splitlines()[:2]
    assert "no cash target can be met" in headline
    assert why.startswith(f"Why: the risk ceiling ({band[1]:g}x today's risk) cannot be met at any cash target")
    assert f"Blocking limits at ${cash:,.0f}" in str(error)
    refusal(book, 1e8, risk_band=band)
    with pytest.raises(InfeasibleLiquidation):
        krg.max_cash(book, risk_band=(0.0, band[1]))


def test_a_per_name_row_gives_its_total_over_the_names(book):
    """Issue 16 trial: "up to about $3,180,046 on one name" hid a ~$78M total shortfall at $1.7B (band
    0.9-1.1, 50 bps cap). Each per-name row says the total and how many names, then the largest."""
    error = refusal(book, 1.7e9, risk_band=(0.9, 1.1), max_total_mi_bps=50)
    reach = figure(r"let the names raise at most \$([\d,]+)", str(error))
    row = re.search(r"participation cap \(ub_max_pct_adv\)\s+(.*)", str(error)).group(1)
    assert re.fullmatch(r"about \$[\d,]+ in all over \d+ names \(up to \$[\d,]+ on one name\)", row), row
    total = sum(usd for usd, _ in error.blocking_totals.values())
    single = sum(v for k, v in error.blocking.items() if error.blocking_units[k] == "USD per name"
                 and k not in error.blocking_totals)
    assert total + single >= (1.7e9 - reach) * (1 - 1e-6)  # the names give at least what the target is short


def test_a_ceiling_out_of_reach_for_a_small_sale_does_not_read_as_too_much_cash():
    """A ceiling 3% under the after-tax optimum's risk ratio cannot be met by a 30% sale of this book, but a larger
    sale meets it: the message must not say "at most $X" with X above the target as if the target were too large."""
    from books import random_lots, small_book

    holdings, covariance, _ = small_book(2, n=8, bounds=False)
    book = krg.Portfolio(holdings, covariance)
    cash = 0.3 * book.net_value_usd
    rates = krg.TaxRates(short_term=0.37, long_term=0.238, as_of="2026-12-01")
    free = krg.liquidate(book, cash, lots=random_lots(book.holdings, 2), tax=rates)
    hi = 0.97 * free.risk_after / free.risk_before
    with pytest.raises(InfeasibleLiquidation) as caught:
        krg.liquidate(book, cash, limits=krg.Limits(risk_band=(0.0, hi)))
    error = caught.value
    assert error.max_cash > cash
    assert "only by a larger sale" in str(error) and "at most" not in str(error).splitlines()[0]
    assert krg.liquidate(book, error.max_cash * 0.99, limits=krg.Limits(risk_band=(0.0, hi))).success
