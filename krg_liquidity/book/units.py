"""Units sanity: values that cannot be in the unit krg_liquidity reads are refused; doubtful ones warned.

Refused (a :class:`~krg_liquidity.core.errors.Problem` each, reported with every other problem):

- volatility above 3 (300% a year): a percent given as a number (24.1 for 24.1%);
- ``pov`` above 1 (checked with the strategy), ``ub_max_pct_adv`` above 1, a weight bound
  (``lb_wt``, ``ub_wt``) above 1 or below -1: percents where decimals are read;
- ``ub_max_mi`` (MATLAB's decimal impact cap) of 1 or more (10,000 bps);
- a ``size`` that is not shares/ADV within 0.1%;
- a risk model whose volatility (square root of the covariance diagonal, or of the factor
  model's implied variance) differs from the book's ``volatility`` by more than a factor of
  ``VOL_RATIO`` (2), or above 3 when the book has no volatility; a covariance with a unit
  diagonal (a correlation matrix) or an all-zero diagonal.

Warned (``UnitsWarning``, also listed on the result): ADV times price above
``ADV_USD_WARN`` ($50B a day for one name, more than any stock trades: ADV in dollars?), and
volatility below 0.04 (4% a year: a daily volatility not annualized?), a gross value above
``LEVERAGE_WARN`` (3) times the net value (weights are fractions of the net value), and
fractional ``shares`` on a minority of names where the others are whole (a thousands separator
read as a decimal point: "207.500" as 207.5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from krg_liquidity.core.errors import Problem, symbols_text

MAX_VOLATILITY = 3.0
VOL_RATIO = 2.0
ADV_USD_WARN = 5e10
MIN_VOLATILITY_WARN = 0.04  # 4% a year: below any listed stock's volatility; a daily figure is 1-3%
LEVERAGE_WARN = 3.0  # gross value above 3x the net value


def _found(array) -> str:
    array = np.asarray(array, dtype=float)
    return ", ".join(f"{v:.6g}" for v in array[:3]) + (", ..." if array.size > 3 else "")


def check_book_units(values: dict[str, np.ndarray], symbols: np.ndarray,
                     model_volatility: pd.Series | None = None) -> list[Problem]:
    """Problems with units in the book's numeric columns (``values``: column -> floats)."""
    problems = []
    vol = values.get("volatility")
    if vol is not None:
        high = vol > MAX_VOLATILITY
        if high.any():
            problems.append(Problem("volatility", "is above 3 (300% a year)",
                                    "this looks like a percent; give annualized volatility as a decimal: 24.1 -> 0.241 "
                                    "(or write '24.1%')",
                                    symbols=symbols[high], found=_found(vol[high])))
    pct = values.get("ub_max_pct_adv")
    if pct is not None and (pct > 1).any():
        problems.append(Problem("ub_max_pct_adv", "is above 1",
                                "this looks like a percent; give the cap as a decimal fraction of ADV: 5% -> 0.05",
                                symbols=symbols[pct > 1], found=_found(pct[pct > 1])))
    for name in ("lb_wt", "ub_wt"):
        weight = values.get(name)
        if weight is not None and (np.abs(weight) > 1).any():
            off = np.abs(weight) > 1
            problems.append(Problem(name, "is outside [-1, 1]",
                                    "this looks like a percent; give final weights as decimals: 5% -> 0.05",
                                    symbols=symbols[off],
                                    found=_found(weight[off])))
    cap = values.get("ub_max_mi")
    if cap is not None and (cap >= 1).any():
        problems.append(Problem("ub_max_mi", "is 1 or more (10,000 bps)",
                                "this looks like bps; UB_MaxMI is a decimal (0.0025 = 25 bps); for bps name the "
                                "column 'UB_MaxMI_bps'",
                                symbols=symbols[cap >= 1], found=_found(cap[cap >= 1])))
    if all(k in values for k in ("size", "shares", "adv")):
        computed = np.abs(values["shares"]) / values["adv"]
        off = np.isfinite(values["size"]) & ~np.isclose(values["size"], computed, rtol=1e-3, atol=0.0)
        if off.any():
            problems.append(Problem("size", "disagrees with shares/adv",
                                    "drop the 'size' column to have it recomputed, or correct shares/adv",
                                    symbols=symbols[off],
                                    found=f"size {_found(values['size'][off])} vs shares/adv {_found(computed[off])}"))
    if vol is not None and model_volatility is not None:
        model = model_volatility.reindex(symbols).to_numpy(dtype=float)
        ratio = model / vol
        off = np.isfinite(ratio) & ((ratio > VOL_RATIO) | (ratio < 1 / VOL_RATIO))
        if off.any():
            hint = _model_hint(ratio[off])
            problems.append(Problem("volatility", f"disagrees with the risk model by more than a factor {VOL_RATIO:g}",
                                    hint, symbols=symbols[off],
                                    found=f"volatility {_found(vol[off])} vs risk model {_found(model[off])}"))
    return problems


