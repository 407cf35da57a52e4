"""Build ``sample_fills.csv``: 1,000 SYNTHETIC parent orders with a known I-Star truth.

Drawn by ``krg_liquidity.synthetic_fills`` (seed 2026) from the truth a1=450, a2=0.62, a3=0.85, a4=0.40,
b1=0.90 (not the published defaults), execution costs = I-Star estimate + timing risk x a standard normal
draw. Prices are rounded to 4 decimals, volatility and POV to 4 decimals. The orders are drawn, not
observed: use them to try ``krg-liquidity posttrade`` and ``krg-liquidity calibrate``.

Usage: ``python data/build_sample_fills.py``.
"""

from pathlib import Path

import krg_liquidity as krg

TRUTH = krg.IStarParams(450.0, 0.62, 0.85, 0.40, 0.90)
fills = krg.synthetic_fills(TRUTH, n=1000, seed=2026)
for column in ("decision_price", "arrival_price", "avg_price", "end_price", "volatility", "pov"):
    fills[column] = fills[column].round(4)
fills.to_csv(Path(__file__).resolve().parent / "sample_fills.csv", index=False)
print(fills.head())
