"""The answer of a liquidation: totals, the per-name trade table, and how it was found."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

TRADE_COLUMNS = ("symbol", "shares_before", "shares_traded", "shares_after", "value_traded_usd", "pov",
                 "trade_time_days", "mi_bps", "cost_usd", "weight_before", "weight_after", "binding", "price", "adv",
                 "volatility")
JSON_TRADE_COLUMNS = ("symbol", "shares_before", "shares_traded", "shares_after", "value_traded_usd", "pov",
                      "trade_time_days", "mi_bps", "cost_usd", "weight_after", "price", "adv", "volatility")


@dataclass
class LiquidationResult:
    """A solved liquidation.

    ``status``: "optimal" (global optimum, gap <= 1e-6) or "feasible" (every limit holds;
    the risk floor leaves a gap, reported). Money in USD, costs in bps of cash raised,
    risks annualized (decimal). ``trades``: one row per symbol; ``shares_traded`` and
    ``value_traded_usd`` are signed (negative = sell). ``binding`` names the limit at which
    a name's trade stops. ``max_violation`` is recomputed from the trades (see ``violations``).
    ``marginal_cost_bps``: cost of the next dollar raised (the cash constraint's multiplier).
    The trade table also carries price, adv and volatility, so it feeds ``pov_schedule`` as is.
    ``method``: "separable", "ceiling", "conic" or "conic+convex-concave" (see ``optimize``).
    ``assumptions``: the I-Star parameter set (code, date, source, values), the risk model and
    the units the numbers are in, plus any units warnings (see ``assumptions.describe``).
    ``rounding``: empty for the exact answer; after ``rounding.round_trades`` the lot size, the
    rule and the exact cash and cost before rounding (``cash_raised`` is then what the whole-share
    trades raise).
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
    assumptions: dict = field(default_factory=dict)
    rounding: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.status in ("optimal", "feasible")

    def to_dict(self) -> dict:
        """Plain types only, ready for JSON."""
        trades = self.trades.loc[:, list(JSON_TRADE_COLUMNS)]
        return {
            "status": self.status,
            "cash_target": self.cash_target,
            "cash_raised": self.cash_raised,
            "cost_usd": self.cost_usd,
            "cost_bps": self.cost_bps,
            "lower_bound_usd": self.lower_bound_usd,
            "gap": self.gap,
            "risk_before": self.risk_before,
            "risk_after": self.risk_after,
            "marginal_cost_bps": self.marginal_cost_bps,
            "max_violation": self.max_violation,
            "method": self.method,
            "iterations": self.iterations,
            "seconds": self.seconds,
            "attempts": self.attempts,
            "assumptions": self.assumptions,
            "rounding": self.rounding,
            "trades": json.loads(trades.to_json(orient="records", double_precision=15)),
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def _lines(self) -> list[tuple[str, str]]:
        sold = int((self.trades["shares_traded"] != 0).sum())
        rows = [
            ("status", self.status),
            ("cash target", f"${self.cash_target:,.0f}"),
            ("cash raised", f"${self.cash_raised:,.0f}"),
            ("impact cost", f"${self.cost_usd:,.0f} ({self.cost_bps:.2f} bps)"),
            ("lower bound", f"${self.lower_bound_usd:,.0f} (gap {self.gap:.2e})"),
            ("marginal cost", f"{self.marginal_cost_bps:.2f} bps per next dollar"),
        ]
        if self.risk_before is not None:
            rows.append(("risk", f"{self.risk_before:.2%} -> {self.risk_after:.2%} "
                                 f"({self.risk_after / self.risk_before:.3f}x)"))
        rows += [
            ("names traded", f"{sold} of {len(self.trades)}"),
            ("max violation", f"{self.max_violation:.1e} (recomputed from the trades)"),
            ("method", f"{self.method}, {self.iterations} iteration(s), {self.seconds * 1e3:.1f} ms"),
        ]
        if self.rounding:
            exact_cash, exact_cost = self.rounding["cash_raised_exact"], self.rounding["cost_usd_exact"]
            rows.append(("rounding", f"whole lots of {self.rounding['lot_size']:g} shares; exact answer raised "
                                     f"${exact_cash:,.0f} at ${exact_cost:,.0f}"))
        from .assumptions import summary_lines

        return rows + summary_lines(self.assumptions)

    def summary(self) -> str:
        """A few lines a PM can read."""
        width = max(len(k) for k, _ in self._lines())
        return "\n".join(f"{k:<{width}}  {v}" for k, v in self._lines())

    def __repr__(self) -> str:
        return (f"LiquidationResult(status={self.status!r}, cash_raised={self.cash_raised:,.0f}, "
                f"cost_usd={self.cost_usd:,.0f}, cost_bps={self.cost_bps:.3f}, gap={self.gap:.2e})")

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in self._lines())
        traded = self.trades[self.trades["shares_traded"] != 0]
        return f"<table>{rows}</table>" + traded.to_html(index=False, float_format=lambda v: f"{v:,.4g}")


def trade_table(symbols, shares_before, shares_after, price, impacts: pd.DataFrame, net_value: float,
                cash_raised: float, binding, adv, volatility) -> pd.DataFrame:
    """One row per name; price, adv and volatility ride along so that schedules can use the table as is."""
    traded = shares_after - shares_before
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
        "binding": binding,
        "price": price,
        "adv": adv,
        "volatility": volatility,
    })


def binding_labels(u: np.ndarray, lo: np.ndarray, hi: np.ndarray, lo_group, hi_group, tol: float = 1e-9) -> np.ndarray:
    """Which limit stops each name's trade ('' for none)."""
    span = np.maximum(1.0, np.abs(u))
    at_hi = np.isfinite(hi) & (np.abs(u - hi) <= tol * span)
    at_lo = np.isfinite(lo) & (np.abs(u - lo) <= tol * span) & ~at_hi
    return np.where(at_hi, hi_group, np.where(at_lo, lo_group, ""))
