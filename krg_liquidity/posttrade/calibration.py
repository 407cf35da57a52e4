"""Calibrate the I-Star parameters (a1, a2, a3, a4, b1) to a desk's own fills.

Each executed order gives its execution cost ``y`` (bps of the arrival price, signed by side: the
``arrival_cost_bps`` of :func:`~krg_liquidity.posttrade.shortfall.post_trade`), its executed size ``S``
(fraction of ADV), volatility ``sigma``, achieved POV and timing risk ``TR`` (bps). The fit minimizes

    sum_i rho( ((y_i - MI(S_i, sigma_i, POV_i; a1, a2, a3, a4, b1)) / TR_i)^2 )

with ``MI = a1 S^a2 sigma^a3 (b1 POV^a4 + 1 - b1)`` (Kissell, Glantz and Malamut, "A Practical Framework
for Estimating Transaction Costs and Developing Optimal Trading Strategies to Achieve Best Execution",
Finance Research Letters 1, 2004; Kissell, *The Science of Algorithmic Trading and Portfolio Management*,
2013, ch. 5), by bounded non-linear least squares (``scipy.optimize.least_squares``, trust-region
reflective) with a robust loss ``rho`` (Huber by default, or soft-L1): weighting by timing risk makes each
residual a z-score, so noisy orders (large, slow, volatile) count for less and an outlier cannot drag the
fit. Confidence intervals are percentile bootstrap intervals (orders resampled with replacement; above
``REFIT_LIMIT`` orders each draw is one Gauss-Newton step from the full fit); a random
held-out share of the orders measures the error out of sample. A parameter the data cannot identify (all
orders at one POV leave a4 and b1 free; one size leaves a2 free; one volatility leaves a3 free) is held at
its prior, with a warning.
"""

from __future__ import annotations

import warnings as _warnings
from dataclasses import dataclass, field
from datetime import date as _date
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from krg_liquidity.core.errors import InputError
from krg_liquidity.core.numbers import json_plain
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.params import KISSELL_2013_ALL_DATA, PARAMETER_COLUMNS, IStarParams
from krg_liquidity.posttrade.fills import Fills
from krg_liquidity.posttrade.shortfall import post_trade

NAMES = ("a1", "a2", "a3", "a4", "b1")
BOUNDS = {"a1": (1.0, 1e4), "a2": (0.05, 1.5), "a3": (0.05, 1.5), "a4": (0.05, 1.5), "b1": (0.05, 1.0)}
"""Search bounds of each parameter: a1 in bps, exponents and b1 unitless (b1 at most 1)."""
MIN_LOG_SPREAD = 0.05
"""Below this standard deviation of log(size), log(volatility) or log(POV), the exponent of that
variable (for POV: a4 and b1) is not identified and is held at its prior."""
REFIT_LIMIT = 20_000
"""Up to this many orders each bootstrap draw is a full re-fit; above it, one Gauss-Newton step from the
full fit (the linear bootstrap: accurate when the orders are many, and a hundred times faster)."""
LOSSES = {"huber": 1.345, "soft_l1": 1.0, "linear": 1.0}
"""Robust losses and their scale in z units (Huber's 1.345: 95% efficiency when z is normal)."""
_Loss = Literal["huber", "soft_l1", "linear"]


class CalibrationWarning(UserWarning):
    """A parameter the fills cannot identify (held at its prior) or determine well.

    Issued with :func:`warnings.warn` by :func:`calibrate`; the same words are kept in
    ``Calibration.warnings``.
    """


