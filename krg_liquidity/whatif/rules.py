"""The trade lists a PM compares an optimized liquidation against: a pro-rata slice and a waterfall.

``pro_rata`` sells every position by the same fraction (cash / net value), which keeps the book's
shape; ``waterfall`` sells the most liquid names first, each up to its participation cap. Both
come back as a :class:`LiquidationResult` priced by the same I-Star model (``verify.impact_table``)
and checked against the same limits (``verify.violations``) as :func:`liquidate`'s answers.

Status of a rule-based trade list (``method`` "pro_rata" or "waterfall"):

- ``feasible``: every limit of the request holds (checked from the trades, as for ``liquidate``);
  ``lower_bound_usd`` and ``gap`` are NaN: a rule proves nothing about the optimum.
- ``limits_broken``: the trades break at least one limit; ``violations`` has every limit's
  violation, ``message`` names the broken ones, and the money fields and trade table are kept
  (the trades are what the rule does, so they can be priced and compared). A waterfall that
  runs out of names before the target shows up as the ``cash`` limit broken.

``compare`` puts the optimized answer and both rules side by side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.core import arguments
from krg_liquidity.core.errors import InvalidValueError
from krg_liquidity.model.impact import CostModel
from krg_liquidity.solve.bounds import trade_bounds
from krg_liquidity.solve.limits import LABELS, MEASURED
from krg_liquidity.solve.optimize import liquidate
from krg_liquidity.solve.request import Limits, LiquidationRequest, liquidation_request
from krg_liquidity.solve.result import LiquidationResult, limit_reached, trade_table
from krg_liquidity.solve.verify import ACCEPT_VIOLATION, impact_table

COMPARE_COLUMNS = ("method", "status", "cash_raised_usd", "cost_usd", "cost_bps", "extra_cost_bps", "names_traded",
                   "risk_before", "risk_after", "marginal_cost_bps", "limits_broken", "max_violation", "message")


def pro_rata(portfolio: Portfolio, cash: float | str, *, limits: Limits | None = None, risk_band=None, max_total_mi_bps=None,
             allow_buys: bool = False, cost_model: CostModel | None = None,
             allow_small_cash: bool = False, fee_bps: float = 0.0) -> LiquidationResult:
    """Sell (or cover) every position by the same fraction f = cash / net value.

    Name i trades ``-f x shares_i`` shares, so the cash raised is exactly ``cash`` (USD) and
    every final weight equals today's. Priced by the I-Star model at each name's own trade time
    or POV; the limits are checked, not obeyed.

    Parameters
    ----------
    portfolio : Portfolio
        The book.
    cash : float or str
        As for :func:`~krg_liquidity.liquidate` (dollars, "10%", "250m").
    limits : Limits, optional
        The limits to check the trades against, as one :class:`~krg_liquidity.Limits` value, or as the keywords
        below (not both).
    risk_band, max_total_mi_bps, allow_buys
        The limits to check the trades against, as :func:`~krg_liquidity.liquidate` takes them.
    cost_model : CostModel, optional
        The I-Star model pricing the trades (None: Kissell 2013 parameters).
    allow_small_cash : bool
        As for :func:`~krg_liquidity.liquidate`.
    fee_bps : float
        As for :func:`~krg_liquidity.liquidate`: sell-side fees (bps of the proceeds) of the names without
        their own ``fee_bps``, counted against ``max_total_cost_bps``.

    Returns
    -------
    LiquidationResult
        ``method`` "pro_rata"; status "feasible" when every limit holds, else ``limits_broken``
        (the limits named in ``message``) when the trades break a limit. No proven lower bound (NaN).

    Raises
    ------
    InputError
        Bad data, cash or limits.

    Examples
    --------
    >>> from krg_liquidity import Portfolio, load_example
    >>> result = pro_rata(Portfolio(*load_example()), 1e9)
    >>> result.method, round(result.cash_raised / 1e6, 6)
    ('pro_rata', 1000.0)
    """
    asked = Limits.of(limits, risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys)
    request = liquidation_request(portfolio, cash, limits=asked, cost_model=cost_model,
                                  allow_small_cash=allow_small_cash, fee_bps=fee_bps)
    portfolio = request.portfolio  # with the limits' book-wide per-name defaults
    if request.cash >= portfolio.net_value_usd:
        return _beyond_the_book(request, "pro_rata")
    shares = portfolio.array("shares")
    fraction = request.cash / portfolio.net_value_usd
    traded = -fraction * shares
    costs = request.costs()
    marginal = float(np.sum(costs.marginal_bps(traded / portfolio.array("adv")) * np.abs(shares * portfolio.array("price")))
                     / portfolio.net_value_usd)
    return rule_result(request, traded, "pro_rata", marginal)


def positive_pct_adv(value: object) -> float:
    """The waterfall's cap for names without their own ``ub_max_pct_adv``: a fraction of ADV > 0
    ("20%" reads as 0.2); else an InvalidValueError naming ``max_pct_adv``."""
    fix = "give the cap as a fraction of ADV, e.g. 0.2 (or '20%'), or None for the whole position"
    cap = arguments.number(value, "max_pct_adv", fix, percent=True)
    if not (np.isfinite(cap) and cap > 0):
        raise InvalidValueError("max_pct_adv", ["(all)"], f"is {cap:g}; it must be positive", fix)
    return cap


def waterfall(portfolio: Portfolio, cash: float | str, *, max_pct_adv: float | None = None,
              limits: Limits | None = None, risk_band=None,
              max_total_mi_bps=None, allow_buys: bool = False, cost_model: CostModel | None = None,
              allow_small_cash: bool = False, fee_bps: float = 0.0) -> LiquidationResult:
    """Sell long positions most liquid first, each up to its participation cap, until ``cash`` is raised.

    Liquidity is Kissell's liquidity factor, the I-Star impact (bps) of a $1 order,
    ``a1 (1/ADV)^a2 vol^a3 (1/price)^a2 price^a5``: lowest first (ties: larger dollar ADV).
    The last name sold is sold in part so that the cash is exactly ``cash`` (USD); if every
    capped long together raises less, the list stops there and the result's ``cash`` limit is
    broken. The limits are checked, not obeyed.

    Parameters
    ----------
    portfolio : Portfolio
        The book.
    cash : float or str
        As for :func:`~krg_liquidity.liquidate` (dollars, "10%", "250m").
    max_pct_adv : float, optional
        A name's cap (traded shares as a fraction of ADV) when it has no ``ub_max_pct_adv`` of its
        own (None: the whole position).
    limits : Limits, optional
        The limits to check the trades against, as one :class:`~krg_liquidity.Limits` value, or as the keywords
        below (not both).
    risk_band, max_total_mi_bps, allow_buys
        The limits to check the trades against, as :func:`~krg_liquidity.liquidate` takes them.
    cost_model : CostModel, optional
        The I-Star model ordering and pricing the trades (None: Kissell 2013 parameters).
    allow_small_cash : bool
        As for :func:`~krg_liquidity.liquidate`.
    fee_bps : float
        As for :func:`~krg_liquidity.liquidate`: sell-side fees (bps of the proceeds) of the names without
        their own ``fee_bps``, counted against ``max_total_cost_bps``.

    Returns
    -------
    LiquidationResult
        ``method`` "waterfall"; status "feasible" when every limit holds, else ``limits_broken``
        (the limits named in ``message``) when the trades break a limit or fall short of ``cash``.
        No proven lower bound (NaN).

    Raises
    ------
    InputError
        Bad data, cash or limits; ``max_pct_adv`` not positive.

    Examples
    --------
    >>> from krg_liquidity import Portfolio, load_example
    >>> result = waterfall(Portfolio(*load_example()), 1e9)
    >>> result.method, result.status, round(result.cash_raised / 1e6, 6)
    ('waterfall', 'limits_broken', 1000.0)
    >>> sorted(key for key, value in result.violations.items() if value > 1e-6)
    ['final_value', 'impact_cap', 'weight']
    """
    asked = Limits.of(limits, risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys)
    request = liquidation_request(portfolio, cash, limits=asked, cost_model=cost_model,
                                  allow_small_cash=allow_small_cash, fee_bps=fee_bps)
    portfolio = request.portfolio  # with the limits' book-wide per-name defaults
    if request.cash >= portfolio.net_value_usd:
        return _beyond_the_book(request, "waterfall")
    if max_pct_adv is not None:
        max_pct_adv = positive_pct_adv(max_pct_adv)
    shares, price, adv = (portfolio.array(c) for c in ("shares", "price", "adv"))
    cap = portfolio.array("ub_max_pct_adv") if "ub_max_pct_adv" in portfolio.holdings else np.full(len(shares), np.nan)
    cap = np.where(np.isnan(cap), np.inf if max_pct_adv is None else max_pct_adv, cap)
    sellable = np.where(shares > 0, np.minimum(shares, cap * adv), 0.0)
    order = liquidity_order(portfolio, request.cost_model)
    value = (sellable * price)[order]
    before = np.concatenate([[0.0], np.cumsum(value)[:-1]])  # cash raised by the names ahead of each
    taken = np.clip(request.cash - before, 0.0, value)
    sold = np.zeros(len(shares))
    sold[order] = taken / price[order]
    sold = np.where(sold >= sellable * (1 - 1e-15), sellable, sold)  # a whole slice stays whole
    last = order[np.flatnonzero(taken > 0)[-1]] if (taken > 0).any() else None
    marginal = np.nan
    if last is not None:
        marginal = float(request.costs().take(np.array([last])).marginal_bps(np.array([sold[last] / adv[last]]))[0])
    return rule_result(request, -sold, "waterfall", marginal)


def liquidity_order(portfolio: Portfolio, cost_model: CostModel | None = None) -> np.ndarray:
    """Indices of the names, most liquid first (lowest liquidity factor, then larger dollar ADV)."""
    model = cost_model or CostModel()
    p = model.params
    price, adv, vol = portfolio.array("price"), portfolio.array("adv"), portfolio.array("volatility")
    factor = p.a1 * np.power(1.0 / (adv * price), p.a2) * np.power(vol, p.a3) * np.power(price, p.a5)
    return np.lexsort((-adv * price, factor))


def breach_words(key: str, value: float, *, net_value_usd: float, cash: float, raised: float, cost_bps: float,
                 over_cap_bps: float) -> str:
    """How far a trade list breaks limit ``key``, in the limit's own unit: dollars, bps or a percent.

    ``value``: the violation as :mod:`krg_liquidity.solve.limits` measures it (``MEASURED``: a fraction of
    the net value, of ADV, of the name's cap, ...). ``net_value_usd``, ``cash``, ``raised`` (USD),
    ``cost_bps`` (total impact, bps of the cash) and ``over_cap_bps`` (the most any name's impact
    exceeds its own cap, bps) turn it into words.

    >>> breach_words("participation", 0.285, net_value_usd=1e10, cash=1e9, raised=1e9, cost_bps=20,
    ...              over_cap_bps=0)
    'by up to 28.5% of ADV'
    >>> breach_words("cash", 0.39, net_value_usd=1e10, cash=1e9, raised=6.1e8, cost_bps=20, over_cap_bps=0)
    '$390,000,000 short'
    >>> breach_words("group_weight:Tech", 0.0277, net_value_usd=1e10, cash=1e9, raised=1e9, cost_bps=20,
    ...              over_cap_bps=0)
    "by 2.77% of the post-trade value (in the group's weight)"
    """
    if key == "participation":
        return f"by up to {value:.1%} of ADV"
    if key == "impact_cap" and np.isfinite(over_cap_bps) and over_cap_bps > 0:
        return f"by up to {over_cap_bps:,.2f} bps over a name's own cap ({value:.0%} over it)"
    if key == "cash":
        gap = raised - cash
        return f"${abs(gap):,.0f} {'short' if gap < 0 else 'over'}"
    if key == "total_impact_cap":
        return f"by {cost_bps * value / (1 + value):,.2f} bps ({cost_bps:,.2f} bps of the cash)"
    if key in ("risk_ceiling", "risk_floor"):
        return f"by {value:.2%} of today's risk"
    if key == "weight":
        return f"by up to {value:.2%} of the post-trade value (in weight)"
    if key.startswith("group_weight:"):
        return f"by {value:.2%} of the post-trade value (in the group's weight)"
    if key.startswith("group_sold:"):
        return f"by {value:.2%} of the group's value"
    if MEASURED.get(key) == "fraction of the net value":
        return f"by up to ${value * net_value_usd:,.0f} on one name"
    return f"by {value:.3g} ({MEASURED.get(key, '')})"


def rule_result(request: LiquidationRequest, traded: np.ndarray, method: str, marginal: float) -> LiquidationResult:
    """A rule's trade list (signed shares) as a result: priced, every limit checked, status as above."""
    portfolio = request.portfolio
    shares, price, adv = portfolio.array("shares"), portfolio.array("price"), portfolio.array("adv")
    shares_after = shares + traded
    impacts = impact_table(portfolio, traded, request.cost_model)
    raised = float(-(traded * price).sum())
    cost = float(impacts["cost_usd"].sum())
    found = request.check(shares_after, traded=traded)
    broken = {key: value for key, value in found.items() if not value <= ACCEPT_VIOLATION}
    risk_before = risk_after = None
    if portfolio.has_risk_model:
        risk = portfolio.risk()
        net = portfolio.net_value_usd
        risk_before = risk.sigma(shares * price / net)
        risk_after = risk.sigma(shares_after * price / (net - raised)) if raised < net else float("nan")
    target = request.cash
    bounds = trade_bounds(portfolio, target, request.costs(), request.allow_buys)
    reached = limit_reached(-traded / adv, bounds, shares)
    message = ""
    if broken:
        over_cap_bps = np.nan
        if "ub_max_mi_bps" in portfolio.holdings:
            over_cap_bps = float(np.nanmax(impacts["mi_bps"].to_numpy() - portfolio.array("ub_max_mi_bps"),
                                           initial=0.0))
        context = {"net_value_usd": portfolio.net_value_usd, "cash": target, "raised": raised,
                   "cost_bps": cost / target * 1e4, "over_cap_bps": over_cap_bps}
        message = (f"the {method.replace('_', '-')} trade list breaks " + "; ".join(
            f"{LABELS.get(key, key)} {breach_words(key, value, **context)}"
            for key, value in sorted(broken.items(), key=lambda kv: -kv[1]))
                   + f" (raises ${raised:,.0f} of ${target:,.0f} at ${cost:,.0f})")
    nan = float("nan")
    return LiquidationResult(
        status="limits_broken" if broken else "feasible", cash_target=target, cash_raised=raised,
        cost_usd=cost, cost_bps=cost / raised * 1e4 if raised > 0 else nan, lower_bound_usd=nan, gap=nan,
        risk_before=risk_before, risk_after=risk_after, marginal_cost_bps=marginal,
        max_violation=max(found.values()), violations=found,
        trades=trade_table(portfolio.holdings["symbol"], shares, shares_after, price, impacts, portfolio.net_value_usd,
                           raised, reached, adv, portfolio.array("volatility"), traded=traded),
        method=method, message=message, request=request.record(None), problem=request)


def broken_limits(result: LiquidationResult) -> str:
    """The limits a result breaks, by label ('' when none), e.g. 'participation cap (ub_max_pct_adv)'."""
    return "; ".join(LABELS.get(key, key) for key, value in result.violations.items() if not value <= ACCEPT_VIOLATION)


def compare(portfolio: Portfolio, cash: float | str, *, max_pct_adv: float | None = None, **limits) -> pd.DataFrame:
    """Optimized, pro-rata and waterfall side by side: one row each.

    The rules are checked against the same limits as the optimized answer.

    Parameters
    ----------
    portfolio : Portfolio
        The book.
    cash : float or str
        As for :func:`~krg_liquidity.liquidate` (dollars, "10%", "250m"; ``allow_small_cash``
        among the ``limits``).
    max_pct_adv : float, optional
        The waterfall's participation cap (traded shares as a fraction of ADV) for names without
        their own ``ub_max_pct_adv`` (None: the whole position).
    **limits
        The keyword arguments of :func:`~krg_liquidity.liquidate` (risk_band, max_total_mi_bps,
        allow_buys, cost_model, time_limit, ...).

    Returns
    -------
    pandas.DataFrame
        Rows "optimized", "pro_rata", "waterfall" (``COMPARE_COLUMNS``): status, cash raised and
        cost (USD), cost_bps, ``extra_cost_bps`` (the row's cost_bps minus the optimized one: what
        the optimizer saves), names traded, risk before and after, the limits broken and the message.

    Raises
    ------
    InputError
        Bad data, cash or limits (a failed optimization is a row, not an exception).

    Examples
    --------
    >>> from krg_liquidity import Portfolio, load_example
    >>> table = compare(Portfolio(*load_example()), 1e9, max_pct_adv=0.2)
    >>> table["method"].tolist()
    ['optimized', 'pro_rata', 'waterfall']
    """
    checked = {k: limits[k] for k in ("limits", "risk_band", "max_total_mi_bps", "allow_buys", "cost_model",
                                      "allow_small_cash", "fee_bps")
               if k in limits}
    results = {"optimized": liquidate(portfolio, cash, raise_on_failure=False, **limits),
               "pro_rata": pro_rata(portfolio, cash, **checked),
               "waterfall": waterfall(portfolio, cash, max_pct_adv=max_pct_adv, **checked)}
    return comparison_table(results)


METHOD_WORDS = {"optimized": "optimized", "pro_rata": "pro rata", "waterfall": "most liquid first"}
"""The methods of a comparison as a PM reads them on screen (the data keeps the keys)."""


def comparison_table(results: dict[str, LiquidationResult]) -> pd.DataFrame:
    """One row per named result (``COMPARE_COLUMNS``); extra_cost_bps against the "optimized" row."""
    base = results.get("optimized")
    base_bps = base.cost_bps if base is not None and base.success else np.nan
    rows = []
    for method, r in results.items():
        rows.append((method, r.status, r.cash_raised, r.cost_usd, r.cost_bps, r.cost_bps - base_bps,
                     int((r.trades["shares_traded"] != 0).sum()) if np.isfinite(r.cash_raised) else 0,
                     np.nan if r.risk_before is None else r.risk_before,
                     np.nan if r.risk_after is None else r.risk_after, r.marginal_cost_bps, broken_limits(r),
                     r.max_violation, r.message))
    return pd.DataFrame(rows, columns=list(COMPARE_COLUMNS))


def _beyond_the_book(request, method: str) -> LiquidationResult:
    """A rule asked for at least the book's net value: no trade list, status infeasible (proven: selling
    everything raises the net value)."""
    from krg_liquidity.core.plan import Budget, Trail
    from krg_liquidity.solve.explain import beyond_the_book
    from krg_liquidity.solve.result import failed_result

    error = beyond_the_book(request.cash, request.portfolio.net_value_usd)
    result = failed_result(request, error, Trail(Budget(None)))
    result.method = method
    return result
