"""I-Star model parameters and parameter tables (MATLAB's ``miData``, in plain CSV)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from krg_liquidity.core.errors import InputError, MissingColumnError, ParameterLookupError

PARAMETER_COLUMNS = ("code", "date", "a1", "a2", "a3", "a4", "a5", "b1", "source")


@dataclass(frozen=True)
class IStarParams:
    """Parameters of the I-Star market-impact model.

    ``I* = a1 * Size^a2 * Volatility^a3 * Price^a5`` (bps) and
    ``MI = I* * (b1 * POV^a4 + 1 - b1)`` (bps), with Size the order as a fraction of ADV, Volatility
    annualized (decimal), Price in USD and POV the participation rate (fraction of market volume).

    Parameters
    ----------
    a1 : float
        Scale of I* (bps; > 0, Kissell fits 100..1000).
    a2, a3, a4 : float
        Exponents of size, volatility and POV (>= 0).
    b1 : float
        Temporary share of the impact, in (0, 1].
    a5 : float
        Exponent of price (>= 0; 0: no price term).
    code : int, optional
        Market-impact code of the set (as in a parameter table).
    date : str, optional
        Date of the set (YYYY-MM-DD).
    source : str
        Where the set comes from.

    Raises
    ------
    InputError
        A parameter is not a finite number or is out of its range.

    Examples
    --------
    >>> IStarParams(708, 0.55, 0.71, 0.50, 0.98).a1
    708.0
    """

    a1: float
    a2: float
    a3: float
    a4: float
    b1: float
    a5: float = 0.0
    code: int | None = field(default=None, compare=False)
    date: str | None = field(default=None, compare=False)
    source: str = field(default="", compare=False)

    def describe(self) -> dict:
        """The set as plain values: code, date, source and a1..a5, b1 (for results and JSON).

        Returns
        -------
        dict
            Keys code, date, source, a1, a2, a3, a4, a5, b1.

        Examples
        --------
        >>> IStarParams(708, 0.55, 0.71, 0.50, 0.98).describe()["b1"]
        0.98
        """
        return {"code": self.code, "date": self.date, "source": self.source, "a1": self.a1, "a2": self.a2,
                "a3": self.a3, "a4": self.a4, "a5": self.a5, "b1": self.b1}

    def __post_init__(self) -> None:
        for name in ("a1", "a2", "a3", "a4", "b1", "a5"):
            value = getattr(self, name)
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise InputError(f"I-Star parameter {name}={value!r} is not a number") from None
            if not math.isfinite(value):
                raise InputError(f"I-Star parameter {name}={value} must be finite")
            object.__setattr__(self, name, value)
        if self.a1 <= 0:
            raise InputError(f"I-Star parameter a1={self.a1} must be > 0 (Kissell fits 100..1000)")
        for name in ("a2", "a3", "a4", "a5"):
            if getattr(self, name) < 0:
                raise InputError(f"I-Star exponent {name}={getattr(self, name)} must be >= 0")
        if not 0 < self.b1 <= 1:
            raise InputError(f"I-Star parameter b1={self.b1} must be in (0, 1]")


KISSELL_2013_ALL_DATA = IStarParams(a1=708.0, a2=0.55, a3=0.71, a4=0.50, b1=0.98, a5=0.0, code=1, date="2013-01-01",
                                    source="Kissell (2013), Table 5.4, All Data (US equities)")
"""Kissell, *The Science of Algorithmic Trading and Portfolio Management* (2013),
Table 5.4, scenario "All Data" (US equities): a1=708, a2=0.55, a3=0.71, a4=0.50,
b1=0.98 (a5=0, no price term)."""


def read_parameter_table(path: str | Path) -> pd.DataFrame:
    """Read a parameter table (CSV, .xlsx or Parquet) with columns code, date, a1..a5, b1, source.

    ``a5`` and ``source`` are optional. Every row is validated as an ``IStarParams``.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    pandas.DataFrame
        Columns code, date (timestamps), a1, a2, a3, a4, a5, b1, source.

    Raises
    ------
    InputFileError
        The file cannot be read.
    MissingColumnError
        A required column is absent.
    InputError
        Unreadable dates, codes that are not whole numbers, or a row that is not a valid set.

    Examples
    --------
    >>> from krg_liquidity.book.datasets import data_path
    >>> table = read_parameter_table(data_path("mi_parameters.csv"))
    >>> list(table.columns), len(table)
    (['code', 'date', 'a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'source'], 1)
    """
    from krg_liquidity.book.read import read_table

    path = Path(path)
    return validate_parameter_table(read_table(path, what="I-Star parameter"), str(path))


def validate_parameter_table(table: pd.DataFrame, origin: str = "parameter table") -> pd.DataFrame:
    table = table.rename(columns={c: str(c).strip().lower() for c in table.columns})
    if "a5" not in table:
        table = table.assign(a5=0.0)
    if "source" not in table:
        table = table.assign(source="")
    for column in PARAMETER_COLUMNS:
        if column not in table:
            raise MissingColumnError(column, table.columns, f"{origin} needs columns {', '.join(PARAMETER_COLUMNS)}")
    table = table.loc[:, list(PARAMETER_COLUMNS)].copy()
    table["date"] = pd.to_datetime(table["date"], errors="coerce")
    if table["date"].isna().any():
        raise InputError(f"{origin}: column 'date' has unreadable dates; use YYYY-MM-DD")
    table["code"] = pd.to_numeric(table["code"], errors="coerce")
    if table["code"].isna().any():
        raise InputError(f"{origin}: column 'code' must hold whole numbers (market-impact codes)")
    table["code"] = table["code"].astype(int)
    for row in table.to_dict("records"):
        try:
            IStarParams(row["a1"], row["a2"], row["a3"], row["a4"], row["b1"], row["a5"])
        except InputError as exc:
            raise InputError(f"{origin}, row code={row['code']} date={row['date'].date()}: {exc}") from None
    return table


def select_parameters(table: pd.DataFrame, code: int, date: str | pd.Timestamp | None = None) -> IStarParams:
    """Pick the set for ``code`` with the latest date on or before ``date`` (default: latest).

    Mirrors MATLAB's ``krg(miData, miDate, miCode)`` lookup.

    Parameters
    ----------
    table : pandas.DataFrame
        A parameter table (see :func:`read_parameter_table`).
    code : int
        The market-impact code.
    date : str or pandas.Timestamp, optional
        The latest date allowed (default: no limit).

    Returns
    -------
    IStarParams
        The chosen set, with its code, date and source.

    Raises
    ------
    MissingColumnError
        A required column is absent.
    InputError
        A row of ``table`` is not a valid set.
    ParameterLookupError
        No set has this code (dated on or before ``date``).

    Examples
    --------
    >>> from krg_liquidity.book.datasets import data_path
    >>> table = read_parameter_table(data_path("mi_parameters.csv"))
    >>> select_parameters(table, 1, "2020-06-30").date
    '2013-01-01'
    """
    table = validate_parameter_table(table)
    rows = table[table["code"] == int(code)]
    if date is not None:
        when = pd.Timestamp(date)
        rows = rows[rows["date"] <= when]
    if rows.empty:
        codes = sorted(table["code"].unique().tolist())
        when_text = f" dated on or before {pd.Timestamp(date).date()}" if date is not None else ""
        raise ParameterLookupError(
            f"no I-Star parameters for market-impact code {code}{when_text}; "
            f"the table has codes {codes} from {table['date'].min().date()} to {table['date'].max().date()}"
        )
    row = rows.sort_values("date").iloc[-1]
    source = "" if pd.isna(row.source) else str(row.source)
    return IStarParams(row.a1, row.a2, row.a3, row.a4, row.b1, row.a5, code=int(row.code),
                       date=str(row.date.date()), source=source)


def load_parameters(path: str | Path | None = None, code: int = 1,
                    date: str | pd.Timestamp | None = None) -> IStarParams:
    """Load a parameter set from a table file (default: the bundled ``mi_parameters.csv``).

    Parameters
    ----------
    path : str or Path, optional
        A parameter table (CSV, .xlsx or Parquet; see :func:`read_parameter_table`).
    code : int
        The market-impact code.
    date : str or pandas.Timestamp, optional
        The set with the latest date on or before this one (default: the latest).

    Returns
    -------
    IStarParams
        The chosen set, with its code, date and source.

    Raises
    ------
    InputFileError
        The file cannot be read.
    InputError
        A column is missing or a row is not a valid set.
    ParameterLookupError
        No set has this code (dated on or before ``date``).

    Examples
    --------
    >>> load_parameters(code=1).a1
    708.0
    """
    from krg_liquidity.book.datasets import data_path

    table = read_parameter_table(path if path is not None else data_path("mi_parameters.csv"))
    return select_parameters(table, code, date)
