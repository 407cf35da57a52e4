"""An impossible request's explanation agrees with itself: the Why line, the "at most" figures and the
blocking table name the same limits and the same numbers, and a limit moved as far as the table says is
enough (on the bundled book)."""

import re

import pytest

import krg_liquidity as krg
from krg_liquidity import InfeasibleLiquidation


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
    assert re.search(r"participation cap \(ub_max_pct_adv\)\s+up to about \$[\d,]+ on one name", str(error))
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
    conflicts; the re-solve settles them through participation alone, yet the weight bounds are in the table too
    (with the gap they alone would have to give)."""
    holdings, covariance = krg.load_example()
    floors = holdings.copy()
    floors.loc[floors.index[:10], "LB_MinValue"] = 0.5 * (floors["Shares"] * floors["Price"])[:10]
    error = refusal(krg.Portfolio(floors, covariance), 5e9)
    why = str(error).splitlines()[1]
    named = {group for pair in re.findall(r"\((\w+) vs (\w+)\)", why) for group in pair}
    assert named == {"weight", "participation"}
    assert named <= set(error.blocking)
    assert "(or the other limit of its conflict gives instead)" in str(error)


@pytest.mark.parametrize("band", [(0.5, 0.6), (1.6, 10.0)])
def test_a_risk_bound_row_says_at_least(book, band):
    """The band's rows rest on bounds of the least (most) reachable risk: moving the band that far is needed
    and may not be enough (0.987 is still refused, 0.988 answers), so the row says 'at least'."""
    message = str(refusal(book, 1e9, risk_band=band))
    row = message.splitlines()[-1]
    assert "at least" in row and ("band top" in row) == (band[1] < 1)
