"""Synthetic parent-order fills with a known I-Star truth, for tests, demonstrations and benchmarks.

Each order's execution cost (bps of the arrival price, signed by side) is drawn as the truth's I-Star
market impact at the order's executed size and achieved POV plus ``noise`` times its timing risk times a
standard normal draw, so that the truth's own z-scores are standard normal and a calibration on enough
orders recovers the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.params import KISSELL_2013_ALL_DATA, IStarParams

BROKERS = ("Broker A", "Broker B", "Broker C")
ALGORITHMS = ("VWAP", "POV", "IS")


def _log_uniform(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(high), n))


def synthetic_fills(parameters: IStarParams = KISSELL_2013_ALL_DATA, n: int = 1000, seed: int = 0, *,
                    noise: float = 1.0, partial_fraction: float = 0.1, trading_days: int = 250) -> pd.DataFrame:
    """Parent orders whose costs follow ``parameters`` (plus noise scaled by timing risk).

    Parameters
    ----------
    parameters : IStarParams
        The truth (default: Kissell 2013, all data).
    n : int
        Number of orders.
    seed : int
        Random seed (the same seed gives the same orders).
    noise : float
        Standard deviation of the execution cost around the I-Star estimate, in units of the order's
        timing risk (1: the truth's z-scores are standard normal; 0: costs exactly on the model).
    partial_fraction : float
        Share of the orders only partly filled (30% to 95% of the shares).
    trading_days : int
        Trading days a year of the timing risk.

    Returns
    -------
    pandas.DataFrame
        Canonical fill columns (see :mod:`krg_liquidity.posttrade.fills`): sizes 0.2% to 30% of ADV
        (log-uniform), volatility 12% to 60%, achieved POV 2% to 40% (log-uniform), three brokers and
        three algorithms; fees half a cent a share.

    Raises
    ------
    ValueError
        ``n`` below 1, a negative ``noise`` or ``partial_fraction`` outside [0, 1].

    Examples
    --------
    >>> fills = synthetic_fills(n=3, seed=7)
    >>> list(fills.columns[:6])
    ['symbol', 'side', 'shares', 'executed_shares', 'decision_price', 'arrival_price']
    """
    if n < 1:
        raise ValueError(f"n={n}: give at least one order")
    if noise < 0 or not 0 <= partial_fraction <= 1:
        raise ValueError("noise must be >= 0 and partial_fraction in [0, 1]")
    rng = np.random.default_rng(seed)
    adv = np.round(_log_uniform(rng, 2e5, 2e7, n))
    shares = np.maximum(np.round(_log_uniform(rng, 0.002, 0.30, n) * adv), 100.0)
    partial = rng.random(n) < partial_fraction
    executed = np.where(partial, np.maximum(np.round(shares * rng.uniform(0.30, 0.95, n)), 1.0), shares)
    volatility = rng.uniform(0.12, 0.60, n)
    pov = _log_uniform(rng, 0.02, 0.40, n)
    sign = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    decision = _log_uniform(rng, 10.0, 300.0, n)
    daily = volatility / np.sqrt(trading_days)
    arrival = decision * np.exp(daily * np.sqrt(rng.uniform(0.0, 0.2, n)) * rng.standard_normal(n))
    trades = pd.DataFrame({"size": executed / adv, "volatility": volatility, "pov": pov, "price": arrival})
    model = CostModel(parameters, trading_days)
    estimate = model.market_impact(trades).to_numpy()
    risk = model.timing_risk(trades).to_numpy()
    cost_bps = estimate + noise * risk * rng.standard_normal(n)
    days = model.trade_time(trades).to_numpy()
    end = arrival * np.exp(daily * np.sqrt(days) * rng.standard_normal(n))
    return pd.DataFrame({
        "symbol": [f"S{i:05d}" for i in range(n)],
        "side": np.where(sign > 0, "buy", "sell"),
        "shares": shares.astype(np.int64),
        "executed_shares": executed.astype(np.int64),
        "decision_price": decision,
        "arrival_price": arrival,
        "avg_price": arrival * (1.0 + sign * cost_bps / 1e4),
        "end_price": end,
        "adv": adv.astype(np.int64),
        "volatility": volatility,
        "pov": pov,
        "broker": rng.choice(BROKERS, n),
        "algorithm": rng.choice(ALGORITHMS, n),
        "fees_usd": np.round(0.005 * executed, 2),
        "date": pd.bdate_range("2026-01-02", periods=max(1, n // 50 + 1))[rng.integers(0, n // 50 + 1, n)]
        .strftime("%Y-%m-%d"),
    })
