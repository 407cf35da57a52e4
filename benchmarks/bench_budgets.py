"""Time budgets: how much of ``time_limit`` the hard cases use, in wall-clock and in CPU time.

Run: ``python benchmarks/bench_budgets.py [--quick] [--only-full] [--repeat N]``. Prints the versions, the load average
and one markdown table: per case and budget, the wall-clock and CPU seconds of one call (CPU of
the whole process, every thread), the overrun against the budget in CPU time (the target is at
most 10% + 50 ms), the status and the stages with their recorded seconds.

Each call gets a fresh Portfolio, so a full covariance is factored inside the call (as a first
call in a notebook would). Cases: full covariance (a factor model's, as MATLAB users give it)
with a binding ceiling and a binding floor at 1,000 and 2,500 names; the same with a covariance
of full rank (nothing low-rank to find: the Cholesky factor's n rows); a binding floor on a
factor model at 20,000 names (the certificate's size); the schedule engines at 200 names; a new
user's trial (issue 16): a factor model at 200, 1,000 and 5,000 names with half the names capped at
5% of ADV, 10% of the book raised, a floor 0.01 and 0.05 above the unconstrained risk ratio r (at
r + 0.05 the local ascents stall and the conic convex-concave steps are what is left to try).

The solver libraries (cvxpy, scipy.optimize) are imported before the first timed call: loading
them is set-up of the process, recorded as a "load" stage and not counted in the time limit.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_liquidate import book  # noqa: E402
from versions import header  # noqa: E402

from krg_liquidity import Portfolio, liquidate, synthetic_universe  # noqa: E402


def fresh(portfolio: Portfolio) -> Portfolio:
    """The same book as a new Portfolio: nothing cached (the risk model is factored again)."""
    return Portfolio(portfolio.holdings, portfolio.covariance, portfolio.factor_model)


def full_rank(portfolio: Portfolio, seed: int) -> Portfolio:
    """The book with a covariance of full rank: half the factor model's correlation, half a sample
    correlation of 3n random days, at the same volatilities (no low-rank part to find)."""
    c = portfolio.covariance.to_numpy()
    n = c.shape[0]
    sample = np.corrcoef(np.random.default_rng(seed).normal(size=(3 * n, n)), rowvar=False)
    vol = np.sqrt(np.diag(c))
    mixed = 0.5 * c + 0.5 * sample * np.outer(vol, vol)
    return Portfolio(portfolio.holdings, pd.DataFrame(mixed, index=portfolio.covariance.index,
                                                      columns=portfolio.covariance.columns))


REPEAT = 1
"""Calls per row (``--repeat``): the row shows the medians of wall and CPU time, and the status and stages of
the call with the median CPU time."""


def run(label: str, portfolio: Portfolio, cash: float, band, budget: float) -> None:
    calls = []
    for _ in range(REPEAT):
        copy = fresh(portfolio)
        wall, cpu = time.perf_counter(), time.process_time()
        result = liquidate(copy, cash, risk_band=band, time_limit=budget, raise_on_failure=False)
        calls.append((time.process_time() - cpu, time.perf_counter() - wall, result))
    calls.sort(key=lambda call: call[0])
    cpu, _, result = calls[(len(calls) - 1) // 2]
    wall = float(np.median([call[1] for call in calls]))
    cpu = float(np.median([call[0] for call in calls]))
    over = cpu - (1.10 * budget + 0.05)
    stages = ", ".join(f"{s['stage']} {s['outcome']} {s['seconds']:.2f}" for s in result.stages)
    print(f"| {label} | {budget:g} | {wall:.2f} | {cpu:.2f} | {'no' if over <= 0 else f'by {over:.2f} s'} | "
          f"{result.status} | {stages} |", flush=True)


def trial(n: int, budgets) -> None:
    """The trial's book: ``synthetic_universe(n, n_factors=10, seed=3)``, every other name capped at 5% of
    ADV, 10% of the book raised, floors r + 0.01 and r + 0.05 (r: the risk ratio without a band)."""
    holdings, model = synthetic_universe(n, n_factors=10, seed=3)
    holdings.loc[holdings.index[::2], "ub_max_pct_adv"] = 0.05
    portfolio = Portfolio(holdings, factor_model=model)
    cash = 0.1 * portfolio.net_value_usd
    free = liquidate(portfolio, cash, time_limit=None)
    r = free.risk_after / free.risk_before
    for step in (0.01, 0.05):
        for budget in budgets:
            run(f"trial: floor r+{step:g}, {n:,} names, factor, 5% ADV caps", portfolio, cash, (r + step, 3.0),
                budget)


def bands(portfolio: Portfolio, cash: float) -> dict:
    free = liquidate(portfolio, cash, time_limit=None)
    r = free.risk_after / free.risk_before
    return {"ceiling binds": (0.0, r - 0.02), "floor binds": (r + 0.01, 10.0)}


def schedules(budgets) -> None:
    from krg_liquidity import optimize_basket_schedule

    holdings, model = synthetic_universe(200, n_factors=10, seed=3)
    b = model.exposures.to_numpy()
    cov = pd.DataFrame(b @ model.factor_covariance.to_numpy() @ b.T + np.diag(model.specific_variance.to_numpy()),
                       index=holdings.symbol, columns=holdings.symbol)
    orders = holdings.assign(shares=0.3 * holdings["shares"])[["symbol", "shares", "price", "adv", "volatility"]]
    optimize_basket_schedule(orders.head(5), cov.iloc[:5, :5], periods=13)  # imports, not timed
    for budget in budgets:
        wall, cpu = time.perf_counter(), time.process_time()
        plan = optimize_basket_schedule(orders, cov, periods=13, risk_aversion=1e-6, time_limit=budget)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        over = cpu - (1.10 * budget + 0.05)
        print(f"| basket schedule, 200 names x 13 periods, full | {budget:g} | {wall:.2f} | {cpu:.2f} | "
              f"{'no' if over <= 0 else f'by {over:.2f} s'} | {plan.status} | {engines(plan.attempts)} |", flush=True)


def engines(attempts: list) -> str:
    return ", ".join(f"{a.get('engine')} {a.get('status')} {a.get('seconds', float('nan')):.2f}" for a in attempts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1,000 names and budgets 0.1 and 1 s only (the "
                                                              "trial's cases run in full)")
    parser.add_argument("--only-full", action="store_true", help="only the full-covariance rows (a factor model's "
                                                                  "and full rank, 1,000 and 2,500 names)")
    parser.add_argument("--repeat", type=int, default=1, help="calls per row (medians are shown)")
    args = parser.parse_args()
    global REPEAT
    REPEAT = args.repeat
    import cvxpy  # noqa: F401  (loading, not timed: see the module's docstring)
    import scipy.optimize  # noqa: F401

    print(header())
    print("\n| case | budget (s) | wall (s) | CPU (s) | CPU over 1.1 x budget + 50 ms | status | stages (s) |")
    print("|---|---|---|---|---|---|---|")
    budgets = (0.1, 1.0) if args.quick else (0.1, 1.0, 5.0)
    for n in (1000,) if args.quick else (1000, 2500):
        portfolio = book(n, seed=n, factor=False)
        cash = 0.1 * portfolio.net_value_usd
        for kind, band in bands(portfolio, cash).items():
            for budget in budgets:
                run(f"{kind}, {n:,} names, full", portfolio, cash, band, budget)
    for n in (1000,) if args.quick else (1000, 2500):
        portfolio = full_rank(book(n, seed=n, factor=False), seed=n)
        cash = 0.1 * portfolio.net_value_usd
        for kind, band in bands(portfolio, cash).items():
            for budget in budgets:
                run(f"{kind}, {n:,} names, full rank", portfolio, cash, band, budget)
    if args.only_full:
        return
    big = book(20000, seed=5, factor=True)
    cash = 0.1 * big.net_value_usd
    floor = bands(big, cash)["floor binds"]
    for budget in (2.0,) if args.quick else (0.5, 2.0):
        run("floor binds, 20,000 names, factor", big, cash, floor, budget)
    schedules((0.1, 1.0))
    for n in (200, 1000):
        trial(n, (0.5,))
    trial(5000, (0.5, 1.0))


if __name__ == "__main__":
    main()
