"""The I-Star cost model with MATLAB ``krg`` parity: impact, timing risk, alpha, liquidity.

All outputs are in basis points of traded value unless a name ends in ``_usd``.
Inputs are DataFrames with MATLAB's TradeData column names or snake_case
(see :mod:`krg_liquidity.book.columns`); outputs are Series aligned to the input index.

Strategies, in MATLAB's order of precedence per row: ``pov`` (decimal), then
``trade_time`` (days), then ``trade_schedule`` + ``volume_profile`` (shares per
period, sequences in each cell). A NaN means "not given" for that row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from krg_liquidity.book import columns as col
from krg_liquidity.book.orders import as_table
from krg_liquidity.core.errors import InconsistentInputError, InvalidValueError, MissingColumnError
from krg_liquidity.model.params import KISSELL_2013_ALL_DATA, IStarParams

DEFAULT_CURVE_SIZES = np.round(np.arange(0.01, 0.505, 0.01), 2)
DEFAULT_CURVE_POVS = np.array([0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50])

EXTRAPOLATED_MI_BPS = 1000.0
"""Impact (bps) above which a cost is flagged as unreliable: 10% of the price, beyond ordinary trades."""
EXTRAPOLATED_POV = 0.5
"""Participation above which a cost is flagged as unreliable: more than half of the day's volume."""


def extrapolation_warning(symbols: Sequence[object] | np.ndarray, pov: ArrayLike, mi_bps: ArrayLike) -> str | None:
    """One plain warning naming the orders whose I-Star cost is an extrapolation, or None.

    An order is flagged when its impact is above ``EXTRAPOLATED_MI_BPS`` or its participation
    above ``EXTRAPOLATED_POV``: the power law is then used far beyond ordinary trades (at
    10,000 bps the impact equals the whole price), so the cost it gives is not to be traded on.

    Parameters
    ----------
    symbols : array-like of str
    pov : array-like of float
        Participation (decimal of the day's volume); NaN when unknown.
    mi_bps : array-like of float
        Market impact, bps of the traded value.

    >>> extrapolation_warning(["THIN", "BIG"], [0.9971, 0.002], [10650.15, 0.47])[:41]
    'THIN: 10,650 bps at 99.7% POV: far beyond'
    """
    pov, mi_bps = np.asarray(pov, dtype=float), np.asarray(mi_bps, dtype=float)
    flagged = np.flatnonzero((np.nan_to_num(mi_bps) > EXTRAPOLATED_MI_BPS) | (np.nan_to_num(pov) > EXTRAPOLATED_POV))
    if flagged.size == 0:
        return None
    order = flagged[np.argsort(-np.nan_to_num(mi_bps[flagged]), kind="stable")]
    names = [str(symbols[i]) + f": {mi_bps[i]:,.0f} bps" + (f" at {pov[i]:.1%} POV" if np.isfinite(pov[i]) else "")
             for i in order[:8]]
    more = f" and {order.size - 8} more" if order.size > 8 else ""
    return (f"{'; '.join(names)}{more}: far beyond ordinary trades (above {EXTRAPOLATED_MI_BPS:,.0f} bps of impact "
            f"or {EXTRAPOLATED_POV:.0%} of the day's volume), where the I-Star formula is extrapolated; the cost "
            "shown is unreliable (trade over more days: a longer trade_time or a lower pov)")


@dataclass(frozen=True)
class _Orders:
    """Validated per-row arrays of one trades table."""

    frame: pd.DataFrame
    size: np.ndarray
    shares: np.ndarray | None


