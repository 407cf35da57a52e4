"""Intraday volume profiles: the fraction of a day's volume expected in each bucket.

A profile is a pandas Series indexed by bucket start ("HH:MM") whose values sum to 1, at
any uniform resolution (the bundled model is per minute), or a DataFrame with one such row
per symbol. ``profile_buckets`` aggregates it to buckets of any whole number of minutes
that divide the session and are a multiple of its resolution.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from krg_liquidity.book.datasets import data_path
from krg_liquidity.core import arguments
from krg_liquidity.core.errors import InputError
from krg_liquidity.core.numbers import parse_numbers

SUM_TOLERANCE = 1e-6


def load_volume_profile(path: str | Path | None = None) -> pd.Series:
    """A volume profile from CSV (columns: minute "HH:MM", fraction); default: the bundled US model.

    Parameters
    ----------
    path : str or Path, optional
        A CSV file: ``minute`` the bucket's start time ("HH:MM"), ``fraction`` its share of the
        day's volume.

    Returns
    -------
    pandas.Series
        The fraction of the day's volume per bucket, indexed by the bucket's start time.

    Raises
    ------
    InputError
        The ``minute`` or ``fraction`` column is missing.

    Examples
    --------
    >>> profile = load_volume_profile()
    >>> len(profile), round(float(profile.sum()), 12)
    (390, 1.0)
    """
    frame = pd.read_csv(path if path is not None else data_path("us_volume_profile.csv"), dtype={"minute": str})
    lower = {c.lower(): c for c in frame.columns}
    if "minute" not in lower or "fraction" not in lower:
        raise InputError(f"volume profile {path}: needs columns 'minute' (HH:MM bucket start) and 'fraction'")
    return pd.Series(frame[lower["fraction"]].to_numpy(float), index=frame[lower["minute"]].astype(str),
                     name="fraction")


def _minutes(labels) -> np.ndarray:
    try:
        parts = [str(label).split(":") for label in labels]
        return np.array([int(h) * 60 + int(m) for h, m in parts])
    except (ValueError, TypeError):
        raise InputError("volume profile buckets must be labelled by their start time, 'HH:MM'") from None


def profile_buckets(profile: pd.Series | pd.DataFrame, bucket_minutes: int) -> tuple[np.ndarray, np.ndarray]:
    """(bucket start minutes since midnight, fractions: buckets, or symbols x buckets).

    Checks: uniform resolution, non-negative finite fractions that sum to 1 per row,
    a bucket size that divides the session and is a multiple of the resolution.
    """
    if not isinstance(profile, (pd.Series, pd.DataFrame)):
        size = f" of {np.size(profile)} values" if isinstance(profile, (list, tuple, np.ndarray)) else ""
        raise InputError(f"profile is a {type(profile).__name__}{size}: give the fractions of a day's volume as a "
                         "pandas Series indexed by bucket start 'HH:MM' (e.g. load_volume_profile()), or a DataFrame "
                         "with one such row per symbol")
    table = profile.to_frame().T if isinstance(profile, pd.Series) else profile
    starts = _minutes(table.columns)
    steps = np.diff(starts)
    if starts.size == 0 or (steps.size and (np.any(steps != steps[0]) or steps[0] <= 0)):
        raise InputError("volume profile buckets must be consecutive and equally spaced")
    step = int(steps[0]) if steps.size else int(bucket_minutes)
    session = step * starts.size
    numeric = all(pd.api.types.is_numeric_dtype(t) for t in table.dtypes)
    values = (table if numeric else table.apply(parse_numbers)).to_numpy(dtype=float)  # text: NaN, refused below
    bad = ~np.isfinite(values).all(axis=1) | (values < 0).any(axis=1)
    if bad.any():
        raise InputError(f"volume profile has negative or missing fractions for {', '.join(map(str, table.index[bad][:8]))}")
    sums = values.sum(axis=1)
    off = np.abs(sums - 1.0) > SUM_TOLERANCE
    if off.any():
        total = sums[off][0]
        hint = "; it looks like percent: divide the fractions by 100" if abs(total - 100) < 1 else ""
        which = f"the row for {table.index[off][0]}" if len(table) > 1 else "it"
        raise InputError(f"a volume profile must sum to 1; {which} sums to {total:.6g}{hint}")
    bucket_minutes = arguments.whole_number(bucket_minutes, "bucket_minutes", "give the bucket length in whole "
                                            "minutes, e.g. 30", low=0)
    if bucket_minutes <= 0 or session % bucket_minutes or bucket_minutes % step:
        divisors = [d for d in range(step, session + 1, step) if session % d == 0]
        raise InputError(f"bucket_minutes={bucket_minutes} must divide the {session}-minute session and be a "
                         f"multiple of the profile's {step}-minute resolution; choose one of {divisors}")
    per = bucket_minutes // step
    aggregated = values.reshape(values.shape[0], -1, per).sum(axis=2)
    bucket_starts = starts[::per]
    return bucket_starts, (aggregated[0] if isinstance(profile, pd.Series) else aggregated)
