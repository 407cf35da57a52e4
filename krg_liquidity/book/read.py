"""Reading tables: CSV (separator sniffed), Excel .xlsx (openpyxl) and Parquet, one reader for all.

Used for holdings, covariance matrices, factor-model parts, I-Star parameter tables and batch
requests. The format comes from the extension (.csv/.txt/.tsv, .xlsx/.xlsm, .parquet, and .json: a
list of records or a liquidate result);
anything else is refused. CSV: comma, semicolon or tab, whichever the header line uses;
UTF-8 (with or without BOM), else Windows-1252. Numbers as spreadsheets write them
("200,000", "24.1%", "$12.50") are read by :mod:`krg_liquidity.core.numbers`; a file whose numbers
show a decimal comma ("12,5", "1.234,5", "1.234.567") and none a decimal point is read that way
("207.500" is then 207,500); a column with any cell that is not a number stays text, so the
checks can name the cell. Errors name the file
and the cause, never the file's contents.
"""

from __future__ import annotations

import csv
import io as _stdio
import json
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from krg_liquidity.book.columns import TEXT_COLUMNS, canonical_name, header_key
from krg_liquidity.core.errors import InputFileError
from krg_liquidity.core.numbers import blank_cells, decimal_examples, decimal_mark, parse_numbers

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
JSON_SUFFIXES = (".json",)
SUFFIXES = CSV_SUFFIXES + EXCEL_SUFFIXES + PARQUET_SUFFIXES + JSON_SUFFIXES
_SAMPLE_BYTES = 1 << 16
_EVIDENCE_ROWS = 2000  # rows of each number column read for the file's decimal mark
_QUOTED = re.compile(r'"[^"]*"|\\.')  # literal text and escaped characters of an Excel number format


