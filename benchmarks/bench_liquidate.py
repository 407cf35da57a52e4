"""Liquidation speed: krg_liquidity against an fmincon-like baseline, and scaling with n.

Run: ``python benchmarks/bench_liquidate.py [--quick]``. Prints markdown tables; every row
is measured in this run, side by side, on the same synthetic books (seeded).

Table 1: our solve vs scipy SLSQP over final weights (numeric gradients, one start at
today's weights, MATLAB's method) on books with a full covariance, 10% of the book to
raise, participation caps on half the names, total impact <= 50 bps, and a risk band
that is slack (0.9-1.1) or whose ceiling binds (so the ceiling path runs).
Table 2: scaling on books with a 10-factor model: the separable path (no band), and a
binding risk ceiling solved by the dual Newton path and by the conic program, costs compared.
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

from krg_liquidity import Portfolio, liquidate, synthetic_universe  # noqa: E402
from krg_liquidity.baseline import slsqp_liquidate  # noqa: E402


def book(n: int, seed: int, factor: bool):
    holdings, model = synthetic_universe(n, n_factors=10, seed=seed)
    rng = np.random.default_rng(seed)
    holdings["ub_max_pct_adv"] = np.where(rng.uniform(size=n) < 0.5, 0.1, np.nan)
    if factor:
        return Portfolio(holdings, factor_model=model)
    b = model.exposures.to_numpy()
    cov = b @ model.factor_covariance.to_numpy() @ b.T + np.diag(model.specific_variance.to_numpy())
    return Portfolio(holdings, pd.DataFrame(cov, index=holdings.symbol, columns=holdings.symbol))


def binding_band(portfolio: Portfolio, cash: float) -> tuple[float, float]:
    free = liquidate(portfolio, cash)
    return 0.8, 0.995 * free.risk_after / free.risk_before


def timed(fn, repeat: int):
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def against_baseline(sizes, repeat):
    print("\n### Table 1: krg_liquidity vs fmincon-like SLSQP (full covariance)\n")
    print("Band 0.9-1.1 is slack at the optimum (as in MATLAB's example): the separable path answers. "
          "Binding: the ceiling is set just below the unconstrained optimum's risk, so the ceiling path runs.\n")
    print("| n | band | ours median (ms) | ours method | SLSQP (s) | speed-up | ours cost ($) | SLSQP cost / ours | SLSQP converged |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        portfolio = book(n, seed=n, factor=False)
        cash = 0.1 * portfolio.net_value_usd
        for label, band in (("0.9-1.1", (0.9, 1.1)), ("binding", binding_band(portfolio, cash))):
            ours_s, ours = timed(lambda: liquidate(portfolio, cash, risk_band=band, max_total_mi_bps=50), repeat)
            base_s, base = timed(lambda: slsqp_liquidate(portfolio, cash, risk_band=band, max_total_mi_bps=50), 1)
            print(f"| {n} | {label} | {ours_s * 1e3:.1f} | {ours.method} | {base_s:.2f} | {base_s / ours_s:.0f}x | "
                  f"{ours.cost_usd:,.0f} | {base['cost_usd'] / ours.cost_usd:.6f} | {base['success']} |")


def scaling(sizes, repeat):
    print("\n### Table 2: scaling with a 10-factor risk model\n")
    print("| n | separable, no band (ms) | ceiling binds: dual Newton (ms) | ceiling binds: conic (ms) | "
          "cost, dual Newton / conic | cost, conic / separable (no band) |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        portfolio = book(n, seed=n, factor=True)
        cash = 0.1 * portfolio.net_value_usd
        fast_s, fast = timed(lambda: liquidate(portfolio, cash), repeat)
        band = binding_band(portfolio, cash)
        dual_s, dual = timed(lambda: liquidate(portfolio, cash, risk_band=band), repeat)
        conic_s, conic = timed(lambda: liquidate(portfolio, cash, risk_band=band, method="conic"), max(1, repeat // 3))
        assert dual.method == "ceiling" and conic.method == "conic", (dual.method, conic.method)
        agree = liquidate(portfolio, cash, method="conic").cost_usd / fast.cost_usd
        print(f"| {n} | {fast_s * 1e3:.1f} | {dual_s * 1e3:.1f} | {conic_s * 1e3:.0f} | "
              f"{dual.cost_usd / conic.cost_usd:.9f} | {agree:.9f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    args = parser.parse_args()
    liquidate(book(20, 0, False), 1e6)  # import and first-call warm-up, not timed
    if args.quick:
        against_baseline([10, 50], 3)
        scaling([100, 500], 3)
    else:
        against_baseline([10, 50, 100, 200], 7)
        scaling([100, 500, 1000, 3000, 5000], 5)


if __name__ == "__main__":
    main()
