"""What an answer assumed: the I-Star parameter set, the risk model and the units.

``describe`` builds the record carried by ``LiquidationResult.assumptions``, printed in its
summary and written to JSON and to the "assumptions" sheet of an .xlsx result.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

import pandas as pd

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.model.impact import CostModel, extrapolation_warning


class _Answer(Protocol):
    """What :func:`attach` needs of a result: its trade table and its assumptions record."""

    trades: pd.DataFrame
    assumptions: dict


_R = TypeVar("_R", bound=_Answer)

UNITS = {
    "money": "USD (the book's currency)",
    "costs": "bps of traded value (cost_bps: of cash raised)",
    "volatility": "annualized, decimal",
    "risk": "annualized volatility of the book, decimal",
    "adv": "shares per day",
    "trade_time": "days",
    "pov": "decimal in (0, 1]",
    "shares": "shares, signed (negative = sell / short)",
}


def describe(portfolio: Portfolio, cost_model: CostModel | None = None, defaults: dict | None = None) -> dict:
    """The assumptions of a liquidation of ``portfolio`` under ``cost_model`` (plain values, JSON-ready).

    ``defaults``: book-wide defaults applied on reading (e.g. ``{"trade_time_days": 1.0}``).

    >>> from krg_liquidity import Portfolio, load_example
    >>> record = describe(Portfolio(*load_example()))
    >>> record["parameters"]["code"], record["risk_model"]["kind"]
    (1, 'full covariance')
    """
    model = cost_model or CostModel()
    if portfolio.factor_model is not None:
        risk = {"kind": "factor model", "factors": int(portfolio.factor_model.exposures.shape[1]),
                "names": int(portfolio.factor_model.exposures.shape[0])}
    elif portfolio.covariance is not None:
        risk = {"kind": "full covariance", "names": int(portfolio.covariance.shape[0])}
    else:
        risk = {"kind": "none"}
    return {
        "parameters": model.params.describe(),
        "trading_days": model.trading_days,
        "risk_model": risk,
        "units": dict(UNITS),
        "defaults": dict(defaults or {}),
        "warnings": list(portfolio.warnings),
    }


def attach(result: _R, portfolio: Portfolio, cost_model: CostModel | None = None, defaults: dict | None = None) -> _R:
    """Set ``result.assumptions`` (returns the result), with a warning naming any traded name whose
    I-Star cost is an extrapolation (``impact.extrapolation_warning``)."""
    result.assumptions = describe(portfolio, cost_model, defaults)
    note = impact_warning(result.trades)
    if note is not None:
        result.assumptions["warnings"].append(note)
    return result


def impact_warning(trades: pd.DataFrame | None) -> str | None:
    """The extrapolation warning for the traded rows of a result's trade table (None when none is flagged)."""
    if trades is None or trades.empty or not {"symbol", "shares_traded", "pov", "mi_bps"} <= set(trades.columns):
        return None
    traded = trades["shares_traded"].to_numpy() != 0  # arrays, not a filtered frame: this runs on every answer
    return extrapolation_warning(trades["symbol"].to_numpy()[traded], trades["pov"].to_numpy()[traded],
                                 trades["mi_bps"].to_numpy()[traded])


def parameter_text(parameters: dict) -> str:
    code = parameters.get("code")
    label = f"code {code}, {parameters.get('date')}" if code is not None else "user set"
    values = ", ".join(f"{k}={parameters[k]:g}" for k in ("a1", "a2", "a3", "a4", "a5", "b1"))
    source = f" ({parameters['source']})" if parameters.get("source") else ""
    return f"I-Star {label}: {values}{source}"


def risk_text(risk: dict) -> str:
    if risk.get("kind") == "factor model":
        return f"factor model, k={risk['factors']} factors over {risk['names']} names"
    if risk.get("kind") == "full covariance":
        return f"full covariance over {risk['names']} names"
    return "none"


def summary_lines(assumptions: dict) -> list[tuple[str, str]]:
    """(label, text) rows for a result's summary."""
    if not assumptions:
        return []
    rows = [("parameters", parameter_text(assumptions["parameters"])),
            ("risk model", risk_text(assumptions["risk_model"])),
            ("units", "USD; costs in bps of traded value; volatility and risk annualized decimals; "
                      "ADV in shares/day; trade time in days")]
    for key, value in assumptions.get("defaults", {}).items():
        rows.append(("default", f"{key} = {value:g} for names without their own"))
    rows += [("warning", note) for note in assumptions.get("warnings", [])]
    return rows


def flat(assumptions: dict) -> list[tuple[str, object]]:
    """(key, value) rows, nested keys joined by dots (the "assumptions" sheet)."""
    rows: list[tuple[str, object]] = []
    for key, value in assumptions.items():
        if isinstance(value, dict):
            rows += [(f"{key}.{k}", v) for k, v in value.items()]
        elif isinstance(value, list):
            rows += [(f"{key}.{i + 1}", v) for i, v in enumerate(value)]
        else:
            rows.append((key, value))
    return rows
