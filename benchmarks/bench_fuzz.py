"""The large fuzz pass: random books in every regime (tests/test_fuzz.py is its small twin).

Run: ``python benchmarks/bench_fuzz.py [--draws N] [--budget SECONDS]``. Prints a markdown
table per regime: how the calls ended, the slowest call against its budget, and the counts
that must stay zero (an answer failing the independent check, "infeasible" without a proof,
a call past its budget by more than 10%).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from checks import assert_feasible  # noqa: E402
from fuzz_books import draw  # noqa: E402
from versions import header  # noqa: E402

from krg_liquidity import liquidate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--budget", type=float, default=10.0)
    args = parser.parse_args()
    print(header())
    statuses: dict[str, Counter] = defaultdict(Counter)
    slowest: dict[str, float] = defaultdict(float)
    unverified, unproven, late = [], [], []
    for seed in range(args.draws):
        drawn = draw(seed, sizes=(4, 8, 13, 30, 57, 120, 250))
        if drawn is None:
            continue
        holdings, covariance, book, cash, limits, regime = drawn
        started = time.perf_counter()
        result = liquidate(book, cash, time_limit=args.budget, raise_on_failure=False, **limits)
        elapsed = time.perf_counter() - started
        statuses[regime][result.status] += 1
        slowest[regime] = max(slowest[regime], elapsed)
        if elapsed > 1.1 * args.budget:
            late.append(seed)
        if result.success:
            try:
                assert_feasible(holdings, result, cash, covariance=covariance, risk_band=limits.get("risk_band"),
                                max_total_mi_bps=limits.get("max_total_mi_bps"), allow_buys=limits["allow_buys"])
            except AssertionError:
                unverified.append(seed)
        elif result.status == "infeasible" and not any(s["outcome"] == "proof" for s in result.stages):
            unproven.append(seed)
    names = sorted({status for counter in statuses.values() for status in counter})
    print(f"{args.draws} draws, budget {args.budget:g} s per call\n")
    print("| regime | " + " | ".join(names) + " | slowest call (s) |")
    print("|---|" + "---|" * len(names) + "---|")
    for regime in sorted(statuses):
        print(f"| {regime} | " + " | ".join(str(statuses[regime][s]) for s in names) + f" | {slowest[regime]:.2f} |")
    print(f"\nanswers failing the independent check: {len(unverified)} {unverified[:10]}")
    print(f"'infeasible' without a proof: {len(unproven)} {unproven[:10]}")
    print(f"calls past 110% of the budget: {len(late)} {late[:10]}")


if __name__ == "__main__":
    main()
