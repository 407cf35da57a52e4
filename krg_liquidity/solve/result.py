"""The answer of a liquidation: totals, the per-name trade table, and how it was found."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from krg_liquidity.core.errors import LiquidationError, SolverFailure
from krg_liquidity.core.numbers import dollars
from krg_liquidity.solve.verify import ACCEPT_VIOLATION, FLOAT_NOISE, impact_table

if TYPE_CHECKING:
    from krg_liquidity.book.portfolio import Portfolio
    from krg_liquidity.model.tax import TaxRates
    from krg_liquidity.solve.request import Limits

TRADE_COLUMNS = ("symbol", "shares_before", "shares_traded", "shares_after", "value_traded_usd", "pov",
                 "trade_time_days", "mi_bps", "cost_usd", "weight_before", "weight_after", "limit_reached", "price",
                 "adv", "volatility")
JSON_TRADE_COLUMNS = ("symbol", "shares_before", "shares_traded", "shares_after", "value_traded_usd", "pov",
                      "trade_time_days", "mi_bps", "cost_usd", "weight_before", "weight_after", "limit_reached", "price",
                      "adv", "volatility")


REPORT_WRITERS: dict[str, Callable[..., Any]] = {}
"""How a result becomes a report: ``"html"`` and ``"excel"`` writers, set by :mod:`krg_liquidity.report`
(the layer above, which renders a result) when the package is imported. The result only hands
itself over, so the solver knows nothing of reports."""


GAP_OPTIMAL = 1e-6
"""Largest certified gap (fraction of the cost) of an answer reported "optimal" (README, Statuses)."""

GAP_OPTIMAL_USD = 0.01
"""A certified gap below this many dollars (a cent) is optimal whatever its fraction of the cost: whole shares
on a small target add fractions of a cent to a cost of a few dollars (README, Statuses)."""


def proven_gap(cost_usd: float, lower_bound_usd: float) -> float:
    """The certified gap of a trade list: (cost - proven lower bound) / cost, never negative; NaN when
    nothing is proven (a rule's list). Both in USD; the ratio is a fraction of the cost."""
    if not np.isfinite(lower_bound_usd):
        return float("nan")
    return max(0.0, cost_usd - lower_bound_usd) / cost_usd if cost_usd > 0 else 0.0


def proven_status(gap: float, gap_usd: float = float("inf")) -> str:
    """"optimal" when the certified ``gap`` (fraction of the cost) meets ``GAP_OPTIMAL`` or the gap in dollars
    (``gap_usd``) is below ``GAP_OPTIMAL_USD``, else "feasible".

    >>> proven_status(7e-5, gap_usd=0.0002), proven_status(7e-5)
    ('optimal', 'feasible')
    """
    return "optimal" if gap <= GAP_OPTIMAL or gap_usd < GAP_OPTIMAL_USD else "feasible"


@dataclass
class LiquidationResult:
    """A liquidation's answer, or with ``raise_on_failure=False`` its failure.

    A failed result carries the ``message``, NaN money fields and an all-zero trade table.
    Money in USD, costs in bps of cash raised, risks annualized (decimal). ``gap_usd``/``gap_bps``
    and ``violation_text()`` say the gap and the violations in dollars, bps and words.

    Attributes
    ----------
    status : str
        One of ``status.STATUSES``; ``success`` is True for "optimal" and "feasible" only.
    cash_target : float
        The cash asked for (USD).
    cash_raised : float
        The cash the trades raise (USD; after ``round_trades``, what the whole-share trades raise).
    cost_usd : float
        Total market impact of the trades (USD).
    cost_bps : float
        ``cost_usd`` in bps of the cash raised.
    lower_bound_usd : float
        A proven lower bound on the least possible all-in cost (impact plus any half-spread, commission
        and fees; USD; NaN when nothing is proven).
    gap : float
        The proven relative gap between ``cost_usd`` and ``lower_bound_usd`` (a ratio).
    risk_before, risk_after : float or None
        Portfolio risk before and after the trades (annualized, decimal; None without a risk model).
    marginal_cost_bps : float
        Cost of the next dollar raised (the cash constraint's multiplier, bps).
    max_violation : float
        The worst of ``violations``, recomputed from the trades.
    violations : dict of str to float
        How far each limit is broken, by limit key, each in its own unit (0: met).
    trades : pandas.DataFrame
        One row per symbol; ``shares_traded`` and ``value_traded_usd`` are signed (negative =
        sell). ``limit_reached`` names, in words, the limit at which a name's trade stops ("fully
        sold", "participation cap", "min weight", ...). It also carries price, adv and volatility,
        so it feeds ``pov_schedule`` as is.
    method : str
        The path that answered: "separable", "dual", "conic", "dual+convex-concave" or
        "conic+convex-concave" (see ``optimize``).
    iterations : int
        Iterations summed over every stage tried.
    attempts : list of dict
        Every conic solver call.
    seconds : float
        Seconds the call took (wall clock).
    stages : list of dict
        Every stage tried, in order, with its time and outcome.
    message : str
        Why a failure failed, or which limits a rule's trade list breaks, with the fix.
    assumptions : dict
        The I-Star parameter set (code, date, source, values), the risk model and the units the
        numbers are in, plus any units warnings (see ``assumptions.describe``).
    rounding : dict
        Empty for the exact answer; after ``rounding.round_trades`` the lot size, the rule and the
        exact cash and cost before rounding.
    request : dict
        What was asked (``Request.record``: cash target, risk band, total-impact cap, buys, time
        limit), written with the answer.
    problem : object
        The validated request itself (book, target, limits, cost model), so that rounding keeps the
        same limits; not written to JSON.
    lots : pandas.DataFrame or None
        With tax lots: one row per lot (symbol, lot_id, term, shares_sold, cost_basis_per_share,
        realized_gain_usd, tax_usd at the lot's own rate, then the lot's shares, rate, gain_per_share and
        tax_per_dollar); the linear model takes each name's sale from its lots in increasing tax per
        dollar, US netting as the optimizer chose.
    tax : dict
        With tax lots: ``tax_usd`` (netted under US netting), ``realized_short_term_usd``,
        ``realized_long_term_usd``, ``carryforward_usd`` (a net loss carried forward; US netting) in USD,
        and ``tax_weight``; empty without.
    tax_rates : TaxRates or None
        With tax lots: the rates and tax model the tax was computed with.

    Examples
    --------
    >>> from krg_liquidity import Portfolio, liquidate, load_example
    >>> result = liquidate(Portfolio(*load_example()), 1e9)
    >>> result.success, bool(result.cost_bps > 0), int((result.trades["shares_traded"] > 0).sum())
    (True, True, 0)
    """

    status: str
    cash_target: float
    cash_raised: float
    cost_usd: float
    cost_bps: float
    lower_bound_usd: float
    gap: float
    risk_before: float | None
    risk_after: float | None
    marginal_cost_bps: float
    max_violation: float
    violations: dict[str, float]
    trades: pd.DataFrame
    method: str
    iterations: int = 0
    attempts: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    stages: list[dict] = field(default_factory=list)
    message: str = ""
    assumptions: dict = field(default_factory=dict)
    rounding: dict = field(default_factory=dict)
    request: dict = field(default_factory=dict)
    problem: object = field(default=None, repr=False, compare=False)  # the validated Request (book, limits)
    lots: pd.DataFrame | None = None
    tax: dict = field(default_factory=dict)
    tax_rates: TaxRates | None = None

    def tax_by_rule(self) -> pd.DataFrame:
        """The tax of these trades under each way of choosing the lots (``model.tax.LOT_RULES``).

        The trades are the same on every row; only the lots each name's sale is taken from change.
        Linear model: "least_tax" is the split ``lots`` reports (least tax per dollar first) and no rule
        pays less. US netting: an "optimizer" row is the split ``lots`` reports (the optimizer's), and
        ``extra_tax_usd`` is over it.

        Returns
        -------
        pandas.DataFrame
            One row per rule (index ``rule``): ``tax_usd``, ``realized_short_term_usd``,
            ``realized_long_term_usd`` and ``extra_tax_usd`` (over the reported split); empty without lots.

        Examples
        --------
        >>> from krg_liquidity import Portfolio, liquidate, load_example
        >>> liquidate(Portfolio(*load_example()), 1e9).tax_by_rule().empty
        True
        """
        from krg_liquidity.model.tax import LOT_RULES, realized_tax, split_by_rule

        columns = ["tax_usd", "realized_short_term_usd", "realized_long_term_usd", "extra_tax_usd"]
        if self.lots is None or self.tax_rates is None:
            return pd.DataFrame(columns=columns, index=pd.Index([], name="rule"))
        sold = pd.Series(self.lots.groupby("symbol", sort=False)["shares_sold"].sum())
        rows = {}
        for rule in LOT_RULES:
            found = realized_tax(self.lots, split_by_rule(self.lots, sold, rule), self.tax_rates)
            rows[rule] = (found["tax_usd"], found["realized_short_term_usd"], found["realized_long_term_usd"])
        if self.tax_rates.netting != "none":  # the optimizer's own split, which netting makes no rule's
            rows["optimizer"] = (self.tax_usd, self.tax["realized_short_term_usd"], self.tax["realized_long_term_usd"])
        table = pd.DataFrame.from_dict(rows, orient="index", columns=columns[:3]).rename_axis("rule")
        least = rows["optimizer" if "optimizer" in rows else "least_tax"][0]
        return table.assign(extra_tax_usd=table["tax_usd"] - least)

    @property
    def tax_usd(self) -> float:
        """Capital-gains tax of the lots sold (USD; negative: a credit for losses); NaN without lots."""
        return float(self.tax.get("tax_usd", float("nan")))

    @property
    def success(self) -> bool:
        """True for "optimal" and "feasible" (a trade list that keeps every limit)."""
        return self.status in ("optimal", "feasible")

    @property
    def costs(self) -> pd.DataFrame:
        """Every cost of these trades: rows impact, spread (half the quoted spread), commission, fees and
        total (the all-in trading cost, ``total_cost_usd``); with tax lots also tax and after_tax (total +
        tax); columns ``usd`` and ``bps`` (of the cash raised). Impact is ``cost_usd``; the linear costs come
        from the book's cost columns (zero without them)."""
        parts = {"impact": self.cost_usd}
        linear = self._linear_usd()
        for name in ("spread", "commission", "fees"):
            parts[name] = float(linear[name].sum()) if linear is not None else 0.0
        parts["total"] = sum(parts.values())
        if self.tax:
            parts["tax"] = self.tax_usd
            parts["after_tax"] = parts["total"] + self.tax_usd
        usd = pd.Series(parts, name="usd")
        bps = usd / self.cash_raised * 1e4 if self.cash_raised > 0 else usd * np.nan
        return pd.DataFrame({"usd": usd, "bps": bps})

    @property
    def total_cost_usd(self) -> float:
        """All-in trading cost (USD): impact plus half-spread, commission and fees (``costs``)."""
        linear = self._linear_usd()
        return self.cost_usd + (float(linear.to_numpy().sum()) if linear is not None else 0.0)

    @property
    def objective_usd(self) -> float:
        """What the optimizer minimized (USD): ``total_cost_usd``, plus ``tax_weight`` x ``tax_usd`` with tax lots."""
        if not self.tax:
            return self.total_cost_usd
        return self.total_cost_usd + float(self.tax.get("tax_weight", 1.0)) * self.tax_usd

    @property
    def objective_lower_bound_usd(self) -> float:
        """The proven lower bound on ``objective_usd`` (USD): ``objective_usd - gap_usd``; NaN when nothing is
        proven. Without linear costs or lots it is ``lower_bound_usd``."""
        return self.objective_usd - self.gap_usd if np.isfinite(self.gap_usd) else float("nan")

    def objective_words(self) -> str:
        """The objective in words: "impact cost", "all-in trading cost" or "trading cost + tax" (weighted)."""
        if self.tax:
            weight = float(self.tax.get("tax_weight", 1.0))
            return "trading cost + tax" if weight == 1.0 else f"trading cost + {weight:g} x tax"
        return "all-in trading cost" if self.total_cost_usd != self.cost_usd else "impact cost"

    def _linear_usd(self) -> pd.DataFrame | None:
        """Per name, the linear costs paid (USD), or None without a request."""
        parts = getattr(self.problem, "linear_parts", None)
        if parts is None:
            return None
        bps = parts()[["spread", "commission", "fees"]].to_numpy()
        value = np.abs(self.trades["value_traded_usd"].to_numpy(dtype=float))
        return pd.DataFrame(bps * value[:, None] / 1e4, columns=["spread", "commission", "fees"])

    @property
    def gap_usd(self) -> float:
        """Dollars by which this trade list's cost (after rounding, when rounded) may exceed the least
        possible: ``total_cost_usd`` (``cost_usd`` without linear costs) minus the proven
        ``lower_bound_usd``, never negative; NaN when nothing is proven (a failure or a rule's list)."""
        total = self.total_cost_usd
        if not (np.isfinite(self.lower_bound_usd) and np.isfinite(total)):
            return float("nan")
        return max(0.0, total - self.lower_bound_usd)

    @property
    def gap_bps(self) -> float:
        """``gap_usd`` in bps of the cash raised."""
        return self.gap_usd / self.cash_raised * 1e4 if self.cash_raised > 0 else float("nan")

    def gap_text(self) -> str:
        """The proven gap in dollars and bps, e.g. "gap $0 (0.00 bps)" (``gap`` keeps the raw ratio).

        Returns
        -------
        str
            The gap in words; "no proven gap (nothing bounds the optimum)" when nothing is proven.

        Examples
        --------
        >>> from krg_liquidity import Portfolio, liquidate, load_example
        >>> liquidate(Portfolio(*load_example()), 1e9).gap_text()
        'gap $0 (0.00 bps)'
        """
        if not np.isfinite(self.gap_usd):
            return "no proven gap (nothing bounds the optimum)"
        bps, usd = self.gap_bps, self.gap_usd
        if bps >= 0.01 or not bps > 0 or usd < 0.005:
            text = f"{max(bps, 0.0):.2f}"
        else:  # a gap of cents or dollars is not "0.00 bps": one significant digit, no exponent
            text = f"{bps:.{-math.floor(math.log10(bps))}f}"
        dollars = f"${usd:,.2f}" if 0.005 <= usd < 1 else f"${max(usd, 0.0):,.0f}"  # cents: not "$0"
        return f"gap {dollars} ({text} bps)"

    def violation_text(self) -> str:
        """Whether every limit holds, recomputed from the trades; else the worst broken limit in its own unit.

        ``max_violation`` and ``violations`` keep the raw numbers.

        Returns
        -------
        str
            The verdict in words.

        Examples
        --------
        >>> from krg_liquidity import Portfolio, liquidate, load_example
        >>> liquidate(Portfolio(*load_example()), 1e9).violation_text()
        '0 (every limit met, recomputed from the trades)'
        """
        from krg_liquidity.solve.limits import LABELS, MEASURED, MISSED_BY

        broken = {key: value for key, value in self.violations.items() if not value <= ACCEPT_VIOLATION}
        if not self.violations:
            return "not checked (no trade list)"
        if not broken:
            key = max(self.violations, key=lambda name: self.violations[name])
            worst = self.violations[key]
            if worst <= FLOAT_NOISE:
                return "0 (every limit met, recomputed from the trades)"
            missed = MISSED_BY.get(key, "exceeded by")
            unit = MEASURED.get(key, "")
            article = "an" if unit[:1] in ("a", "e", "i", "o", "u") else "a"
            return (f"every limit met within the accepted tolerance ({ACCEPT_VIOLATION:g}), recomputed from the "
                    f"trades; closest: {LABELS.get(key, key)} {missed} {worst:.2g}"
                    + (f", as {article} {unit}" if unit else ""))
        key = max(broken, key=lambda name: broken[name])
        more = f"; {len(broken) - 1} more limit(s) broken" if len(broken) > 1 else ""
        by = f"{broken[key]:.2%}" if broken[key] >= 1e-4 else f"{broken[key]:.2g}"
        missed = f"missed, {MISSED_BY[key]}" if key in MISSED_BY else "broken by"
        return f"{LABELS.get(key, key)} {missed} {by} ({MEASURED.get(key, '')}){more}"

    def to_dict(self) -> dict:
        """Plain types only, ready for JSON.

        Returns
        -------
        dict
            Every field, ``gap_usd`` and ``gap_bps``, the trades as records and ``costs`` (usd, bps per cost);
            with tax lots ``tax`` and ``lots`` (records); not ``problem``.

        Examples
        --------
        >>> from krg_liquidity import Portfolio, liquidate, load_example
        >>> record = liquidate(Portfolio(*load_example()), 1e9).to_dict()
        >>> record["status"], len(record["trades"])
        ('optimal', 28)
        """
        trades = self.trades.loc[:, list(JSON_TRADE_COLUMNS)]
        return {key: _plain(value) for key, value in {
            "status": self.status,
            "cash_target": self.cash_target,
            "cash_raised": self.cash_raised,
            "cost_usd": self.cost_usd,
            "cost_bps": self.cost_bps,
            "total_cost_usd": self.total_cost_usd,
            "objective_usd": self.objective_usd,
            "objective_lower_bound_usd": self.objective_lower_bound_usd,
            "lower_bound_usd": self.lower_bound_usd,
            "gap": self.gap,
            "gap_usd": self.gap_usd,
            "gap_bps": self.gap_bps,
            "risk_before": self.risk_before,
            "risk_after": self.risk_after,
            "marginal_cost_bps": self.marginal_cost_bps,
            "max_violation": self.max_violation,
            "violations": {key: _plain(float(value)) for key, value in self.violations.items()},
            "method": self.method,
            "iterations": self.iterations,
            "seconds": self.seconds,
            "attempts": self.attempts,
            "stages": self.stages,
            "message": self.message,
            "request": self.request,
            "assumptions": self.assumptions,
            "rounding": self.rounding,
            "trades": json.loads(trades.to_json(orient="records", double_precision=15)),
            "costs": {name: {"usd": _plain(float(row["usd"])), "bps": _plain(float(row["bps"]))}
                      for name, row in self.costs.iterrows()},
            **({} if (self.request or {}).get("max_tracking_error") is None or self.tracking_error is None
               else {"tracking_error": self.tracking_error}),
            **({} if self.lots is None else {
                "tax": self.tax, "lots": json.loads(self.lots.assign(acquired=pd.to_datetime(
                    self.lots["acquired"]).dt.strftime("%Y-%m-%d")).to_json(orient="records", double_precision=15))}),
        }.items()}

    def to_json(self, indent: int | None = None) -> str:
        """:meth:`to_dict` as JSON text.

        Parameters
        ----------
        indent : int, optional
            Indentation of the JSON (None: one line).

        Returns
        -------
        str
            The JSON text.
        """
        return json.dumps(self.to_dict(), indent=indent)

    def _all_in_lines(self) -> list[tuple[str, str]]:
        """The all-in trading cost and the tax, when there is more than impact to show."""
        rows = []
        words = self.objective_words()
        if words != "impact cost":
            total = self.total_cost_usd
            rows.append(("all-in trading cost", f"{dollars(total)} ({total / self.cash_raised * 1e4:.2f} bps): "
                                                "impact, half-spread, commission and fees"))
        if self.tax:
            rows.append(("tax", self.tax_text()))
        return rows

    def tax_text(self) -> str:
        """The tax in words: dollars, the tax model, a net loss carried forward and the shares taken at zero
        basis, e.g. "$12,345,678 (US netting; net loss carried forward $1,234)"; "" without tax lots."""
        if not self.tax:
            return ""
        model = ("US netting" if self.tax_rates is not None and self.tax_rates.netting == "us"
                 else "linear model: each loss credited at its rate, as if gains elsewhere absorb it")
        carried = float(self.tax.get("carryforward_usd", 0.0))
        unknown = ""
        if self.tax.get("unknown_basis_shares"):
            unknown = (f"; {self.tax['unknown_basis_shares']:,.0f} shares no lot lists taken at zero basis, "
                       f"short-term ({self.tax['unknown_basis_sold']:,.0f} of them sold)")
        return (f"{dollars(self.tax_usd)} ({model}" + (f"; net loss carried forward {dollars(carried)}" if carried > 0
                                                        else "") + unknown + ")")

    def _bound_text(self) -> str:
        """The proven lower bound on what the optimizer minimized, in words."""
        if not np.isfinite(self.lower_bound_usd):
            return "none (a rule's trade list proves nothing about the least cost)"
        words = self.objective_words()
        bound = self.objective_lower_bound_usd if np.isfinite(self.gap_usd) else self.lower_bound_usd
        on = "" if words == "impact cost" else f"on the {words}: "
        return f"{on}{dollars(bound)}, {self.gap_text()}"

    def _lines(self) -> list[tuple[str, str]]:
        asked = [("limits", limits_text(self.request))] if self.request else []
        if not self.success and not np.isfinite(self.cash_raised):  # a failure: no trade list
            return [("status", self.status), ("cash target", dollars(self.cash_target)), *asked,
                    ("message", self.message), ("stages", " -> ".join(f"{s['stage']} ({s['outcome']})"
                                                                    for s in self.stages))]
        sold = int((self.trades["shares_traded"] != 0).sum())
        rows = [
            ("status", self.status),
            ("cash target", dollars(self.cash_target)),
            *asked,
            ("cash raised", f"${self.cash_raised:,.0f}"),
            ("impact cost", f"${self.cost_usd:,.0f} ({self.cost_bps:.2f} bps)"),
            *self._all_in_lines(),
            ("lower bound", self._bound_text()),
            ("marginal cost", (f"{self.marginal_cost_bps:.2f} bps per next dollar"
                               + (" (below zero: the next dollar raised lowers the cost, the tax of the lots it "
                                  "sells being a credit)" if self.marginal_cost_bps < 0 else ""))
             if np.isfinite(self.marginal_cost_bps) else "not available (the answer is not a proven optimum)"),
        ]
        if self.risk_before is not None and self.risk_after is not None:
            rows.append(("risk", f"{self.risk_before:.2%} -> {self.risk_after:.2%} "
                                 f"({self.risk_after / self.risk_before:.3f}x)"))
        liquidity = self.liquidity_left
        if liquidity is not None:
            today, after = liquidity.loc["today"], liquidity.loc["after"]
            rows.append(("liquidity", f"sellable within 5 days {today['sellable_5d']:.1%} -> "
                                           f"{after['sellable_5d']:.1%}; days to sell the longs "
                                           f"{today['days_to_liquidate']:,.1f} -> {after['days_to_liquidate']:,.1f}"))
        cap = (self.request or {}).get("max_tracking_error")
        if cap is not None and self.tracking_error is not None:  # said where a cap asks for it
            rows.append(("tracking error", f"{self.tracking_error:.2%} a year to today's book (cap {cap:.2%})"))
        if self.message:  # limits_broken: which limits the list breaks, and the fix
            rows.append(("message", self.message))
        rows += [
            ("names traded", f"{sold} of {len(self.trades)}"),
            ("max violation", self.violation_text()),
            ("method", f"{self.method}, {self.seconds * 1e3:.1f} ms"),
        ]
        if self.rounding:
            exact_cash, exact_cost = self.rounding["cash_raised_exact"], self.rounding["cost_usd_exact"]
            lot = self.rounding["lot_size"]
            unit = "whole shares" if lot == 1 else f"whole lots of {lot:,.0f} shares"
            rows.append(("rounding", f"{unit}; exact answer raised "
                                     f"${exact_cash:,.0f} at ${exact_cost:,.0f}"))
        from krg_liquidity.model.assumptions import summary_lines

        return rows + summary_lines(self.assumptions)

    def summary(self) -> str:
        """A few lines a PM can read: status, cash, cost (USD and bps), bound and gap, risk, limits.

        Returns
        -------
        str
            One "label  value" line per figure.

        Examples
        --------
        >>> from krg_liquidity import Portfolio, liquidate, load_example
        >>> print(liquidate(Portfolio(*load_example()), 1e9).summary().splitlines()[0])
        status         optimal
        """
        width = max(len(k) for k, _ in self._lines())
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self._lines())

    def __repr__(self) -> str:
        if not self.success:
            return f"LiquidationResult(status={self.status!r}, message={self.message[:80]!r})"
        return (f"LiquidationResult(status={self.status!r}, cash_raised={self.cash_raised:,.0f}, "
                f"cost_usd={self.cost_usd:,.0f}, cost_bps={self.cost_bps:.3f}, gap_usd={self.gap_usd:,.0f})")

    def to_html(self, portfolio: Portfolio | None = None, **limits: Any) -> str:
        """The one-file HTML report (see :mod:`krg_liquidity.report`).

        Request, assumptions, summary, trades, schedule, pre-trade and the frontier over the book it
        was solved on.

        Parameters
        ----------
        portfolio : Portfolio, optional
            Another book to report on (default: the one the answer was solved on).
        **limits
            Other limits than the result's own request (the keyword arguments of
            :func:`~krg_liquidity.liquidate`).

        Returns
        -------
        str
            The HTML page.

        Examples
        --------
        >>> from krg_liquidity import Portfolio, liquidate, load_example
        >>> page = liquidate(Portfolio(*load_example()), 1e9).to_html()
        >>> page.lstrip().lower().startswith("<!doctype html")
        True
        """
        return REPORT_WRITERS["html"](self, self.portfolio if portfolio is None else portfolio, limits)

    def to_excel(self, path: str | Path, portfolio: Portfolio | None = None, **limits: Any) -> Path:
        """The report as an .xlsx workbook at ``path`` (arguments as :meth:`to_html`).

        Parameters
        ----------
        path : str or Path
            The .xlsx file to write.
        portfolio : Portfolio, optional
            Another book to report on (default: the one the answer was solved on).
        **limits
            Other limits than the result's own request.

        Returns
        -------
        Path
            The file written.
        """
        return REPORT_WRITERS["excel"](self, self.portfolio if portfolio is None else portfolio, limits, path)

    @property
    def limits(self) -> Limits | None:
        """The request-level limits this answer was solved with (None for a result read back from a file:
        its ``request`` record keeps them as plain values)."""
        return getattr(self.problem, "limits", None)

    @property
    def portfolio(self) -> Portfolio | None:
        """The book this answer was solved on (None for a result rebuilt from a file)."""
        return getattr(self.problem, "portfolio", None)

    @property
    def groups(self) -> pd.DataFrame | None:
        """Per group of the book (its group column: ``Limits.group_column``, else ``group``, ``sector``, ...):
        value sold (USD), weight before and after (fractions of today's and of the post-trade value), the
        group limits (``weight_lo``, ``weight_hi``, ``max_sold_fraction``; NaN for none) and ``limit_reached``
        (the group limit reached: "min weight", "max weight", "max sold").
        None without the book (a result read from a file) or without a group column."""
        from krg_liquidity.solve.limits import group_table

        if self.portfolio is None or not self.success:
            return None
        return group_table(self.portfolio, self.trades["shares_after"].to_numpy(dtype=float), self.limits)

    @property
    def tracking_error(self) -> float | None:
        """Annualized tracking error of the post-trade weights against today's, with the book's risk model (a
        fraction, 0.01 = 1%); None without the book, a risk model or trades."""
        from krg_liquidity.solve.limits import tracking_error

        if self.portfolio is None or not self.success or not self.portfolio.has_risk_model:
            return None
        after = self.trades["shares_after"].to_numpy(dtype=float)
        return tracking_error(self.portfolio, after, self.portfolio.net_value_usd - self.cash_raised)

    @property
    def liquidity_left(self) -> pd.DataFrame | None:
        """The book's liquidity today and after the trades (rows "today", "after"): value of the long
        positions (USD), days to sell them at each name's participation rate (its ``pov``, else 20% of the
        volume), and the share sellable within 1, 5 and 20 days. None without the book."""
        from krg_liquidity.solve.limits import liquidity_table

        if self.portfolio is None or not self.success:
            return None
        return liquidity_table(self.portfolio, self.trades["shares_after"].to_numpy(dtype=float))

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in self._lines())
        traded = self.trades[self.trades["shares_traded"] != 0]
        return f"<table>{rows}</table>" + traded.to_html(index=False, float_format=lambda v: f"{v:,.4g}")


