"""The independent check (``solve/verify.py``) and the acceptance gate, one limit at a time.

One request carries every limit the check knows (each per-name bound on its own name, the cash
target, the total-impact cap, the risk band's floor and ceiling, sales only). Each case moves a
few shares of a trade list that meets them all so that exactly one limit breaks: the check must
report that limit's key and no other, and the gate must refuse the trades naming it. A check
that skips a limit, or reads only one side of it (raising too much cash, covering a short past
zero), fails its case.

The book is built so that the cases are exact: prices are $100 and trades whole shares (the cash
adds up to the cent), and the risk model is one factor with betas 1, except name F (beta 2) and
name G (beta 0, its own risk): the risk of the weights is then set by F's and G's weights alone,
so moving shares between the other names leaves it where it was.
"""

import numpy as np
import pandas as pd
import pytest

from krg_liquidity import CostModel, Portfolio, SolverFailure
from krg_liquidity.core.plan import Budget, Trail
from krg_liquidity.solve.limits import LABELS, NAME_LIMITS, LiquidityLeft, TrackingError, coupling_limits
from krg_liquidity.solve.request import Limits, liquidation_request
from krg_liquidity.solve.result import finished_result
from krg_liquidity.solve.verify import ACCEPT_VIOLATION, violations

SYMBOLS = list("ABCDEFGHJK")
SHARES = np.array([10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 40_000, 1_000, -1_000], dtype=float)
BETA = np.array([1, 1, 1, 1, 1, 2, 0, 1, 1, 1], dtype=float)
RISK_BAND = (0.98, 1.02)  # today's risk x 1.000 after the base trades (F's and G's weights are unchanged)
MAX_TOTAL_MI_BPS = 8.0  # the base trades cost 5.6 bps; every case but the cap's stays under 7.1 bps


def the_book() -> Portfolio:
    """$11.0M net: A has weight bounds, B share bounds, C value bounds, D a participation cap, E an impact
    cap; F and G set the risk; H, J (long) and K (short) have no limit of their own."""
    nan = np.nan
    covariance = 0.04 * np.outer(BETA, BETA) + np.diag(np.where(BETA == 0, 0.01, 0.0) + 1e-6)
    holdings = pd.DataFrame({
        "symbol": SYMBOLS, "shares": SHARES, "price": 100.0,
        "adv": [1e5] * 7 + [2e5, 1e5, 1e5], "volatility": np.sqrt(np.diag(covariance)), "trade_time": 1.0,
        "lb_wt": [0.07] + [nan] * 9, "ub_wt": [0.11] + [nan] * 9,
        "lb_min_shares": [nan, 7_000] + [nan] * 8, "ub_max_shares": [nan, 9_000] + [nan] * 8,
        "lb_min_value": [nan, nan, 700e3] + [nan] * 7, "ub_max_value": [nan, nan, 900e3] + [nan] * 7,
        "ub_max_pct_adv": [nan] * 3 + [0.025] + [nan] * 6,
        "ub_max_mi_bps": [nan] * 4 + [6.0] + [nan] * 5,
    })
    return Portfolio(holdings, pd.DataFrame(covariance, index=SYMBOLS, columns=SYMBOLS))


BASE_SOLD = 0.2 * SHARES  # shares sold per name (a short's negative: bought back); every limit met
CASH = float((BASE_SOLD * 100.0).sum())  # $2.2M


def sold(**more: float) -> np.ndarray:
    """The base trades with ``more`` shares sold (negative: fewer sold, or bought) of the named symbols."""
    out = BASE_SOLD.copy()
    for symbol, shares in more.items():
        out[SYMBOLS.index(symbol)] += shares
    assert float((out * 100.0).sum()) == CASH or not more, "a case that moves shares keeps the cash exact"
    return out


# (case, the trades: shares sold per name, the one limit they break)
CASES = [
    ("buys a long", sold(J=-400, H=400), "direction"),
    ("sells more than held", sold(J=1_000, H=-1_000), "direction"),
    ("sells more of a short", sold(K=500, H=-500), "direction"),
    ("covers a short past zero", sold(K=-1_000, H=1_000), "direction"),
    ("weight below lb_wt", sold(A=2_000, H=-2_000), "weight"),
    ("weight above ub_wt", sold(A=-2_000, H=2_000), "weight"),
    ("shares below lb_min_shares", sold(B=1_500, H=-1_500), "final_shares"),
    ("shares above ub_max_shares", sold(B=-1_500, H=1_500), "final_shares"),
    ("value below lb_min_value", sold(C=1_500, H=-1_500), "final_value"),
    ("value above ub_max_value", sold(C=-1_500, H=1_500), "final_value"),
    ("participation above ub_max_pct_adv", sold(D=1_000, H=-1_000), "participation"),
    ("impact above ub_max_mi_bps", sold(E=1_500, H=-1_500), "impact_cap"),
    ("raises too little cash", BASE_SOLD * 0.999, "cash"),
    ("raises too much cash", BASE_SOLD * 1.001, "cash"),
    ("total impact above max_total_mi_bps", sold(H=5_200, A=-1_000, B=-1_000, C=-1_000, D=-1_000, E=-1_000, J=-200),
     "total_impact_cap"),
    ("risk above the band", sold(F=-2_000, H=2_000), "risk_ceiling"),
    ("risk below the band", sold(G=-2_000, H=2_000), "risk_floor"),
]


