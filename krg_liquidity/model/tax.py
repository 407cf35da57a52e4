"""Capital-gains tax of a sale, lot by lot: the linear model and US netting.

Linear model (``netting="none"``, the default): each lot's gain (price - basis) x shares sold is taxed
at its term's rate, and a loss is credited at that rate (worth its rate against gains elsewhere). A lot
is long-term when held more than ``long_term_after_days`` days at ``as_of``. Within a name the lots with
the least tax per dollar of proceeds, ``rate x (1 - basis / price)``, go first, so a name's tax is a
convex piecewise-linear function of its shares sold (Moehle, Kochenderfer, Boyd and Ang, "Tax-aware
portfolio construction via convex optimization", JOTA 2021).

US netting (``netting="us"``): the realized short-term gains S and long-term gains L net within their
term, then across terms (IRS Publication 550, "Capital Gains and Losses"): with S, L >= 0 the tax is
rs S + rl L; a short-term loss offsets a long-term gain, rl (S + L) when S < 0 <= S + L; a long-term loss
offsets a short-term gain, rs (S + L) when L < 0 <= S + L; a net loss (S + L < 0) pays nothing this
year and is carried forward (reported, not credited; the yearly $3,000 against ordinary income is not
modelled). The tax is not convex in the sale, but it is linear inside each of these four regions of
(S, L), which are polyhedra in the lots sold: ``tax_regions`` gives them, a convex program per region
and the least of their optima is the global optimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from krg_liquidity.core.errors import BookError, InputError, Problem

UNKNOWN_BASIS = ("refuse", "zero")
"""What to do with held shares no lot lists: refuse the lots, or take them at zero basis, short-term."""
NETTING = ("none", "us")
"""The tax models: "none" (linear, each lot at its term's rate) and "us" (netting within and across terms)."""


@dataclass(frozen=True)
class TaxRates:
    """Capital-gains tax rates for a sale.

    Parameters
    ----------
    short_term : float
        Rate on short-term gains (decimal in [0, 1): 0.37 is 37%).
    long_term : float
        Rate on long-term gains (decimal in [0, 1)).
    long_term_after_days : int, default 365
        A lot held more than this many days at ``as_of`` is long-term.
    as_of : str or pandas.Timestamp, optional
        The sale date (default: today).
    netting : {"none", "us"}
        "none": the linear model (each lot's gain or loss at its term's rate); "us": gains and losses
        net within and across terms, a net loss carried forward (see the module's notes).
    unknown_basis : {"refuse", "zero"}
        Positions whose lots add up to fewer shares than are held: "refuse" (a named error), or "zero":
        the shares no lot lists form one more lot per name, ``SYMBOL-unknown-basis``, at zero basis and
        short-term (its date is unknown too: the higher rate, so its tax is never understated); the
        result's ``tax["unknown_basis_shares"]`` records how many shares were taken so.

    Raises
    ------
    InputError
        A rate negative, 1 or more (a percent such as 37 is named as such), or not a number; a date
        that cannot be read; a holding period that is not a positive whole number of days.

    Examples
    --------
    >>> TaxRates(short_term=0.37, long_term=0.2, as_of="2026-12-01").long_term
    0.2
    """

    short_term: float
    long_term: float
    long_term_after_days: int = 365
    as_of: str | pd.Timestamp | None = None
    netting: str = "none"
    unknown_basis: str = "refuse"

    def __post_init__(self) -> None:
        problems = []
        for name in ("short_term", "long_term"):
            value = getattr(self, name)
            try:
                rate = float(value)
            except (TypeError, ValueError):
                problems.append(f"{name}={value!r} is not a number: give a decimal rate such as 0.2")
                continue
            if not np.isfinite(rate) or rate < 0:
                problems.append(f"{name}={value!r} must be a decimal rate in [0, 1), such as 0.2")
            elif rate >= 1:
                hint = f" (did you mean {rate / 100:g}? {rate:g} looks like a percent)" if rate < 100 else ""
                problems.append(f"{name}={value!r} must be a decimal rate below 1{hint}")
            object.__setattr__(self, name, rate)
        days = self.long_term_after_days
        if not isinstance(days, (int, np.integer)) or isinstance(days, bool) or days <= 0:
            problems.append(f"long_term_after_days={days!r} must be a positive whole number of days, e.g. 365")
        when = pd.Timestamp.today().normalize() if self.as_of is None else pd.to_datetime(self.as_of, errors="coerce")
        if pd.isna(when):
            problems.append(f"as_of={self.as_of!r} is not a date: give YYYY-MM-DD")
        else:
            object.__setattr__(self, "as_of", pd.Timestamp(when).normalize())
        if self.netting not in NETTING:
            problems.append(f"netting={self.netting!r}: choose one of {', '.join(map(repr, NETTING))}")
        if self.unknown_basis not in UNKNOWN_BASIS:
            problems.append(f"unknown_basis={self.unknown_basis!r}: choose one of "
                            f"{', '.join(map(repr, UNKNOWN_BASIS))}")
        if problems:
            raise InputError("tax rates: " + "; ".join(problems))


def lot_tax(lots: pd.DataFrame, price: pd.Series, rates: TaxRates) -> pd.DataFrame:
    """Each lot's term, rate, gain per share and tax per dollar of proceeds.

    Parameters
    ----------
    lots : pandas.DataFrame
        ``read_lots``'s table (symbol, lot_id, shares, cost_basis_per_share, acquired).
    price : pandas.Series
        Price per share by symbol (USD).
    rates : TaxRates
        The rates, the long-term holding period and the sale date.

    Returns
    -------
    pandas.DataFrame
        ``lots`` with ``term`` ("short" or "long"), ``rate``, ``gain_per_share`` (USD) and
        ``tax_per_dollar`` (tax on a dollar of proceeds; negative for a loss).

    Raises
    ------
    BookError
        Lots acquired after ``rates.as_of``.

    Examples
    --------
    >>> lots = pd.DataFrame({"symbol": ["A"], "lot_id": ["A-1"], "shares": [10.0], "cost_basis_per_share": [40.0],
    ...                      "acquired": [pd.Timestamp("2020-01-02")]})
    >>> rates = TaxRates(0.37, 0.2, as_of="2026-12-01")
    >>> lot_tax(lots, pd.Series({"A": 50.0}), rates)[["term", "tax_per_dollar"]].values.tolist()
    [['long', 0.04]]
    """
    as_of = cast(pd.Timestamp, rates.as_of)  # a Timestamp once checked (``TaxRates``)
    future = lots["acquired"] > as_of
    if future.any():
        raise BookError([Problem("acquired", f"is after the sale date {as_of.date()}",
                                 "correct the date, or give TaxRates(as_of=...) the sale date",
                                 symbols=lots["lot_id"][future])], what="the lots")
    held = (lots["acquired"].rsub(as_of)).dt.days
    long = (held > rates.long_term_after_days).to_numpy()  # no date (an unknown-basis lot): short-term
    px = price.reindex(lots["symbol"]).to_numpy(dtype=float)
    rate = np.where(long, rates.long_term, rates.short_term)
    gain = px - lots["cost_basis_per_share"].to_numpy(dtype=float)
    return lots.assign(term=np.where(long, "long", "short"), rate=rate, gain_per_share=gain,
                       tax_per_dollar=rate * gain / px)


def greedy_sale(lots: pd.DataFrame, shares_sold: pd.Series) -> np.ndarray:
    """Shares sold of each lot: each name's sale taken from its lots in increasing tax per dollar
    (``lot_tax``), the least-tax split of that sale under the linear model.

    Parameters
    ----------
    lots : pandas.DataFrame
        ``lot_tax``'s table.
    shares_sold : pandas.Series
        Shares sold by symbol (>= 0).

    Returns
    -------
    numpy.ndarray
        Shares sold per lot, in ``lots``' order.

    Examples
    --------
    >>> lots = pd.DataFrame({"symbol": ["A", "A"], "shares": [10.0, 10.0], "tax_per_dollar": [0.1, -0.05]})
    >>> greedy_sale(lots, pd.Series({"A": 12.0})).tolist()
    [2.0, 10.0]
    """
    codes, symbols = pd.factorize(lots["symbol"])  # integer codes: sorting and matching text is the slow part
    order = np.lexsort((np.arange(len(lots)), lots["tax_per_dollar"].to_numpy(), codes))
    shares = lots["shares"].to_numpy(dtype=float)[order]
    names = codes[order]
    first = np.r_[True, names[1:] != names[:-1]]  # each name's lots are contiguous in this order
    starts = np.flatnonzero(first)
    before = np.cumsum(shares) - shares  # shares of the earlier lots, all names
    before -= np.repeat(before[starts], np.diff(np.r_[starts, len(names)]))  # ... of the same name
    sold = shares_sold.groupby(level=0).sum().clip(lower=0.0).reindex(symbols).fillna(0.0).to_numpy()[names]
    out = np.zeros(len(lots))
    out[order] = np.clip(sold - before, 0.0, shares)
    return out


LOT_RULES = ("least_tax", "fifo", "lifo", "hifo", "pro_rata")
"""How a name's sale is taken from its lots: least tax per dollar first (the optimizer's), first in first out,
last in first out, highest basis first, or in proportion to the lots' shares."""
LOT_RULE_WORDS = {"least_tax": "least tax first", "fifo": "first in, first out (FIFO)",
                  "lifo": "last in, first out (LIFO)", "hifo": "highest basis first (HIFO)",
                  "pro_rata": "pro rata by lot", "optimizer": "the optimizer's lots"}
"""The lot rules (and the optimizer's own split under US netting) in a PM's words, for tables on screen."""


def split_by_rule(lots: pd.DataFrame, shares_sold: pd.Series, rule: str) -> np.ndarray:
    """Shares sold of each lot when each name's sale is taken from its lots by ``rule``.

    Parameters
    ----------
    lots : pandas.DataFrame
        ``lot_tax``'s table (symbol, shares, acquired, cost_basis_per_share, tax_per_dollar).
    shares_sold : pandas.Series
        Shares sold by symbol (>= 0).
    rule : str
        One of ``LOT_RULES``.

    Returns
    -------
    numpy.ndarray
        Shares sold per lot, in ``lots``' order.

    Raises
    ------
    InputError
        ``rule`` is not one of ``LOT_RULES``.

    Examples
    --------
    >>> lots = pd.DataFrame({"symbol": ["A", "A"], "shares": [10.0, 10.0], "tax_per_dollar": [0.1, -0.05],
    ...                      "acquired": pd.to_datetime(["2020-01-01", "2021-01-01"]),
    ...                      "cost_basis_per_share": [5.0, 12.0]})
    >>> split_by_rule(lots, pd.Series({"A": 12.0}), "fifo").tolist()
    [10.0, 2.0]
    """
    if rule == "least_tax":
        return greedy_sale(lots, shares_sold)
    if rule not in LOT_RULES:
        raise InputError(f"rule={rule!r}: choose one of {', '.join(LOT_RULES)}")
    shares = lots["shares"].to_numpy(dtype=float)
    symbols = lots["symbol"].to_numpy()
    if rule == "pro_rata":
        held = pd.Series(shares, index=symbols).groupby(level=0).sum()
        sold = shares_sold.reindex(symbols).fillna(0.0).clip(lower=0.0).to_numpy()
        return shares * np.minimum(sold / held.reindex(symbols).to_numpy(), 1.0)
    key = {"fifo": lots["acquired"].to_numpy().astype("int64"), "lifo": -lots["acquired"].to_numpy().astype("int64"),
           "hifo": -lots["cost_basis_per_share"].to_numpy(dtype=float)}[rule]
    return greedy_sale(lots.assign(tax_per_dollar=key), shares_sold)


def realized_tax(lots: pd.DataFrame, shares_sold: np.ndarray, rates: TaxRates) -> dict[str, float]:
    """The tax of selling ``shares_sold`` of each lot, under ``rates.netting``.

    Parameters
    ----------
    lots : pandas.DataFrame
        ``lot_tax``'s table.
    shares_sold : numpy.ndarray
        Shares sold per lot, in ``lots``' order.
    rates : TaxRates
        The rates and the tax model.

    Returns
    -------
    dict
        ``tax_usd`` (negative: a credit, linear model only), ``realized_short_term_usd``,
        ``realized_long_term_usd`` and ``carryforward_usd`` (a net loss not used this year, US netting), USD.

    Examples
    --------
    >>> lots = pd.DataFrame({"term": ["short", "long"], "rate": [0.37, 0.2], "gain_per_share": [10.0, -30.0]})
    >>> realized_tax(lots, np.array([1.0, 1.0]), TaxRates(0.37, 0.2, as_of="2026-12-01"))["tax_usd"]
    -2.3
    >>> realized_tax(lots, np.array([1.0, 1.0]), TaxRates(0.37, 0.2, as_of="2026-12-01", netting="us"))
    {'tax_usd': 0.0, 'realized_short_term_usd': 10.0, 'realized_long_term_usd': -30.0, 'carryforward_usd': 20.0}
    """
    gain = lots["gain_per_share"].to_numpy(dtype=float) * np.asarray(shares_sold, dtype=float)
    short = lots["term"].to_numpy() == "short"
    short_gain, long_gain = float(gain[short].sum()), float(gain[~short].sum())
    net = short_gain + long_gain
    if rates.netting == "none":
        tax, carried = float(lots["rate"].to_numpy(dtype=float) @ gain), 0.0
    elif short_gain >= 0 and long_gain >= 0:
        tax, carried = rates.short_term * short_gain + rates.long_term * long_gain, 0.0
    elif net < 0:
        tax, carried = 0.0, -net
    else:  # one term's loss offsets the other's gain, which keeps its rate
        tax, carried = (rates.long_term if short_gain < 0 else rates.short_term) * net, 0.0
    return {"tax_usd": float(tax), "realized_short_term_usd": short_gain, "realized_long_term_usd": long_gain,
            "carryforward_usd": float(carried)}


@dataclass(frozen=True)
class TaxRegion:
    """One region of US netting: inside it the tax is ``per_dollar`` @ proceeds per lot (USD), and it is the
    set where ``row @ proceeds >= 0`` for every row of ``rows``."""

    name: str
    per_dollar: np.ndarray
    rows: tuple[np.ndarray, ...]


def tax_regions(lots: pd.DataFrame, rates: TaxRates) -> list[TaxRegion]:
    """The four regions of US netting over the lots' proceeds (``lot_tax``'s table).

    With g the gain per dollar of proceeds of each lot (1 - basis / price) and s its short-term mask,
    S = (g s) @ y and L = (g (1 - s)) @ y for proceeds y per lot (USD):

    - "both gains": S >= 0, L >= 0; tax rs S + rl L (each lot at its own rate);
    - "short-term loss offsets": S <= 0, L >= 0, S + L >= 0; tax rl (S + L);
    - "long-term loss offsets": S >= 0, L <= 0, S + L >= 0; tax rs (S + L);
    - "net loss": S + L <= 0; tax 0 (carried forward).

    They cover every sale and the tax agrees on their shared edges, so the least of the four
    regions' optima is the optimum under netting.

    Examples
    --------
    >>> lots = pd.DataFrame({"term": ["short", "long"], "rate": [0.37, 0.2], "gain_per_share": [10.0, -30.0],
    ...                      "cost_basis_per_share": [90.0, 130.0]})
    >>> [region.name for region in tax_regions(lots, TaxRates(0.37, 0.2, as_of="2026-12-01", netting="us"))]
    ['both gains', 'short-term loss offsets', 'long-term loss offsets', 'net loss']
    """
    gain = lots["gain_per_share"].to_numpy(dtype=float)
    price = lots["cost_basis_per_share"].to_numpy(dtype=float) + gain
    per = gain / price
    short = lots["term"].to_numpy() == "short"
    s_row, l_row = np.where(short, per, 0.0), np.where(short, 0.0, per)
    rs, rl = rates.short_term, rates.long_term
    return [TaxRegion("both gains", np.where(short, rs, rl) * per, (s_row, l_row)),
            TaxRegion("short-term loss offsets", rl * per, (-s_row, l_row, per)),
            TaxRegion("long-term loss offsets", rs * per, (s_row, -l_row, per)),
            TaxRegion("net loss", np.zeros(len(per)), (-per,))]


def rescaled_sale(lots: pd.DataFrame, previous: np.ndarray, shares_sold: pd.Series) -> np.ndarray:
    """Shares sold per lot for new per-name sales, keeping the lot mix of ``previous``.

    Each name's lots are scaled by its new sale over its previous one (capped at each lot's shares); what
    a name must still sell (a name not sold before, or one whose lots are full) is taken least tax first
    from what its lots have left. Used after rounding an answer whose lots were chosen by the optimizer.

    Parameters
    ----------
    lots : pandas.DataFrame
        ``lot_tax``'s table (or a result's lot table).
    previous : numpy.ndarray
        Shares sold per lot before (in ``lots``' order).
    shares_sold : pandas.Series
        The new shares sold by symbol (>= 0).

    Returns
    -------
    numpy.ndarray
        Shares sold per lot, in ``lots``' order; each name's add up to its new sale (within its holding).

    Examples
    --------
    >>> lots = pd.DataFrame({"symbol": ["A", "A"], "shares": [10.0, 10.0], "tax_per_dollar": [0.1, -0.05]})
    >>> rescaled_sale(lots, np.array([4.0, 0.0]), pd.Series({"A": 6.0})).tolist()
    [6.0, 0.0]
    """
    symbols = lots["symbol"].to_numpy()
    shares = lots["shares"].to_numpy(dtype=float)
    before = pd.Series(np.asarray(previous, dtype=float), index=symbols).groupby(level=0).sum()
    new = shares_sold.clip(lower=0.0)
    ratio = (new / before.reindex(new.index)).replace([np.inf, -np.inf], np.nan).fillna(0.0)
    out = np.minimum(shares, np.asarray(previous, dtype=float) * ratio.reindex(symbols).fillna(0.0).to_numpy())
    missing = new - pd.Series(out, index=symbols).groupby(level=0).sum().reindex(new.index).fillna(0.0)
    missing = missing[missing > 1e-9 * np.maximum(new, 1.0)]
    if len(missing):
        out = out + greedy_sale(lots.assign(shares=shares - out), missing)
    return out


def most_carried(lots: pd.DataFrame, split: np.ndarray, rates: TaxRates) -> np.ndarray:
    """Under US netting, the split of the same sales (shares per lot) that pays no more tax than ``split`` and
    carries the most loss forward: ``split`` itself, or a lot rule's split (``LOT_RULES``; highest basis first
    realizes the least gain) whose tax is within a cent of it and whose carry-forward is larger. Many splits
    pay the same tax (none at all in the net-loss region); the optimizer's is then one of them at random.

    Parameters
    ----------
    lots : pandas.DataFrame
        ``lot_tax``'s table.
    split : numpy.ndarray
        Shares sold per lot (the optimizer's).
    rates : TaxRates
        The rates (``netting="us"``; under the linear model ``split`` is returned).

    Returns
    -------
    numpy.ndarray
        Shares sold per lot, each name's total unchanged.
    """
    if rates.netting == "none":
        return split
    symbols = lots["symbol"].to_numpy()
    sold = pd.Series(np.asarray(split, dtype=float), index=symbols).groupby(level=0).sum()
    best, found = split, realized_tax(lots, split, rates)
    for rule in LOT_RULES:
        other = split_by_rule(lots, sold, rule)
        paid = realized_tax(lots, other, rates)
        if paid["tax_usd"] <= found["tax_usd"] + 0.01 and paid["carryforward_usd"] > found["carryforward_usd"] + 0.01:
            best, found = other, paid
    return best
