"""Random liquidation requests in every regime, for the fuzz test and its benchmark-sized twin.

Each draw is (holdings, covariance, portfolio, cash, limits, regime). Bands are set relative
to the unconstrained optimum's risk ratio r: a ceiling below it, a floor above it (by 1-5%),
a floor no book can reach, a slack band; with or without a total-impact cap, weight bounds,
shorts, buys, a full covariance or a factor model.
"""

import numpy as np
from books import small_book

from krg_liquidity import Portfolio, liquidate

REGIMES = ("slack", "ceiling", "floor", "narrow", "cap", "unreachable_floor", "tight_cap")


def draw(seed: int, sizes=(4, 8, 13, 30, 57)):
    rng = np.random.default_rng(seed)
    regime = REGIMES[seed % len(REGIMES)]
    n = int(rng.choice(sizes))
    shorts = 0.2 if rng.uniform() < 0.3 else 0.0
    holdings, covariance, model = small_book(seed, n=n, short_fraction=shorts, bounds=rng.uniform() < 0.6)
    factor = rng.uniform() < 0.5
    book = Portfolio(holdings, factor_model=model) if factor else Portfolio(holdings, covariance)
    if book.net_value_usd <= 0:
        return None
    allow_buys = bool(rng.uniform() < 0.2)
    cash = float(rng.uniform(0.02, 0.3)) * book.net_value_usd
    free = liquidate(book, cash, allow_buys=allow_buys, raise_on_failure=False, time_limit=10)
    if not free.success:
        limits = {"allow_buys": allow_buys}
        return holdings, covariance, book, cash, limits, "out_of_reach"
    r = free.risk_after / free.risk_before
    step = float(rng.uniform(0.01, 0.05))
    limits = {"allow_buys": allow_buys}
    if regime == "slack":
        limits["risk_band"] = (0.5 * r, 2.0 * r)
    elif regime == "ceiling":
        limits["risk_band"] = (0.0, r - step)
    elif regime == "floor":
        limits["risk_band"] = (r + step, 10.0)
    elif regime == "narrow":
        limits["risk_band"] = (r + step, r + step + 0.01)
    elif regime == "cap":
        limits["risk_band"] = (0.0, r - step)
        limits["max_total_mi_bps"] = free.cost_bps * float(rng.uniform(1.0, 1.5))
    elif regime == "unreachable_floor":
        limits["risk_band"] = (3.0, 10.0)
    else:
        limits["max_total_mi_bps"] = free.cost_bps * float(rng.uniform(0.5, 0.99))
    return holdings, covariance, book, cash, limits, regime
