"""Numbers as spreadsheets write them: "200,000", "24.1%", "$1,250.50", "(3,000)".

Rules (by default a decimal point; a decimal comma such as "0,241" is not a number then):
thousands separators are commas between groups of three digits ("1,234,567.5"); a
trailing "%" divides by 100 ("24.1%" -> 0.241); a leading currency sign ($, EUR, GBP, JPY
symbols) is dropped; parentheses mean negative ("(3,000)" -> -3000). Blank cells are NaN.
Anything else that is not a number stays unreadable (NaN here; the checks name it).

With ``decimal=","`` (the convention of many European files, found by :func:`decimal_mark`
from a file's own numbers) the roles swap: "1.234.567,5" is 1234567.5 and "207.500" is 207500.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

import numpy as np
import pandas as pd

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d*)?$")
_GROUPED_COMMA_DECIMAL = re.compile(r"^[+-]?([1-9]\d{0,2}(\.\d{3})+|\d+)(,\d*)?$")
# What a cell shows about the file's decimal mark (after signs, currency and % are stripped). Decimal
# comma: "1.234,5", "1.234.567", "12,5", "0,241" (a comma not before exactly three digits, or after a 0).
# Decimal point: "1,234.5", "1,234,567", "12.5", "0.241". "207.500" or "1,234" alone say nothing.
_COMMA_DECIMAL = re.compile(r"^(\d{1,3}(\.\d{3})+,\d*|\d{1,3}(\.\d{3}){2,}|\d*,(\d{1,2}|\d{4,})|0,\d+)$")
_POINT_DECIMAL = re.compile(r"^(\d{1,3}(,\d{3})+\.\d*|\d{1,3}(,\d{3}){2,}|\d*\.(\d{1,2}|\d{4,})|0\.\d+)$")


def dollars(value: float) -> str:
    """An amount of USD as a PM writes it: the sign before the dollar sign, whole dollars, and cents
    below $100 (a small target is not printed as $0).

    >>> dollars(-750_000), dollars(1e9), dollars(0.142), dollars(99.5)
    ('-$750,000', '$1,000,000,000', '$0.14', '$99.50')
    """
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}" if abs(value) < 100 else f"{sign}${abs(value):,.0f}"


def parse_number(value: object, decimal: str = ".") -> float:
    """One cell as a float (NaN when blank or unreadable); ``decimal``: "." or "," (see above).

    >>> parse_number("200,000"), parse_number("24.1%"), parse_number("(1,500.5)"), parse_number("$12.5")
    (200000.0, 0.241, -1500.5, 12.5)
    >>> import math; math.isnan(parse_number("0,241")), math.isnan(parse_number("1 day"))
    (True, True)
    >>> parse_number("207.500", decimal=","), parse_number("1.234,5", decimal=","), parse_number("0,241", decimal=",")
    (207500.0, 1234.5, 0.241)
    """
    if value is None or isinstance(value, bool):
        return np.nan
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    text = str(value).strip().replace("\u00a0", "").replace("\u202f", "")
    if not text:
        return np.nan
    sign = 1.0
    if text.startswith("(") and text.endswith(")"):
        sign, text = -1.0, text[1:-1].strip()
    percent = text.endswith("%")
    if percent:
        text = text[:-1].strip()
    text = text.lstrip("$\u20ac\u00a3\u00a5").strip()
    if decimal == "," and _GROUPED_COMMA_DECIMAL.match(text):
        text = text.replace(".", "").replace(",", ".")
    elif decimal != "," and _GROUPED.match(text):
        text = text.replace(",", "")
    if not _NUMBER.match(text):
        return np.nan
    return sign * (float(Decimal(text) / 100) if percent else float(text))


def parse_numbers(values: pd.Series, decimal: str = ".") -> pd.Series:
    """A column as floats by :func:`parse_number` (numeric columns pass through unchanged).

    Plain numbers are converted in one vectorized pass; only the remaining cells ("1,000",
    "24%", ...; with ``decimal=","`` also every text cell with a dot) go through
    :func:`parse_number`.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    cells = values.astype(object)
    fast = pd.to_numeric(cells, errors="coerce").astype(float)
    rest = fast.isna() & ~blank_cells(cells)
    if decimal == ",":
        rest |= cells.map(lambda v: isinstance(v, str) and "." in v).astype(bool)
    if rest.any():
        lookup = {v: parse_number(v, decimal) for v in pd.unique(cells[rest])}
        fast[rest] = cells[rest].map(lookup).astype(float)
    return fast


