"""Every limit of a liquidation, declared once, with each of its forms.

A limit is one object that knows
- ``interval(book, cash)``: for a per-name limit, the interval it puts on each name's
  trade u (fraction of ADV, + = sell) once the cash target is fixed (a coupling limit has none);
- ``violation(outcome)``: how far a trade list breaks it, recomputed from the final shares
  with CostModel's formulas (dimensionless, 0 when it holds);
- ``conic(program, slack)``: its cvxpy constraints in the conic program's scaled variables,
  relaxed by a nonnegative ``slack`` in the limit's ``unit`` for the elastic re-solve that
  explains an impossible request.

The separable search and the dual solver read the intervals, the conic program and the
explanation read the conic forms, ``verify`` reads the violations. Adding a per-name bound
means adding one class here (and its tests).

:class:`Limits` is the public value of the request-level limits (risk band, total-impact cap, buys),
checked when built; :func:`applying` gives every limit object that applies to a request on a book
(with switches that leave out the risk floor or the cap for the relaxations), the one list the
conic program, ``verify``, ``explain`` and ``max_cash`` take.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.core.errors import InputError
from krg_liquidity.core.numbers import parse_ratio
from krg_liquidity.model.trade_costs import TradeCosts

SMALLEST_TOTAL_IMPACT_BPS = 0.1
"""The smallest total-impact cap accepted (bps of the cash). A cap below it is refused, with no way around:
it is a fraction or a percent typed as bps (0.005 for 0.5%, i.e. 50 bps), since no trade list of a size
worth capping costs so little (0.1 bps is $10 per $1M raised)."""


def small_cap_message(cap_bps: float) -> str:
    """Why a total-impact cap below ``SMALLEST_TOTAL_IMPACT_BPS`` is refused, with the cap it likely meant.

    >>> small_cap_message(0.005)[:96]
    'max_total_mi_bps=0.005 bps is below the smallest cap of 0.1 bps: did you mean 50 bps (0.005 = 0.'
    """
    return (f"max_total_mi_bps={cap_bps:g} bps is below the smallest cap of {SMALLEST_TOTAL_IMPACT_BPS:g} bps: "
            f"did you mean {cap_bps * 1e4:g} bps ({cap_bps:g} = {cap_bps * 100:g}%) or {cap_bps * 100:g} bps "
            f"({cap_bps:g}%)? Give the cap in bps of the cash raised (50, 50bps or 0.5%)")


@dataclass(frozen=True)
class Limits:
    """The request-level limits of a liquidation, checked when built.

    Parameters
    ----------
    risk_band : tuple of float, optional
        ``(lo, hi)``: post-trade risk (annualized volatility of the final weights) between ``lo`` and
        ``hi`` times today's. ``lo = 0`` is a ceiling alone. None: no band.
    max_total_mi_bps : float, optional
        Total market-impact cost at most this many bps of the cash raised (impact only). None: no cap.
    allow_buys : bool, default False
        Let trades add to positions or flip them (each trade still costs impact).

    Raises
    ------
    InputError
        A band out of order, negative or written in percent, or a cap that is not a positive number of
        bps (or below ``SMALLEST_TOTAL_IMPACT_BPS``, a fraction typed as bps).

    Examples
    --------
    >>> from krg_liquidity import Limits
    >>> Limits(risk_band=(0.9, 1.1), max_total_mi_bps=50)
    Limits(risk_band=(0.9, 1.1), max_total_mi_bps=50.0, allow_buys=False)
    >>> Limits(risk_band=(0.9, 1.1)).without_floor().risk_band
    (0.0, 1.1)
    """

    risk_band: tuple[float, float] | None = None
    max_total_mi_bps: float | None = None
    allow_buys: bool = False

    def __post_init__(self) -> None:
        band = self.risk_band
        if band is not None:
            parts = [band] if isinstance(band, str) else list(band) if np.iterable(band) else [band]
            if len(parts) != 2:
                raise InputError(f"risk_band={band!r} must be a pair (lo, hi) of multiples of today's risk, "
                                 "e.g. (0.9, 1.1) or ('90%', '110%')")
            low, high = (parse_ratio(v) for v in parts)
            if np.isnan(low) or np.isnan(high):
                raise InputError(f"risk_band={band!r}: give numbers, ratios ('0.9x') or percents ('90%') of "
                                 "today's risk, e.g. (0.9, 1.1)")
            if not (0 <= low <= high) or not np.isfinite(high):
                raise InputError(f"risk_band=({low}, {high}) needs 0 <= lo <= hi, e.g. (0.9, 1.1)")
            if low > 5:
                raise InputError(f"risk_band=({low:g}, {high:g}) asks for at least {low:g}x today's risk: this looks "
                                 f"like percent; give ratios of today's risk, e.g. ({low / 100:g}, {high / 100:g})")
            object.__setattr__(self, "risk_band", (low, high))
        cap = self.max_total_mi_bps
        if cap is not None:
            try:
                cap = float(cap)
            except (TypeError, ValueError):
                raise InputError(f"max_total_mi_bps={cap!r} must be a positive number of bps") from None
            if not np.isfinite(cap) or cap <= 0:
                raise InputError(f"max_total_mi_bps={cap} must be a positive number of bps")
            if cap < SMALLEST_TOTAL_IMPACT_BPS:
                raise InputError(small_cap_message(cap))
            object.__setattr__(self, "max_total_mi_bps", cap)
        object.__setattr__(self, "allow_buys", bool(self.allow_buys))

    @property
    def has_floor(self) -> bool:
        """True when the band's bottom asks for some risk to be kept (``lo > 0``)."""
        return self.risk_band is not None and self.risk_band[0] > 0

    def without_floor(self) -> Limits:
        """The same limits with the band's bottom dropped (the convex relaxation of the risk floor)."""
        return self if not self.has_floor else replace(self, risk_band=(0.0, self.risk_band[1]))  # type: ignore[index]

    def to_dict(self) -> dict[str, Any]:
        """Plain values (the band as a list), as JSON and the result's ``request`` record write them."""
        values = asdict(self)
        values["risk_band"] = None if self.risk_band is None else list(self.risk_band)
        return values

    @classmethod
    def of(cls, limits: Limits | None = None, *, risk_band: tuple[float, float] | None = None,
           max_total_mi_bps: float | None = None, allow_buys: bool = False) -> Limits:
        """``limits``, or the limits the keywords give; both at once is refused (say the limits once).

        >>> Limits.of(risk_band=(0.9, 1.1)).risk_band
        (0.9, 1.1)
        """
        if limits is None:
            return cls(risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys)
        if not isinstance(limits, Limits):
            raise InputError(f"limits is a {type(limits).__name__}: give a krg_liquidity.Limits, e.g. "
                             "Limits(risk_band=(0.9, 1.1), max_total_mi_bps=50)")
        given = [name for name, value in (("risk_band", risk_band), ("max_total_mi_bps", max_total_mi_bps),
                                          ("allow_buys", allow_buys or None)) if value is not None]
        if given:
            raise InputError(f"limits= and {', '.join(given)}= were both given: say the limits once, either as "
                             "limits=Limits(...) or as keywords")
        return limits


