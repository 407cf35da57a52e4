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

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from krg_liquidity.book.columns import header_key
from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.core.errors import BookError, InputError
from krg_liquidity.core.numbers import parse_number, parse_ratio
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


GROUP_COLUMNS = ("group", "sector", "industry", "country", "GICS Sector")
"""The holdings columns read as each name's group when ``Limits.group_column`` is not given, in this order
(headers match as the book's columns do: case, spaces and punctuation aside)."""
GROUP_RULE_KEYS = ("lb_wt", "ub_wt", "max_weight_change", "max_sold_fraction")
NAME_DEFAULTS = {"max_pct_adv": (False, "traded shares as a fraction of ADV, 0.1 = 10%"),
                 "max_weight_change": (True, "points of weight, 0.02 = +/-2 points"),
                 "max_sold_fraction": (True, "fraction of each position sold, 0.5 = half")}
"""The book-wide per-name defaults of :class:`Limits`: whether 0 is allowed, and what the number means."""
DEFAULT_GROUP = "*"
"""The row of a group-limits table that holds the book-wide defaults."""
LIQUID_POV = 0.2
"""The participation rate (fraction of the market's volume) at which a name without its own ``pov`` is sold
when the liquidity left behind is measured (as ``liquidity_profile``'s default cap)."""


@dataclass(frozen=True)
class GroupRule:
    """One row of group limits: ``group`` None for the book-wide default; each value None when not set.

    ``lb_wt``/``ub_wt``: the group's post-trade weight bounds (fractions of the post-trade value);
    ``max_weight_change``: the largest move of its weight from today's (fraction, 0.02 = 2 points);
    ``max_sold_fraction``: the largest fraction of its value today that may be sold.
    """

    group: str | None
    lb_wt: float | None = None
    ub_wt: float | None = None
    max_weight_change: float | None = None
    max_sold_fraction: float | None = None


def _rule(group: str | None, values: Mapping, problems: list[str]) -> GroupRule | None:
    where = "book-wide" if group is None else f"group {group!r}"
    unknown = [str(k) for k in values if k not in GROUP_RULE_KEYS]
    if unknown:
        problems.append(f"group_limits ({where}): unknown key(s) {', '.join(unknown)}; use "
                        f"{', '.join(GROUP_RULE_KEYS)}")
    numbers: dict[str, float | None] = {}
    for key in GROUP_RULE_KEYS:
        value = values.get(key)
        number = parse_number(value)  # "2%" reads as 0.02; None, NaN and "" as blank
        blank = value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""
        if math.isnan(number) and not blank:
            problems.append(f"group_limits ({where}): {key}={value!r} is not a number")
            continue
        numbers[key] = None if blank else number
    lb, ub = numbers.get("lb_wt"), numbers.get("ub_wt")
    change, sold = numbers.get("max_weight_change"), numbers.get("max_sold_fraction")
    if lb is not None and ub is not None and lb > ub:
        problems.append(f"group_limits ({where}): lb_wt={lb:g} is above ub_wt={ub:g}")
    for key in ("lb_wt", "ub_wt"):
        if numbers.get(key) is not None and not -1 <= numbers[key] <= 1:  # type: ignore[operator]
            problems.append(f"group_limits ({where}): {key}={numbers[key]:g} is not a weight between -1 and 1 "
                            "(a fraction of the post-trade value: 0.25 = 25%)")
    if change is not None and not 0 <= change <= 1:
        problems.append(f"group_limits ({where}): max_weight_change={change:g} must be between 0 and 1 "
                        f"(0.02 = 2 points of weight){percent_hint(change)}")
    if sold is not None and not 0 <= sold <= 1:
        problems.append(f"group_limits ({where}): max_sold_fraction={sold:g} must be between 0 and 1 "
                        f"(0.5 = half the group's value){percent_hint(sold)}")
    if all(v is None for v in numbers.values()):
        return None
    return GroupRule(group, lb, ub, change, sold)


def percent_hint(value: float) -> str:
    """"; did you mean 0.02?" for a fraction written as a percent (1 < value <= 100), else ""."""
    return f"; did you mean {value / 100:g}?" if 1 < value <= 100 else ""


