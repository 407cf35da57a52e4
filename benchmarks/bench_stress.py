"""Stress test of a 3,000-name factor book under 20 scenarios, against 20 separate ``liquidate`` calls.

Run: ``python benchmarks/bench_stress.py [--repeats 3] [--names 3000]``. Prints one markdown
table, every row measured in this run, side by side (each repeat runs every variant in turn;
medians over the repeats). The book is synthetic (``synthetic_universe``, 10 factors), half the
names carry a 10%-of-ADV participation cap, and 10% of the book is raised. Two requests: no risk
band (the separable path) and a binding risk ceiling (hi = r - 0.02, r the unconstrained
optimum's risk ratio: the dual path). Scenarios: ADV x {1, 0.8, 0.6, 0.5, 0.4} times
volatility x {1, 1.5, 2, 2.5}.

"20 separate calls" is what a user writes without ``stress_test``: for each scenario, build the
shocked holdings and factor model, ``Portfolio(...)`` (validated) and ``liquidate`` from cold.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from versions import header  # noqa: E402

from krg_liquidity import FactorModel, Portfolio, Scenario, liquidate, stress_test, synthetic_universe  # noqa: E402

ADV = (1.0, 0.8, 0.6, 0.5, 0.4)
VOL = (1.0, 1.5, 2.0, 2.5)


def book(n: int):
    holdings, model = synthetic_universe(n, n_factors=10, seed=3)
    holdings["ub_max_pct_adv"] = np.where(np.arange(n) % 2 == 0, 0.1, np.nan)
    return holdings, model


def separate(holdings, model, cash, scenarios, limits) -> list[float]:
    costs = []
    for s in scenarios:
        shocked = holdings.assign(adv=holdings.adv * s.adv, volatility=holdings.volatility * s.volatility)
        factors = FactorModel(model.exposures * s.volatility, model.factor_covariance,
                              model.specific_variance * s.volatility**2)
        costs.append(liquidate(Portfolio(shocked, factor_model=factors), cash, raise_on_failure=False, **limits).cost_usd)
    return costs


def timed(run):
    started = time.perf_counter()
    out = run()
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--names", type=int, default=3000)
    args = parser.parse_args()
    print(header())
    holdings, model = book(args.names)
    portfolio = Portfolio(holdings, factor_model=model)
    cash = round(0.1 * portfolio.net_value_usd)
    free = liquidate(portfolio, cash)
    ratio = free.risk_after / free.risk_before
    scenarios = [Scenario(f"adv x{a:g}, vol x{v:g}", adv=a, volatility=v) for a in ADV for v in VOL]
    requests = {"no band (separable)": {}, f"ceiling binds (hi = {ratio - 0.02:.4f})": {"risk_band": (0.0, ratio - 0.02)}}
    print(f"# benchmarks/bench_stress.py ({args.names:,} names, 10 factors, {len(scenarios)} scenarios, "
          f"medians of {args.repeats}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start)\n")
    print("| request | variant | wall (s) | ratio to 20 separate calls | optimized costs vs separate (max rel. diff) | "
          "statuses |")
    print("|---|---|---|---|---|---|")
    for label, limits in requests.items():
        variants = {
            "20 separate liquidate calls (build + solve)": lambda: separate(holdings, model, cash, scenarios, limits),
            "stress_test, optimized only, 1 process": lambda: stress_test(
                portfolio, cash, scenarios, methods=("optimized",), with_max_cash=False, workers=1, **limits),
            "stress_test, optimized only, 2 processes": lambda: stress_test(
                portfolio, cash, scenarios, methods=("optimized",), with_max_cash=False, workers=2, **limits),
            "stress_test, optimized + pro-rata + waterfall, 1 process": lambda: stress_test(
                portfolio, cash, scenarios, with_max_cash=False, workers=1, max_pct_adv=0.1, **limits),
            "stress_test, all three + max_cash, 2 processes": lambda: stress_test(
                portfolio, cash, scenarios, with_max_cash=True, workers=2, max_pct_adv=0.1, **limits),
        }
        times = {name: [] for name in variants}
        outputs = {}
        for repeat in range(args.repeats):
            for name, run in variants.items():
                if "max_cash" in name and repeat > 0:
                    continue  # the slow variant once
                seconds, outputs[name] = timed(run)
                times[name].append(seconds)
        reference = np.asarray(outputs["20 separate liquidate calls (build + solve)"])
        base = statistics.median(times["20 separate liquidate calls (build + solve)"])
        for name, values in times.items():
            wall = statistics.median(values)
            out = outputs[name]
            if isinstance(out, list):
                diff, statuses = "–", f"{np.isfinite(reference).sum()} solved"
            else:
                opt = out[out["method"] == "optimized"]["cost_usd"].to_numpy()
                both = np.isfinite(opt) & np.isfinite(reference)
                diff = f"{np.max(np.abs(opt[both] / reference[both] - 1)):.1e}" if both.any() else "–"
                statuses = ", ".join(f"{m} {s}: {v}" for (m, s), v in out.groupby(["method", "status"]).size().items())
            runs = "" if len(values) == args.repeats else " (1 run)"
            print(f"| {label} | {name}{runs} | {wall:.2f} | {wall / base:.2f}x | {diff} | {statuses} |")


if __name__ == "__main__":
    main()
