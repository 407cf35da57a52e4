"""Whole-share (or round-lot) trade lists from an exact liquidation, inside every limit it met.

The rule. Each name's trade is rounded to a whole number of lots (``lot_size`` shares), or to
the whole position (an odd lot, if the position is one), never outside the per-name interval
its limits allow (``bounds.trade_bounds``: direction, weights, shares, values, participation,
impact cap). Each name starts at the neighbouring whole lot that raises less cash (a smaller
sale, a larger purchase); then the cash still missing is made up where it costs least per dollar:
names move one step up (a larger sale, a smaller purchase) in order of extra impact cost per
extra dollar, until the cash raised is at least the target; steps that are not needed are
taken back. A name the exact answer does not trade (less than half a lot) is moved only when no
other name can be, so a few missing cents never open a one-share ticket. A name whose limit stops it at a fractional share (``lb_min_value`` keeping half of
an odd position) is rounded down there and the cash comes from the others.

The rounded list is then checked from its trades: each per-name interval in shares, and the
coupling limits (risk band, total-impact cap) by :func:`verify.violations`. When whole lots
cannot keep a limit (no whole lot inside a name's interval, not enough room to make up the cash,
or the cap or band broken by the extra shares), the result's status is ``limits_broken`` and
its message names the limits and the names. Otherwise the gap is recomputed against the exact
answer's proven lower bound on the least cost of raising the target inside the limits (so the
rounded cost minus that bound caps how much more than the optimum the rounded list costs):
``gap``, ``gap_usd`` and ``gap_bps`` are the rounded cost's, and the status is "optimal" only
when that gap still meets the optimal tolerance (``GAP_OPTIMAL``, or under a cent: ``GAP_OPTIMAL_USD``), else
"feasible".
``result.rounding`` records the lot, the rule, and the exact cash and cost.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from krg_liquidity.core.errors import InputError, symbols_text
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.tax import rescaled_sale
from krg_liquidity.solve.bounds import trade_bounds
from krg_liquidity.solve.limits import LABELS, MEASURED, SHORT_LABELS
from krg_liquidity.solve.result import proven_gap, proven_status, with_lots
from krg_liquidity.solve.verify import ACCEPT_VIOLATION, impact_table

ZERO_SHARES = 1e-6
"""A trade smaller than this many shares is numerical noise: rounded to no trade."""
GRID_TOLERANCE = 1e-9
"""Relative distance (shares) within which a trade already is a whole lot or a bound is met."""

RULE = ("whole lots inside each name's limits (at most the position); the cash target made up by the names "
        "where it costs least")


CASH_SHORT_ACCEPTED_USD = 1.0
"""Whole lots may leave the target short by less than a dollar (money is shown to the dollar): the exact
answer itself may raise the target less a few cents of floating-point rounding."""

def round_trades(result, lot_size: int = 1, cost_model: CostModel | None = None):
    """A copy of ``result`` whose trades are whole shares (multiples of ``lot_size``) by the rule above.

    Parameters
    ----------
    result : LiquidationResult
        An answer of :func:`~krg_liquidity.liquidate` (it carries the request whose limits are kept).
    lot_size : int
        Shares per lot (1: whole shares; 100: round lots).
    cost_model : CostModel, optional
        The I-Star model to price the rounded trades (default: the one the answer was solved with).

    Returns
    -------
    LiquidationResult
        ``cash_raised``, ``cost_usd``, ``cost_bps``, ``risk_after``, ``violations`` and the trade
        table are those of the rounded trades; ``rounding`` records the lot, the rule and the
        exact cash and cost; ``gap`` (and ``gap_usd``, ``gap_bps``) is the rounded cost's distance to
        the exact answer's proven lower bound. Status ``limits_broken`` (with the limits named in
        ``message``) when whole lots cannot keep a limit; otherwise "optimal" when the rounded cost
        is still within the optimal tolerance of the bound, else "feasible".

    Raises
    ------
    InputError
        ``lot_size`` is not a whole number of shares >= 1, or ``result`` does not carry its request
        (it is not an answer of ``liquidate``, ``pro_rata`` or ``waterfall``).

    Examples
    --------
    >>> from krg_liquidity import Portfolio, liquidate, load_example
    >>> exact = liquidate(Portfolio(*load_example()), 1e9)
    >>> rounded = round_trades(exact)
    >>> rounded.status, bool(rounded.cash_raised >= 1e9), bool((rounded.trades["shares_traded"] % 1 == 0).all())
    ('optimal', True, True)
    """
    if not (np.isfinite(lot_size) and lot_size >= 1 and float(lot_size).is_integer()):
        raise InputError(f"lot_size={lot_size} must be a whole number of shares >= 1 (1 for whole shares, "
                         "100 for round lots)")
    request = getattr(result, "problem", None)
    if request is None:
        raise InputError("round_trades needs a result of liquidate (or of pro_rata / waterfall): it re-checks the "
                         "request's limits")
    if not result.success and result.status != "limits_broken":
        return result  # no trades to round
    portfolio = request.portfolio
    model = cost_model or request.cost_model
    shares, price, adv = (portfolio.array(c) for c in ("shares", "price", "adv"))
    exact = -result.trades["shares_traded"].to_numpy(float)  # shares sold (+) or bought (-)
    exact = np.where(np.abs(exact) < ZERO_SHARES, 0.0, exact)
    bounds = trade_bounds(portfolio, request.cash, request.costs(), request.allow_buys)
    low, high = bounds.lo * adv, bounds.hi * adv
    grid = _Grid(float(lot_size), shares)
    inside = _inside(low, high)
    met = inside(exact)
    sold, stuck = _start(grid, exact, inside, met)
    short = _make_up_cash(sold, request.cash, grid, high, inside, price, lambda q: _cost(portfolio, -q, model),
                          grid.above(exact), quiet=np.abs(exact) < 0.5 * lot_size)

    traded = -sold
    impacts = impact_table(portfolio, traded, model)
    after = shares + traded
    raised = float(np.dot(sold, price))
    found = request.check_at(after, request.cash, traded=traded, impacts=impacts)
    base = min(request.cash, portfolio.net_value_usd - request.cash)
    found["cash"] = max(0.0, request.cash - raised) / max(base, 1e-300)  # more cash than the target is allowed
    broken = (met & ~inside(sold)) | stuck  # outside an interval the exact trade met, or no lot inside it
    groups = np.where(sold > high, bounds.hi_group, bounds.lo_group)  # the limit each name would break
    problems = _problems(portfolio, groups, sold, broken, short, found, lot_size)

    trades = result.trades.copy()
    trades.loc[broken, "limit_reached"] = [f"{SHORT_LABELS.get(g, g)} broken" for g in groups[broken]]
    trades["shares_traded"] = traded
    trades["shares_after"] = after
    trades["value_traded_usd"] = traded * price
    for column in ("pov", "trade_time_days", "mi_bps", "cost_usd"):
        trades[column] = impacts[column].to_numpy()
    net_value = portfolio.net_value_usd
    trades["weight_after"] = after * price / (net_value - raised)
    risk_after = result.risk_after
    if portfolio.has_risk_model and raised < net_value:
        risk_after = portfolio.risk().sigma(after * price / (net_value - raised))
    total_cost = float(impacts["cost_usd"].sum())
    rounding = {"lot_size": float(lot_size), "rule": RULE, "cash_raised_exact": result.cash_raised,
                "cost_usd_exact": result.cost_usd}
    status, message = result.status, result.message
    all_in = total_cost + float(np.sum(request.linear_bps() / 1e4 * np.abs(traded) * price))
    lower_bound = min(result.lower_bound_usd, all_in)  # a lower bound lowered is still one
    gap = proven_gap(all_in, lower_bound)
    if result.success:  # the bound is on the least cost of the target: cost - bound caps the list's excess
        status = proven_status(gap, gap * all_in)
    if problems:
        status = "limits_broken"
        fix = "keep the exact shares (CLI --exact-shares)" + (" or use a smaller lot size" if lot_size > 1 else "")
        message = f"{_unit(lot_size)} cannot keep every limit: " + "; ".join(problems) + "; " + fix
    rounded = dataclasses.replace(result, status=status, message=message, trades=trades, cash_raised=raised,
                                  cost_usd=total_cost, gap=gap, lower_bound_usd=lower_bound,
                                  cost_bps=total_cost / raised * 1e4 if raised else 0.0,
                                  risk_after=risk_after, violations=found, max_violation=max(found.values()),
                                  rounding=rounding)
    if result.lots is not None and result.tax_rates is not None:  # the rounded sales split over the lots again
        split = None  # the linear model: least tax per dollar first, as the optimizer's own split
        if result.tax_rates.netting != "none":  # netting: the optimizer's lot mix kept, scaled to the new sales
            by_name = pd.Series(-trades["shares_traded"].to_numpy(dtype=float), index=trades["symbol"].to_numpy())
            split = rescaled_sale(result.lots, result.lots["shares_sold"].to_numpy(dtype=float), by_name)
        rounded = with_lots(rounded, result.lots, float(result.tax.get("tax_weight", 1.0)), result.tax_rates, split)
    return rounded


@dataclasses.dataclass(frozen=True)
class _Grid:
    """The sales a name may round to (shares, + = sell): whole lots, and its whole position."""

    lot: float
    position: np.ndarray  # shares held (a sale of exactly this closes the position)

    def below(self, q: np.ndarray) -> np.ndarray:
        """The largest sale on the grid at or below q."""
        lots = np.floor(q / self.lot + GRID_TOLERANCE) * self.lot
        close = _near(q, self.position) | (self.position < q)
        return np.where(close, np.maximum(lots, self.position), lots)

    def above(self, q: np.ndarray) -> np.ndarray:
        """The smallest sale on the grid at or above q."""
        lots = np.ceil(q / self.lot - GRID_TOLERANCE) * self.lot
        close = _near(q, self.position) | (self.position > q)
        return np.where(close, np.minimum(lots, self.position), lots)

    def step_up(self, q: np.ndarray) -> np.ndarray:
        """The next sale on the grid strictly above q."""
        return self.above(q + self.lot * 1e-3)


def _near(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) <= GRID_TOLERANCE * np.maximum(1.0, np.abs(b))


def _inside(low: np.ndarray, high: np.ndarray):
    """A test of sales against each name's interval (shares), with a relative tolerance."""
    def inside(q: np.ndarray) -> np.ndarray:
        return ((q >= low - GRID_TOLERANCE * np.maximum(1.0, np.abs(low)))
                & (q <= high + GRID_TOLERANCE * np.maximum(1.0, np.abs(high))))
    return inside