def _group_rule_words(request: dict) -> str:
    """The book-wide group rule in words, and how many groups have their own, e.g. " (each group's weight within
    +/-0.5 points; 2 groups with their own)"."""
    rules = request.get("group_limits") or []
    default = next((rule for rule in rules if rule.get("group") is None), None)
    words = []
    if default is not None:
        if default.get("max_weight_change") is not None:
            words.append(f"each group's weight within +/-{default['max_weight_change'] * 100:.4g} points")
        if default.get("lb_wt") is not None or default.get("ub_wt") is not None:
            low, high = default.get("lb_wt"), default.get("ub_wt")
            words.append("each group's weight " + (f"at least {low:.4g}" if low is not None else "")
                         + (" and " if low is not None and high is not None else "")
                         + (f"at most {high:.4g}" if high is not None else ""))
        if default.get("max_sold_fraction") is not None:
            words.append(f"at most {default['max_sold_fraction']:.0%} of each group's value sold")
    own = sum(rule.get("group") is not None for rule in rules)
    if own:
        words.append(f"{own} group{'s' if own > 1 else ''} with {'their' if own > 1 else 'its'} own")
    return f" ({'; '.join(words)})" if words else ""


def limits_text(request: dict) -> str:
    """The limits of a request record (``Request.record``) in words, e.g. "risk band 0.9-1.1x today's risk;
    total impact at most 50 bps; sales only; time limit 30 s"."""
    band, cap, seconds = request.get("risk_band"), request.get("max_total_mi_bps"), request.get("time_limit_s")
    parts = [f"risk band {band[0]:g}-{band[1]:g}x today's risk" if band else "no risk band",
             f"total impact at most {cap:g} bps" if cap is not None else "no total-impact cap",
             "buys allowed" if request.get("allow_buys") else "sales only"]
    if request.get("group_limits"):
        column = request.get("group_column")
        parts.append((f"group limits by {column}" if column else "group limits") + _group_rule_words(request))
    if request.get("max_tracking_error") is not None:
        parts.append(f"tracking error at most {request['max_tracking_error'] * 100:g}% a year")
    if request.get("min_liquid_fraction") is not None:
        fraction, days = request["min_liquid_fraction"]
        parts.append(f"at least {fraction:.0%} sellable within {days:g} day{'' if days == 1 else 's'} after")
    if request.get("max_total_cost_bps") is not None:
        parts.append(f"all-in trading cost at most {request['max_total_cost_bps']:g} bps")
    each = []
    for key, words in (("max_pct_adv", "at most {:.4g}% of ADV traded"),
                       ("max_weight_change", "weight within {:.4g} points of today's"),
                       ("max_sold_fraction", "at most {:.4g}% of the position sold")):
        if request.get(key) is not None:
            count = request.get("names_filled", {}).get(key)
            each.append(words.format(request[key] * 100)
                        + ("" if count is None else f" ({count} of {request.get('names', '?')} names)"))
    if each:
        parts.append("each name, where the book gives no bound: " + ", ".join(each))
    if request.get("fee_bps"):
        parts.append(f"sell fee {request['fee_bps']:g} bps")
    if request.get("tax"):
        tax = request["tax"]
        parts.append(f"capital-gains tax {tax['short_term']:.1%} short-term, {tax['long_term']:.1%} long-term "
                     f"({'US netting' if tax['netting'] == 'us' else 'linear model'}, sale date {tax['as_of']}"
                     + (f", tax weight {tax['tax_weight']:g}" if tax["tax_weight"] != 1 else "")
                     + (", shares no lot lists at zero basis" if tax.get("unknown_basis") == "zero" else "") + ")")
    if "time_limit_s" in request:
        parts.append("no time limit" if seconds is None or not np.isfinite(seconds) else f"time limit {seconds:g} s")
    return "; ".join(parts)


