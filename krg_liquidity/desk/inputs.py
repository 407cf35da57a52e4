"""The desk's inputs: uploaded files read safely, the book validated, the service limits.

Nothing here imports the web framework, so every rule is tested directly. An upload is bytes
and the name the browser gave: the bytes are checked against the size cap, written under a
cleaned copy of that name into a private temporary folder that is deleted after reading, and
read with :func:`krg_liquidity.read_table`. No path typed by a user is ever opened, and
messages name only the user's own file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from krg_liquidity.book.datasets import load_example
from krg_liquidity.book.holdings import fill_strategy, name_default_control
from krg_liquidity.book.lots import LOT_TEXT, read_lots
from krg_liquidity.book.matrices import read_covariance
from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.book.read import SUFFIXES, read_table
from krg_liquidity.book.risk import FactorModel
from krg_liquidity.core.errors import BookError, InputError, InputFileError, UnitsWarning

UPLOAD_TYPES = tuple(s.lstrip(".") for s in SUFFIXES)
EXAMPLE = "bundled example"
TRADE_TIME_LABEL = "Default trade time (days) for names with neither trade_time nor pov (0: none)"
DEFAULT_TRADE_TIME_BOX = "the 'Default trade time (days)' box in the sidebar"


@dataclass(frozen=True)
class DeskLimits:
    """What one request may ask of the service: upload size (MB per file), names in a book,
    factors in a factor model, and seconds per solve (the user's time limit is capped here).
    Set by ``krg-liquidity app`` through the environment (``KRG_DESK_*``)."""

    max_upload_mb: int = 20
    max_names: int = 3000
    max_factors: int = 100
    max_seconds: float = 60.0

    @classmethod
    def from_env(cls) -> DeskLimits:
        default = cls()
        return cls(int(os.environ.get("KRG_DESK_MAX_UPLOAD_MB", default.max_upload_mb)),
                   int(os.environ.get("KRG_DESK_MAX_NAMES", default.max_names)),
                   int(os.environ.get("KRG_DESK_MAX_FACTORS", default.max_factors)),
                   float(os.environ.get("KRG_DESK_MAX_SECONDS", default.max_seconds)))

    def env(self) -> dict[str, str]:
        return {"KRG_DESK_MAX_UPLOAD_MB": str(self.max_upload_mb), "KRG_DESK_MAX_NAMES": str(self.max_names),
                "KRG_DESK_MAX_FACTORS": str(self.max_factors), "KRG_DESK_MAX_SECONDS": str(self.max_seconds)}


@dataclass(frozen=True)
class Upload:
    """An uploaded file: the name the browser sent and its bytes."""

    name: str
    data: bytes


@dataclass
class Book:
    """A validated book (``portfolio``), or the ``problems`` that stop it, each in words."""

    portfolio: Portfolio | None
    label: str
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.portfolio is not None

    def validated(self) -> Portfolio:
        """The portfolio of a book that passed validation; InputError listing the problems otherwise."""
        if self.portfolio is None:
            raise InputError(f"{self.label}: fix these problems before anything runs: " + "; ".join(self.problems))
        return self.portfolio


def clean_name(name: str) -> str:
    """The file name alone (no folder), letters, digits, dot, dash, underscore and space only.

    >>> clean_name("../../etc/passwd.csv"), clean_name("my book (v2).xlsx")
    ('passwd.csv', 'my book _v2_.xlsx')
    """
    base = re.split(r"[\\/]", str(name))[-1]
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .") or "upload"
    stem, dot, suffix = base.rpartition(".")
    return (stem[:80] + dot + suffix[:10]) if dot else base[:80]


def check_size(upload: Upload, what: str, limits: DeskLimits) -> None:
    """InputFileError when the upload is larger than the cap."""
    size = len(upload.data)
    if size > limits.max_upload_mb * 2**20:
        raise InputFileError(f"{what} upload {clean_name(upload.name)} is {size / 2**20:.1f} MB; this desk takes "
                             f"files up to {limits.max_upload_mb} MB")


def read_upload(upload: Upload, what: str, limits: DeskLimits, reader: Callable[[Path], Any] | None = None) -> Any:
    """Read an upload with ``reader(path)`` (default ``read_table``) from a private temporary copy."""
    check_size(upload, what, limits)
    name = clean_name(upload.name)
    with tempfile.TemporaryDirectory(prefix="krg-desk-") as folder:
        path = Path(folder) / name
        path.write_bytes(upload.data)
        try:
            return (reader or (lambda p: read_table(p, what=what)))(path)
        except InputError as exc:
            if type(exc) is InputFileError:  # name the user's file, never the temporary folder
                raise InputFileError(str(exc).replace(str(path), name).replace(folder, "")) from None
            raise


@dataclass(frozen=True)
class LotsUpload:
    """An uploaded tax-lot table as read (``raw``, passed to ``liquidate`` as the file's own columns), with the
    ``problems`` :func:`~krg_liquidity.read_lots` finds against the book, in words (none: the lots are usable).
    Equal uploads compare equal by ``label`` and ``digest`` (the bytes' SHA-256), not by the table."""

    label: str
    digest: str
    raw: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.raw is not None and not self.problems


def load_lots(upload: Upload, portfolio: Portfolio, *, unknown_basis: str = "refuse",
              limits: DeskLimits = DeskLimits()) -> LotsUpload:
    """An uploaded lot table, read safely and checked against the book (every problem in words)."""
    label = clean_name(upload.name)
    digest = hashlib.sha256(upload.data).hexdigest()
    try:
        raw = read_upload(upload, "lots", limits, lambda path: read_table(path, what="lots", text_columns=LOT_TEXT))
    except InputError as exc:
        return LotsUpload(label, digest, None, (str(exc),))
    try:
        read_lots(raw, portfolio, unknown_basis)
    except BookError as exc:
        return LotsUpload(label, digest, raw, tuple(str(problem) for problem in exc.problems))
    except InputError as exc:
        return LotsUpload(label, digest, raw, (str(exc),))
    return LotsUpload(label, digest, raw)


def load_book(holdings: Upload | None, *, covariance: Upload | None = None, factor_model: Upload | None = None,
              trade_time_days: float | None = None, limits: DeskLimits = DeskLimits()) -> Book:
    """The bundled example (``holdings=None``) or an uploaded book with its risk model, validated.

    Every problem is listed in words (column, symbols, fix); nothing is solved here.
    """
    if holdings is None:
        example, example_cov = load_example()
        return _validated(example, example_cov, None, EXAMPLE + " (Dow-28, 2014 data)", None, limits)
    label = clean_name(holdings.name)
    try:
        table = read_upload(holdings, "holdings", limits)
        if len(table) > limits.max_names:
            raise InputError(f"holdings {label} has {len(table):,} rows; this desk takes books of up to "
                             f"{limits.max_names:,} names")
        cov: pd.DataFrame | None = None
        factors: FactorModel | None = None
        if covariance is not None:
            cov = read_upload(covariance, "covariance", limits, read_covariance)
            if cov.shape[0] > limits.max_names + len(table):
                raise InputError(f"covariance {clean_name(covariance.name)} is {cov.shape[0]:,} x {cov.shape[1]:,}; "
                                 f"this desk takes up to {limits.max_names:,} names")
            label += f" + covariance {clean_name(covariance.name)}"
        if factor_model is not None:
            factors = read_upload(factor_model, "factor model", limits, FactorModel.from_files)
            if factors.exposures.shape[1] > limits.max_factors:
                raise InputError(f"factor model {clean_name(factor_model.name)} has {factors.exposures.shape[1]} "
                                 f"factors; this desk takes up to {limits.max_factors}")
            label += f" + factor model {clean_name(factor_model.name)}"
    except BookError as exc:
        return Book(None, label, [str(p) for p in exc.problems])
    except InputError as exc:
        return Book(None, label, [str(exc)])
    return _validated(table, cov, factors, label, trade_time_days, limits)


def _validated(table: pd.DataFrame, cov, factors, label: str, trade_time_days, limits: DeskLimits) -> Book:
    try:
        table = fill_strategy(table, trade_time_days, None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnitsWarning)
            portfolio = Portfolio(table, cov, factors)
    except BookError as exc:
        return Book(None, label, [str(p) for p in name_default_control(exc, DEFAULT_TRADE_TIME_BOX).problems])
    except InputError as exc:
        return Book(None, label, [str(exc)])
    notes = [str(w.message) for w in caught if issubclass(w.category, UnitsWarning)]
    return Book(portfolio, label, [], notes)
