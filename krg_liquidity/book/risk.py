"""Risk models: a full covariance matrix or a factor model, both annualized.

A factor model ``C = B F B' + diag(D)`` is kept as its factors; nothing here ever
builds the n x n matrix from it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from krg_liquidity.core.errors import InconsistentInputError, InputError, SolverTimeout

if TYPE_CHECKING:
    import cvxpy as cp


@dataclass(frozen=True)
class FactorModel:
    """Exposures B (n x k, rows by symbol), factor covariance F (k x k), specific variance D (n).

    All annualized (decimal returns). The covariance of the names is B F B' + diag(D).

    Parameters
    ----------
    exposures : pandas.DataFrame
        B: one row per symbol (the index), one column per factor.
    factor_covariance : pandas.DataFrame
        F: annualized covariance of the factors (k x k, symmetric).
    specific_variance : pandas.Series
        D: annualized specific variance (decimal, >= 0), indexed by the same symbols as ``exposures``.

    Raises
    ------
    InputError
        A table is not numeric, F is not symmetric, or D is negative or not finite.
    InconsistentInputError
        The shapes or the symbols of the three parts disagree.

    Examples
    --------
    >>> import pandas as pd
    >>> model = FactorModel(pd.DataFrame({"market": [1.0, 0.8]}, index=["AAA", "BBB"]),
    ...                     pd.DataFrame({"market": [0.04]}, index=["market"]),
    ...                     pd.Series({"AAA": 0.01, "BBB": 0.02}))
    >>> model.symbols
    ['AAA', 'BBB']
    """

    exposures: pd.DataFrame
    factor_covariance: pd.DataFrame
    specific_variance: pd.Series

    def __post_init__(self) -> None:
        b = _as_frame(self.exposures, "exposures")
        f = _as_frame(self.factor_covariance, "factor_covariance")
        try:
            d = pd.Series(self.specific_variance, dtype=float)
        except (TypeError, ValueError):
            raise InputError("specific_variance has cells that are not numbers; give numbers only") from None
        d.index = d.index.astype(str)
        if f.shape[0] != f.shape[1] or f.shape[0] != b.shape[1]:
            raise InconsistentInputError(
                f"factor_covariance is {f.shape[0]}x{f.shape[1]} but exposures has {b.shape[1]} factors")
        if not np.allclose(f.to_numpy(), f.to_numpy().T, rtol=1e-8, atol=1e-12):
            raise InputError("factor_covariance must be symmetric")
        if set(d.index) != set(b.index) or len(d) != len(b):
            raise InconsistentInputError("specific_variance must have exactly the symbols of exposures")
        if not np.all(np.isfinite(d.to_numpy())) or (d.to_numpy() < 0).any():
            bad = d.index[~(d.to_numpy() >= 0)]
            raise InputError(f"specific_variance must be finite and >= 0 (bad: {', '.join(bad[:8])})")
        object.__setattr__(self, "exposures", b)
        object.__setattr__(self, "factor_covariance", f)
        object.__setattr__(self, "specific_variance", d.reindex(b.index))

    @classmethod
    def from_files(cls, exposures: str | Path, factor_covariance: str | Path | None = None,
                   specific_variance: str | Path | None = None) -> FactorModel:
        """Read a factor model from three files (CSV, .xlsx or Parquet) or from one .xlsx workbook
        with sheets ``exposures``, ``factor_covariance`` and ``specific_variance``.

        See :mod:`krg_liquidity.book.matrices`.

        Parameters
        ----------
        exposures : str or Path
            First column the symbol, one column per factor; or the one .xlsx workbook.
        factor_covariance : str or Path, optional
            First column the factor, header the factors (annualized); None with a workbook.
        specific_variance : str or Path, optional
            Symbol and ``specific_variance`` (annualized variance) or ``specific_volatility``
            (annualized, decimal; squared); None with a workbook.

        Returns
        -------
        FactorModel
            The validated model.

        Raises
        ------
        InputFileError
            A file cannot be read.
        InputError
            A missing file or sheet of the three, a bad table, or parts that disagree.

        Examples
        --------
        >>> import os, tempfile
        >>> folder = tempfile.mkdtemp()
        >>> _ = open(os.path.join(folder, "b.csv"), "w").write("symbol,market\\nAAA,1.0\\nBBB,0.8\\n")
        >>> _ = open(os.path.join(folder, "f.csv"), "w").write("factor,market\\nmarket,0.04\\n")
        >>> _ = open(os.path.join(folder, "d.csv"), "w").write("symbol,specific_variance\\nAAA,0.01\\nBBB,0.02\\n")
        >>> model = FactorModel.from_files(*(os.path.join(folder, n) for n in ("b.csv", "f.csv", "d.csv")))
        >>> model.symbols
        ['AAA', 'BBB']
        """
        from krg_liquidity.book.matrices import read_factor_parts

        return cls(*read_factor_parts(exposures, factor_covariance, specific_variance))

    @property
    def symbols(self) -> list[str]:
        """The symbols the model covers, in the exposures' order."""
        return self.exposures.index.tolist()  # one conversion, not one Python object per name by iteration

    def volatility(self) -> pd.Series:
        """Each name's annualized volatility implied by the model.

        Returns
        -------
        pandas.Series
            sqrt(diag(B F B') + D) per symbol (annualized, decimal).

        Examples
        --------
        >>> import pandas as pd
        >>> model = FactorModel(pd.DataFrame({"market": [1.0]}, index=["AAA"]),
        ...                     pd.DataFrame({"market": [0.03]}, index=["market"]), pd.Series({"AAA": 0.01}))
        >>> round(float(model.volatility()["AAA"]), 6)
        0.2
        """
        b = self.exposures.to_numpy()
        systematic = np.einsum("ij,jk,ik->i", b, self.factor_covariance.to_numpy(), b)
        return pd.Series(np.sqrt(systematic + self.specific_variance.to_numpy()), index=self.exposures.index)

    def subset(self, symbols: Iterable[object]) -> FactorModel:
        """The model restricted to ``symbols`` (their exposures and specific variances; the same factors).

        Parameters
        ----------
        symbols : iterable of str
            Symbols the model covers.

        Returns
        -------
        FactorModel
            The smaller model, in the order of ``symbols``.

        Examples
        --------
        >>> import pandas as pd
        >>> model = FactorModel(pd.DataFrame({"market": [1.0, 0.8]}, index=["AAA", "BBB"]),
        ...                     pd.DataFrame({"market": [0.04]}, index=["market"]),
        ...                     pd.Series({"AAA": 0.01, "BBB": 0.02}))
        >>> model.subset(["BBB"]).symbols
        ['BBB']
        """
        symbols = pd.Index([str(s) for s in symbols])
        return FactorModel(self.exposures.loc[symbols], self.factor_covariance, self.specific_variance.loc[symbols])


