"""Optimal basket schedules: ours, the conic program and a plain cvxpy + Clarabel formulation side by side.

Run: ``python benchmarks/bench_optimal_schedule.py [--repeat 3] [--extras]``. Prints markdown tables
and writes them to ``benchmarks/RESULTS_optimal_schedule.md`` (``--extras``: also
``RESULTS_optimal_schedule_extras.md``).

The first table (issue 21's targets): a 10-factor model and a full covariance (the factor model's
covariance plus a full-rank sample-noise part, so that no factor structure can be found in it),
26 periods; each engine's solve alone (no rounding or checks) and, for ours, the whole public call;
every fractional answer scored by one numpy objective (MI + lambda x basket timing risk, USD).
``--extras``: the older tables (a4 = 0.8, stages, SLSQP).

Baskets: synthetic (``synthetic_universe``, clearly not market data), selling half of every
position, 13 half-hour buckets x 2 days = 26 periods, lambda = 1 (std), the bundled U profile.
"whole call" is the public call (validation, set-up, solve, whole-share rounding, checks and the
proven gap), once per engine: the structured interior-point method (the default for factor
models) and the conic program (Clarabel through cvxpy), side by side in one run. "re-solve" is one
more lambda on the same set-up (what ``schedule_frontier`` does per point).
The baseline is scipy's SLSQP over the fractions (names x periods) from the even-POV schedule,
numeric gradients of the objective (fmincon's default) in bps of the basket (in raw dollars it
stopped after 5 iterations 42% above the optimum), the linear completion rows and bounds given exactly; both answers are scored by the same numpy objective (fractional, before rounding).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from plain_schedule import plain_schedule  # noqa: E402
from versions import header  # noqa: E402

from krg_liquidity import (  # noqa: E402
    CostModel,
    IStarParams,
    SolverFailure,
    SolverTimeout,
    optimize_basket_schedule,
    synthetic_universe,
)
from krg_liquidity.core.plan import one_blas_thread  # noqa: E402
from krg_liquidity.schedule.optimal import _setup, _solve  # noqa: E402

PERIODS, LAMBDA = 26, 1.0


def basket(n: int, seed: int = 0):
    holdings, model = synthetic_universe(n, n_factors=10, seed=seed)
    return holdings.assign(shares=-np.round(0.5 * holdings["shares"])), model


def objective_usd(fractions: np.ndarray, data) -> float:
    """MI (krg schedule form) + lambda x basket timing risk (linear within buckets), USD."""
    y = np.clip(fractions, 0.0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        pov = np.where(y > 0, y / (y + data.volume_ratio), 0.0)
    mi_bps = data.istar_bps * (data.b1 * np.sum(y * pov**data.a4, axis=1) + 1 - data.b1)
    remaining = 1 - np.concatenate([np.zeros((len(y), 1)), np.cumsum(y, axis=1)], axis=1)
    positions = (data.side * data.value_usd)[:, None] * remaining
    factor = data.risk.top @ positions
    specific = (data.risk.diag[:, None] if data.risk.diag is not None else 0.0) * positions

    def cross(a, b):
        return np.einsum("kj,kj->j", factor[:, a], factor[:, b]) + np.einsum("ij,ij->j", specific[:, a], specific[:, b])

    head, tail = slice(0, -1), slice(1, None)
    variance = data.dt_days * (cross(head, head) + cross(head, tail) + cross(tail, tail)) / 3.0
    return float(mi_bps @ data.value_usd / 1e4 + LAMBDA * np.sqrt(variance.sum() / data.trading_days))


def median_seconds(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def full_covariance(model, seed: int = 0) -> pd.DataFrame:
    """The factor model's covariance plus 10% of a full-rank Wishart part (n x 2n draws), scaled by each
    name's volatility: a full covariance with no low-rank-plus-diagonal structure."""
    b = model.exposures.to_numpy()
    c = b @ model.factor_covariance.to_numpy() @ b.T + np.diag(model.specific_variance)
    rng = np.random.default_rng(seed)
    draws = rng.standard_normal((len(b), 2 * len(b))) / np.sqrt(2 * len(b))
    vol = np.sqrt(np.diag(c))
    return pd.DataFrame(c + 0.1 * (draws @ draws.T) * np.outer(vol, vol), index=model.symbols, columns=model.symbols)


def timed(fn, repeat: int, slow: float = 5.0):
    """Median seconds of ``repeat`` runs (one run when the first takes more than ``slow`` seconds), last output."""
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
        if times[0] > slow:
            break
    return statistics.median(times), len(times), out