def with_lots(result: LiquidationResult, lots: pd.DataFrame, tax_weight: float, rates: TaxRates,
              split: np.ndarray | None = None) -> LiquidationResult:
    """``result`` with its lot table and tax (``model.tax``): each name's shares sold split over its lots, by
    ``split`` (shares per lot, the optimizer's choice) or else in increasing tax per dollar (the least-tax
    split of that sale under the linear model); gains and tax recomputed from the split under ``rates``.
    ``lots``: ``model.tax.lot_tax``'s table, or a result's own lot table (to split trades again after rounding)."""
    from krg_liquidity.model.tax import greedy_sale, realized_tax

    if split is None:
        sold = pd.Series(-result.trades["shares_traded"].to_numpy(dtype=float), index=result.trades["symbol"])
        split = greedy_sale(lots, sold)
    shares = np.asarray(split, dtype=float)
    gain = lots["gain_per_share"].to_numpy(dtype=float) * shares
    tax = lots["rate"].to_numpy(dtype=float) * gain  # each lot at its own rate (before any netting)
    table = pd.DataFrame({"symbol": lots["symbol"].to_numpy(), "lot_id": lots["lot_id"].to_numpy(),
                          "term": lots["term"].to_numpy(), "shares_sold": shares,
                          "cost_basis_per_share": lots["cost_basis_per_share"].to_numpy(dtype=float),
                          "realized_gain_usd": gain, "tax_usd": tax,
                          "shares": lots["shares"].to_numpy(dtype=float), "rate": lots["rate"].to_numpy(dtype=float),
                          "gain_per_share": lots["gain_per_share"].to_numpy(dtype=float),
                          "tax_per_dollar": lots["tax_per_dollar"].to_numpy(dtype=float),
                          "acquired": lots["acquired"].to_numpy()})
    result.lots = table
    result.tax_rates = rates
    result.request = {**result.request, "tax": {"short_term": rates.short_term, "long_term": rates.long_term,
                                                "long_term_after_days": rates.long_term_after_days,
                                                "as_of": pd.Timestamp(str(rates.as_of)).date().isoformat(),
                                                "netting": rates.netting, "tax_weight": tax_weight,
                                                **({"unknown_basis": rates.unknown_basis}
                                                   if rates.unknown_basis != "refuse" else {})}}
    result.tax = realized_tax(table, shares, rates) | {"tax_weight": tax_weight}
    unknown = pd.isna(table["acquired"]).to_numpy()  # the lots read_lots added for shares no lot lists
    if unknown.any():
        result.tax |= {"unknown_basis_shares": float(table["shares"].to_numpy()[unknown].sum()),
                       "unknown_basis_sold": float(shares[unknown].sum())}
    return result


