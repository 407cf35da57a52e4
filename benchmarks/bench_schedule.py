"""Schedule build speed: 3,000 names over 5 days of 5-minute buckets (about 1.2M rows).

Run: ``python benchmarks/bench_schedule.py``. Prints a markdown table of medians (7 runs).
Each name's POV is set so that its trade time falls in (4, 5] days.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from versions import header  # noqa: E402

from krg_liquidity import pov_schedule, vwap_schedule  # noqa: E402


def trades(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    adv = rng.uniform(1e6, 2e7, n)
    pov = rng.uniform(0.05, 0.2, n)
    days = rng.uniform(4.05, 4.95, n)
    size = days * pov / (1 - pov)
    return pd.DataFrame({"symbol": [f"S{i:04d}" for i in range(n)], "shares": -np.round(size * adv), "adv": adv,
                         "pov": pov})


def median_seconds(fn, repeat=7):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    print(header())
    print("| schedule | names | bucket (min) | rows | days | median (s) |")
    print("|---|---|---|---|---|---|")
    for n in (300, 3000):
        book = trades(n)
        seconds, plan = median_seconds(lambda: pov_schedule(book, bucket_minutes=5, start="2026-03-02"))
        print(f"| POV | {n} | 5 | {len(plan):,} | {plan['day'].max()} | {seconds:.3f} |")
        seconds, plan = median_seconds(lambda: vwap_schedule(book, horizon_days=5, bucket_minutes=5,
                                                             start="2026-03-02"))
        print(f"| VWAP | {n} | 5 | {len(plan):,} | {plan['day'].max()} | {seconds:.3f} |")


if __name__ == "__main__":
    main()
