"""Build the Dow-28 market data files from cvxportfolio 0.4.10's test data.

Source: the PyPI wheel ``cvxportfolio==0.4.10`` (Apache-2.0), files
``cvxportfolio/tests/returns.csv`` (daily simple returns), ``volumes.csv``
(daily dollar volume) and ``sigmas.csv``, 28 Dow Jones stocks, calendar 2014.
Version 1.x of cvxportfolio is GPL and is not used.

Outputs (beside this script):

* ``dow28_market.csv``: symbol, price (USD), adv_usd (mean daily dollar volume),
  adv (shares/day), volatility (annualized, decimal).
* ``dow28_covariance.csv``: 28x28 annualized covariance of daily log returns.

Price convention: the source has no price levels, so each price is a total-return
index rebased to $100.00 on 2014-01-02 and compounded with the daily returns to
the last day (2014-12-31). Share counts (ADV in shares, holdings) follow from it;
dollar impact does not when the I-Star price exponent a5 is 0.

Volatility and covariance use the whole year (250 returns) and 250 trading days
per year. MATLAB's krg uses the last 30 days for volatility; a 28x28 covariance
needs more observations than that to be positive definite, and the cost model
and the risk model should agree on each name's volatility.

Usage: ``python data/build_dow28.py`` (needs pip and access to PyPI).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

WHEEL = "cvxportfolio-0.4.10-py3-none-any.whl"
WHEEL_SHA256 = "0f8eece1a608ff08bed16957d4306e6dc627dbd4559a332c13fac1adb8fce304"
TRADING_DAYS = 250
BASE_PRICE_USD = 100.0
HERE = Path(__file__).resolve().parent


def fetch_wheel(workdir: Path) -> Path:
    """Download the pinned wheel with pip and verify its SHA-256."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         "cvxportfolio==0.4.10", "-d", str(workdir)],
        check=True,
    )
    wheel = workdir / WHEEL
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{WHEEL}: sha256 {digest} != expected {WHEEL_SHA256}")
    return wheel


def read_source(wheel: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (daily simple returns, daily dollar volumes), 28 stocks."""
    with zipfile.ZipFile(wheel) as zf:
        returns = pd.read_csv(zf.open("cvxportfolio/tests/returns.csv"), index_col=0, parse_dates=True)
        volumes = pd.read_csv(zf.open("cvxportfolio/tests/volumes.csv"), index_col=0, parse_dates=True)
    returns = returns.drop(columns="cash")
    if list(returns.columns) != list(volumes.columns) or returns.shape[1] != 28:
        raise SystemExit("unexpected columns in the cvxportfolio test data")
    if returns.isna().any().any() or volumes.isna().any().any():
        raise SystemExit("missing values in the cvxportfolio test data")
    return returns, volumes


def derive(returns: pd.DataFrame, volumes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    log_returns = np.log1p(returns)
    covariance = log_returns.cov() * TRADING_DAYS
    price = BASE_PRICE_USD * (1.0 + returns).prod()
    adv_usd = volumes.mean()
    market = pd.DataFrame(
        {
            "price": price.round(4),
            "adv_usd": adv_usd.round(0),
            "adv": (adv_usd / price).round(0),
            "volatility": np.sqrt(np.diag(covariance)).round(6),
        }
    )
    market.index.name = "symbol"
    covariance.index.name = "symbol"
    return market, covariance


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        returns, volumes = read_source(fetch_wheel(Path(tmp)))
    market, covariance = derive(returns, volumes)
    market.to_csv(HERE / "dow28_market.csv")
    covariance.to_csv(HERE / "dow28_covariance.csv", float_format="%.10g")
    print(market.to_string())


if __name__ == "__main__":
    main()
