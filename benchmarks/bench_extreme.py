"""Extreme scales: books mixing prices $0.01..$100,000 and ADV 100..1e9 shares (tests/extreme_books.py).

Run: ``python benchmarks/bench_extreme.py [--books N] [--budget SECONDS]``. For each book: 5% of
NAV with no limits, then for each limit set (a 50 bps total-impact cap, a 0.9-1.1 band, a 0.95
ceiling, a band with a 200 bps cap) 5% of NAV and 0.999 x max_cash under the same limits. Prints
how the calls ended per request kind, and the counts that must stay zero: raw exceptions,
"infeasible" without a proof, answers failing the independent check.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from checks import assert_feasible  # noqa: E402
from extreme_books import extreme_book  # noqa: E402

from krg_liquidity import LiquidationError, liquidate, max_cash  # noqa: E402

LIMITS = {"cap": {"max_total_mi_bps": 50.0}, "band": {"risk_band": (0.9, 1.1)},
          "ceiling": {"risk_band": (0.0, 0.95)}, "band+cap": {"risk_band": (0.9, 1.1), "max_total_mi_bps": 200.0}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--books", type=int, default=16)
    parser.add_argument("--budget", type=float, default=10.0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    statuses: dict[str, Counter] = defaultdict(Counter)
    raw, unproven, unverified = [], [], []
    for seed in range(args.books):
        holdings, covariance, book = extreme_book(seed, bounds=seed % 2 == 1)
        calls = [("none 5%", 0.05 * book.net_value_usd, {})]
        for name, limits in LIMITS.items():
            calls.append((f"{name} 5%", 0.05 * book.net_value_usd, limits))
            try:
                most = max_cash(book, time_limit=args.budget, **limits)
                calls.append((f"{name} 0.999 max_cash", 0.999 * most, limits))
            except LiquidationError as exc:
                statuses[f"{name} max_cash"][type(exc).__name__] += 1
            except Exception as exc:  # noqa: BLE001 - counted: must stay zero
                raw.append((seed, f"{name} max_cash", repr(exc)[:120]))
        for kind, cash, limits in calls:
            try:
                result = liquidate(book, cash, time_limit=args.budget, raise_on_failure=False, **limits)
            except Exception as exc:  # noqa: BLE001 - counted: must stay zero
                raw.append((seed, kind, repr(exc)[:120]))
                continue
            statuses[kind][result.status] += 1
            if result.success:
                try:
                    assert_feasible(holdings, result, cash, covariance=covariance, risk_band=limits.get("risk_band"),
                                    max_total_mi_bps=limits.get("max_total_mi_bps"))
                except AssertionError:
                    unverified.append((seed, kind))
            elif result.status == "infeasible" and not any(s["outcome"] == "proof" for s in result.stages):
                unproven.append((seed, kind))
    names = sorted({status for counter in statuses.values() for status in counter})
    print(f"{args.books} books, budget {args.budget:g} s per call\n")
    print("| request | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for kind in sorted(statuses):
        print(f"| {kind} | " + " | ".join(str(statuses[kind][s]) for s in names) + " |")
    print(f"\nraw exceptions: {len(raw)} {raw[:5]}")
    print(f"'infeasible' without a proof: {len(unproven)} {unproven[:10]}")
    print(f"answers failing the independent check: {len(unverified)} {unverified[:10]}")


if __name__ == "__main__":
    main()
