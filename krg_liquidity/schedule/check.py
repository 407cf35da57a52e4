"""Whole shares from a fractional schedule, and the independent checks of every returned schedule.

Nothing here trusts the solver: the checks take the rounded shares (names x periods) and
recompute totals, signs, participation per bucket, cumulative cash and the basket's timing risk.
"""

from __future__ import annotations

import numpy as np

from krg_liquidity.book.risk import RiskOperator


def round_schedule(fractions: np.ndarray, quantity: np.ndarray, sells: np.ndarray | None = None) -> np.ndarray:
    """Whole shares (names x periods) following the rounded cumulative target: each bucket within
    one share of ``fractions x quantity``, never negative, each row summing exactly to ``quantity``.
    ``sells`` (bool per name): round the cumulative up for sales and down for buys, so that the
    cash raised by every period is at least the fractional schedule's; None: to the nearest.

    >>> round_schedule(np.array([[0.3334, 0.3333, 0.3333]]), np.array([10.0]))
    array([[3., 4., 3.]])
    >>> round_schedule(np.array([[0.3334, 0.3333, 0.3333]]), np.array([10.0]), np.array([True]))
    array([[4., 3., 3.]])
    """
    fractions = np.clip(np.asarray(fractions, dtype=float), 0.0, None)
    totals = fractions.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(fractions / np.where(totals > 0, totals, 1.0), axis=1) * quantity[:, None]
    if sells is None:
        whole = np.round(cumulative)
    else:  # within 1e-7 of the order of a whole number: solver noise, not a share to round over
        noise = 1e-7 * quantity[:, None] + 1e-9
        nearest = np.round(cumulative)
        directed = np.where(np.asarray(sells)[:, None], np.ceil(cumulative), np.floor(cumulative))
        whole = np.where(np.abs(cumulative - nearest) <= noise, nearest, directed)
    whole = np.minimum(whole, quantity[:, None])
    whole[:, -1] = quantity
    whole = np.maximum.accumulate(whole, axis=1)
    return np.diff(np.concatenate([np.zeros((len(quantity), 1)), whole], axis=1), axis=1)


def check_schedule(shares, quantity, volume, max_pov, side, price, milestones, last_period=None) -> tuple[dict, np.ndarray]:
    """Violations (0 when met) and the cumulative cash per period (USD).

    totals_shares: largest |row sum - order|; negative_shares: largest negative bucket;
    whole_shares: largest distance to an integer; pov_cap: largest POV above ``max_pov`` (decimal);
    cash_milestones: largest shortfall as a fraction of its milestone; horizon_shares: most shares
    traded after a name's ``last_period`` (1-based, per name; None: no horizon).
    """
    shares = np.asarray(shares, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pov = np.where(shares > 0, shares / (shares + volume), 0.0)
    cash = np.cumsum(((side * price)[:, None] * shares).sum(axis=0))  # sells (side +1) raise cash
    shortfall = [max(0.0, (least - cash[k - 1]) / max(abs(least), 1.0)) for k, least in milestones]
    violations = {
        "totals_shares": float(np.max(np.abs(shares.sum(axis=1) - quantity))),
        "negative_shares": float(max(0.0, -shares.min())),
        "whole_shares": float(np.max(np.abs(shares - np.round(shares)))),
        "pov_cap": float(max(0.0, np.max(pov - np.asarray(max_pov, dtype=float)[:, None]))),
        "cash_milestones": float(max(shortfall, default=0.0)),
    }
    if last_period is not None:
        late = np.arange(shares.shape[1])[None, :] >= np.asarray(last_period)[:, None]
        violations["horizon_shares"] = float(np.max(np.abs(np.where(late, shares, 0.0)), initial=0.0))
    return violations, cash


def basket_timing_risk_usd(shares, side, price, risk: RiskOperator, dt_days, trading_days: int = 250) -> float:
    """Timing risk (USD) of the residual basket, residuals linear within each period:
    sqrt( sum_j dt_j (r_{j-1}'C r_{j-1} + r_{j-1}'C r_j + r_j'C r_j) / 3 / trading_days ),
    r_j the dollar position still to trade after period j (positive for sells)."""
    shares = np.asarray(shares, dtype=float)
    left = shares.sum(axis=1, keepdims=True) - np.concatenate(
        [np.zeros((len(shares), 1)), np.cumsum(shares, axis=1)], axis=1)
    positions = (side * price)[:, None] * left  # names x (periods + 1)
    factor = risk.top @ positions

    def cross(a, b):
        out = np.einsum("kj,kj->j", factor[:, a], factor[:, b])
        if risk.diag is not None:
            out = out + np.einsum("ij,ij->j", positions[:, a] * risk.diag[:, None], positions[:, b] * risk.diag[:, None])
        return out

    before, after = slice(0, -1), slice(1, None)
    variance = np.asarray(dt_days) * (cross(before, before) + cross(before, after) + cross(after, after)) / 3.0
    return float(np.sqrt(max(variance.sum(), 0.0) / trading_days))
