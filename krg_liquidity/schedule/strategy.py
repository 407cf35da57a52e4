"""Choosing how fast to trade: per-name optimal POV / trade time, and Almgren-Chriss.

``optimize_strategy`` picks, per name, the POV minimizing MI + PA + lambda * TR (all bps,
MATLAB's "Optimize POV / Trade Time" examples), by a vectorized golden-section search on
log(POV). ``almgren_chriss`` is the closed-form optimal trajectory of Almgren & Chriss (2001)
for linear impact; see KRG_REFERENCE.md for the formulas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from krg_liquidity.book import columns as col
from krg_liquidity.book.orders import as_orders
from krg_liquidity.model.impact import CostModel

_GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def optimize_strategy(trades: pd.DataFrame, risk_aversion: float, cost_model: CostModel | None = None,
                      pov_bounds: tuple[float, float] = (1e-4, 1.0)) -> pd.DataFrame:
    """Per name, the POV (and its trade time) minimizing MI + PA + risk_aversion x TR (bps).

    Parameters
    ----------
    trades : pandas.DataFrame or LiquidationResult or str
        Size (fraction of ADV; or shares + adv), volatility (annualized decimal), optional
        alpha_bp (bps/day, default 0); or a ``LiquidationResult``, its ``trades`` table, or a file of
        either (see ``orders.as_orders``).
    risk_aversion : float
        Lambda (>= 0, unitless: the TR term is in bps).
    cost_model : CostModel, optional
        The I-Star model (None: Kissell 2013 parameters).
    pov_bounds : tuple of float
        The POV searched (fractions of market volume).

    Returns
    -------
    pandas.DataFrame
        One row per name: symbol, pov, trade_time_days, mi_bps, pa_bps, tr_bps, objective_bps.

    Raises
    ------
    ValueError
        ``risk_aversion`` is negative or not finite.
    InputError
        Bad size, shares, adv or volatility.

    Examples
    --------
    >>> trades = pd.DataFrame({"symbol": ["A"], "size": [0.1], "volatility": [0.25]})
    >>> low, high = (optimize_strategy(trades, lam)["pov"].iloc[0] for lam in (0.0, 1.0))
    >>> bool(high > low)
    True
    """
    model = cost_model or CostModel()
    if not np.isfinite(risk_aversion) or risk_aversion < 0:
        raise ValueError(f"risk_aversion={risk_aversion} must be >= 0")
    frame = as_orders(trades)
    base = frame.drop(columns=[c for c in ("pov", "trade_time", "trade_schedule", "volume_profile") if c in frame])
    if "alpha_bp" not in base:
        base = base.assign(alpha_bp=0.0)
    orders = model._orders(base, need_price=False)  # validates size/shares/adv/volatility with clear errors
    size, vol = orders.size, col.numeric(orders.frame, "volatility", positive=True)
    price = orders.frame["price"].to_numpy(float) if "price" in orders.frame else np.ones(len(size))
    alpha = col.numeric(orders.frame, "alpha_bp")
    days_per_year = model.trading_days

    def objective(log_pov: np.ndarray):
        pov = np.exp(log_pov)
        days = size * (1.0 - pov) / pov
        mi = model.impact_bps_at_pov(size, vol, pov, price)
        pa = 0.5 * alpha * days
        tr = vol * np.sqrt(days / (3.0 * days_per_year)) * 1e4
        return mi + pa + risk_aversion * tr, mi, pa, tr

    grid = np.linspace(np.log(pov_bounds[0]), np.log(pov_bounds[1]), 241)
    values = np.array([objective(np.full(size.size, g))[0] for g in grid])  # grid x names
    best = values.argmin(axis=0)
    low, high = grid[np.maximum(best - 1, 0)], grid[np.minimum(best + 1, grid.size - 1)]
    for _ in range(80):  # golden section inside the bracketing grid cells
        a, b = high - _GOLDEN * (high - low), low + _GOLDEN * (high - low)
        fa, fb = objective(a)[0], objective(b)[0]
        low, high = np.where(fa <= fb, low, a), np.where(fa <= fb, b, high)
    pov_log = 0.5 * (low + high)
    total, mi, pa, tr = objective(pov_log)
    pov = np.exp(pov_log)
    return pd.DataFrame({"symbol": orders.frame["symbol"].to_numpy(), "pov": pov,
                         "trade_time_days": size * (1 - pov) / pov, "mi_bps": mi, "pa_bps": pa, "tr_bps": tr,
                         "objective_bps": total})


@dataclass(frozen=True)
class AlmgrenChriss:
    """Optimal trajectory: ``times`` t_0..t_N (days), ``holdings`` x_0..x_N, ``trades`` n_1..n_N
    (shares sold per period), ``kappa`` (1/day), closed-form ``expected_cost`` (USD) and
    ``variance`` (USD^2)."""

    times: np.ndarray
    holdings: np.ndarray
    trades: np.ndarray
    kappa: float
    expected_cost: float
    variance: float


def almgren_chriss(shares: float, periods: int, period_days: float, sigma: float, eta: float, gamma: float,
                   epsilon: float, risk_aversion: float) -> AlmgrenChriss:
    """Almgren-Chriss (2001) optimal liquidation of ``shares`` over ``periods`` x ``period_days``.

    Parameters
    ----------
    shares : float
        Shares to sell (> 0).
    periods : int
        Trading periods (>= 1).
    period_days : float
        Length of a period (days, > 0).
    sigma : float
        Price volatility ($/share/day^0.5).
    eta : float
        Temporary linear impact ($/share per share/day).
    gamma : float
        Permanent linear impact ($/share per share).
    epsilon : float
        Fixed cost ($/share).
    risk_aversion : float
        Lambda (1/$, >= 0); 0 gives the straight line.

    Returns
    -------
    AlmgrenChriss
        ``times`` (days), ``holdings`` and ``trades`` (shares), ``kappa`` (1/day), closed-form
        ``expected_cost`` (USD) and ``variance`` (USD^2).

    Raises
    ------
    ValueError
        An argument out of range, or eta - gamma x period_days / 2 not > 0.

    Examples
    --------
    >>> ac = almgren_chriss(1e6, 5, 1.0, 0.95, 2.5e-6, 2.5e-7, 0.0625, 1e-6)
    >>> round(ac.kappa, 1)
    0.6
    """
    if periods < 1 or period_days <= 0 or shares <= 0 or sigma < 0 or risk_aversion < 0:
        raise ValueError("need shares > 0, periods >= 1, period_days > 0, sigma >= 0, risk_aversion >= 0")
    tau, horizon = float(period_days), periods * float(period_days)
    eta_tilde = eta - 0.5 * gamma * tau
    if eta_tilde <= 0:
        raise ValueError(f"eta - gamma*tau/2 = {eta_tilde:.3g} must be > 0 (shorter periods or larger eta)")
    times = np.arange(periods + 1) * tau
    kappa_tilde_sq = risk_aversion * sigma**2 / eta_tilde
    X = float(shares)
    if kappa_tilde_sq == 0.0:
        kappa = 0.0
        holdings = X * (1.0 - times / horizon)
        expected = 0.5 * gamma * X**2 + epsilon * X + eta_tilde * X**2 / horizon
        variance = sigma**2 * X**2 * (horizon / 3.0) * (1 - 0.5 * tau / horizon) * (1 - tau / horizon)
    else:
        kappa = float(np.arccosh(1.0 + 0.5 * kappa_tilde_sq * tau**2) / tau)
        holdings = X * np.sinh(kappa * (horizon - times)) / np.sinh(kappa * horizon)
        kt, kT = kappa * tau, kappa * horizon
        expected = (0.5 * gamma * X**2 + epsilon * X + eta_tilde * X**2 * np.tanh(0.5 * kt)
                    * (tau * np.sinh(2 * kT) + 2 * horizon * np.sinh(kt)) / (2 * tau**2 * np.sinh(kT) ** 2))
        variance = (0.5 * sigma**2 * X**2 * (tau * np.sinh(kT) * np.cosh(kappa * (horizon - tau))
                                             - horizon * np.sinh(kt)) / (np.sinh(kT) ** 2 * np.sinh(kt)))
    trades = -np.diff(holdings)
    return AlmgrenChriss(times, holdings, trades, kappa, float(expected), float(variance))


def discrete_cost_and_variance(ac: AlmgrenChriss, sigma: float, eta: float, gamma: float, epsilon: float,
                               period_days: float) -> tuple[float, float]:
    """E and V of any trajectory by the discrete sums: E = g X^2/2 + eps sum|n| + (eta~/tau) sum n^2,
    V = sigma^2 tau sum_{k>=1} x_k^2."""
    tau = period_days
    eta_tilde = eta - 0.5 * gamma * tau
    X = ac.holdings[0]
    expected = 0.5 * gamma * X**2 + epsilon * np.abs(ac.trades).sum() + eta_tilde / tau * np.sum(ac.trades**2)
    variance = sigma**2 * tau * np.sum(ac.holdings[1:] ** 2)
    return float(expected), float(variance)


def almgren_chriss_frontier(shares: float, periods: int, period_days: float, sigma: float, eta: float, gamma: float,
                            epsilon: float, risk_aversions) -> pd.DataFrame:
    """Efficient frontier of :func:`almgren_chriss`: one row per risk aversion.

    Parameters
    ----------
    shares, periods, period_days, sigma, eta, gamma, epsilon
        As for :func:`almgren_chriss`.
    risk_aversions : sequence of float
        The lambdas (1/$, >= 0).

    Returns
    -------
    pandas.DataFrame
        Columns risk_aversion, expected_cost_usd, std_usd, kappa (1/day).

    Raises
    ------
    ValueError
        As for :func:`almgren_chriss`.

    Examples
    --------
    >>> table = almgren_chriss_frontier(1e6, 5, 1.0, 0.95, 2.5e-6, 2.5e-7, 0.0625, [0.0, 1e-6])
    >>> bool(table["std_usd"].iloc[1] < table["std_usd"].iloc[0])
    True
    """
    rows = []
    for lam in np.asarray(risk_aversions, dtype=float):
        ac = almgren_chriss(shares, periods, period_days, sigma, eta, gamma, epsilon, lam)
        rows.append((lam, ac.expected_cost, np.sqrt(ac.variance), ac.kappa))
    return pd.DataFrame(rows, columns=["risk_aversion", "expected_cost_usd", "std_usd", "kappa"])
