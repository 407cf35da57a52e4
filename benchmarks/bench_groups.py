"""Group limits and tracking error: krg_liquidity against a plain cvxpy + Clarabel formulation, side by side.

Run: ``python benchmarks/bench_groups.py [--quick]``. Prints the versions and the load average, then a
markdown table: per case the median seconds of ``liquidate`` and of the plain formulation (written here:
value sold per name as a fraction of the net value, the I-Star cost at a fixed POV as one power per name,
the risk through the factor rows and specific risk, or a Cholesky factor of a full covariance), their
ratio, and the relative difference of their costs.

Books are synthetic (``synthetic_universe``, 10 factors), every name at a fixed POV of 10%, 30% of the book
to raise; sectors are assigned at random (11). The tracking-error cap is a third of the unconstrained
answer's; the sector bands are half the largest move of a sector's weight in the unconstrained answer.
Both sides solve the same convex program, so the costs agree to the solvers' tolerance. The engine solves both
in its dual engine (the group rows as linear cuts, the tracking error as its quadratic row); ``ours_method`` says
which engine answered.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import cvxpy as cp
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import print_table, timed  # noqa: E402
from versions import header  # noqa: E402

from krg_liquidity import KISSELL_2013_ALL_DATA, Portfolio, liquidate, synthetic_universe  # noqa: E402

SECTORS = 11


def book(n: int, seed: int, factor: bool) -> tuple[Portfolio, pd.DataFrame, object]:
    holdings, model = synthetic_universe(n, n_factors=10, seed=seed)
    rng = np.random.default_rng(seed)
    holdings = holdings.drop(columns=["trade_time"]).assign(pov=0.1)
    holdings["sector"] = [f"S{k:02d}" for k in rng.integers(0, SECTORS, n)]
    if factor:
        return Portfolio(holdings, factor_model=model), holdings, model
    b = model.exposures.to_numpy()
    full = b @ model.factor_covariance.to_numpy() @ b.T + np.diag(model.specific_variance.to_numpy())
    covariance = pd.DataFrame(full, index=model.exposures.index, columns=model.exposures.index)
    return Portfolio(holdings, covariance), holdings, covariance


def plain(holdings: pd.DataFrame, risk, cash: float, *, tracking=None, bands=None) -> float:
    """Least cost (USD) by a plain cvxpy + Clarabel program; ``risk``: a FactorModel or a covariance."""
    p = KISSELL_2013_ALL_DATA
    shares, price, adv = (holdings[c].to_numpy(float) for c in ("shares", "price", "adv"))
    vol, pov = holdings["volatility"].to_numpy(float), holdings["pov"].to_numpy(float)
    net = float(shares @ price)
    w0, left, dv = shares * price / net, 1 - cash / net, adv * price
    alpha = 1 + p.a2
    coef = p.a1 * vol ** p.a3 * (p.b1 * pov ** p.a4 + 1 - p.b1) * (net / dv) ** (alpha - 1)
    v = cp.Variable(len(shares))
    after = w0 - v
    rows = [cp.sum(v) == cash / net, v >= 0, v <= w0]
    if tracking is not None:
        active = after - w0 * left
        if isinstance(risk, pd.DataFrame):
            root = np.linalg.cholesky(risk.to_numpy())
            stacked = root.T @ active
        else:
            top = np.linalg.cholesky(risk.factor_covariance.to_numpy()).T @ risk.exposures.to_numpy().T
            stacked = cp.hstack([top @ active, cp.multiply(np.sqrt(risk.specific_variance.to_numpy()), active)])
        rows.append(cp.norm(stacked) <= tracking * left)
    sector = holdings["sector"].to_numpy()
    for group, (lo, hi) in (bands or {}).items():
        mine = (sector == group).astype(float)
        rows += [mine @ after >= lo * left, mine @ after <= hi * left]
    problem = cp.Problem(cp.Minimize(coef @ cp.power(v, alpha, approx=False)), rows)
    problem.solve(solver="CLARABEL")
    assert problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE), problem.status
    return problem.value * net / 1e4


def case(name: str, n: int, factor: bool, limit: str, repeats: int) -> dict:
    portfolio, holdings, risk = book(n, 7, factor)
    cash = 0.3 * portfolio.net_value_usd
    free = liquidate(portfolio, cash, time_limit=None)
    post = portfolio.net_value_usd - cash
    after = free.trades["shares_after"].to_numpy() * holdings["price"].to_numpy()
    if limit == "tracking":
        today = holdings["shares"].to_numpy() * holdings["price"].to_numpy() / portfolio.net_value_usd
        cap = portfolio.risk().sigma(after / post - today) / 3
        ours_kw, plain_kw = {"max_tracking_error": cap}, {"tracking": cap}
    else:
        value = holdings["shares"] * holdings["price"]
        today = value.groupby(holdings["sector"]).sum() / value.sum()
        moved = pd.Series(after).groupby(holdings["sector"].to_numpy()).sum() / post - today
        band = float(moved.abs().max()) / 2
        ours_kw = {"group_column": "sector", "group_limits": {"max_weight_change": band}}
        plain_kw = {"bands": {g: (today[g] - band, today[g] + band) for g in today.index}}
    ours_s, ours = timed(lambda: liquidate(portfolio, cash, time_limit=None, **ours_kw), repeats)
    plain_s, least = timed(lambda: plain(holdings, risk, cash, **plain_kw), repeats)
    return {"case": name, "n": n, "ours_s": ours_s, "plain_s": plain_s, "ratio": ours_s / plain_s,
            "cost_rel_diff": abs(ours.cost_usd - least) / least, "ours_method": ours.method}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no 3,000-name cases")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    repeats = 1 if args.quick else 3
    cases = [("binding tracking error, factor k=10", 100, True, "tracking"),
             ("binding tracking error, full covariance", 100, False, "tracking"),
             ("binding tracking error, full covariance", 200, False, "tracking"),
             ("11 sectors, binding bands", 100, True, "bands")]
    if not args.quick:
        cases += [("11 sectors, binding bands", 3000, True, "bands"),
                  ("binding tracking error, factor k=10", 3000, True, "tracking"),
                  ("binding tracking error, factor k=10", 5000, True, "tracking")]
    print(header())
    print_table([case(*c, repeats) for c in cases])


if __name__ == "__main__":
    main()
