"""Trade lists in any of their forms: a LiquidationResult, its ``trades`` table, or a file of either.

``as_table`` turns a result, a file (CSV, .xlsx, Parquet; the ``trades`` sheet of a result
workbook) or a DataFrame into a DataFrame. ``as_orders`` turns a trade list into the orders
the cost model reads: one row per traded name with ``shares`` = |shares traded| (> 0), ``side``
(-1 sell, +1 buy) and the name's price, adv, volatility and strategy (``pov``, ``trade_time``).
A holdings table (``shares`` but no ``shares_traded``) is read as selling every whole position.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from krg_liquidity.book import columns as col
from krg_liquidity.book.read import read_table, sheet_names
from krg_liquidity.core.errors import InvalidValueError


def as_table(source: pd.DataFrame | str | Path, what: str = "trades") -> pd.DataFrame:
    """A DataFrame from a LiquidationResult (its trades), a path, or a DataFrame (returned as is)."""
    if isinstance(source, pd.DataFrame):
        return source
    trades = getattr(source, "trades", None)
    if isinstance(trades, pd.DataFrame):
        return trades
    if isinstance(source, (str, Path)):
        path = Path(source)
        sheet = None
        if path.suffix.lower() in (".xlsx", ".xlsm") and path.is_file():
            names = {n.strip().lower(): n for n in sheet_names(path)}
            sheet = names.get(what)
        return read_table(path, sheet=sheet, what=what)
    raise InvalidValueError(what, ["(all)"], f"is a {type(source).__name__}",
                            "give a DataFrame, a LiquidationResult or a path to a table file")


def as_orders(source: pd.DataFrame | str | Path, what: str = "trades") -> pd.DataFrame:
    """Orders with positive ``shares`` (and ``side``) from a trade list or a holdings table.

    Rows that trade nothing are dropped. ``trade_time_days`` of a result is read as ``trade_time``.

    >>> trades = pd.DataFrame({"symbol": ["A", "B"], "shares_traded": [-1500.0, 0.0], "adv": [1e5, 1e5],
    ...                        "pov": [0.1, 0.1]})
    >>> as_orders(trades)[["symbol", "shares", "side"]].to_dict("records")
    [{'symbol': 'A', 'shares': 1500.0, 'side': -1.0}]
    """
    frame = col.normalize_columns(as_table(source, what))
    if "shares_traded" in frame:
        signed = col.numeric(frame, "shares_traded", fix="give signed shares traded (negative = sell)")
        frame = frame.drop(columns=[c for c in ("shares", "shares_before", "shares_after", "size", "value")
                                    if c in frame])
    elif "shares" in frame:
        signed = -col.numeric(frame, "shares", fix="give signed share counts (negative = short)")
    else:
        return frame
    keep = signed != 0
    frame = frame.loc[keep].reset_index(drop=True)
    frame["shares"] = np.abs(signed[keep])
    frame["side"] = np.sign(signed[keep])
    if "pov" in frame and "trade_time" in frame:  # a result carries both: its POV is the strategy
        frame = frame.drop(columns="trade_time")
    return frame
