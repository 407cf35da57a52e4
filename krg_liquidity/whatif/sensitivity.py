"""Sensitivity of the liquidation cost to ADV, volatility and each I-Star parameter (base, adjusted, difference).

As MATLAB's "Conduct Sensitivity Analysis" example, every factor is moved by ``bump`` (a relative
change, default +10%) and the costs are reported under the base and the adjusted conditions:

- per name, the base trades priced under the adjusted conditions (``by_name``): the cost is a
  sum over names, so moving a factor for the whole book moves each name's cost exactly as moving
  it for that name alone would;
- for the book (``total``), the same fixed trades and the liquidation re-solved under the
  adjusted conditions (warm-started from the base answer). By the envelope theorem the fixed-trades
  change is the first-order change of the optimal cost whenever no limit that depends on the
  factor binds (the participation and per-name impact caps depend on ADV and volatility); the
  re-solved change includes the trades' response and the limits.

At fixed trades the elasticities are known in closed form for some factors, and the tests check
them: a1 gives exactly 1, volatility exactly a3, ADV exactly -a2 for a name at a fixed POV.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.core.errors import InputError
from krg_liquidity.model.impact import CostModel
from krg_liquidity.solve.optimize import liquidate
from krg_liquidity.solve.result import LiquidationResult
from krg_liquidity.solve.verify import impact_table
from krg_liquidity.whatif.scenarios import Scenario

FACTORS = ("adv", "volatility", "a1", "a2", "a3", "a4", "b1")
NAME_COLUMNS = ("factor", "symbol", "base_value", "adjusted_value", "base_cost_usd", "adjusted_cost_usd",
                "difference_usd", "derivative_usd_per_unit", "elasticity")
TOTAL_COLUMNS = ("factor", "base_value", "adjusted_value", "base_cost_usd", "fixed_trades_cost_usd",
                 "fixed_trades_difference_usd", "fixed_trades_elasticity", "reoptimized_status", "reoptimized_cost_usd",
                 "reoptimized_difference_usd", "reoptimized_elasticity", "reoptimized_seconds")


@dataclass
class Sensitivity:
    """``by_name``: one row per (factor, name), NAME_COLUMNS; ``total``: one row per factor,
    TOTAL_COLUMNS; ``base``: the base liquidation. Costs in USD; ``derivative_usd_per_unit`` is USD
    per unit of the factor (ADV: per share/day; volatility: per 1.00 of annualized volatility;
    parameters: per unit of the parameter); elasticities are (relative cost change) / (relative
    factor change), dimensionless. For ADV and volatility ``base_value``/``adjusted_value`` are the
    name's own values in ``by_name`` and the book's multiplier (1 and 1 + bump) in ``total``."""

    by_name: pd.DataFrame
    total: pd.DataFrame
    base: LiquidationResult


def sensitivity(portfolio: Portfolio, cash: float, *, bump: float = 0.10, factors: Iterable[str] = FACTORS,
                base: LiquidationResult | None = None, cost_model: CostModel | None = None,
                **limits: Any) -> Sensitivity:
    """Cost of raising ``cash`` (USD) under base and adjusted conditions, per name and in total.

    Parameters
    ----------
    portfolio : Portfolio
        The book.
    cash : float
        The cash to raise (USD).
    bump : float
        Relative change of every factor (0.10: +10%; negative values lower it; above -1, not 0).
        b1 is capped at 1 (the adjusted value actually used is reported).
    factors : sequence of str
        Any of ``FACTORS`` (adv, volatility, a1, a2, a3, a4, b1).
    base : LiquidationResult, optional
        The base liquidation if already solved (else it is solved here; it must succeed).
    cost_model : CostModel, optional
        The base I-Star model (None: Kissell 2013 parameters).
    **limits
        The keyword arguments of :func:`~krg_liquidity.liquidate`.

    Returns
    -------
    Sensitivity
        ``by_name`` (one row per factor and name), ``total`` (one row per factor: the base trades
        repriced, and re-optimized) and ``base``; costs in USD, elasticities dimensionless.

    Raises
    ------
    InputError
        A bad ``bump`` or factor, a parameter that a relative bump cannot move, or a base
        liquidation that did not succeed.
    LiquidationError
        Solving the base liquidation failed (when ``base`` is not given).

    Examples
    --------
    >>> from krg_liquidity import Portfolio, load_example
    >>> found = sensitivity(Portfolio(*load_example()), 1e9, factors=("a1",))
    >>> round(float(found.total["fixed_trades_elasticity"].iloc[0]), 9)
    1.0
    """
    if not (np.isfinite(bump) and bump != 0 and bump > -1):
        raise InputError(f"bump={bump} must be a relative change above -1 and not 0, e.g. 0.10 for +10%")
    unknown = [f for f in factors if f not in FACTORS]
    if unknown:
        raise InputError(f"unknown factor(s) {unknown}; choose from {', '.join(FACTORS)}")
    model = cost_model or CostModel()
    if base is None:
        base = liquidate(portfolio, cash, cost_model=model, **limits)
    if not base.success:
        raise InputError(f"the base liquidation did not succeed ({base.status}): {base.message}")
    traded = base.trades["shares_traded"].to_numpy()
    base_costs = impact_table(portfolio, traded, model)["cost_usd"].to_numpy()
    base_total = float(base_costs.sum())
    symbols = portfolio.holdings["symbol"].to_numpy()
    name_parts, totals = [], []
    for factor in factors:
        scenario, base_value, adjusted_value = _adjusted(factor, bump, portfolio, model)
        book, adjusted_model = scenario.apply(portfolio, model)
        costs = impact_table(book, traded, adjusted_model)["cost_usd"].to_numpy()
        difference = costs - base_costs
        relative = (adjusted_value - base_value) / base_value
        with np.errstate(divide="ignore", invalid="ignore"):
            elasticity = np.where(base_costs > 0, difference / base_costs / relative, np.nan)
        name_parts.append(pd.DataFrame({
            "factor": factor, "symbol": symbols, "base_value": base_value, "adjusted_value": adjusted_value,
            "base_cost_usd": base_costs, "adjusted_cost_usd": costs, "difference_usd": difference,
            "derivative_usd_per_unit": difference / (adjusted_value - base_value), "elasticity": elasticity}))
        started = time.perf_counter()
        again = liquidate(book, cash, cost_model=adjusted_model, raise_on_failure=False, warm_start=base, **limits)
        book_relative = float(np.mean(relative))
        fixed_total = float(costs.sum())
        totals.append((factor, 1.0 if factor in ("adv", "volatility") else float(np.mean(base_value)),
                       1.0 + bump if factor in ("adv", "volatility") else float(np.mean(adjusted_value)),
                       base_total, fixed_total, fixed_total - base_total,
                       (fixed_total - base_total) / base_total / book_relative if base_total > 0 else np.nan,
                       again.status, again.cost_usd, again.cost_usd - base.cost_usd,
                       (again.cost_usd - base.cost_usd) / base.cost_usd / book_relative if base.cost_usd > 0 else np.nan,
                       time.perf_counter() - started))
    return Sensitivity(pd.concat(name_parts, ignore_index=True), pd.DataFrame(totals, columns=list(TOTAL_COLUMNS)),
                       base)


def _adjusted(factor: str, bump: float, portfolio: Portfolio, model: CostModel):
    """(scenario, base value(s), adjusted value(s)) for one factor moved by ``bump``."""
    if factor in ("adv", "volatility"):
        values = portfolio.array(factor)
        name = f"{factor} x {1 + bump:g}"
        scenario = Scenario(name, adv=1.0 + bump) if factor == "adv" else Scenario(name, volatility=1.0 + bump)
        return scenario, values, values * (1.0 + bump)
    value = getattr(model.params, factor)
    if value == 0:
        raise InputError(f"I-Star parameter {factor} is 0: a relative bump does not move it")
    adjusted = value * (1.0 + bump)
    label = f"{factor} x {1 + bump:g}"
    if factor == "b1" and adjusted > 1.0:
        if value == 1.0:
            raise InputError("b1 is already 1 and cannot rise; use a negative bump for b1")
        adjusted, label = 1.0, f"b1 {value:g} -> 1 (x {1 + bump:g} capped at 1)"
    params = replace(model.params, **{factor: adjusted}, source=f"{model.params.source} ({label})")
    return Scenario(label, params=params), value, adjusted
