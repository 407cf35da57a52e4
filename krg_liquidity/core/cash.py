"""A cash target as a PM writes it, read the same way by the CLI, batch files, the desk and Python.

Accepted (case-insensitive, spaces around the parts ignored):

- a number of dollars: ``1e9``, ``1000000000``, ``1,000,000,000`` (commas between groups of
  three digits), with an optional leading ``$``;
- a number with a shorthand multiplier: ``k`` (x 1e3), ``m`` or ``mm`` (x 1e6), ``b`` or
  ``bn`` (x 1e9), e.g. ``250m``, ``$1.5bn``, ``750K``;
- a percent of the book's net value: ``10%``, ``2.5 %``.

A Python int or float is dollars. Anything else (a decimal comma, ``10m%``, a word) is refused
with an :class:`InputError` naming the value. A target that is positive but tiny, below $1,000
on a book worth $1M or more, or below 1e-6 of the book's net value, is refused too (it is most
often a percent typed as a decimal: ``0.142`` for 14.2%), with "did you mean N%?", unless small
cash is allowed explicitly (CLI ``--allow-small-cash``, Python ``allow_small_cash=True``,
batch column ``allow_small_cash``).
"""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np

from krg_liquidity.core.errors import InputError
from krg_liquidity.core.numbers import dollars, parse_number

SMALL_CASH_USD = 1_000.0
"""A target below this many dollars is refused on a book worth ``MILLIONS_USD`` or more."""
MILLIONS_USD = 1e6
SMALL_CASH_FRACTION = 1e-6
"""A target below this fraction of the book's net value is refused (any book size)."""

_MULTIPLIERS = {"k": 1_000, "m": 1_000_000, "mm": 1_000_000, "b": 1_000_000_000, "bn": 1_000_000_000}
_SHORTHAND = re.compile(r"^(?P<number>.*[\d.])\s*(?P<unit>k|mm|m|bn|b)$", re.IGNORECASE)
FORMS = "USD (1e9, 1,000,000,000, $1e9), a shorthand (250m, 1.5bn, 750k) or a percent of the book's net value (10%)"


def parse_cash(value: object, name: str = "cash") -> tuple[float, bool]:
    """The amount and whether it is a fraction of the book's net value (a ``%`` was written).

    ``name``: how the caller's user spells the input (``"--cash"``, ``"column 'cash'"``), for
    the message. Raises :class:`InputError` for anything unreadable, not finite or not positive.

    >>> parse_cash("250m"), parse_cash("$1,000,000,000"), parse_cash("1.5BN"), parse_cash("10%")
    ((250000000.0, False), (1000000000.0, False), (1500000000.0, False), (0.1, True))
    >>> parse_cash(1e9)
    (1000000000.0, False)
    """
    if isinstance(value, (bool, np.bool_)) or value is None:
        raise InputError(f"{name} {value!r} is not an amount; give {FORMS}")
    percent = False
    if isinstance(value, (int, float, np.integer, np.floating)):
        amount = float(value)
    else:
        text = str(value).strip()
        percent = text.endswith("%")
        found = None if percent else _SHORTHAND.match(text)
        if found:
            number = parse_number(found["number"].strip())
            scale = _MULTIPLIERS[found["unit"].lower()]
            amount = float(Decimal(repr(number)) * scale) if np.isfinite(number) else np.nan
        else:
            amount = parse_number(text)
    if not np.isfinite(amount):
        raise InputError(f"{name} {str(value)[:40]!r} is not an amount; give {FORMS}")
    if amount <= 0:
        raise InputError(f"{name} {str(value)[:40]!r} must be a positive number of dollars (or a percent); give {FORMS}")
    return amount, percent