def check_file(path: str | Path, what: str = "input") -> Path:
    """The path, if it is an existing regular file with a supported extension; else InputFileError."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{what} file not found: {path}")
    if not path.is_file():
        raise InputFileError(f"{what} path {path} is not a regular file (a folder, pipe or device); give a file")
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InputFileError(f"{what} file {path.name}: the old .xls format is not read; save it as .xlsx or .csv")
    if suffix not in SUFFIXES:
        raise InputFileError(f"{what} file {path.name}: unknown extension '{path.suffix}'; "
                             f"use .csv (comma, semicolon or tab), .xlsx, .parquet or .json")
    return path


def read_table(path: str | Path, sheet: str | int | None = None, what: str = "input",
               text_columns: tuple[str, ...] = (), first_column_text: bool = False,
               percent_text: bool = False) -> pd.DataFrame:
    """A table from a CSV, .xlsx, Parquet or JSON file, headers stripped, numbers parsed.

    Symbol columns, ``text_columns`` and, with ``first_column_text``, the first column stay text;
    other columns are read as numbers ("200,000" and "24.1%" included).

    Parameters
    ----------
    path : str or Path
        The file; its extension chooses the reader.
    sheet : str or int, optional
        The Excel sheet by name or position (default: the first); ignored for other formats.
    what : str
        What the file is ("holdings", "covariance", ...), named in error messages.
    text_columns : tuple of str
        Headers (matched case-insensitively) of columns that stay text.
    first_column_text : bool
        Keep the first column as text (the labels of a matrix).
    percent_text : bool
        Read an Excel cell shown as a percent (0.1 stored with a ``0%`` number format) as the text
        "10%", what the PM typed, so a text column (a cash target) keeps the percent; number columns
        read it as 0.1 either way. Off by default: looking at each cell's format is slow on large
        matrices.

    Returns
    -------
    pandas.DataFrame
        The table, one row per data row of the file.

    Raises
    ------
    InputFileError
        The file is missing, not a regular file, of an unknown or old (.xls) format, empty, binary,
        malformed, or has no such sheet; the message names the file and the cause.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "book.csv")
    >>> _ = open(path, "w").write('Ticker;Qty;Vol\\nAAA;"200,000";24.1%\\n')
    >>> read_table(path).to_dict("records")
    [{'Ticker': 'AAA', 'Qty': 200000.0, 'Vol': 0.241}]
    """
    path = check_file(path, what)
    suffix = path.suffix.lower()
    decimal = None
    if suffix in EXCEL_SUFFIXES:
        frame = _read_excel(path, sheet, what, percent_text)
    elif suffix in PARQUET_SUFFIXES:
        frame = _read_parquet(path, what)
    elif suffix in JSON_SUFFIXES:
        frame = _read_json(path, what)
    else:
        frame, decimal = _read_csv(path, what, text_columns, first_column_text)
    return tidy(frame, text_columns, first_column_text, decimal)


def _text(value):
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _is_text(column: str, position: int, keep_text: set[str], first_column_text: bool) -> bool:
    return (canonical_name(column) in TEXT_COLUMNS or header_key(column) in keep_text
            or (first_column_text and position == 0))


def _blank(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values):
        return values.isna().to_numpy()
    return blank_cells(values).to_numpy()


def tidy(frame: pd.DataFrame, text_columns: tuple[str, ...] = (), first_column_text: bool = False,
         decimal: str | None = None) -> pd.DataFrame:
    """Strip headers, drop empty rows and empty unnamed columns, parse number columns (text columns stay text).

    ``decimal``: the decimal mark of the number cells written as text ("." or ","); None: the one
    their first rows show (:func:`~krg_liquidity.core.numbers.decimal_mark`), else ".".
    """
    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    keep = [i for i, c in enumerate(frame.columns)
            if not ((c.startswith("Unnamed:") or c == "") and _blank(frame.iloc[:, i]).all())]
    frame = frame.iloc[:, keep]
    empty = np.ones(len(frame), dtype=bool)
    for i in range(frame.shape[1]):
        if not empty.any():
            break
        empty &= _blank(frame.iloc[:, i])
    if frame.shape[1] and empty.any():
        frame = frame.loc[~empty].reset_index(drop=True)
    keep_text = {header_key(c) for c in text_columns}
    numeric = []
    for position, column in enumerate(frame.columns):
        values = frame[column]
        if _is_text(column, position, keep_text, first_column_text):
            frame[column] = values.astype(object).map(_text)
        elif not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)):
            numeric.append(column)
    if decimal is None:  # the mark the table's own numbers show ("12,5" or "1.234.567": a decimal comma)
        decimal = decimal_mark(cell for column in numeric for cell in frame[column].iloc[:_EVIDENCE_ROWS])
    for column in numeric:
        values = frame[column]
        parsed = parse_numbers(values, decimal or ".")
        if bool((parsed.notna() | blank_cells(values)).all()):
            frame[column] = parsed
        else:
            frame[column] = values.map(lambda v: v.strip() if isinstance(v, str) else v)
    return frame


def _decode(path: Path, what: str) -> tuple[str, str]:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputFileError(f"{what} file {path.name} is empty")
    if b"\x00" in raw[:_SAMPLE_BYTES]:
        raise InputFileError(f"{what} file {path.name} is binary, not a text CSV; "
                             "give a CSV, an .xlsx (with that extension) or a .parquet file")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def sniff_separator(text: str) -> str:
    """The separator of a CSV: the one of tab, semicolon, comma found most often in the header line
    (outside quotes): the first line that has any (a title line above the headers may have none).

    >>> sniff_separator("a;b;c\\n1;2,5;3"), sniff_separator("a\\tb\\n1\\t2"), sniff_separator("a,b\\n")
    (';', '\\t', ',')
    """
    counts = {sep: 0 for sep in ("\t", ";", ",")}
    for line in [line for line in text.splitlines() if line.strip()][:10]:  # a title line may have none
        outside, quoted = [], False
        for char in line:
            if char == '"':
                quoted = not quoted
            elif not quoted:
                outside.append(char)
        line_counts = {sep: outside.count(sep) for sep in counts}
        if max(line_counts.values()):
            counts = line_counts  # the first line with separators: the header
            break
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def header_line(text: str, separator: str) -> int:
    """The line (0-based, blank lines counted) of a CSV's header: the first of the top lines filled
    at least half as much as the fullest, so that a title line above the headers is skipped.

    >>> header_line("Fund X holdings,,\\n\\nsymbol,shares,price\\nA,1,2\\n", ",")
    2
    """
    lines = text.splitlines()
    top = [i for i, line in enumerate(lines) if line.strip()][:10]
    if not top:
        return 0
    rows = list(csv.reader([lines[i] for i in top], delimiter=separator))
    filled = [sum(cell.strip() != "" for cell in row) for row in rows]
    return top[next(k for k, count in enumerate(filled) if count >= max(filled) / 2)]


def _read_csv(path: Path, what: str, text_columns: tuple[str, ...] = (),
              first_column_text: bool = False) -> tuple[pd.DataFrame, str]:
    """The frame and the file's decimal mark. Plain numbers are parsed by pandas and text columns read
    as text, unless the first rows' numbers show a decimal comma: then every cell is read as text and
    ``tidy`` parses the numbers with that mark ("207.500" is 207,500, not 207.5)."""
    text, _ = _decode(path, what)
    separator = sniff_separator(text)
    skip = header_line(text, separator)
    try:
        sample = pd.read_csv(_stdio.StringIO(text), sep=separator, dtype=str, nrows=_EVIDENCE_ROWS,
                             skipinitialspace=True, skiprows=skip)
        keep_text = {header_key(c) for c in text_columns}
        text_like = [_is_text(str(c).strip(), i, keep_text, first_column_text) for i, c in enumerate(sample.columns)]
        decimal = _file_decimal_mark(path, what, {str(c).strip(): sample[c] for c, is_text in
                                                  zip(sample.columns, text_like) if not is_text})
        dtypes = str if decimal == "," else {c: str for c, is_text in zip(sample.columns, text_like) if is_text}
        frame = pd.read_csv(_stdio.StringIO(text), sep=separator, dtype=dtypes or None, skipinitialspace=True,
                            skiprows=skip)
        return frame, decimal or "."
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{what} file {path.name} has no header row") from None
    except pd.errors.ParserError as exc:
        reason = str(exc).split("\n")[0][:160]
        raise InputFileError(f"{what} file {path.name} is not a well-formed CSV with separator "
                             f"{separator!r}: {reason}; every row needs as many fields as the header") from None


def _file_decimal_mark(path: Path, what: str, columns: dict[str, pd.Series]) -> str | None:
    """The decimal mark the number columns' text shows (None: no cell tells); InputFileError naming a cell
    of each when the file mixes decimal commas ("12,50") and decimal points ("45.10")."""
    found: dict[str, tuple[str, str]] = {}
    for name, cells in columns.items():
        for mark, cell in decimal_examples(cells).items():
            found.setdefault(mark, (name, cell))
    if len(found) == 2:
        (comma_column, comma), (point_column, point) = found[","], found["."]
        raise InputFileError(f"{what} file {path.name} mixes decimal commas ({comma!r} in column {comma_column}) "
                             f"and decimal points ({point!r} in column {point_column}); write every number with "
                             "one decimal mark (12.50 and 45.10, or 12,50 and 45,10)")
    return next(iter(found)) if found else None


def _read_excel(path: Path, sheet, what: str, percent_text: bool = False) -> pd.DataFrame:
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise InputFileError("reading .xlsx needs openpyxl: pip install openpyxl") from None
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # a zip that is not a workbook, a renamed CSV, ...
        raise InputFileError(f"{what} file {path.name} is not a readable .xlsx workbook; "
                             "save it from Excel as .xlsx, or export a CSV") from None
    try:
        names = workbook.sheetnames
        if sheet is None:
            name = names[0]
        elif isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
            index = int(sheet)
            if not 0 <= index < len(names):
                raise InputFileError(f"{what} workbook {path.name} has {len(names)} sheet(s); no sheet {index}")
            name = names[index]
        else:
            match = {n.strip().lower(): n for n in names}.get(str(sheet).strip().lower())
            if match is None:
                raise InputFileError(f"{what} workbook {path.name} has no sheet '{sheet}'; "
                                     f"its sheets: {', '.join(names)}")
            name = match
        if percent_text:
            rows = [tuple(_shown(cell) for cell in row) for row in workbook[name].iter_rows()]
        else:
            rows = list(workbook[name].iter_rows(values_only=True))
    finally:
        workbook.close()
    rows = [r for r in rows if any(v is not None and str(v).strip() != "" for v in r)]
    if not rows:
        raise InputFileError(f"{what} workbook {path.name}, sheet '{name}' is empty")
    # The header is the first of the top rows filled at least half as much as the fullest: a title row
    # (one cell) above it is skipped.
    filled = [sum(v is not None and str(v).strip() != "" for v in r) for r in rows[:10]]
    top = next(i for i, count in enumerate(filled) if count >= max(filled) / 2)
    header = [f"Unnamed: {i}" if v is None or str(v).strip() == "" else str(v) for i, v in enumerate(rows[top])]
    return pd.DataFrame(rows[top + 1:], columns=header).astype(object)


def _shown(cell):
    """A cell's value; a number in a percent format as the percent it shows ("10%" for 0.1)."""
    value = getattr(cell, "value", None)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value):
        if "%" in _QUOTED.sub("", str(getattr(cell, "number_format", "") or "")):
            return f"{format((Decimal(repr(value)) * 100).normalize(), 'f')}%"
    return value


def _read_parquet(path: Path, what: str) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception:
        raise InputFileError(f"{what} file {path.name} is not a readable Parquet file") from None
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()
    return frame


def _read_json(path: Path, what: str) -> pd.DataFrame:
    """A JSON list of records, or a result's JSON object (its "trades" records)."""
    try:
        payload = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise InputFileError(f"{what} file {path.name} is not valid JSON") from None
    if isinstance(payload, dict) and isinstance(payload.get("trades"), list):
        payload = payload["trades"]
    if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
        raise InputFileError(f"{what} file {path.name}: give a JSON list of records (one object per row) or a "
                             "liquidate result (an object with 'trades')")
    return pd.DataFrame.from_records(payload)


def sheet_names(path: str | Path) -> list[str]:
    """Sheet names of an .xlsx workbook."""
    import openpyxl

    path = check_file(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True)
    except Exception:
        raise InputFileError(f"{path.name} is not a readable .xlsx workbook") from None
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()
