"""Independent checks of a LiquidationResult, written from the problem statement alone.

Nothing here calls the optimizer's own modules: impact comes from CostModel's array
formulas, limits from the raw holdings columns.
"""

import numpy as np
import pandas as pd

from krg_liquidity import CostModel

TOL = 1e-6


def book_columns(holdings: pd.DataFrame) -> pd.DataFrame:
    """Raw holdings with lower-case, underscore-free column keys (MATLAB or snake_case input)."""
    return holdings.rename(columns=lambda c: c.lower().replace("_", ""))


def recomputed_cost(holdings: pd.DataFrame, shares_after: np.ndarray, model: CostModel | None = None) -> np.ndarray:
    model = model or CostModel()
    h = book_columns(holdings)
    q = np.abs(shares_after - h["shares"].to_numpy(float))
    size = q / h["adv"].to_numpy(float)
    vol, price = h["volatility"].to_numpy(float), h["price"].to_numpy(float)
    pov = h["pov"].to_numpy(float) if "pov" in h else np.full(len(h), np.nan)
    days = h["tradetime"].to_numpy(float) if "tradetime" in h else np.full(len(h), np.nan)
    fixed = ~np.isnan(pov)
    mi = np.where(fixed, model.impact_bps_at_pov(size, vol, np.where(fixed, pov, 1.0), price),
                  model.impact_bps_at_trade_time(size, vol, np.where(fixed, 1.0, days), price))
    return mi / 1e4 * q * price, mi


def assert_feasible(holdings, result, cash, *, covariance=None, risk_band=None, max_total_mi_bps=None,
                    allow_buys=False, model=None):
    h = book_columns(holdings)
    trades = result.trades
    assert list(trades["symbol"]) == list(h["symbol"].astype(str))
    s = h["shares"].to_numpy(float)
    y = trades["shares_after"].to_numpy(float)
    p = h["price"].to_numpy(float)
    adv = h["adv"].to_numpy(float)
    # shares_traded is exact; shares_after = shares + traded carries the rounding of a large position
    np.testing.assert_allclose(trades["shares_traded"], y - s, rtol=1e-12, atol=1e-9 + 4e-16 * np.abs(s).max())
    raised = float(np.sum((s - y) * p))
    assert abs(raised - cash) <= TOL * cash, (raised, cash)
    assert abs(result.cash_raised - raised) <= 1e-9 * cash
    net = float(np.sum(s * p))
    post = net - raised
    slack = TOL * net
    if not allow_buys:
        assert np.all(np.abs(y) <= np.abs(s) + slack / p), "a position grew"
        assert np.all(y * s >= -slack * np.abs(s)), "a position flipped sign"
    def col(name):
        return h[name].to_numpy(float) if name in h else np.full(len(h), np.nan)
    weight = y * p / post
    for lo, hi, value, tol in (("lbwt", "ubwt", weight, TOL), ("lbminshares", "ubmaxshares", y * p, slack),
                               ("lbminvalue", "ubmaxvalue", y * p, slack)):
        scale = p if lo == "lbminshares" else 1.0
        low, high = col(lo) * scale, col(hi) * scale
        assert np.all(np.nan_to_num(value - low, nan=0.0) >= -tol), lo
        assert np.all(np.nan_to_num(high - value, nan=0.0) >= -tol), hi
    pct = col("ubmaxpctadv")
    assert np.all(np.nan_to_num(pct * adv - np.abs(y - s), nan=0.0) >= -TOL * adv)
    cost, mi = recomputed_cost(holdings, y, model)
    cap = col("ubmaxmibps")
    if "ubmaxmi" in h:
        cap = col("ubmaxmi") * 1e4
    assert np.all(np.nan_to_num(cap - mi, nan=0.0) >= -TOL * np.nan_to_num(cap, nan=1.0))
    assert abs(cost.sum() - result.cost_usd) <= 1e-9 * max(1.0, cost.sum())
    if max_total_mi_bps is not None:
        assert cost.sum() <= max_total_mi_bps / 1e4 * cash * (1 + TOL)
    if risk_band is not None:
        c = covariance.loc[h["symbol"], h["symbol"]].to_numpy(float)
        w = s * p / net
        before, after = np.sqrt(w @ c @ w), np.sqrt(weight @ c @ weight)
        # the band's shortfall and excess as fractions of today's risk (not of the band's ends)
        assert (risk_band[0] * before - after) / before <= TOL, "risk floor"
        assert (after - risk_band[1] * before) / before <= TOL, "risk ceiling"
        assert abs(result.risk_after - after) <= 1e-9
    total = getattr(result, "total_cost_usd", result.cost_usd)  # the bound is on the all-in cost
    assert not result.lower_bound_usd > total * (1 + 1e-12)  # NaN: nothing proven (then not "optimal")
    assert np.isfinite(result.lower_bound_usd) or result.status != "optimal"
    assert 0 <= result.gap <= 1 or (np.isnan(result.gap) and np.isnan(result.lower_bound_usd))
    return cost.sum()
