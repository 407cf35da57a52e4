"""Risk models: a full covariance matrix or a factor model, both annualized.

A factor model ``C = B F B' + diag(D)`` is kept as its factors; nothing here ever
builds the n x n matrix from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InconsistentInputError, InputError


@dataclass(frozen=True)
class FactorModel:
    """Exposures B (n x k, rows by symbol), factor covariance F (k x k), specific variance D (n).

    All annualized (decimal returns). ``exposures`` is a DataFrame indexed by symbol;
    ``specific_variance`` a Series indexed by the same symbols.
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
    def from_files(cls, exposures, factor_covariance=None, specific_variance=None) -> FactorModel:
        """Read a factor model from three files (CSV, .xlsx or Parquet) or from one .xlsx workbook
        with sheets ``exposures``, ``factor_covariance`` and ``specific_variance``.

        Exposures: first column the symbol, one column per factor. Factor covariance: first
        column the factor, header the factors (annualized). Specific: symbol and
        ``specific_variance`` (annualized variance) or ``specific_volatility`` (annualized,
        decimal; squared). See :mod:`krg_liquidity.io.matrices`.
        """
        from .io.matrices import read_factor_parts

        return cls(*read_factor_parts(exposures, factor_covariance, specific_variance))

    @property
    def symbols(self) -> list[str]:
        return list(self.exposures.index)

    def volatility(self) -> pd.Series:
        """Each name's annualized volatility implied by the model."""
        b = self.exposures.to_numpy()
        systematic = np.einsum("ij,jk,ik->i", b, self.factor_covariance.to_numpy(), b)
        return pd.Series(np.sqrt(systematic + self.specific_variance.to_numpy()), index=self.exposures.index)

    def subset(self, symbols) -> FactorModel:
        symbols = [str(s) for s in symbols]
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

    def sigma(self, x: np.ndarray) -> float:
        """Annualized volatility of weights (or dollar positions) ``x``."""
        x = np.asarray(x, dtype=float)
        total = float(np.sum((self.top @ x) ** 2))
        if self.diag is not None:
            total += float(np.sum((self.diag * x) ** 2))
        return float(np.sqrt(total))

    def covariance_times(self, x: np.ndarray) -> np.ndarray:
        """C @ x without forming C."""
        out = self.top.T @ (self.top @ x)
        if self.diag is not None:
            out = out + self.diag**2 * x
        return out

    def stacked(self, x):
        """The cvxpy vector whose norm is sigma(x)."""
        import cvxpy as cp

        if self.diag is None:
            return self.top @ x
        return cp.hstack([self.top @ x, cp.multiply(self.diag, x)])


def risk_operator(covariance: pd.DataFrame | None, factor_model: FactorModel | None, symbols) -> RiskOperator:
    """The risk operator over ``symbols`` (in that order).

    Full covariance: its Cholesky factor (or a symmetric square root when C is only
    semi-definite). Factor model: top = F^(1/2) B' (k x n), diag = sqrt(D).
    """
    symbols = [str(s) for s in symbols]
    if factor_model is not None:
        fm = factor_model.subset(symbols)
        f_root = _psd_root(fm.factor_covariance.to_numpy(), "factor_covariance")
        return RiskOperator(f_root @ fm.exposures.to_numpy().T, np.sqrt(fm.specific_variance.to_numpy()))
    c = covariance.loc[symbols, symbols].to_numpy(dtype=float)
    return RiskOperator(_psd_root(c, "covariance"))


def _psd_root(c: np.ndarray, name: str) -> np.ndarray:
    """G with G'G = C: the Cholesky factor (triangular, half the nonzeros) or, for a
    semi-definite C, the symmetric square root from an eigendecomposition."""
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
    values = np.clip(values, 0.0, None)
    return (vectors * np.sqrt(values)) @ vectors.T
