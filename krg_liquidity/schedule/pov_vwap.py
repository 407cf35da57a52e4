"""Trading schedules: shares per name per intraday bucket per day (POV or VWAP).

Input: any table with symbol, signed shares (``shares``, or ``shares_traded`` as in a
``LiquidationResult.trades``; negative = sell), ``adv`` (shares/day) and, for POV
schedules, a ``pov`` or a trade time (``trade_time`` / ``trade_time_days``) per name.
Output: a tidy DataFrame, one row per name and bucket with a trade:
symbol, day (1 = first), bucket_start, shares (whole, signed), cum_shares, fraction_done,
expected_market_volume (ADV x the profile's fraction: the other participants' volume),
pov (shares / (shares + expected_market_volume)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from krg_liquidity.book import columns as col
from krg_liquidity.book.orders import as_table
from krg_liquidity.core import arguments
from krg_liquidity.core.errors import InvalidValueError, MissingColumnError
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.profiles import load_volume_profile, profile_buckets

SCHEDULE_COLUMNS = ("symbol", "day", "bucket_start", "shares", "cum_shares", "fraction_done",
                    "expected_market_volume", "pov")


def _orders(trades: pd.DataFrame, need_strategy: bool, whole_shares: bool = True) -> pd.DataFrame:
    """Normalized orders with |shares| > 0 (rounded to whole shares if asked): symbol, quantity, side, adv, pov."""
    frame = col.normalize_columns(as_table(trades))
    frame = col.use_traded_shares(frame)
    col.require(frame, "shares", "adv", context="a schedule")
    shares = col.numeric(frame, "shares")
    quantity = np.round(np.abs(shares)) if whole_shares else np.abs(shares)
    keep = quantity > 0
    frame = frame.loc[keep].reset_index(drop=True)
    out = pd.DataFrame({"symbol": frame["symbol"], "quantity": quantity[keep], "side": np.sign(shares[keep])})
    if frame.empty:
        return out.assign(adv=[], pov=[])
    col.unique_symbols(frame, "the trades")
    out["adv"] = col.numeric(frame, "adv", positive=True, fix="a schedule needs each name's ADV (shares/day) > 0")
    if not need_strategy:
        return out
    pov = col.numeric(frame, "pov", allow_nan=True) if "pov" in frame else np.full(len(frame), np.nan)
    time = col.numeric(frame, "trade_time", allow_nan=True) if "trade_time" in frame else np.full(len(frame), np.nan)
    symbols = frame["symbol"].to_numpy()
    bad = ~np.isnan(pov) & ((pov <= 0) | (pov > 1))
    if bad.any():
        raise InvalidValueError("pov", symbols[bad], "must be in (0, 1]", "give POV as a decimal, e.g. 0.1")
    use_time = np.isnan(pov)
    if (use_time & np.isnan(time)).any():
        raise MissingColumnError("pov", frame.columns, f"{symbols[use_time & np.isnan(time)][0]} needs a 'pov' or a "
                                 "'trade_time' (days)")
    bad = use_time & (time <= 0)
    if bad.any():
        raise InvalidValueError("trade_time", symbols[bad], "must be > 0 days", "give a horizon in days, e.g. 1.0")
    size = out["quantity"].to_numpy() / out["adv"].to_numpy()
    out["pov"] = np.where(use_time, size / (size + np.where(use_time, time, 1.0)), pov)
    return out


def bucket_grid(profile, bucket_minutes: int, symbols) -> tuple[np.ndarray, np.ndarray]:
    """Bucket starts (minutes) and fractions per name (names x buckets)."""
    profile = load_volume_profile() if profile is None else profile
    starts, fractions = profile_buckets(profile, bucket_minutes)
    if fractions.ndim == 1:
        return starts, np.broadcast_to(fractions, (len(symbols), fractions.size))
    table = pd.DataFrame(fractions, index=pd.Index(profile.index).astype(str))
    missing = [s for s in symbols if s not in table.index]
    if missing:
        raise MissingColumnError(str(missing[0]), table.index[:8],
                                 f"the per-symbol volume profile has no row for {', '.join(missing[:8])}")
    return starts, table.loc[list(symbols)].to_numpy()


def start_date(start) -> np.datetime64:
    """The first trading day asked for (a date, or text YYYY-MM-DD; None: today), before any roll."""
    if start is None:
        return np.datetime64(pd.Timestamp.today().date(), "D")
    try:
        return np.datetime64(pd.Timestamp(start).date(), "D")
    except (ValueError, TypeError):
        raise InvalidValueError("start", [str(start)], "is not a date", "give the first trading day as YYYY-MM-DD, "
                                "e.g. 2026-11-23") from None


def _timestamps(start, day: np.ndarray, minute: np.ndarray) -> np.ndarray:
    first = start_date(start)
    first = np.busday_offset(first, 0, roll="forward")
    days = np.busday_offset(first, np.arange(int(day.max()) + 1 if day.size else 1))
    return days[day].astype("datetime64[m]") + minute.astype("timedelta64[m]")


def schedule_frame(orders, name, day, minute, shares, volume, start) -> pd.DataFrame:
    side = orders["side"].to_numpy()[name]
    signed = shares * side
    cum = np.cumsum(signed)
    group_start = np.r_[0, np.flatnonzero(np.diff(name)) + 1] if name.size else np.array([], dtype=int)
    offsets = np.repeat(cum[group_start] - signed[group_start], np.diff(np.r_[group_start, name.size]))
    cum_shares = cum - offsets
    symbols: pd.Categorical | list[str] = (
        pd.Categorical.from_codes(name, categories=orders["symbol"].astype(str).tolist()) if name.size else [])
    return pd.DataFrame({
        "symbol": symbols,
        "day": day + 1,
        "bucket_start": _timestamps(start, day, minute),
        "shares": signed,
        "cum_shares": cum_shares,
        "fraction_done": np.abs(cum_shares) / orders["quantity"].to_numpy()[name] if name.size else [],
        "expected_market_volume": volume,
        "pov": _pov(shares, volume),
    })


def _pov(shares: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """Our shares over all shares traded in the bucket (0 where nothing trades)."""
    total = np.asarray(shares + volume, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, shares / np.where(total > 0, total, 1.0), 0.0)


def pov_schedule(trades: pd.DataFrame, profile=None, bucket_minutes: int = 30, start=None,
                 whole_shares: bool = True) -> pd.DataFrame:
    """Percent-of-volume schedule: each name trades POV/(1-POV) x the bucket's expected volume.

    From the first bucket of day 1 until done: a name needs ceil(trade time) days, trade
    time = size (1 - POV)/POV. With ``whole_shares`` every bucket but each name's last
    trades floor(its exact allowance), so none exceeds the target POV, and the last takes
    the remainder: each name's schedule sums exactly to its order.

    Parameters
    ----------
    trades : pandas.DataFrame
        One row per name: symbol, shares (signed: negative = sell), adv (shares/day) and a ``pov``
        (fraction of market volume) or ``trade_time`` (days); a ``LiquidationResult.trades`` table
        as is.
    profile : pandas.Series or pandas.DataFrame, optional
        Intraday volume profile, one for all or per symbol (default: the bundled US model).
    bucket_minutes : int
        Minutes per bucket.
    start : str or date, optional
        First trading day (business days follow; default today).
    whole_shares : bool
        Trade whole shares (else exact fractions).

    Returns
    -------
    pandas.DataFrame
        One row per name and bucket (``SCHEDULE_COLUMNS``): symbol, day, bucket_start, shares
        (signed), cum_shares, fraction_done, expected_market_volume (shares), pov.

    Raises
    ------
    InputError
        A missing ``pov``/``trade_time``, a POV outside (0, 1], a trade time not > 0, a profile
        without a traded symbol, or an unreadable ``start``.

    Examples
    --------
    >>> trades = pd.DataFrame({"symbol": ["A"], "shares": [-30000], "adv": [1e6], "pov": [0.02]})
    >>> schedule = pov_schedule(trades, bucket_minutes=65, start="2026-01-05")
    >>> int(schedule["shares"].sum()), int(schedule["day"].max())
    (-30000, 2)
    """
    orders = _orders(trades, need_strategy=True, whole_shares=whole_shares)
    if orders.empty:
        return pd.DataFrame(columns=list(SCHEDULE_COLUMNS))
    starts, fractions = bucket_grid(profile, bucket_minutes, orders["symbol"])
    n, per_day = fractions.shape
    quantity, adv, pov = (orders[c].to_numpy(float) for c in ("quantity", "adv", "pov"))
    with np.errstate(divide="ignore"):
        daily = np.where(pov < 1.0, pov / (1.0 - pov) * adv, np.inf)  # our shares per full day
    cumulative = np.cumsum(fractions, axis=1)
    # Rounding the order to whole shares may add up to half a share: it rides in the last bucket
    # rather than opening a new one (tolerance of one share; relative 1e-12 for exact schedules).
    needed = np.maximum(quantity - (1.0 if whole_shares else 1e-12 * quantity), 0.0)
    full_days = np.where(np.isfinite(daily), np.floor(needed / daily * (1 + 1e-12)), 0)
    left = needed - full_days * np.where(np.isfinite(daily), daily, 0.0)
    left_fraction = np.where(np.isfinite(daily), left / daily, 0.0)
    done_in_day = (cumulative < (left_fraction * (1 - 1e-12))[:, None]).sum(axis=1) + 1
    counts = np.where(left_fraction > 1e-12, full_days * per_day + done_in_day, full_days * per_day).astype(int)
    counts = np.maximum(counts, 1)
    name = np.repeat(np.arange(n), counts)
    first_row = np.r_[0, np.cumsum(counts)[:-1]]
    k = np.arange(name.size) - np.repeat(first_row, counts)
    day, bucket = k // per_day, k % per_day
    volume = adv[name] * fractions[name, bucket]
    allowance = np.where(np.isfinite(daily[name]), daily[name] * fractions[name, bucket], quantity[name])
    shares = np.floor(allowance) if whole_shares else allowance.copy()
    last = first_row + counts - 1
    shares[last] = 0.0
    shares[last] = quantity - np.add.reduceat(shares, first_row)
    return schedule_frame(orders, name, day, starts[bucket], shares, volume, start)


def vwap_schedule(trades: pd.DataFrame, horizon_days: float, profile=None, bucket_minutes: int = 30, start=None,
                  whole_shares: bool = True) -> pd.DataFrame:
    """VWAP schedule: each name's order spread over ``horizon_days`` in proportion to expected volume.

    The horizon is rounded to whole buckets (at least one). Whole shares follow the rounded
    cumulative target, so each bucket is within one share of its exact share and the total
    is exact.

    Parameters
    ----------
    trades : pandas.DataFrame
        One row per name: symbol, shares (signed: negative = sell), adv (shares/day).
    horizon_days : float
        The horizon (days, > 0).
    profile : pandas.Series or pandas.DataFrame, optional
        Intraday volume profile, one for all or per symbol (default: the bundled US model).
    bucket_minutes : int
        Minutes per bucket.
    start : str or date, optional
        First trading day (business days follow; default today).
    whole_shares : bool
        Trade whole shares (else exact fractions).

    Returns
    -------
    pandas.DataFrame
        One row per name and bucket, the columns of :func:`pov_schedule`.

    Raises
    ------
    InputError
        A horizon not > 0, a profile without a traded symbol, or an unreadable ``start``.

    Examples
    --------
    >>> trades = pd.DataFrame({"symbol": ["A"], "shares": [-30000], "adv": [1e6]})
    >>> schedule = vwap_schedule(trades, 1.0, bucket_minutes=65, start="2026-01-05")
    >>> int(schedule["shares"].sum()), len(schedule)
    (-30000, 6)
    """
    orders = _orders(trades, need_strategy=False, whole_shares=whole_shares)
    if orders.empty:
        return pd.DataFrame(columns=list(SCHEDULE_COLUMNS))
    horizon_days = arguments.number(horizon_days, "horizon_days", "give the VWAP horizon in days, e.g. 1.0")
    if not np.isfinite(horizon_days) or horizon_days <= 0:
        raise InvalidValueError("horizon_days", ["(all)"], "must be > 0", "give the VWAP horizon in days, e.g. 1.0")
    starts, fractions = bucket_grid(profile, bucket_minutes, orders["symbol"])
    n, per_day = fractions.shape
    buckets = max(1, int(round(horizon_days * per_day)))
    k = np.arange(buckets)
    weights = fractions[:, k % per_day]
    weights = weights / weights.sum(axis=1, keepdims=True)
    quantity = orders["quantity"].to_numpy(float)
    exact = np.cumsum(weights, axis=1) * quantity[:, None]
    cumulative = np.round(exact) if whole_shares else exact
    cumulative[:, -1] = quantity
    shares = np.diff(np.concatenate([np.zeros((n, 1)), cumulative], axis=1), axis=1)
    name, kk = np.repeat(np.arange(n), buckets), np.tile(k, n)
    keep = shares.ravel() != 0
    name, kk = name[keep], kk[keep]
    adv = orders["adv"].to_numpy(float)
    volume = adv[name] * fractions[name, kk % per_day]
    return schedule_frame(orders, name, kk // per_day, starts[kk % per_day], shares.ravel()[keep], volume, start)


def schedule_grid(schedule) -> pd.DataFrame:
    """A trader's grid of a schedule: one row per bucket, one column per name.

    Parameters
    ----------
    schedule : pandas.DataFrame or ScheduleSolution
        A tidy schedule (:func:`pov_schedule`, :func:`vwap_schedule`, its file read back) or a
        :class:`~krg_liquidity.ScheduleSolution`.

    Returns
    -------
    pandas.DataFrame
        Columns ``day``, ``bucket_start``, then one per name (in the schedule's order): signed
        shares traded in that bucket (negative = sell; 0 where the name does not trade then). Each
        name's column sums to its order.

    Raises
    ------
    InputError
        ``schedule`` is not a schedule table (or lacks one of its columns).

    Examples
    --------
    >>> import pandas as pd
    >>> trades = pd.DataFrame({"symbol": ["AAA", "BBB"], "shares": [-10_000, -3_000], "adv": [1e6, 1e5],
    ...                        "pov": [0.1, 0.1]})
    >>> grid = schedule_grid(pov_schedule(trades, bucket_minutes=130, start="2026-01-05"))
    >>> list(grid.columns), int(grid["AAA"].sum()), int(grid["BBB"].sum())
    (['day', 'bucket_start', 'AAA', 'BBB'], -10000, -3000)
    """
    frame = getattr(schedule, "schedule", schedule)
    if not isinstance(frame, pd.DataFrame):
        raise InvalidValueError("schedule", ["(all)"], f"is a {type(schedule).__name__}",
                                "give a schedule table (pov_schedule, vwap_schedule) or a ScheduleSolution")
    for column in ("symbol", "day", "bucket_start", "shares"):
        if column not in frame:
            raise MissingColumnError(column, frame.columns, "give a schedule table (pov_schedule, vwap_schedule)")
    names = frame["symbol"].astype(str)
    grid = (frame.assign(symbol=names)
            .pivot_table(index=["day", "bucket_start"], columns="symbol", values="shares", aggfunc="sum",
                         fill_value=0.0, observed=True)
            .reindex(columns=list(dict.fromkeys(names)), fill_value=0.0)
            .reset_index())
    grid.columns.name = None
    return grid


def schedule_impact(schedule: pd.DataFrame, trades: pd.DataFrame, cost_model: CostModel | None = None) -> pd.Series:
    """Market impact (bps) of each name's schedule through the cost model's trade-schedule path.

    POV_j = shares_j/(shares_j + expected market volume_j), weighted by shares: for a constant-POV
    schedule this equals the POV formula.

    Parameters
    ----------
    schedule : pandas.DataFrame
        A tidy schedule (:func:`pov_schedule`, :func:`vwap_schedule`).
    trades : pandas.DataFrame
        Supplies adv (shares/day) and volatility (annualized decimal) per symbol.
    cost_model : CostModel, optional
        The I-Star model (None: Kissell 2013 parameters).

    Returns
    -------
    pandas.Series
        Market impact in bps of each name's traded value, indexed by symbol.

    Raises
    ------
    InputError
        ``trades`` lacks adv or volatility.

    Examples
    --------
    >>> trades = pd.DataFrame({"symbol": ["A"], "shares": [-30000], "adv": [1e6], "pov": [0.02],
    ...                        "volatility": [0.25], "price": [50.0]})
    >>> schedule = pov_schedule(trades, bucket_minutes=65, start="2026-01-05")
    >>> bool(schedule_impact(schedule, trades).loc["A"] > 0)
    True
    """
    model = cost_model or CostModel()
    info = col.normalize_columns(as_table(trades)).set_index("symbol")
    col.require(info.reset_index(), "adv", "volatility", context="schedule impact")
    grouped = schedule.assign(quantity=schedule["shares"].abs()).groupby("symbol", observed=True, sort=False)
    symbols = [str(symbol) for symbol in grouped.groups]
    rows = pd.DataFrame({
        "symbol": symbols,
        "shares": grouped["quantity"].sum().loc[symbols].to_numpy(),
        "adv": info.loc[symbols, "adv"].to_numpy(float),
        "volatility": info.loc[symbols, "volatility"].to_numpy(float),
    })
    rows["trade_schedule"] = pd.Series([g["quantity"].to_numpy() for _, g in grouped], dtype=object)
    rows["volume_profile"] = pd.Series([g["expected_market_volume"].to_numpy() for _, g in grouped], dtype=object)
    return pd.Series(model.market_impact(rows).to_numpy(), index=pd.Index(symbols, name="symbol"), name="market_impact_bps")
