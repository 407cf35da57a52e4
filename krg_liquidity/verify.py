"""Independent check of a liquidation: every limit recomputed from the returned trades.

Impact is recomputed through the DataFrame path of :class:`CostModel` (not the
optimizer's formulation), weights and risk from the final shares. Each violation is
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
    """Per-name pov, trade time (days), impact (bps) and cost (USD) of the trades, via CostModel."""
    h = portfolio.holdings
    traded = np.abs(shares_traded) > 0
    out = pd.DataFrame({"pov": 0.0, "trade_time_days": 0.0, "mi_bps": 0.0, "cost_usd": 0.0}, index=h.index)
    if not traded.any():
        return out
    orders = pd.DataFrame({
        "symbol": h["symbol"][traded], "shares": np.abs(shares_traded[traded]), "adv": h["adv"][traded],
        "price": h["price"][traded], "volatility": h["volatility"][traded],
    })
    for name in ("pov", "trade_time"):
        if name in h:
            orders[name] = h[name][traded]
    out.loc[traded, "mi_bps"] = cost_model.market_impact(orders).to_numpy()
    out.loc[traded, "cost_usd"] = cost_model.market_impact_usd(orders).to_numpy()
    out.loc[traded, "trade_time_days"] = cost_model.trade_time(orders).to_numpy()
    size = orders["shares"].to_numpy() / orders["adv"].to_numpy()
    days = out.loc[traded, "trade_time_days"].to_numpy()
    out.loc[traded, "pov"] = size / (size + days)
    return out


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