@dataclass
class Calibration:
    """A fitted I-Star parameter set and how well it fits.

    Attributes
    ----------
    parameters : IStarParams
        The fitted set (its ``source`` holds the fit statistics, so every answer priced with it
        records them in its assumptions).
    table : pandas.DataFrame
        One row per parameter: estimate, prior, 95% bootstrap interval, standard error, whether it
        was held at its prior.
    statistics : dict
        Orders used and excluded, the z-scores' mean and s.d. in sample and held out, the held-out
        error in bps (and the prior's on the same orders).
    warnings : list of str
        Identification, in words.

    Examples
    --------
    >>> from krg_liquidity import calibrate, synthetic_fills
    >>> truth = IStarParams(500.0, 0.6, 0.8, 0.4, 0.9)
    >>> fit = calibrate(synthetic_fills(truth, n=300, seed=1, noise=0.0), bootstrap=0)
    >>> fit.table["parameter"].tolist(), round(fit.parameters.a1, 6)
    (['a1', 'a2', 'a3', 'a4', 'b1'], 500.0)
    """

    parameters: IStarParams
    table: pd.DataFrame
    statistics: dict
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The fit as plain values (what ``krg-liquidity calibrate --json`` prints).

        Returns
        -------
        dict
            ``parameters`` (a1, a2, a3, a4, b1 by name, and the set's code and date), ``table`` (one record
            per parameter, as ``table``), ``statistics`` and ``warnings``; NaN is None.

        Examples
        --------
        >>> from krg_liquidity import calibrate, synthetic_fills
        >>> fit = calibrate(synthetic_fills(IStarParams(500.0, 0.6, 0.8, 0.4, 0.9), n=300, seed=1, noise=0.0),
        ...                 bootstrap=0)
        >>> round(fit.to_dict()["parameters"]["a1"], 6)
        500.0
        """
        p = self.parameters
        return {key: json_plain(value) for key, value in {"parameters": {"a1": p.a1, "a2": p.a2, "a3": p.a3, "a4": p.a4, "b1": p.b1,
                                           "code": p.code, "date": p.date},
                            "table": self.table, "statistics": self.statistics,
                            "warnings": list(self.warnings)}.items()}

    def parameter_table(self) -> pd.DataFrame:
        """The fitted set as a parameter table that ``--parameters`` reads.

        Returns
        -------
        pandas.DataFrame
            One row: code, date, a1..a5, b1, source.

        Examples
        --------
        >>> from krg_liquidity import calibrate, synthetic_fills
        >>> fit = calibrate(synthetic_fills(IStarParams(500.0, 0.6, 0.8, 0.4, 0.9), n=300, seed=1, noise=0.0),
        ...                 bootstrap=0)
        >>> list(fit.parameter_table().columns)
        ['code', 'date', 'a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'source']
        """
        p = self.parameters
        return pd.DataFrame([{"code": p.code, "date": p.date, "a1": p.a1, "a2": p.a2, "a3": p.a3, "a4": p.a4,
                              "a5": p.a5, "b1": p.b1, "source": p.source}], columns=list(PARAMETER_COLUMNS))

    def write(self, path: str | Path) -> Path:
        """Write the parameter table to ``path`` (.csv, .xlsx or .parquet).

        An existing parameter table there keeps its other rows (a row with the same code and date is
        replaced).

        Parameters
        ----------
        path : str or Path
            The parameter table file (the format ``--parameters`` and ``load_parameters`` read).

        Returns
        -------
        Path
            The file written.

        Raises
        ------
        InputFileError
            ``path`` cannot be written, or an existing file there cannot be read.
        InputError
            An existing file there is not a valid parameter table.
        """
        from krg_liquidity.model.params import read_parameter_table
        from krg_liquidity.report.write import write_table

        path = Path(path)
        table = self.parameter_table()
        if path.is_file():
            old = read_parameter_table(path)
            fitted = self.parameters.date
            same = ((old["code"] == self.parameters.code) & (old["date"] == pd.Timestamp(fitted)) if fitted is not None
                    else pd.Series(False, index=old.index))
            old["date"] = old["date"].dt.strftime("%Y-%m-%d")
            table = pd.concat([old.loc[~same], table], ignore_index=True)
        return write_table(table, path, sheet="parameters")


@dataclass(frozen=True)
class _Data:
    """The executed orders of a fit as arrays: costs (bps), logs of size, volatility and POV, timing risk."""

    cost: np.ndarray
    log_size: np.ndarray
    log_vol: np.ndarray
    log_pov: np.ndarray
    price_term: np.ndarray
    risk: np.ndarray

    def take(self, rows: np.ndarray) -> _Data:
        return _Data(*(getattr(self, f)[rows] for f in self.__dataclass_fields__))


def _impact(values: dict, data: _Data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(MI, I*, POV^a4) in bps for a full set of parameter values."""
    istar = values["a1"] * np.exp(values["a2"] * data.log_size + values["a3"] * data.log_vol) * data.price_term
    pov_a4 = np.exp(values["a4"] * data.log_pov)
    return istar * (values["b1"] * pov_a4 + 1.0 - values["b1"]), istar, pov_a4


def _jacobian(values: dict, data: _Data, free: tuple[str, ...]) -> np.ndarray:
    """d(residual)/d(free parameters), one row per order (the residual is a z-score)."""
    mi, istar, pov_a4 = _impact(values, data)
    columns = {"a1": mi / values["a1"], "a2": mi * data.log_size, "a3": mi * data.log_vol,
               "a4": istar * values["b1"] * pov_a4 * data.log_pov, "b1": istar * (pov_a4 - 1.0)}
    return -np.column_stack([columns[k] for k in free]) / data.risk[:, None]


def _psi_weight(z: np.ndarray, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """(psi(z), psi(z)/z) of a loss: its influence on the fit and its iteratively reweighted weight."""
    c = LOSSES[loss]
    if loss == "huber":
        weight = np.minimum(1.0, c / np.maximum(np.abs(z), 1e-300))
    elif loss == "soft_l1":
        weight = 1.0 / np.sqrt(1.0 + (z / c) ** 2)
    else:
        weight = np.ones_like(z)
    return z * weight, weight


def _one_step_draws(data: _Data, values: dict, free: tuple[str, ...], loss: str, draws: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Bootstrap estimates by one Gauss-Newton step from the full fit on each resample (the linear
    bootstrap): each resample's counts re-weight the full fit's gradient and curvature. Rows: draws,
    columns: ``NAMES``; kept inside ``BOUNDS``."""
    n = data.cost.size
    jac = _jacobian(values, data, free)
    psi, weight = _psi_weight(_z(values, data), loss)
    low = np.array([BOUNDS[k][0] for k in free])
    high = np.array([BOUNDS[k][1] for k in free])
    x = np.array([values[k] for k in free])
    out = np.tile([values[k] for k in NAMES], (draws, 1))
    columns = [NAMES.index(k) for k in free]
    for b in range(draws):
        counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        gradient = jac.T @ (counts * psi)
        curvature = (jac * (counts * weight)[:, None]).T @ jac
        step = np.linalg.lstsq(curvature, -gradient, rcond=None)[0]
        out[b, columns] = np.clip(x + step, low, high)
    return out


def _fit(data: _Data, start: dict, free: tuple[str, ...], loss: str, tol: float):
    """Fit the ``free`` parameters from ``start`` (the others held); returns (values, scipy result)."""
    fixed = {k: v for k, v in start.items() if k not in free}

    def values_of(x):
        return {**fixed, **dict(zip(free, x))}

    def residuals(x):
        return (data.cost - _impact(values_of(x), data)[0]) / data.risk

    def jacobian(x):
        return _jacobian(values_of(x), data, free)

    low = [BOUNDS[k][0] for k in free]
    high = [BOUNDS[k][1] for k in free]
    x0 = np.clip([start[k] for k in free], low, high)
    fit = least_squares(residuals, x0, jac=jacobian, bounds=(low, high), loss=cast(_Loss, loss),  # checked by calibrate
                        f_scale=LOSSES[loss], x_scale="jac", ftol=tol, xtol=tol, gtol=tol, max_nfev=200)
    return values_of(fit.x), fit


def _data(orders: pd.DataFrame, a5: float) -> tuple[_Data, int]:
    """The orders a fit can use (executed, with timing risk > 0) as arrays, and how many were left out."""
    use = (orders["executed_shares"] > 0).to_numpy() & (orders["timing_risk_bps"] > 0).to_numpy()
    o = orders.loc[use]
    data = _Data(o["arrival_cost_bps"].to_numpy(float), np.log(o["size"].to_numpy(float)),
                 np.log(o["volatility"].to_numpy(float)), np.log(o["pov"].to_numpy(float)),
                 np.power(o["arrival_price"].to_numpy(float), a5), o["timing_risk_bps"].to_numpy(float))
    return data, int((~use).sum())


def _identified(data: _Data, prior: IStarParams) -> tuple[tuple[str, ...], list[str]]:
    """The parameters the spread of the data can identify, and a warning for each one held at its prior."""
    held: list[str] = []
    notes: list[str] = []
    for variable, params, log in (("size", ("a2",), data.log_size), ("volatility", ("a3",), data.log_vol),
                                  ("POV", ("a4", "b1"), data.log_pov)):
        spread = float(np.std(log))
        if spread < MIN_LOG_SPREAD:
            held += params
            kept = ", ".join(f"{p}={getattr(prior, p):g}" for p in params)
            notes.append(f"every order has nearly the same {variable} (s.d. of its log {spread:.3f} < "
                         f"{MIN_LOG_SPREAD:g}): {' and '.join(params)} cannot be told apart from a1, so "
                         f"{'they are' if len(params) > 1 else 'it is'} held at the prior ({kept}); "
                         f"fills across a range of {variable} would identify {'them' if len(params) > 1 else 'it'}")
    return tuple(n for n in NAMES if n not in held), notes


def _z(values: dict, data: _Data) -> np.ndarray:
    return (data.cost - _impact(values, data)[0]) / data.risk


def calibrate(fills: str | Path | pd.DataFrame | Fills, prior: IStarParams = KISSELL_2013_ALL_DATA, *,
              loss: str = "huber", bootstrap: int = 200, holdout: float = 0.2, seed: int = 0,
              code: int = 2, date: str | None = None, skip_bad: bool = False,
              trading_days: int = 250) -> Calibration:
    """Fit a1, a2, a3, a4, b1 to the execution costs of a desk's fills.

    Parameters
    ----------
    fills : path, DataFrame or Fills
        Parent orders (columns: see :func:`~krg_liquidity.posttrade.fills.read_fills`). Orders with no
        executed shares, or at 100% POV (no timing risk), are left out of the fit.
    prior : IStarParams
        Starting point, and the value of any parameter the data cannot identify (default: Kissell 2013).
        Its ``a5`` (price term) is kept as it is.
    loss : {"huber", "soft_l1", "linear"}
        Loss on the z-score residuals (robust by default; "linear" is ordinary least squares).
    bootstrap : int
        Bootstrap draws for the 95% intervals (0: no intervals).
    holdout : float
        Share of the orders kept out of a second fit to measure the error out of sample (0: none).
    seed : int
        Seed of the bootstrap and the held-out split.
    code : int
        Market-impact code of the fitted set (the code ``--mi-code`` picks).
    date : str, optional
        Date of the fitted set (YYYY-MM-DD; default: the last fill's ``date``, else today).
    skip_bad : bool
        Set aside orders with unusable data instead of refusing the table.
    trading_days : int
        Trading days a year of the timing risk.

    Returns
    -------
    Calibration

    Raises
    ------
    InputError
        Fewer usable orders than parameters to fit, or an unknown loss.

    Examples
    --------
    >>> from krg_liquidity.posttrade.synthetic import synthetic_fills
    >>> truth = IStarParams(500.0, 0.6, 0.8, 0.4, 0.9)
    >>> fit = calibrate(synthetic_fills(truth, n=300, seed=1, noise=0.0), bootstrap=0)
    >>> [round(fit.parameters.a1, 6), round(fit.parameters.b1, 6)]
    [500.0, 0.9]
    """
    if loss not in LOSSES:
        raise InputError(f"loss={loss!r}: use one of {', '.join(LOSSES)}")
    if not 0 <= holdout < 1:
        raise InputError(f"holdout={holdout}: give the held-out share as a decimal in [0, 1), e.g. 0.2")
    model = CostModel(prior, trading_days)
    analysed = post_trade(fills, model, skip_bad=skip_bad)
    data, excluded = _data(analysed.orders, prior.a5)
    n = data.cost.size
    free, notes = _identified(data, prior) if n else (NAMES, [])
    if n <= len(free):
        raise InputError(f"calibration needs more executed orders than parameters to fit ({len(free)}: "
                         f"{', '.join(free)}); the fills have {n} usable order(s)"
                         + (f" ({excluded} left out: nothing executed or 100% POV)" if excluded else "")
                         + "; give more orders")
    start = {k: getattr(prior, k) for k in NAMES}
    values, fit = _fit(data, start, free, loss, 1e-12)
    rng = np.random.default_rng(seed)
    refit = n <= REFIT_LIMIT
    if refit:
        draws = np.full((bootstrap, len(NAMES)), np.nan)
        for b in range(bootstrap):
            sample, _ = _fit(data.take(rng.integers(0, n, n)), values, free, loss, 1e-8)
            draws[b] = [sample[k] for k in NAMES]
    else:
        draws = _one_step_draws(data, values, free, loss, bootstrap, rng)
    z = _z(values, data)
    stats = {"orders": len(analysed.orders) + len(analysed.skipped), "orders_used": n,
             "orders_left_out": excluded + len(analysed.skipped), "loss": loss, "bootstrap_draws": bootstrap,
             "bootstrap_method": "refit" if refit else "one-step",
             "converged": bool(fit.success), "z_mean": float(z.mean()), "z_sd": float(z.std(ddof=1)),
             "prior_z_mean": float(_z(start, data).mean()), "prior_z_sd": float(_z(start, data).std(ddof=1))}
    test_n = int(round(holdout * n))
    if holdout and test_n >= 2 and n - test_n > len(free):
        order = rng.permutation(n)
        test, train = data.take(order[:test_n]), data.take(order[test_n:])
        trained, _ = _fit(train, start, free, loss, 1e-10)
        z_test, z_prior = _z(trained, test), _z(start, test)
        heldout_rmse = float(np.sqrt(np.mean((z_test * test.risk) ** 2)))
        heldout_prior_rmse = float(np.sqrt(np.mean((z_prior * test.risk) ** 2)))
        stats.update(heldout_orders=test_n, heldout_z_mean=float(z_test.mean()),
                     heldout_z_sd=float(z_test.std(ddof=1)),
                     heldout_rmse_bps=heldout_rmse,
                     heldout_prior_rmse_bps=heldout_prior_rmse)
        if heldout_rmse >= heldout_prior_rmse:
            notes.append(f"on the {test_n:,} held-out orders the fitted set is no better than the prior "
                         f"({heldout_rmse:.2f} against {heldout_prior_rmse:.2f} bps RMS): "
                         "these fills do not show that the desk's impact differs from the prior")
    else:
        notes.append("no held-out error: too few orders to keep some out of the fit")
    low, high = (np.nanpercentile(draws, q, axis=0) if bootstrap else np.full(len(NAMES), np.nan) for q in (2.5, 97.5))
    table = pd.DataFrame({"parameter": NAMES, "estimate": [values[k] for k in NAMES],
                          "prior": [start[k] for k in NAMES], "ci_low": low, "ci_high": high,
                          "std_error": np.nanstd(draws, axis=0, ddof=1) if bootstrap > 1 else np.nan,
                          "held_at_prior": [k not in free for k in NAMES]})
    for row in table.to_dict("records"):
        name, estimate, std_error = row["parameter"], row["estimate"], row["std_error"]
        bound = BOUNDS[name]
        edges = [b for b in bound if not (name == "b1" and b == 1.0)]  # b1 = 1 is the model's own limit
        if not row["held_at_prior"] and any(np.isclose(estimate, b) for b in edges):
            notes.append(f"{name}={estimate:.4g} is at the edge of its search range {bound}: "
                         "the fills push it there; read it with care")
        if not row["held_at_prior"] and bootstrap > 1 and std_error > 0.5 * abs(estimate):
            notes.append(f"{name} is poorly determined by these fills (standard error {std_error:.3g} "
                         f"against {estimate:.4g})")
    when = date or _last_date(analysed.orders)
    source = _source(n, loss, stats, table)
    params = IStarParams(values["a1"], values["a2"], values["a3"], values["a4"], values["b1"], prior.a5, code=code,
                         date=when, source=source)
    for note in notes:
        _warnings.warn(note, CalibrationWarning, stacklevel=2)
    return Calibration(params, table, stats, notes)


def _last_date(orders: pd.DataFrame) -> str:
    if "date" in orders:
        last = pd.to_datetime(orders["date"], errors="coerce").max()
        if pd.notna(last):
            return str(last.date())
    return str(_date.today())


def _source(n: int, loss: str, stats: dict, table: pd.DataFrame) -> str:
    """The fit statistics in one line, carried as the parameter set's source into every answer's assumptions."""
    ci = "; ".join(f"{r['parameter']} {r['estimate']:.4g}" + (" (held at prior)" if r["held_at_prior"] else
                                                              f" [{r['ci_low']:.4g}, {r['ci_high']:.4g}]"
                                                              if np.isfinite(r["ci_low"]) else "")
                   for r in table.to_dict("records"))
    held = (f"; held-out ({stats['heldout_orders']} orders) z mean {stats['heldout_z_mean']:.3f} sd "
            f"{stats['heldout_z_sd']:.3f}, RMSE {stats['heldout_rmse_bps']:.2f} bps (prior "
            f"{stats['heldout_prior_rmse_bps']:.2f} bps)" if "heldout_orders" in stats else "")
    return (f"Calibrated to {n:,} executed orders ({loss} loss on z-scores, weighted by timing risk): {ci} "
            f"(95% bootstrap, {stats['bootstrap_draws']} draws); z mean {stats['z_mean']:.3f} sd "
            f"{stats['z_sd']:.3f}{held}")

