"""Build the example book ``example_portfolio.csv`` and ``example_covariance.csv``.

A $10B long-only book over the Dow-28 (market data from ``dow28_market.csv`` and
``dow28_covariance.csv``, see README.md here) in the shape of MATLAB's TradeDataPortOpt.
Weights are drawn once (seed 2014) and frozen in the CSV; the bounds are rules of thumb
a risk desk might set:

* LB_Wt / UB_Wt: final weight between 0.5x and 1.5x today's weight.
* LB_MinShares: 50% of today's shares for the ten largest positions (a core holding);
  LB_MinValue: 40% of today's value for the others.
* UB_MaxShares / UB_MaxValue: 120% of today's shares and value (they bind only with buys).
* UB_MaxPctADV: trade at most 10% of a day's volume (5% for the five least liquid names).
* UB_MaxMI_bps: at most 25 bps of impact in any one name.
* TradeTime: 1 day (0.5 day for the five most liquid names).

Raising 10% ($1B) is feasible, with the participation caps of the least liquid
names binding; raising 60% is not: the minimum holdings alone keep 45% of the book,
and the participation caps allow only a fraction of the rest to be sold in a day.

Usage: ``python data/build_example.py``.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
BOOK_USD = 10_000_000_000.0


def main() -> None:
    market = pd.read_csv(HERE / "dow28_market.csv", index_col="symbol")
    covariance = pd.read_csv(HERE / "dow28_covariance.csv", index_col=0)
    rng = np.random.default_rng(2014)
    weight = rng.dirichlet(np.full(len(market), 4.0))
    shares = np.round(weight * BOOK_USD / market["price"].to_numpy())
    value = shares * market["price"].to_numpy()
    weight = value / value.sum()
    by_size = np.argsort(-value)
    by_liquidity = np.argsort(market["adv_usd"].to_numpy())
    core = np.zeros(len(market), dtype=bool)
    core[by_size[:10]] = True
    pct_adv = np.full(len(market), 0.10)
    pct_adv[by_liquidity[:5]] = 0.05
    trade_time = np.ones(len(market))
    trade_time[by_liquidity[-5:]] = 0.5
    book = pd.DataFrame({
        "Symbol": market.index,
        "Shares": shares,
        "Price": market["price"].to_numpy(),
        "Value": np.round(value, 2),
        "ADV": market["adv"].to_numpy(),
        "Volatility": market["volatility"].to_numpy(),
        "TradeTime": trade_time,
        "LB_Wt": np.round(0.5 * weight, 6),
        "UB_Wt": np.round(1.5 * weight, 6),
        "LB_MinShares": np.where(core, np.round(0.5 * shares), np.nan),
        "LB_MinValue": np.where(core, np.nan, np.round(0.4 * value, 2)),
        "UB_MaxShares": np.round(1.2 * shares),
        "UB_MaxValue": np.round(1.2 * value, 2),
        "UB_MaxPctADV": pct_adv,
        "UB_MaxMI_bps": 25.0,
    })
    book.to_csv(HERE / "example_portfolio.csv", index=False)
    covariance.to_csv(HERE / "example_covariance.csv", float_format="%.10g")
    print(book.to_string())
    print(f"book value ${value.sum():,.0f}")


if __name__ == "__main__":
    main()