@dataclass(frozen=True)
class Outcome:
    """A trade list to check: final shares and what follows from them (USD, shares)."""

    portfolio: Portfolio
    shares_after: np.ndarray
    cash: float  # the target, USD
    impacts: pd.DataFrame  # pov, trade_time_days, mi_bps, cost_usd per name (CostModel's formulas)
    traded_shares: np.ndarray | None = None  # when given, exact (a tiny trade is lost in shares_after - shares)

    @property
    def traded(self) -> np.ndarray:
        if self.traded_shares is not None:
            return self.traded_shares
        return self.shares_after - self.portfolio.array("shares")

    @property
    def raised(self) -> float:
        return float(-(self.traded * self.portfolio.array("price")).sum())

    @property
    def post_value(self) -> float:
        """Value left after the trades (USD): the base of the final weights."""
        return self.portfolio.net_value_usd - self.raised

    def column(self, name: str) -> np.ndarray:
        return _column(self.portfolio, name)


def _worst(excess: np.ndarray) -> float:
    return float(max(0.0, np.nan_to_num(excess, nan=0.0).max(initial=0.0)))


def _column(portfolio: Portfolio, name: str) -> np.ndarray:
    return portfolio.array(name) if name in portfolio.holdings else np.full(len(portfolio.holdings), np.nan)


def _final_shares_interval(shares, adv, low_shares, high_shares):
    """u-interval for final shares in [low_shares, high_shares] (NaN = unbounded)."""
    lo = np.where(np.isnan(high_shares), -np.inf, (shares - high_shares) / adv)
    hi = np.where(np.isnan(low_shares), np.inf, (shares - low_shares) / adv)
    return lo, hi


