"""The independent check of a schedule (``schedule/check.py``), one limit at a time.

A two-name, three-period schedule meets every limit the check knows; each case moves shares so that
exactly one breaks, and the check must report that key and no other (a check that skips a limit,
or reads only one side of it, fails its case). Shares move within a name's row, so its total and
the cash at the end stay as they were, unless the case is about them.
"""

import numpy as np
import pytest

from krg_liquidity.schedule.check import check_schedule

QUANTITY = np.array([300.0, 200.0])  # shares to trade: name 0 sells, name 1 buys
SIDE = np.array([1.0, -1.0])  # +1 sells (raises cash)
PRICE = np.array([100.0, 50.0])
VOLUME = np.full((2, 3), 1_000.0)  # market shares per bucket
MAX_POV = np.array([0.2, 0.2])  # 250 shares in a bucket of 1,000 is POV 0.2
MILESTONES = [(2, 10_000.0)]  # at least $10,000 raised by the end of period 2
LAST_PERIOD = np.array([3, 2])  # name 1 done by period 2
BASE = np.array([[100.0, 100.0, 100.0],
                 [100.0, 100.0, 0.0]])  # cash by period 2: 200 x $100 - 200 x $50 = $10,000


def moved(*changes: tuple[int, int, float]) -> np.ndarray:
    shares = BASE.copy()
    for name, period, more in changes:
        shares[name, period] += more
    return shares


CASES = [
    ("a name trades more than its order", moved((0, 2, 1.0)), "totals_shares"),
    ("a bucket goes negative", moved((0, 2, -110.0), (0, 0, 110.0)), "negative_shares"),
    ("a bucket holds half a share", moved((0, 0, 0.5), (0, 2, -0.5)), "whole_shares"),
    ("a bucket trades above the participation cap", moved((0, 0, 160.0), (0, 1, -80.0), (0, 2, -80.0)), "pov_cap"),
    ("the cash milestone is missed", moved((0, 1, -50.0), (0, 2, 50.0)), "cash_milestones"),
    ("a name trades after its last period", moved((1, 1, -20.0), (1, 2, 20.0)), "horizon_shares"),
]


def found_for(shares: np.ndarray) -> dict[str, float]:
    return check_schedule(shares, QUANTITY, VOLUME, MAX_POV, SIDE, PRICE, MILESTONES, LAST_PERIOD)[0]


def test_the_cases_cover_every_limit_the_check_knows():
    assert set(found_for(BASE)) == {key for _, _, key in CASES}


def test_the_base_schedule_meets_every_limit():
    found, cash = check_schedule(BASE, QUANTITY, VOLUME, MAX_POV, SIDE, PRICE, MILESTONES, LAST_PERIOD)
    assert found == {key: 0.0 for key in found}
    assert cash[1] == 10_000.0


@pytest.mark.parametrize(("shares", "key"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_the_check_names_the_one_limit_broken(shares, key):
    found = found_for(shares)
    assert found[key] > 1e-3
    assert {other: value for other, value in found.items() if other != key} == {
        other: 0.0 for other in found if other != key}
