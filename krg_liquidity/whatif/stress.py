"""Stress tests: the liquidation and its baselines under market scenarios, and over a date range.

``stress_test`` runs, for every :class:`~krg_liquidity.whatif.scenarios.Scenario`, the optimized
liquidation (warm-started from the first scenario's answer, its marginal cost rescaled to the
scenario), the pro-rata and waterfall trade
lists (``rules.py``) and the most cash the limits allow (``max_cash``), and returns one tidy
table. With many scenarios the work is spread over a local process pool set up as the batch
engine's workers (each exits when the driver dies), or over a Dask cluster (``scheduler``). ``date_range_stress`` is MATLAB's
"Conduct Stress Test on Portfolio": every date of an I-Star parameter table, the cost per date.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from krg_liquidity.book.lots import LOT_TEXT, read_lots
from krg_liquidity.book.portfolio import Portfolio, require_portfolio
from krg_liquidity.book.read import read_table
from krg_liquidity.core import arguments
from krg_liquidity.core.cash import cash_usd
from krg_liquidity.core.errors import InputError
from krg_liquidity.core.plan import DEFAULT_TIME_LIMIT
from krg_liquidity.core.pool import local_pool
from krg_liquidity.core.status import status_of
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.linear_costs import check_fee
from krg_liquidity.model.params import select_parameters, validate_parameter_table
from krg_liquidity.model.tax import TaxRates, lot_tax
from krg_liquidity.solve.limits import Limits
from krg_liquidity.solve.optimize import liquidate
from krg_liquidity.solve.result import LiquidationResult, with_lots
from krg_liquidity.solve.tradable import restate, tradable_cash
from krg_liquidity.solve.verify import impact_table
from krg_liquidity.whatif.rules import broken_limits, positive_pct_adv, pro_rata, waterfall
from krg_liquidity.whatif.scenarios import BUILT_IN, Scenario

METHODS = ("optimized", "pro_rata", "waterfall")
STRESS_COLUMNS = ("scenario", "method", "status", "cash_target_usd", "cash_raised_usd", "cost_usd", "cost_bps",
                  "extra_cost_bps", "tax_usd", "extra_after_tax_bps", "max_cash_usd", "risk_before", "risk_after", "marginal_cost_bps", "names_traded",
                  "limits_broken", "seconds", "message")
PARALLEL_FROM = 8
"""Scenarios from which ``stress_test`` uses a process pool by default (below: one process)."""


@dataclass(frozen=True)
class _Job:
    portfolio: Portfolio
    cash: float
    scenario: Scenario
    methods: tuple[str, ...]
    limits: dict
    max_pct_adv: float | None
    with_max_cash: bool
    cost_model: CostModel | None
    taxed: dict  # liquidate's fee_bps and, with tax lots, lots, tax and tax_weight


def stress_test(portfolio: Portfolio, cash: float | str, scenarios: Iterable[Scenario] | None = None, *,
                methods: Iterable[str] = METHODS,
                max_pct_adv: float | None = None, with_max_cash: bool = True, workers: int | None = None,
                scheduler: str | None = None, limits: Limits | None = None,
                risk_band: tuple[float, float] | None = None, max_total_mi_bps: float | None = None,
                allow_buys: bool = False, cost_model: CostModel | None = None,
                time_limit: float | None = DEFAULT_TIME_LIMIT, allow_small_cash: bool = False,
                fee_bps: float = 0.0, lots=None, tax: TaxRates | None = None, tax_weight: float = 1.0) -> pd.DataFrame:
    """Liquidate ``cash`` under each scenario with each method; one row per (scenario, method).

    Every scenario raises the same dollars. A failure is a row with its status and message,
    never an exception.

    Parameters
    ----------
    portfolio : Portfolio
        Today's book.
    cash : float or str
        Dollars or text ("10%" of today's net value, "250m"), read and checked once on today's book
        as :func:`~krg_liquidity.liquidate` does.
    scenarios : list of Scenario, optional
        Default: ``scenarios.BUILT_IN`` (illustrations).
    methods : sequence of str
        Any of "optimized", "pro_rata", "waterfall".
    max_pct_adv : float, optional
        The waterfall's cap (traded shares as a fraction of ADV) for names without
        ``ub_max_pct_adv``.
    with_max_cash : bool
        Also the most cash (USD) the limits allow under the scenario, in the exact shares the rows
        trade: a whole-dollar target ``liquidate`` raises when typed back
        (:func:`~krg_liquidity.tradable_cash`: ``max_cash`` and one or two solves each).
    workers : int, optional
        Processes (default: 1 below ``PARALLEL_FROM`` scenarios, else one per core).
    scheduler : str, optional
        A Dask scheduler address ("tcp://host:port"): the scenarios after the first run on that
        cluster, as batch books do.
    limits : Limits, optional
        The request-level limits as one :class:`~krg_liquidity.Limits` value, or as the keywords
        below (not both).
    risk_band, max_total_mi_bps, allow_buys, cost_model
        The limits, as :func:`~krg_liquidity.liquidate` takes them.
    time_limit : float or None
        Seconds for each solve (None: no limit).
    allow_small_cash : bool
        As for :func:`~krg_liquidity.liquidate`.
    fee_bps, lots, tax, tax_weight
        Sell fees and a taxable account's lots and rates, as :func:`~krg_liquidity.liquidate` takes them: the
        optimized list minimizes its all-in cost plus ``tax_weight`` x tax under each scenario (the
        scenario's prices set the gains); the rules' sales are taken from their lots least tax first.

    Returns
    -------
    pandas.DataFrame
        Columns ``STRESS_COLUMNS``: costs in USD and bps of the cash raised (impact), ``extra_cost_bps``
        against the optimized row of the same scenario, ``tax_usd`` and ``extra_after_tax_bps`` (all-in cost plus
        tax against the optimized row's, bps of the cash; NaN without lots), risk annualized,
        ``seconds`` that method's call (the max-cash solve not included).

    Raises
    ------
    InputError
        Bad book, cash, scenarios (none, not Scenario objects, repeated names), methods or limits.

    Examples
    --------
    >>> from krg_liquidity import Portfolio, load_example
    >>> table = stress_test(Portfolio(*load_example()), 1e9, with_max_cash=False, max_pct_adv=0.2)
    >>> table.groupby("method").size().to_dict()
    {'optimized': 4, 'pro_rata': 4, 'waterfall': 4}
    """
    require_portfolio(portfolio)
    if max_pct_adv is not None:
        max_pct_adv = positive_pct_adv(max_pct_adv)
    if workers is not None:
        workers = arguments.whole_number(workers, "workers", "give the number of processes, 1 or more (None: "
                                         "one below 8 scenarios, else one per core)")
    cash = arguments.number(cash, "cash", "give the cash to raise in dollars, e.g. 1e9")
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    scenarios = list(BUILT_IN if scenarios is None else scenarios)
    if not scenarios:
        raise InputError("stress_test needs at least one scenario")
    if not all(isinstance(s, Scenario) for s in scenarios):
        raise InputError("scenarios must be krg_liquidity.Scenario objects (or None for the built-in set)")
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise InputError(f"scenario names must be unique (repeated: {sorted({n for n in names if names.count(n) > 1})})")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise InputError(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    if not isinstance(portfolio, Portfolio):
        raise InputError("stress_test needs a krg_liquidity.Portfolio (Portfolio(holdings, covariance))")
    cash = cash_usd(cash, portfolio.net_value_usd, allow_small_cash=allow_small_cash)
    asked = Limits.of(limits, risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys)
    keywords = {"limits": asked, "time_limit": time_limit, "allow_small_cash": True}  # checked above, on today's book
    taxed = _taxed(portfolio, asked, fee_bps, lots, tax, tax_weight)
    jobs = [_Job(portfolio, cash, s, tuple(methods), keywords, max_pct_adv, with_max_cash, cost_model, taxed)
            for s in scenarios]
    workers = (1 if len(jobs) < PARALLEL_FROM else os.cpu_count() or 1) if workers is None else workers
    first_rows, found = _scenario_rows(jobs[0], None)
    warm = None if found is None else (found, scenarios[0])
    rest = jobs[1:]
    if scheduler is not None and rest:
        rows = _on_cluster(rest, warm, scheduler)
    elif workers <= 1 or len(rest) < 2:
        rows = [row for job in rest for row in _scenario_rows(job, warm)[0]]
    else:
        rows = _in_pool(rest, warm, workers)
    return pd.DataFrame(first_rows + rows, columns=list(STRESS_COLUMNS))


def _taxed(portfolio: Portfolio, limits: Limits, fee_bps: float, lots, tax: TaxRates | None,
           tax_weight: float) -> dict[str, Any]:
    """``liquidate``'s fee and tax keywords, the lots read once and checked against today's book (every refusal
    before any scenario runs)."""
    out: dict[str, Any] = {"fee_bps": check_fee(fee_bps)}
    if lots is None and tax is None:
        return out
    if lots is None or not isinstance(tax, TaxRates):
        raise InputError("lots= and tax=TaxRates(...) go together: give both, or neither")
    table = lots if isinstance(lots, pd.DataFrame) else read_table(lots, what="lots", text_columns=LOT_TEXT)
    read_lots(table, portfolio, tax.unknown_basis)
    if limits.allow_buys or limits.has_floor:
        raise InputError("lots= is for sales only and takes no risk floor yet: keep allow_buys=False and give "
                         "risk_band=(0, hi)")
    return out | {"lots": table, "tax": tax, "tax_weight": tax_weight}


def _lot_table(book: Portfolio, taxed: dict) -> pd.DataFrame | None:
    """The lots' tax table at the scenario's prices (``model.tax.lot_tax``); None without lots."""
    if "lots" not in taxed:
        return None
    rates: TaxRates = taxed["tax"]
    price = pd.Series(book.array("price"), index=book.symbols)
    return lot_tax(read_lots(taxed["lots"], book, rates.unknown_basis), price, rates)


def _rule_tax(answer: LiquidationResult, lots: pd.DataFrame | None, taxed: dict) -> LiquidationResult:
    """A rule's answer with its sales taken from the lots least tax first (``lots``: ``_lot_table``)."""
    if lots is None or not np.isfinite(answer.cash_raised):
        return answer
    return with_lots(answer, lots, float(taxed["tax_weight"]), taxed["tax"])


def _in_pool(jobs: list[_Job], warm, workers: int) -> list[tuple]:
    with local_pool(min(workers, len(jobs))) as pool:
        chunks = pool.map(_rows_only, jobs, [warm] * len(jobs), chunksize=max(1, len(jobs) // (4 * workers)))
        return [row for chunk in chunks for row in chunk]


def _on_cluster(jobs: list[_Job], warm, scheduler: str) -> list[tuple]:
    from dask.distributed import Client

    with Client(scheduler, timeout="30s") as client:
        futures = client.map(_rows_only, jobs, [warm] * len(jobs), pure=False)
        return [row for chunk in client.gather(futures) for row in chunk]


def _rows_only(job: _Job, warm) -> list[tuple]:
    return _scenario_rows(job, warm)[0]


def _warm_start(job: _Job, warm) -> LiquidationResult | None:
    """The first scenario's answer with its marginal cost moved to this scenario's conditions.

    At fixed trades I-Star costs scale by vol^a3 and (for a name at a fixed POV) ADV^-a2, and
    by a1: the book's value-weighted mean of those ratios moves the multiplier search's start
    close to this scenario's answer (exactly there when no ADV-dependent limit binds).
    """
    if warm is None:
        return None
    result, first = warm
    p0 = (job.cost_model or CostModel()).params if first.params is None else first.params
    p1 = (job.cost_model or CostModel()).params if job.scenario.params is None else job.scenario.params
    book = job.portfolio
    ratio = ((job.scenario.multipliers(book, "volatility") / first.multipliers(book, "volatility")) ** p1.a3
             * (job.scenario.multipliers(book, "adv") / first.multipliers(book, "adv")) ** -p1.a2 * p1.a1 / p0.a1)
    weight = np.abs(book.position_usd)
    return replace(result, marginal_cost_bps=result.marginal_cost_bps * float(weight @ ratio / weight.sum()))


def _scenario_rows(job: _Job, warm) -> tuple[list[tuple], LiquidationResult | None]:
    """Every method's row for one scenario, and its optimized result. ``warm``: (the first
    scenario's answer, that scenario), to start the multiplier search from."""
    started = time.perf_counter()
    try:
        book, model = job.scenario.apply(job.portfolio, job.cost_model)
        lots = _lot_table(book, job.taxed)  # once per scenario, for the rules' rows
    except InputError as exc:
        return [_failed_row(job, m, exc, time.perf_counter() - started) for m in job.methods], None
    checked = {"limits": job.limits["limits"]}
    most = np.nan
    if job.with_max_cash:
        found = tradable_cash(book, None, cost_model=model, time_limit=job.limits["time_limit"], **checked)
        most = np.nan if found is None else found
    results: dict[str, tuple[LiquidationResult | Exception, float]] = {}  # (result or exception, seconds)
    optimized = None
    for method in job.methods:
        begun = time.perf_counter()
        answer: LiquidationResult | Exception
        try:
            if method == "optimized":
                optimized = liquidate(book, job.cash, cost_model=model, raise_on_failure=False,
                                      warm_start=_warm_start(job, warm), **job.limits, **job.taxed)
                if optimized.status == "infeasible" and np.isfinite(most):  # one most-cash figure per row
                    optimized = replace(optimized, message=restate(optimized.message, most, None))
                answer = optimized
            elif method == "pro_rata":
                answer = _rule_tax(pro_rata(book, job.cash, cost_model=model, allow_small_cash=True,
                                            fee_bps=job.taxed["fee_bps"], **checked), lots, job.taxed)
            else:
                answer = _rule_tax(waterfall(book, job.cash, max_pct_adv=job.max_pct_adv, cost_model=model,
                                             allow_small_cash=True, fee_bps=job.taxed["fee_bps"], **checked),
                                   lots, job.taxed)
        except Exception as exc:  # a scenario never stops the others: its rows carry the status
            answer = exc
        results[method] = (answer, time.perf_counter() - begun)
    base_bps = optimized.cost_bps if optimized is not None and optimized.success else np.nan
    base_after_tax = _after_tax_usd(optimized) if optimized is not None and optimized.success else np.nan
    rows = [(_failed_row(job, m, r, s) if isinstance(r, Exception) else
             _row(job, m, r, base_bps, base_after_tax, most, s)) for m, (r, s) in results.items()]
    return rows, (optimized if optimized is not None and optimized.success else None)


def _after_tax_usd(r: LiquidationResult) -> float:
    """All-in trading cost plus tax (USD); NaN without tax lots."""
    return r.total_cost_usd + r.tax_usd if r.tax else np.nan


def _row(job: _Job, method: str, r: LiquidationResult, base_bps: float, base_after_tax: float, most: float,
         seconds: float) -> tuple:
    solved = np.isfinite(r.cash_raised)
    return (job.scenario.name, method, r.status, job.cash, r.cash_raised, r.cost_usd, r.cost_bps, r.cost_bps - base_bps,
            r.tax_usd, (_after_tax_usd(r) - base_after_tax) / job.cash * 1e4, most, np.nan if r.risk_before is None else r.risk_before, np.nan if r.risk_after is None else r.risk_after,
            r.marginal_cost_bps, int((r.trades["shares_traded"] != 0).sum()) if solved else 0, broken_limits(r),
            seconds, r.message)


def _failed_row(job: _Job, method: str, exc: BaseException, seconds: float) -> tuple:
    nan = np.nan
    return (job.scenario.name, method, status_of(exc), job.cash, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, 0, "",
            seconds, str(exc))


DATE_COLUMNS = ("date", "code", "a1", "a2", "a3", "a4", "a5", "b1", "status", "cost_usd", "cost_bps",
                "marginal_cost_bps", "fixed_trades_cost_usd", "fixed_trades_cost_bps", "message")


def date_range_stress(portfolio: Portfolio, cash: float | str, parameters: pd.DataFrame, *, code: int = 1,
                      start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None,
                      base: LiquidationResult | None = None, **limits: Any) -> pd.DataFrame:
    """Liquidation cost under each date's I-Star parameters (MATLAB's "Conduct Stress Test on Portfolio").

    Per date: ``cost_usd``/``cost_bps``, the optimized liquidation re-solved with that date's set
    (warm-started from the previous date), and ``fixed_trades_cost_usd``/``_bps``, the trades of
    ``base`` priced with that date's set, as MATLAB prices one trade list over a range of dates.

    Parameters
    ----------
    portfolio : Portfolio
        The book.
    cash : float or str
        As for :func:`~krg_liquidity.liquidate` (dollars, "10%", "250m").
    parameters : pandas.DataFrame
        A parameter table (code, date, a1..a5, b1; :func:`~krg_liquidity.read_parameter_table`).
    code : int
        The market-impact code whose rows are used.
    start, end : str or pandas.Timestamp, optional
        The dates kept, inclusive (default: all), in date order.
    base : LiquidationResult, optional
        The fixed trade list (default: the liquidation under the first date whose liquidation
        succeeds).
    **limits
        The keyword arguments of :func:`~krg_liquidity.liquidate`.

    Returns
    -------
    pandas.DataFrame
        One row per date (``DATE_COLUMNS``): the set (code, a1..a5, b1), status, cost_usd,
        cost_bps, marginal_cost_bps, fixed_trades_cost_usd, fixed_trades_cost_bps, message.

    Raises
    ------
    InputError
        The table is not a valid parameter table, or has no rows for ``code`` between ``start``
        and ``end``; or bad data, cash or limits (a date whose liquidation fails is a row with its
        status and message).

    Examples
    --------
    >>> from krg_liquidity import Portfolio, load_example, read_parameter_table
    >>> from krg_liquidity.book.datasets import data_path
    >>> table = date_range_stress(Portfolio(*load_example()), 1e9, read_parameter_table(data_path("mi_parameters.csv")))
    >>> table[["date", "status"]].values.tolist()
    [['2013-01-01', 'optimal']]
    """
    table = validate_parameter_table(parameters)
    rows = table[table["code"] == int(code)]
    if start is not None:
        rows = rows[rows["date"] >= pd.Timestamp(start)]
    if end is not None:
        rows = rows[rows["date"] <= pd.Timestamp(end)]
    if rows.empty:
        raise InputError(f"the parameter table has no rows for code {code} between {start} and {end}; "
                         f"it has codes {sorted(table['code'].unique().tolist())} from "
                         f"{table['date'].min().date()} to {table['date'].max().date()}")
    rows = rows.sort_values("date")
    out, warm = [], None
    for row in rows.to_dict("records"):
        params = select_parameters(table, row["code"], row["date"])
        model = CostModel(params)
        result = liquidate(portfolio, cash, cost_model=model, raise_on_failure=False, warm_start=warm, **limits)
        if base is None and result.success:
            base = result
        warm = result if result.success else warm
        fixed = np.nan
        if base is not None and base.success:
            fixed = float(impact_table(portfolio, base.trades["shares_traded"].to_numpy(), model)["cost_usd"].sum())
        out.append((str(row["date"].date()), int(row["code"]), params.a1, params.a2, params.a3, params.a4, params.a5,
                    params.b1, result.status, result.cost_usd, result.cost_bps, result.marginal_cost_bps, fixed,
                    fixed / base.cash_raised * 1e4 if base is not None and base.success else np.nan, result.message))
    return pd.DataFrame(out, columns=list(DATE_COLUMNS))