class NameLimit:
    """A per-name limit: an interval on each name's trade once the cash is fixed."""

    key: str
    label: str
    unit = "USD per name"
    measured = "fraction of the net value"  # what violation() returns
    reached = ("", "")  # a PM's words for a trade stopped at the interval's low end (least sold), high end (most sold)

    def applies(self, portfolio: Portfolio, allow_buys: bool) -> bool:
        return True

    def interval(self, portfolio: Portfolio, cash: float, costs: TradeCosts) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def violation(self, outcome: Outcome) -> float:
        raise NotImplementedError

    def reached_words(self, at_hi: np.ndarray, shares: np.ndarray) -> np.ndarray:
        """Per name, the words for this limit stopping the trade: ``at_hi`` True where it stops at the
        interval's high end (most sold), False at its low end; ``shares``: today's positions."""
        return np.where(at_hi, self.reached[1], self.reached[0])

    def conic(self, program, slack=None) -> list:
        """lo <= u <= hi on the value sold (scaled); ``slack``: one per name, in units of the book's net value."""
        lo, hi = self.interval(program.portfolio, program.cash_for_intervals, program.costs)
        dv, scale = program.costs.dollar_adv, program.scale
        rows = []
        for bound, side in ((lo, 1), (hi, -1)):
            finite = np.isfinite(bound)
            if finite.any():
                give = 0 if slack is None else program.portfolio.net_value_usd / scale * slack[finite]
                rows.append(side * (program.traded[finite] - bound[finite] * dv[finite] / scale) + give >= 0)
        return rows


class Direction(NameLimit):
    key, label = "direction", "fully sold (no flips, no buys)"
    reached = ("no buys", "fully sold")
    reached_short = ("fully covered", "no short sales")  # a short's low end is its whole cover

    def applies(self, portfolio, allow_buys):
        return not allow_buys

    def interval(self, portfolio, cash, costs):
        held = portfolio.array("shares") / portfolio.array("adv")
        return np.minimum(held, 0.0), np.maximum(held, 0.0)

    def violation(self, outcome):
        shares, after = outcome.portfolio.array("shares"), outcome.shares_after
        flipped = np.where(shares >= 0, -after, after)  # > 0: crossed zero
        grew = np.abs(after) - np.abs(shares)
        return _worst(np.maximum(flipped, grew) * outcome.portfolio.array("price") / outcome.portfolio.net_value_usd)

    def reached_words(self, at_hi, shares):
        long = np.where(at_hi & (shares > 0), self.reached[1], self.reached[0])  # nothing held: nothing to sell
        return np.where(shares < 0, np.where(at_hi, self.reached_short[1], self.reached_short[0]), long)


class Weight(NameLimit):
    """Final weight y p / (V - L) within [lb_wt, ub_wt]; the interval moves with the cash L."""

    measured = "in weight, a fraction of the post-trade value"

    key, label = "weight", "final-weight bounds (lb_wt/ub_wt)"
    reached = ("max weight", "min weight")

    def applies(self, portfolio, allow_buys):
        return any(c in portfolio.holdings for c in ("lb_wt", "ub_wt"))

    def interval(self, portfolio, cash, costs):
        post, price = portfolio.net_value_usd - cash, portfolio.array("price")
        return _final_shares_interval(portfolio.array("shares"), portfolio.array("adv"),
                                      _column(portfolio, "lb_wt") * post / price,
                                      _column(portfolio, "ub_wt") * post / price)

    def violation(self, outcome):
        weight = outcome.shares_after * outcome.portfolio.array("price") / outcome.post_value
        return max(_worst(outcome.column("lb_wt") - weight), _worst(weight - outcome.column("ub_wt")))

    def conic(self, program, slack=None):
        """Rows on final positions and the post-trade value, valid when the cash is a variable too."""
        rows = []
        for name, side in (("lb_wt", 1), ("ub_wt", -1)):
            w = _column(program.portfolio, name)
            has = ~np.isnan(w)
            if has.any():
                give = 0 if slack is None else program.portfolio.net_value_usd / program.scale * slack[has]
                rows.append(side * (program.position[has] - w[has] * program.post_scaled) + give >= 0)
        return rows


class FinalShares(NameLimit):
    key, label = "final_shares", "final-share bounds (lb_min_shares/ub_max_shares)"
    reached = ("max shares", "min shares")

    def applies(self, portfolio, allow_buys):
        return any(c in portfolio.holdings for c in ("lb_min_shares", "ub_max_shares"))

    def interval(self, portfolio, cash, costs):
        return _final_shares_interval(portfolio.array("shares"), portfolio.array("adv"),
                                      _column(portfolio, "lb_min_shares"), _column(portfolio, "ub_max_shares"))

    def violation(self, outcome):
        after, price, net = outcome.shares_after, outcome.portfolio.array("price"), outcome.portfolio.net_value_usd
        return max(_worst((outcome.column("lb_min_shares") - after) * price / net),
                   _worst((after - outcome.column("ub_max_shares")) * price / net))


