"""Basket cost curves: one name is the per-stock curve, and a common trade time gives sqrt(v'Cv T/3/D)."""

import numpy as np
import pandas as pd
import pytest

import krg_liquidity as krg
from krg_liquidity.core.errors import InvalidValueError

TRADES = pd.DataFrame({"symbol": ["A", "B", "C"], "shares": [-50_000, 20_000, -30_000], "price": [40.0, 25.0, 80.0],
                       "adv": [1e6, 4e5, 2e6], "volatility": [0.25, 0.35, 0.20]})


def test_one_name_is_the_per_stock_curve():
    one = TRADES.iloc[[0]]
    curve = krg.portfolio_cost_curves(one, pov=[0.05, 0.2])
    model = krg.CostModel()
    trades = pd.DataFrame({"size": [0.05, 0.05], "volatility": [0.25, 0.25], "pov": [0.05, 0.2]})
    assert curve["cost_bps"].tolist() == pytest.approx(model.market_impact(trades).tolist())
    assert curve["timing_risk_bps"].tolist() == pytest.approx(model.timing_risk(trades).tolist())
    assert curve["cost_usd"].iloc[0] == pytest.approx(curve["cost_bps"].iloc[0] / 1e4 * 2e6)


def test_common_trade_time_gives_the_correlated_basket_risk():
    vols = TRADES["volatility"].to_numpy()
    corr = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, 0.5], [0.3, 0.5, 1.0]])
    cov = pd.DataFrame(corr * np.outer(vols, vols), index=list("ABC"), columns=list("ABC"))
    curve = krg.portfolio_cost_curves(TRADES, cov, trade_time=[0.5, 2.0])
    value = (TRADES["shares"] * TRADES["price"]).to_numpy()
    for row in curve.itertuples():
        expected = np.sqrt(value @ cov.to_numpy() @ value * row.trade_time_days / 3 / 250)
        assert row.timing_risk_usd == pytest.approx(expected)
    uncorrelated = krg.portfolio_cost_curves(TRADES, trade_time=[0.5, 2.0])
    # the buy of B hedges the sales of A and C only when they are correlated
    assert not np.allclose(curve["timing_risk_usd"], uncorrelated["timing_risk_usd"])
    assert curve["cost_usd"].tolist() == pytest.approx(uncorrelated["cost_usd"].tolist())


def test_risk_falls_and_cost_rises_with_pov():
    curve = krg.portfolio_cost_curves(TRADES)
    assert curve["cost_usd"].is_monotonic_increasing and curve["timing_risk_usd"].is_monotonic_decreasing


def test_bad_grids_and_missing_covariance_rows_are_named():
    with pytest.raises(InvalidValueError, match="pov"):
        krg.portfolio_cost_curves(TRADES, pov=[0.0, 0.1])
    cov = pd.DataFrame(np.eye(2) * 0.04, index=["A", "B"], columns=["A", "B"])
    with pytest.raises(InvalidValueError, match="C"):
        krg.portfolio_cost_curves(TRADES, cov)
