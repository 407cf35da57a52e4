"""Bundled data (the Dow-28 example book) and a seeded synthetic universe generator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from krg_liquidity.book.risk import FactorModel

_PACKAGE = Path(__file__).resolve().parent.parent
_PACKAGED = _PACKAGE / "_data"
_SOURCE_TREE = _PACKAGE.parent / "data"


def data_path(name: str) -> Path:
    """Path of a bundled data file (inside an installed wheel, or ``data/`` of a checkout)."""
    for folder in (_PACKAGED, _SOURCE_TREE):
        if (folder / name).exists():
            return folder / name
    raise FileNotFoundError(f"bundled data file {name!r} not found in {_PACKAGED} or {_SOURCE_TREE}")


def load_covariance(path: str | Path, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a square covariance matrix (annualized, decimal returns) from CSV, .xlsx or Parquet:
    first column the symbol, header the symbols."""
    from krg_liquidity.book.matrices import read_covariance

    return read_covariance(path, sheet)


def load_example() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The example book over the 28 Dow stocks of 2014 and its annualized covariance.

    Returns
    -------
    holdings : pandas.DataFrame
        One row per name, MATLAB TradeDataPortOpt column names (shares, price in USD, ADV in
        shares/day, ...).
    covariance : pandas.DataFrame
        Annualized covariance of returns (decimal), by symbol.

    Examples
    --------
    >>> holdings, covariance = load_example()
    >>> len(holdings), covariance.shape
    (28, (28, 28))
    """
    holdings = pd.read_csv(data_path("example_portfolio.csv"))
    return holdings, load_covariance(data_path("example_covariance.csv"))


def load_dow28_market() -> pd.DataFrame:
    """Per-name price, ADV (dollars and shares) and volatility of the Dow-28 (2014), by symbol."""
    return pd.read_csv(data_path("dow28_market.csv"), index_col="symbol")


def synthetic_universe(n: int, n_factors: int = 5, seed: int = 0, short_fraction: float = 0.0,
                       trade_time_days: float = 1.0) -> tuple[pd.DataFrame, FactorModel]:
    """A SYNTHETIC book of ``n`` names with a ``n_factors``-factor risk model (for tests, benchmarks).

    Dollar ADV is log-uniform and volatility uniform over the Dow-28 (2014) ranges
    ($190M..$5.5B a day, 12%..22% a year); prices uniform in $20..$200; each position is
    5%..50% of its name's ADV. Not market data: the numbers are drawn, not observed.

    Parameters
    ----------
    n : int
        Names in the book (>= 1).
    n_factors : int
        Factors of the risk model (>= 1).
    seed : int
        Seed of the random draws (the same seed gives the same book).
    short_fraction : float
        Fraction of the positions that are short (0 to 1).
    trade_time_days : float
        Every name's trade time (days).

    Returns
    -------
    holdings : pandas.DataFrame
        Columns symbol, shares, price (USD), adv (shares/day), volatility (annualized decimal),
        trade_time (days).
    factor_model : FactorModel
        The annualized factor risk model of the names.

    Raises
    ------
    ValueError
        ``n`` or ``n_factors`` is below 1.

    Examples
    --------
    >>> holdings, model = synthetic_universe(10, seed=1)
    >>> holdings.shape[0], model.exposures.shape
    (10, (10, 5))
    """
    if n < 1 or n_factors < 1:
        raise ValueError("n and n_factors must be >= 1")
    rng = np.random.default_rng(seed)
    symbols = [f"S{i:04d}" for i in range(n)]
    adv_usd = np.exp(rng.uniform(np.log(1.9e8), np.log(5.5e9), n))
    volatility = rng.uniform(0.12, 0.22, n)
    price = rng.uniform(20.0, 200.0, n)
    factor_vol = np.concatenate([[0.15], np.full(n_factors - 1, 0.06)])
    factor_cov = np.diag(factor_vol**2)
    exposures = rng.normal(0.0, 1.0, (n, n_factors))
    exposures[:, 0] = rng.uniform(0.6, 1.4, n)
    specific_share = rng.uniform(0.3, 0.7, n)
    systematic = np.einsum("ij,jk,ik->i", exposures, factor_cov, exposures)
    exposures *= np.sqrt((1.0 - specific_share) * volatility**2 / systematic)[:, None]
    specific_variance = specific_share * volatility**2
    sign = np.where(rng.uniform(size=n) < short_fraction, -1.0, 1.0)
    position_usd = rng.uniform(0.05, 0.5, n) * adv_usd
    holdings = pd.DataFrame({
        "symbol": symbols,
        "shares": np.round(sign * position_usd / price),
        "price": price,
        "adv": np.round(adv_usd / price),
        "volatility": volatility,
        "trade_time": trade_time_days,
    })
    factors = [f"F{j}" for j in range(n_factors)]
    model = FactorModel(
        pd.DataFrame(exposures, index=symbols, columns=factors),
        pd.DataFrame(factor_cov, index=factors, columns=factors),
        pd.Series(specific_variance, index=symbols),
    )
    return holdings, model
