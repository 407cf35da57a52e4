"""Small random books for optimizer tests (synthetic, seeded)."""

import numpy as np
import pandas as pd

from krg_liquidity import synthetic_universe


def covariance_of(model) -> pd.DataFrame:
    b = model.exposures.to_numpy()
    c = b @ model.factor_covariance.to_numpy() @ b.T + np.diag(model.specific_variance.to_numpy())
    return pd.DataFrame(c, index=model.exposures.index, columns=model.exposures.index)


def small_book(seed: int, n: int = 6, short_fraction: float = 0.0, bounds: bool = True):
    """(holdings, covariance, factor_model) with a few random limits when ``bounds``."""
    holdings, model = synthetic_universe(n, n_factors=2, seed=seed, short_fraction=short_fraction)
    rng = np.random.default_rng(seed + 1000)
    if bounds:
        value = holdings["shares"] * holdings["price"]
        weight = value / value.sum()
        holdings["ub_max_pct_adv"] = np.where(rng.uniform(size=n) < 0.5, rng.uniform(0.05, 0.3, n), np.nan)
        holdings["lb_wt"] = np.where(rng.uniform(size=n) < 0.3, 0.5 * weight, np.nan)
        holdings["ub_max_mi_bps"] = np.where(rng.uniform(size=n) < 0.3, rng.uniform(20, 60, n), np.nan)
        holdings["lb_min_value"] = np.where(rng.uniform(size=n) < 0.3, 0.3 * value.abs(), np.nan)
        holdings["lb_min_value"] = np.where(holdings["shares"] > 0, holdings["lb_min_value"], np.nan)
    return holdings, covariance_of(model), model


def random_lots(holdings: pd.DataFrame, seed: int, per_name: int = 3,
                as_of: pd.Timestamp = pd.Timestamp("2026-12-01")) -> pd.DataFrame:
    """Lots adding up to each position: bases from 40% to 140% of the price, ages from 10 days to 6 years."""
    rng = np.random.default_rng(seed)
    rows = []
    for symbol, shares, price in zip(holdings["symbol"], holdings["shares"], holdings["price"]):
        parts = rng.dirichlet(np.ones(per_name)) * shares
        parts[-1] = shares - parts[:-1].sum()
        for k, part in enumerate(parts):
            rows.append({"Symbol": symbol, "Shares": part, "Unit Cost": price * rng.uniform(0.4, 1.4),
                         "Open Date": (as_of - pd.Timedelta(days=int(rng.integers(10, 2200)))).date().isoformat(),
                         "Lot": f"{symbol}/{k}"})
    return pd.DataFrame(rows)
