"""Per-name impact cost as a function of trade size z (fraction of ADV), with fast inverses.

For a name traded over T days, POV = z/(z+T) and, with w = z/T,
``MI(z) = A T^a2 G(w)``, ``G(w) = w^a2 (b1 (w/(w+1))^a4 + 1 - b1)``, A = a1 vol^a3 price^a5.
The marginal cost of one more dollar traded, d(MI z)/dz in bps, is ``A T^a2 H'(w)`` with
``H(w) = w G(w)``. G and H' are the same increasing functions for every name, so their
inverses come from one log-log table plus Newton steps: vectorized, no loop over names.
For a name at a fixed POV p, ``MI(z) = A c z^a2`` with ``c = b1 p^a4 + 1 - b1``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from krg_liquidity.model.params import IStarParams

LOG_W = np.linspace(-46.0, 23.0, 4000)


@lru_cache(maxsize=16)
def _tables(params: IStarParams):
    w = np.exp(LOG_W)
    return np.log(_g(params, w)), np.log(_dh(params, w))


def _g(p: IStarParams, w):
    q = w / (w + 1.0)
    return np.power(w, p.a2) * (p.b1 * np.power(q, p.a4) + 1.0 - p.b1)


def _dg(p: IStarParams, w):
    q = w / (w + 1.0)
    qb = np.power(q, p.a4)
    return np.power(w, p.a2 - 1.0) * (p.a2 * (p.b1 * qb + 1.0 - p.b1) + p.b1 * p.a4 * qb / (w + 1.0))


def _dh(p: IStarParams, w):
    """H'(w) = G + w G' = w^a2 ((1 + a2)(b1 q^a4 + 1 - b1) + b1 a4 q^a4 / (w + 1)): finite (0) at w = 0."""
    q = w / (w + 1.0)
    qb = np.power(q, p.a4)
    return np.power(w, p.a2) * ((1.0 + p.a2) * (p.b1 * qb + 1.0 - p.b1) + p.b1 * p.a4 * qb / (w + 1.0))


def d2h(p: IStarParams, w: np.ndarray) -> np.ndarray:
    q = w / (w + 1.0)
    qb = np.power(q, p.a4)
    inner = p.a2 * (p.b1 * qb + 1.0 - p.b1) + p.b1 * p.a4 * qb / (w + 1.0)
    d_inner = (p.a2 * p.b1 * p.a4 * qb / (w * (w + 1.0))
               + p.b1 * p.a4 * (p.a4 * qb / (w * (w + 1.0)) - qb / (w + 1.0)) / (w + 1.0))
    # H' = G + w G',  G' = w^(a2-1) inner;  H'' = 2 G' + w G''
    dg = np.power(w, p.a2 - 1.0) * inner
    d2g = (p.a2 - 1.0) * np.power(w, p.a2 - 2.0) * inner + np.power(w, p.a2 - 1.0) * d_inner
    return 2.0 * dg + w * d2g


def _dh_and_d2h(p: IStarParams, w):
    """(H'(w), H''(w)) sharing their powers (the dual solver's Newton steps need both)."""
    q = w / (w + 1.0)
    qb = np.power(q, p.a4)
    wa = np.power(w, p.a2)
    level = p.b1 * qb + 1.0 - p.b1
    dh = wa * ((1.0 + p.a2) * level + p.b1 * p.a4 * qb / (w + 1.0))
    inner = p.a2 * level + p.b1 * p.a4 * qb / (w + 1.0)
    d_inner = (p.a2 * p.b1 * p.a4 * qb / (w * (w + 1.0))
               + p.b1 * p.a4 * (p.a4 * qb / (w * (w + 1.0)) - qb / (w + 1.0)) / (w + 1.0))
    dg = wa / w * inner
    d2g = (p.a2 - 1.0) * wa / (w * w) * inner + wa / w * d_inner
    return dh, 2.0 * dg + w * d2g


def _invert(log_target, table, f, df, params) -> np.ndarray:
    """w with f(w) = exp(log_target), f increasing: table guess, then Newton in log-log space.

    Beyond the table (w below e^-46 or above e^23) f is a power law to 1e-8, so the guess
    continues the table's end slopes; Newton refines every w whose powers stay finite
    (|log w| < 300), and a target further out keeps the guess (w underflows to 0 or is huge).
    """
    log_target = np.asarray(log_target, dtype=float)
    log_w = np.interp(log_target, table, LOG_W)
    below, above = log_target < table[0], log_target > table[-1]
    if below.any() or above.any():
        low_slope = (table[1] - table[0]) / (LOG_W[1] - LOG_W[0])
        high_slope = (table[-1] - table[-2]) / (LOG_W[-1] - LOG_W[-2])
        log_w = np.where(below, LOG_W[0] + (log_target - table[0]) / low_slope, log_w)
        log_w = np.where(above, LOG_W[-1] + (log_target - table[-1]) / high_slope, log_w)
    refine = np.abs(log_w) < 300.0
    if not refine.all():
        out = np.exp(np.clip(log_w, -745.0, 709.0))
        if refine.any():
            out[refine] = _invert(log_target[refine], table, f, df, params)
        return out
    for _ in range(6):  # from the table's guess (log-spacing 0.017) Newton needs two or three steps
        w = np.exp(log_w)
        value = f(params, w)
        step = (np.log(value) - log_target) * value / (w * df(params, w))
        log_w = log_w - step
        if np.all(np.abs(step) <= 1e-13):
            break
    return np.exp(log_w)


class TradeCosts:
    """Cost of trading z (fraction of ADV) in each name, and the inverses the optimizer needs.

    ``trade_time`` (days) is used where ``pov`` is NaN. ``dollar_adv`` = ADV x price (USD/day).
    ``linear_bps``: each name's cost linear in the trade (half-spread, commission, fees), in bps of
    the value traded (default 0). It adds a constant to the marginal cost of every dollar traded and
    ``linear_bps / 1e4 x |value traded|`` to ``cost_usd``; ``impact_usd`` and ``mi_bps`` stay impact only.
    """

    def __init__(self, params: IStarParams, volatility: np.ndarray, price: np.ndarray, dollar_adv: np.ndarray,
                 trade_time: np.ndarray, pov: np.ndarray, linear_bps: np.ndarray | None = None):
        self.params = params
        n = np.shape(dollar_adv)
        self.linear_bps = np.zeros(n) if linear_bps is None else np.broadcast_to(
            np.asarray(linear_bps, dtype=float), n).copy()
        self.scale = params.a1 * np.power(volatility, params.a3) * np.power(price, params.a5)
        self.dollar_adv = np.asarray(dollar_adv, dtype=float)
        self.fixed = ~np.isnan(np.asarray(pov, dtype=float))
        self.pov_fixed = np.where(self.fixed, pov, 1.0)
        self.trade_time = np.where(self.fixed, 1.0, trade_time)
        self.pov_factor = params.b1 * np.power(self.pov_fixed, params.a4) + 1.0 - params.b1
        self.time_scale = self.scale * np.power(self.trade_time, params.a2)

    def pov(self, z: np.ndarray) -> np.ndarray:
        z = np.abs(z)
        return np.where(self.fixed, self.pov_fixed, z / (z + self.trade_time))

    def trade_time_days(self, z: np.ndarray) -> np.ndarray:
        z = np.abs(z)
        return np.where(self.fixed, z * (1.0 - self.pov_fixed) / self.pov_fixed, self.trade_time)

    def mi_bps(self, z: np.ndarray) -> np.ndarray:
        """Market impact (bps) of trading |z| x ADV shares."""
        z = np.abs(z)
        p = self.params
        at_time = self.time_scale * _g(p, z / self.trade_time)
        at_pov = self.scale * self.pov_factor * np.power(z, p.a2)
        return np.where(self.fixed, at_pov, at_time)

    def impact_usd(self, z: np.ndarray) -> np.ndarray:
        """Market impact (USD) of trading |z| x ADV shares."""
        return self.mi_bps(z) / 1e4 * np.abs(z) * self.dollar_adv

    def linear_usd(self, z: np.ndarray) -> np.ndarray:
        """The linear costs (half-spread, commission, fees; USD) of trading |z| x ADV shares."""
        return self.linear_bps / 1e4 * np.abs(z) * self.dollar_adv

    @property
    def has_linear(self) -> bool:
        """True when some name has a nonzero linear cost."""
        return bool(np.any(self.linear_bps != 0))

    def cost_usd(self, z: np.ndarray) -> np.ndarray:
        """All-in cost (USD): impact plus the linear costs."""
        return self.impact_usd(z) + self.linear_usd(z)

    def marginal_bps(self, z: np.ndarray) -> np.ndarray:
        """d(cost_usd)/d(value traded) in bps."""
        z = np.abs(z)
        p = self.params
        at_time = self.time_scale * _dh(p, z / self.trade_time)
        at_pov = self.scale * self.pov_factor * (1.0 + p.a2) * np.power(z, p.a2)
        return np.where(self.fixed, at_pov, at_time) + self.linear_bps

    def marginal_slope(self, z: np.ndarray) -> np.ndarray:
        """d(marginal_bps)/dz: how fast the marginal cost rises with the trade size (bps per unit of ADV)."""
        z = np.abs(z)
        p = self.params
        with np.errstate(divide="ignore", invalid="ignore"):  # infinite at z = 0; callers guard
            at_time = self.time_scale * d2h(p, z / self.trade_time) / self.trade_time
            at_pov = self.scale * self.pov_factor * (1.0 + p.a2) * p.a2 * np.power(z, p.a2 - 1.0)
        return np.where(self.fixed, at_pov, at_time)

    def take(self, index: np.ndarray) -> TradeCosts:
        """The same costs for a subset of the names."""
        part = object.__new__(TradeCosts)
        part.params = self.params
        for name in ("scale", "dollar_adv", "fixed", "pov_fixed", "trade_time", "pov_factor", "time_scale",
                     "linear_bps"):
            setattr(part, name, getattr(self, name)[index])
        return part

    def impact_only(self) -> TradeCosts:
        """The same names priced by impact alone (no linear costs)."""
        part = self.take(np.arange(len(self.scale)))
        part.linear_bps = np.zeros_like(self.linear_bps)
        return part

    def marginal_and_slope(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(marginal_bps, marginal_slope) at once (slope infinite at z = 0)."""
        z = np.abs(z)
        p = self.params
        with np.errstate(divide="ignore", invalid="ignore"):
            dh, d2h = _dh_and_d2h(p, z / self.trade_time)
            power = np.power(z, p.a2)
            fixed_level = self.scale * self.pov_factor * (1.0 + p.a2)
            marginal = np.where(self.fixed, fixed_level * power, self.time_scale * dh) + self.linear_bps
            slope = np.where(self.fixed, fixed_level * p.a2 * power / z, self.time_scale * d2h / self.trade_time)
        return marginal, slope

    def z_at_marginal(self, marginal_bps: float | np.ndarray) -> np.ndarray:
        """Trade size (fraction of ADV) at which each name's marginal cost equals ``marginal_bps``
        (a number, or one per name; 0 where it is at most the name's linear cost)."""
        target = np.broadcast_to(np.asarray(marginal_bps, dtype=float), self.scale.shape) - self.linear_bps
        positive = target > 0
        out = np.zeros_like(self.scale)
        p = self.params
        fixed = self.fixed & positive
        out[fixed] = np.power(target[fixed] / (self.scale[fixed] * self.pov_factor[fixed] * (1.0 + p.a2)), 1.0 / p.a2)
        t = ~self.fixed & positive
        if t.any():
            log_target = np.log(target[t] / self.time_scale[t])
            out[t] = self.trade_time[t] * _invert(log_target, _tables(p)[1], _dh, d2h, p)
        return out

    def z_at_mi(self, mi_bps: float | np.ndarray) -> np.ndarray:
        """Largest trade size (fraction of ADV) whose impact is at most ``mi_bps`` (array)."""
        mi_bps = np.asarray(mi_bps, dtype=float)
        p = self.params
        out = np.power(mi_bps / (self.scale * self.pov_factor), 1.0 / p.a2)
        t = ~self.fixed & np.isfinite(mi_bps)
        if t.any():
            log_target = np.log(mi_bps[t] / self.time_scale[t])
            out[t] = self.trade_time[t] * _invert(log_target, _tables(p)[0], _g, _dg, p)
        return np.where(np.isfinite(mi_bps), out, np.inf)
