"""Books whose prices span $0.01..$100,000 and ADV 100..1e9 shares a day in the same book.

Dollar ADV then spans 1 to 1e14 (ADV x price over 14 orders of magnitude): the optimizer
must answer such books as accurately as ordinary ones. The first names pin the extremes
(cheapest and dearest price, thinnest and deepest ADV, crossed) so every book holds them.
"""

import warnings

import numpy as np
from books import covariance_of

from krg_liquidity import Portfolio, UnitsWarning, synthetic_universe

CORNERS = ((0.01, 1e2), (0.01, 1e9), (1e5, 1e2), (1e5, 1e9))


def extreme_book(seed: int, n: int | None = None, bounds: bool = False, factor: bool | None = None):
    """(holdings, covariance, portfolio, limits) for one seed: prices and ADV log-uniform over the
    full ranges, positions 100..1e9 shares drawn apart from ADV; ``bounds`` adds random per-name limits."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 41)) if n is None else n
    holdings, model = synthetic_universe(n, n_factors=2, seed=seed)
    price = np.exp(rng.uniform(np.log(0.01), np.log(1e5), n))
    adv = np.round(np.exp(rng.uniform(np.log(1e2), np.log(1e9), n)))
    for i, (p, v) in enumerate(CORNERS[:n]):
        price[i], adv[i] = p, v
    holdings["price"] = price
    holdings["adv"] = adv
    # positions drawn apart from ADV: a thin name may hold many days of its volume
    holdings["shares"] = np.round(np.exp(rng.uniform(np.log(1e2), np.log(1e9), n)))
    holdings["trade_time"] = rng.choice([0.25, 0.5, 1.0, 2.0, 5.0], n)
    if bounds:
        value = holdings["shares"] * holdings["price"]
        holdings["ub_max_pct_adv"] = np.where(rng.uniform(size=n) < 0.3, rng.uniform(0.05, 0.5, n), np.nan)
        holdings["ub_max_mi_bps"] = np.where(rng.uniform(size=n) < 0.2, rng.uniform(20, 200, n), np.nan)
        holdings["lb_min_value"] = np.where(rng.uniform(size=n) < 0.2, 0.3 * value, np.nan)
    covariance = covariance_of(model)
    factor = bool(rng.uniform() < 0.5) if factor is None else factor
    with warnings.catch_warnings():  # the dollar-ADV sanity warning is expected here
        warnings.simplefilter("ignore", UnitsWarning)
        book = Portfolio(holdings, factor_model=model) if factor else Portfolio(holdings, covariance)
    return holdings, covariance, book
