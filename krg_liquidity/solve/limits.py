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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.model.trade_costs import TradeCosts


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

    def violation(self, outcome):
        total_bps = outcome.impacts["cost_usd"].sum() / outcome.cash * 1e4
        return max(0.0, (total_bps - self.bps) / self.bps)

    def conic(self, program, slack=None):
        return [program.cost <= self.bps * program.cash_scaled * (1 if slack is None else 1 + slack)]


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
        return max(0.0, (after - self.ratio * before) / before)

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
        return max(0.0, (self.ratio * before - after) / before)

    def conic(self, program, slack=None, gradient=None):
        if gradient is None:
            p = program.portfolio
            gradient = p.risk().covariance_times(p.position_usd / p.net_value_usd) / program.sigma_today
        give = 0 if slack is None else slack * program.sigma_today * program.post_level
        return [gradient @ program.position + give >= self.ratio * program.sigma_today * program.post_scaled]


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
