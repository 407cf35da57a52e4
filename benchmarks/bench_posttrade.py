"""Post-trade analysis and I-Star calibration at scale, and the calibration's interval coverage.

Run: ``python benchmarks/bench_posttrade.py [--repeats 3] [--calibration-orders 100000] [--bootstrap 200]
[--posttrade-orders 1000000] [--coverage 0]``. Prints one markdown table (medians over the repeats) and, with
``--coverage N``, how often the 95% bootstrap intervals of N independent fits on 2,000 orders hold the truth.

Fills are synthetic (``synthetic_fills``) from the truth a1=450, a2=0.62, a3=0.85, a4=0.40, b1=0.90, noise 1
(costs = I-Star + timing risk x N(0, 1)). Timed: ``calibrate`` on the calibration orders (robust fit, held-out
fit, bootstrap draws: above ``REFIT_LIMIT`` orders each draw is one Gauss-Newton step) and ``post_trade`` plus
its five tables on the post-trade orders (reading the checked fills included; drawing them not). Memory: the
peak of the Python allocations (``tracemalloc``, numpy and pandas included) during one more post-trade run,
not timed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from versions import header  # noqa: E402

from krg_liquidity import CalibrationWarning, IStarParams, calibrate, post_trade, synthetic_fills  # noqa: E402

TRUTH = IStarParams(450.0, 0.62, 0.85, 0.40, 0.90)
NAMES = ("a1", "a2", "a3", "a4", "b1")


def timed(run):
    started = time.perf_counter()
    out = run()
    return time.perf_counter() - started, out


def post_trade_with_tables(fills):
    result = post_trade(fills)
    return result, result.tables


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calibration-orders", type=int, default=100_000)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--posttrade-orders", type=int, default=1_000_000)
    parser.add_argument("--coverage", type=int, default=0, help="independent fits on 2,000 orders (0: none)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", CalibrationWarning)
    print(header())
    print(f"\n# benchmarks/bench_posttrade.py (medians of {args.repeats}; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at start)\n")
    print("| step | orders | wall (s) | peak Python memory (MB) | check |")
    print("|---|---|---|---|---|")
    fills = synthetic_fills(TRUTH, n=args.calibration_orders, seed=1)
    walls, fit = [], None
    for _ in range(args.repeats):
        wall, fit = timed(lambda: calibrate(fills, bootstrap=args.bootstrap, seed=1))
        walls.append(wall)
    inside = sum(row.ci_low <= getattr(TRUTH, row.parameter) <= row.ci_high for row in fit.table.itertuples())
    print(f"| calibrate, {args.bootstrap} bootstrap draws ({fit.statistics['bootstrap_method']}) | "
          f"{args.calibration_orders:,} | {statistics.median(walls):.2f} | – | truth inside {inside}/5 intervals; "
          f"z mean {fit.statistics['z_mean']:.3f} sd {fit.statistics['z_sd']:.3f} |")
    fills = synthetic_fills(TRUTH, n=args.posttrade_orders, seed=2)
    walls = []
    for _ in range(args.repeats):
        wall, (result, tables) = timed(lambda: post_trade_with_tables(fills))
        walls.append(wall)
    del result, tables
    tracemalloc.start()  # a separate run: tracing every allocation slows the step down several times
    result, tables = post_trade_with_tables(fills)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    gap = float(np.max(np.abs(result.orders[["delay_usd", "execution_usd", "opportunity_usd", "fees_usd"]].sum(axis=1)
                              - result.orders["total_usd"])))
    print(f"| post_trade + 5 tables | {args.posttrade_orders:,} | {statistics.median(walls):.2f} | "
          f"{peak:,.0f} | largest gap total vs sum of parts ${gap:.2e} |")
    if args.coverage:
        hits = np.zeros(len(NAMES))
        for seed in range(args.coverage):
            draw = calibrate(synthetic_fills(TRUTH, n=2000, seed=100 + seed), bootstrap=100, holdout=0, seed=seed)
            hits += [row.ci_low <= getattr(TRUTH, row.parameter) <= row.ci_high for row in draw.table.itertuples()]
        shown = ", ".join(f"{name} {hit / args.coverage:.0%}" for name, hit in zip(NAMES, hits))
        print(f"\nCoverage of the 95% intervals over {args.coverage} fits on 2,000 orders (100 draws each): {shown}")


if __name__ == "__main__":
    main()
