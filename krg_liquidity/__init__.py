"""krg_liquidity: constrained portfolio liquidation at least market impact.

Pipeline: holdings + market data + risk model -> I-Star cost model -> liquidation
problem -> result -> trading schedule.
"""

from krg_liquidity.batch.run import BatchInterrupted, BatchResult, read_requests, run_batch, solve_book
from krg_liquidity.book.columns import column_table
from krg_liquidity.book.datasets import load_example, synthetic_universe
from krg_liquidity.book.holdings import fill_strategy
from krg_liquidity.book.matrices import read_covariance
from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.book.read import read_table
from krg_liquidity.book.risk import FactorModel
from krg_liquidity.core.errors import (
    BookError,
    InconsistentInputError,
    InfeasibleLiquidation,
    InfeasibleSchedule,
    InputError,
    InputFileError,
    InvalidValueError,
    LiquidationError,
    MissingColumnError,
    NoFeasiblePointFound,
    ParameterLookupError,
    SolverFailure,
    SolverTimeout,
    UnitsWarning,
)
from krg_liquidity.core.status import STATUSES
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.params import (
    KISSELL_2013_ALL_DATA,
    IStarParams,
    load_parameters,
    read_parameter_table,
    select_parameters,
)
from krg_liquidity.model.portfolio_curves import portfolio_cost_curves
from krg_liquidity.model.profiles import load_volume_profile
from krg_liquidity.posttrade import (
    Calibration,
    CalibrationWarning,
    Fills,
    PostTradeResult,
    calibrate,
    post_trade,
    read_fills,
    synthetic_fills,
    write_post_trade,
)
from krg_liquidity.report.write import write_result, write_table
from krg_liquidity.schedule.basket import BasketView, basket_view
from krg_liquidity.schedule.dynamic import DynamicSchedule, IStarImpact, LinearImpact, dynamic_schedule
from krg_liquidity.schedule.optimal import (
    ScheduleSolution,
    optimize_basket_schedule,
    optimize_schedule,
    schedule_frontier,
)
from krg_liquidity.schedule.pov_vwap import pov_schedule, schedule_grid, schedule_impact, vwap_schedule
from krg_liquidity.schedule.replan import replan
from krg_liquidity.schedule.simulate import Simulation, simulate
from krg_liquidity.schedule.strategy import almgren_chriss, almgren_chriss_frontier, optimize_strategy
from krg_liquidity.solve.capacity import max_cash
from krg_liquidity.solve.optimize import liquidate
from krg_liquidity.solve.result import LiquidationResult
from krg_liquidity.solve.rounding import round_trades
from krg_liquidity.solve.tradable import most_tradable, tradable_cash
from krg_liquidity.whatif.frontier import frontier
from krg_liquidity.whatif.liquidity import liquidity_profile
from krg_liquidity.whatif.rules import compare, pro_rata, waterfall
from krg_liquidity.whatif.scenarios import Scenario, by_column
from krg_liquidity.whatif.sensitivity import sensitivity
from krg_liquidity.whatif.stress import date_range_stress, stress_test

__version__ = "0.1.0"

_LAZY = {"plot_cost_vs_size": "posttrade.plots", "plot_z_histogram": "posttrade.plots",
         "plot_estimate_vs_actual": "posttrade.plots", "plot_almgren_chriss_frontier": "report.plots", "plot_basket": "report.plots",
         "plot_completion": "report.plots", "plot_frontier": "report.plots", "plot_schedule_frontier": "report.plots",
         "plot_stress": "report.stress_plots",
         "plot_shortfall_histogram": "report.simulation_plots", "plot_cash_fan": "report.simulation_plots", "plot_liquidity_buckets": "report.stress_plots"}


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
    "most_tradable",
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
    "Simulation",
    "simulate",
    "DynamicSchedule",
    "IStarImpact",
    "LinearImpact",
    "dynamic_schedule",
    "replan",
    "plot_shortfall_histogram",
    "plot_cash_fan",
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