def _as_frame(table, name: str) -> pd.DataFrame:
    try:
        frame = pd.DataFrame(table).astype(float)
    except (TypeError, ValueError):
        raise InputError(f"{name} has cells that are not numbers; give numbers only") from None
    frame.index = frame.index.astype(str)
    frame.columns = frame.columns.astype(str)
    if not np.all(np.isfinite(frame.to_numpy())):
        raise InputError(f"{name} has missing or infinite entries")
    return frame


@dataclass(frozen=True)
class RiskOperator:
    """sigma(x) = ||[top @ x; diag * x]||, so that C = top'top + diag(diag^2); never n x n for a factor model."""

    top: np.ndarray
    diag: np.ndarray | None = None
    matrix: np.ndarray | None = None
    """C itself (n x n) when ``top`` is a root of a full covariance with no factor structure: a product
    C x is then one pass over n^2 numbers instead of two (``covariance_times``, the dual solver's Newton steps)."""

    def describe(self) -> str:
        """The operator's shape in words (recorded on a result's stages)."""
        rows, n = self.top.shape
        if self.diag is None:
            return f"risk model factored: {rows} rows over {n} names"
        return f"risk model factored: {rows} factor rows and a specific variance over {n} names"

    def sigma(self, x: np.ndarray) -> float:
        """Annualized volatility of weights (or dollar positions) ``x``."""
        x = np.asarray(x, dtype=float)
        total = float(np.sum((self.top @ x) ** 2))
        if self.diag is not None:
            total += float(np.sum((self.diag * x) ** 2))
        return float(np.sqrt(total))

    def covariance_times(self, x: np.ndarray) -> np.ndarray:
        """C @ x (without forming C from a factor model)."""
        if self.matrix is not None:
            return self.matrix @ x
        out = self.top.T @ (self.top @ x)
        if self.diag is not None:
            out = out + self.diag**2 * x
        return out

    def stacked(self, x: cp.Expression) -> cp.Expression:
        """The cvxpy vector whose norm is sigma(x)."""
        import cvxpy as cp

        if self.diag is None:
            return self.top @ x
        return cp.hstack([self.top @ x, cp.multiply(self.diag, x)])


