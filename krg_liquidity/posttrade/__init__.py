"""Post-trade: read parent-order fills, measure each execution's shortfall against its I-Star estimate,
and calibrate the I-Star parameters to the desk's own fills."""

from .calibration import Calibration, CalibrationWarning, calibrate
from .fills import Fills, read_fills
from .report import write_post_trade
from .shortfall import PostTradeResult, post_trade
from .synthetic import synthetic_fills

__all__ = ["Calibration", "CalibrationWarning", "Fills", "PostTradeResult", "calibrate", "post_trade", "read_fills",
           "synthetic_fills", "write_post_trade"]
