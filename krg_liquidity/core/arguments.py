"""Scalar call arguments checked once, with the parameter's name and the fix in every refusal.

Numbers may be given as Python or NumPy numbers, or as text the way a book cell reads
(:func:`~krg_liquidity.core.numbers.parse_number`): a fraction given as ``"20%"`` is 0.2, as in a
book's ``pov`` column. ``True``/``False``, ``None`` where a number is required, NaN and text
that is not a number are refused with :class:`~krg_liquidity.core.errors.InvalidValueError`.
"""

from __future__ import annotations

import math

import numpy as np

from krg_liquidity.core.errors import InvalidValueError
from krg_liquidity.core.numbers import parse_number

ALL = ["(all)"]  # InvalidValueError's marker for a parameter (not some rows)


def _shown(value: object) -> str:
    return repr(value) if isinstance(value, str) else f"{value}"


def number(value: object, name: str, fix: str, *, percent: bool = False) -> float:
    """``value`` as a float, NaN refused (``percent``: text such as "20%" reads as 0.2; otherwise a
    percent sign is refused, since the parameter is not a fraction).

    >>> number("20%", "max_pov", "give a decimal", percent=True), number(np.float32(2), "periods", "")
    (0.2, 2.0)
    """
    if isinstance(value, (bool, np.bool_)) or value is None:
        raise InvalidValueError(name, ALL, f"is {_shown(value)}, not a number", fix)
    if isinstance(value, str) and value.strip().endswith("%") and not percent:
        raise InvalidValueError(name, ALL, f"is {value!r}: a percent, and this is not a fraction", fix)
    if isinstance(value, (int, float, np.integer, np.floating, str)):
        parsed = parse_number(value)
    else:
        size = np.size(value) if isinstance(value, (list, tuple, np.ndarray)) else None
        what = f"{size} values" if size is not None else f"a {type(value).__name__}"
        raise InvalidValueError(name, ALL, f"is {what}, not one number", fix)
    if math.isnan(parsed):
        raise InvalidValueError(name, ALL, f"is {_shown(value)}, not a number", fix)
    return parsed


def fraction(value: object, name: str, *, closed: bool = True) -> float:
    """A participation or similar fraction in (0, 1] (``closed=False``: (0, 1)); "20%" is 0.2.

    >>> fraction("20%", "max_pov")
    0.2
    """
    upper = "1]" if closed else "1)"
    fix = "give a decimal, e.g. '20%' or 0.2 for 20%"
    share = number(value, name, fix, percent=True)
    if not (share > 0 and (share <= 1 if closed else share < 1)):
        raise InvalidValueError(name, ALL, f"must be in (0, {upper} (it is {share:g})", fix)
    return share


def whole_number(value: object, name: str, fix: str, low: int = 1) -> int:
    """A count of at least ``low`` (a float with no fractional part is accepted).

    >>> whole_number(13.0, "periods", "give a count")
    13
    """
    count = number(value, name, fix)
    if not (math.isfinite(count) and count == round(count) and count >= low):
        raise InvalidValueError(name, ALL, f"is {_shown(value)}; it must be a whole number >= {low}", fix)
    return int(count)


def non_negative(value: object, name: str, fix: str) -> float:
    """A finite number >= 0."""
    amount = number(value, name, fix)
    if not (math.isfinite(amount) and amount >= 0):
        raise InvalidValueError(name, ALL, f"is {_shown(value)}; it must be a finite number >= 0", fix)
    return amount


def time_limit(value: object, name: str = "time_limit") -> float:
    """Seconds a call may take: a number > 0 (inf: no limit). Zero, negative and NaN are refused:
    no plan can be checked in no time."""
    fix = "give the seconds the call may take, e.g. 10"
    seconds = number(value, name, fix)
    if not seconds > 0:
        raise InvalidValueError(name, ALL, f"is {_shown(value)}; it must be a positive number of seconds", fix)
    return seconds