def risk_operator(covariance: pd.DataFrame | None, factor_model: FactorModel | None, symbols: Iterable[object],
                  seconds_left: Callable[[], float] | None = None) -> RiskOperator:
    """The risk operator over ``symbols`` (in that order).

    Full covariance: a low-rank part and a diagonal when C is exactly that (a factor model's
    covariance as a full matrix: the solvers then work with k rows, not n), else its Cholesky
    factor (or a rank(C) x n root when C is only semi-definite). Built once per Portfolio.
    Factor model: top = F^(1/2) B' (k x n), diag = sqrt(D).

    ``seconds_left``: the time left in the caller's budget (seconds). Neither step on a full
    covariance can be interrupted, so each starts only when its estimated cost
    (:func:`factoring_seconds`) fits in what is left; otherwise ``SolverTimeout`` (stage
    "risk-model") says which step, its estimate and the time left.
    """
    symbols = [str(s) for s in symbols]
    if factor_model is not None:
        fm = factor_model.subset(symbols)
        f_root = _psd_root(fm.factor_covariance.to_numpy(), "factor_covariance")
        return RiskOperator(f_root @ fm.exposures.to_numpy().T, np.sqrt(fm.specific_variance.to_numpy()))
    if covariance is None:
        raise InputError("the risk model is missing: pass a covariance matrix or a factor_model")
    if covariance.index.equals(pd.Index(symbols)) and covariance.columns.equals(covariance.index):
        c = covariance.to_numpy(dtype=float)  # already in the book's order: no n x n copy
    else:
        c = covariance.loc[symbols, symbols].to_numpy(dtype=float)
    # with no budget the estimate is not needed: skip measuring this machine's speed
    probe, cholesky = factoring_seconds(len(symbols)) if seconds_left is not None else (0.0, 0.0)
    _afford(seconds_left, probe, f"reading the {len(symbols):,}-name covariance and looking for a factor structure")
    found = _low_rank_plus_diagonal(c)
    if found is not None:
        return RiskOperator(*found)
    _afford(seconds_left, cholesky, f"the Cholesky factor of the {len(symbols):,}-name covariance")
    return RiskOperator(_psd_root(c, "covariance"), matrix=c)


def _afford(seconds_left: Callable[[], float] | None, need: float, step: str) -> None:
    """Raise ``SolverTimeout`` when an uninterruptible step of ``need`` seconds cannot fit in the time left."""
    left = float("inf") if seconds_left is None else seconds_left()
    if need > left:
        raise SolverTimeout(f"{step} takes about {need:.2g} s on this machine and {left:.2g} s were left",
                            "risk-model")


@lru_cache(maxsize=1)
def factoring_speed() -> tuple[float, float]:
    """(seconds per entry of a full covariance's factor-structure check, seconds per n**3 of a Cholesky
    factor), measured once per process on a 512-name matrix, best of three (about 10-20 ms in all), with
    the BLAS threads the caller allows (``liquidate`` measures and factors with one)."""
    m = 512
    rows = np.random.default_rng(0).standard_normal((m, LOW_RANK_PROBE))
    c = rows @ rows.T + np.eye(m)
    entry = cube = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        np.abs(c - rows @ rows.T).max()
        middle = time.perf_counter()
        np.linalg.cholesky(c)
        end = time.perf_counter()
        entry, cube = min(entry, (middle - start) / m**2), min(cube, (end - middle) / m**3)
    return entry, cube


PROBE_PASSES = 2
"""Passes over the n x n matrix the factor-structure check makes (gathering the probe columns, then the
check itself), each costing about one measured check of the 512-name kernel per entry."""