def with_extra_columns(trades: pd.DataFrame, portfolio) -> pd.DataFrame:
    """The trade table with the book's unused columns (``Portfolio.extra_columns``: Name, Sector, ...) appended
    unchanged; a column named like one of the table's own is left out (the table's wins)."""
    extra = [c for c in portfolio.extra_columns if c not in trades.columns]
    if not extra:
        return trades
    kept = portfolio.holdings[extra].reset_index(drop=True)
    return pd.concat([trades.reset_index(drop=True), kept], axis=1).set_axis(trades.index)


def trade_table(symbols, shares_before, shares_after, price, impacts: pd.DataFrame, net_value: float,
                cash_raised: float, reached, adv, volatility, traded=None) -> pd.DataFrame:
    """One row per name; price, adv and volatility ride along so that schedules can use the table as is.

    ``reached``: the ``limit_reached`` words per name (see :func:`limit_reached`)."""
    traded = shares_after - shares_before if traded is None else traded
    return pd.DataFrame({
        "symbol": symbols,
        "shares_before": shares_before,
        "shares_traded": traded,
        "shares_after": shares_after,
        "value_traded_usd": traded * price,
        "pov": impacts["pov"].to_numpy(),
        "trade_time_days": impacts["trade_time_days"].to_numpy(),
        "mi_bps": impacts["mi_bps"].to_numpy(),
        "cost_usd": impacts["cost_usd"].to_numpy(),
        "weight_before": shares_before * price / net_value,
        "weight_after": shares_after * price / (net_value - cash_raised),
        "limit_reached": reached,
        "price": price,
        "adv": adv,
        "volatility": volatility,
    })


