"""Market scenarios for stress tests: the same book under other volumes, volatilities, prices and models.

A :class:`Scenario` multiplies ADV, volatility and price (one number for the whole book, a
dict by symbol, or :func:`by_column` for a sector or any holdings column), may swap the I-Star
parameter set, and may replace every name's strategy by one trade time (days) or one POV.
``apply`` returns the scenario's book and cost model. Volatility multipliers also scale the risk
model (covariance ``D C D``; a factor model's exposures by m and specific variances by m^2), so
the risk band stays relative to the scenario's own risk of today's book; the scaled risk operator
is the base one's columns times m (no new factorization), the shared work of a stress test.

The built-in set (``BUILT_IN``) is an illustration of round multipliers, not a record of any
historical episode: "base", "volume halved" (ADV x 0.5), "volatility doubled" (x 2) and
"2008-like" (ADV x 0.5 and volatility x 2.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.book.risk import FactorModel, RiskOperator
from krg_liquidity.core.errors import InputError
from krg_liquidity.core.numbers import parse_number
from krg_liquidity.model.impact import CostModel
from krg_liquidity.model.params import IStarParams, select_parameters


@dataclass(frozen=True)
class ByColumn:
    """A multiplier per value of a holdings column (e.g. sector), ``default`` for values not listed."""

    column: str
    values: Mapping
    default: float = 1.0


def by_column(column: str, values: Mapping, default: float = 1.0) -> ByColumn:
    """Multipliers by the value of a holdings column, e.g. ``by_column("sector", {"Energy": 0.5})``.

    Parameters
    ----------
    column : str
        A column of the holdings (e.g. "sector").
    values : Mapping
        Multiplier (> 0) by value of the column.
    default : float
        Multiplier of names whose value is not listed.

    Returns
    -------
    ByColumn
        A multiplier for :class:`Scenario`'s ``adv``, ``volatility`` or ``price``.

    Examples
    --------
    >>> Scenario("energy dries up", adv=by_column("sector", {"Energy": 0.5})).adv.values
    {'Energy': 0.5}
    """
    return ByColumn(column, dict(values), float(default))


Multiplier = float | Mapping | ByColumn


@dataclass(frozen=True)
class Scenario:
    """Market conditions to liquidate under.

    Money targets (cash, value bounds) stay in USD.

    Parameters
    ----------
    name : str
        The scenario's name (a row label of :func:`~krg_liquidity.stress_test`).
    adv, volatility, price : float, dict or ByColumn
        Multipliers (> 0): a number (global), a dict by symbol (names not listed keep 1), or
        :func:`by_column`.
    params : IStarParams, optional
        Another I-Star set (None: the base model's).
    trade_time : float, optional
        One trade time (days) for every name (None: each name keeps its own).
    pov : float, optional
        One participation rate (fraction of market volume) for every name; not with ``trade_time``.
    description : str
        Words for reports.

    Raises
    ------
    InputError
        Both ``trade_time`` and ``pov``, a value out of range, a multiplier that is not positive, or
        ``params`` not an ``IStarParams``.

    Examples
    --------
    >>> Scenario("volume halved", adv=0.5).name
    'volume halved'
    """

    name: str
    adv: Multiplier = 1.0
    volatility: Multiplier = 1.0
    price: Multiplier = 1.0
    params: IStarParams | None = None
    trade_time: float | None = None
    pov: float | None = None
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.trade_time is not None and self.pov is not None:
            raise InputError(f"scenario {self.name!r}: give trade_time or pov, not both")
        if self.trade_time is not None and not (np.isfinite(self.trade_time) and self.trade_time > 0):
            raise InputError(f"scenario {self.name!r}: trade_time={self.trade_time} must be > 0 days")
        if self.pov is not None and not 0 < self.pov <= 1:
            raise InputError(f"scenario {self.name!r}: pov={self.pov} must be a decimal in (0, 1], e.g. 0.1")
        for what in ("adv", "volatility", "price"):  # checked here, like pov, before any book is solved
            _check_multiplier(self.name, what, getattr(self, what))
        if self.params is not None and not isinstance(self.params, IStarParams):
            raise InputError(f"scenario {self.name!r}: params must be an IStarParams (see select_parameters)")

    @classmethod
    def from_parameters(cls, table: pd.DataFrame, code: int, date: str | pd.Timestamp | None,
                        name: str | None = None) -> Scenario:
        """The scenario of one row of an I-Star parameter table (code, date): MATLAB's per-date set.

        Parameters
        ----------
        table : pandas.DataFrame
            A parameter table (see :func:`~krg_liquidity.read_parameter_table`).
        code : int
            The market-impact code.
        date : str or pandas.Timestamp
            The set with the latest date on or before this one.
        name : str, optional
            The scenario's name (default: "code C, DATE").

        Returns
        -------
        Scenario
            A scenario that changes only the I-Star parameters.

        Raises
        ------
        ParameterLookupError
            No set has this code (dated on or before ``date``).

        Examples
        --------
        >>> from krg_liquidity import read_parameter_table
        >>> from krg_liquidity.book.datasets import data_path
        >>> Scenario.from_parameters(read_parameter_table(data_path("mi_parameters.csv")), 1, "2020-01-01").name
        'code 1, 2013-01-01'
        """
        params = select_parameters(table, code, date)
        return cls(name or f"code {params.code}, {params.date}", params=params)

    def multipliers(self, portfolio: Portfolio, what: str) -> np.ndarray:
        """The scenario's multiplier of ``what`` ("adv", "volatility" or "price") for each name.

        Parameters
        ----------
        portfolio : Portfolio
            The book whose names are multiplied.
        what : str
            "adv", "volatility" or "price".

        Returns
        -------
        numpy.ndarray
            One multiplier per held name, in the holdings' order.

        Raises
        ------
        InputError
            A multiplier names symbols or a column the book does not have, or is not positive.

        Examples
        --------
        >>> from krg_liquidity import Portfolio, load_example
        >>> book = Portfolio(*load_example())
        >>> Scenario("one name", price={book.symbols[0]: 0.9}).multipliers(book, "price")[:2].tolist()
        [0.9, 1.0]
        """
        return _per_name(getattr(self, what), portfolio, f"scenario {self.name!r}, {what}")

    def apply(self, portfolio: Portfolio, cost_model: CostModel | None = None) -> tuple[Portfolio, CostModel]:
        """The scenario's book and cost model.

        The book is derived without re-reading: positive multipliers of validated columns keep every
        check but the units thresholds.

        Parameters
        ----------
        portfolio : Portfolio
            Today's book.
        cost_model : CostModel, optional
            The base I-Star model (None: Kissell 2013 parameters), replaced by ``params`` when given.

        Returns
        -------
        tuple of (Portfolio, CostModel)
            The book under the scenario and its cost model.

        Raises
        ------
        InputError
            A multiplier names symbols or a column the book does not have, or is not positive.

        Examples
        --------
        >>> from krg_liquidity import Portfolio, load_example
        >>> book = Portfolio(*load_example())
        >>> stressed, model = Scenario("volume halved", adv=0.5).apply(book)
        >>> float(stressed.array("adv")[0] / book.array("adv")[0])
        0.5
        """
        model = cost_model or CostModel()
        if self.params is not None:
            model = CostModel(self.params, model.trading_days)
        m_adv, m_vol, m_price = (self.multipliers(portfolio, what) for what in ("adv", "volatility", "price"))
        h = portfolio.holdings.copy()
        h["adv"] = h["adv"].to_numpy(dtype=float) * m_adv
        h["volatility"] = h["volatility"].to_numpy(dtype=float) * m_vol
        h["price"] = h["price"].to_numpy(dtype=float) * m_price
        h = h.drop(columns=[c for c in ("size", "value") if c in h])  # no longer shares/ADV, shares x price
        if self.trade_time is not None or self.pov is not None:
            h = h.drop(columns=[c for c in ("trade_time", "pov") if c in h])
            h["trade_time" if self.trade_time is not None else "pov"] = (
                self.trade_time if self.trade_time is not None else self.pov)
        if not np.any(m_vol != 1.0) or not portfolio.has_risk_model:
            return derived(portfolio, h, portfolio.covariance, portfolio.factor_model), model
        book = derived(portfolio, h, *_scaled_risk(portfolio, m_vol))
        # C' = D C D: the base operator's columns times m (G'G = C gives (GD)'(GD) = DCD), no refactoring
        base = portfolio.risk()
        book.__dict__["_risk_operator"] = RiskOperator(base.top * m_vol[None, :],
                                                       None if base.diag is None else base.diag * m_vol)
        return book, model


def derived(portfolio: Portfolio, holdings: pd.DataFrame, covariance: pd.DataFrame | None = None,
            factor_model: FactorModel | None = None) -> Portfolio:
    """A Portfolio from a validated one's columns changed by the caller (no re-validation)."""
    book = object.__new__(Portfolio)
    object.__setattr__(book, "holdings", holdings.reset_index(drop=True))
    object.__setattr__(book, "covariance", covariance)
    object.__setattr__(book, "factor_model", factor_model)
    object.__setattr__(book, "warnings", portfolio.warnings)
    return book


def _per_name(value, portfolio: Portfolio, what: str) -> np.ndarray:
    symbols = portfolio.holdings["symbol"].astype(str)
    if isinstance(value, ByColumn):
        if value.column not in portfolio.holdings:
            raise InputError(f"{what}: the holdings have no column {value.column!r}; add it (e.g. a sector per "
                             f"symbol) or give the multipliers by symbol")
        if value.column == "symbol":
            unknown = sorted(set(map(str, value.values)) - set(symbols))
            if unknown:
                raise InputError(f"{what}: symbols not in the book: {', '.join(unknown[:8])}; fix the symbols")
        out = portfolio.holdings[value.column].map(dict(value.values)).astype(float).fillna(value.default).to_numpy()
    elif isinstance(value, Mapping):
        unknown = sorted(set(map(str, value)) - set(symbols))
        if unknown:
            raise InputError(f"{what}: symbols not in the book: {', '.join(unknown[:8])}; fix the symbols")
        out = symbols.map({str(k): float(v) for k, v in value.items()}).astype(float).fillna(1.0).to_numpy()
    else:
        try:
            out = np.full(len(symbols), float(value))
        except (TypeError, ValueError):
            raise InputError(f"{what}={value!r}: give a number, a dict by symbol or by_column(...)") from None
    bad = ~(np.isfinite(out) & (out > 0))
    if bad.any():
        raise InputError(f"{what}: multipliers must be positive numbers (bad for {', '.join(symbols[bad][:8])})")
    return out


def _check_multiplier(name: str, what: str, value) -> None:
    """Every number in a multiplier (a number, a dict's values, by_column's values and default) > 0."""
    if isinstance(value, ByColumn):
        numbers = {**dict(value.values), "(default)": value.default}
    elif isinstance(value, Mapping):
        numbers = dict(value)
    else:
        numbers = {"": value}
    for key, number in numbers.items():
        try:
            ok = np.isfinite(float(number)) and float(number) > 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            where = f" for {key}" if key else ""
            raise InputError(f"scenario {name!r}: {what}={number!r}{where} must be a positive multiplier "
                             f"(0.5 halves it, 2 doubles it)")


def _scaled_risk(portfolio: Portfolio, m_vol: np.ndarray):
    """The risk model with each held name's volatility times its multiplier."""
    scale = pd.Series(m_vol, index=portfolio.holdings["symbol"].astype(str).to_numpy())
    if portfolio.covariance is not None:
        cov = portfolio.covariance
        s = scale.reindex(cov.index).fillna(1.0).to_numpy()
        return pd.DataFrame(cov.to_numpy() * np.outer(s, s), index=cov.index, columns=cov.columns), None
    model = portfolio.factor_model
    if model is None:
        return None, None
    by_name = scale.reindex(model.exposures.index).fillna(1.0)
    scaled = object.__new__(FactorModel)  # a validated model times positive numbers: valid, not re-checked
    object.__setattr__(scaled, "exposures", model.exposures.mul(by_name, axis=0))
    object.__setattr__(scaled, "factor_covariance", model.factor_covariance)
    object.__setattr__(scaled, "specific_variance",
                       model.specific_variance * by_name.reindex(model.specific_variance.index) ** 2)
    return None, scaled


BUILT_IN = (
    Scenario("base", description="today's ADV, volatility and prices"),
    Scenario("volume halved", adv=0.5, description="ADV x 0.5 (illustration)"),
    Scenario("volatility doubled", volatility=2.0, description="volatility x 2 (illustration)"),
    Scenario("2008-like", adv=0.5, volatility=2.5,
             description="ADV x 0.5 and volatility x 2.5: round multipliers, an illustration, not history"),
)
"""The built-in scenarios: illustrations with round multipliers, not measured episodes."""


def built_in(name: str) -> Scenario:
    """A built-in scenario by name ("base", "volume halved", "volatility doubled", "2008-like")."""
    for scenario in BUILT_IN:
        if scenario.name == name:
            return scenario
    raise InputError(f"no built-in scenario {name!r}; choose one of {', '.join(s.name for s in BUILT_IN)}")


SCENARIO_COLUMNS = ("name", "adv", "volatility", "price", "trade_time", "pov", "a1", "a2", "a3", "a4", "a5", "b1",
                    "description", "symbol", "column", "value")
_MULTIPLIERS = ("adv", "volatility", "price")


def scenarios_from_table(table: pd.DataFrame, base: CostModel | None = None) -> list[Scenario]:
    """Scenarios from a table: ``name`` and any of adv, volatility, price (multipliers), trade_time
    (days), pov (decimal), a1..a5, b1 (I-Star values; missing ones are the base model's), description.
    Empty cells mean "unchanged".

    A scenario may take several rows (same ``name``): the row without ``symbol`` or ``column`` holds
    its book-wide values (multipliers, strategy, parameters); rows with a ``symbol`` give that name's
    multipliers, rows with ``column`` and ``value`` those of the names whose holdings column has that
    value (e.g. column "sector", value "Energy"). One scenario uses symbol rows or one column, not both.

    >>> rows = pd.DataFrame({"name": ["thin", "thin"], "adv": [0.8, 0.5], "symbol": [None, "AAPL"]})
    >>> scenarios_from_table(rows)[0].adv
    ByColumn(column='symbol', values={'AAPL': 0.5}, default=0.8)
    """
    frame = table.rename(columns={c: str(c).strip().lower() for c in table.columns})
    if "name" not in frame:
        raise InputError(f"the scenario table needs a 'name' column (it has {', '.join(map(str, frame.columns))}); "
                         f"columns: {', '.join(SCENARIO_COLUMNS)}")
    unknown = [c for c in frame.columns if c not in SCENARIO_COLUMNS]
    if unknown:
        raise InputError(f"the scenario table has unknown columns {', '.join(unknown)}; "
                         f"use {', '.join(SCENARIO_COLUMNS)}")
    frame = frame.assign(name=frame["name"].astype(str).str.strip())
    records = [{k: v for k, v in row.items() if not pd.isna(v)} for row in frame.to_dict("records")]
    names = list(dict.fromkeys(r["name"] for r in records))
    scenarios, errors = [], []
    for name in names:  # every scenario is checked, then all the problems are reported together
        try:
            scenarios.append(_scenario(name, [r for r in records if r["name"] == name], (base or CostModel()).params))
        except InputError as exc:
            errors.append(str(exc))
    if len(errors) == 1:
        raise InputError(errors[0])
    if errors:
        raise InputError(f"the scenario table has {len(errors)} problems to fix:\n  - " + "\n  - ".join(errors))
    return scenarios


def _scenario(name: str, rows: list[dict], params: IStarParams) -> Scenario:
    whole = [r for r in rows if "symbol" not in r and "column" not in r]
    parts = [r for r in rows if "symbol" in r or "column" in r]
    if len(whole) > 1:
        raise InputError(f"scenario {name!r} has {len(whole)} book-wide rows (no symbol, no column); give one")
    given = whole[0] if whole else {}
    keys = {("symbol", "symbol") if "symbol" in r else ("column", str(r["column"])) for r in parts}
    if len(keys) > 1:
        raise InputError(f"scenario {name!r} mixes symbol rows and column rows (or several columns); "
                         "split it into scenarios, or use one holdings column")
    for r in parts:
        if "column" in r and "value" not in r:
            raise InputError(f"scenario {name!r}: a row with column {r['column']!r} needs a 'value' (e.g. Energy)")
    kind, column = next(iter(keys)) if keys else ("", "")
    multipliers = {}
    for what in _MULTIPLIERS:
        default = _cell(name, what, given.get(what, 1.0))
        per = {str(r["symbol"] if kind == "symbol" else r["value"]): _cell(name, what, r[what]) for r in parts
               if what in r}
        multipliers[what] = by_column(column, per, default) if per else default
    values = {k: _cell(name, k, given[k]) for k in ("a1", "a2", "a3", "a4", "a5", "b1") if k in given}
    scenario_params = replace(params, **values, code=None, date=None, source=f"scenario {name}") if values else None
    return Scenario(name, **multipliers, params=scenario_params, trade_time=_maybe(name, "trade_time", given),
                    pov=_maybe(name, "pov", given), description=str(given.get("description", "")))


def _cell(name: str, what: str, value: object) -> float:
    """A number of a scenario table's cell (text as a book reads it: "20%" is 0.2); else InputError."""
    number = parse_number(value)
    if np.isnan(number):
        raise InputError(f"scenario {name!r}: {what}={value!r} is not a number; give a number (adv, volatility, "
                         "price: multipliers, 0.5 halves it; trade_time: days; pov: decimal; a1..b1: I-Star values)")
    return number


def _maybe(name: str, what: str, given: dict) -> float | None:
    return _cell(name, what, given[what]) if what in given else None
