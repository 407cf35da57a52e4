"""Labelled matrices from files: covariance matrices and the three parts of a factor model.

A matrix file has the row labels in its first column and the column labels in its header
(CSV, .xlsx or Parquet; a Parquet file saved with its index is read the same way).

Factor model, annualized, decimal returns: ``C = B F B' + diag(D)``.

- exposures B: first column the symbol, one column per factor (loadings, unitless);
- factor covariance F: first column the factor, header the factors (annualized variance);
- specific risk D: first column the symbol, then ``specific_variance`` (annualized variance)
  or ``specific_volatility`` / ``specific_vol`` / ``specific_risk`` (annualized standard
  deviation, squared on reading); a single unnamed value column is read as a variance.

The three parts can be three files or one .xlsx workbook with sheets ``exposures``,
``factor_covariance`` and ``specific_variance`` (or ``specific_volatility``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from krg_liquidity.book.columns import header_key
from krg_liquidity.book.read import read_table, sheet_names
from krg_liquidity.core.errors import InputError
from krg_liquidity.core.numbers import parse_numbers

_VARIANCE_HEADERS = ("specificvariance", "specificvar", "residualvariance", "idiosyncraticvariance", "variance")
_VOLATILITY_HEADERS = ("specificvolatility", "specificvol", "specificrisk", "residualvolatility", "residualvol",
                       "idiosyncraticvolatility")


def labelled(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """First column as string labels (the index), the rest as floats; text cells are named, not guessed."""
    if frame.shape[1] < 2 or frame.empty:
        raise InputError(f"{what} needs a label column and at least one value column, with one row per label")
    labels = frame.iloc[:, 0]
    if labels.isna().any() or (labels.astype(str).str.strip() == "").any():
        raise InputError(f"{what} has a blank label in its first column; give every row its symbol")
    values = frame.iloc[:, 1:]
    parsed = values.apply(parse_numbers)
    given = values.notna() & (values.astype(str).apply(lambda c: c.str.strip()) != "")
    text = given & parsed.isna()
    if text.to_numpy().any():
        row, column = np.argwhere(text.to_numpy())[0]
        raise InputError(f"{what}: the cell at row '{labels.iloc[row]}', column '{values.columns[column]}' is "
                         f"not a number ({int(text.to_numpy().sum())} such cell(s)); give numbers only")
    parsed.index = labels.astype(str).str.strip().to_numpy()
    parsed.columns = [str(c).strip() for c in parsed.columns]
    if parsed.index.duplicated().any():
        raise InputError(f"{what} lists {parsed.index[parsed.index.duplicated()][0]} more than once; "
                         "give one row per label")
    return parsed


def read_matrix(path: str | Path, what: str = "covariance", sheet: str | int | None = None) -> pd.DataFrame:
    """A labelled matrix (row labels from the first column, column labels from the header)."""
    return labelled(read_table(path, sheet=sheet, what=what, first_column_text=True), f"{what} ({Path(path).name})")


def read_covariance(path: str | Path, sheet: str | int | None = None) -> pd.DataFrame:
    """A square covariance matrix (annualized, decimal returns): first column the symbol, header the symbols.

    Parameters
    ----------
    path : str or Path
        A CSV, .xlsx or Parquet file.
    sheet : str or int, optional
        The Excel sheet by name or position (default: the first).

    Returns
    -------
    pandas.DataFrame
        The matrix, indexed and labelled by symbol.

    Raises
    ------
    InputFileError
        The file cannot be read (see :func:`read_table`).
    InputError
        A blank or repeated label, or a cell that is not a number.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "cov.csv")
    >>> _ = open(path, "w").write("symbol,AAA,BBB\\nAAA,0.04,0.01\\nBBB,0.01,0.09\\n")
    >>> read_covariance(path).loc["BBB", "BBB"]
    np.float64(0.09)
    """
    return read_matrix(path, "covariance", sheet)


def specific_variance(frame: pd.DataFrame, what: str) -> pd.Series:
    """The specific variance per symbol from a table of symbol + variance (or volatility, squared)."""
    table = labelled(frame, what)
    keys = {header_key(c): c for c in table.columns}
    for key in _VARIANCE_HEADERS:
        if key in keys:
            return table[keys[key]].rename("specific_variance")
    for key in _VOLATILITY_HEADERS:
        if key in keys:
            return (table[keys[key]] ** 2).rename("specific_variance")
    if table.shape[1] == 1:
        return table.iloc[:, 0].rename("specific_variance")
    raise InputError(f"{what}: name the value column 'specific_variance' (annualized variance) or "
                     "'specific_volatility' (annualized standard deviation)")


def read_factor_parts(exposures: str | Path, factor_covariance: str | Path | None = None,
                      specific: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(B, F, D) from three files, or from one workbook (``exposures`` alone, an .xlsx with three sheets)."""
    if factor_covariance is None and specific is None:
        return _from_workbook(Path(exposures))
    if factor_covariance is None or specific is None:
        raise InputError("a factor model needs three files (exposures, factor covariance, specific variance) "
                         "or one .xlsx workbook with those three sheets")
    b = read_matrix(exposures, "factor exposures")
    f = read_matrix(factor_covariance, "factor covariance")
    d = specific_variance(read_table(specific, what="specific variance", first_column_text=True),
                          f"specific variance ({Path(specific).name})")
    return b, f, d


def _from_workbook(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise InputError(f"{path.name}: a one-file factor model is an .xlsx workbook with sheets exposures, "
                         "factor_covariance and specific_variance; otherwise give the three files")
    names = {header_key(n): n for n in sheet_names(path)}

    def sheet(*keys: str) -> str:
        for key in keys:
            if key in names:
                return names[key]
        raise InputError(f"workbook {path.name} has no sheet '{keys[0]}'; it needs sheets exposures, "
                         f"factor_covariance and specific_variance (it has: {', '.join(names.values())})")

    b = read_matrix(path, "factor exposures", sheet("exposures", "loadings", "betas"))
    f = read_matrix(path, "factor covariance", sheet("factorcovariance", "factorcov", "covariance"))
    specific_sheet = sheet("specificvariance", "specificvolatility", "specificrisk", "specific")
    d = specific_variance(read_table(path, sheet=specific_sheet, what="specific variance", first_column_text=True),
                          f"specific variance ({path.name}, sheet {specific_sheet})")
    return b, f, d
