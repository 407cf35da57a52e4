"""Whole-share (or round-lot) trade lists from an exact liquidation, with the cash target still met.

The rule: every trade is rounded in the direction that raises more cash. A sale is rounded
up to the next whole lot (``ceil(|shares| / lot) x lot``), but never past the position
held: a sale that would, sells the whole position (an odd lot, if the position is one). A
purchase (a short covered, or a buy allowed by ``allow_buys``) is rounded down to a whole
lot. Sales are never smaller and purchases never larger than in the exact answer, so the
cash raised is at least the exact cash (the cash target is met); each name moves by less
than one lot. Per-name impact is recomputed at the name's POV from the exact answer; the
limits were checked on the exact answer, and rounding can move a name's limit by at most
one lot (``result.rounding`` keeps the exact cash and cost).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .errors import InputError

from .impact import CostModel
from .params import IStarParams

ZERO_SHARES = 1e-6
"""A trade smaller than this many shares is numerical noise: rounded to no trade."""


def whole_shares(traded: np.ndarray, shares_before: np.ndarray, lot_size: float = 1.0) -> np.ndarray:
    """Signed trades rounded by the rule above (negative = sell).

    >>> whole_shares(np.array([-150.2, -99.5, 40.7, -1e-9]), np.array([1000.0, 99.5, -100.0, 5.0]), 100)
    array([-200. ,  -99.5,    0. ,    0. ])
    """
    if not (np.isfinite(lot_size) and lot_size >= 1 and float(lot_size).is_integer()):
        raise InputError(f"lot_size={lot_size} must be a whole number of shares >= 1 (1 for whole shares, "
                         "100 for round lots)")
    traded = np.where(np.abs(traded) < ZERO_SHARES, 0.0, np.asarray(traded, dtype=float))
    quantity = np.abs(traded)
    up = np.ceil(quantity / lot_size - 1e-9) * lot_size
    down = np.floor(quantity / lot_size + 1e-9) * lot_size
    held = np.where(shares_before > 0, shares_before, 0.0)  # a sale of a long position stops at the position
    sell = np.where((quantity <= held + ZERO_SHARES) & (up > held), held, up)
    sell = np.where(quantity > held + ZERO_SHARES, np.ceil(quantity - 1e-9), sell)  # a sale that flips: whole shares
    return np.where(traded < 0, -sell, np.where(traded > 0, down, 0.0))


def round_trades(result, lot_size: int = 1, cost_model: CostModel | None = None):
    """A copy of ``result`` whose trades are whole shares (multiples of ``lot_size``) by the rule above.

    ``cash_raised``, ``cost_usd`` and ``cost_bps`` are those of the rounded trades;
    ``result.rounding`` records the lot, the rule and the exact cash and cost. The cost model
    is the one in ``result.assumptions`` (else ``cost_model``, else the default).

    >>> from krg_liquidity import Portfolio, liquidate, load_example
    >>> exact = liquidate(Portfolio(*load_example()), 1e9)
    >>> rounded = round_trades(exact)
    >>> bool(rounded.cash_raised >= 1e9), bool((rounded.trades["shares_traded"] % 1 == 0).all())
    (True, True)
    """
    trades = result.trades.copy()
    before = trades["shares_before"].to_numpy(float)
    traded = whole_shares(trades["shares_traded"].to_numpy(float), before, lot_size)
    price, adv = trades["price"].to_numpy(float), trades["adv"].to_numpy(float)
    volatility, pov = trades["volatility"].to_numpy(float), trades["pov"].to_numpy(float)
    model = _model(result, cost_model)
    size = np.abs(traded) / adv
    traded_any = size > 0
    safe_pov = np.where(traded_any & (pov > 0), pov, 1.0)
    mi = np.where(traded_any, model.impact_bps_at_pov(size, volatility, safe_pov, price), 0.0)
    cost = mi / 1e4 * np.abs(traded) * price
    after = before + traded
    net_value = float((before * price).sum())
    cash = float(-(traded * price).sum())
    trades["shares_traded"] = traded
    trades["shares_after"] = after
    trades["value_traded_usd"] = traded * price
    trades["trade_time_days"] = np.where(traded_any, size * (1 - safe_pov) / safe_pov, 0.0)
    trades["mi_bps"] = mi
    trades["cost_usd"] = cost
    trades["weight_after"] = after * price / (net_value - cash)
    rounding = {"lot_size": float(lot_size), "rule": "sales rounded up to whole lots (at most the position), "
                "purchases rounded down", "cash_raised_exact": result.cash_raised, "cost_usd_exact": result.cost_usd}
    total_cost = float(cost.sum())
    return dataclasses.replace(result, trades=trades, cash_raised=cash, cost_usd=total_cost,
                               cost_bps=total_cost / cash * 1e4 if cash else 0.0, rounding=rounding)


def _model(result, cost_model: CostModel | None) -> CostModel:
    if cost_model is not None:
        return cost_model
    parameters = (result.assumptions or {}).get("parameters")
    if parameters:
        values = {k: parameters[k] for k in ("a1", "a2", "a3", "a4", "b1", "a5")}
        return CostModel(IStarParams(**values, code=parameters.get("code"), date=parameters.get("date"),
                                     source=parameters.get("source") or ""),
                         trading_days=(result.assumptions or {}).get("trading_days", 250))
    return CostModel()