def _at_bounds(u: np.ndarray, lo: np.ndarray, hi: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """(at the low end, at the high end) of each name's interval, within ``tol`` relative to max(1, |u|)."""
    span = np.maximum(1.0, np.abs(u))
    at_hi = np.isfinite(hi) & (np.abs(u - hi) <= tol * span)
    at_lo = np.isfinite(lo) & (np.abs(u - lo) <= tol * span) & ~at_hi
    return at_lo, at_hi


def binding_labels(u: np.ndarray, lo: np.ndarray, hi: np.ndarray, lo_group, hi_group, tol: float = 1e-9) -> np.ndarray:
    """Which limit (its key in ``limits.py``) stops each name's trade ('' for none)."""
    at_lo, at_hi = _at_bounds(u, lo, hi, tol)
    return np.where(at_hi, hi_group, np.where(at_lo, lo_group, ""))


def limit_reached(u: np.ndarray, bounds, shares: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """The trade table's ``limit_reached``: in a PM's words, the limit that stops each name's trade
    ("fully sold", "participation cap", "min weight", ...; '' where none does).

    ``u``: trades in fractions of ADV (+ = sell); ``bounds``: the request's ``TradeBounds``;
    ``shares``: today's positions (a short's full cover reads "fully covered").
    """
    from krg_liquidity.solve.limits import NAME_LIMITS

    at_lo, at_hi = _at_bounds(u, bounds.lo, bounds.hi, tol)
    group = np.where(at_hi, bounds.hi_group, np.where(at_lo, bounds.lo_group, ""))
    words = np.full(len(u), "", dtype=object)
    for limit in NAME_LIMITS:
        mine = group == limit.key
        if mine.any():
            words[mine] = limit.reached_words(at_hi[mine], shares[mine])
    return words


def _with_group_words(reached: np.ndarray, portfolio, traded: np.ndarray, shares_after: np.ndarray,
                      limits) -> np.ndarray:
    """``reached`` with, for each traded name no per-name limit stops, its group's limit when the group is at it
    ("group Energy: max weight"): the group's band, not the name's own, then shapes that name's trade."""
    from krg_liquidity.solve.limits import find_group_column, group_table

    table = group_table(portfolio, shares_after, limits)
    column = find_group_column(portfolio, limits.group_column)
    if table is None or column is None:
        return reached
    binding = {str(group): words for group, words in zip(table.index, table["limit_reached"]) if words}
    labels = portfolio.holdings[column].astype(str).str.strip().to_numpy()
    out = reached.copy()
    for i in np.flatnonzero((reached == "") & (traded != 0)):
        if labels[i] in binding:
            out[i] = f"group {labels[i]}: {binding[labels[i]]}"
    return out


def _plain(value):
    """JSON-safe: NaN and inf become None."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def finished_result(request, u: np.ndarray, marginal: float, lower_bound: float | None, method: str,
                    trail, bounds=None) -> LiquidationResult:
    """The result of a verified answer: every limit recomputed from the final shares (refused if broken)."""
    portfolio = request.portfolio
    shares, price, adv = portfolio.array("shares"), portfolio.array("price"), portfolio.array("adv")
    traded = -u * adv  # exact; shares_after - shares would lose a tiny trade to rounding
    shares_after = shares + traded
    impacts = impact_table(portfolio, traded, request.cost_model)
    raised = float(-(traded * price).sum())
    cost = float(impacts["cost_usd"].sum())
    found = request.check(shares_after, traded=traded, impacts=impacts)
    worst = max(found.values())
    if not worst <= ACCEPT_VIOLATION:
        raise SolverFailure(f"the answer violates the limits by {worst:.2e} ({max(found, key=found.get)}); "
                            "refusing to return it", trail.solver_attempts)
    objective = cost + float(np.sum(request.linear_bps() / 1e4 * np.abs(traded) * price))  # all-in
    lower_bound = objective if lower_bound is None else min(lower_bound, objective)
    gap = proven_gap(objective, lower_bound)
    risk_before = risk_after = None
    if portfolio.has_risk_model:
        risk = portfolio.risk()
        net = portfolio.net_value_usd
        risk_before = risk.sigma(shares * price / net)
        risk_after = risk.sigma(shares_after * price / (net - raised))
    if bounds is None:
        from krg_liquidity.solve.bounds import trade_bounds

        bounds = trade_bounds(portfolio, request.cash, request.costs(), request.allow_buys)
    reached = limit_reached(u, bounds, shares, tol=1e-9 if method == "separable" else 1e-6)
    if request.limits.group_limits:
        reached = _with_group_words(reached, portfolio, traded, shares_after, request.limits)
    return LiquidationResult(
        status=proven_status(gap),
        cash_target=request.cash, cash_raised=raised, cost_usd=cost, cost_bps=cost / raised * 1e4,
        lower_bound_usd=lower_bound, gap=gap, risk_before=risk_before, risk_after=risk_after,
        marginal_cost_bps=marginal, max_violation=worst, violations=found,
        trades=with_extra_columns(trade_table(portfolio.holdings["symbol"], shares, shares_after, price, impacts,
                                              portfolio.net_value_usd, raised, reached, adv,
                                              portfolio.array("volatility"), traded=traded), portfolio),
        method=method, iterations=sum(s.iterations for s in trail.stages), attempts=trail.solver_attempts,
        seconds=trail.budget.elapsed, stages=trail.to_list(), request=request.record(trail.budget.limit), problem=request,
    )


def failed_result(request, error: LiquidationError, trail) -> LiquidationResult:
    """A failure as a result (``raise_on_failure=False``): the status and message, no trades."""
    portfolio = request.portfolio
    shares, price = portfolio.array("shares"), portfolio.array("price")
    impacts = impact_table(portfolio, np.zeros(len(shares)), request.cost_model)
    nan = float("nan")
    return LiquidationResult(
        status=error.status, cash_target=request.cash, cash_raised=nan, cost_usd=nan, cost_bps=nan,
        lower_bound_usd=nan, gap=nan, risk_before=None, risk_after=None, marginal_cost_bps=nan,
        max_violation=nan, violations={},
        trades=with_extra_columns(trade_table(portfolio.holdings["symbol"], shares, shares.copy(), price, impacts,
                                              portfolio.net_value_usd, 0.0, np.full(len(shares), ""),
                                              portfolio.array("adv"), portfolio.array("volatility")), portfolio),
        method="", attempts=trail.solver_attempts, seconds=trail.budget.elapsed, stages=trail.to_list(),
        message=str(error), request=request.record(trail.budget.limit), problem=request,
    )