def _model_hint(ratio: np.ndarray) -> str:
    median = float(np.median(ratio))
    if 50 < median < 200:
        return "the risk model looks like it is in percent squared (%^2): divide the covariance by 10,000"
    return ("both must be annualized decimals (covariance: variance of annual returns, 0.04 = 20% volatility); "
            "check the units of the risk model and of the 'volatility' column")


def book_warnings(values: dict[str, np.ndarray], symbols: np.ndarray) -> list[str]:
    """Doubtful units that are allowed (warnings, not refusals)."""
    notes = []
    if "adv" in values and "price" in values:
        dollars = values["adv"] * values["price"]
        high = dollars > ADV_USD_WARN
        if high.any():
            notes.append(f"adv x price is above ${ADV_USD_WARN / 1e9:,.0f}B a day for "
                         f"{symbols_text(list(symbols[high]))}: is ADV in dollars? It must be shares per day "
                         "(divide dollar ADV by the price)")
    vol = values.get("volatility")
    if vol is not None:
        low = (vol > 0) & (vol < MIN_VOLATILITY_WARN)
        if low.any():
            notes.append(f"volatility is below {MIN_VOLATILITY_WARN:g} ({MIN_VOLATILITY_WARN:.0%} a year) for "
                         f"{symbols_text(list(symbols[low]))}: "
                         "a daily volatility? Annualize it: daily x sqrt(250)")
    shares = values.get("shares")
    if shares is not None:
        fractional = np.isfinite(shares) & (shares != np.round(shares))
        whole = int((np.isfinite(shares) & ~fractional).sum())
        if fractional.any() and whole >= 2 and fractional.sum() <= whole:
            notes.append(f"column 'shares' is fractional for {symbols_text(list(symbols[fractional]))} "
                         f"({_found(shares[fractional])}) while the other {whole} holdings are whole shares: a "
                         "thousands separator read as a decimal point (207.500 read as 207.5)? Write the number "
                         "without separators (207500) or with commas (207,500), or add a 'value' column "
                         "(shares x price) to cross-check")
    if "shares" in values and "price" in values:
        position = values["shares"] * values["price"]
        net, gross = float(np.nansum(position)), float(np.nansum(np.abs(position)))
        if net > 0 and gross > LEVERAGE_WARN * net:
            notes.append(f"the gross value ${gross:,.0f} is {gross / net:.1f}x the net value ${net:,.0f} (a long/short "
                         "or leveraged book): weights, the risk band and % of NAV are fractions of the net value, "
                         "so small trades move them a lot")
    return notes


def check_covariance(cov: pd.DataFrame, what: str = "covariance") -> list[Problem]:
    """Shape, numbers, symmetry and units of a covariance matrix (annualized, decimal)."""
    if cov.shape[0] == 0:
        return [Problem(None, f"the {what} is empty", "give a square matrix: first column the symbol, "
                        "header the symbols")]
    if cov.shape[0] != cov.shape[1] or set(cov.index) != set(cov.columns):
        return [Problem(None, f"the {what} is not square with the same symbols in its first column and its header",
                        f"give one row and one column per symbol (it is {cov.shape[0]} x {cov.shape[1]})")]
    cov = cov.loc[cov.index, cov.index]
    values = cov.to_numpy(dtype=float)
    finite = np.isfinite(values)
    if not finite.all():
        return [Problem(None, f"the {what} has missing or infinite entries", "fill every cell",
                        symbols=cov.index[~finite.all(axis=1)])]
    problems = []
    if not np.allclose(values, values.T, rtol=1e-6, atol=1e-12):
        problems.append(Problem(None, f"the {what} is not symmetric", "make entry (i, j) equal entry (j, i)"))
    diag = np.diag(values)
    if np.all(diag == 0):
        problems.append(Problem(None, f"the {what} is all zeros on its diagonal", "give annualized variances "
                                "(0.04 = 20% volatility)"))
    elif len(diag) > 1 and np.allclose(diag, 1.0, rtol=0, atol=1e-9):
        problems.append(Problem(None, f"the {what} has a unit diagonal",
                                "this looks like a correlation matrix; give the covariance: "
                                "C_ij = rho_ij x vol_i x vol_j (annualized, decimal)"))
    elif (negative := diag < 0).any():
        problems.append(Problem(None, f"the {what} has negative variances", "correct the diagonal",
                                symbols=cov.index[negative]))
    return problems


def covariance_volatility(cov: pd.DataFrame) -> pd.Series:
    """Volatility per symbol implied by a covariance: sqrt of its diagonal."""
    return pd.Series(np.sqrt(np.clip(np.diag(cov.to_numpy(dtype=float)), 0, None)), index=cov.index)


def check_model_volatility(model_volatility: pd.Series, has_book_volatility: bool) -> list[Problem]:
    """Without a book volatility to compare with, a model volatility above 3 is a units error."""
    if has_book_volatility:
        return []
    high = model_volatility > MAX_VOLATILITY
    if not high.any():
        return []
    hint = ("the risk model looks like it is in percent squared: divide it by 10,000"
            if (model_volatility[high] > 10).all() else "give the risk model in annualized decimal units")
    return [Problem(None, "the risk model implies a volatility above 3 (300% a year)", hint,
                    symbols=model_volatility.index[high], found=_found(model_volatility[high]))]