SHAPE_KEYS = {TrackingError.key, LiquidityLeft.key}
"""The tracking-error and liquidity limits: not in this request (their cases, and the group limits', are in
test_groups.py)."""
ALL_IN = "total_cost_cap"  # the all-in cost cap has its own case below (it needs a cost column on the book)
CHECKED = set(LABELS) - SHAPE_KEYS - {ALL_IN}


@pytest.fixture(scope="module")
def book() -> Portfolio:
    return the_book()


def found_for(book: Portfolio, shares_sold: np.ndarray) -> dict[str, float]:
    return violations(book, SHARES - shares_sold, CASH, allow_buys=False, risk_band=RISK_BAND,
                      max_total_mi_bps=MAX_TOTAL_MI_BPS, cost_model=CostModel(), traded=-shares_sold)


def test_the_cases_cover_every_limit_the_check_knows():
    keys = {limit.key for limit in NAME_LIMITS} | {limit.key for limit in coupling_limits(RISK_BAND, MAX_TOTAL_MI_BPS)}
    assert keys == CHECKED == {key for _, _, key in CASES}
    assert ALL_IN in {limit.key for limit in coupling_limits(None, None, 10.0)}


def test_the_base_trades_meet_every_limit(book):
    found = found_for(book, BASE_SOLD)
    assert set(found) == CHECKED  # every limit applies to this request
    assert found == {key: 0.0 for key in found}
    result = finished_result(liquidation_request(book, CASH, limits=Limits(RISK_BAND, MAX_TOTAL_MI_BPS)),
                             BASE_SOLD / book.array("adv"), 0.0, None, "test", Trail(Budget(None)))
    assert result.max_violation == 0.0 and result.cash_raised == CASH


@pytest.mark.parametrize(("shares_sold", "key"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_the_check_names_the_one_limit_broken(book, shares_sold, key):
    found = found_for(book, shares_sold)
    assert set(found) == CHECKED
    assert found[key] > 100 * ACCEPT_VIOLATION  # well past the tolerance: not a rounding question
    assert {other: value for other, value in found.items() if other != key} == {
        other: 0.0 for other in found if other != key}


@pytest.mark.parametrize(("shares_sold", "key"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_the_gate_refuses_naming_the_limit(book, shares_sold, key):
    request = liquidation_request(book, CASH, limits=Limits(RISK_BAND, MAX_TOTAL_MI_BPS))
    with pytest.raises(SolverFailure, match=rf"\({key}\); refusing"):
        finished_result(request, shares_sold / book.array("adv"), 0.0, None, "test", Trail(Budget(None)))



@pytest.mark.parametrize(("switch", "key"), [("floor", "risk_floor"), ("cap", "total_impact_cap")])
def test_a_relaxation_leaves_out_its_limit_and_no_other(book, switch, key):
    """``LiquidationRequest.check(floor=False)`` / ``(cap=False)`` (the relaxations that drop the risk floor or the
    total-impact cap) drop exactly that limit: its case then meets every limit checked."""
    request = liquidation_request(book, CASH, limits=Limits(RISK_BAND, MAX_TOTAL_MI_BPS))
    shares_sold = next(case[1] for case in CASES if case[2] == key)
    found = request.check(SHARES - shares_sold, traded=-shares_sold, **{switch: False})
    assert set(found) == CHECKED - {key}
    assert found == {other: 0.0 for other in found}


def test_the_all_in_cost_cap_alone_breaks():
    """J quotes a 200 bps spread: selling 800 more of J (and 800 fewer of H) raises the same cash at less
    impact but 100 bps more on $80k; a cap between the two all-in costs breaks for that list alone."""
    holdings = the_book().holdings.assign(spread_bps=np.where(np.array(SYMBOLS) == "J", 200.0, 0.0))
    book = Portfolio(holdings, the_book().covariance)
    more_j = sold(J=800, H=-800)
    impact = {name: float(CostModel().bps_to_usd(CostModel().impact_bps_at_trade_time(
        np.abs(trades) / book.array("adv"), book.array("volatility"), 1.0, 100.0), np.abs(trades), 100.0).sum())
        for name, trades in (("base", BASE_SOLD), ("more_j", more_j))}
    spread = {"base": 100e-4 * 200 * 100.0, "more_j": 100e-4 * 1_000 * 100.0}  # half of 200 bps on J's sale
    total = {name: (impact[name] + spread[name]) / CASH * 1e4 for name in impact}
    assert total["more_j"] > total["base"] * 1.1 and impact["more_j"] < impact["base"]
    cap = 0.5 * (total["base"] + total["more_j"])
    request = liquidation_request(book, CASH, limits=Limits(RISK_BAND, MAX_TOTAL_MI_BPS, max_total_cost_bps=cap))
    assert request.check(SHARES - BASE_SOLD, traded=-BASE_SOLD) == {key: 0.0 for key in CHECKED | {ALL_IN}}
    found = request.check(SHARES - more_j, traded=-more_j)
    assert found[ALL_IN] == pytest.approx((total["more_j"] - cap) / cap, rel=1e-9)
    assert {key: value for key, value in found.items() if key != ALL_IN} == {key: 0.0 for key in CHECKED}
    with pytest.raises(SolverFailure, match=rf"\({ALL_IN}\); refusing"):
        finished_result(request, more_j / book.array("adv"), 0.0, None, "test", Trail(Budget(None)))
