"""krg_liquidity: constrained portfolio liquidation at least market impact.

Pipeline: holdings + market data + risk model -> I-Star cost model -> liquidation
problem -> result -> trading schedule.
"""

from .datasets import load_example, synthetic_universe
from .errors import (
    InconsistentInputError,
    InfeasibleLiquidation,
    InfeasibleSchedule,
    InputError,
    InvalidValueError,
    LiquidationError,
    MissingColumnError,
    NoFeasiblePointFound,
    ParameterLookupError,
    SolverFailure,
    SolverTimeout,
    BookError,
    InputFileError,
    UnitsWarning,
)
from .impact import CostModel
from .params import KISSELL_2013_ALL_DATA, IStarParams, load_parameters, read_parameter_table, select_parameters
from .risk import FactorModel
from .portfolio import Portfolio
from .optimize import liquidate
from .capacity import max_cash
from .result import LiquidationResult
from .frontier import frontier
from .profiles import load_volume_profile
from .schedule import pov_schedule, schedule_grid, schedule_impact, vwap_schedule
from .basket import BasketView, basket_view
from .batch import BatchInterrupted, BatchResult, read_requests, run_batch, solve_book
from .book import fill_strategy
from .columns import column_table
from .io import read_covariance, read_table
from .io.write import write_result, write_table
from .rounding import round_trades
from .tradable import tradable_cash
from .status import STATUSES
from .strategy import almgren_chriss, almgren_chriss_frontier, optimize_strategy
from .optimal_schedule import ScheduleSolution, optimize_basket_schedule, optimize_schedule, schedule_frontier
from .rules import compare, pro_rata, waterfall
from .scenarios import Scenario, by_column
from .stress import date_range_stress, stress_test
from .sensitivity import sensitivity
from .liquidity import liquidity_profile
from .portfolio_curves import portfolio_cost_curves
from .posttrade import (Calibration, CalibrationWarning, Fills, PostTradeResult, calibrate, post_trade, read_fills,
                        synthetic_fills, write_post_trade)

__version__ = "0.1.0"

_LAZY = {"plot_cost_vs_size": "posttrade.plots", "plot_z_histogram": "posttrade.plots",
         "plot_estimate_vs_actual": "posttrade.plots", "plot_almgren_chriss_frontier": "plots", "plot_basket": "plots", "plot_completion": "plots",
         "plot_frontier": "plots", "plot_schedule_frontier": "plots", "plot_stress": "stress_plots",
         "plot_liquidity_buckets": "stress_plots"}


def __getattr__(name: str):
    """Figures import matplotlib only when first asked for (``import krg_liquidity`` stays fast)."""
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "portfolio_cost_curves",
    "plot_cost_vs_size",
    "plot_z_histogram",
    "plot_estimate_vs_actual",
    "Calibration",
    "CalibrationWarning",
    "calibrate",
    "write_post_trade",
    "Fills",
    "PostTradeResult",
    "post_trade",
    "read_fills",
    "synthetic_fills",
    "Scenario",
    "by_column",
    "compare",
    "date_range_stress",
    "liquidity_profile",
    "plot_liquidity_buckets",
    "plot_stress",
    "pro_rata",
    "sensitivity",
    "stress_test",
    "waterfall",
    "BatchInterrupted",
    "BookError",
    "InputFileError",
    "STATUSES",
    "UnitsWarning",
    "column_table",
    "fill_strategy",
    "read_covariance",
    "read_table",
    "round_trades",
    "tradable_cash",
    "write_result",
    "write_table",
    "BatchResult",
    "read_requests",
    "run_batch",
    "solve_book",
    "BasketView",
    "ScheduleSolution",
    "optimize_basket_schedule",
    "optimize_schedule",
    "plot_schedule_frontier",
    "schedule_frontier",
    "almgren_chriss",
    "almgren_chriss_frontier",
    "basket_view",
    "load_volume_profile",
    "optimize_strategy",
    "plot_almgren_chriss_frontier",
    "plot_basket",
    "plot_completion",
    "pov_schedule",
    "schedule_grid",
    "schedule_impact",
    "vwap_schedule",
    "CostModel",
    "FactorModel",
    "IStarParams",
    "InconsistentInputError",
    "InfeasibleLiquidation",
    "InfeasibleSchedule",
    "InputError",
    "InvalidValueError",
    "KISSELL_2013_ALL_DATA",
    "LiquidationError",
    "LiquidationResult",
    "MissingColumnError",
    "ParameterLookupError",
    "Portfolio",
    "SolverFailure",
    "SolverTimeout",
    "NoFeasiblePointFound",
    "frontier",
    "liquidate",
    "load_example",
    "load_parameters",
    "max_cash",
    "plot_frontier",
    "read_parameter_table",
    "select_parameters",
    "synthetic_universe",
]