def side_by_side(cases, repeat: int) -> list[str]:
    """Ours (interior-point), the conic program and the plain formulation on the same problems, one run."""
    lines = ["| risk model | names x periods | ours: whole call (s) | ours: solve (s) | steps | conic: solve (s) "
             "| plain cvxpy + Clarabel (s) | conic / ours objective - 1 | plain / ours objective - 1 | runs |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    failed = "failed (Clarabel: solver error)"
    for kind, n, engines in cases:
        trades, model = basket(n)
        risk = {"factor_model": model} if kind == "10-factor" else {"covariance": full_covariance(model)}
        whole, runs, plan = timed(lambda: optimize_basket_schedule(trades, periods=PERIODS, risk_aversion=LAMBDA,
                                                                     engine="interior-point", time_limit=600, **risk),
                                  repeat)
        assert plan.attempts[-1]["engine"] == "interior-point", plan.attempts
        setup = _setup(trades, risk.get("covariance"), risk.get("factor_model"), None, PERIODS, 30, None, None, None,
                       "std", None, engine="interior-point")
        solver = setup.solver
        ours_s, _, answer = timed(lambda: solver.solve(LAMBDA, 600), repeat)
        reference = objective_usd(answer.fractions, solver.data)
        cells = [f"{whole:.2f}", f"{ours_s:.2f}", str(plan.attempts[-1]["newton_steps"])]
        for engine in ("conic", "plain"):
            if engine not in engines:
                cells += ["-"]
                continue
            if engine == "conic":
                with one_blas_thread():
                    seconds, _, fractions = timed(lambda: solver.conic.solve(LAMBDA, 600)[0], repeat)
            else:
                seconds, _, (fractions, status) = timed(lambda: plain_schedule(solver.data, LAMBDA), repeat)
            cells += [f"{seconds:.2f}"]
            engines[engine] = objective_usd(fractions, solver.data) / reference - 1 if fractions.size else np.nan
        cells += [("-" if name not in engines else failed if np.isnan(engines[name]) else f"{engines[name]:+.1e}")
                  for name in ("conic", "plain")] + [str(runs)]
        lines.append(f"| {kind} | {n} x {PERIODS} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    return lines


def replan_table(n: int, left: int, repeat: int) -> list[str]:
    """The rest of a two-day plan re-planned after day 1: the shares each name has left over the last
    ``left`` periods, solved cold and warm-started from the plan (``warm_start=plan``); whole calls."""
    trades, model = basket(n)
    plan = optimize_basket_schedule(trades, factor_model=model, periods=PERIODS, risk_aversion=LAMBDA)
    remaining = plan.shares_by_period[:, PERIODS - left:].sum(axis=1)
    rest = trades.set_index("symbol").loc[plan.names["symbol"]].reset_index().assign(shares=-remaining)
    rest = rest[remaining > 0]
    lines = ["| names | periods left | risk model | start | whole call (s) | steps | status | objective vs cold - 1 "
             "| runs |", "|---|---|---|---|---|---|---|---|---|"]
    cold = None
    for start in ("cold", "warm"):
        warm = plan if start == "warm" else None
        seconds, runs, again = timed(lambda: optimize_basket_schedule(
            rest, factor_model=model, periods=left, risk_aversion=LAMBDA, engine="interior-point",
            warm_start=warm), repeat)
        cold = cold or again.objective_usd
        lines.append(f"| {len(rest)} | {left} | 10-factor | {start} | {seconds:.2f} | "
                     f"{again.attempts[-1]['newton_steps']} | {again.status} | {again.objective_usd / cold - 1:+.1e} "
                     f"| {runs} |")
    return lines


def speed_table(sizes, repeat: int) -> list[str]:
    """Both engines, side by side on the same baskets in one run."""
    lines = ["| names | periods | variables | engine | whole call (s) | re-solve, new lambda (s) | steps | status "
             "| max violation | proven gap / objective | objective vs interior-point |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in sizes:
        trades, model = basket(n)
        reference = None
        for engine in ("interior-point", "conic"):
            seconds, plan = median_seconds(lambda: optimize_basket_schedule(
                trades, factor_model=model, periods=PERIODS, risk_aversion=LAMBDA, engine=engine), repeat)
            setup = _setup(trades, None, model, None, PERIODS, 30, None, None, None, "std", None, engine=engine)
            _solve(setup, LAMBDA, 120)
            resolve, again = median_seconds(lambda: _solve(setup, 0.5 * LAMBDA, 120), repeat)
            steps = again.attempts[-1].get("newton_steps") or setup.solver.conic.problem.solver_stats.num_iters
            reference = reference or plan.objective_usd
            lines.append(f"| {n} | {PERIODS} | {n * PERIODS:,} | {engine} | {seconds:.2f} | {resolve:.2f} | {steps} | "
                         f"{plan.status} | {plan.max_violation:.1e} | {plan.gap_usd / plan.objective_usd:.1e} | "
                         f"{plan.objective_usd / reference:.9f} |")
            print(lines[-1], flush=True)
    return lines


def stages(n: int) -> list[str]:
    """Seconds per stage of the default (interior-point) call: validation + arrays, solve, rounding + checks."""
    trades, model = basket(n)
    start = time.perf_counter()
    setup = _setup(trades, None, model, None, PERIODS, 30, None, None, None, "std", None)
    built = time.perf_counter()
    plan = _solve(setup, LAMBDA, 120)
    done = time.perf_counter()
    solve = sum(a["seconds"] for a in plan.attempts)
    return ["| validate + arrays (s) | solve (s) | round + verify + price (s) | Newton steps |",
            "|---|---|---|---|",
            f"| {built - start:.2f} | {solve:.2f} | {done - built - solve:.2f} | {plan.attempts[-1]['newton_steps']} |"]


def power_table(sizes, conic_sizes) -> list[str]:
    """a4 = 0.8 (impact not a square root: power cones in the conic program), one run each."""
    model_a4 = CostModel(IStarParams(a1=708.0, a2=0.55, a3=0.71, a4=0.8, b1=0.98))
    lines = ["| names | engine | whole call (s) | status | proven gap / objective | attempts |", "|---|---|---|---|---|---|"]
    for n in sizes:
        trades, model = basket(n)
        for engine in ("interior-point", "conic") if n in conic_sizes else ("interior-point",):
            start = time.perf_counter()
            try:
                plan = optimize_basket_schedule(trades, factor_model=model, periods=PERIODS, risk_aversion=LAMBDA,
                                                engine=engine, cost_model=model_a4, time_limit=120)
                row = f"{plan.status} | {plan.gap_usd / plan.objective_usd:.1e} | " + ", ".join(
                    f"{a['engine']} {a['status'][:40]}" for a in plan.attempts)
            except SolverFailure as exc:
                row = f"failed | - | {str(exc)[:80]}"
            lines.append(f"| {n} | {engine} | {time.perf_counter() - start:.2f} | {row} |")
            print(lines[-1], flush=True)
    return lines


def full_covariance_table(sizes, conic_sizes) -> list[str]:
    """A full covariance (the 10-factor model multiplied out, n x n) instead of the factors, one run each."""
    lines = ["| names | engine | whole call (s) | status | proven gap / objective | Newton steps |", "|---|---|---|---|---|---|"]
    for n in sizes:
        trades, model = basket(n)
        b = model.exposures.to_numpy()
        covariance = pd.DataFrame(b @ model.factor_covariance.to_numpy() @ b.T + np.diag(model.specific_variance),
                                  index=model.symbols, columns=model.symbols)
        for engine in ("interior-point", "conic") if n in conic_sizes else ("interior-point",):
            start = time.perf_counter()
            try:
                plan = optimize_basket_schedule(trades, covariance=covariance, periods=PERIODS, risk_aversion=LAMBDA,
                                                max_pov=0.2, engine=engine, time_limit=120)
                steps = plan.attempts[0].get("newton_steps", "-")
                row = f"{plan.status} | {plan.gap_usd / plan.objective_usd:.1e} | {steps}"
            except (SolverFailure, SolverTimeout) as exc:
                row = f"failed | - | {str(exc)[:60]}"
            lines.append(f"| {n} | {engine} | {time.perf_counter() - start:.2f} | {row} |")
            print(lines[-1], flush=True)
    return lines


def slsqp_table(n: int) -> list[str]:
    trades, model = basket(n, seed=1)
    setup = _setup(trades, None, model, None, PERIODS, 30, None, None, None, "std", None)
    data = setup.solver.data
    start = time.perf_counter()
    ours = setup.solver.solve(LAMBDA, 120).fractions
    ours_seconds = time.perf_counter() - start
    ours_value = objective_usd(ours, data)
    shape = data.volume_ratio.shape
    even = data.volume_ratio / data.volume_ratio.sum(axis=1, keepdims=True)
    rows = np.kron(np.eye(shape[0]), np.ones((1, shape[1])))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scale = 1e4 / data.value_usd.sum()  # bps of the basket: SLSQP stops early on raw dollars
        result = minimize(lambda x: scale * objective_usd(x.reshape(shape), data), even.ravel(), method="SLSQP",
                          bounds=[(0.0, 1.0)] * even.size,
                          constraints=[{"type": "eq", "fun": lambda x: rows @ x - 1.0, "jac": lambda x: rows}],
                          options={"maxiter": 1000, "ftol": 1e-12})
    slsqp_seconds = time.perf_counter() - start
    slsqp_value = objective_usd(result.x.reshape(shape), data)
    done = np.abs(rows @ result.x - 1).max()
    return ["| names x periods | ours (s) | SLSQP (s) | speed-up | ours objective ($) | SLSQP objective ($) "
            "| SLSQP / ours | SLSQP iterations | SLSQP status | SLSQP completion error |",
            "|---|---|---|---|---|---|---|---|---|---|",
            f"| {n} x {PERIODS} | {ours_seconds:.3f} | {slsqp_seconds:.2f} | {slsqp_seconds / ours_seconds:.0f}x | "
            f"{ours_value:,.0f} | {slsqp_value:,.0f} | {slsqp_value / ours_value:.8f} | {result.nit} | "
            f"{result.message} | {done:.1e} |"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="*", default=[20, 100, 500])
    parser.add_argument("--extras", action="store_true",
                        help="also the older tables: both engines by size, stages, a4 = 0.8, full covariance, SLSQP")
    parser.add_argument("--no-slsqp", dest="slsqp", action="store_false",
                        help="with --extras: skip the SLSQP comparison (one to several minutes)")
    parser.add_argument("--replan-only", action="store_true",
                        help="only the re-planning table (written to RESULTS_replan.md)")
    args = parser.parse_args()
    versions = header()
    print(versions)
    load_before = os.getloadavg()[0]
    if args.replan_only:
        out = ["# Re-planning benchmark (bench_optimal_schedule.py --replan-only)", "", versions, "",
               "The second day (13 periods left) of a 500-name, 26-period plan (10-factor model, lambda = 1), re-planned "
               "for the names with shares left, cold and warm-started from the plan; whole calls, medians of "
               f"{args.repeat} runs.", ""] + replan_table(500, 13, args.repeat)
        out += ["", f"1-minute load average: {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end."]
        print("\n".join(out[4:]))
        Path(__file__).with_name("RESULTS_replan.md").write_text("\n".join(out) + "\n")
        return
    out = ["# Optimal basket schedule benchmark", "", versions, "",
           f"Synthetic baskets, {PERIODS} periods (13 half-hour buckets x 2 days), lambda = {LAMBDA}, selling half of "
           f"every position; medians of up to {args.repeat} runs (one when a run takes over 5 s) on this machine "
           f"({os.cpu_count()} cores, shared). Full covariance: the 10-factor covariance plus a full-rank part "
           "(no factor structure). Objectives: each engine's fractions before rounding, scored by one numpy "
           "objective (MI + lambda x timing risk, USD), relative to ours.", ""]
    plain_too, conic_too = {"conic": None, "plain": None}, {"conic": None}
    cases = [("10-factor", 20, dict(plain_too)), ("10-factor", 100, dict(plain_too)), ("10-factor", 500, conic_too),
             ("10-factor", 1000, {}), ("full", 50, dict(plain_too)), ("full", 100, {}), ("full", 300, {}),
             ("full", 500, {})]
    out += side_by_side(cases, args.repeat)
    out += ["", "Re-planning the second day (13 periods left) of the 500-name plan:", ""]
    out += replan_table(500, 13, args.repeat)
    out += ["", f"1-minute load average: {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
                "(other jobs shared the machine; times scale with it)."]
    print("\n".join(out[-3:]))
    Path(__file__).with_name("RESULTS_optimal_schedule.md").write_text("\n".join(out) + "\n")
    if not args.extras:
        return
    load_before = os.getloadavg()[0]
    out = ["# Optimal basket schedule benchmark: the older tables (--extras)", "", versions, "",
           "Both engines by size (10-factor model):", ""]
    out += speed_table(args.sizes, args.repeat)
    out += ["", f"Stages of one {max(args.sizes)}-name call:", ""] + stages(max(args.sizes))
    out += ["", "With a4 = 0.8 (power cones in the conic program, run up to 100 names; 120 s limit):", ""]
    out += power_table(args.sizes, [n for n in args.sizes if n <= 100])
    out += ["", "Full covariance (n x n) instead of the factors, max_pov 0.2 (the conic program at 100 names; 120 s "
                "limit):", ""]
    out += full_covariance_table([100, 200], [100])
    if args.slsqp:
        out += ["", "Against an fmincon-like SLSQP (numeric gradients, same objective, even-POV start):", ""]
        out += slsqp_table(20)
    out += ["", f"1-minute load average: {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
                "(other jobs shared the machine; times scale with it)."]
    print("\n".join(out[-3:]))
    Path(__file__).with_name("RESULTS_optimal_schedule_extras.md").write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
