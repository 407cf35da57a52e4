"""Optimal trade schedules: free shares per bucket, for one name or a correlated basket.

MATLAB's krg examples "Optimize Trade Schedule" (one stock) and "... for Basket" minimize
MI + PA + lambda TR over the shares of each period with fmincon, to a local minimum. Here the
same objective is a convex program (see :mod:`krg_liquidity.schedule.program` for the proof),
solved to its global optimum by a structured interior-point method (or Clarabel, see
:mod:`krg_liquidity.schedule.solver`), rounded to whole shares with exact totals (sales rounded
early, buys late, so no cash milestone is lost to rounding), verified from the rounded schedule
through the cost model's trade-schedule path, and given a proven bound on its gap to the optimum.

Conventions: periods are buckets of ``bucket_minutes`` from the first bucket of day 1, running
over as many days as ``periods`` needs; market volume per bucket = ADV x the profile's fraction.
Impact and PA use MATLAB's schedule forms (PA with DayTime = sum VP / ADV). The basket's timing
risk is that of ``basket_view`` (residual dollar positions, linear within each bucket of clock
time, full correlations); the single name's is ``CostModel.timing_risk`` on the schedule.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import pandas as pd

from krg_liquidity.book import columns as col
from krg_liquidity.book import units
from krg_liquidity.book.orders import as_table
from krg_liquidity.book.portfolio import covariance_frame
from krg_liquidity.book.risk import FactorModel, RiskOperator, risk_operator
from krg_liquidity.core import arguments
from krg_liquidity.core.errors import (
    BookError,
    InconsistentInputError,
    InfeasibleSchedule,
    InvalidValueError,
    MissingColumnError,
    SolverFailure,
    SolverTimeout,
    symbols_text,
)
from krg_liquidity.core.numbers import parse_number
from krg_liquidity.core.plan import DEFAULT_TIME_LIMIT, ENGINES, SolverOptions
from krg_liquidity.model.impact import CostModel
from krg_liquidity.schedule.check import basket_timing_risk_usd, check_schedule, round_schedule
from krg_liquidity.schedule.data import MEASURES, ProgramData
from krg_liquidity.schedule.pov_vwap import SCHEDULE_COLUMNS, bucket_grid, schedule_frame
from krg_liquidity.schedule.solver import ScheduleSolver

ACCEPT_VIOLATION = 1e-9


@dataclass
class ScheduleSolution:
    """An optimal schedule.

    Money in USD, recomputed from the whole-share schedule.

    Attributes
    ----------
    schedule : pandas.DataFrame
        The tidy table of :func:`~krg_liquidity.pov_schedule` (whole shares, exact totals).
    names : pandas.DataFrame
        Per symbol: shares, value_usd, mi_bps, pa_bps, tr_bps (each name alone, CostModel's
        schedule path), cost_usd (MI + PA), done_day1 (fraction done after day 1).
    status : str
        "optimal" (the engine's proven gap before rounding is within its tolerance) or "feasible"
        (time ran out or the engines fell short: checked, and ``gap_usd`` says how far it can be).
    risk_aversion : float
        Lambda (unitless with risk measure "std"; 1/USD with "variance").
    risk_measure : str
        "std" or "variance".
    impact_usd : float
        Market impact (MI) of the schedule.
    pa_usd : float
        Price appreciation (PA) over the schedule.
    timing_risk_usd : float
        The basket's timing risk (correlated).
    objective_usd : float
        MI + PA + lambda x the risk term.
    solver_objective_usd : float
        The program's optimum before rounding.
    gap_usd : float
        A proven bound on how far ``objective_usd`` can be above the best schedule within the
        limits (convexity: the objective's tangent at the answer, minimized over the caps,
        completion rows and milestones; NaN if not computed).
    max_violation : float
        The worst of ``violations``.
    violations : dict
        Totals and negatives in shares, caps in POV, milestones as a fraction of the milestone,
        shares after a name's horizon (0: met).
    periods : int
        Buckets in the horizon.
    seconds : float
        Seconds the solve took (wall clock).
    cash_by_period_usd : numpy.ndarray
        Cumulative cash raised by the end of each period (USD).
    attempts : list
        Each engine call (engine, status, seconds, accepted).
    notes : list
        What was assumed, in words.
    milestones : pandas.DataFrame
        With a ``confidence``: per milestone its period, least_usd, expected_cash_usd (nominal cash less
        the expected impact and PA of the trades done by then), sd_cash_usd (the Gaussian price model),
        z and probability (of raising at least least_usd by the period's end), all recomputed from the
        whole-share schedule; ``violations["cash_confidence"]`` is the largest shortfall of E - z sd
        under the milestone, as a fraction of it.
    cvar : tuple or None
        (level, weight, the cost's CVaR in USD = MI + PA + phi(z) / (1 - level) x timing risk) when the
        objective has a CVaR term.

    Examples
    --------
    >>> plan = optimize_schedule({"shares": 100_000, "adv": 1e6, "volatility": 0.25}, start="2026-03-02")
    >>> plan.status, plan.periods, len(plan.cash_by_period_usd)
    ('optimal', 13, 13)
    """

    schedule: pd.DataFrame
    names: pd.DataFrame
    status: str
    risk_aversion: float
    risk_measure: str
    impact_usd: float
    pa_usd: float
    timing_risk_usd: float
    objective_usd: float
    solver_objective_usd: float
    gap_usd: float
    max_violation: float
    violations: dict
    periods: int
    seconds: float
    cash_by_period_usd: np.ndarray | None = field(repr=False, default=None)
    attempts: list = field(default_factory=list)
    confidence: float = np.nan  # the milestones' confidence (NaN: plain milestones, on nominal cash)
    milestones: pd.DataFrame | None = None  # with a confidence: one row per milestone (see cash_milestones)
    cvar: tuple | None = None  # (level, weight, CVaR of the cost in USD) with a CVaR term
    shares_by_period: np.ndarray | None = field(repr=False, default=None)  # names (as ``names``) x periods, unsigned
    notes: list = field(default_factory=list)  # what was assumed, in words

    @property
    def value_usd(self) -> float:
        """Total value traded (USD), the sum of ``names["value_usd"]``."""
        return float(self.names["value_usd"].sum())

    @property
    def objective_bps(self) -> float:
        """Objective in bps of the traded value (for one name: MI + PA + lambda TR in bps)."""
        return self.objective_usd / self.value_usd * 1e4

    def summary(self) -> str:
        """A few lines a PM can read: status and engine, traded value, impact, alpha and timing risk (USD and
        bps), the objective and its proven gap, the worst violation, the seconds and the notes."""
        value = self.value_usd
        engine = next((a.get("engine", "") for a in self.attempts if a.get("accepted")), "")
        solver = f"${self.solver_objective_usd:,.0f}" if np.isfinite(self.solver_objective_usd) else "n/a: one period"
        rows = [("status", f"{self.status}{f' ({engine})' if engine else ''}"),
                ("risk aversion", f"{self.risk_aversion:g} ({self.risk_measure})"),
                ("names x periods", f"{len(self.names)} x {self.periods}"),
                ("traded value", f"${value:,.0f}"),
                ("market impact", f"${self.impact_usd:,.0f} ({self.impact_usd / value * 1e4:.2f} bps)"),
                ("price appreciation", f"${self.pa_usd:,.0f}"),
                ("timing risk", f"${self.timing_risk_usd:,.0f} ({self.timing_risk_usd / value * 1e4:.2f} bps)"),
                ("objective", f"${self.objective_usd:,.0f} (solver before rounding {solver})"),
                ("gap to optimum", f"at most ${self.gap_usd:,.2f} (proven)"),
                ("max violation", "0 (every limit met, recomputed from the whole-share schedule)"
                 if self.max_violation <= ACCEPT_VIOLATION else
                 f"{max(self.violations, key=lambda name: self.violations[name])} off by {self.max_violation:,.4g}"),
                ("seconds", f"{self.seconds:.3f}")]
        if self.cvar is not None:
            level, weight, cvar_usd = self.cvar
            rows.insert(-3, ("cost CVaR", f"${cvar_usd:,.0f} at {level:.1%} (Gaussian; weight {weight:g})"))
        for row in () if self.milestones is None else self.milestones.itertuples():
            said = (f"at least ${row.least_usd:,.0f} with probability {row.probability:.2%} (asked "
                    f"{self.confidence:.1%}): expected ${row.expected_cash_usd:,.0f}, sd ${row.sd_cash_usd:,.0f}")
            rows.insert(-3, (f"cash by period {row.period}", said))
        rows += [("note", note) for note in self.notes]
        return "\n".join(f"{k:<20}{v}" for k, v in rows)

    def summary_frame(self) -> pd.DataFrame:
        """The summary as numbers: item, value, unit (one row each; the .xlsx "summary" sheet).

        Returns
        -------
        pandas.DataFrame
            Columns item, value, unit.

        Examples
        --------
        >>> plan = optimize_schedule({"shares": 100_000, "adv": 1e6, "volatility": 0.25}, start="2026-03-02")
        >>> plan.summary_frame().iloc[0].tolist()
        ['status', 'optimal', '']
        """
        value = self.value_usd
        engine = next((a.get("engine", "") for a in self.attempts if a.get("accepted")), "")
        rows = [("status", self.status, ""), ("engine", engine, ""),
                ("risk_aversion", self.risk_aversion, "1/USD" if self.risk_measure == "variance" else "USD per USD"),
                ("risk_measure", self.risk_measure, ""), ("names", len(self.names), ""), ("periods", self.periods, ""),
                ("traded_value", value, "USD"), ("market_impact", self.impact_usd, "USD"),
                ("market_impact_bps", self.impact_usd / value * 1e4, "bps of traded value"),
                ("price_appreciation", self.pa_usd, "USD"), ("timing_risk", self.timing_risk_usd, "USD"),
                ("timing_risk_bps", self.timing_risk_usd / value * 1e4, "bps of traded value"),
                ("objective", self.objective_usd, "USD"), ("solver_objective", self.solver_objective_usd, "USD"),
                ("gap_to_optimum", self.gap_usd, "USD, proven"), ("max_violation", self.max_violation, ""),
                ("seconds", self.seconds, "s")]
        if self.cvar is not None:
            rows += [("cvar_level", self.cvar[0], ""), ("cvar_weight", self.cvar[1], ""), ("cost_cvar", self.cvar[2], "USD")]
        for row in () if self.milestones is None else self.milestones.itertuples():
            rows += [(f"cash_by_period_{row.period}_least", row.least_usd, "USD"),
                     (f"cash_by_period_{row.period}_expected", row.expected_cash_usd, "USD"),
                     (f"cash_by_period_{row.period}_sd", row.sd_cash_usd, "USD"),
                     (f"cash_by_period_{row.period}_probability", row.probability, f"asked {self.confidence:g}")]
        return pd.DataFrame(rows, columns=["item", "value", "unit"]).astype({"value": object})

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary() + "</pre>"


@dataclass
class _Setup:
    """Validated orders, per-period arrays and the compiled program."""

    orders: pd.DataFrame
    starts: np.ndarray
    per_day: int
    volume: np.ndarray
    pov_cap: np.ndarray
    milestones: tuple
    solver: ScheduleSolver | None  # None: one period, nothing to choose
    model: CostModel
    risk_dt: np.ndarray
    start: object
    risk: RiskOperator
    measure: str
    last_period: np.ndarray  # per name, 1..periods
    confidence: float = np.nan  # the milestones' confidence; NaN: nominal milestones
    cvar: tuple | None = None  # (level, weight)
    istar_bps: np.ndarray | None = None  # per name
    pa_bps: np.ndarray | None = None  # per name x period, per unit fraction traded


def _per_name(value, symbols, name: str, default: float, partial: bool = False) -> np.ndarray:
    """A number, a dict / Series keyed by symbol, or an array: one float per symbol (``partial``:
    symbols missing from a dict take ``default``)."""
    if value is None:
        return np.full(len(symbols), default)
    if isinstance(value, (dict, pd.Series)):
        series = pd.Series(value, dtype=object).map(parse_number)
        unread = [str(k) for k, v in series.items() if np.isnan(v)]
        if unread:
            raise InvalidValueError(name, unread, "is not a number", f"give {name} as numbers (decimal or '20%')")
        series.index = series.index.astype(str)
        unknown = [s for s in series.index if s not in set(symbols)]
        if unknown:  # a mistyped symbol must not be ignored
            raise InvalidValueError(name, unknown, "names a symbol that is not traded",
                                    f"fix the symbol (the trades hold {symbols_text(list(symbols), 5)})")
        missing = [s for s in symbols if s not in series.index]
        if missing and partial:
            series = pd.concat([series, pd.Series(default, index=missing, dtype=float)])
        elif missing:
            raise InvalidValueError(name, missing, "has no value", f"give {name} for every traded symbol")
        return series.loc[list(symbols)].to_numpy(float)
    if np.ndim(value) == 0:
        return np.full(len(symbols), arguments.number(value, name, f"give {name} as a number, a dict by symbol or "
                                                      "one value per traded name", percent=True))
    values = np.array([parse_number(v) for v in np.ravel(np.asarray(value, dtype=object))])
    if values.size != len(symbols):
        raise InvalidValueError(name, ["(all)"], f"has {values.size} values for {len(symbols)} traded names",
                                "give one value per name in the trades' order, a dict by symbol or one number")
    return values


def _orders(trades: pd.DataFrame, covariance, factor_model) -> tuple[pd.DataFrame, RiskOperator]:
    if not isinstance(trades, pd.DataFrame):
        raise InvalidValueError("trades", ["(all)"], f"is a {type(trades).__name__}",
                                "give a DataFrame of orders (symbol, shares, adv, price, volatility) or a "
                                "LiquidationResult")
    frame = col.normalize_columns(as_table(trades))
    frame = col.use_traded_shares(frame)
    col.require(frame, "shares", "adv", "price", context="an optimal schedule")
    shares = col.numeric(frame, "shares")
    quantity = np.round(np.abs(shares))
    frame = frame.loc[quantity > 0].reset_index(drop=True)
    if frame.empty:
        raise InvalidValueError("shares", ["(all)"], "are all zero", "give at least one order of >= 1 share")
    col.unique_symbols(frame, "the trades")
    symbols = frame["symbol"].tolist()
    out = pd.DataFrame({"symbol": symbols, "quantity": quantity[quantity > 0],
                        "side": np.sign(shares[quantity > 0])})
    out["adv"] = col.numeric(frame, "adv", positive=True, fix="an optimal schedule needs ADV (shares/day) > 0")
    out["price"] = col.numeric(frame, "price", positive=True, fix="an optimal schedule needs prices (USD) > 0")
    out["alpha_bp"] = col.numeric(frame, "alpha_bp") if "alpha_bp" in frame else 0.0
    if covariance is not None and factor_model is not None:
        raise InconsistentInputError("give a covariance or a factor_model, not both")
    cov = None
    if covariance is not None:
        cov = covariance_frame(covariance)  # a text cell is NaN: named by the check
        problems = units.check_covariance(cov)  # the shape first: a factor table given as a covariance
        if problems:
            raise BookError(problems, what="the covariance")
    if factor_model is not None and not isinstance(factor_model, FactorModel):
        raise InvalidValueError("factor_model", ["(all)"], f"is a {type(factor_model).__name__}",
                                "give a krg_liquidity.FactorModel (e.g. FactorModel.from_files(...)) or a covariance")
    known = set(cov.index) if cov is not None else set(factor_model.symbols) if factor_model is not None else None
    if known is not None:
        missing = [s for s in symbols if s not in known]
        if missing:
            raise InconsistentInputError(f"the risk model has no row for {symbols_text(missing)}; "
                                         "add them to the covariance / factor model or drop those trades")
    out["volatility"] = _volatility(frame, out, cov, factor_model)
    if cov is None and factor_model is None:
        risk = RiskOperator(np.zeros((1, len(out))), out["volatility"].to_numpy())  # uncorrelated
    else:
        risk = risk_operator(cov, factor_model, symbols)
    return out, risk


def _volatility(frame, out, cov, factor_model) -> np.ndarray:
    """The impact model's volatility per order (the book's column, else the risk model's), with the
    units rules of a book: percent volatility, a covariance in percent squared or a correlation
    matrix are refused, every problem listed (``BookError``)."""
    symbols = out["symbol"].to_numpy()
    problems: list = []
    model = None
    if cov is not None:
        model = units.covariance_volatility(cov.loc[symbols, symbols])
    elif factor_model is not None:
        model = factor_model.subset(symbols).volatility()
    given = "volatility" in frame
    if given:
        vol = col.numeric(frame, "volatility", positive=True)
    elif model is not None:
        vol = model.to_numpy()
        problems += units.check_model_volatility(model, False)
    elif not problems:
        raise MissingColumnError("volatility", frame.columns, "give 'volatility' (annualized) or a risk model")
    if not problems:
        problems += units.check_book_units({"volatility": vol}, symbols, model if given else None)
    if problems:
        raise BookError(problems, what="the trades and risk model")
    return vol


def _milestones(cash_by_period, periods: int, orders: pd.DataFrame, cap_fraction: np.ndarray) -> tuple[tuple, list]:
    """(period, least cash USD) pairs, checked against the most cash the caps allow by then, and
    that most cash (USD) for each."""
    if cash_by_period is None:
        return (), []
    if isinstance(cash_by_period, (dict, pd.Series)):
        items = [(_period(k, periods), parse_number(v)) for k, v in dict(cash_by_period).items()]
    else:
        values = np.array([parse_number(v) for v in np.ravel(np.asarray(cash_by_period, dtype=object))])
        if values.size != periods:
            raise InvalidValueError("cash_by_period", ["(all)"], f"has {values.size} entries for {periods} periods",
                                    "give one least cumulative cash (USD, NaN = none) per period, or a dict")
        items = [(k + 1, v) for k, v in enumerate(values) if np.isfinite(v)]
    value = (orders["quantity"] * orders["price"]).to_numpy()
    side = -orders["side"].to_numpy()  # +1 for a sale
    if not (side > 0).any():
        raise InvalidValueError("cash_by_period", ["(all)"], "needs sales, and this basket only buys",
                                "drop the milestones: they count the cash raised by sales, net of buys")
    whole = float(side @ value)  # all the basket raises, sales net of buys (USD)
    cum_cap = np.minimum(np.cumsum(cap_fraction, axis=1), 1.0)
    late_cap = np.clip(1.0 - (cap_fraction.sum(axis=1, keepdims=True) - np.cumsum(cap_fraction, axis=1)), 0.0, 1.0)
    out, reaches = [], []
    for period, cash in items:
        if not 1 <= period <= periods or not np.isfinite(cash):
            raise InvalidValueError("cash_by_period", [period], f"must name a period in 1..{periods} with a finite "
                                    "amount", "key it by the period (bucket count from the start) it ends")
        if cash <= 1.0:
            raise InvalidValueError("cash_by_period", [period], f"is {cash:g}: milestones are USD, more than $1",
                                    f"give dollars, e.g. 0.6 of the basket's ${whole:,.0f} is {0.6 * whole:,.0f}")
        reach = float(np.sum(np.where(side > 0, value * cum_cap[:, period - 1], -value * late_cap[:, period - 1])))
        if cash > reach + 1e-9 * abs(reach):
            why = ("all the basket raises (sales net of buys); lower the milestone" if reach >= whole * (1 - 1e-12)
                   else "within the participation caps; lower the milestone, move it later or raise max_pov")
            raise InfeasibleSchedule(f"cannot raise ${cash:,.0f} by the end of period {period}: at most "
                                     f"${reach:,.0f}, {why}", reachable_usd=reach)
        out.append((period, cash))
        reaches.append(reach)
    return tuple(out), reaches


def _confidence(confidence, cash_by_period) -> tuple[float, float]:
    """The milestones' confidence and its normal quantile z (NaN, 0 when none is asked)."""
    if confidence is None:
        return np.nan, 0.0
    fix = "give the probability of meeting every cash milestone as a decimal above one half, e.g. 0.95 (or '95%')"
    level = arguments.number(confidence, "confidence", fix, percent=True)
    if not 0.5 < level < 1:
        raise InvalidValueError("confidence", ["(all)"], f"is {level:g}: it must be in (0.5, 1)", fix)
    if cash_by_period is None:
        raise InvalidValueError("confidence", ["(all)"], "applies to cash milestones and none were given",
                                "give cash_by_period (e.g. {3: 8e8}) or drop confidence")
    return level, NormalDist().inv_cdf(level)


def _cvar(cvar) -> tuple[tuple | None, float]:
    """(level, weight) and the weight on the timing risk's sd it adds: weight x phi(z) / (1 - level),
    the Gaussian cost's CVaR at ``level`` being its mean plus phi(z) / (1 - level) sds."""
    if cvar is None:
        return None, 0.0
    fix = "give cvar as (level, weight), e.g. (0.95, 1.0): the cost's CVaR at 95%, weighted 1"
    if isinstance(cvar, str) or np.ndim(cvar) != 1 or len(cvar) != 2:
        raise InvalidValueError("cvar", ["(all)"], f"is {cvar!r}", fix)
    level = arguments.number(cvar[0], "cvar", fix, percent=True)
    if not 0.5 < level < 1:
        raise InvalidValueError("cvar", ["level"], f"is {level:g}: it must be in (0.5, 1)", fix)
    weight = arguments.non_negative(cvar[1], "cvar", fix)
    normal = NormalDist()
    return (level, weight), weight * normal.pdf(normal.inv_cdf(level)) / (1 - level)


def _period(key: object, periods: int) -> int:
    """A milestone's period from a dict key (the caller checks 1..periods); text that is not a whole
    number is an InvalidValueError."""
    value = parse_number(key)
    if not (np.isfinite(value) and value == round(value)):
        raise InvalidValueError("cash_by_period", [key], f"must name a period in 1..{periods}",
                                "key each milestone by the period it ends (a bucket count from the start), "
                                "e.g. {13: 5e7}")
    return int(value)


def _check_memory(periods: int, names: int) -> None:
    """Refuse a program too large for this machine's memory (the time kernel is periods x periods,
    kept in a few copies, plus a few names x periods arrays)."""
    need = 8.0 * (4.0 * periods**2 + 20.0 * names * periods)  # bytes
    try:
        have = float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return
    if need > 0.5 * have:
        raise InvalidValueError("periods", ["(all)"], f"is {periods:,}: the schedule would need about "
                                f"{need / 2**30:,.1f} GiB of memory (this machine has {have / 2**30:,.1f} GiB)",
                                "use fewer, longer periods (a larger bucket_minutes) or split the horizon")


def _horizon(horizon, symbols, periods: int) -> np.ndarray:
    """The last period (1..periods) each name may trade in."""
    last = _per_name(horizon, symbols, "horizon", periods, partial=True)
    bad = ~np.isfinite(last) | (last != np.round(last)) | (last < 1) | (last > periods)
    if bad.any():
        raise InvalidValueError("horizon", symbols[bad], f"must be a whole number of periods in 1..{periods}",
                                "give the last period each name may trade in, e.g. {'AAPL': 13} to finish it on day 1")
    return last.astype(int)


def _setup(trades, covariance, factor_model, profile, periods, bucket_minutes, max_pov, cash_by_period,
           cost_model, risk_measure, start, kernel="linear", volume_time_risk=False, engine="auto",
           horizon=None, confidence=None, cvar=None, options: SolverOptions | None = None) -> _Setup:
    if risk_measure not in MEASURES:
        raise InvalidValueError("risk_measure", ["(all)"], f"is {risk_measure!r}", f"choose one of {MEASURES}")
    if engine not in ENGINES:
        raise InvalidValueError("engine", ["(all)"], f"is {engine!r}", f"choose one of {ENGINES}")
    if cost_model is not None and not isinstance(cost_model, CostModel):
        raise InvalidValueError("cost_model", ["(all)"], f"is a {type(cost_model).__name__}",
                                "give a krg_liquidity.CostModel (or None for the published I-Star set)")
    periods = arguments.whole_number(periods, "periods", "give a whole number of buckets >= 1")
    confidence, z = _confidence(confidence, cash_by_period)
    cvar, cvar_std = _cvar(cvar)
    model = cost_model or CostModel()
    orders, risk = _orders(trades, covariance, factor_model)
    _check_memory(periods, len(orders))
    starts, fractions = bucket_grid(profile, bucket_minutes, orders["symbol"])
    per_day = fractions.shape[1]
    bucket = np.arange(periods) % per_day
    quantity, adv, price = (orders[c].to_numpy(float) for c in ("quantity", "adv", "price"))
    volume = adv[:, None] * fractions[:, bucket]  # other participants' shares per period
    empty = sorted({f"{m // 60:02d}:{m % 60:02d}" for m in starts[bucket[~(volume > 0).all(axis=0)]]})
    if empty:
        raise InvalidValueError("profile", empty, "has no market volume in the bucket",
                                "an optimal schedule prices every bucket through the cost model's trade-schedule "
                                "path, which needs volume > 0: give those minutes some volume or use wider buckets")
    one = np.ndim(max_pov) == 0 and not isinstance(max_pov, (dict, pd.Series))
    if one and max_pov is not None:
        max_pov = arguments.fraction(max_pov, "max_pov")
    pov = _per_name(max_pov, orders["symbol"], "max_pov", 1.0, partial=True)  # names not listed: no cap
    if np.any(~np.isfinite(pov) | (pov <= 0) | (pov > 1)):
        bad = orders["symbol"][~(np.isfinite(pov) & (pov > 0) & (pov <= 1))]
        raise InvalidValueError("max_pov", bad, "must be in (0, 1]",
                                "give the most participation per bucket as a decimal, e.g. 0.2 (or '20%') for 20%")
    with np.errstate(divide="ignore", invalid="ignore"):
        cap_shares = np.where(pov[:, None] < 1, pov[:, None] / (1 - pov[:, None]) * volume, np.inf)
    last = _horizon(horizon, orders["symbol"], periods)
    open_cells = (volume > 0) & (np.arange(periods)[None, :] < last[:, None])  # none where no one else trades
    cap_shares = np.where(open_cells, cap_shares, 0.0)
    # one share of slack so that the whole-share rounding (within one share per bucket) stays under the cap
    cap_fraction = np.where(np.isfinite(cap_shares), np.maximum(cap_shares - 1.0, 0.0), np.inf) / quantity[:, None]
    short = cap_fraction.sum(axis=1) < 1.0
    if short.any():
        need = (quantity[short] + last[short]) / np.where(open_cells, volume, 0.0)[short].sum(axis=1)
        within = f"{periods} period{'s' if periods > 1 else ''}" if horizon is None else "the horizon given"
        raise InfeasibleSchedule(
            f"{symbols_text(list(orders['symbol'][short]))} cannot complete within {within} under max_pov; "
            f"raise max_pov to at least {float(np.max(need / (1 + need))):.3g} or trade over more periods",
            symbols=orders["symbol"][short])
    milestones, reaches = _milestones(cash_by_period, periods, orders, np.minimum(cap_fraction, 1.0))
    # rounding moves each cumulative by at most half a share: ask the program for that much more,
    # within what the caps allow (a milestone at the reach leaves one schedule; the conic program takes it)
    size = quantity / adv
    vol = orders["volatility"].to_numpy(float)
    p = model.params
    istar = model.istar_bps(size, vol, price)
    day_time = volume.sum(axis=1) / adv  # MATLAB's DayTime per name (days)
    pa = orders["alpha_bp"].to_numpy(float)[:, None] * (day_time / periods)[:, None] * np.arange(1, periods + 1)
    slack_usd = 0.5 * float(price.sum())
    if z > 0:  # and the expected cost and the sd each move by at most about a share's worth per cell
        per_share = 1.0 + z + 2.0 * periods * (2.0 * istar + np.abs(pa).max(axis=1)) / 1e4
        slack_usd = float(price @ per_share)
    program_milestones = tuple((k, min(c + slack_usd, reach)) for (k, c), reach in zip(milestones, reaches))
    risk_dt = np.full(periods, day_time[0] / periods) if volume_time_risk else np.full(periods, 1.0 / per_day)
    data = ProgramData(
        value_usd=quantity * price, side=-orders["side"].to_numpy(float),
        istar_bps=istar, volume_ratio=volume / quantity[:, None], pa_bps=pa,
        dt_days=risk_dt, risk=risk, a4=p.a4, b1=p.b1, trading_days=model.trading_days,
        cap=np.where(np.isfinite(cap_fraction), cap_fraction, np.inf), milestones=program_milestones,
        stated_cap=cap_shares / quantity[:, None], stated_milestones=milestones, confidence_z=z, std_weight=cvar_std)
    solver = (ScheduleSolver(data, kernel=kernel, measure=risk_measure, engine=engine, options=options)
              if periods > 1 else None)
    return _Setup(orders, starts, per_day, volume, pov, milestones, solver, model, risk_dt, start, risk, risk_measure,
                  last, confidence, cvar, istar, pa)


def _warm(setup: _Setup, warm_start) -> np.ndarray | None:
    """Fractions (names x periods) to start the interior-point method near: the last ``periods``
    periods of an earlier ScheduleSolution (names matched by symbol), or shares per name per period."""
    if warm_start is None:
        return None
    orders = setup.orders
    periods = setup.volume.shape[1]
    if isinstance(warm_start, ScheduleSolution):
        grid = np.asarray(warm_start.shares_by_period, dtype=float)
        if grid.ndim != 2 or grid.shape[1] < periods:
            raise InvalidValueError("warm_start", ["(all)"], f"has {grid.shape[-1]} periods, fewer than {periods}",
                                    "give an earlier plan at least as long as this one (its last periods are used)")
        rows = pd.DataFrame(grid[:, -periods:], index=warm_start.names["symbol"].astype(str))
        shares = rows.reindex(orders["symbol"].astype(str)).fillna(0.0).to_numpy()
    else:
        shares = np.abs(np.asarray(warm_start, dtype=float))
        if shares.shape != setup.volume.shape:
            raise InvalidValueError("warm_start", ["(all)"], f"has shape {shares.shape}",
                                    f"give shares per name per period, {setup.volume.shape} (names in the trades' order)")
    return shares / orders["quantity"].to_numpy(float)[:, None]


def _chosen(options: SolverOptions | None, engine: str, time_limit: float | None) -> SolverOptions:
    """How a schedule is solved: ``options``, or the ``engine`` and ``time_limit`` keywords (not both)."""
    if engine not in ENGINES:
        raise InvalidValueError("engine", ["(all)"], f"is {engine!r}", f"choose one of {ENGINES}")
    if time_limit is not None:
        arguments.time_limit(time_limit)  # named in the schedules' words before SolverOptions checks it
    return SolverOptions.of(options, engine=engine, time_limit=time_limit)


def _seconds(chosen: SolverOptions) -> float:
    return float("inf") if chosen.time_limit is None else float(chosen.time_limit)


def _solve(setup: _Setup, risk_aversion: float, time_limit: float, tolerance: float = 1e-8,
           warm: np.ndarray | None = None) -> ScheduleSolution:
    begin = time.perf_counter()
    risk_aversion = arguments.non_negative(risk_aversion, "risk_aversion", "give a number >= 0")
    time_limit = arguments.time_limit(time_limit)
    n = setup.volume.shape[0]
    if setup.solver is None:  # one period: the whole order in it
        fractions, status, attempts, solver_bps, lower_bps = np.ones((n, 1)), "optimal", [], np.nan, np.nan
    else:
        answer = setup.solver.solve(risk_aversion, time_limit, tolerance, warm)
        fractions, status, attempts = answer.fractions, answer.status, answer.attempts
        if status == "infeasible":
            confident = f" at {setup.confidence:.1%} confidence" if np.isfinite(setup.confidence) else ""
            raise InfeasibleSchedule(f"the participation caps and cash milestones{confident} admit no schedule "
                                     "together; relax a milestone, the confidence or max_pov, or trade over more "
                                     "periods")
        if status == "timeout":
            raise SolverTimeout(f"no schedule within time_limit={time_limit:g} s; raise time_limit or use fewer "
                                "periods / names", stage="schedule", stages=attempts)
        if status not in ("optimal", "optimal_inaccurate", "feasible"):  # feasible: time ran out, gap_usd says how far
            raise SolverFailure(f"the schedule solver failed ({status})", attempts)
        solver_bps, lower_bps = answer.objective_bps, answer.lower_bps
    quantity = setup.orders["quantity"].to_numpy(float)
    shares = round_schedule(fractions, quantity, sells=setup.orders["side"].to_numpy() < 0)
    return _solution(setup, shares, risk_aversion, status, (solver_bps, lower_bps), attempts,
                     time.perf_counter() - begin)


def _solution(setup, shares, risk_aversion, status, solver, attempts, seconds) -> ScheduleSolution:
    """Checks the whole-share schedule and prices it; ``solver``: (objective, lower bound) in bps of S."""
    orders, model = setup.orders, setup.model
    n, periods = shares.shape
    quantity, price, side = (orders[c].to_numpy(float) for c in ("quantity", "price", "side"))
    sale = -side  # +1 for a sale: cash in, and a long exposure while it is not done
    confident = np.isfinite(setup.confidence)
    violations, cash = check_schedule(shares, quantity, setup.volume, setup.pov_cap, sale, price,
                                      () if confident else setup.milestones, setup.last_period)
    table = _cash_milestones(setup, shares) if confident else None
    if table is not None:  # E - z sd >= least, recomputed from the whole shares
        short = (table["least_usd"] - (table["expected_cash_usd"] - table["z"] * table["sd_cash_usd"]))
        violations["cash_confidence"] = float(max(0.0, (short / table["least_usd"]).max()))
    if max(violations.values()) > ACCEPT_VIOLATION:  # rounding keeps every limit by construction: this is a failure
        broken = {k: v for k, v in violations.items() if v > ACCEPT_VIOLATION}
        raise SolverFailure(f"the rounded schedule breaks {broken} (solver status {status}); "
                            "try a longer time_limit or report the input", attempts)
    rows = orders.drop(columns=["quantity"]).assign(shares=quantity, trade_schedule=list(shares),
                                                   volume_profile=list(setup.volume))
    mi_bps = model.market_impact(rows).to_numpy()
    pa_bps = model.price_appreciation(rows).to_numpy()
    tr_bps = model.timing_risk(rows).to_numpy()
    value = quantity * price
    basket_tr = basket_timing_risk_usd(shares, sale, price, setup.risk, setup.risk_dt, model.trading_days)
    measure = setup.measure
    risk_term = basket_tr if measure == "std" else basket_tr**2
    impact_usd, pa_usd = float(mi_bps @ value / 1e4), float(pa_bps @ value / 1e4)
    scale = float(value.sum())
    constant = float(((1 - model.params.b1) * setup.solver.data.istar_bps) @ value / 1e4) if setup.solver else 0.0
    solver_usd, lower_usd = (b * scale / 1e4 + constant for b in solver)
    std_weight = setup.solver.data.std_weight if setup.solver else 0.0
    objective_usd = impact_usd + pa_usd + risk_aversion * risk_term + std_weight * basket_tr
    gap_usd = max(objective_usd - lower_usd, 0.0) if np.isfinite(lower_usd) else 0.0 if setup.solver is None else np.nan
    names = pd.DataFrame({"symbol": orders["symbol"], "shares": side * quantity, "value_usd": value,
                          "mi_bps": mi_bps, "pa_bps": pa_bps, "tr_bps": tr_bps,
                          "cost_usd": (mi_bps + pa_bps) * value / 1e4,
                          "done_day1": shares[:, :setup.per_day].sum(axis=1) / quantity})
    name, k = np.nonzero(shares)
    frame = schedule_frame(orders, name, k // setup.per_day, setup.starts[k % setup.per_day], shares[name, k],
                   setup.volume[name, k], setup.start) if name.size else pd.DataFrame(columns=list(SCHEDULE_COLUMNS))
    cvar = None
    if setup.cvar is not None:
        normal = NormalDist()
        tail = normal.pdf(normal.inv_cdf(setup.cvar[0])) / (1 - setup.cvar[0])
        cvar = (*setup.cvar, impact_usd + pa_usd + tail * basket_tr)
    notes = [setup.solver.note] if setup.solver is not None and setup.solver.note else []
    return ScheduleSolution(
        schedule=frame, names=names, status="optimal" if status == "optimal" else "feasible",  # verified above
        risk_aversion=float(risk_aversion), risk_measure=measure,
        impact_usd=impact_usd, pa_usd=pa_usd, timing_risk_usd=basket_tr,
        objective_usd=objective_usd, solver_objective_usd=solver_usd, gap_usd=gap_usd,
        max_violation=max(violations.values()), violations=violations, periods=periods, seconds=seconds,
        cash_by_period_usd=cash, attempts=attempts, confidence=setup.confidence, milestones=table, cvar=cvar,
        notes=notes, shares_by_period=shares)


def cell_costs_usd(shares: np.ndarray, volume: np.ndarray, value_usd: np.ndarray, istar_bps: np.ndarray,
                   pa_bps: np.ndarray, a4: float, b1: float) -> np.ndarray:
    """Expected cost (USD) of each name's trades in each period: I-Star's schedule form split by
    bucket, value x I* (b1 (x_j / X) POV_j^a4 + (1 - b1) x_j / X) / 1e4 (summing to krg's MI), plus
    PA, value x pa_bps_j x_j / X / 1e4. ``shares`` and ``volume`` (other participants') are names x
    periods; ``pa_bps`` per unit fraction of the order traded in each period."""
    shares = np.abs(np.asarray(shares, dtype=float))
    part = shares / shares.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        pov = np.where(shares > 0, shares / (shares + volume), 0.0)
    bps = istar_bps[:, None] * (b1 * part * pov**a4 + (1 - b1) * part) + pa_bps * part
    return value_usd[:, None] * bps / 1e4


def _cash_milestones(setup: _Setup, shares: np.ndarray) -> pd.DataFrame:
    """Each milestone's expected cash (nominal less the expected cost of the trades done by then), its
    sd under the Gaussian price model (the timing risk of the trades done by then,
    :func:`basket_timing_risk_usd` on them) and the probability of meeting it, USD."""
    orders, model = setup.orders, setup.model
    quantity, price, side = (orders[c].to_numpy(float) for c in ("quantity", "price", "side"))
    sale = -side
    if setup.istar_bps is None or setup.pa_bps is None:
        raise AssertionError("cash milestones are priced from a set-up with its I-Star and permanent-impact tables")
    costs = cell_costs_usd(shares, setup.volume, quantity * price, setup.istar_bps, setup.pa_bps,
                           model.params.a4, model.params.b1)
    z = NormalDist().inv_cdf(setup.confidence)
    rows = []
    for period, least in setup.milestones:
        done = shares[:, :period]
        expected = float((sale * price) @ done.sum(axis=1) - costs[:, :period].sum())
        sd = basket_timing_risk_usd(done, sale, price, setup.risk, setup.risk_dt[:period], model.trading_days)
        probability = NormalDist(expected, sd).cdf(least) if sd > 0 else float(expected < least)
        rows.append((period, least, expected, sd, z, 1.0 - probability))
    return pd.DataFrame(rows, columns=["period", "least_usd", "expected_cash_usd", "sd_cash_usd", "z", "probability"])


def optimize_basket_schedule(trades: pd.DataFrame, covariance: pd.DataFrame | None = None,
                             factor_model: FactorModel | None = None, profile=None, periods: int = 26,
                             risk_aversion: float = 1.0, cash_by_period=None, *, bucket_minutes: int = 30,
                             max_pov=None, risk_measure: str = "std", cost_model: CostModel | None = None,
                             start=None, time_limit: float = DEFAULT_TIME_LIMIT, engine: str = "auto",
                             horizon=None, confidence: float | None = None,
                             cvar: tuple[float, float] | None = None, warm_start=None,
                             options: SolverOptions | None = None) -> ScheduleSolution:
    """Shares per name per bucket minimizing sum_i (MI_i + PA_i) + risk_aversion x basket timing risk (USD).

    Every name completes within ``periods``, or by its own ``horizon``.

    Parameters
    ----------
    trades : pandas.DataFrame or LiquidationResult
        Symbol, signed shares (or ``shares_traded``: a ``LiquidationResult.trades`` as is), adv
        (shares/day), price (USD), volatility (annualized decimal, or from the risk model),
        optional alpha_bp (bps/day).
    covariance : pandas.DataFrame, optional
        Annualized covariance, by symbol.
    factor_model : FactorModel, optional
        A factor risk model (never expanded to n x n). Neither: uncorrelated names.
    profile : pandas.Series or pandas.DataFrame, optional
        Intraday volume profile (default: the bundled US model).
    periods : int
        Buckets in the horizon (26 = two days of 30 minutes).
    risk_aversion : float
        Lambda: unitless with ``risk_measure`` "std" (krg's lambda TR), 1/USD with "variance"
        (Almgren-Chriss).
    cash_by_period : dict or sequence of float, optional
        Least cumulative cash (USD) by the end of a period, as {period: usd} or one value per
        period (NaN = none).
    bucket_minutes : int
        Minutes per bucket.
    max_pov : float, dict or array, optional
        Most participation per bucket (fraction of market volume; a number, a dict by symbol or an
        array).
    risk_measure : str
        "std" or "variance".
    cost_model : CostModel, optional
        The I-Star model (None: Kissell 2013 parameters).
    start : str or date, optional
        First trading day (default today).
    time_limit : float
        Seconds for the solve.
    engine : str
        "auto" (the structured interior-point method when the risk model has few rows, a factor
        model; else, or if it does not finish, the conic program), "interior-point" or "conic".
    horizon : int, dict or array, optional
        The last period a name may trade in (a number, a dict by symbol or an array; e.g.
        {"AAPL": 13} finishes AAPL on day 1).
    confidence : float, optional
        In (0.5, 1), e.g. 0.95: each milestone of ``cash_by_period`` is met with that probability under
        the Gaussian price model (the risk model's price moves over each period), i.e.
        E[cash] - z sd(cash) >= milestone, E[cash] the nominal cash less the expected impact and PA of
        the trades done by then, z the normal quantile: a second-order cone, solved by the conic
        program (noted on the result).
    cvar : tuple of float, optional
        (level, weight): adds weight x phi(z) / (1 - level) x the timing risk to the objective, so that
        with weight 1 and risk_aversion 0 the objective is the cost's CVaR at ``level`` under the
        Gaussian model.
    warm_start : ScheduleSolution or array, optional
        An earlier schedule of these names (its last ``periods`` periods, e.g. the rest of the day's
        plan when re-planning) or shares per name per period: the interior-point method starts near it
        (same optimum, certified the same way; only the steps to it change).
    options : SolverOptions, optional
        How to solve as one value (engine, time limit, the conic program's solvers and their parameters,
        their log), in place of ``engine`` and ``time_limit`` (not both); the same value ``liquidate`` takes.

    Returns
    -------
    ScheduleSolution
        The schedule (whole shares), its costs and the proven gap.

    Raises
    ------
    InputError
        Bad trades, risk model or arguments (the message names the parameter and the fix).
    InfeasibleSchedule
        Participation caps or cash milestones out of reach.
    SolverTimeout
        No schedule within ``time_limit``.
    SolverFailure
        The engines failed, or the rounded schedule breaks a limit.

    Examples
    --------
    >>> trades = pd.DataFrame({"symbol": ["A", "B"], "shares": [-200_000, -50_000], "adv": [2e6, 1e6],
    ...                        "price": [50.0, 20.0], "volatility": [0.3, 0.2]})
    >>> plan = optimize_basket_schedule(trades, periods=13, risk_aversion=0.5, start="2026-03-02")
    >>> plan.schedule.groupby("symbol", observed=True)["shares"].sum().to_dict()
    {'A': -200000.0, 'B': -50000.0}
    """
    trades = getattr(trades, "trades", trades)  # a LiquidationResult as is
    chosen = _chosen(options, engine, time_limit)
    setup = _setup(trades, covariance, factor_model, profile, periods, bucket_minutes, max_pov, cash_by_period,
                   cost_model, risk_measure, start, engine=chosen.engine, horizon=horizon, confidence=confidence,
                   cvar=cvar, options=chosen)
    solution = _solve(setup, risk_aversion, _seconds(chosen), warm=_warm(setup, warm_start))
    if covariance is None and factor_model is None and len(solution.names) > 1:
        solution.notes.append("no covariance or factor model: the names' risks are taken as uncorrelated")
    return solution


def optimize_schedule(order, profile=None, periods: int = 13, risk_aversion: float = 0.0, alpha_bps: float = 0.0, *,
                      bucket_minutes: int = 30, max_pov: float | None = None, cost_model: CostModel | None = None,
                      start=None, time_limit: float = DEFAULT_TIME_LIMIT, engine: str = "auto",
                      options: SolverOptions | None = None) -> ScheduleSolution:
    """One name: shares per bucket minimizing MI + PA + risk_aversion x TR, all in bps (krg's form).

    TR uses MATLAB's schedule timing risk (periods of DayTime / periods days each), as
    ``CostModel.timing_risk`` on the result.

    Parameters
    ----------
    order : dict, pandas.Series or pandas.DataFrame
        One order: shares (signed: negative = sell), adv (shares/day), volatility (annualized
        decimal), optional price (USD, default 1: costs in bps do not need it).
    profile : pandas.Series, optional
        Intraday volume profile (default: the bundled US model).
    periods : int
        Buckets in the horizon.
    risk_aversion : float
        Lambda (unitless; >= 0).
    alpha_bps : float
        Expected price drift (bps/day).
    bucket_minutes : int
        Minutes per bucket.
    max_pov : float, optional
        Most participation per bucket (fraction of market volume).
    cost_model : CostModel, optional
        The I-Star model (None: Kissell 2013 parameters).
    start : str or date, optional
        First trading day (default today).
    time_limit : float
        Seconds for the solve.
    engine : str
        "auto", "interior-point" or "conic" (see :func:`optimize_basket_schedule`).
    options : SolverOptions, optional
        As for :func:`optimize_basket_schedule`.

    Returns
    -------
    ScheduleSolution
        The schedule (whole shares) and its costs.

    Raises
    ------
    InputError
        A bad order (not one row; missing shares, adv or volatility) or argument.
    InfeasibleSchedule
        The participation cap does not let the order complete within the horizon.
    SolverTimeout
        No schedule within ``time_limit``.
    SolverFailure
        The engines failed, or the rounded schedule breaks a limit.

    Examples
    --------
    >>> plan = optimize_schedule({"shares": 100_000, "adv": 1e6, "volatility": 0.25}, periods=13,
    ...                          risk_aversion=0.0, start="2026-03-02")
    >>> int(plan.schedule["shares"].sum()), round(float(plan.names["mi_bps"].iloc[0]), 2)  # lambda 0: even POV
    (100000, 23.53)
    """
    if isinstance(order, pd.DataFrame):
        frame = order
    elif isinstance(order, (dict, pd.Series)):
        frame = pd.DataFrame([dict(order)])
    else:
        raise InvalidValueError("order", ["(all)"], f"is a {type(order).__name__}",
                                "give a dict, Series or one-row table with shares, adv and volatility, e.g. "
                                "{'shares': 100_000, 'adv': 1e6, 'volatility': 0.25}")
    if len(frame) != 1:
        raise InvalidValueError("shares", frame.get("symbol", ["(all)"]), "must be one order",
                                "use optimize_basket_schedule for several names")
    named = any(str(c).strip().lower() in ("symbol", "ticker") for c in frame.columns)
    frame = col.normalize_columns(frame)
    priced = "price" in frame
    alpha = arguments.number(alpha_bps, "alpha_bps", "give the alpha in bps a day, e.g. 5")
    frame = frame.assign(symbol=frame["symbol"] if named else "order",
                         price=frame["price"] if priced else 1.0, alpha_bp=alpha)
    chosen = _chosen(options, engine, time_limit)
    setup = _setup(frame, None, None, profile, periods, bucket_minutes, max_pov, None, cost_model, "std", start,
                   volume_time_risk=True, engine=chosen.engine, options=chosen)
    solution = _solve(setup, risk_aversion, _seconds(chosen), tolerance=1e-9)  # one name: a tiny problem, solved tight
    if not priced:
        solution.notes.append("no price given: $1 a share, so the dollar figures are per $1 of price "
                              "(the bps are exact)")
    return solution


def schedule_frontier(trades: pd.DataFrame, risk_aversions, covariance=None, factor_model=None, profile=None,
                      periods: int = 26, cash_by_period=None, *, bucket_minutes: int = 30, max_pov=None,
                      cost_model: CostModel | None = None, time_limit: float = DEFAULT_TIME_LIMIT,
                      engine: str = "auto", horizon=None, options: SolverOptions | None = None,
                      confidence: float | None = None) -> pd.DataFrame:
    """Efficient frontier of the basket schedule: one row per risk aversion.

    The problem is set up once; each lambda only re-solves.

    Parameters
    ----------
    trades : pandas.DataFrame or LiquidationResult
        As for :func:`optimize_basket_schedule`.
    risk_aversions : sequence of float
        The lambdas (unitless, >= 0; risk measure "std").
    covariance, factor_model, profile, periods, cash_by_period
        As for :func:`optimize_basket_schedule`.
    bucket_minutes, max_pov, cost_model, engine, horizon
        As for :func:`optimize_basket_schedule`.
    time_limit : float
        Seconds for each solve.
    options : SolverOptions, optional
        As for :func:`optimize_basket_schedule` (its time limit is for each solve).
    confidence : float, optional
        As for :func:`optimize_basket_schedule`: every point of the frontier meets each milestone of
        ``cash_by_period`` with this probability.

    Returns
    -------
    pandas.DataFrame
        Columns risk_aversion, cost_usd (MI + PA), timing_risk_usd, objective_usd, gap_usd
        (proven), status, max_violation, seconds.

    Raises
    ------
    InputError
        Bad trades, risk model or arguments, or ``risk_aversions`` not a list of numbers >= 0.
    InfeasibleSchedule
        Participation caps or cash milestones out of reach.
    SolverTimeout
        A solve found no schedule within ``time_limit``.
    SolverFailure
        The engines failed, or a rounded schedule breaks a limit.

    Examples
    --------
    >>> trades = pd.DataFrame({"symbol": ["A", "B"], "shares": [-200_000, -50_000], "adv": [2e6, 1e6],
    ...                        "price": [50.0, 20.0], "volatility": [0.3, 0.2]})
    >>> table = schedule_frontier(trades, [0.0, 1.0], periods=13)
    >>> bool(table["timing_risk_usd"].iloc[1] <= table["timing_risk_usd"].iloc[0])
    True
    """
    trades = getattr(trades, "trades", trades)  # a LiquidationResult as is
    chosen = _chosen(options, engine, time_limit)
    setup = _setup(trades, covariance, factor_model, profile, periods, bucket_minutes, max_pov, cash_by_period,
                   cost_model, "std", None, engine=chosen.engine, horizon=horizon, options=chosen,
                   confidence=confidence)
    rows = []
    fix = "give a list of risk aversions >= 0, e.g. [0, 0.5, 1]"
    if isinstance(risk_aversions, str) or np.ndim(risk_aversions) != 1:
        raise InvalidValueError("risk_aversions", ["(all)"], f"is {risk_aversions!r}, not a list of numbers", fix)
    for lam in [arguments.non_negative(v, "risk_aversions", fix) for v in risk_aversions]:
        sol = _solve(setup, float(lam), _seconds(chosen))
        rows.append((lam, sol.impact_usd + sol.pa_usd, sol.timing_risk_usd, sol.objective_usd, sol.gap_usd,
                     sol.status, sol.max_violation, sol.seconds))
    return pd.DataFrame(rows, columns=["risk_aversion", "cost_usd", "timing_risk_usd", "objective_usd", "gap_usd",
                                       "status", "max_violation", "seconds"])