class CostModel:
    """Kissell's I-Star model, vectorized over names.

    Covers MATLAB's ``krg`` functions: :meth:`istar`, :meth:`market_impact` (with temporary and
    permanent parts), :meth:`timing_risk`, :meth:`price_appreciation`, :meth:`liquidity_factor`,
    :meth:`cost_curves`, the POV / trade-time conversions and dollar costs. Impact is in bps of the
    traded value; size is the order as a fraction of ADV; volatility annualized (decimal).

    Parameters
    ----------
    params : IStarParams
        The I-Star parameter set (default: ``KISSELL_2013_ALL_DATA``).
    trading_days : int
        Trading days per year, scaling annualized volatility to days in the timing risk (> 0).

    Raises
    ------
    TypeError
        ``params`` is not an ``IStarParams``.
    ValueError
        ``trading_days`` is not positive.

    Examples
    --------
    >>> model = CostModel()
    >>> trades = pd.DataFrame({"Size": [0.10], "Volatility": [0.30], "POV": [0.20], "Price": [50.0]})
    >>> round(float(model.market_impact(trades).iloc[0]), 2)
    38.9
    """

    def __init__(self, params: IStarParams = KISSELL_2013_ALL_DATA, trading_days: int = 250):
        if not isinstance(params, IStarParams):
            raise TypeError("params must be an IStarParams (see krg_liquidity.load_parameters)")
        if trading_days <= 0:
            raise ValueError(f"trading_days={trading_days} must be positive")
        self.params = params
        self.trading_days = int(trading_days)

    def __repr__(self) -> str:
        return f"CostModel(params={self.params!r}, trading_days={self.trading_days})"

    # ----- array formulas (used by the optimizer and schedules) -----
    def istar_bps(self, size: ArrayLike, volatility: ArrayLike, price: ArrayLike = 1.0) -> np.ndarray:
        """Instantaneous impact I* (bps), vectorized: a1 size^a2 volatility^a3 price^a5.

        Parameters
        ----------
        size : float or array
            Order size as a fraction of ADV.
        volatility : float or array
            Annualized volatility (decimal).
        price : float or array
            Price (USD; used only through a5).

        Returns
        -------
        numpy.ndarray
            I* in bps.

        Examples
        --------
        >>> round(float(CostModel().istar_bps(0.10, 0.30)), 2)
        84.88
        """
        p = self.params
        return p.a1 * np.power(size, p.a2) * np.power(volatility, p.a3) * np.power(price, p.a5)

    def impact_bps_at_pov(self, size: ArrayLike, volatility: ArrayLike, pov: ArrayLike,
                          price: ArrayLike = 1.0) -> np.ndarray:
        """Market impact (bps) at a constant POV: I* (b1 POV^a4 + 1 - b1).

        Parameters
        ----------
        size : float or array
            Order size as a fraction of ADV.
        volatility : float or array
            Annualized volatility (decimal).
        pov : float or array
            Participation rate (fraction of market volume).
        price : float or array
            Price (USD; used only through a5).

        Returns
        -------
        numpy.ndarray
            Market impact in bps.

        Examples
        --------
        >>> round(float(CostModel().impact_bps_at_pov(0.10, 0.30, 0.20)), 2)
        38.9
        """
        p = self.params
        return self.istar_bps(size, volatility, price) * (p.b1 * np.power(pov, p.a4) + 1.0 - p.b1)

    def impact_bps_at_trade_time(self, size: ArrayLike, volatility: ArrayLike, trade_time_days: ArrayLike,
                                 price: ArrayLike = 1.0) -> np.ndarray:
        """Market impact (bps) when trading over ``trade_time_days``: POV = size/(size + T).

        Parameters
        ----------
        size : float or array
            Order size as a fraction of ADV.
        volatility : float or array
            Annualized volatility (decimal).
        trade_time_days : float or array
            Trade time T (days).
        price : float or array
            Price (USD; used only through a5).

        Returns
        -------
        numpy.ndarray
            Market impact in bps.

        Examples
        --------
        >>> round(float(CostModel().impact_bps_at_trade_time(0.10, 0.30, 0.4)), 2)
        38.9
        """
        size = np.asarray(size, dtype=float)
        pov = np.divide(size, size + trade_time_days, out=np.zeros_like(size * 1.0), where=size > 0)
        return self.impact_bps_at_pov(size, volatility, pov, price)

    @staticmethod
    def pov_to_trade_time(pov: ArrayLike, size: ArrayLike) -> float | np.ndarray:
        """Trade time (days) of an order of ``size`` (fraction of ADV) at ``pov``: size(1-POV)/POV.

        Parameters
        ----------
        pov : float or array
            Participation rate (fraction of market volume, in (0, 1]).
        size : float or array
            Order size as a fraction of ADV.

        Returns
        -------
        float or numpy.ndarray
            Trade time in days.

        Raises
        ------
        ValueError
            A POV outside (0, 1].

        Examples
        --------
        >>> round(CostModel.pov_to_trade_time(0.20, 0.10), 10)
        0.4
        """
        pov = np.asarray(pov, dtype=float)
        if np.any((pov <= 0) | (pov > 1)):
            raise ValueError("pov must be in (0, 1]")
        out = np.asarray(size, dtype=float) * (1.0 - pov) / pov
        return float(out) if out.ndim == 0 else out

    @staticmethod
    def trade_time_to_pov(trade_time: ArrayLike, size: ArrayLike) -> float | np.ndarray:
        """POV of an order of ``size`` traded over ``trade_time`` days: size/(size + T).

        Parameters
        ----------
        trade_time : float or array
            Trade time T (days, >= 0).
        size : float or array
            Order size as a fraction of ADV (> 0).

        Returns
        -------
        float or numpy.ndarray
            Participation rate (fraction of market volume).

        Raises
        ------
        ValueError
            A negative trade time or a size not > 0.

        Examples
        --------
        >>> round(CostModel.trade_time_to_pov(0.4, 0.10), 10)
        0.2
        """
        trade_time = np.asarray(trade_time, dtype=float)
        size = np.asarray(size, dtype=float)
        if np.any(trade_time < 0) or np.any(size <= 0):
            raise ValueError("trade_time must be >= 0 and size > 0")
        out = size / (size + trade_time)
        return float(out) if out.ndim == 0 else out

    @staticmethod
    def bps_to_usd(bps: ArrayLike, shares: ArrayLike, price: ArrayLike) -> np.ndarray:
        """Dollar cost of ``bps`` on ``|shares| * price``.

        Parameters
        ----------
        bps : float or array
            Cost in bps of the traded value.
        shares : float or array
            Shares traded (signed; the size counts).
        price : float or array
            Price (USD).

        Returns
        -------
        numpy.ndarray
            Cost in USD.

        Examples
        --------
        >>> float(CostModel.bps_to_usd(38.9, -100_000, 50.0))
        19450.0
        """
        return np.asarray(bps) / 1e4 * np.abs(shares) * np.asarray(price)

    # ----- input handling -----
    def _orders(self, trades: pd.DataFrame, *, need_price: bool) -> _Orders:
        if not isinstance(trades, pd.DataFrame):
            raise TypeError("trades must be a pandas DataFrame")
        frame = col.normalize_columns(as_table(trades))
        shares = None
        if "shares" in frame and "adv" in frame:
            shares = col.numeric(frame, "shares", positive=True,
                                 fix="order sizes must be positive share counts (use a Side column for direction)")
            adv = col.numeric(frame, "adv", positive=True)
            given = col.numeric(frame, "size", positive=True) if "size" in frame else None
            size = col.check_size(frame, shares, adv, given)
        elif "size" in frame:
            size = col.numeric(frame, "size", positive=True)
        else:
            raise MissingColumnError("size", frame.columns, "give 'size' (fraction of ADV) or 'shares' and 'adv'")
        col.require(frame, "volatility")
        col.numeric(frame, "volatility", positive=True)
        if need_price or self.params.a5 != 0:
            col.require(frame, "price", context="the I-Star price term (a5 != 0)" if not need_price else "")
            col.numeric(frame, "price", positive=True)
        return _Orders(frame, size, shares)

    def _price(self, orders: _Orders) -> np.ndarray:
        if "price" in orders.frame and self.params.a5 != 0:
            return orders.frame["price"].astype(float).to_numpy()
        return np.ones(len(orders.frame))

    @staticmethod
    def _strategy(orders: _Orders, *, allow_schedule: bool = True):
        """Per row: POV, trade time (days) or a trade schedule (the rows of a :class:`_Schedules`); precedence
        POV > time > schedule."""
        frame = orders.frame
        n = len(frame)
        pov = (col.numeric(frame, "pov", allow_nan=True) if "pov" in frame else np.full(n, np.nan))
        time = (col.numeric(frame, "trade_time", allow_nan=True) if "trade_time" in frame else np.full(n, np.nan))
        has_pov, has_time = ~np.isnan(pov), ~np.isnan(time)
        symbols = frame["symbol"].to_numpy()
        bad_pov = has_pov & ((pov <= 0) | (pov > 1))
        if bad_pov.any():
            raise InvalidValueError("pov", symbols[bad_pov], "must be in (0, 1]",
                                    "give POV as a decimal, e.g. 0.10 for 10% of volume")
        bad_time = ~has_pov & has_time & (time <= 0)
        if bad_time.any():
            raise InvalidValueError("trade_time", symbols[bad_time], "must be > 0 days",
                                    "give the trading horizon in days, e.g. 0.5 for half a day")
        use_schedule = ~has_pov & ~has_time
        if use_schedule.any():
            if not allow_schedule or "trade_schedule" not in frame or "volume_profile" not in frame:
                raise MissingColumnError(
                    "pov", frame.columns,
                    f"rows {', '.join(map(str, symbols[use_schedule][:8]))} have no strategy: "
                    "give 'pov', 'trade_time' (days)"
                    + (" or 'trade_schedule' with 'volume_profile'" if allow_schedule else ""),
                )
        schedules = _schedules(frame, np.flatnonzero(use_schedule), orders)
        return pov, time, has_pov, has_time, schedules

    # ----- MATLAB krg functions -----
    def istar(self, trades: pd.DataFrame) -> pd.Series:
        """Instantaneous impact I* (bps) per row.

        Parameters
        ----------
        trades : pandas.DataFrame
            One row per order: size (fraction of ADV; or shares and adv), volatility (annualized
            decimal); price (USD) when the set has a price term (a5 != 0).

        Returns
        -------
        pandas.Series
            ``istar_bps``, on the rows of ``trades``.

        Raises
        ------
        InputError
            A missing or non-positive size, shares, adv, volatility or price.

        Examples
        --------
        >>> trades = pd.DataFrame({"Size": [0.10], "Volatility": [0.30]})
        >>> CostModel().istar(trades).round(2).tolist()
        [84.88]
        """
        orders = self._orders(trades, need_price=False)
        vol = orders.frame["volatility"].astype(float).to_numpy()
        return pd.Series(self.istar_bps(orders.size, vol, self._price(orders)), index=trades.index, name="istar_bps")

    def market_impact(self, trades: pd.DataFrame, components: bool = False) -> pd.Series | pd.DataFrame:
        """Market impact (bps) per row for its strategy (POV, trade time or schedule).

        POV takes precedence over a trade time, a trade time over a schedule (MATLAB's precedence).

        Parameters
        ----------
        trades : pandas.DataFrame
            One row per order: size (fraction of ADV; or shares and adv), volatility (annualized
            decimal) and a strategy: ``pov`` (fraction of market volume), ``trade_time`` (days), or
            ``trade_schedule`` (shares per period) with ``volume_profile`` (market shares per period).
        components : bool
            Also the temporary and permanent parts.

        Returns
        -------
        pandas.Series or pandas.DataFrame
            ``market_impact_bps`` per row; with ``components=True`` a DataFrame with
            ``market_impact_bps``, ``temporary_bps`` (b1 I* POV^a4 part) and ``permanent_bps``
            ((1-b1) I*).

        Raises
        ------
        InputError
            A missing or bad column (a POV outside (0, 1], a trade time not > 0, a row without a
            strategy).

        Examples
        --------
        >>> trades = pd.DataFrame({"Size": [0.10], "Volatility": [0.30], "POV": [0.20]})
        >>> CostModel().market_impact(trades, components=True).round(2).to_dict("records")
        [{'market_impact_bps': 38.9, 'temporary_bps': 37.2, 'permanent_bps': 1.7}]
        """
        orders = self._orders(trades, need_price=False)
        vol = orders.frame["volatility"].astype(float).to_numpy()
        istar = self.istar_bps(orders.size, vol, self._price(orders))
        pov, time, has_pov, has_time, schedules = self._strategy(orders)
        pov_term = np.empty(len(istar))  # the sum over periods of w_j POV_j^a4
        a4 = self.params.a4
        pov_term[has_pov] = np.power(pov[has_pov], a4)
        t = has_time & ~has_pov
        pov_term[t] = np.power(orders.size[t] / (orders.size[t] + time[t]), a4)
        if schedules.rows.size:
            ts, vp = schedules.shares, schedules.volume
            pov_term[schedules.rows] = np.sum(ts / schedules.total[:, None] * np.power(ts / (ts + vp), a4), axis=1)
        b1 = self.params.b1
        temporary = b1 * istar * pov_term
        permanent = (1.0 - b1) * istar
        total = temporary + permanent
        if not components:
            return pd.Series(total, index=trades.index, name="market_impact_bps")
        return pd.DataFrame({"market_impact_bps": total, "temporary_bps": temporary,
                             "permanent_bps": permanent}, index=trades.index)

    def trade_time(self, trades: pd.DataFrame) -> pd.Series:
        """Trading horizon (days) per row: size(1-POV)/POV, the given trade time, or sum(VP)/ADV.

        Parameters
        ----------
        trades : pandas.DataFrame
            As for :meth:`market_impact`.

        Returns
        -------
        pandas.Series
            ``trade_time_days`` per row.

        Raises
        ------
        InputError
            A missing or bad column (as for :meth:`market_impact`; a schedule also needs adv).

        Examples
        --------
        >>> trades = pd.DataFrame({"Size": [0.10], "Volatility": [0.30], "POV": [0.20]})
        >>> CostModel().trade_time(trades).round(4).tolist()
        [0.4]
        """
        orders = self._orders(trades, need_price=False)
        return pd.Series(self._days(orders, self._strategy(orders)), index=trades.index, name="trade_time_days")

    @staticmethod
    def _days(orders: _Orders, strategy) -> np.ndarray:
        pov, time, has_pov, has_time, schedules = strategy
        safe_pov = np.where(has_pov, pov, 1.0)
        days = np.where(has_pov, orders.size * (1.0 - safe_pov) / safe_pov, time)
        if schedules.rows.size:
            if "adv" not in orders.frame:
                raise MissingColumnError("adv", orders.frame.columns,
                                         "a trade schedule's horizon is sum(volume_profile)/adv")
            adv = orders.frame["adv"].to_numpy(float)[schedules.rows]
            days[schedules.rows] = schedules.market_volume / adv
        return days

    def timing_risk(self, trades: pd.DataFrame) -> pd.Series:
        """Timing risk (bps): volatility * sqrt(trade_time / (3 * trading_days)) * 1e4.

        For a POV strategy the trade time is size(1-POV)/POV (MATLAB's formula). For a
        schedule it is the risk of the residual position, linear within each period:
        volatility * sqrt(sum_j dt (R_{j-1}^2 + R_{j-1} R_j + R_j^2) / 3 / trading_days) * 1e4
        with R_j the fraction still to trade after period j and dt = (sum VP / ADV) / periods;
        it equals the POV formula for a constant-rate schedule.

        Parameters
        ----------
        trades : pandas.DataFrame
            As for :meth:`market_impact`.

        Returns
        -------
        pandas.Series
            ``timing_risk_bps`` per row.

        Raises
        ------
        InputError
            A missing or bad column (as for :meth:`trade_time`).

        Examples
        --------
        >>> trades = pd.DataFrame({"Size": [0.10], "Volatility": [0.30], "POV": [0.20]})
        >>> CostModel().timing_risk(trades).round(2).tolist()
        [69.28]
        """
        orders = self._orders(trades, need_price=False)
        vol = orders.frame["volatility"].astype(float).to_numpy()
        strategy = self._strategy(orders)
        schedules = strategy[-1]
        days = self._days(orders, strategy)
        variance_days = days / 3.0
        if schedules.rows.size:
            done = np.cumsum(schedules.shares, axis=1)  # padding periods trade nothing: their residual is 0
            r1 = 1.0 - done / schedules.total[:, None]
            r0 = 1.0 - (done - schedules.shares) / schedules.total[:, None]
            dt = days[schedules.rows] / schedules.periods
            variance_days[schedules.rows] = dt * np.sum((r0 * r0 + r0 * r1 + r1 * r1) / 3.0, axis=1)
        tr = vol * np.sqrt(variance_days / self.trading_days) * 1e4
        return pd.Series(tr, index=trades.index, name="timing_risk_bps")

    def price_appreciation(self, trades: pd.DataFrame) -> pd.Series:
        """Price appreciation (bps) from alpha (``alpha_bp``, bps/day), sign from alpha (Side unused).

        POV / trade time: 0.5 * alpha_bp * trade_time. Schedule: alpha_bp * (DayTime/periods)
        * sum_j j TS_j / sum TS, with DayTime = sum VP / ADV.

        Parameters
        ----------
        trades : pandas.DataFrame
            As for :meth:`market_impact`, plus ``alpha_bp`` (bps/day).

        Returns
        -------
        pandas.Series
            ``price_appreciation_bps`` per row.

        Raises
        ------
        InputError
            A missing ``alpha_bp``, or a missing or bad column as for :meth:`trade_time`.

        Examples
        --------
        >>> trades = pd.DataFrame({"Size": [0.10], "Volatility": [0.30], "POV": [0.20], "alpha_bp": [10.0]})
        >>> CostModel().price_appreciation(trades).round(2).tolist()
        [2.0]
        """
        orders = self._orders(trades, need_price=False)
        col.require(orders.frame, "alpha_bp")
        alpha = col.numeric(orders.frame, "alpha_bp")
        strategy = self._strategy(orders)
        schedules = strategy[-1]
        days = self._days(orders, strategy)
        pa = 0.5 * alpha * days
        if schedules.rows.size:
            i, ts = schedules.rows, schedules.shares
            weighted = ts @ np.arange(1, ts.shape[1] + 1, dtype=float)
            pa[i] = alpha[i] * days[i] / schedules.periods * weighted / schedules.total
        return pd.Series(pa, index=trades.index, name="price_appreciation_bps")

    def liquidity_factor(self, trades: pd.DataFrame) -> pd.Series:
        """I* (bps) of a $1 order: a1 (1/ADV)^a2 vol^a3 (1/Price)^a2 Price^a5.

        Parameters
        ----------
        trades : pandas.DataFrame
            One row per name: adv (shares/day), price (USD), volatility (annualized decimal).

        Returns
        -------
        pandas.Series
            ``liquidity_factor_bps`` per row (lower: more liquid).

        Raises
        ------
        InputError
            A missing or non-positive adv, price or volatility.

        Examples
        --------
        >>> trades = pd.DataFrame({"ADV": [1e6], "Price": [50.0], "Volatility": [0.30]})
        >>> CostModel().liquidity_factor(trades).round(4).tolist()
        [0.0176]
        """
        frame = col.normalize_columns(as_table(trades))
        col.require(frame, "adv", "price", "volatility", context="liquidity_factor")
        adv = col.numeric(frame, "adv", positive=True)
        price = col.numeric(frame, "price", positive=True)
        vol = col.numeric(frame, "volatility", positive=True)
        p = self.params
        lf = p.a1 * np.power(1.0 / (adv * price), p.a2) * np.power(vol, p.a3) * np.power(price, p.a5)
        return pd.Series(lf, index=trades.index, name="liquidity_factor_bps")

    def market_impact_usd(self, trades: pd.DataFrame) -> pd.Series:
        """Market impact in dollars: MI/1e4 * shares * price.

        Parameters
        ----------
        trades : pandas.DataFrame
            As for :meth:`market_impact`, with shares and price (USD).

        Returns
        -------
        pandas.Series
            ``market_impact_usd`` per row.

        Raises
        ------
        InputError
            A missing shares or price, or a missing or bad column as for :meth:`market_impact`.

        Examples
        --------
        >>> trades = pd.DataFrame({"Shares": [100_000], "ADV": [1e6], "Volatility": [0.30], "POV": [0.20],
        ...                        "Price": [50.0]})
        >>> CostModel().market_impact_usd(trades).round(0).tolist()
        [19448.0]
        """
        frame = col.normalize_columns(as_table(trades))
        col.require(frame, "shares", "price", context="a dollar cost")
        price = col.numeric(frame, "price", positive=True)
        mi = self.market_impact(trades).to_numpy()
        usd = self.bps_to_usd(mi, col.numeric(frame, "shares"), price)
        return pd.Series(usd, index=trades.index, name="market_impact_usd")

    def cost_curves(self, trades: pd.DataFrame, sizes: ArrayLike | None = None, pov: ArrayLike | None = None,
                    trade_time: ArrayLike | None = None) -> pd.DataFrame:
        """Market impact over a grid of order sizes x strategies, for every row, as a tidy table.

        Parameters
        ----------
        trades : pandas.DataFrame
            One row per name: volatility (annualized decimal); adv (shares/day) to give shares;
            price (USD) when the set has a price term.
        sizes : sequence of float, optional
            Order sizes as fractions of ADV (default 0.01..0.50).
        pov : sequence of float, optional
            POV strategies (fractions of market volume; default 0.05..0.50).
        trade_time : sequence of float, optional
            Trade-time strategies (days), instead of ``pov``.

        Returns
        -------
        pandas.DataFrame
            Columns symbol, size, shares (when ADV is known), pov, trade_time_days, istar_bps,
            market_impact_bps.

        Raises
        ------
        ValueError
            Sizes not positive, both ``pov`` and ``trade_time``, a POV outside (0, 1] or a trade
            time not > 0.
        InputError
            A missing or non-positive volatility (or price).

        Examples
        --------
        >>> trades = pd.DataFrame({"Symbol": ["A"], "ADV": [1e6], "Volatility": [0.30]})
        >>> curves = CostModel().cost_curves(trades, sizes=[0.05, 0.10], pov=[0.10, 0.20])
        >>> curves["market_impact_bps"].round(2).tolist()
        [19.13, 26.57, 28.0, 38.9]
        """
        frame = col.normalize_columns(as_table(trades))
        col.require(frame, "volatility")
        vol = col.numeric(frame, "volatility", positive=True)
        price = (col.numeric(frame, "price", positive=True) if self.params.a5 != 0
                 else np.ones(len(frame)))
        if self.params.a5 != 0:
            col.require(frame, "price")
        sizes = np.asarray(DEFAULT_CURVE_SIZES if sizes is None else sizes, dtype=float)
        if np.any(sizes <= 0):
            raise ValueError("cost curve sizes must be positive fractions of ADV")
        if pov is not None and trade_time is not None:
            raise ValueError("give pov or trade_time for the cost curve strategies, not both")
        grid_pov = trade_time is None
        strategies = np.asarray((DEFAULT_CURVE_POVS if pov is None else pov) if grid_pov else trade_time, dtype=float)
        if grid_pov and np.any((strategies <= 0) | (strategies > 1)):
            raise ValueError("cost curve pov values must be in (0, 1]")
        if not grid_pov and np.any(strategies <= 0):
            raise ValueError("cost curve trade_time values must be > 0 days")
        n, ns, nk = len(frame), len(sizes), len(strategies)
        row = np.repeat(np.arange(n), ns * nk)
        size = np.tile(np.repeat(sizes, nk), n)
        strat = np.tile(strategies, n * ns)
        curve_pov = strat if grid_pov else size / (size + strat)
        istar = self.istar_bps(size, vol[row], price[row])
        out = pd.DataFrame({
            "symbol": frame["symbol"].to_numpy()[row],
            "size": size,
            "pov": curve_pov,
            "trade_time_days": size * (1 - curve_pov) / curve_pov,
            "istar_bps": istar,
            "market_impact_bps": self.impact_bps_at_pov(size, vol[row], curve_pov, price[row]),
        })
        if "adv" in frame:
            out.insert(2, "shares", size * col.numeric(frame, "adv", positive=True)[row])
        return out


