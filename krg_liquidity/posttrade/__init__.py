"""Post-trade: read parent-order fills, measure each execution's shortfall against its I-Star estimate,
and calibrate the I-Star parameters to the desk's own fills."""

from .fills import Fills, read_fills
from .shortfall import PostTradeResult, post_trade
from .synthetic import synthetic_fills

__all__ = ["Fills", "PostTradeResult", "post_trade", "read_fills", "synthetic_fills"]
