"""A schedule played against simulated markets: the distribution of its cost and of the cash it raises.

Each path is one market over the schedule's periods (buckets of ``bucket_minutes``; an
Almgren-Chriss trajectory's own periods):

- Prices: arithmetic returns from the risk model (a covariance, a factor model, or the trades'
  volatilities, uncorrelated), annualized, scaled to each period's length in days over
  ``trading_days``. The shares of a period trade evenly through it, so they get the price averaged
  over the period: per period and risk factor (or name) two normals give the end-of-period move
  and the in-period average (variance dt/3, covariance dt/2 with the move), exactly.
- Volume: the other participants' volume of each name and period is lognormal around the plan's
  expected volume (mean kept: v = E[v] exp(s Z - s^2/2), s = ``volume_noise``), independent over
  names and periods; the realized participation of a period is shares / (shares + v).
- Impact (the cost model's I-Star, split as ``CostModel.market_impact(components=True)``): the
  temporary part b1 I* POV^a4 is paid by the shares of that period at its realized participation;
  the permanent part moves the price against the order in proportion to the shares done, reaching
  2 (1 - b1) I* at completion, so that the average share pays (1 - b1) I* (the model's permanent
  cost) and later prices carry it.
- Drift (alpha, bps a day, signed as the cost model's ``alpha_bp``: positive moves the price
  against the order): a share traded in period k pays the drift to the end of period k, as the
  cost model's price appreciation.
- ``max_pov``: with it, a period fills at most max_pov of its realized volume and the rest carries
  into the next period; what is still unfilled at the end is ``shares_left``, marked at the final
  price in the shortfall (Perold's opportunity cost). Without it every planned share fills.

Implementation shortfall per path (USD, positive = cost): the orders' value at the arrival
prices minus the cash raised (sales) or plus the cash paid (buys), with unfilled shares marked at
the final price. With both noises off and no ``max_pov`` it is the cost model's MI + PA of the
schedule on every path; with price noise its standard deviation is the basket's timing risk
(``basket_timing_risk_usd``, residuals linear within each period).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from krg_liquidity.book import columns as col
from krg_liquidity.book.orders import as_table
from krg_liquidity.book.portfolio import covariance_frame
from krg_liquidity.book.risk import FactorModel, RiskOperator, risk_operator
from krg_liquidity.core import arguments
from krg_liquidity.core.errors import InconsistentInputError, InvalidValueError, MissingColumnError, symbols_text
from krg_liquidity.core.numbers import parse_number
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.profiles import load_volume_profile
from krg_liquidity.schedule.check import basket_timing_risk_usd
from krg_liquidity.schedule.pov_vwap import bucket_grid
from krg_liquidity.schedule.strategy import AlmgrenChriss

SESSION_MINUTES = 390
MEMORY_FRACTION = 0.5
"""Most of the machine's memory a simulation may plan to use (its result and one chunk's arrays)."""
CHUNK_BYTES = 64e6
"""Size of one chunk's working arrays (bytes): paths are simulated that many at a time."""
LEVELS = (0.95, 0.99)


@dataclass(frozen=True)
class PlanGrid:
    """A schedule on its grid: ``shares`` (names x periods, unsigned), ``side`` (+1 sell, -1 buy),
    ``volume`` (names x periods, the other participants' expected volume, shares), ``dt_days``
    (periods), ``price``, ``adv``, ``volatility`` (annualized), ``alpha_bps`` (bps a day) per name."""

    symbols: list
    side: np.ndarray
    shares: np.ndarray
    volume: np.ndarray
    dt_days: np.ndarray
    price: np.ndarray
    adv: np.ndarray
    volatility: np.ndarray
    alpha_bps: np.ndarray

    @property
    def quantity(self) -> np.ndarray:
        return self.shares.sum(axis=1)

    @property
    def value_usd(self) -> float:
        return float(self.quantity @ self.price)


