import pandas as pd
import pytest

from krg_liquidity import CostModel


@pytest.fixture
def model() -> CostModel:
    return CostModel()


@pytest.fixture
def mathworks_tr() -> pd.DataFrame:
    """MathWorks' published timing-risk test vectors (KRG_REFERENCE.md)."""
    return pd.DataFrame({
        "Symbol": ["IBM", "MSFT", "AAPL", "HSNI", "GE"],
        "Shares": [41742, 1380889, 4588737, 49455, 5626336],
        "Size": [0.01, 0.05, 0.10, 0.15, 0.20],
        "Price": [162.72, 48.19, 115.5, 72.58, 26.371],
        "ADV": [4174150, 27617780, 45887370, 329700, 28131680],
        "Volatility": [0.196456, 0.195524, 0.219272, 0.23793, 0.150651],
        "POV": [0.10, 0.20, 0.05, 0.15, 0.30],
        "TR": [21.5207, 31.9289, 110.3645, 80.0992, 37.5790],
    })