class FinalValue(NameLimit):
    key, label = "final_value", "final-value bounds (lb_min_value/ub_max_value)"
    reached = ("max value", "min value")

    def applies(self, portfolio, allow_buys):
        return any(c in portfolio.holdings for c in ("lb_min_value", "ub_max_value"))

    def interval(self, portfolio, cash, costs):
        price = portfolio.array("price")
        return _final_shares_interval(portfolio.array("shares"), portfolio.array("adv"),
                                      _column(portfolio, "lb_min_value") / price,
                                      _column(portfolio, "ub_max_value") / price)

    def violation(self, outcome):
        value = outcome.shares_after * outcome.portfolio.array("price")
        net = outcome.portfolio.net_value_usd
        return max(_worst((outcome.column("lb_min_value") - value) / net),
                   _worst((value - outcome.column("ub_max_value")) / net))


class Participation(NameLimit):
    key, label = "participation", "participation cap (ub_max_pct_adv)"
    reached = ("participation cap", "participation cap")
    measured = "fraction of ADV"

    def applies(self, portfolio, allow_buys):
        return "ub_max_pct_adv" in portfolio.holdings

    def interval(self, portfolio, cash, costs):
        pct = _column(portfolio, "ub_max_pct_adv")
        cap = np.where(np.isnan(pct), np.inf, pct)
        return -cap, cap

    def violation(self, outcome):
        return _worst(np.abs(outcome.traded) / outcome.portfolio.array("adv") - outcome.column("ub_max_pct_adv"))


class ImpactCap(NameLimit):
    """Per-name impact at most ub_max_mi_bps: a size cap, since impact rises with size."""

    measured = "fraction of the name's cap"

    key, label = "impact_cap", "per-name impact cap (ub_max_mi_bps)"
    reached = ("impact cap", "impact cap")

    def applies(self, portfolio, allow_buys):
        return "ub_max_mi_bps" in portfolio.holdings

    def interval(self, portfolio, cash, costs):
        cap = _column(portfolio, "ub_max_mi_bps")
        z = costs.z_at_mi(np.where(np.isnan(cap), np.inf, cap))
        return -z, z

    def violation(self, outcome):
        cap = outcome.column("ub_max_mi_bps")
        return _worst((outcome.impacts["mi_bps"].to_numpy() - cap) / cap)


NAME_LIMITS = (Direction(), Weight(), FinalShares(), FinalValue(), Participation(), ImpactCap())


class Cash:
    """Cash raised equals the target. Measured against the smaller of the target and what is
    left (V - L), so that weights and the risk band read the same on either base."""

    measured = "fraction of the cash (or of what is left)"

    key, label = "cash", "cash target"

    def violation(self, outcome):
        base = min(outcome.cash, outcome.portfolio.net_value_usd - outcome.cash)
        return abs(outcome.raised - outcome.cash) / max(base, 1e-300)

    def conic(self, program, slack=None):
        return [program.cash_row]


@dataclass(frozen=True)
class TotalImpactCap:
    """Total impact cost at most ``bps`` of the cash target; the slack is a fraction of the cap."""

    bps: float
    key = "total_impact_cap"
    label = "total impact cap (max_total_mi_bps)"
    unit = "bps"
    measured = "fraction of the cap"
    PROOF_TOLERANCE = 1e-9
    """Relative excess of a relaxation's least cost over the cap below which no impossibility is claimed
    (the cost's float rounding); the exact feasibility tests of ``max_cash`` use none."""

    def budget_usd(self, cash: float) -> float:
        """The most impact the cap allows on ``cash`` (USD)."""
        return self.bps / 1e4 * cash

    def exceeded(self, cost_usd: float, cash: float, tolerance: float = PROOF_TOLERANCE) -> bool:
        """True when ``cost_usd`` is above the cap on ``cash`` by more than ``tolerance`` (relative)."""
        return cost_usd > self.budget_usd(cash) * (1 + tolerance)

    def violation(self, outcome):
        total_bps = outcome.impacts["cost_usd"].sum() / outcome.cash * 1e4
        return max(0.0, (total_bps - self.bps) / self.bps)

    def conic(self, program, slack=None):
        return [program.cost <= self.bps * program.cash_scaled * (1 if slack is None else 1 + slack)]