def factoring_seconds(n: int) -> tuple[float, float]:
    """Estimated seconds (on this machine, as loaded when first measured) of the two uninterruptible steps
    of factoring an n-name full covariance: the factor-structure check (O(n^2)), then, when C has
    none, its Cholesky factor (O(n^3); the 512-name rate is slower per flop than a large matrix's, so
    the estimate errs high)."""
    entry, cube = factoring_speed()
    return PROBE_PASSES * n * n * entry, n**3 * cube


LOW_RANK_PROBE = 64
"""The most factors looked for in a full covariance (``_low_rank_plus_diagonal``)."""

EXACT = 1e-12
"""Largest entry of C - (top'top + diag) accepted, relative to the largest variance."""


def _low_rank_plus_diagonal(c: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(top k x n, diag n) with C = top'top + diag(diag^2) to EXACT, when C off its diagonal has a rank
    k below LOW_RANK_PROBE (a factor model's covariance handed over as a full matrix); None otherwise.

    Three disjoint probe sets I, J, K of m names: the low-rank part L agrees with C off the diagonal,
    so L[i, i] = C[i, K] pinv(C[J, K]) C[J, i] for i in I gives the columns L[:, I] in full, and
    L = L[:, I] pinv(L[I, I]) L[I, :] (exact when L[I, I] has L's rank). The result is checked
    entry by entry against C, in blocks of rows; any miss returns None (the caller factors C whole).
    Costs O(n^2 m) against the Cholesky factor's O(n^3).
    """
    n = c.shape[0]
    m = min(LOW_RANK_PROBE, n // 10)  # k < n / 10: below that the Cholesky factor's n rows cost no more
    if m < 2:
        return None
    probe = np.round(np.linspace(0, n - 1, 3 * m)).astype(int)
    i_set, j_set, k_set = probe[0::3], probe[1::3], probe[2::3]
    scale = float(np.max(np.diag(c), initial=0.0))
    if not scale > 0:
        return None
    middle = np.linalg.pinv(c[np.ix_(j_set, k_set)], rcond=1e-10)
    columns = c[:, i_set].copy()
    columns[i_set, np.arange(m)] = np.einsum("ik,kj,ji->i", c[np.ix_(i_set, k_set)], middle,
                                             c[np.ix_(j_set, i_set)])
    values, vectors = np.linalg.eigh((columns[i_set] + columns[i_set].T) / 2.0)
    keep = values > 1e-10 * max(float(values.max(initial=0.0)), 1e-300)
    if not keep.any() or keep.sum() >= m or (values < -1e-8 * scale).any():
        return None
    exposures = columns @ (vectors[:, keep] / np.sqrt(values[keep]))  # n x k, L = exposures exposures'
    specific = np.diag(c) - np.einsum("ij,ij->i", exposures, exposures)
    if specific.min() < -EXACT * scale:
        return None
    specific = np.clip(specific, 0.0, None)
    for start in range(0, n, 512):  # the check, without an n x n temporary
        rows = slice(start, min(start + 512, n))
        block = c[rows] - exposures[rows] @ exposures.T
        block[np.arange(block.shape[0]), np.arange(rows.start, rows.stop)] -= specific[rows]
        if np.abs(block).max() > EXACT * scale:
            return None
    return exposures.T.copy(), np.sqrt(specific)


def _psd_root(c: np.ndarray, name: str) -> np.ndarray:
    """G with G'G = C: the Cholesky factor (triangular, half the nonzeros) or, for a
    semi-definite C, one row per positive eigenvalue (rank(C) x n) from an eigendecomposition."""
    c = (c + c.T) / 2.0
    try:
        return np.linalg.cholesky(c).T
    except np.linalg.LinAlgError:
        pass
    values, vectors = np.linalg.eigh(c)
    scale = max(1.0, float(np.abs(values).max(initial=0.0)))
    if values.min(initial=0.0) < -1e-8 * scale:
        raise InputError(f"{name} is not positive semi-definite (smallest eigenvalue {values.min():.3g}): no "
                         "portfolio can have a negative variance; estimate it from one common sample of returns "
                         "for every name (pairwise estimates with gaps break this), or shrink it toward its diagonal")
    keep = values > 1e-12 * scale  # only the rows of C's rank: a sample covariance of T days has T - 1
    return (vectors[:, keep] * np.sqrt(values[keep])).T
