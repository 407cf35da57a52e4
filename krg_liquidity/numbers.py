"""Numbers as spreadsheets write them: "200,000", "24.1%", "$1,250.50", "(3,000)".

Rules (a decimal point only; a decimal comma such as "0,241" is not a number here):
thousands separators are commas between groups of three digits ("1,234,567.5"); a
trailing "%" divides by 100 ("24.1%" -> 0.241); a leading currency sign ($, EUR, GBP, JPY
symbols) is dropped; parentheses mean negative ("(3,000)" -> -3000). Blank cells are NaN.
Anything else that is not a number stays unreadable (NaN here; the checks name it).
"""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pandas as pd

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d*)?$")


def parse_number(value: object) -> float:
    """One cell as a float (NaN when blank or unreadable).

    >>> parse_number("200,000"), parse_number("24.1%"), parse_number("(1,500.5)"), parse_number("$12.5")
    (200000.0, 0.241, -1500.5, 12.5)
    >>> import math; math.isnan(parse_number("0,241")), math.isnan(parse_number("1 day"))
    (True, True)
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
    if _GROUPED.match(text):
        text = text.replace(",", "")
    if not _NUMBER.match(text):
        return np.nan
    return sign * (float(Decimal(text) / 100) if percent else float(text))


def parse_numbers(values: pd.Series) -> pd.Series:
    """A column as floats by :func:`parse_number` (numeric columns pass through unchanged).

    Plain numbers are converted in one vectorized pass; only the remaining cells ("1,000",
    "24%", ...) go through :func:`parse_number`.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    cells = values.astype(object)
    fast = pd.to_numeric(cells, errors="coerce").astype(float)
    rest = fast.isna() & ~blank_cells(cells)
    if rest.any():
        lookup = {v: parse_number(v) for v in pd.unique(cells[rest])}
        fast[rest] = cells[rest].map(lookup).astype(float)
    return fast


def blank_cells(values: pd.Series) -> pd.Series:
    """True where a cell is empty: NaN/None or only spaces."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return values.isna()
    if isinstance(values.dtype, pd.StringDtype):
        return (values.isna() | values.str.strip().eq("")).fillna(True).astype(bool)
    flags = [v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())
             or v is pd.NA for v in values.astype(object)]
    return pd.Series(flags, index=values.index, dtype=bool)
