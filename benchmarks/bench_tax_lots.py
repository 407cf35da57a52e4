"""Tax lots: krg_liquidity against a plain cvxpy + Clarabel formulation of the same after-tax problem, side by side.

Run: ``python benchmarks/bench_tax_lots.py [--quick]``. Prints the versions and the load average, then a
markdown table: per case the median seconds of the whole ``liquidate(..., lots=..., tax=...)`` call (reading
and checking the lots included) and of the plain formulation (written here: one sale variable per lot as a
fraction of the net value, each name's sale the sum of its lots, the I-Star cost at a fixed POV as one power
per name, the tax linear in each lot's sale; the risk ceiling through the factor rows and specific risk;
each name's power taken of its sale over its own position and the objective in hundreds of bps, as Clarabel
fails on it in raw units),
their ratio, the relative difference of their objectives (trading cost + tax, USD) and both statuses.

Books are synthetic (``synthetic_universe``, 10 factors), every name at a fixed POV of 10%, 10 lots per name
with bases from 40% to 140% of the price and ages from 10 days to 6 years, 30% of the book to raise, rates
37% short-term and 23.8% long-term. The binding ceiling is 2% below the unconstrained answer's risk ratio.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import cvxpy as cp
import numpy as np
import pandas as pd
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import print_table, timed  # noqa: E402
from versions import header  # noqa: E402

from krg_liquidity import KISSELL_2013_ALL_DATA, Limits, Portfolio, TaxRates, liquidate, synthetic_universe  # noqa: E402

AS_OF = pd.Timestamp("2026-12-01")
RATES = TaxRates(short_term=0.37, long_term=0.238, as_of=AS_OF)
LOTS_PER_NAME = 10


def book(n: int, seed: int) -> tuple[Portfolio, pd.DataFrame, object, pd.DataFrame]:
    """A factor-model book at a fixed POV of 10%, and its lots (LOTS_PER_NAME per name, adding up to each holding)."""
    holdings, model = synthetic_universe(n, n_factors=10, seed=seed)
    holdings = holdings.drop(columns=["trade_time"]).assign(pov=0.1)
    rng = np.random.default_rng(seed)
    parts = rng.dirichlet(np.ones(LOTS_PER_NAME), size=n) * holdings["shares"].to_numpy()[:, None]
    lots = pd.DataFrame({
        "symbol": np.repeat(holdings["symbol"].to_numpy(), LOTS_PER_NAME),
        "lot_id": [f"L{k}" for k in range(n * LOTS_PER_NAME)],
        "shares": parts.ravel(),
        "cost_basis_per_share": np.repeat(holdings["price"].to_numpy(), LOTS_PER_NAME)
                                * rng.uniform(0.4, 1.4, n * LOTS_PER_NAME),
        "acquired": AS_OF - pd.to_timedelta(rng.integers(10, 2200, n * LOTS_PER_NAME), unit="D"),
    })
    return Portfolio(holdings, factor_model=model), holdings, model, lots


def plain(holdings: pd.DataFrame, model, lots: pd.DataFrame, cash: float, ceiling: float | None) -> tuple[float, str]:
    """Least trading cost + tax (USD) by a plain cvxpy + Clarabel program, one sale variable per lot, and its
    status (NaN and the status when Clarabel fails)."""
    p = KISSELL_2013_ALL_DATA
    shares, price, adv = (holdings[c].to_numpy(float) for c in ("shares", "price", "adv"))
    vol, pov = holdings["volatility"].to_numpy(float), holdings["pov"].to_numpy(float)
    net = float(shares @ price)
    w0, left, dv = shares * price / net, 1 - cash / net, adv * price
    alpha = 1 + p.a2
    coef = p.a1 * vol ** p.a3 * (p.b1 * pov ** p.a4 + 1 - p.b1) * (net / dv) ** (alpha - 1)
    index = pd.Series(np.arange(len(shares)), index=holdings["symbol"].to_numpy())
    name = index.reindex(lots["symbol"]).to_numpy()
    lot_price = price[name]
    held = (AS_OF - pd.to_datetime(lots["acquired"])).dt.days.to_numpy()
    rate = np.where(held > 365, RATES.long_term, RATES.short_term)
    per_dollar = rate * (1 - lots["cost_basis_per_share"].to_numpy(float) / lot_price)
    lot_weight = lots["shares"].to_numpy(float) * lot_price / net
    y = cp.Variable(len(lots))  # fraction of each lot sold
    member = sparse.csr_matrix((np.ones(len(lots)), (name, np.arange(len(lots)))), shape=(len(shares), len(lots)))
    v = member @ cp.multiply(lot_weight, y)  # value sold per name / net value
    rows = [lot_weight @ y == cash / net, y >= 0, y <= 1]
    if ceiling is not None:
        top = np.linalg.cholesky(model.factor_covariance.to_numpy()).T @ model.exposures.to_numpy().T
        root_specific = np.sqrt(model.specific_variance.to_numpy())
        today = float(np.linalg.norm(np.concatenate([top @ w0, root_specific * w0])))
        after = w0 - v
        rows.append(cp.norm(cp.hstack([top @ after, cp.multiply(root_specific, after)])) <= ceiling * today * left)
    # each name's power taken of its sale as a fraction of its own position (O(1)); bps of the net value, / 100
    impact = cp.sum(cp.multiply(coef * w0 ** alpha, cp.power(cp.multiply(1 / w0, v), alpha, approx=False)))
    objective = (impact + 1e4 * (per_dollar * lot_weight) @ y) / 100
    problem = cp.Problem(cp.Minimize(objective), rows)
    try:
        problem.solve(solver="CLARABEL")
    except cp.error.SolverError:
        return float("nan"), "solver_error"
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or problem.value is None:
        return float("nan"), problem.status
    return problem.value * 100 * net / 1e4, problem.status


def case(name: str, n: int, binding: bool, repeats: int) -> dict:
    portfolio, holdings, model, lots = book(n, 7)
    cash = 0.3 * portfolio.net_value_usd
    limits, ceiling = Limits(), None
    if binding:
        free = liquidate(portfolio, cash, lots=lots, tax=RATES, time_limit=None)
        ceiling = 0.98 * free.risk_after / free.risk_before
        limits = Limits(risk_band=(0.0, ceiling))
    ours_s, ours = timed(lambda: liquidate(portfolio, cash, limits=limits, lots=lots, tax=RATES, time_limit=None),
                         repeats)
    plain_s, (least, plain_status) = timed(lambda: plain(holdings, model, lots, cash, ceiling), repeats)
    objective = ours.total_cost_usd + ours.tax_usd
    return {"case": name, "names x lots": f"{n:,} x {LOTS_PER_NAME}", "ours_s": ours_s, "plain_s": plain_s,
            "ratio": ours_s / plain_s, "objective_rel_diff": abs(objective - least) / abs(least),
            "status": ours.status, "plain_status": plain_status}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="one repeat, 300 names only")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    repeats = 1 if args.quick else 3
    cases = [("no band", 300, False), ("binding risk ceiling, factor k=10", 300, True)]
    if not args.quick:
        cases += [("no band", 3000, False), ("no band", 10000, False),
                  ("binding risk ceiling, factor k=10", 3000, True)]
    print(header())
    print_table([case(*c, repeats) for c in cases])


if __name__ == "__main__":
    main()
