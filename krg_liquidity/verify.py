"""Independent check of a liquidation: every limit recomputed from the returned trades.

Impact is recomputed with :class:`CostModel`'s I-Star formulas (not the optimizer's
cost functions or cones), weights and risk from the final shares. Each violation is
dimensionless: cash and costs relative to their targets, weights in weight units, share
and value bounds as dollars / net book value, participation in fractions of ADV, risk
relative to today's risk.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .impact import CostModel
from .portfolio import Portfolio


def impact_table(portfolio: Portfolio, shares_traded: np.ndarray, cost_model: CostModel) -> pd.DataFrame:
    """Per-name pov, trade time (days), impact (bps) and cost (USD) of the trades, from CostModel's formulas."""
    h = portfolio.holdings
    n = len(h)
    pov = portfolio.array("pov") if "pov" in h else np.full(n, np.nan)
    days = portfolio.array("trade_time") if "trade_time" in h else np.full(n, np.nan)
    fixed = ~np.isnan(pov)
    quantity = np.abs(shares_traded)
    size = quantity / portfolio.array("adv")
    vol, price = portfolio.array("volatility"), portfolio.array("price")
    mi = np.where(fixed, cost_model.impact_bps_at_pov(size, vol, np.where(fixed, pov, 1.0), price),
                  cost_model.impact_bps_at_trade_time(size, vol, np.where(fixed, 1.0, days), price))
    traded = quantity > 0
    trade_time = np.where(fixed, size * (1.0 - np.where(fixed, pov, 1.0)) / np.where(fixed, pov, 1.0), days)
    return pd.DataFrame({
        "pov": np.where(traded, np.where(fixed, pov, size / (size + np.where(fixed, 1.0, days))), 0.0),
        "trade_time_days": np.where(traded, trade_time, 0.0),
        "mi_bps": np.where(traded, mi, 0.0),
        "cost_usd": np.where(traded, cost_model.bps_to_usd(mi, quantity, price), 0.0),
    }, index=h.index)


def violations(portfolio: Portfolio, shares_after: np.ndarray, cash: float, *, allow_buys: bool,
               risk_band: tuple[float, float] | None, max_total_mi_bps: float | None,
               cost_model: CostModel, impacts: pd.DataFrame | None = None) -> dict[str, float]:
    """Largest violation of each limit group (0 when it holds)."""
    h = portfolio.holdings
    shares, price, adv = portfolio.array("shares"), portfolio.array("price"), portfolio.array("adv")
    traded = shares_after - shares
    if impacts is None:
        impacts = impact_table(portfolio, traded, cost_model)
    net = portfolio.net_value_usd
    raised = float(-(traded * price).sum())
    post = net - raised
    final_value = shares_after * price
    out: dict[str, float] = {"cash": abs(raised - cash) / cash}

    def worst(excess: np.ndarray) -> float:
        excess = np.nan_to_num(excess, nan=0.0)
        return float(max(0.0, excess.max(initial=0.0)))

    def column(name):
        return h[name].to_numpy(float) if name in h else np.full(len(h), np.nan)

    if not allow_buys:
        flipped = np.where(shares >= 0, -shares_after, shares_after)  # > 0: crossed zero
        grew = np.abs(shares_after) - np.abs(shares)
        out["direction"] = worst(np.maximum(flipped, grew) * price / net)
    weight = final_value / post
    out["weight"] = max(worst(column("lb_wt") - weight), worst(weight - column("ub_wt")))
    out["final_shares"] = max(worst((column("lb_min_shares") - shares_after) * price / net),
                              worst((shares_after - column("ub_max_shares")) * price / net))
    out["final_value"] = max(worst((column("lb_min_value") - final_value) / net),
                             worst((final_value - column("ub_max_value")) / net))
    out["participation"] = worst(np.abs(traded) / adv - column("ub_max_pct_adv"))
    cap = column("ub_max_mi_bps")
    out["impact_cap"] = worst((impacts["mi_bps"].to_numpy() - cap) / cap)
    if max_total_mi_bps is not None:
        total_bps = impacts["cost_usd"].sum() / cash * 1e4
        out["total_impact_cap"] = max(0.0, (total_bps - max_total_mi_bps) / max_total_mi_bps)
    if risk_band is not None:
        risk = portfolio.risk()
        before = risk.sigma(portfolio.position_usd / net)
        after = risk.sigma(final_value / post)
        out["risk_band"] = max(0.0, (risk_band[0] * before - after) / before, (after - risk_band[1] * before) / before)
    return out
