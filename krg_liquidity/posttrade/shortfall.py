"""Post-trade analysis: each order's implementation shortfall in parts, against its I-Star estimate.

For an order of ``X`` shares (side ``s``: +1 buy, -1 sell) of which ``x`` were executed at the average
price ``P_avg``, with decision price ``P_d``, arrival price ``P_0`` and end-of-horizon price ``P_n``
(Perold's implementation shortfall, in Kissell's expanded form; Kissell, *The Science of Algorithmic
Trading and Portfolio Management*, 2013, ch. 3; MathWorks, "Analyze Trading Execution Results"):

* delay cost        ``s X (P_0 - P_d)``      the move between the decision and the order's arrival,
* execution cost    ``s x (P_avg - P_0)``    what the executed shares paid against the arrival price,
* opportunity cost  ``s (X - x) (P_n - P_0)`` the move on the shares never executed,
* fees              commissions and fees (dollars),

and the total shortfall, the paper portfolio's return minus the real one,
``s x P_avg + s (X - x) P_n - s X P_d + fees``, equals their sum (a cost is positive). Costs in bps are
of the order's value at decision, ``X P_d``, so that the parts add up in bps too.

The execution cost per executed share, ``s (P_avg - P_0) / P_0`` in bps (``arrival_cost_bps``), is what
the I-Star model predicts for an order of size ``x / ADV`` at its achieved POV (``estimate_bps``); with the
order's timing risk (``timing_risk_bps``) the z-score is ``(arrival_cost_bps - estimate_bps) /
timing_risk_bps``. A model that fits the desk's trading gives z-scores of mean 0 and standard deviation 1
(Kissell, "A Practical Framework for Estimating Transaction Costs and Developing Optimal Trading
Strategies to Achieve Best Execution", Finance Research Letters, 2004).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from krg_liquidity.core.numbers import json_plain
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.params import IStarParams
from krg_liquidity.posttrade.fills import Fills, read_fills

PARTS = ("delay", "execution", "opportunity", "fees")
SIZE_BUCKETS = ((0.0, 0.01, 0.03, 0.10, 0.25, np.inf), ("<1% ADV", "1-3% ADV", "3-10% ADV", "10-25% ADV", ">25% ADV"))
POV_BUCKETS = ((0.0, 0.05, 0.10, 0.20, 0.30, 1.0), ("<5%", "5-10%", "10-20%", "20-30%", ">30%"))
VOLATILITY_BUCKETS = ((0.0, 0.20, 0.30, 0.45, np.inf), ("<20%", "20-30%", "30-45%", ">45%"))
BUCKETS = {"size": SIZE_BUCKETS, "pov": POV_BUCKETS, "volatility": VOLATILITY_BUCKETS}
GROUPS = ("broker", "algorithm")


@dataclass
class PostTradeResult:
    """Every order's shortfall and estimate (``orders``), the orders set aside (``skipped``) and notes.

    Attributes
    ----------
    orders : pandas.DataFrame
        Money in dollars, costs positive = paid: ``delay_usd``, ``execution_usd``,
        ``opportunity_usd``, ``fees_usd``, ``total_usd`` and the same in bps of ``value_usd`` (the
        order at its decision price); ``arrival_cost_bps`` (execution cost per executed share, bps of
        the arrival price), ``estimate_bps`` and ``estimate_usd`` (I-Star at the executed size and
        achieved POV), ``timing_risk_bps`` and ``z_score``. The last four are NaN for an order that
        executed nothing.
    parameters : IStarParams
        The I-Star set of the estimates.
    skipped : pandas.DataFrame
        The orders set aside (row, symbol, reason).
    notes : list of str
        What was assumed, in words.

    Examples
    --------
    >>> from krg_liquidity import post_trade, synthetic_fills
    >>> result = post_trade(synthetic_fills(n=50, seed=1))
    >>> len(result.orders), bool(result.orders["z_score"].notna().any())
    (50, True)
    """

    orders: pd.DataFrame
    parameters: IStarParams
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "symbol", "reason"]))
    notes: list[str] = field(default_factory=list)

    def table(self, by: str) -> pd.DataFrame:
        """Mean cost, mean estimate, mean and s.d. of z, and counts by ``by``.

        Parameters
        ----------
        by : str
            A column of the orders (``"broker"``, ``"algorithm"``, ``"symbol"``, ...) or a bucket
            (``"size"``, ``"pov"``, ``"volatility"``).

        Returns
        -------
        pandas.DataFrame
            One row per group: orders, value_usd, total_usd, mean_total_bps, mean_cost_bps,
            mean_estimate_bps, mean_z, sd_z.

        Examples
        --------
        >>> from krg_liquidity import post_trade, synthetic_fills
        >>> list(post_trade(synthetic_fills(n=50, seed=1)).table("size").columns)[:3]
        ['size', 'orders', 'value_usd']
        """
        return group_table(self.orders, by)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables by broker and algorithm (when given) and by size, POV and volatility bucket."""
        keys = [g for g in GROUPS if g in self.orders] + list(BUCKETS)
        return {f"by_{key}": self.table(key) for key in keys}

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain values (what ``krg-liquidity posttrade --json`` prints).

        Returns
        -------
        dict
            ``summary`` (item/value/unit records), ``orders`` (one record per order, as ``orders``),
            ``tables`` (by name, as ``tables``), ``skipped`` and ``notes``; NaN is None.

        Examples
        --------
        >>> from krg_liquidity import post_trade, synthetic_fills
        >>> sorted(post_trade(synthetic_fills(n=50, seed=1)).to_dict())
        ['notes', 'orders', 'skipped', 'summary', 'tables']
        """
        return {key: json_plain(value) for key, value in {"summary": self.summary(), "orders": self.orders, "tables": self.tables,
                            "skipped": self.skipped, "notes": list(self.notes)}.items()}

    def summary(self) -> pd.DataFrame:
        """The whole set of orders in one item/value/unit table.

        Returns
        -------
        pandas.DataFrame
            Columns item, value, unit: orders, value at decision (USD), each part of the shortfall in
            USD and bps of the value, mean cost and estimate (bps), the z-scores and the I-Star set.

        Examples
        --------
        >>> from krg_liquidity import post_trade, synthetic_fills
        >>> post_trade(synthetic_fills(n=50, seed=1)).summary().iloc[0].tolist()
        ['orders analysed', 50, 'orders']
        """
        o = self.orders
        value = float(o["value_usd"].sum())
        z = o["z_score"].dropna()
        rows: list[tuple[str, float | str, str]] = [("orders analysed", len(o), "orders"), ("orders set aside", len(self.skipped), "orders"),
                ("value at decision", value, "USD")]
        for part, label in zip((*PARTS, "total"), ("delay cost", "execution cost", "opportunity cost", "fees",
                                                   "total shortfall")):
            usd = float(o[f"{part}_usd"].sum())
            rows += [(label, usd, "USD"), (f"{label}, of the value", usd / value * 1e4 if value else np.nan, "bps")]
        rows += [("mean execution cost per order", float(o["arrival_cost_bps"].mean()), "bps"),
                 ("mean I-Star estimate per order", float(o["estimate_bps"].mean()), "bps"),
                 ("mean z-score", float(z.mean()) if len(z) else np.nan, "z"),
                 ("s.d. of z-scores", float(z.std()) if len(z) > 1 else np.nan, "z"),
                 ("I-Star parameters", parameter_text(self.parameters), "")]
        table = pd.DataFrame(rows, columns=["item", "value", "unit"])
        table["value"] = table["value"].astype(object)
        return table


def parameter_text(params: IStarParams) -> str:
    """The parameter set in one line: code and a1..b1 (a5 when not 0).

    >>> parameter_text(IStarParams(708, 0.55, 0.71, 0.5, 0.98, code=1))
    'code 1: a1=708, a2=0.55, a3=0.71, a4=0.5, b1=0.98'
    """
    names = ("a1", "a2", "a3", "a4", "b1") + (("a5",) if params.a5 else ())
    values = ", ".join(f"{name}={getattr(params, name):.6g}" for name in names)
    return (f"code {params.code}: " if params.code is not None else "") + values


def shortfall(orders: pd.DataFrame) -> pd.DataFrame:
    """The shortfall parts of checked orders (canonical columns and ``sign``), in dollars and bps.

    >>> o = pd.DataFrame({"sign": [-1.0], "shares": [1000.0], "executed_shares": [600.0], "decision_price": [50.0],
    ...                   "arrival_price": [50.2], "avg_price": [50.0], "end_price": [49.0], "fees_usd": [6.0]})
    >>> shortfall(o).loc[0, ["delay_usd", "execution_usd", "opportunity_usd", "total_usd"]].round(2).tolist()
    [-200.0, 120.0, 480.0, 406.0]
    """
    s = orders["sign"].to_numpy(float)
    big_x = orders["shares"].to_numpy(float)
    x = orders["executed_shares"].to_numpy(float)
    p_d, p_0 = orders["decision_price"].to_numpy(float), orders["arrival_price"].to_numpy(float)
    p_avg = np.where(x > 0, orders["avg_price"].to_numpy(float), p_0)  # no execution: no price needed
    p_n = np.where(x < big_x, orders["end_price"].to_numpy(float), p_0)
    parts = {
        "delay_usd": s * big_x * (p_0 - p_d),
        "execution_usd": s * x * (p_avg - p_0),
        "opportunity_usd": s * (big_x - x) * (p_n - p_0),
        "fees_usd": orders["fees_usd"].to_numpy(float),
    }
    out = pd.DataFrame(parts, index=orders.index)
    out["total_usd"] = out["delay_usd"] + out["execution_usd"] + out["opportunity_usd"] + out["fees_usd"]
    value = big_x * p_d
    out.insert(0, "value_usd", value)
    for part in (*PARTS, "total"):
        out[f"{part}_bps"] = out[f"{part}_usd"].to_numpy() / value * 1e4
    with np.errstate(invalid="ignore", divide="ignore"):
        out["arrival_cost_bps"] = np.where(x > 0, s * (p_avg - p_0) / p_0 * 1e4, np.nan)
    return out


def pre_trade(orders: pd.DataFrame, cost_model: CostModel) -> pd.DataFrame:
    """The I-Star estimate (bps, USD) and timing risk (bps) of each executed order, at its executed size
    (``executed_shares / adv``) and achieved POV, priced at the arrival price; NaN where nothing executed."""
    x = orders["executed_shares"].to_numpy(float)
    done = x > 0
    n = len(orders)
    estimate, risk = np.full(n, np.nan), np.full(n, np.nan)
    if done.any():
        trades = pd.DataFrame({"symbol": orders["symbol"].to_numpy()[done],
                               "size": x[done] / orders["adv"].to_numpy(float)[done],
                               "volatility": orders["volatility"].to_numpy(float)[done],
                               "pov": orders["pov"].to_numpy(float)[done],
                               "price": orders["arrival_price"].to_numpy(float)[done]})
        estimate[done] = cost_model.market_impact(trades).to_numpy()
        risk[done] = cost_model.timing_risk(trades).to_numpy()
    executed_value = x * orders["arrival_price"].to_numpy(float)
    return pd.DataFrame({"estimate_bps": estimate, "estimate_usd": estimate / 1e4 * executed_value,
                         "timing_risk_bps": risk}, index=orders.index)


def post_trade(fills: str | Path | pd.DataFrame | Fills, cost_model: CostModel | None = None, *,
               skip_bad: bool = False) -> PostTradeResult:
    """Measure every execution after the fact: shortfall in parts, I-Star estimate, z-score.

    Parameters
    ----------
    fills : path, DataFrame or Fills
        Parent orders (see :func:`~krg_liquidity.posttrade.fills.read_fills` for the columns).
    cost_model : CostModel, optional
        The I-Star model of the estimates (default: the published Kissell 2013 set).
    skip_bad : bool
        Set aside orders with unusable data instead of refusing the table.

    Returns
    -------
    PostTradeResult

    Raises
    ------
    InputError
        The fills cannot be used (see :func:`~krg_liquidity.posttrade.fills.read_fills`; with
        ``skip_bad`` the bad orders are set aside instead).

    Examples
    --------
    >>> from krg_liquidity.posttrade.synthetic import synthetic_fills
    >>> result = post_trade(synthetic_fills(n=200, seed=1))
    >>> parts = result.orders[["delay_usd", "execution_usd", "opportunity_usd", "fees_usd"]].sum(axis=1)
    >>> bool(np.allclose(parts, result.orders["total_usd"], rtol=0, atol=0.005))
    True
    """
    checked = read_fills(fills, skip_bad=skip_bad)
    model = cost_model or CostModel()
    orders = checked.orders
    keep = [c for c in ("row", "symbol", "side", "date", "broker", "algorithm", "shares", "executed_shares",
                        "decision_price", "arrival_price", "avg_price", "end_price", "adv", "volatility", "pov")
            if c in orders]
    out = orders[keep].copy()
    out["fill_rate"] = orders["executed_shares"] / orders["shares"]
    out["size"] = orders["executed_shares"] / orders["adv"]
    costs = shortfall(orders)
    estimate = pre_trade(orders, model)
    out = pd.concat([out, costs, estimate], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        risk = out["timing_risk_bps"].to_numpy()
        out["z_score"] = np.where(risk > 0, (out["arrival_cost_bps"] - out["estimate_bps"]) / risk, np.nan)
    notes = list(checked.notes)
    instant = int(((risk == 0) & (out["executed_shares"] > 0)).sum())
    if instant:
        notes.append(f"{instant} order(s) at 100% POV have no timing risk: their z-score is left blank")
    return PostTradeResult(out, model.params, checked.skipped, notes)


def bucket(orders: pd.DataFrame, by: str) -> pd.Series:
    """The bucket label of each order by ``size`` (fraction of ADV executed), ``pov`` or ``volatility``."""
    edges, labels = BUCKETS[by]
    return pd.cut(orders[by], bins=list(edges), labels=list(labels), right=False if by != "pov" else True)


def group_table(orders: pd.DataFrame, by: str) -> pd.DataFrame:
    """Orders, value, mean total cost, mean execution cost, mean estimate, mean and s.d. of z by ``by``."""
    key = bucket(orders, by) if by in BUCKETS else orders[by].astype(str)
    frame = pd.DataFrame({"key": key, "value_usd": orders["value_usd"], "total_usd": orders["total_usd"],
                          "total_bps": orders["total_bps"], "arrival_cost_bps": orders["arrival_cost_bps"],
                          "estimate_bps": orders["estimate_bps"], "z_score": orders["z_score"]})
    grouped = frame.groupby("key", observed=True, sort=True)
    table = pd.DataFrame({
        "orders": grouped.size(),
        "value_usd": grouped["value_usd"].sum(),
        "total_usd": grouped["total_usd"].sum(),
        "mean_total_bps": grouped["total_bps"].mean(),
        "mean_cost_bps": grouped["arrival_cost_bps"].mean(),
        "mean_estimate_bps": grouped["estimate_bps"].mean(),
        "mean_z": grouped["z_score"].mean(),
        "sd_z": grouped["z_score"].std(),
    })
    table.index = table.index.astype(str)
    return table.rename_axis(by).reset_index()
