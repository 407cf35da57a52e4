"""krg_liquidity: constrained portfolio liquidation at least market impact.

Pipeline: holdings + market data + risk model -> I-Star cost model -> liquidation
problem -> result -> trading schedule.
"""

from krg_liquidity.batch.run import BatchInterrupted, BatchResult, read_requests, run_batch, solve_book
from krg_liquidity.book.columns import column_table
from krg_liquidity.book.datasets import load_example, synthetic_universe
from krg_liquidity.book.holdings import fill_strategy
from krg_liquidity.book.lots import read_lots
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
from krg_liquidity.core.plan import SolverOptions
from krg_liquidity.core.status import STATUSES, Status
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.linear_costs import linear_cost_bps
from krg_liquidity.model.params import (
    KISSELL_2013_ALL_DATA,
    IStarParams,
    load_parameters,
    read_parameter_table,
    select_parameters,
)
from krg_liquidity.model.portfolio_curves import portfolio_cost_curves
from krg_liquidity.model.profiles import load_volume_profile
from krg_liquidity.model.tax import TaxRates
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
from krg_liquidity.solve.limits import Limits
from krg_liquidity.solve.optimize import liquidate
from krg_liquidity.solve.result import LiquidationResult
from krg_liquidity.solve.rounding import round_trades
from krg_liquidity.solve.tradable import most_tradable, tradable_cash
from krg_liquidity.whatif.after_tax import compare_after_tax
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
         "plot_stress": "report.stress_plots", "plot_liquidity_buckets": "report.stress_plots",
         "plot_shortfall_histogram": "report.simulation_plots", "plot_cash_fan": "report.simulation_plots"}


def __getattr__(name: str):
    """Figures import matplotlib only when first asked for (``import krg_liquidity`` stays fast)."""
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    # book: holdings, reading, columns, risk models, bundled data
    "Portfolio",
    "FactorModel",
    "read_table",
    "read_covariance",
    "column_table",
    "fill_strategy",
    "read_lots",
    "load_example",
    "synthetic_universe",

    # model: I-Star parameters, market impact, cost curves, volume profiles
    "CostModel",
    "IStarParams",
    "KISSELL_2013_ALL_DATA",
    "load_parameters",
    "read_parameter_table",
    "select_parameters",
    "portfolio_cost_curves",
    "load_volume_profile",
    "linear_cost_bps",
    "TaxRates",

    # solve: the limits, liquidation, capacity, rounding, the result
    "Limits",
    "liquidate",
    "max_cash",
    "tradable_cash",
    "most_tradable",
    "round_trades",
    "LiquidationResult",

    # schedule: POV / VWAP, Almgren-Chriss, optimal schedules
    "pov_schedule",
    "vwap_schedule",
    "schedule_grid",
    "schedule_impact",
    "basket_view",
    "BasketView",
    "almgren_chriss",
    "almgren_chriss_frontier",
    "optimize_strategy",
    "optimize_schedule",
    "optimize_basket_schedule",
    "schedule_frontier",
    "ScheduleSolution",
    "simulate",
    "Simulation",
    "replan",
    "dynamic_schedule",
    "DynamicSchedule",
    "IStarImpact",
    "LinearImpact",

    # whatif: rules, scenarios, stress, sensitivity, liquidity, frontier
    "frontier",
    "compare",
    "compare_after_tax",
    "pro_rata",
    "waterfall",
    "Scenario",
    "by_column",
    "stress_test",
    "date_range_stress",
    "sensitivity",
    "liquidity_profile",

    # report: writing answers, figures (figures load matplotlib lazily)
    "write_result",
    "write_table",
    "plot_frontier",
    "plot_completion",
    "plot_basket",
    "plot_schedule_frontier",
    "plot_almgren_chriss_frontier",
    "plot_stress",
    "plot_liquidity_buckets",
    "plot_shortfall_histogram",
    "plot_cash_fan",

    # posttrade: fills, implementation shortfall, I-Star calibration (figures load lazily)
    "Fills",
    "read_fills",
    "synthetic_fills",
    "post_trade",
    "PostTradeResult",
    "write_post_trade",
    "calibrate",
    "Calibration",
    "CalibrationWarning",
    "plot_cost_vs_size",
    "plot_z_histogram",
    "plot_estimate_vs_actual",

    # batch: many books in one run
    "run_batch",
    "read_requests",
    "solve_book",
    "BatchResult",
    "BatchInterrupted",

    # core: statuses, solver options and errors
    "STATUSES",
    "Status",
    "SolverOptions",
    "LiquidationError",
    "InputError",
    "MissingColumnError",
    "InvalidValueError",
    "InconsistentInputError",
    "InputFileError",
    "BookError",
    "ParameterLookupError",
    "InfeasibleLiquidation",
    "NoFeasiblePointFound",
    "SolverTimeout",
    "SolverFailure",
    "InfeasibleSchedule",
    "UnitsWarning",
]