def group_rules(given: Any) -> tuple[tuple[GroupRule, ...] | None, list[str]]:
    """``Limits.group_limits`` as stored (a tuple of :class:`GroupRule`, the default first) and the
    problems found: a dict of book-wide defaults, a DataFrame indexed by group (a ``"*"`` row: defaults),
    or the tuple itself.

    >>> group_rules({"ub_wt": 0.3})[0]
    (GroupRule(group=None, lb_wt=None, ub_wt=0.3, max_weight_change=None, max_sold_fraction=None),)
    """
    problems: list[str] = []
    if given is None:
        return None, problems
    rows: list[tuple[str | None, Mapping]] = []
    if isinstance(given, tuple) and all(isinstance(r, GroupRule) for r in given):
        rows = [(r.group, {k: getattr(r, k) for k in GROUP_RULE_KEYS}) for r in given]
    elif isinstance(given, pd.DataFrame):
        if given.index.has_duplicates:
            twice = given.index[given.index.duplicated()].unique()
            problems.append(f"group_limits: groups listed twice: {', '.join(map(str, twice))}")
        for group, row in given.iterrows():
            name = None if str(group) == DEFAULT_GROUP else str(group)
            rows.append((name, row.to_dict()))
    elif isinstance(given, Mapping):
        rows = [(None, given)]
    else:
        return None, [(f"group_limits is a {type(given).__name__}: give a dict of book-wide defaults "
                       "(e.g. {'max_weight_change': 0.02}) or a DataFrame indexed by group")]
    rules = [rule for rule in (_rule(group, values, problems) for group, values in rows) if rule is not None]
    rules.sort(key=lambda r: r.group is not None)
    return (tuple(rules) or None), problems


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
    group_column : str, optional
        The holdings column naming each name's group (a sector, an industry, a country). None: the
        first of ``GROUP_COLUMNS`` the book has, when group limits are given.
    group_limits : dict or DataFrame, optional
        Limits on each group's post-trade book: a dict of book-wide defaults, or a DataFrame indexed by
        group, with any of ``lb_wt``, ``ub_wt`` (post-trade weight bounds, fractions of the post-trade
        value), ``max_weight_change`` (a band around today's weight: 0.02 = +/-2 points of weight) and
        ``max_sold_fraction`` (at most this fraction of the group's value today is sold). A table row
        ``"*"`` holds defaults for the groups it does not list. Stored as a tuple of :class:`GroupRule`.
    max_tracking_error : float, optional
        Annualized tracking error of the post-trade weights against today's weights, a fraction
        (0.01 = 1%), with the book's risk model. None: no cap.
    min_liquid_fraction : tuple of float, optional
        ``(f, D)``: at least the fraction ``f`` of the post-trade value can be sold within ``D`` days at
        each name's participation rate (its ``pov``, else ``LIQUID_POV`` of the volume), at most its
        ``ub_max_pct_adv`` of ADV a day. None: no floor.
    max_total_cost_bps : float, optional
        All-in trading cost (impact, half-spread, commission and fees) at most this many bps of the
        cash raised. None: no cap.
    max_pct_adv : float, optional
        Book-wide participation cap: each name trades at most this fraction of its ADV (0.1 = 10%),
        where the holdings give no ``ub_max_pct_adv``. None: none.
    max_weight_change : float, optional
        Book-wide weight band: each name's post-trade weight within this many points of today's
        weight (0.02 = +/-2 points; a fraction of the post-trade value), on each side the holdings
        leave blank (``lb_wt``, ``ub_wt``). None: none.
    max_sold_fraction : float, optional
        Book-wide sale cap: at most this fraction of each position is sold (0.5 = half its shares;
        for a short, bought back), where the holdings give no ``lb_min_shares`` (a short: no
        ``ub_max_shares``). None: none.

    Raises
    ------
    InputError
        A band out of order, negative or written in percent, a cap that is not a positive number of
        bps (or below ``SMALLEST_TOTAL_IMPACT_BPS``, a fraction typed as bps), group limits with an
        unknown key or contradicting bounds, a tracking error of 1 or more (percent), or a liquid
        fraction outside [0, 1], a book-wide per-name default outside its range (a percent typed as a
        number: "did you mean 0.1?"); every problem of the new limits is listed at once.

    Examples
    --------
    >>> from krg_liquidity import Limits
    >>> Limits(risk_band=(0.9, 1.1), max_total_mi_bps=50).max_total_mi_bps
    50.0
    >>> Limits(group_limits={"max_weight_change": 0.02}).group_limits
    (GroupRule(group=None, lb_wt=None, ub_wt=None, max_weight_change=0.02, max_sold_fraction=None),)
    >>> Limits(risk_band=(0.9, 1.1)).without_floor().risk_band
    (0.0, 1.1)
    """

    risk_band: tuple[float, float] | None = None
    max_total_mi_bps: float | None = None
    allow_buys: bool = False
    group_column: str | None = None
    group_limits: Any = field(default=None)
    max_tracking_error: float | None = None
    min_liquid_fraction: tuple[float, float] | None = None
    max_total_cost_bps: float | None = None
    max_pct_adv: float | None = None
    max_weight_change: float | None = None
    max_sold_fraction: float | None = None

    def __post_init__(self) -> None:
        self._check_shape_limits()
        self._check_name_defaults()
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
        for name in ("max_total_mi_bps", "max_total_cost_bps"):
            cap = getattr(self, name)
            if cap is None:
                continue
            try:
                cap = float(cap)
            except (TypeError, ValueError):
                raise InputError(f"{name}={cap!r} must be a positive number of bps") from None
            if not np.isfinite(cap) or cap <= 0:
                raise InputError(f"{name}={cap} must be a positive number of bps")
            if cap < SMALLEST_TOTAL_IMPACT_BPS:
                raise InputError(small_cap_message(cap).replace("max_total_mi_bps", name))
            object.__setattr__(self, name, cap)
        object.__setattr__(self, "allow_buys", bool(self.allow_buys))

    def _check_shape_limits(self) -> None:
        """Check and store the group, tracking-error and liquidity limits, every problem at once."""
        problems: list[str] = []
        column = self.group_column
        if column is not None and (not isinstance(column, str) or not column.strip()):
            problems.append(f"group_column={column!r} must be a column name, e.g. 'sector'")
        rules, found = group_rules(self.group_limits)
        problems += found
        object.__setattr__(self, "group_limits", rules)
        te = self.max_tracking_error
        if te is not None:
            given = te
            te = parse_number(te)  # "1%" reads as 0.01
            if np.isnan(te):
                problems.append(f"max_tracking_error={given!r} must be a number (annualized, 0.01 = 1%)")
                te = None
            if te is not None and (not np.isfinite(te) or te <= 0):
                problems.append(f"max_tracking_error={te:g} must be positive (annualized, 0.01 = 1%)")
            elif te is not None and te >= 1:
                problems.append(f"max_tracking_error={te:g} is 100% or more: this looks like percent; did you mean "
                                f"{te / 100:g}? Give it as a fraction (0.01 = 1% a year)")
            object.__setattr__(self, "max_tracking_error", te)
        liquid = self.min_liquid_fraction
        if liquid is not None:
            try:
                fraction, days = (float(v) for v in liquid)
            except (TypeError, ValueError):
                problems.append(f"min_liquid_fraction={liquid!r} must be a pair (fraction, days), e.g. (0.5, 5)")
            else:
                if not 0 <= fraction <= 1:
                    hint = percent_hint(fraction)
                    problems.append(f"min_liquid_fraction=({fraction:g}, {days:g}): the fraction must be between 0 "
                                    f"and 1 (0.5 = half the post-trade value){hint}")
                if not (np.isfinite(days) and days > 0):
                    problems.append(f"min_liquid_fraction=({fraction:g}, {days:g}): the days must be positive")
                object.__setattr__(self, "min_liquid_fraction", (fraction, days))
        if problems:
            raise InputError("; ".join(problems))

    def _check_name_defaults(self) -> None:
        """Check and store the book-wide per-name defaults, every problem at once ("10%" reads as 0.1)."""
        problems: list[str] = []
        for name, (zero_allowed, what) in NAME_DEFAULTS.items():
            given = getattr(self, name)
            if given is None:
                continue
            value = parse_number(given)
            if np.isnan(value) or value > 1 or value < 0 or (value == 0 and not zero_allowed):
                hint = percent_hint(value)
                problems.append(f"{name}={given!r} must be {'between 0 and 1' if zero_allowed else 'above 0 and at most 1'}"
                                f" ({what}){hint}")
                continue
            object.__setattr__(self, name, value)
        if problems:
            raise InputError("; ".join(problems))

    @property
    def name_defaults(self) -> dict[str, float]:
        """The book-wide per-name defaults that are set (``max_pct_adv``, ``max_weight_change``,
        ``max_sold_fraction``), by name."""
        return {name: getattr(self, name) for name in NAME_DEFAULTS if getattr(self, name) is not None}

    def names_filled(self, portfolio: Portfolio) -> dict[str, int]:
        """Per book-wide per-name default that is set, how many names it applies to: those whose holdings leave
        its bound blank (a weight band: either side; a sale cap: ``lb_min_shares`` of a long, ``ub_max_shares``
        of a short)."""
        def blank(column: str) -> np.ndarray:
            return np.isnan(_column(portfolio, column))

        shares = portfolio.array("shares")
        found = {"max_pct_adv": blank("ub_max_pct_adv"), "max_weight_change": blank("lb_wt") | blank("ub_wt"),
                 "max_sold_fraction": np.where(shares > 0, blank("lb_min_shares"),
                                               np.where(shares < 0, blank("ub_max_shares"), False))}
        return {name: int(found[name].sum()) for name in self.name_defaults}

    def book(self, portfolio: Portfolio) -> Portfolio:
        """``portfolio`` with the book-wide per-name defaults written where its holdings give no value
        (the same object when no default is set).

        Raises
        ------
        InputError
            A default contradicts a bound the holdings give (e.g. ``max_weight_change`` puts a name's
            ``lb_wt`` above its own ``ub_wt``), naming the default, the column and the symbols.
        """
        defaults = self.name_defaults
        if not defaults:
            return portfolio
        values: dict[str, np.ndarray] = {}
        shares = portfolio.array("shares")
        if "max_pct_adv" in defaults:
            values["ub_max_pct_adv"] = np.full(len(shares), defaults["max_pct_adv"])
        if "max_weight_change" in defaults:
            today = portfolio.position_usd / portfolio.net_value_usd
            change = defaults["max_weight_change"]
            values["lb_wt"] = np.clip(today - change, -1.0, 1.0)
            values["ub_wt"] = np.clip(today + change, -1.0, 1.0)
        if "max_sold_fraction" in defaults:
            kept = (1.0 - defaults["max_sold_fraction"]) * shares
            values["lb_min_shares"] = np.where(shares > 0, kept, np.nan)
            values["ub_max_shares"] = np.where(shares < 0, kept, np.nan)
        try:
            return portfolio.with_defaults(values)
        except BookError as exc:
            given = ", ".join(f"{name}={value:g}" for name, value in defaults.items())
            raise InputError(f"the book-wide defaults ({given}) contradict the holdings' own bounds: "
                             f"{'; '.join(str(problem) for problem in exc.problems)}. Loosen the default, or "
                             "write the name's bound in the holdings") from None

    @property
    def has_shape_limits(self) -> bool:
        """True when group limits, a tracking-error cap or a liquidity floor are set (the limits that only
        the conic program solves)."""
        return bool(self.group_limits) or self.max_tracking_error is not None or self.min_liquid_fraction is not None

    @property
    def couples_names(self) -> bool:
        """True when a limit ties the names together (a risk band, a cost cap, a shape limit): then no
        per-name search alone answers the request."""
        return (self.risk_band is not None or self.max_total_mi_bps is not None or self.max_total_cost_bps is not None
                or self.has_shape_limits)

    @property
    def has_floor(self) -> bool:
        """True when the band's bottom asks for some risk to be kept (``lo > 0``)."""
        return self.risk_band is not None and self.risk_band[0] > 0

    def without_floor(self) -> Limits:
        """The same limits with the band's bottom dropped (the convex relaxation of the risk floor)."""
        return self if not self.has_floor else replace(self, risk_band=(0.0, self.risk_band[1]))  # type: ignore[index]

    def to_dict(self) -> dict[str, Any]:
        """Plain values (the band as a list; the group, tracking-error and liquidity limits only when set), as
        JSON and the result's ``request`` record write them."""
        values = asdict(self)
        values["risk_band"] = None if self.risk_band is None else list(self.risk_band)
        values["group_limits"] = None if not self.group_limits else [asdict(rule) for rule in self.group_limits]
        values["min_liquid_fraction"] = None if self.min_liquid_fraction is None else list(self.min_liquid_fraction)
        # the group, tracking-error and liquidity limits only when set: a request without them reads as before
        return {key: value for key, value in values.items()
                if value is not None or key not in ("group_column", "group_limits", "max_tracking_error",
                                                    "min_liquid_fraction", *NAME_DEFAULTS)}

    @classmethod
    def of(cls, limits: Limits | None = None, *, risk_band: tuple[float, float] | None = None,
           max_total_mi_bps: float | None = None, allow_buys: bool = False, group_column: str | None = None,
           group_limits: Any = None, max_tracking_error: float | None = None,
           min_liquid_fraction: tuple[float, float] | None = None, max_pct_adv: float | None = None,
           max_weight_change: float | None = None, max_sold_fraction: float | None = None) -> Limits:
        """``limits``, or the limits the keywords give; both at once is refused (say the limits once).

        >>> Limits.of(risk_band=(0.9, 1.1)).risk_band
        (0.9, 1.1)
        """
        shape = {"group_column": group_column, "group_limits": group_limits, "max_tracking_error": max_tracking_error,
                 "min_liquid_fraction": min_liquid_fraction, "max_pct_adv": max_pct_adv,
                 "max_weight_change": max_weight_change, "max_sold_fraction": max_sold_fraction}
        if limits is None:
            return cls(risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys, **shape)
        if not isinstance(limits, Limits):
            raise InputError(f"limits is a {type(limits).__name__}: give a krg_liquidity.Limits, e.g. "
                             "Limits(risk_band=(0.9, 1.1), max_total_mi_bps=50)")
        given = [name for name, value in (("risk_band", risk_band), ("max_total_mi_bps", max_total_mi_bps),
                                          ("allow_buys", allow_buys or None), *shape.items()) if value is not None]
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
    linear_usd: np.ndarray | None = None  # per name: half-spread, commission and fees paid (USD)

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


class TotalCostCap(TotalImpactCap):
    """All-in trading cost (impact plus the linear costs) at most ``bps`` of the cash target; the slack is
    a fraction of the cap."""

    key = "total_cost_cap"
    label = "total trading-cost cap (max_total_cost_bps)"

    def violation(self, outcome):
        linear = 0.0 if outcome.linear_usd is None else float(np.sum(outcome.linear_usd))
        total_bps = (outcome.impacts["cost_usd"].sum() + linear) / outcome.cash * 1e4
        return max(0.0, (total_bps - self.bps) / self.bps)

    def conic(self, program, slack=None):
        return [program.cost + program.linear <= self.bps * program.cash_scaled * (1 if slack is None else 1 + slack)]


def _risk_ratio(outcome: Outcome) -> tuple[float, float]:
    """(today's risk, risk after) of the weights, annualized. A book sold to nothing has no risk left;
    positions left on a net value of zero or less have unbounded weights (infinite risk)."""
    p = outcome.portfolio
    risk = p.risk()
    before = risk.sigma(p.position_usd / p.net_value_usd)
    left_usd = outcome.shares_after * p.array("price")
    if outcome.post_value > 0:
        return before, risk.sigma(left_usd / outcome.post_value)
    return before, (0.0 if np.allclose(left_usd, 0.0, atol=0.5) else float("inf"))


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


def find_group_column(portfolio: Portfolio, column: str | None) -> str | None:
    """The holdings column (as the book spells it) that ``column`` names, matched as the book's headers are
    (case, spaces and punctuation aside); ``column`` None: the first of ``GROUP_COLUMNS`` the book has."""
    keys = {header_key(c): c for c in portfolio.holdings.columns}
    for wanted in ((column,) if column is not None else GROUP_COLUMNS):
        if header_key(wanted) in keys:
            return str(keys[header_key(wanted)])
    return None


def group_problems(portfolio: Portfolio, limits: Limits) -> list[str]:
    """What stops the group limits from applying to ``portfolio`` (every problem): no group column, names
    without a group, a limit naming a group no name is in, a sold-fraction cap on a group worth nothing."""
    if not limits.group_limits and limits.group_column is None:
        return []
    column = find_group_column(portfolio, limits.group_column)
    text = ", ".join(portfolio.extra_columns) or "none"  # the columns a group could be read from (not the data)
    if column is None and not limits.group_limits:  # a group column asked for the by-group tables alone
        return [f"group_column={limits.group_column!r} is not a column of the holdings; its columns besides the "
                f"data are: {text}"]
    if column is None:
        asked = (f"no column {limits.group_column!r}" if limits.group_column is not None
                 else f"none of the columns {', '.join(GROUP_COLUMNS)}")
        return [(f"group limits need a group per name: the holdings have {asked}; add the column, or name one of "
                 f"the holdings' other columns as the group column (group_column; CLI --group-column): {text}")]
    if not limits.group_limits:
        return []
    problems = []
    raw = portfolio.holdings[column]
    blank = raw.isna().to_numpy() | (raw.astype(str).str.strip() == "").to_numpy()
    if blank.any():
        names = np.asarray(portfolio.symbols)[blank]
        problems.append(f"column '{column}' is blank for {len(names)} name(s): {', '.join(names[:10])}"
                        f"{' ...' if len(names) > 10 else ''}; give every name a group")
    labels = raw.astype(str).str.strip().to_numpy()
    held = set(labels[~blank])
    unknown = [rule.group for rule in limits.group_limits if rule.group is not None and rule.group not in held]
    if unknown:
        problems.append(f"group_limits name group(s) no name is in: {', '.join(map(str, unknown))} (column "
                        f"'{column}' has {', '.join(sorted(held))})")
    if not blank.any():
        for group, rule in resolved_rules(labels, limits.group_limits).items():
            value = float(portfolio.position_usd[labels == group].sum())
            if rule.max_sold_fraction is not None and value <= 0:
                problems.append(f"group {group!r} is worth ${value:,.0f} today: a max_sold_fraction needs a "
                                "positive value held")
    return problems


def resolved_rules(labels: np.ndarray, rules: tuple[GroupRule, ...]) -> dict[str, GroupRule]:
    """Per group the book has, its rule: its own values, the default's where it sets none."""
    default = next((r for r in rules if r.group is None), GroupRule(None))
    own = {r.group: r for r in rules if r.group is not None}
    found = {}
    for group in sorted(set(labels)):
        mine = own.get(group, GroupRule(group))
        values = {k: getattr(mine, k) if getattr(mine, k) is not None else getattr(default, k)
                  for k in GROUP_RULE_KEYS}
        if any(v is not None for v in values.values()):
            found[group] = GroupRule(group, **values)
    return found


def group_labels(portfolio: Portfolio, column: str | None) -> tuple[str, np.ndarray]:
    """(the column as the book spells it, each name's group as text)."""
    found = find_group_column(portfolio, column)
    if found is None:
        raise InputError(group_problems(portfolio, Limits(group_column=column, group_limits={"lb_wt": 0}))[0])
    return found, portfolio.holdings[found].astype(str).str.strip().to_numpy()


class GroupLimit:
    """A limit on one group's names (``members``: a boolean mask); its key names the group."""

    unit = "fraction of the post-trade value"
    measured = "fraction of the post-trade value"
    kind = ""

    def __init__(self, group: str, column: str, members: np.ndarray):
        self.group, self.column, self.members = group, column, np.asarray(members, dtype=bool)
        self.key = f"{self.kind}:{group}"

    @property
    def label(self) -> str:
        return shape_label(self.key) or self.key


class GroupWeight(GroupLimit):
    """The group's post-trade weight sum_{i in g} y_i p_i / (V - L) within [lo, hi] (the bounds and the band
    around today's weight, intersected): two linear rows in the post-trade value."""

    kind = "group_weight"

    def __init__(self, group, column, members, lo: float | None, hi: float | None, today: float):
        super().__init__(group, column, members)
        self.lo, self.hi, self.today = lo, hi, today

    def weight(self, outcome: Outcome) -> float:
        value = outcome.shares_after[self.members] * outcome.portfolio.array("price")[self.members]
        return float(value.sum() / max(outcome.post_value, 1e-300))

    def violation(self, outcome):
        weight = self.weight(outcome)
        return max(0.0, (self.lo - weight) if self.lo is not None else 0.0,
                   (weight - self.hi) if self.hi is not None else 0.0)

    def conic(self, program, slack=None):
        held = cp_sum(program.position, self.members)
        give = 0 if slack is None else slack * program.post_level
        rows = []
        if self.lo is not None:
            rows.append(held - self.lo * program.post_scaled + give >= 0)
        if self.hi is not None:
            rows.append(self.hi * program.post_scaled - held + give >= 0)
        return rows


class GroupSold(GroupLimit):
    """At most the fraction ``fraction`` of the group's value today sold: sum_{i in g} (s_i - y_i) p_i <=
    f sum_{i in g} s_i p_i; the slack is a fraction of the group's value."""

    kind = "group_sold"
    unit = "fraction of the group's value"
    measured = "fraction of the group's value"

    def __init__(self, group, column, members, fraction: float, held_usd: float):
        super().__init__(group, column, members)
        self.fraction, self.held_usd = fraction, held_usd

    def violation(self, outcome):
        price = outcome.portfolio.array("price")[self.members]
        sold = float(-(outcome.traded[self.members] * price).sum())
        return max(0.0, (sold - self.fraction * self.held_usd) / self.held_usd)

    def conic(self, program, slack=None):
        held = self.held_usd / program.scale
        give = 0 if slack is None else slack * held
        return [self.fraction * held - cp_sum(program.traded, self.members) + give >= 0]


def group_cuts(found: list, position_usd: np.ndarray, net_value_usd: float,
               cash: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The group limits among ``found`` as the dual engine's linear cuts G v <= b on the value sold per name in
    units of the cash target (v = USD sold / ``cash``), with each row's move of the marginal cost: a group's
    weight bounds are rows in the post-trade value V - L, so a dollar more cash moves them (+hi for an upper
    bound, -lo for a lower one, 0 for a cap on the value sold). A tracking error among ``found`` is left to the
    caller (the dual engine's quadratic row); None when a liquidity floor is among them (the conic program's).

    >>> members = np.array([True, False])
    >>> G, b, moves = group_cuts([GroupWeight("A", "sector", members, 0.2, 0.6, 0.5)], np.array([50.0, 50.0]),
    ...                          100.0, 10.0)
    >>> G.tolist(), b.round(6).tolist(), moves.tolist()
    ([[1.0, 0.0], [-1.0, 0.0]], [3.2, 0.4], [-0.2, 0.6])
    """
    cuts: list[tuple[np.ndarray, float, float]] = []  # (row, bound, move)
    left = (net_value_usd - cash) / cash  # the post-trade value, in units of the cash target
    for limit in found:
        if isinstance(limit, GroupWeight):
            held = float(position_usd[limit.members].sum() / cash)
            if limit.lo is not None:  # sum_g (p0 - v) >= lo (V - L)
                cuts.append((np.where(limit.members, 1.0, 0.0), held - limit.lo * left, -limit.lo))
            if limit.hi is not None:  # sum_g (p0 - v) <= hi (V - L)
                cuts.append((np.where(limit.members, -1.0, 0.0), limit.hi * left - held, limit.hi))
        elif isinstance(limit, GroupSold):
            cuts.append((np.where(limit.members, 1.0, 0.0), limit.fraction * limit.held_usd / cash, 0.0))
        elif not isinstance(limit, TrackingError):  # a tracking error is the dual engine's quadratic row
            return None
    n = len(position_usd)
    return (np.array([row for row, _, _ in cuts]).reshape(-1, n), np.array([b for _, b, _ in cuts], dtype=float),
            np.array([move for _, _, move in cuts], dtype=float))


def cp_sum(expression, mask: np.ndarray):
    """The sum of ``expression``'s entries where ``mask`` is True (a cvxpy expression)."""
    return mask.astype(float) @ expression


def tracking_error(portfolio: Portfolio, shares_after: np.ndarray, post_value: float) -> float:
    """Annualized risk of the post-trade weights minus today's (the book's risk model), a fraction."""
    if post_value <= 0:  # nothing left: no active position (the cone's both sides are 0), unless a position is
        return 0.0 if not np.any(shares_after) else float("inf")
    today = portfolio.position_usd / portfolio.net_value_usd
    after = shares_after * portfolio.array("price") / post_value
    return portfolio.risk().sigma(after - today)


@dataclass(frozen=True)
class TrackingError:
    """sigma(x - w) <= ``cap``: the post-trade weights x against today's w, annualized; a second-order cone in
    the positions and the post-trade value, sigma(y p - w (V - L)) <= cap (V - L). The slack is in the cap's
    unit (annualized, a fraction)."""

    cap: float
    key = "tracking_error"
    label = "tracking error to today's book (max_tracking_error)"
    unit = "annualized tracking error"
    measured = "annualized tracking error"  # absolute, as the risk band's measure (a multiple of today's risk)

    def violation(self, outcome):
        after = tracking_error(outcome.portfolio, outcome.shares_after, outcome.post_value)
        return max(0.0, after - self.cap)

    def conic(self, program, slack=None):
        import cvxpy as cp

        p = program.portfolio
        today = p.position_usd / p.net_value_usd
        active = program.position - today * program.post_scaled
        stacked = p.risk().stacked(active) / self.cap  # in units of the cap: the cone's rows are O(1)
        exposure = cp.Variable(stacked.shape)  # the cone on its own variable, as the risk ceiling's
        give = 0 if slack is None else slack / self.cap * program.post_level
        return [exposure == stacked, cp.norm(exposure) <= program.post_scaled + give]


def daily_sellable(portfolio: Portfolio) -> np.ndarray:
    """Shares of each name that can be sold in a day: at its own ``pov`` (else ``LIQUID_POV``) of the market's
    volume, pov / (1 - pov) x ADV, and at most its ``ub_max_pct_adv`` of ADV a day."""
    adv = portfolio.array("adv")
    pov = _column(portfolio, "pov")
    pov = np.where(np.isnan(pov), LIQUID_POV, np.minimum(pov, 0.999))
    cap = _column(portfolio, "ub_max_pct_adv")
    return np.where(np.isnan(cap), pov / (1.0 - pov), np.minimum(pov / (1.0 - pov), cap)) * adv


def sellable_shares(portfolio: Portfolio, days: float) -> np.ndarray:
    """Shares of each name that can be sold within ``days`` days (``daily_sellable`` a day)."""
    return days * daily_sellable(portfolio)


def liquid_value(portfolio: Portfolio, shares_after: np.ndarray, days: float) -> float:
    """Value (USD) of the long positions ``shares_after`` that can be sold within ``days`` days
    (``sellable_shares``): sum over the names held long today of min(y_i, sellable_i) p_i."""
    longs = portfolio.array("shares") > 0
    price = portfolio.array("price")
    return float((np.minimum(shares_after, sellable_shares(portfolio, days)) * price)[longs].sum())


@dataclass(frozen=True)
class LiquidityLeft:
    """At least ``fraction`` of the post-trade value sellable within ``days`` days: sum_i min(y_i, c_i) p_i >=
    f (V - L) over the names held long today, c_i = ``sellable_shares``. The left side is concave, so the
    set is convex: one variable per name below both y_i p_i and c_i p_i. The slack is a fraction of the
    post-trade value."""

    fraction: float
    days: float
    key = "liquidity_left"
    label = "liquidity left behind (min_liquid_fraction)"
    unit = "fraction of the post-trade value"
    measured = "fraction of the post-trade value"

    def violation(self, outcome):
        liquid = liquid_value(outcome.portfolio, outcome.shares_after, self.days)
        post = max(outcome.post_value, 1e-300)  # nothing left: nothing to keep liquid
        return max(0.0, (self.fraction * outcome.post_value - liquid) / post)

    def conic(self, program, slack=None):
        import cvxpy as cp

        p = program.portfolio
        longs = np.flatnonzero(p.array("shares") > 0)
        top = (sellable_shares(p, self.days) * p.array("price"))[longs] / program.scale
        part = cp.Variable(longs.size)
        give = 0 if slack is None else slack * program.post_level
        return [part <= program.position[longs], part <= top,
                cp.sum(part) + give >= self.fraction * program.post_scaled]


def shape_limits(portfolio: Portfolio, limits: Limits) -> list:
    """The group, tracking-error and liquidity limits of a request on ``portfolio``."""
    found: list = []
    if limits.group_limits:
        column, labels = group_labels(portfolio, limits.group_column)
        value, net = portfolio.position_usd, portfolio.net_value_usd
        for group, rule in resolved_rules(labels, limits.group_limits).items():
            members = labels == group
            today = float(value[members].sum() / net)
            lo, hi = rule.lb_wt, rule.ub_wt
            if rule.max_weight_change is not None:
                lo = max(lo if lo is not None else -np.inf, today - rule.max_weight_change)
                hi = min(hi if hi is not None else np.inf, today + rule.max_weight_change)
            if lo is not None or hi is not None:
                found.append(GroupWeight(group, column, members, lo, hi, today))
            if rule.max_sold_fraction is not None:
                found.append(GroupSold(group, column, members, rule.max_sold_fraction, float(value[members].sum())))
    if limits.max_tracking_error is not None:
        found.append(TrackingError(limits.max_tracking_error))
    if limits.min_liquid_fraction is not None:
        found.append(LiquidityLeft(*limits.min_liquid_fraction))
    return found


def shaped_words(limits: Limits) -> str:
    """The group, tracking-error and liquidity limits a request sets, in words ("" for none).

    >>> shaped_words(Limits(max_tracking_error=0.01, min_liquid_fraction=(0.5, 5)))
    'tracking-error cap (1% a year) and liquidity floor (50% sellable within 5 days)'
    """
    parts = []
    if limits.group_limits:
        parts.append("group limits")
    if limits.max_tracking_error is not None:
        parts.append(f"tracking-error cap ({limits.max_tracking_error * 100:.3g}% a year)")
    if limits.min_liquid_fraction is not None:
        fraction, days = limits.min_liquid_fraction
        parts.append(f"liquidity floor ({fraction:.0%} sellable within {days:g} day{'' if days == 1 else 's'})")
    return " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)


LIQUIDITY_HORIZONS = (1, 5, 20)
"""The days at which ``liquidity_table`` says what share of a book can be sold."""


def liquidity_table(portfolio: Portfolio, shares_after: np.ndarray) -> pd.DataFrame:
    """The liquidity of the book today and after the trades (rows "today", "after").

    Columns: ``value_usd`` (the long positions' value), ``days_to_liquidate`` (days to sell every long
    position at its daily rate, ``daily_sellable``: the name's ``pov`` else ``LIQUID_POV``, at most its
    ``ub_max_pct_adv`` a day), and ``sellable_{D}d``: the share of that value sellable within D days
    (``sellable_shares``) for D in ``LIQUIDITY_HORIZONS``.
    """
    price = portfolio.array("price")
    longs = portfolio.array("shares") > 0
    per_day = daily_sellable(portfolio)
    rows = {}
    for name, shares in (("today", portfolio.array("shares")), ("after", np.asarray(shares_after, dtype=float))):
        held = np.where(longs, np.maximum(shares, 0.0), 0.0)
        value = float(held @ price)
        days = float(np.max(held / per_day, initial=0.0))  # every name trades some (ADV, pov and caps are > 0)
        row: dict[str, float] = {"value_usd": value, "days_to_liquidate": days}
        for horizon in LIQUIDITY_HORIZONS:
            liquid = liquid_value(portfolio, held, horizon)
            row[f"sellable_{horizon}d"] = liquid / value if value > 0 else float("nan")
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def group_table(portfolio: Portfolio, shares_after: np.ndarray, limits: Limits | None) -> pd.DataFrame | None:
    """Per group: value sold (USD), weight today and after (fractions of today's and of the post-trade value),
    the weight limits (``weight_lo``/``weight_hi``, NaN for none), ``max_sold_fraction`` and ``limit_reached``
    (which group limit is reached, "" for none). The groups are read from ``limits.group_column`` (else the
    first of ``GROUP_COLUMNS`` the book has); None when the book has no group column."""
    column = find_group_column(portfolio, limits.group_column if limits is not None else None)
    if column is None:
        return None
    labels = portfolio.holdings[column].astype(str).str.strip().to_numpy()
    price = portfolio.array("price")
    today, after = portfolio.position_usd, np.asarray(shares_after, dtype=float) * price
    net, post = portfolio.net_value_usd, float(after.sum())
    frame = pd.DataFrame({"group": labels, "today": today, "after": after, "sold": today - after})
    table = frame.groupby("group").sum()
    groups = [str(g) for g in table.index]
    sold = {g: float(v) for g, v in zip(groups, table["sold"].to_numpy(dtype=float))}
    weight_after = {g: float(v) / post if post > 0 else float("nan")
                    for g, v in zip(groups, table["after"].to_numpy(dtype=float))}
    lo_of: dict[str, float] = {}
    hi_of: dict[str, float] = {}
    sold_cap: dict[str, float] = {}
    binding: dict[str, list[str]] = {g: [] for g in groups}
    found = shape_limits(portfolio, limits) if limits is not None and limits.group_limits else []
    for limit in found:  # the group rows (the tracking-error and liquidity rows are not per group)
        if not isinstance(limit, (GroupWeight, GroupSold)):
            continue
        g = limit.group
        if isinstance(limit, GroupWeight):
            if limit.lo is not None:
                lo_of[g] = limit.lo
                if weight_after[g] <= limit.lo + 1e-7:
                    binding[g].append("min weight")
            if limit.hi is not None:
                hi_of[g] = limit.hi
                if weight_after[g] >= limit.hi - 1e-7:
                    binding[g].append("max weight")
        elif isinstance(limit, GroupSold):
            sold_cap[g] = limit.fraction
            if sold[g] >= limit.fraction * limit.held_usd * (1 - 1e-7):
                binding[g].append("max sold")
    nan = float("nan")
    out = pd.DataFrame({"value_sold_usd": [sold[g] for g in groups],
                        "weight_before": table["today"].to_numpy(dtype=float) / net,
                        "weight_after": [weight_after[g] for g in groups],
                        "weight_lo": [lo_of.get(g, nan) for g in groups],
                        "weight_hi": [hi_of.get(g, nan) for g in groups],
                        "max_sold_fraction": [sold_cap.get(g, nan) for g in groups],
                        "limit_reached": ["; ".join(binding[g]) for g in groups]}, index=pd.Index(groups))
    out.index.name = column
    return out


def shape_label(key: str) -> str | None:
    """The words for a group limit's key (``group_weight:Energy``, ``group_sold:Energy``), else None."""
    kind, _, group = key.partition(":")
    if kind == "group_weight":
        return f"weight of group {group} (lb_wt/ub_wt/max_weight_change)"
    if kind == "group_sold":
        return f"value sold of group {group} (max_sold_fraction)"
    return None


def applying(portfolio: Portfolio, limits: Limits, *, floor: bool = True, cap: bool = True) -> list:
    """Every limit that applies to a request on ``portfolio``: the per-name limits its columns set (and
    the direction of trade, by ``limits.allow_buys``), then the coupling ones. ``floor=False`` leaves
    out the risk floor (the convex relaxation), ``cap=False`` the total-impact cap."""
    chosen = limits if floor else limits.without_floor()
    found: list = [limit for limit in NAME_LIMITS if limit.applies(portfolio, chosen.allow_buys)]
    return (found + coupling_limits(chosen.risk_band, chosen.max_total_mi_bps if cap else None,
                                    chosen.max_total_cost_bps if cap else None)
            + shape_limits(portfolio, chosen))


def coupling_limits(risk_band, max_total_mi_bps, max_total_cost_bps=None) -> list:
    """The limits that tie names together, for a request."""
    limits: list = [Cash()]
    if max_total_mi_bps is not None:
        limits.append(TotalImpactCap(max_total_mi_bps))
    if max_total_cost_bps is not None:
        limits.append(TotalCostCap(max_total_cost_bps))
    if risk_band is not None:
        limits.append(RiskCeiling(risk_band[1]))
        if risk_band[0] > 0:
            limits.append(RiskFloor(risk_band[0]))
    return limits


class _Labels(dict):
    """A dict of labels that also words a group limit's key (``shape_label``)."""

    def get(self, key, default=None):
        if key in self:
            return self[key]
        found = shape_label(str(key))
        return found if found is not None else default


LABELS = _Labels({limit.key: limit.label for limit in NAME_LIMITS} | {
    "cash": Cash.label, "total_impact_cap": TotalImpactCap.label, "total_cost_cap": TotalCostCap.label,
    "risk_ceiling": RiskCeiling.label, "risk_floor": RiskFloor.label,
    "tracking_error": TrackingError.label, "liquidity_left": LiquidityLeft.label})
SHORT_LABELS = {"direction": "fully sold", "weight": "weight", "final_shares": "final shares",
                "final_value": "final value", "participation": "participation", "impact_cap": "impact cap",
                "cash": "cash", "total_impact_cap": "total impact", "total_cost_cap": "total cost",
                "risk_ceiling": "risk ceiling", "risk_floor": "risk floor", "tracking_error": "tracking error",
                "liquidity_left": "liquidity left"}
"""A few words per limit, for narrow table columns (``LABELS`` has the full label with its columns)."""
class _Measured(dict):
    """A dict of what each limit's violation measures that also knows a group limit's key (``group_weight:Tech``)."""

    def get(self, key, default=None):
        if key in self:
            return self[key]
        kind = str(key).partition(":")[0]
        return {GroupWeight.kind: GroupWeight.measured, GroupSold.kind: GroupSold.measured}.get(kind, default)


MEASURED = _Measured({limit.key: limit.measured for limit in NAME_LIMITS} | {
    "cash": Cash.measured, "total_impact_cap": TotalImpactCap.measured, "total_cost_cap": TotalCostCap.measured,
    "risk_ceiling": RiskCeiling.measured, "risk_floor": RiskFloor.measured,
    "tracking_error": TrackingError.measured, "liquidity_left": LiquidityLeft.measured})

MISSED_BY = {Cash.key: "off by", RiskFloor.key: "short by", LiquidityLeft.key: "short by"}
"""How a limit that is not a ceiling is missed: the cash target (either way), the risk floor (falling short);
every other limit is exceeded."""
