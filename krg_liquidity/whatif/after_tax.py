"""What the after-tax optimum saves: its trades and lots against the impact-only optimum, a pro-rata sale,
and the usual ways of choosing the lots (FIFO, LIFO, highest basis first, pro rata by lot).

Every row prices a trade list (shares sold per name) and a way of taking each name's sale from its lots:
the trading cost (impact plus half-spread, commission and fees, as :attr:`LiquidationResult.costs`), the
capital-gains tax of the lots sold (linear model, :mod:`krg_liquidity.model.tax`), and the objective the
after-tax optimum minimizes, trading cost + ``tax_weight`` x tax. No row that keeps the same limits and
raises the same cash has a lower objective than the after-tax optimum's (up to its proven gap).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from krg_liquidity.book.lots import read_lots
from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.model.tax import LOT_RULES, TaxRates, lot_tax, realized_tax, split_by_rule
from krg_liquidity.solve.optimize import liquidate
from krg_liquidity.solve.result import LiquidationResult
from krg_liquidity.whatif.rules import broken_limits, pro_rata

AFTER_TAX_COLUMNS = ("trades", "lots", "status", "limits_broken", "cash_raised_usd", "trading_cost_usd", "tax_usd",
                     "realized_short_term_usd", "realized_long_term_usd", "after_tax_cost_usd", "objective_usd",
                     "extra_usd", "extra_bps")
"""The columns of :func:`compare_after_tax`, in order."""

TRADE_LISTS = ("after_tax_optimum", "impact_optimum", "pro_rata")
"""The trade lists :func:`compare_after_tax` prices: the optimum with the tax in its objective, the optimum
of the trading cost alone (lots chosen afterwards), and the same fraction of every position."""

_RULE_CHECKS = ("limits", "risk_band", "max_total_mi_bps", "allow_buys", "cost_model", "allow_small_cash")


def compare_after_tax(portfolio: Portfolio, cash: float | str, *, lots, tax: TaxRates, tax_weight: float = 1.0,
                      fee_bps: float = 0.0, **limits) -> pd.DataFrame:
    """The after-tax optimum against the impact-only optimum and a pro-rata sale, under every lot rule.

    Parameters
    ----------
    portfolio : Portfolio
        The book.
    cash : float or str
        The target, as for :func:`~krg_liquidity.liquidate` (dollars, "10%", "250m").
    lots : pandas.DataFrame or str or Path
        The book's tax lots, as :func:`~krg_liquidity.read_lots` reads them.
    tax : TaxRates
        The capital-gains rates and the sale date.
    tax_weight : float
        The weight of a dollar of tax against a dollar of trading cost (>= 0).
    fee_bps : float
        Sell-side fees (bps of the proceeds) of the names without their own ``fee_bps``.
    **limits
        The other keywords of :func:`~krg_liquidity.liquidate` (``limits``, ``risk_band``, ``cost_model``,
        ``time_limit``, ``options``, ...): both optimizations use them and the pro-rata sale is checked
        against them.

    Returns
    -------
    pandas.DataFrame
        One row per trade list (``TRADE_LISTS``) and lot rule (``model.tax.LOT_RULES``; under US netting the
        after-tax optimum's own split first, lots "optimizer"), columns
        ``AFTER_TAX_COLUMNS``: the trade list's status (``limits_broken`` when it breaks a limit, the limits
        it breaks by label in ``limits_broken``),
        cash raised, trading cost, tax, realized short- and long-term gains, ``after_tax_cost_usd``
        (trading cost + tax), ``objective_usd`` (trading cost + tax_weight x tax), and ``extra_usd`` /
        ``extra_bps`` (the row's objective minus the after-tax optimum's, USD to the cent and bps of the cash
        target).
        All money in USD; a trade list that failed has NaN money.

    Raises
    ------
    InputError
        Bad data, lots, rates, cash or limits (a failed optimization is a row, not an exception).

    Examples
    --------
    >>> import pandas as pd
    >>> from krg_liquidity import Portfolio, TaxRates, load_example
    >>> book = Portfolio(*load_example())
    >>> held = book.holdings
    >>> lots = pd.DataFrame({"symbol": held["symbol"], "shares": held["shares"],
    ...                      "cost_basis_per_share": held["price"] * 0.7, "acquired": "2020-01-02"})
    >>> table = compare_after_tax(book, 1e9, lots=lots, tax=TaxRates(0.37, 0.238, as_of="2026-12-01"))
    >>> float(table.set_index(["trades", "lots"]).loc[("after_tax_optimum", "least_tax"), "extra_usd"])
    0.0
    """
    price = pd.Series(portfolio.array("price"), index=portfolio.symbols)
    table = lot_tax(read_lots(lots, portfolio, tax.unknown_basis), price, tax) if isinstance(tax, TaxRates) else None
    optimum = liquidate(portfolio, cash, lots=lots, tax=tax, tax_weight=tax_weight, fee_bps=fee_bps,
                        raise_on_failure=False, **limits)
    impact_only = liquidate(portfolio, cash, fee_bps=fee_bps, raise_on_failure=False, **limits)
    rule = pro_rata(portfolio, cash, fee_bps=fee_bps, **{k: limits[k] for k in _RULE_CHECKS if k in limits})
    weight = float(tax_weight)
    rows = []
    for name, result in zip(TRADE_LISTS, (optimum, impact_only, rule)):
        trading = result.total_cost_usd if result.success or result.status == "limits_broken" else np.nan
        for lot_rule, (paid, short, long) in _taxes(result, table, tax).items():
            rows.append((name, lot_rule, result.status, broken_limits(result), result.cash_raised, trading, paid,
                         short, long, trading + paid, trading + weight * paid))
    frame = pd.DataFrame(rows, columns=list(AFTER_TAX_COLUMNS[:-2]))
    base = frame["objective_usd"].iloc[0]
    target = optimum.cash_target
    extra = (frame["objective_usd"] - base).round(2)  # dollars and cents: solver noise is not a saving
    return frame.assign(extra_usd=extra, extra_bps=extra / target * 1e4)


def _taxes(result: LiquidationResult, lots: pd.DataFrame | None,
           rates: TaxRates) -> dict[str, tuple[float, float, float]]:
    """Per lot rule: (tax, realized short-term gain, realized long-term gain) of ``result``'s sales, USD, under
    ``rates``. Under US netting the after-tax optimum's own split comes first, as "optimizer" (no rule is
    the least-tax split there)."""
    nan = (np.nan, np.nan, np.nan)
    if lots is None or not np.isfinite(result.cash_raised):
        return {rule: nan for rule in LOT_RULES}
    sold = pd.Series(-result.trades["shares_traded"].to_numpy(dtype=float),
                     index=result.trades["symbol"].to_numpy()).clip(lower=0.0)
    splits = {rule: split_by_rule(lots, sold, rule) for rule in LOT_RULES}
    if rates.netting != "none" and result.lots is not None:
        splits = {"optimizer": result.lots["shares_sold"].to_numpy(dtype=float)} | splits
    out = {}
    for rule, split in splits.items():
        found = realized_tax(lots, split, rates)
        out[rule] = (found["tax_usd"], found["realized_short_term_usd"], found["realized_long_term_usd"])
    return out
