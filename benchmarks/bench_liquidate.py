"""Liquidation speed and quality: krg_liquidity against a plain cvxpy + Clarabel formulation
(benchmarks/plain.py) and an fmincon-like SLSQP, side by side in one run.

Run: ``python benchmarks/bench_liquidate.py [--quick] [--only SECTION]``. Prints the versions and
the load average, then markdown tables (medians of repeated calls; ours and the baselines side by
side in the same run, so their ratios hold on a loaded machine even when the times do not).

Books are synthetic (``synthetic_universe``, 10 factors), 10% of the book to raise,
participation caps of 10% of ADV on half the names. Bands are set relative to the
unconstrained optimum's risk ratio r: a binding ceiling hi = r - 0.02, a binding floor
lo = r + 0.01, an unreachable floor lo = 2. "full" books carry the factor model's covariance
as a full matrix (MATLAB's case); "factor" books the factor model itself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from plain import plain_liquidate  # noqa: E402
from versions import header  # noqa: E402

from krg_liquidity import Portfolio, liquidate, load_example, synthetic_universe  # noqa: E402
from krg_liquidity.whatif.baseline import slsqp_liquidate  # noqa: E402


def book(n: int, seed: int, factor: bool) -> Portfolio:
    holdings, model = synthetic_universe(n, n_factors=10, seed=seed)
    rng = np.random.default_rng(seed)
    holdings["ub_max_pct_adv"] = np.where(rng.uniform(size=n) < 0.5, 0.1, np.nan)
    if factor:
        return Portfolio(holdings, factor_model=model)
    b = model.exposures.to_numpy()
    cov = b @ model.factor_covariance.to_numpy() @ b.T + np.diag(model.specific_variance.to_numpy())
    return Portfolio(holdings, pd.DataFrame(cov, index=holdings.symbol, columns=holdings.symbol))


def timed(fn, repeat: int):
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def ratio_r(portfolio: Portfolio, cash: float) -> float:
    free = liquidate(portfolio, cash)
    return free.risk_after / free.risk_before


def outcome(fn):
    try:
        return fn()
    except Exception as exc:  # a failure is a result of the benchmark, printed as such
        return exc


def targets(quick: bool, repeat: int) -> None:
    print("\n### Targets: ours against a plain cvxpy + Clarabel formulation (same book, same run)\n")
    print("| case | n | risk model | ours median (ms) | our path | status, gap | plain median (ms) | plain / ours | "
          "cost ours / plain | target | met |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    cases = [("separable (no band)", 3000, True, None, 10), ("separable (no band)", 10000, True, None, 30),
             ("ceiling binds (hi = r - 0.02)", 100, False, "ceiling", 20),
             ("ceiling binds (hi = r - 0.02)", 5000, True, "ceiling", 200),
             ("floor binds (lo = r + 0.01)", 100, True, "floor", 50),
             ("floor binds (lo = r + 0.01)", 100, False, "floor", 50),
             ("floor binds (lo = r + 0.01)", 1000, True, "floor", 300),
             ("floor binds (lo = r + 0.01)", 5000, True, "floor", 1000),
             ("unreachable floor (lo = 2)", 100, False, "unreachable", 2000),
             ("unreachable floor (lo = 2)", 1000, True, "unreachable", 2000)]
    if quick:
        cases = [c for c in cases if c[1] <= 1000]
    for label, n, factor, kind, target_ms in cases:
        portfolio = book(n, seed=n, factor=factor)
        cash = 0.1 * portfolio.net_value_usd
        r = ratio_r(portfolio, cash)
        band = {None: None, "ceiling": (0.0, r - 0.02), "floor": (r + 0.01, 10.0), "unreachable": (2.0, 10.0)}[kind]
        ours_s, ours = timed(lambda: outcome(lambda: liquidate(portfolio, cash, risk_band=band)), repeat)
        plain_repeat = 1 if n >= 3000 or kind == "unreachable" else 3
        plain_s, plain = timed(lambda: outcome(lambda: plain_liquidate(portfolio, cash, band)), plain_repeat)
        if isinstance(ours, Exception):
            path, status = "-", f"{type(ours).__name__}"
        else:
            path, status = ours.method, f"{ours.status}, {ours.gap:.1e}"
        if isinstance(plain, Exception) or plain[0] is None:
            agree = "plain failed" if kind != "unreachable" else "-"
        else:
            agree = f"{ours.cost_usd / plain[1]:.9f}" if not isinstance(ours, Exception) else "-"
        met = "yes" if ours_s * 1e3 <= target_ms else "no"
        print(f"| {label} | {n:,} | {'factor' if factor else 'full'} | {ours_s * 1e3:.1f} | {path} | {status} | "
              f"{plain_s * 1e3:.0f} | {plain_s / ours_s:.1f}x | {agree} | <= {target_ms:,} ms | {met} |")


def bundled(repeat: int) -> None:
    print("\n### The bundled example book (28 names, full covariance), raise $1B\n")
    print("| risk band | median (ms) | status | path | max violation | stages |")
    print("|---|---|---|---|---|---|")
    holdings, covariance = load_example()
    portfolio = Portfolio(holdings, covariance)
    for band in [(1.02, 1.05), (1.01, 1.05), (0.9, 1.1), (0.95, 1.0), (1.6, 10.0)]:
        seconds, result = timed(lambda: liquidate(portfolio, 1e9, risk_band=band, raise_on_failure=False), repeat)
        stages = " -> ".join(f"{s['stage']} ({s['outcome']})" for s in result.stages)
        violation = f"{result.max_violation:.1e}" if result.success else "-"
        print(f"| {band[0]}-{band[1]} | {seconds * 1e3:.1f} | {result.status} | {result.method or '-'} | "
              f"{violation} | {stages} |")


def certified_gaps(quick: bool) -> None:
    print("\n### Certified gap under a binding floor (k = 10 factors)\n")
    print("| n | risk model | floor above r | seconds | gap (certified) | status |")
    print("|---|---|---|---|---|---|")
    for n in ([50, 200] if quick else [50, 200, 500]):
        for factor in (True, False):
            for step in (0.01, 0.03, 0.05):
                portfolio = book(n, seed=n + 7, factor=factor)
                cash = 0.1 * portfolio.net_value_usd
                r = ratio_r(portfolio, cash)
                seconds, result = timed(lambda: liquidate(portfolio, cash, risk_band=(r + step, 10.0),
                                                          raise_on_failure=False), 1)
                gap = f"{result.gap:.1e}" if result.success else "-"
                print(f"| {n} | {'factor' if factor else 'full'} | {step:.2f} | {seconds:.3f} | {gap} | {result.status} |")


def against_slsqp(sizes, repeat) -> None:
    print("\n### Against an fmincon-like SLSQP (full covariance, one start at today's weights)\n")
    print("| n | band | ours median (ms) | our path | SLSQP (s) | speed-up | SLSQP cost / ours |")
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        portfolio = book(n, seed=n, factor=False)
        cash = 0.1 * portfolio.net_value_usd
        r = ratio_r(portfolio, cash)
        for label, band in (("0.9-1.1 (slack)", (0.9, 1.1)), ("ceiling binds", (0.0, r - 0.02)),
                            ("floor binds", (r + 0.01, 10.0))):
            ours_s, ours = timed(lambda: liquidate(portfolio, cash, risk_band=band), repeat)
            base_s, base = timed(lambda: slsqp_liquidate(portfolio, cash, risk_band=band), 1)
            print(f"| {n} | {label} | {ours_s * 1e3:.1f} | {ours.method} | {base_s:.2f} | {base_s / ours_s:.0f}x | "
                  f"{base['cost_usd'] / ours.cost_usd:.6f} |")


def whole_vs_search(sizes, repeat: int) -> None:
    """The whole call against its multiplier search alone (no band: the separable path), same calls."""
    from krg_liquidity.solve import optimize

    print("\n### The whole call against its search (no band, factor model; the same calls)\n")
    print("| n | whole call median (ms) | search median (ms) | whole / search | multiplier evaluations |")
    print("|---|---|---|---|---|")
    search = optimize.solve_separable
    for n in sizes:
        portfolio = book(n, seed=n, factor=True)
        cash = 0.1 * portfolio.net_value_usd
        liquidate(portfolio, cash)  # the per-book arrays are read once, not timed
        spent: list[float] = []

        def timed_search(*args, **kwargs):
            start = time.perf_counter()
            found = search(*args, **kwargs)
            spent.append(time.perf_counter() - start)
            return found

        optimize.solve_separable = timed_search
        try:
            whole, result = timed(lambda: liquidate(portfolio, cash), repeat)
        finally:
            optimize.solve_separable = search
        inner = statistics.median(spent)
        print(f"| {n:,} | {whole * 1e3:.1f} | {inner * 1e3:.1f} | {whole / inner:.2f} | {result.iterations} |",
              flush=True)


SECTIONS = ("targets", "whole", "bundled", "gaps", "slsqp")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only these sections (repeatable)")
    args = parser.parse_args()
    sections = args.only or SECTIONS
    print(header())
    liquidate(book(20, 0, False), 1e6)  # import and first-call warm-up, not timed
    plain_liquidate(book(20, 0, False), 1e6)
    repeat = 3 if args.quick else 7
    if "targets" in sections:
        targets(args.quick, repeat)
    if "whole" in sections:
        whole_vs_search([3000, 10000] if args.quick else [3000, 10000, 100000], repeat)
    if "bundled" in sections:
        bundled(repeat)
    if "gaps" in sections:
        certified_gaps(args.quick)
    if "slsqp" in sections:
        against_slsqp([10, 50] if args.quick else [10, 50, 100], repeat)


if __name__ == "__main__":
    main()