def _start(grid: _Grid, exact: np.ndarray, inside, met: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each name at its lower neighbour when that keeps its limits, else the upper one; and the names
    whose limits no neighbour keeps (they take the upper one: more cash)."""
    down, up = grid.below(exact), grid.above(exact)
    ok_down, ok_up = inside(down), inside(up)
    sold = np.where(ok_down, down, up)
    stuck = met & ~ok_down & ~ok_up
    return sold, stuck


def _cost(portfolio, traded: np.ndarray, model: CostModel) -> np.ndarray:
    return impact_table(portfolio, traded, model)["cost_usd"].to_numpy()


def _make_up_cash(sold: np.ndarray, target: float, grid: _Grid, high: np.ndarray, inside, price: np.ndarray,
                  cost, upper: np.ndarray, quiet: np.ndarray | None = None) -> float:
    """Move names up the grid (in place) until the cash reaches ``target``: first every step to the
    exact trade's upper neighbour (``upper``) that costs nothing extra (a smaller purchase), then one
    step at a time, least extra cost per extra dollar first (steps the target does not need are taken
    back); when one step of every name is not enough, all of them move by as many steps as the cash
    still missing needs (each at most to the top of its interval ``high``). The ``quiet`` names (the exact
    answer does not trade them: less than half a lot) move only when no other name can, so the cents a
    rounding misses do not open one-share tickets. Returns the cash still missing (0 when the target is met)."""
    tolerance = 1e-12 * abs(target)  # float noise in a sum of products, not a dollar amount
    while True:
        missing = target - float(np.dot(sold, price))
        up = grid.step_up(sold)
        can = inside(up) & (up > sold)
        extra = np.where(can, cost(up) - cost(sold), np.inf)
        free = can & (extra <= 0) & (up <= upper)
        if free.any():
            sold[free] = up[free]
            continue
        if missing <= tolerance:
            return 0.0
        if not can.any():
            return missing
        if quiet is not None and (can & ~quiet).any():
            can = can & ~quiet
        gain = np.where(can, (up - sold) * price, 0.0)
        if gain.sum() < missing:  # one step each is not enough: several, in proportion, none past its interval
            steps = int(missing // gain.sum())
            if steps > 1:
                jump = np.minimum(sold + steps * (up - sold), grid.below(high))
                moved = can & inside(jump) & (jump > sold)
                if moved.any():
                    sold[moved] = jump[moved]
                    continue
        order = np.argsort(np.where(can, extra / np.where(gain > 0, gain, 1.0), np.inf), kind="stable")
        order = order[can[order]]
        total = np.cumsum(gain[order])
        count = min(int(np.searchsorted(total, missing - tolerance, side="left")) + 1, len(order))
        taken = list(order[:count])
        spare = float(total[count - 1]) - missing
        for name in reversed(taken):  # take back the dearest steps the target does not need
            if spare < 0:
                break
            if gain[name] <= spare:
                taken.remove(name)
                spare -= gain[name]
        sold[taken] = up[taken]


def _unit(lot_size: float, one: bool = False) -> str:
    """'whole shares' or 'whole lots of 100 shares' (singular with ``one``)."""
    if lot_size == 1:
        return "whole share" if one else "whole shares"
    return f"whole lot of {lot_size:,.0f} shares" if one else f"whole lots of {lot_size:,.0f} shares"


def _problems(portfolio, groups: np.ndarray, sold: np.ndarray, broken: np.ndarray, short: float,
              found: dict[str, float], lot_size: float) -> list[str]:
    """The limits the rounded list breaks, in words (empty when it keeps them all). ``broken``: names
    outside an interval their exact trade met, or with no whole lot inside it; ``groups``: the limit
    each name would break (its key in ``limits.py``)."""
    symbols = np.asarray(portfolio.symbols)
    problems = []
    for group in sorted(set(groups[broken])):
        names = symbols[broken & (groups == group)]
        problems.append(f"{LABELS.get(group, group)} of {symbols_text(names)} (no {_unit(lot_size, one=True)} "
                        "inside its limits)")
    if short >= CASH_SHORT_ACCEPTED_USD:
        problems.append(f"the cash target: ${short:,.2f} short, every name at its limit (whole lots inside the "
                        f"limits raise ${float(np.dot(sold, portfolio.array('price'))):,.2f})")
    named = set(groups[broken]) | {"cash"}
    for key, value in sorted(found.items(), key=lambda kv: -kv[1]):
        if key not in named and value > ACCEPT_VIOLATION:
            problems.append(f"{LABELS.get(key, key)} by {value:.3g} ({MEASURED.get(key, '')})")
    return problems