def decimal_mark(cells: Iterable[object]) -> str | None:
    """The decimal mark the text cells agree on: "," (with dots between thousands), "." (with commas),
    or None when they show neither or both (:func:`decimal_examples` says which).

    >>> decimal_mark(["207.500", "12,5"]), decimal_mark(["207.500", "1,250.5"]), decimal_mark(["207.500", "1000"])
    (',', '.', None)
    """
    found = decimal_examples(cells)
    return next(iter(found)) if len(found) == 1 else None


def decimal_examples(cells: Iterable[object]) -> dict[str, str]:
    """The first text cell showing each decimal mark: {",": "12,50", ".": "45.10"} for cells that mix
    them, one entry when they agree, none when no cell tells ("207.500" or "1,234" alone say nothing).

    >>> decimal_examples(["207.500", "12,50", "45.10", "0,241"])
    {',': '12,50', '.': '45.10'}
    """
    found: dict[str, str] = {}
    for cell in cells:
        if not isinstance(cell, str):
            continue
        text = cell.strip().strip("()").rstrip("%").strip().lstrip("+-$\u20ac\u00a3\u00a5").strip()
        text = text.replace("\u00a0", "").replace("\u202f", "")
        if "," not in found and _COMMA_DECIMAL.match(text):
            found[","] = cell
        if "." not in found and _POINT_DECIMAL.match(text):
            found["."] = cell
        if len(found) == 2:
            break
    return found


def blank_cells(values: pd.Series) -> pd.Series:
    """True where a cell is empty: NaN/None or only spaces."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values.isna()
    if isinstance(values.dtype, pd.StringDtype):
        return (values.isna() | values.str.strip().eq("")).fillna(True).astype(bool)
    flags = [v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())
             or v is pd.NA for v in values.astype(object)]
    return pd.Series(flags, index=values.index, dtype=bool)


_BPS_SUFFIX = re.compile(r"\s*bps?$", re.IGNORECASE)
_TIMES_SUFFIX = re.compile(r"\s*x$", re.IGNORECASE)


def parse_bps(value: object) -> float:
    """Basis points as a PM writes them: "50", "50bps", "50 bps" or "0.5%" is 50 (NaN when unreadable).

    >>> parse_bps("50bps"), parse_bps("50 bps"), parse_bps("0.5%"), parse_bps(12.5)
    (50.0, 50.0, 50.0, 12.5)
    """
    if not isinstance(value, str):
        return parse_number(value)
    plain = _BPS_SUFFIX.sub("", value.strip())
    if plain.endswith("%"):
        return parse_number(plain[:-1]) * 100
    return parse_number(plain)


def parse_ratio(value: object) -> float:
    """A multiple of today's risk: "0.9", "0.9x" or "90%" is 0.9 (NaN when unreadable).

    >>> parse_ratio("90%"), parse_ratio("1.1x"), parse_ratio(0.95)
    (0.9, 1.1, 0.95)
    """
    if not isinstance(value, str):
        return parse_number(value)
    return parse_number(_TIMES_SUFFIX.sub("", value.strip()))


def json_plain(value: object) -> object:
    """``value`` with what JSON cannot hold made plain, recursively: NaN and inf become None, numpy scalars
    Python numbers, a DataFrame its records, a Series a dict, timestamps ISO text.

    >>> json_plain({"a": float("nan"), "b": [np.float64(1.5), pd.Timestamp("2026-12-01")]})
    {'a': None, 'b': [1.5, '2026-12-01T00:00:00']}
    """
    if isinstance(value, pd.DataFrame):
        return [json_plain(row) for row in value.to_dict("records")]
    if isinstance(value, pd.Series):
        return json_plain(value.to_dict())
    if isinstance(value, dict):
        return {str(key): json_plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_plain(item) for item in value]
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return None if pd.isna(value) else pd.Timestamp(value).isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    return value
