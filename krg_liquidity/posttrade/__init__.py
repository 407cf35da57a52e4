"""Post-trade: read parent-order fills, measure each execution's shortfall against its I-Star estimate,
and calibrate the I-Star parameters to the desk's own fills."""

from krg_liquidity.posttrade.calibration import Calibration, CalibrationWarning, calibrate
from krg_liquidity.posttrade.fills import Fills, read_fills
from krg_liquidity.posttrade.report import write_post_trade
from krg_liquidity.posttrade.shortfall import PostTradeResult, post_trade
from krg_liquidity.posttrade.synthetic import synthetic_fills

__all__ = ["Calibration", "CalibrationWarning", "Fills", "PostTradeResult", "calibrate", "post_trade", "read_fills",
           "synthetic_fills", "write_post_trade"]
