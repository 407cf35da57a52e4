import numpy as np
import pandas as pd

from krg_liquidity import CostModel, load_example, synthetic_universe
from krg_liquidity.book.datasets import load_dow28_market


def test_example_book_consistent():
    holdings, covariance = load_example()
    assert len(holdings) == 28
    assert list(covariance.index) == list(holdings["Symbol"]) == list(covariance.columns)
    np.testing.assert_allclose(holdings["Value"], holdings["Shares"] * holdings["Price"], rtol=1e-8)
    assert abs(holdings["Value"].sum() - 1e10) < 1e4
    np.testing.assert_allclose(np.sqrt(np.diag(covariance)), holdings["Volatility"], atol=1e-6)
    assert np.linalg.eigvalsh(covariance.to_numpy()).min() > 0
    assert (holdings["LB_Wt"] <= holdings["UB_Wt"]).all()


def test_dow28_ranges_plausible():
    market = load_dow28_market()
    assert len(market) == 28
    assert market["volatility"].between(0.05, 0.6).all()
    assert market["adv_usd"].between(1e8, 1e10).all()
    np.testing.assert_allclose(market["adv"] * market["price"], market["adv_usd"], rtol=1e-6)


def test_synthetic_universe_seeded_and_matches_volatility():
    h1, m1 = synthetic_universe(200, seed=3)
    h2, _ = synthetic_universe(200, seed=3)
    pd.testing.assert_frame_equal(h1, h2)
    np.testing.assert_allclose(m1.volatility().to_numpy(), h1["volatility"].to_numpy(), rtol=1e-10)
    assert h1["volatility"].between(0.12, 0.22).all()
    assert (h1["adv"] * h1["price"]).between(1.8e8, 5.6e9).all()
    assert np.isfinite(CostModel().timing_risk(h1.assign(shares=h1.shares.abs()))).all()


def test_synthetic_shorts():
    holdings, _ = synthetic_universe(500, seed=1, short_fraction=0.3)
    assert 0.2 < (holdings["shares"] < 0).mean() < 0.4