@dataclass
class Simulation:
    """The outcome of ``paths`` simulated markets. Money in USD, positive shortfall = cost.

    ``shortfall_usd`` (paths): implementation shortfall; ``shortfall_bps``: the same in bps of the
    orders' value at arrival; ``cash_by_period`` (paths x periods): net cash raised by the end of
    each period (column k-1 = period k; sales add, buys subtract); ``shares_left`` (paths x names):
    shares not filled by the end (zero unless ``max_pov`` held fills back); ``expected_cost_usd``
    and ``timing_risk_usd``: the plan's cost-model figures (MI + PA, and the basket's timing risk);
    ``milestones``: {period: least cash USD} whose probabilities the summary gives.

    Parameters
    ----------
    shortfall_usd, cash_by_period, shares_left, symbols, value_usd, expected_cost_usd, timing_risk_usd
        As above; ``value_usd`` is the orders' value at arrival.
    planned_cash_usd : numpy.ndarray
        The plan's cash by the end of each period at arrival prices (USD).
    seed : int or None
        The seed the paths were drawn with.
    milestones : dict
        {period: least cash USD}.
    settings : dict
        The simulation's arguments (noise, drift, caps), as given.
    """

    shortfall_usd: np.ndarray
    cash_by_period: np.ndarray
    shares_left: np.ndarray
    symbols: list
    value_usd: float
    expected_cost_usd: float
    timing_risk_usd: float
    planned_cash_usd: np.ndarray
    seed: int | None
    milestones: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    @property
    def paths(self) -> int:
        return int(self.shortfall_usd.size)

    @property
    def shortfall_bps(self) -> np.ndarray:
        return self.shortfall_usd / self.value_usd * 1e4

    def paths_frame(self) -> pd.DataFrame:
        """One row per path: path, shortfall_usd, shortfall_bps, cash_by_period_1..N (USD), shares_left."""
        frame = pd.DataFrame({"path": np.arange(1, self.paths + 1), "shortfall_usd": self.shortfall_usd,
                              "shortfall_bps": self.shortfall_bps})
        cash = pd.DataFrame(self.cash_by_period, columns=[f"cash_by_period_{k}"
                                                          for k in range(1, self.cash_by_period.shape[1] + 1)])
        return pd.concat([frame, cash], axis=1).assign(shares_left=self.shares_left.sum(axis=1))

    def var_usd(self, level: float = 0.95) -> float:
        """Value at risk of the shortfall at ``level``: the cost exceeded on 1 - level of the paths (USD)."""
        return float(np.quantile(self.shortfall_usd, level))

    def cvar_usd(self, level: float = 0.95) -> float:
        """Conditional value at risk: the mean shortfall over the worst 1 - level of the paths (USD)."""
        worst = np.sort(self.shortfall_usd)[int(np.floor(level * self.paths)):]
        return float(worst.mean()) if worst.size else float(self.shortfall_usd.max())

    def milestone_probability(self, period: int, least_usd: float) -> float:
        """Fraction of paths whose cash by the end of ``period`` (1-based; after the plan's last period, its
        final cash) is at least ``least_usd``."""
        return float(np.mean(self.cash_by_period[:, min(period, self.cash_by_period.shape[1]) - 1] >= least_usd))

    def summary_frame(self) -> pd.DataFrame:
        """item, value, unit: mean, sd, VaR and CVaR at 95/99%, the plan's expected cost and timing risk,
        and the probability of meeting each milestone (with its binomial standard error)."""
        cost = self.shortfall_usd
        ddof = 1 if self.paths > 1 else 0
        rows = [("paths", self.paths, ""), ("expected cost (cost model)", self.expected_cost_usd, "USD"),
                ("timing risk (cost model)", self.timing_risk_usd, "USD"),
                ("mean shortfall", float(cost.mean()), "USD"),
                ("mean shortfall, Monte Carlo error", float(cost.std(ddof=ddof) / np.sqrt(self.paths)), "USD"),
                ("sd of shortfall", float(cost.std(ddof=ddof)), "USD"),
                ("mean shortfall bps", float(self.shortfall_bps.mean()), "bps of value"),
                ("sd of shortfall bps", float(self.shortfall_bps.std(ddof=ddof)), "bps of value")]
        for level in LEVELS:
            rows += [(f"VaR {level:.0%}", self.var_usd(level), "USD"), (f"CVaR {level:.0%}", self.cvar_usd(level), "USD")]
        rows.append(("paths with shares left", float(np.mean(self.shares_left.sum(axis=1) > 0)), "fraction"))
        for period, least in sorted(self.milestones.items()):
            p = self.milestone_probability(period, least)
            rows.append((f"P(cash by period {period} >= ${least:,.0f})", p, "fraction"))
            rows.append(("  its standard error", float(np.sqrt(max(p * (1 - p), 0.0) / self.paths)), "fraction"))
        return pd.DataFrame(rows, columns=["item", "value", "unit"])

    def summary(self) -> str:
        lines = []
        for item, value, unit in self.summary_frame().itertuples(index=False):
            if unit == "USD":
                text = f"${value:,.0f}"
            elif unit == "fraction":
                text = f"{value:.2%}"
            elif unit.startswith("bps"):
                text = f"{value:,.2f} bps"
            else:
                text = f"{value:,.0f}"
            lines.append(f"{item:<40}{text}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary() + "</pre>"


def _per_name(value, symbols: list, name: str, default: np.ndarray) -> np.ndarray:
    """None: ``default``; a number; a dict / Series by symbol (others keep ``default``); or one value per name."""
    if value is None:
        return default
    if isinstance(value, (dict, pd.Series)):
        out = pd.Series(default, index=symbols, dtype=float)
        unknown = [str(k) for k in dict(value) if str(k) not in out.index]
        if unknown:
            raise InvalidValueError(name, unknown, "names a symbol the plan does not trade", f"fix the symbol (the "
                                    f"plan trades {symbols_text(symbols, 5)})")
        for key, v in dict(value).items():
            out[str(key)] = arguments.number(v, name, f"give {name} as numbers")
        return out.to_numpy()
    if np.ndim(value) == 0:
        return np.full(len(symbols), arguments.number(value, name, f"give {name} as a number or a dict by symbol"))
    values = np.array([parse_number(v) for v in np.ravel(np.asarray(value, dtype=object))])
    if values.size != len(symbols) or not np.isfinite(values).all():
        raise InvalidValueError(name, ["(all)"], f"has {values.size} values for {len(symbols)} names (or NaN)",
                                "give one number per name in the plan's order, a dict by symbol or one number")
    return values


def _orders(trades, symbols: list, risk: RiskOperator | None) -> pd.DataFrame:
    """adv, price, volatility, alpha_bp per symbol of the plan, in its order."""
    if trades is None:
        raise InvalidValueError("trades", ["(all)"], "is missing", "give the orders (symbol, adv, price, volatility): "
                                "a schedule does not carry prices or volatilities")
    frame = col.normalize_columns(as_table(getattr(trades, "trades", trades)))
    col.require(frame, "adv", "price", context="a simulation")
    col.unique_symbols(frame, "the trades")
    missing = [s for s in symbols if s not in set(frame["symbol"])]
    if missing:
        raise InconsistentInputError(f"the trades have no row for {symbols_text(missing)}, which the plan trades; "
                                     "add them (adv, price, volatility) or pass the trades the plan was made from")
    frame = frame.set_index("symbol").loc[symbols].reset_index()
    out = pd.DataFrame({"symbol": symbols})
    out["adv"] = col.numeric(frame, "adv", positive=True)
    out["price"] = col.numeric(frame, "price", positive=True)
    if "volatility" in frame:
        out["volatility"] = col.numeric(frame, "volatility", positive=True)
    elif risk is not None:
        top = np.einsum("ki,ki->i", risk.top, risk.top)
        out["volatility"] = np.sqrt(top + (risk.diag**2 if risk.diag is not None else 0.0))
    else:
        raise MissingColumnError("volatility", frame.columns, "give 'volatility' (annualized) or a risk model")
    out["alpha_bp"] = col.numeric(frame, "alpha_bp") if "alpha_bp" in frame else 0.0
    return out


def plan_grid(plan, trades=None, *, profile=None, bucket_minutes: int = 30, risk: RiskOperator | None = None,
              drift=None) -> PlanGrid:
    """Any schedule as shares per name per period.

    ``plan``: a tidy schedule (``pov_schedule``, ``vwap_schedule``; symbol, day, bucket_start, shares,
    expected_market_volume), a ``ScheduleSolution`` (its ``schedule``) or an ``AlmgrenChriss``
    trajectory (one name: ``trades`` has one row; each of its periods is ``times`` apart, with
    ADV x the period's length as the expected volume). ``trades``: symbol, adv, price and
    volatility (or a risk model), optional alpha_bp. Periods of a tidy schedule are buckets of
    ``bucket_minutes`` counted from the first bucket of day 1, empty buckets included.
    """
    if isinstance(plan, AlmgrenChriss):
        frame = col.normalize_columns(as_table(getattr(trades, "trades", trades))) if trades is not None else None
        if frame is None or len(frame) != 1:
            raise InvalidValueError("trades", ["(all)"], "must be one order for an Almgren-Chriss trajectory",
                                    "give a one-row table: symbol, adv, price, volatility")
        symbols = [str(frame["symbol"].iloc[0])]
        orders = _orders(frame, symbols, risk)
        dt = np.diff(np.asarray(plan.times, dtype=float))
        shares = np.asarray(plan.trades, dtype=float)[None, :]
        side = np.array([1.0 if shares.sum() > 0 else -1.0])
        shares = np.abs(shares)
        volume = orders["adv"].to_numpy()[:, None] * dt[None, :]
    else:
        table = getattr(plan, "schedule", plan)
        if not isinstance(table, pd.DataFrame):
            policy = (" (a dynamic policy is played on its own model: plan.simulate(paths, seed))"
                      if hasattr(plan, "trade") and hasattr(plan, "simulate") else "")
            raise InvalidValueError("plan", ["(all)"], f"is a {type(plan).__name__}",
                                    "give a schedule table (pov_schedule, vwap_schedule), a ScheduleSolution or "
                                    "an Almgren-Chriss trajectory" + policy)
        for column in ("symbol", "day", "bucket_start", "shares", "expected_market_volume"):
            if column not in table:
                raise MissingColumnError(column, table.columns, "give a schedule as pov_schedule writes it")
        if table.empty:
            raise InvalidValueError("plan", ["(all)"], "trades nothing", "give a schedule with at least one trade")
        symbols = list(dict.fromkeys(table["symbol"].astype(str)))
        orders = _orders(trades, symbols, risk)
        starts, fractions = bucket_grid(profile if profile is not None else load_volume_profile(), bucket_minutes,
                                        symbols)
        per_day = starts.size
        stamp = pd.to_datetime(table["bucket_start"])
        minute = (stamp.dt.hour * 60 + stamp.dt.minute).to_numpy()
        slot = np.searchsorted(starts, minute)
        off = (slot >= per_day) | (starts[np.minimum(slot, per_day - 1)] != minute)
        if off.any():
            raise InconsistentInputError(f"the schedule has a bucket at {stamp[off].iloc[0]:%H:%M}, which does not "
                                         f"start a {bucket_minutes}-minute bucket; pass the bucket_minutes the "
                                         "schedule was made with")
        period = (table["day"].to_numpy(int) - 1) * per_day + slot
        periods = int(max(period.max() + 1, getattr(plan, "periods", 0) or 0))
        name = pd.Index(symbols).get_indexer(pd.Index(table["symbol"].astype(str)))
        signed = np.zeros((len(symbols), periods))
        np.add.at(signed, (name, period), table["shares"].to_numpy(float))
        totals = signed.sum(axis=1)
        mixed = (signed * np.sign(totals)[:, None] < 0).any(axis=1) | (totals == 0)
        if mixed.any():
            raise InvalidValueError("shares", np.array(symbols)[mixed], "both buys and sells (or nets to zero)",
                                    "give each name's schedule one direction")
        side = -np.sign(totals)  # +1 for a sale
        shares = np.abs(signed)
        volume = orders["adv"].to_numpy()[:, None] * fractions[:, np.arange(periods) % per_day]
        volume[name, period] = table["expected_market_volume"].to_numpy(float)
        dt = np.full(periods, bucket_minutes / SESSION_MINUTES)
    alpha = _per_name(drift, symbols, "drift", orders["alpha_bp"].to_numpy(float))
    return PlanGrid(symbols, side, shares, volume, dt, orders["price"].to_numpy(float), orders["adv"].to_numpy(float),
                    orders["volatility"].to_numpy(float), alpha)


def _risk(covariance, factor_model, symbols) -> RiskOperator | None:
    if covariance is not None and factor_model is not None:
        raise InconsistentInputError("give a covariance or a factor_model, not both")
    if factor_model is not None:
        if not isinstance(factor_model, FactorModel):
            raise InvalidValueError("factor_model", ["(all)"], f"is a {type(factor_model).__name__}",
                                    "give a krg_liquidity.FactorModel")
        known = set(factor_model.symbols)
    elif covariance is not None:
        covariance = covariance_frame(covariance)
        known = set(covariance.index)
    else:
        return None
    missing = [s for s in symbols if s not in known]
    if missing:
        raise InconsistentInputError(f"the risk model has no row for {symbols_text(missing)}; add them or drop those "
                                     "names from the plan")
    return risk_operator(covariance, factor_model, symbols)


def _plan_costs(grid: PlanGrid, model: CostModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per name and period at the expected volumes, no price move (USD): the temporary impact b1 I* POV^a4
    x shares, the permanent impact plus the drift; and POV^a4 itself."""
    p = model.params
    quantity, price = grid.quantity, grid.price
    istar = model.istar_bps(quantity / grid.adv, grid.volatility, price if p.a5 else 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pov = np.where(grid.shares > 0, grid.shares / (grid.shares + grid.volume), 0.0)
    pov_power = np.power(pov, p.a4)
    done = np.cumsum(grid.shares, axis=1) / quantity[:, None]
    before = done - grid.shares / quantity[:, None]
    elapsed = np.cumsum(grid.dt_days)
    unit = (price / 1e4)[:, None] * grid.shares
    temporary = unit * p.b1 * istar[:, None] * pov_power
    other = unit * ((1 - p.b1) * istar[:, None] * (before + done) + grid.alpha_bps[:, None] * elapsed[None, :])
    return temporary, other, pov_power


def expected_cost_usd(grid: PlanGrid, model: CostModel) -> tuple[float, np.ndarray]:
    """The plan's MI + PA (USD) from the cost model's trade-schedule forms, and its cash by period at the
    expected volumes with no price move (USD; column k-1 = period k)."""
    temporary, other, _ = _plan_costs(grid, model)
    gross = (grid.side * grid.price)[:, None] * grid.shares
    return float((temporary + other).sum()), np.cumsum((gross - temporary - other).sum(axis=0))


def _chunk_paths(n: int, k: int, periods: int) -> int:
    per_path = 8.0 * (12 * n + 4 * k + 2 * periods)
    return int(max(1, min(CHUNK_BYTES // per_path, 4096)))


def _memory_bytes() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8e9


def simulate(plan, trades=None, *, covariance: pd.DataFrame | None = None, factor_model: FactorModel | None = None,
             paths: int = 10_000, seed: int | None = None, volume_noise: float = 0.3, price_noise: bool = True,
             drift=None, max_pov: float | None = None, milestones: dict | None = None, profile=None,
             bucket_minutes: int = 30, cost_model: CostModel | None = None, replan_every: int | None = None,
             progress: Callable[[int, int], None] | None = None) -> Simulation:
    """Play a schedule against ``paths`` simulated markets (see the module's docstring for the model).

    Parameters
    ----------
    plan : DataFrame, ScheduleSolution or AlmgrenChriss
        A tidy schedule (``pov_schedule``, ``vwap_schedule``), an optimal schedule, or an
        Almgren-Chriss trajectory (one name).
    trades : DataFrame or LiquidationResult
        The orders: symbol, adv (shares/day), price (USD), volatility (annualized; or from the risk
        model), optional alpha_bp (bps a day).
    covariance, factor_model
        The risk model of the price moves (annualized); neither: the names move independently.
    paths : int
        Number of simulated markets (> 0; refused, with the estimate, if the result would not fit
        in half the machine's memory).
    seed : int, optional
        Same seed, plan and arguments: the same numbers.
    volume_noise : float
        Standard deviation of log volume per name and period (0: the expected volume exactly).
    price_noise : bool
        False: prices move only by impact and drift.
    drift : number, dict by symbol or array, optional
        Alpha in bps a day, positive against the order (default: the trades' alpha_bp, else 0).
    max_pov : float, optional
        Most participation a period can fill at its realized volume; the rest carries over.
    milestones : dict, optional
        {period: least cash USD}: the summary gives the probability of each.
    profile : pandas.Series or pandas.DataFrame, optional
        Intraday volume profile of the expected volume per bucket (default: the bundled US model).
    bucket_minutes : int
        The schedule's bucket length (minutes).
    cost_model : CostModel, optional
        The I-Star model whose temporary and permanent parts are paid (None: Kissell 2013 parameters).
    replan_every : int, optional
        Re-plan each path's remaining orders every that many periods (``replan``, from its own fills and
        prices; ``plan`` must be a ``ScheduleSolution``). One solve per path and re-plan: use a few hundred
        paths.
    progress : callable, optional
        Called as ``progress(paths_done, paths)`` after each chunk.

    Returns
    -------
    Simulation

    Examples
    --------
    >>> from krg_liquidity.schedule.pov_vwap import pov_schedule
    >>> trades = pd.DataFrame({"symbol": ["A"], "shares": [-100_000], "adv": [1e6], "price": [50.0],
    ...                        "volatility": [0.3], "pov": [0.1]})
    >>> sim = simulate(pov_schedule(trades, start="2026-03-02"), trades, paths=2_000, seed=1)
    >>> sim.cash_by_period.shape[0], bool(abs(sim.shortfall_usd.mean() - sim.expected_cost_usd) < 4e3)
    (2000, True)
    """
    model = cost_model or CostModel()
    paths = arguments.whole_number(paths, "paths", "give the number of simulated markets, e.g. 10_000")
    volume_noise = arguments.non_negative(volume_noise, "volume_noise", "give the sd of log volume, e.g. 0.3 (0: off)")
    if max_pov is not None:
        max_pov = arguments.fraction(max_pov, "max_pov", closed=False)
    table_symbols = None
    if not isinstance(plan, AlmgrenChriss):
        table = getattr(plan, "schedule", plan)
        if isinstance(table, pd.DataFrame) and "symbol" in table:
            table_symbols = list(dict.fromkeys(table["symbol"].astype(str)))
    else:
        frame = col.normalize_columns(as_table(getattr(trades, "trades", trades))) if trades is not None else None
        table_symbols = [str(frame["symbol"].iloc[0])] if frame is not None and len(frame) else None
    risk = _risk(covariance, factor_model, table_symbols) if table_symbols else None
    grid = plan_grid(plan, trades, profile=profile, bucket_minutes=bucket_minutes, risk=risk, drift=drift)
    if risk is None:
        risk = RiskOperator(np.zeros((0, len(grid.symbols))), grid.volatility)
    n, periods = grid.shares.shape
    k = risk.top.shape[0]
    result_bytes = 8.0 * paths * (periods + n + 1)
    chunk = _chunk_paths(n, k, periods)
    need = result_bytes + min(chunk, paths) * 8.0 * (12 * n + 4 * k + 2 * periods)
    if need > MEMORY_FRACTION * _memory_bytes():
        raise InvalidValueError("paths", ["(all)"], f"= {paths:,} needs about {need / 1e9:,.1f} GB for {n:,} names x "
                                f"{periods} periods, more than half this machine's memory "
                                f"({_memory_bytes() / 1e9:,.1f} GB)", "simulate fewer paths (or fewer names)")
    if milestones:
        milestones = {arguments.whole_number(p, "milestones", "give {period: least cash USD}, periods from 1"):
                      arguments.number(v, "milestones", "give cash in USD")
                      for p, v in dict(milestones).items()}
    expected, planned_cash = expected_cost_usd(grid, model)
    timing = basket_timing_risk_usd(grid.shares, grid.side, grid.price, risk, grid.dt_days, model.trading_days)
    shortfall = np.empty(paths)
    cash = np.empty((paths, periods))
    left = np.zeros((paths, n))
    replanner = None
    if replan_every is not None:
        replanner = _replanner(plan, trades, grid, replan_every, covariance=covariance, factor_model=factor_model,
                               profile=profile, bucket_minutes=bucket_minutes, cost_model=cost_model)
    static = None if max_pov is not None or replanner else _StaticPlan.build(grid, model, risk, bool(price_noise))
    children = np.random.SeedSequence(seed).spawn(-(-paths // chunk))
    for number, first in enumerate(range(0, paths, chunk)):
        last = min(first + chunk, paths)
        rng = np.random.default_rng(children[number])
        if static is not None:
            shortfall[first:last], cash[first:last] = static.paths(last - first, rng, volume_noise)
        else:
            shortfall[first:last], cash[first:last], left[first:last] = _paths(
                grid, model, risk, last - first, rng, volume_noise, bool(price_noise), max_pov, replanner)
        if progress is not None:
            progress(last, paths)
    settings = {"volume_noise": volume_noise, "price_noise": bool(price_noise), "max_pov": max_pov,
                "replan_every": replan_every,
                "periods": periods, "names": n, "chunk_paths": chunk}
    return Simulation(shortfall, cash, left, grid.symbols, grid.value_usd, expected, timing, planned_cash, seed,
                      milestones or {}, settings)


def _replanner(plan, trades, grid: PlanGrid, every, **options) -> Callable:
    """The re-planning policy for ``_paths``: every ``every`` periods, each path's rest re-optimized."""
    from krg_liquidity.schedule.optimal import ScheduleSolution
    from krg_liquidity.schedule.replan import replan

    if not isinstance(plan, ScheduleSolution):
        raise InvalidValueError("replan_every", ["(all)"], f"needs an optimal basket schedule, not a "
                                f"{type(plan).__name__}", "give the ScheduleSolution of optimize_basket_schedule")
    every = arguments.whole_number(every, "replan_every", "give a number of periods, e.g. 1")
    n, periods = grid.shares.shape
    index = {s: i for i, s in enumerate(grid.symbols)}

    def decide(j, done, price_now):
        if j % every:
            return None
        fresh = np.zeros((done.shape[0], n, periods - j))
        for path in range(done.shape[0]):
            if (done[path] >= grid.quantity - 0.5).all():
                continue
            fills = dict(zip(grid.symbols, -grid.side * done[path]))
            market = dict(zip(grid.symbols, price_now[path]))
            solution = replan(plan, fills, market, trades, periods_done=j, **options)
            rest = plan_grid(solution, trades, profile=options["profile"], bucket_minutes=options["bucket_minutes"])
            width = min(rest.shares.shape[1], periods)
            shares = np.zeros((len(rest.symbols), periods))
            shares[:, :width] = rest.shares[:, :width]
            fresh[path][[index[s] for s in rest.symbols]] = shares[:, j:]
        return fresh

    return decide


@dataclass(frozen=True)
class _StaticPlan:
    """Every planned share fills (no ``max_pov``): the price moves enter the cash linearly with fixed
    weights, so the cash-by-period noise is exactly Gaussian with a covariance computed from the risk
    model (``root`` @ z, z standard normal per period); only the traded cells' volumes are drawn."""

    fixed_cash: np.ndarray  # cash per period without the temporary impact or price moves (USD)
    by_period: np.ndarray  # (cells x periods): each cell's temporary impact at POV = 1 (USD) in its period's column
    pov_power: np.ndarray  # POV^a4 of each cell at its expected volume
    volume_ratio: np.ndarray  # expected volume / shares, per cell
    a4: float
    root: np.ndarray | None  # (periods x periods): cash noise = z @ root
    paper_usd: float

    @classmethod
    def build(cls, grid: PlanGrid, model: CostModel, risk: RiskOperator, price_noise: bool) -> _StaticPlan:
        periods = grid.shares.shape[1]
        temporary, other, pov_power = _plan_costs(grid, model)
        fixed = ((grid.side * grid.price)[:, None] * grid.shares - other).sum(axis=0)
        period, name = np.nonzero(grid.shares.T)  # sorted by period
        ratio = grid.volume[name, period] / grid.shares[name, period]
        at_full = temporary[name, period] / pov_power[name, period]  # POV = 1
        by_period = np.zeros((period.size, periods))
        by_period[np.arange(period.size), period] = at_full
        root = _cash_noise_root(grid, risk, model.trading_days) if price_noise else None
        return cls(fixed, by_period, pov_power[name, period], ratio, model.params.a4, root,
                   float((grid.side * grid.quantity * grid.price).sum()))

    def paths(self, m: int, rng: np.random.Generator, volume_noise: float) -> tuple[np.ndarray, np.ndarray]:
        periods = self.fixed_cash.size
        if volume_noise > 0 and self.pov_power.size:
            draw = rng.standard_normal((m, self.pov_power.size), dtype=np.float32)
            scale = np.exp(draw * np.float32(volume_noise) - np.float32(0.5 * volume_noise**2))
            scale *= self.volume_ratio.astype(np.float32)  # float32: the draw's own noise is far larger
            scale += np.float32(1.0)
            pov_power = np.sqrt(scale) if self.a4 == 0.5 else np.power(scale, np.float32(self.a4))
            np.reciprocal(pov_power, out=pov_power)
            temporary = pov_power.astype(np.float64) @ self.by_period  # POV^a4 times each cell's USD, per period
        else:
            temporary = (self.pov_power @ self.by_period)[None, :].repeat(m, axis=0)
        cash = self.fixed_cash[None, :] - temporary
        cash = np.cumsum(cash, axis=1)
        if self.root is not None:
            cash += rng.standard_normal((m, periods)) @ self.root
        return self.paper_usd - cash[:, -1], cash


def _cash_noise_root(grid: PlanGrid, risk: RiskOperator, trading_days: int) -> np.ndarray:
    """R (periods x periods) with R'R the covariance of the cumulative cash's price noise (USD^2).

    Each risk source r (a factor row of the operator, or a name's specific risk) moves by
    sqrt(dt_l / trading_days) u over period l and averages sqrt(dt_l / trading_days) (u/2 + w/sqrt(12))
    over it (u, w independent standard normals). With e_rl the source's exposure to the dollars
    traded in period l (cash-signed), the cash by the end of period K moves by
    sum_{l <= K} s_l [u_rl (E_rK - E_rl + e_rl / 2) + w_rl e_rl / sqrt(12)], E_r the cumulative exposure.
    """
    dollars = (grid.side * grid.price)[:, None] * grid.shares  # names x periods, cash-signed
    exposure = risk.top @ dollars
    if risk.diag is not None:
        exposure = np.vstack([exposure, risk.diag[:, None] * dollars])
    cumulative = np.cumsum(exposure, axis=1)
    periods = dollars.shape[1]
    scale = np.sqrt(grid.dt_days / trading_days)  # per period l
    reached = np.arange(periods)[None, :] >= np.arange(periods)[:, None]  # [l, K]: K >= l
    move = (cumulative[:, None, :] - cumulative[:, :, None] + 0.5 * exposure[:, :, None]) * reached  # [r, l, K]
    move *= scale[None, :, None]
    within = (exposure * scale[None, :] / np.sqrt(12.0))[:, :, None] * reached
    covariance = np.einsum("rlk,rlm->km", move, move) + np.einsum("rlk,rlm->km", within, within)
    values, vectors = np.linalg.eigh(covariance)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))).T


def _paths(grid: PlanGrid, model: CostModel, risk: RiskOperator, m: int, rng: np.random.Generator,
           volume_noise: float, price_noise: bool, max_pov: float | None,
           replanner: Callable | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One chunk of ``m`` paths: shortfall (m), cash by period (m x periods), shares left (m x names).
    ``replanner(period, done, price_now)``: None, or new shares (m x names x periods left) for the paths'
    states at the start of a period (0-based), unfilled shares included."""
    p = model.params
    n, periods = grid.shares.shape
    quantity, price, side = grid.quantity, grid.price, grid.side
    istar = model.istar_bps(quantity / grid.adv, grid.volatility, price if p.a5 else 1.0)
    temporary = price * p.b1 * istar / 1e4  # USD per share at POV = 1
    permanent = price * (1 - p.b1) * istar / 1e4  # USD per share: half the shift at completion
    sigma_scale = np.sqrt(grid.dt_days / model.trading_days)
    top, diag = risk.top, risk.diag
    k = top.shape[0]
    moved = np.zeros((m, n))  # cumulative return since arrival (price noise only)
    done = np.zeros((m, n))
    carry = np.zeros((m, n))
    cash = np.zeros((m, periods))
    planned = None  # per path, once re-planned
    elapsed = 0.0
    for j in range(periods):
        elapsed += grid.dt_days[j]
        if price_noise:
            s = sigma_scale[j]
            u, w = rng.standard_normal((2, m, k)) if k else (np.zeros((m, 0)),) * 2
            move = (u @ top) * s
            average = ((0.5 * u + w / np.sqrt(12.0)) @ top) * s
            if diag is not None:
                us, ws = rng.standard_normal((2, m, n))
                move += us * (diag * s)
                average += (0.5 * us + ws / np.sqrt(12.0)) * (diag * s)
        else:
            move = average = 0.0
        fresh = None
        if replanner is not None and j > 0:
            now = price * (1 + moved) - side * (2 * permanent * done / quantity
                                                + price * grid.alpha_bps / 1e4 * (elapsed - grid.dt_days[j]))
            fresh = replanner(j, done, now)
        if fresh is not None:
            planned = np.concatenate([np.zeros((m, n, j)), fresh], axis=2)
            carry = np.zeros((m, n))
        want = (grid.shares[:, j] if planned is None else planned[:, :, j]) + carry
        traded = want > 0
        volume = np.broadcast_to(grid.volume[:, j], (m, n))
        if volume_noise > 0:
            volume = volume * np.exp(volume_noise * rng.standard_normal((m, n)) - 0.5 * volume_noise**2)
        fill = want
        if max_pov is not None:
            fill = np.minimum(want, max_pov / (1 - max_pov) * volume)
        carry = want - fill
        with np.errstate(invalid="ignore", divide="ignore"):
            pov = np.where(traded, fill / (fill + volume), 0.0)
        after = done + fill
        impact = (temporary * np.power(pov, p.a4) + permanent * (done + after) / quantity
                  + price * grid.alpha_bps / 1e4 * elapsed)
        market = price * (moved + average)
        cash[:, j] = (fill * (side * (price + market) - impact)).sum(axis=1)
        done = after
        moved = moved + move
    cash = np.cumsum(cash, axis=1)
    left = quantity - done
    final = price * moved - side * (2 * permanent * done / quantity + price * grid.alpha_bps / 1e4 * elapsed)
    paper = float((side * quantity * price).sum())
    shortfall = paper - cash[:, -1] - (side * left * (price + final)).sum(axis=1)
    return shortfall, cash, left