def risk_excess(ratio: float, today: float, after: float) -> float:
    """How far the risk ``after`` is above ``ratio`` x ``today``'s, as a fraction of today's risk (negative
    below it): the measure of the band's two limits, the plan's and ``verify``'s alike.

    >>> round(risk_excess(1.1, 0.20, 0.23), 6)
    0.05
    """
    return (after - ratio * today) / today


def _risk_ratio(outcome: Outcome) -> tuple[float, float]:
    """(today's risk, risk after) of the weights, annualized."""
    p = outcome.portfolio
    risk = p.risk()
    before = risk.sigma(p.position_usd / p.net_value_usd)
    after = risk.sigma(outcome.shares_after * p.array("price") / outcome.post_value)
    return before, after


@dataclass(frozen=True)
class RiskCeiling:
    """sigma(final weights) <= ratio x sigma(today's weights); the slack is a fraction of today's risk."""

    ratio: float
    key = "risk_ceiling"
    label = "risk ceiling (risk_band hi)"
    unit = "fraction of today's risk"
    measured = "fraction of today's risk"

    def violation(self, outcome):
        before, after = _risk_ratio(outcome)
        return max(0.0, risk_excess(self.ratio, before, after))

    def conic(self, program, slack=None):
        give = 0 if slack is None else slack * program.sigma_today * program.post_level
        return [program.risk_norm <= self.ratio * program.sigma_today * program.post_scaled + give]


@dataclass(frozen=True)
class RiskFloor:
    """sigma(final weights) >= ratio x sigma(today's weights): reverse-convex.

    Its conic form is the linearization g'x <= sigma(x) at a point (g = C x_k / sigma(x_k)),
    a restriction of the floor; ``gradient`` defaults to today's positions.
    """

    ratio: float
    key = "risk_floor"
    label = "risk floor (risk_band lo)"
    unit = "fraction of today's risk"
    measured = "fraction of today's risk"

    def violation(self, outcome):
        before, after = _risk_ratio(outcome)
        return max(0.0, -risk_excess(self.ratio, before, after))

    def conic(self, program, slack=None, gradient=None):
        if gradient is None:
            p = program.portfolio
            gradient = p.risk().covariance_times(p.position_usd / p.net_value_usd) / program.sigma_today
        give = 0 if slack is None else slack * program.sigma_today * program.post_level
        return [gradient @ program.position + give >= self.ratio * program.sigma_today * program.post_scaled]


def applying(portfolio: Portfolio, limits: Limits, *, floor: bool = True, cap: bool = True) -> list:
    """Every limit that applies to a request on ``portfolio``: the per-name limits its columns set (and
    the direction of trade, by ``limits.allow_buys``), then the coupling ones. ``floor=False`` leaves
    out the risk floor (the convex relaxation), ``cap=False`` the total-impact cap."""
    chosen = limits if floor else limits.without_floor()
    found: list = [limit for limit in NAME_LIMITS if limit.applies(portfolio, chosen.allow_buys)]
    return found + coupling_limits(chosen.risk_band, chosen.max_total_mi_bps if cap else None)


def coupling_limits(risk_band, max_total_mi_bps) -> list:
    """The limits that tie names together, for a request."""
    limits: list = [Cash()]
    if max_total_mi_bps is not None:
        limits.append(TotalImpactCap(max_total_mi_bps))
    if risk_band is not None:
        limits.append(RiskCeiling(risk_band[1]))
        if risk_band[0] > 0:
            limits.append(RiskFloor(risk_band[0]))
    return limits


LABELS = {limit.key: limit.label for limit in NAME_LIMITS} | {
    "cash": Cash.label, "total_impact_cap": TotalImpactCap.label,
    "risk_ceiling": RiskCeiling.label, "risk_floor": RiskFloor.label}
SHORT_LABELS = {"direction": "fully sold", "weight": "weight", "final_shares": "final shares",
                "final_value": "final value", "participation": "participation", "impact_cap": "impact cap",
                "cash": "cash", "total_impact_cap": "total impact", "risk_ceiling": "risk ceiling",
                "risk_floor": "risk floor"}
"""A few words per limit, for narrow table columns (``LABELS`` has the full label with its columns)."""
MEASURED = {limit.key: limit.measured for limit in NAME_LIMITS} | {
    "cash": Cash.measured, "total_impact_cap": TotalImpactCap.measured,
    "risk_ceiling": RiskCeiling.measured, "risk_floor": RiskFloor.measured}

MISSED_BY = {Cash.key: "off by", RiskFloor.key: "short by"}
"""How a limit that is not a ceiling is missed: the cash target (either way), the risk floor (falling short);
every other limit is exceeded."""