def cash_usd(value: object, net_value_usd: float, *, allow_small_cash: bool = False, name: str = "cash",
             allow: str = "pass allow_small_cash=True") -> float:
    """The cash target in USD: ``value`` read by :func:`parse_cash`, a percent taken of ``net_value_usd``.

    Parameters
    ----------
    value : str or float
        The target as written (see the module's accepted forms); a number is dollars.
    net_value_usd : float
        The book's net value (USD): the base of a percent and of the small-target check.
    allow_small_cash : bool
        Accept a target below $1,000 on a book worth $1M or more, or below 1e-6 of the net value
        (never one below a cent or 1e-12 of the net value: nothing to trade).
    name, allow : str
        How the user spells the input and how to allow a small target, for the messages
        (``"--cash"`` and ``"pass --allow-small-cash"`` on the command line).

    Returns
    -------
    float
        Dollars.

    Raises
    ------
    InputError
        Unreadable, not positive, a percent of a book whose net value is not positive, or a
        small target not allowed (the message asks "did you mean N%?").

    Examples
    --------
    >>> cash_usd("10%", 1e10), cash_usd("250m", 1e10)
    (1000000000.0, 250000000.0)
    >>> try:
    ...     cash_usd(0.142, 1e10)
    ... except InputError as exc:
    ...     print("did you mean 14.2%?" in str(exc))
    True
    """
    amount, percent = parse_cash(value, name)
    if percent:
        if not net_value_usd > 0:
            raise InputError(f"{name} {value!r} is a percent of the book's net value, which is "
                             f"{dollars(net_value_usd)}; give the cash in dollars")
        amount *= net_value_usd
    if not allow_small_cash and is_small(amount, net_value_usd):
        raise InputError(small_cash_message(value, amount, net_value_usd, name, allow))
    if amount < max(0.01, 1e-12 * abs(net_value_usd)):  # allowed or not: nothing to trade
        raise InputError(f"{name} {value!r} is ${amount:.2g}, below a cent (or 1e-12 of the book): there is "
                         "nothing to trade; give the cash target in dollars or as a percent (10%)")
    return amount


def is_small(cash: float, net_value_usd: float) -> bool:
    """True for a target below $1,000 on a book worth $1M or more, or below 1e-6 of its net value."""
    return bool(cash < small_cash_floor(net_value_usd)[0])


def small_cash_floor(net_value_usd: float) -> tuple[float, str]:
    """The smallest target (USD) accepted without ``allow_small_cash`` on a book of this net value,
    and the rule that sets it in words: $1,000 on a book worth $1M or more, or one millionth of the
    net value when that is larger.

    >>> small_cash_floor(5e6)
    (1000.0, '$1,000 on a book worth $1M or more')
    >>> small_cash_floor(1e10)
    (10000.0, "one millionth of the book's net value")
    """
    book = abs(net_value_usd)
    fraction = SMALL_CASH_FRACTION * book
    if book >= MILLIONS_USD and SMALL_CASH_USD >= fraction:
        return SMALL_CASH_USD, f"${SMALL_CASH_USD:,.0f} on a book worth $1M or more"
    return fraction, "one millionth of the book's net value"


def small_cash_message(value: object, cash: float, net_value_usd: float, name: str, allow: str) -> str:
    """Why a small target is refused (the floor that applied, in dollars, and its rule), with the
    percent it probably meant and ``allow``: how to ask for this little on purpose."""
    written = value if isinstance(value, str) else f"{value:g}"
    percent = None  # the percent the number would be, when that reading makes sense
    if not (isinstance(value, str) and value.strip().endswith("%")):
        percent = cash * 100 if cash <= 1 else cash if cash <= 100 else None
    guess = "" if percent is None else f"did you mean {percent:g}%? "
    floor, rule = small_cash_floor(net_value_usd)
    shown = f"${floor:,.0f}" if floor >= 100 else f"${floor:,.2f}"
    return (f"{name} {written} is ${cash:,.2f} on a book worth ${net_value_usd:,.0f}, below the smallest "
            f"target of {shown} ({rule}): {guess}{'W' if guess else 'w'}rite the percent sign "
            f"({10 if percent is None else percent:g}%) or the dollars (250m, 1.5bn), or {allow} to raise this "
            "little on purpose")
