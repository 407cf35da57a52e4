"""Optimal execution of one order by dynamic programming: a Bellman recursion on a grid.

One sale of ``X`` shares over ``N`` periods of ``tau`` days (a buy is the mirror image). The price is
arithmetic Brownian motion, ``sigma`` USD per share per sqrt(day); as in Almgren & Chriss (2001) the
shares of period k (n_k = x_{k-1} - x_k) trade at the period's opening price less the impact, and the
shares still held, x_k, then ride the period's price move. Impact: linear (``LinearImpact``: temporary
eta n^2 / tau + epsilon n, permanent gamma: cost epsilon n + (eta - gamma tau / 2) n^2 / tau per
period plus gamma X^2 / 2) or I-Star (``IStarImpact``: b1 I* n POV^a4 per period at the period's
expected volume, plus the permanent (1 - b1) I* on the whole order, from ``CostModel``).

Without the price state (``price_state=False``) the strategy is a fixed trajectory: the recursion is
over (period, shares left) with the stage cost impact + lambda sigma^2 tau x_k^2; for linear impact it
is Almgren-Chriss's discrete problem, whose closed form (``almgren_chriss``) it reproduces to the grid.
With the price state the recursion is over (period, shares left, cost so far), the cost so far carrying
every price move; the next trade then depends on how the market moved:

- mean-variance: E[C] + lambda Var[C] is not a sum over periods; its optimum is found as the optimum of
  the expected quadratic E[lambda C^2 + (1 - 2 lambda m) C] with m = E[C] at the answer (Li & Ng 2000;
  Zhou & Li 2000), by a few fixed-point steps on m. The quadratic's risk aversion rises as the cost so
  far falls, so after a favourable move the policy trades faster: Lorenz & Almgren's "aggressive in the
  money".
- CVaR at level alpha: CVaR(C) = min_w w + E[(C - w)+] / (1 - alpha) (Rockafellar & Uryasev 2000): a
  recursion for each w, minimized over w.

Expectations over the price move use Gauss-Hermite quadrature; the value between grid points of the cost
so far is linear (extrapolated linearly past the grid's ends). The policy is applied by re-minimizing the
continuation value at the path's own cost so far (no rounding of that state).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm

from krg_liquidity.core import arguments
from krg_liquidity.core.errors import InvalidValueError
from krg_liquidity.model.impact import CostModel

OBJECTIVES = ("mean-variance", "cvar")


@dataclass(frozen=True)
class LinearImpact:
    """Almgren-Chriss linear impact.

    Parameters
    ----------
    eta : float
        Temporary impact (USD/share per share/day).
    gamma : float
        Permanent impact (USD/share per share).
    epsilon : float
        Fixed cost (USD/share).
    """

    eta: float
    gamma: float = 0.0
    epsilon: float = 0.0

    def stage_usd(self, shares: np.ndarray, period_days: float) -> np.ndarray:
        eta_tilde = self.eta - 0.5 * self.gamma * period_days
        if eta_tilde <= 0:
            raise InvalidValueError("eta", ["(all)"], f"- gamma tau / 2 = {eta_tilde:.3g} must be > 0",
                                    "use shorter periods or a larger temporary impact eta")
        return self.epsilon * shares + eta_tilde * shares**2 / period_days

    def fixed_usd(self, total_shares: float) -> float:
        return 0.5 * self.gamma * total_shares**2


@dataclass(frozen=True)
class IStarImpact:
    """I-Star impact of one order.

    Parameters
    ----------
    istar_bps : float
        The order's instantaneous impact I* (bps).
    price : float
        Price (USD).
    volume : float
        Other participants' shares per period.
    a4, b1 : float
        The I-Star exponent of participation and the temporary share of the impact.
    """

    istar_bps: float
    price: float
    volume: float
    a4: float
    b1: float

    @classmethod
    def from_order(cls, shares: float, adv: float, price: float, volatility: float, period_days: float,
                   cost_model: CostModel | None = None) -> IStarImpact:
        """The order's I-Star terms (``CostModel``), the expected volume per period being ADV x period_days."""
        model = cost_model or CostModel()
        p = model.params
        istar = float(model.istar_bps(abs(shares) / adv, volatility, price if p.a5 else 1.0))
        return cls(istar, float(price), float(adv * period_days), p.a4, p.b1)

    def stage_usd(self, shares: np.ndarray, period_days: float) -> np.ndarray:
        shares = np.asarray(shares, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            pov = np.where(shares > 0, shares / (shares + self.volume), 0.0)
        return self.b1 * self.istar_bps / 1e4 * self.price * shares * np.power(pov, self.a4)

    def fixed_usd(self, total_shares: float) -> float:
        return (1 - self.b1) * self.istar_bps / 1e4 * self.price * total_shares


@dataclass
class DynamicSchedule:
    """The answer of ``dynamic_schedule``.

    ``holdings``: x_0..x_N along the path with no price moves
    (shares); ``expected_cost_usd``, ``std_usd``: of the policy (exact for a fixed trajectory; by
    simulation, ``paths`` paths, with the price state); ``objective_usd``: the objective's value (E +
    lambda Var, or the CVaR). ``trade(period, shares_left, cost_so_far_usd)`` gives the policy's next
    sale; ``simulate(paths, seed)`` the cost (USD) of each simulated path.

    Parameters
    ----------
    holdings, objective, price_state, risk_aversion, level, expected_cost_usd
        As :func:`dynamic_schedule` gives them (above).
    """

    holdings: np.ndarray
    objective: str
    price_state: bool
    risk_aversion: float
    level: float
    expected_cost_usd: float
    std_usd: float
    objective_usd: float
    grid: np.ndarray = field(repr=False)
    costs: np.ndarray | None = field(repr=False, default=None)  # cost-so-far grid (USD), price state only
    continuation: list = field(repr=False, default_factory=list)  # per period: (shares x costs) values
    choice: list = field(repr=False, default_factory=list)  # fixed trajectory: per period, next grid index
    setup: dict = field(repr=False, default_factory=dict)

    @property
    def trades(self) -> np.ndarray:
        return -np.diff(self.holdings)

    def trade(self, period: int, shares_left: float, cost_so_far_usd: float = 0.0) -> float:
        """Shares to sell in ``period`` (1..N) holding ``shares_left`` (a grid point) after a cost so far."""
        i = int(np.argmin(np.abs(self.grid - shares_left)))
        if not self.price_state:
            return float(self.grid[i] - self.grid[self.choice[period - 1][i]])
        j = _best_next(self, period, np.array([i]), np.array([float(cost_so_far_usd)]))
        return float(self.grid[i] - self.grid[j[0]])

    def simulate(self, paths: int = 10_000, seed: int | None = None, shocks: np.ndarray | None = None) -> np.ndarray:
        """Cost (USD) of each path under this policy; ``shocks`` (paths x N standard normals) for common
        random numbers across policies."""
        s = self.setup
        periods = s["periods"]
        z = shocks if shocks is not None else np.random.default_rng(seed).standard_normal((paths, periods))
        index = np.full(z.shape[0], self.grid.size - 1)
        cost = np.full(z.shape[0], s["fixed"])
        move = s["sigma"] * np.sqrt(s["tau"])
        for k in range(1, periods + 1):
            if k == periods:
                nxt = np.zeros_like(index)
            elif self.price_state:
                nxt = _best_next(self, k, index, cost)
            else:
                nxt = self.choice[k - 1][index]
            cost = cost + s["impact"].stage_usd(self.grid[index] - self.grid[nxt], s["tau"])
            cost = cost - self.grid[nxt] * move * z[:, k - 1]
            index = nxt
        return cost


def _interp_rows(values: np.ndarray, costs: np.ndarray, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """values[rows, :] at ``query`` on the uniform grid ``costs``, linear, extrapolated linearly."""
    step = costs[1] - costs[0]
    position = (query - costs[0]) / step
    left = np.clip(np.floor(position), 0, costs.size - 2)
    weight = position - left
    flat = rows * costs.size + left.astype(np.intp)
    low = np.take(values, flat)
    return low + (np.take(values, flat + 1) - low) * weight


def _best_next(plan: DynamicSchedule, period: int, index: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Next grid index minimizing the continuation value at each (shares index, cost so far)."""
    s = plan.setup
    grid = plan.grid
    if plan.costs is None:
        raise AssertionError("this policy was built without its cost-so-far grid")
    values = plan.continuation[period - 1]  # E over the move of period `period`, as a function of the cost before it
    candidates = np.arange(grid.size)
    stage = s["impact"].stage_usd(np.clip(grid[index][:, None] - grid[None, :], 0.0, None), s["tau"])
    total = _interp_rows(values, plan.costs, np.broadcast_to(candidates, stage.shape), cost[:, None] + stage)
    total = np.where(candidates[None, :] <= index[:, None], total, np.inf)
    return np.argmin(total, axis=1)


def _static(grid, periods, tau, sigma, impact, risk_aversion):
    """Fixed trajectory minimizing sum of impact + lambda sigma^2 tau x_k^2: (holdings, choices per period)."""
    g = grid.size
    sale = np.clip(grid[:, None] - grid[None, :], 0.0, None)
    stage = np.where(np.arange(g)[None, :] <= np.arange(g)[:, None], impact.stage_usd(sale, tau), np.inf)
    value = impact.stage_usd(grid, tau)  # last period: sell what is left
    choices = [None] * periods
    choices[-1] = np.zeros(g, dtype=int)
    risk = risk_aversion * sigma**2 * tau * grid**2
    for k in range(periods - 1, 0, -1):
        total = stage + (risk + value)[None, :]
        choices[k - 1] = np.argmin(total, axis=1)
        value = total[np.arange(g), choices[k - 1]]
    holdings = [g - 1]
    for k in range(periods):
        holdings.append(int(choices[k][holdings[-1]]))
    return grid[np.array(holdings)], choices


def _adaptive(grid, costs, periods, tau, sigma, impact, fixed, terminal, nodes, weights):
    """Backward recursion over (shares left, cost so far) for a terminal utility; returns the
    continuation values per period (period k: E over its move of the value after its trade, as a function
    of the cost before that move) and the value at (X, cost 0)."""
    g = grid.size
    rows = np.arange(g)
    sale = np.clip(grid[:, None] - grid[None, :], 0.0, None)
    stage = impact.stage_usd(sale, tau)  # [i, j]
    allowed = rows[None, :] <= rows[:, None]
    value = terminal(costs[None, :] + impact.stage_usd(grid, tau)[:, None])  # before period N: sell the rest
    continuation = [None] * periods
    move = sigma * np.sqrt(tau)
    for k in range(periods - 1, 0, -1):
        # after period k's trade, holding x_j: the move of period k shifts the cost by -x_j move z
        shifted = costs[None, None, :] - (grid[:, None, None] * move) * nodes[None, :, None]
        expected = np.einsum("q,jqm->jm", weights,
                             _interp_rows(value, costs, np.broadcast_to(rows[:, None, None], shifted.shape), shifted))
        continuation[k - 1] = expected
        query = costs[None, :, None] + stage[:, None, :]  # [i, m, j]
        total = _interp_rows(expected, costs, np.broadcast_to(rows[None, None, :], query.shape), query)
        total = np.where(allowed[:, None, :], total, np.inf)
        value = total.min(axis=2)
    start = float(np.interp(fixed, costs, value[-1]))
    return continuation, start


def dynamic_schedule(shares: float, periods: int, period_days: float, sigma: float,
                     impact: LinearImpact | IStarImpact, *, objective: str = "mean-variance",
                     risk_aversion: float = 0.0, level: float = 0.95, price_state: bool = False,
                     shares_grid: int = 101, cost_grid: int = 161, quadrature: int = 9, paths: int = 10_000,
                     seed: int = 0) -> DynamicSchedule:
    """Optimal sale of ``shares`` over ``periods`` x ``period_days`` by dynamic programming.

    Parameters
    ----------
    shares : float
        Shares to sell (> 0).
    periods : int
        Number of periods N (>= 1).
    period_days : float
        Length of a period (days).
    sigma : float
        Price volatility, USD per share per sqrt(day).
    impact : LinearImpact or IStarImpact
    objective : {"mean-variance", "cvar"}
        E[C] + risk_aversion Var[C] (risk_aversion in 1/USD), or CVaR of C at ``level``.
    risk_aversion : float
        Lambda of the mean-variance objective (1/USD, >= 0).
    level : float
        The CVaR objective's level (e.g. 0.95).
    price_state : bool
        False: a fixed trajectory; True: the policy responds to the cost so far.
    shares_grid, cost_grid, quadrature : int
        Grid points over the shares left and over the cost so far; Gauss-Hermite nodes per price move.
    paths, seed
        Simulated paths for the adaptive policy's mean and sd (and the fixed-point steps), and their seed.

    Returns
    -------
    DynamicSchedule

    Examples
    --------
    >>> from krg_liquidity.schedule.strategy import almgren_chriss
    >>> plan = dynamic_schedule(1e6, 5, 1.0, 0.95, LinearImpact(2.5e-6), risk_aversion=1e-6, shares_grid=201)
    >>> [round(x / 1e3) for x in plan.holdings]  # shares left after each period, to the 5,000-share grid
    [1000, 550, 300, 155, 65, 0]
    >>> [round(x / 1e3) for x in almgren_chriss(1e6, 5, 1.0, 0.95, 2.5e-6, 0.0, 0.0, 1e-6).holdings]
    [1000, 550, 298, 154, 65, 0]
    """
    shares = arguments.number(shares, "shares", "give the shares to sell, e.g. 1e6")
    if not shares > 0:
        raise InvalidValueError("shares", ["(all)"], f"is {shares:g}; it must be > 0", "give the shares to sell")
    periods = arguments.whole_number(periods, "periods", "give the number of periods, e.g. 10")
    period_days = arguments.number(period_days, "period_days", "give the period length in days, e.g. 0.5")
    if not period_days > 0:
        raise InvalidValueError("period_days", ["(all)"], "must be > 0", "give the period length in days, e.g. 0.5")
    sigma = arguments.non_negative(sigma, "sigma", "give the volatility in USD per share per sqrt(day)")
    risk_aversion = arguments.non_negative(risk_aversion, "risk_aversion", "give lambda in 1/USD, e.g. 1e-6")
    if objective not in OBJECTIVES:
        raise InvalidValueError("objective", ["(all)"], f"is {objective!r}", f"use one of {OBJECTIVES}")
    level = arguments.fraction(level, "level", closed=False)
    for name, count, low in (("shares_grid", shares_grid, 3), ("cost_grid", cost_grid, 11), ("quadrature", quadrature, 2)):
        arguments.whole_number(count, name, f"give at least {low} points", low=low)
    grid = np.linspace(0.0, shares, int(shares_grid))
    fixed = impact.fixed_usd(shares)
    setup = {"periods": periods, "tau": period_days, "sigma": sigma, "impact": impact, "fixed": fixed}

    def fixed_trajectory(lam: float) -> DynamicSchedule:
        holdings, choices = _static(grid, periods, period_days, sigma, impact, lam)
        mean = fixed + float(impact.stage_usd(-np.diff(holdings), period_days).sum())
        std = float(sigma * np.sqrt(period_days * np.sum(holdings[1:] ** 2)))
        return DynamicSchedule(holdings, objective, False, lam, level, mean, std, mean + lam * std**2, grid,
                               choice=choices, setup=setup)

    if not price_state:
        if objective == "mean-variance":
            return fixed_trajectory(risk_aversion)
        tail = norm.pdf(norm.ppf(level)) / (1 - level)  # CVaR of a normal cost = E + tail x sd
        best = min((fixed_trajectory(lam) for lam in np.r_[0.0, np.geomspace(1e-14, 1.0, 141)]),
                   key=lambda plan: plan.expected_cost_usd + tail * plan.std_usd)
        best.objective_usd = best.expected_cost_usd + tail * best.std_usd
        return best

    # the cost grid: 8 sd around the best fixed trajectory (for CVaR: the one with the same objective),
    # reaching the cost of a much faster one; linear beyond
    if objective == "mean-variance":
        centre = fixed_trajectory(risk_aversion)
    else:
        centre = dynamic_schedule(shares, periods, period_days, sigma, impact, objective="cvar", level=level,
                                  shares_grid=shares_grid)
    fast = fixed_trajectory(max(centre.risk_aversion, 1e-12) * 100)
    spread = 8.0 * max(centre.std_usd, 1e-9)
    costs = np.linspace(min(centre.expected_cost_usd, fast.expected_cost_usd) - spread,
                        max(centre.expected_cost_usd, fast.expected_cost_usd) + spread, int(cost_grid))
    nodes, weights = np.polynomial.hermite_e.hermegauss(int(quadrature))
    weights = weights / weights.sum()
    shocks = np.random.default_rng(seed).standard_normal((int(paths), periods))

    def solve(terminal) -> tuple[DynamicSchedule, float]:
        continuation, start = _adaptive(grid, costs, periods, period_days, sigma, impact, fixed, terminal, nodes,
                                        weights)
        plan = DynamicSchedule(np.empty(0), objective, True, risk_aversion, level, np.nan, np.nan, np.nan, grid,
                               costs=costs, continuation=continuation, setup=setup)
        plan.holdings = _path_without_moves(plan)
        return plan, start

    if objective == "mean-variance":
        target = fixed_trajectory(risk_aversion).expected_cost_usd
        for _ in range(4):  # fixed point m = E[C]
            plan, _ = solve(lambda c, m=target: risk_aversion * c**2 + (1 - 2 * risk_aversion * m) * c)
            simulated = plan.simulate(shocks=shocks)
            if abs(simulated.mean() - target) <= 1e-4 * max(simulated.std(), 1.0):
                break
            target = float(simulated.mean())
        plan.expected_cost_usd, plan.std_usd = float(simulated.mean()), float(simulated.std())
        plan.objective_usd = plan.expected_cost_usd + risk_aversion * plan.std_usd**2
        return plan
    # CVaR: the outer minimum over the threshold w, by golden section
    low, high = costs[0], costs[-1]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0

    def outer(w):
        return solve(lambda c: w + np.maximum(c - w, 0.0) / (1 - level))

    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa, fb = outer(a)[1], outer(b)[1]
    for _ in range(30):
        if fa <= fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = outer(a)[1]
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = outer(b)[1]
    plan, value = outer(0.5 * (low + high))
    simulated = plan.simulate(shocks=shocks)
    plan.expected_cost_usd, plan.std_usd, plan.objective_usd = float(simulated.mean()), float(simulated.std()), value
    return plan


def _path_without_moves(plan: DynamicSchedule) -> np.ndarray:
    s = plan.setup
    index, cost = np.array([plan.grid.size - 1]), np.array([s["fixed"]])
    holdings = [plan.grid[-1]]
    for k in range(1, s["periods"]):
        nxt = _best_next(plan, k, index, cost)
        cost = cost + s["impact"].stage_usd(plan.grid[index] - plan.grid[nxt], s["tau"])
        index = nxt
        holdings.append(plan.grid[index[0]])
    holdings.append(0.0)
    return np.array(holdings)
