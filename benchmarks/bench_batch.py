"""Batch throughput: 1,000 synthetic books of 50 names from a shared 500-name universe.

Run: ``python benchmarks/bench_batch.py [--books N]``. Prints one markdown table, all rows
measured in this run: the local engine with 1 and 2 worker processes, and a local Dask
cluster (2 worker processes). Every book raises 10% of its value; half the books carry a
risk band that binds, set from that book's unconstrained optimum risk ratio r: a quarter
a ceiling r - 0.02, a quarter a floor r + 0.01. Input files are written to a temporary
folder first (not timed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from versions import header  # noqa: E402

from krg_liquidity import Portfolio, liquidate, run_batch, synthetic_universe  # noqa: E402


def build(folder: Path, books: int) -> Path:
    universe, model = synthetic_universe(500, n_factors=10, seed=7)
    b = model.exposures.to_numpy()
    covariance = b @ model.factor_covariance.to_numpy() @ b.T + np.diag(model.specific_variance.to_numpy())
    cov_frame = pd.DataFrame(covariance, index=universe.symbol, columns=universe.symbol)
    cov_frame.to_csv(folder / "universe_cov.csv")
    rng = np.random.default_rng(11)
    rows = []
    for i in range(books):
        pick = np.sort(rng.choice(500, 50, replace=False))
        holdings = universe.iloc[pick].assign(shares=lambda h: np.round(h.shares * rng.uniform(0.2, 1.0, 50)))
        holdings["ub_max_pct_adv"] = 0.2
        holdings.to_csv(folder / f"book_{i:04d}.csv", index=False)
        value = float((holdings.shares * holdings.price).sum())
        band = (np.nan, np.nan)
        if i % 2:
            symbols = list(holdings.symbol)
            book = Portfolio(holdings, cov_frame.loc[symbols, symbols])
            free = liquidate(book, round(0.1 * value))
            r = free.risk_after / free.risk_before
            band = (0.0, r - 0.02) if i % 4 == 1 else (r + 0.01, 10.0)
        rows.append(dict(book_id=f"B{i:04d}", holdings=f"book_{i:04d}.csv", covariance="universe_cov.csv",
                         cash=round(0.1 * value), risk_band_lo=band[0], risk_band_hi=band[1]))
    path = folder / "requests.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--books", type=int, default=1000)
    args = parser.parse_args()
    print(header())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        requests = build(folder, args.books)
        print("| engine | books | wall (s) | books/s | speed-up vs 1 worker | solved | median per-book solve (ms) |")
        print("|---|---|---|---|---|---|---|")
        base = None
        runs = [("local, 1 worker", dict(workers=1)), ("local, 2 workers", dict(workers=2))]
        for label, options in runs:
            start = time.perf_counter()
            result = run_batch(requests, folder / label.replace(" ", "_").replace(",", ""), **options)
            wall = time.perf_counter() - start
            base = base or wall
            print(f"| {label} | {args.books} | {wall:.1f} | {args.books / wall:.0f} | {base / wall:.2f}x | "
                  f"{result.summary.status.isin(('optimal', 'feasible')).sum()} | "
                  f"{result.summary.seconds.median() * 1e3:.1f} |")
        from dask.distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
            start = time.perf_counter()
            result = run_batch(requests, folder / "dask", scheduler=cluster.scheduler_address)
            wall = time.perf_counter() - start
        print(f"| Dask LocalCluster, 2 worker processes | {args.books} | {wall:.1f} | {args.books / wall:.0f} | "
              f"{base / wall:.2f}x | {result.summary.status.isin(('optimal', 'feasible')).sum()} | "
              f"{result.summary.seconds.median() * 1e3:.1f} |")
        methods = result.summary["method"].value_counts().to_dict()
        statuses = result.summary["status"].value_counts().to_dict()
        print(f"\nSolve paths used: {methods}; statuses: {statuses}")


if __name__ == "__main__":
    main()