@dataclass
class _Schedules:
    """The rows priced by a trade schedule, their periods padded to a common count (shares 0, volume 1
    in the padding: a padding period trades nothing and adds nothing to any cost)."""

    rows: np.ndarray  # row numbers in the trades table
    shares: np.ndarray  # (rows, periods) shares per period
    volume: np.ndarray  # (rows, periods) market volume per period (shares)
    periods: np.ndarray  # each row's own number of periods
    total: np.ndarray  # shares of each row's schedule
    market_volume: np.ndarray  # market volume over each row's schedule (shares)


def _schedules(frame: pd.DataFrame, rows: np.ndarray, orders: _Orders) -> _Schedules:
    """Read and check the 'trade_schedule' and 'volume_profile' cells of ``rows``, all at once."""
    symbols = frame["symbol"].to_numpy()[rows]
    cells: Iterable[tuple[Any, Any]] = []
    if rows.size:  # a table without schedules may have no such columns
        cells = zip(frame["trade_schedule"].to_numpy()[rows], frame["volume_profile"].to_numpy()[rows])
    pairs = []
    for symbol, (shares_cell, volume_cell) in zip(symbols, cells):
        try:
            ts = np.asarray(shares_cell, dtype=float).ravel()
            vp = np.asarray(volume_cell, dtype=float).ravel()
        except (TypeError, ValueError):
            raise InvalidValueError("trade_schedule", [symbol], "is not a sequence of numbers",
                                    "put a list of shares per period in each cell") from None
        if ts.size == 0 or ts.size != vp.size:
            raise InconsistentInputError(
                f"'trade_schedule' and 'volume_profile' of {symbol} need the same, non-zero number of periods "
                f"(have {ts.size} and {vp.size})")
        pairs.append((ts, vp))
    periods = np.array([ts.size for ts, _ in pairs], dtype=int)
    width = int(periods.max(initial=0))
    shares, volume = np.zeros((len(pairs), width)), np.ones((len(pairs), width))
    for k, (ts, vp) in enumerate(pairs):
        shares[k, :ts.size], volume[k, :vp.size] = ts, vp
    with np.errstate(invalid="ignore"):
        total = shares.sum(axis=1)
        bad = (~np.isfinite(shares) | ~np.isfinite(volume) | (shares < 0) | (volume <= 0)).any(axis=1) | ~(total > 0)
    if bad.any():
        raise InvalidValueError("trade_schedule", symbols[bad], "has negative, NaN or all-zero periods "
                                "(or volume_profile has a period <= 0)",
                                "give shares >= 0 per period and market volume > 0 per period")
    if orders.shares is not None:
        off = ~np.isclose(total, orders.shares[rows], rtol=col.SIZE_RTOL)
        if off.any():
            k = int(np.flatnonzero(off)[0])
            raise InconsistentInputError(
                f"'trade_schedule' of {symbols[k]} sums to {total[k]:.6g} shares but 'shares' is "
                f"{orders.shares[rows[k]]:.6g}; make the schedule add up to the order")
    market_volume = np.where(np.arange(width) < periods[:, None], volume, 0.0).sum(axis=1)
    return _Schedules(rows, shares, volume, periods, total, market_volume)