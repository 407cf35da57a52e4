"""The book to liquidate: holdings, per-name limits and the risk model, validated once."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from krg_liquidity.book import columns as col
from krg_liquidity.book import units
from krg_liquidity.book.datasets import load_covariance
from krg_liquidity.book.holdings import BOUND_COLUMNS, check_holdings, fill_strategy
from krg_liquidity.book.risk import FactorModel, RiskOperator, risk_operator
from krg_liquidity.core.errors import BookError, InputError, InvalidValueError, Problem, UnitsWarning
from krg_liquidity.core.numbers import parse_numbers

__all__ = ["BOUND_COLUMNS", "Portfolio"]


@dataclass(frozen=True, eq=False)
class Portfolio:
    """Holdings (one row per symbol) with an optional risk model.

    The risk model may cover more symbols than are held; it must cover every held one. Every
    problem is reported at once; the units rules are in :mod:`krg_liquidity.book.units`.

    Parameters
    ----------
    holdings : pandas.DataFrame
        One row per symbol. Columns (MATLAB TradeDataPortOpt names, snake_case or the aliases of
        :func:`krg_liquidity.book.columns.column_table`): symbol, shares (signed: negative = short),
        price (USD), adv (shares/day), volatility (annualized decimal; taken from the risk model
        when absent), and per name a trade time in days (``trade_time``) or a fixed ``pov``
        (fraction of market volume). Optional bounds (NaN = none): lb_wt/ub_wt (final weight),
        lb_min_shares/ub_max_shares (final shares), lb_min_value/ub_max_value (final value, USD),
        ub_max_pct_adv (traded shares as a fraction of ADV), ub_max_mi_bps (impact cap, bps;
        MATLAB's ``UB_MaxMI`` in decimal is converted).
    covariance : pandas.DataFrame, optional
        Annualized covariance of returns (decimal), indexed and labelled by symbol.
    factor_model : FactorModel, optional
        A factor risk model instead of ``covariance`` (not both).

    Attributes
    ----------
    warnings : tuple of str
        The units warnings found in the holdings (each also issued as a ``UnitsWarning``).

    Raises
    ------
    BookError
        Every problem of the holdings or the risk model, listed together (column, symbols, fix).
    InputError
        An argument of the wrong kind (e.g. a path instead of the holdings table), or both
        ``covariance`` and ``factor_model``.

    Examples
    --------
    >>> from krg_liquidity import load_example
    >>> holdings, covariance = load_example()
    >>> round(Portfolio(holdings, covariance).net_value_usd / 1e9, 3)
    10.0
    """

    holdings: pd.DataFrame
    covariance: pd.DataFrame | None = None
    factor_model: FactorModel | None = None
    warnings: tuple[str, ...] = field(default=(), init=False, compare=False)

    def __post_init__(self) -> None:
        _check_arguments(self.holdings, self.covariance, self.factor_model)
        if self.covariance is not None and self.factor_model is not None:
            raise InputError("give a covariance matrix or a factor model, not both")
        problems: list[Problem] = []
        model_symbols, model_vol = None, None
        if self.covariance is not None:
            cov = covariance_frame(self.covariance)
            problems += units.check_covariance(cov)
            if not problems:
                cov = cov.loc[cov.index, cov.index]
                object.__setattr__(self, "covariance", cov)
                model_symbols, model_vol = set(cov.index), units.covariance_volatility(cov)
        elif self.factor_model is not None:
            model_symbols, model_vol = set(self.factor_model.symbols), self.factor_model.volatility()
        if model_vol is not None:
            given = isinstance(self.holdings, pd.DataFrame) and any(
                col.canonical_name(c) == "volatility" for c in self.holdings.columns)
            problems += units.check_model_volatility(model_vol, given)
        try:
            frame, notes = check_holdings(self.holdings, model_vol, model_symbols)
        except BookError as exc:
            raise BookError(problems + exc.problems, table=col.column_table(required_only=True)) from None
        if problems:
            raise BookError(problems, what="the risk model")
        for note in notes:
            warnings.warn(note, UnitsWarning, stacklevel=3)
        object.__setattr__(self, "holdings", frame)
        object.__setattr__(self, "warnings", tuple(notes))

    @classmethod
    def from_files(cls, holdings: str | Path, covariance: str | Path | None = None,
                   factor_model: FactorModel | None = None, *, sheet: str | int | None = None,
                   trade_time_days: float | None = None, pov: float | None = None) -> Portfolio:
        """Read holdings (CSV, .xlsx sheet ``sheet``, or Parquet) and an optional covariance file.

        Parameters
        ----------
        holdings : str or Path
            The holdings file (columns as for :class:`Portfolio`).
        covariance : str or Path, optional
            A covariance file (annualized, decimal; first column the symbol, header the symbols).
        factor_model : FactorModel, optional
            A factor risk model instead (by keyword; see ``FactorModel.from_files``).
        sheet : str or int, optional
            The holdings' Excel sheet by name or position (default: the first).
        trade_time_days : float, optional
            A default trade time (days) for names that carry neither a trade time nor a POV.
        pov : float, optional
            A default POV (fraction of market volume) for those names instead.

        Returns
        -------
        Portfolio
            The validated book.

        Raises
        ------
        InputFileError
            A file cannot be read.
        InputError
            A FactorModel passed as ``covariance``, both defaults given, or any problem of the book
            (``BookError``, listing them all).

        Examples
        --------
        >>> import os, tempfile
        >>> from krg_liquidity import load_example
        >>> holdings, covariance = load_example()
        >>> folder = tempfile.mkdtemp()
        >>> holdings.to_csv(os.path.join(folder, "book.csv"), index=False)
        >>> covariance.to_csv(os.path.join(folder, "cov.csv"))
        >>> book = Portfolio.from_files(os.path.join(folder, "book.csv"), os.path.join(folder, "cov.csv"))
        >>> len(book.symbols), book.has_risk_model
        (28, True)
        """
        from krg_liquidity.book.read import read_table

        if isinstance(covariance, FactorModel):
            raise InvalidValueError("covariance", ["(all)"], "is a FactorModel (the second argument is the "
                                    "covariance file)", "pass a factor model by keyword: "
                                    "Portfolio.from_files(holdings, factor_model=model)")
        table = fill_strategy(read_table(holdings, sheet=sheet, what="holdings"), trade_time_days, pov)
        return cls(table, load_covariance(covariance) if covariance is not None else None, factor_model)

    @classmethod
    def from_csv(cls, holdings: str | Path, covariance: str | Path | None = None) -> Portfolio:
        """Read holdings and a covariance file (see :meth:`from_files`, which also reads .xlsx).

        Parameters
        ----------
        holdings : str or Path
            The holdings file.
        covariance : str or Path, optional
            A covariance file (annualized, decimal).

        Returns
        -------
        Portfolio
            The validated book.

        Raises
        ------
        InputFileError
            A file cannot be read.
        InputError
            Any problem of the book (as for :meth:`from_files`).
        """
        return cls.from_files(holdings, covariance)

    @property
    def extra_columns(self) -> list[str]:
        """The holdings columns krg_liquidity does not use (a PM's Name, Sector, ...), in the holdings' order:
        they are not read as data, and ride along to the result's trade table unchanged."""
        return [str(c) for c in self.holdings.columns if c not in col.CANONICAL]

    @property
    def symbols(self) -> list[str]:
        """The held symbols, in the holdings' order."""
        return self.holdings["symbol"].tolist()

    @property
    def has_risk_model(self) -> bool:
        """Whether a covariance or a factor model was given."""
        return self.covariance is not None or self.factor_model is not None

    def array(self, column: str) -> np.ndarray:
        """A holdings column as floats (a copy; read once per Portfolio: treat holdings as immutable).

        Parameters
        ----------
        column : str
            A column of ``holdings`` in its snake_case name ("shares", "price", "adv", ...).

        Returns
        -------
        numpy.ndarray
            One value per held name, in the holdings' order.

        Examples
        --------
        >>> from krg_liquidity import load_example
        >>> book = Portfolio(*load_example())
        >>> book.array("shares").shape
        (28,)
        """
        cached = self._arrays.get(column)
        if cached is None:
            cached = self._arrays[column] = self.holdings[column].to_numpy(dtype=float)
        return cached.copy()

    @cached_property
    def _arrays(self) -> dict[str, np.ndarray]:
        return {}

    @property
    def position_usd(self) -> np.ndarray:
        """Signed position values (USD)."""
        return self.array("shares") * self.array("price")

    @cached_property
    def net_value_usd(self) -> float:
        """Net value of the book (USD; shorts count negative)."""
        return float(self.position_usd.sum())

    @property
    def gross_value_usd(self) -> float:
        """Gross value of the book (USD; the sum of the absolute position values)."""
        return float(np.abs(self.position_usd).sum())

    def risk(self, seconds_left: Callable[[], float] | None = None) -> RiskOperator:
        """The risk operator over the held names (built once per Portfolio and kept).

        Parameters
        ----------
        seconds_left : callable, optional
            The caller's time left (seconds); building the operator from a full covariance raises
            ``SolverTimeout`` when what is left cannot cover it (see :func:`risk.risk_operator`).

        Returns
        -------
        RiskOperator
            ``top`` (rows x names) and ``diag`` (per name, or None): the names' annualized covariance is
        top' top + diag(diag^2).

        Raises
        ------
        InputError
            The portfolio has no risk model.
        SolverTimeout
            ``seconds_left`` cannot cover factoring the covariance.

        Examples
        --------
        >>> from krg_liquidity import load_example
        >>> book = Portfolio(*load_example())
        >>> type(book.risk()).__name__, book.risk_factored
        ('RiskOperator', True)
        """
        if not self.has_risk_model:
            raise InputError("this portfolio has no risk model; pass covariance= or factor_model= to use a risk band")
        if "_risk_operator" not in self.__dict__:
            source = self.__dict__.get("_risk_source")  # the book this one fills: same names, same model
            self.__dict__["_risk_operator"] = (source.risk(seconds_left) if source is not None else
                                               risk_operator(self.covariance, self.factor_model, self.symbols,
                                                             seconds_left))
        return self.__dict__["_risk_operator"]

    def with_defaults(self, values: Mapping[str, np.ndarray]) -> Portfolio:
        """The same book with ``values`` written into the bound cells it leaves blank (NaN or no column).

        A cell the holdings give keeps its value. The risk model is shared, not copied: once either
        book has factored it, the other reads the same operator.

        Parameters
        ----------
        values : mapping of str to numpy.ndarray
            Bound column (one of ``BOUND_COLUMNS``) to one value per held name, in the holdings' order
            (NaN: leave blank).

        Returns
        -------
        Portfolio
            The book with the blanks filled, validated again (a filled bound contradicting the other
            side raises ``BookError`` naming the column and the symbols).

        Examples
        --------
        >>> import numpy as np
        >>> from krg_liquidity import load_example
        >>> book = Portfolio(*load_example())
        >>> capped = book.with_defaults({"ub_max_pct_adv": np.full(len(book.symbols), 0.1)})
        >>> float(capped.array("ub_max_pct_adv").max())
        0.1
        """
        holdings = self.holdings.copy()
        n = len(holdings)
        for column, given in values.items():
            if column not in BOUND_COLUMNS:
                raise InputError(f"{column!r} is not a bound column; give one of {', '.join(BOUND_COLUMNS)}")
            given = np.asarray(given, dtype=float)
            if given.shape != (n,):
                raise InputError(f"{column}: {given.shape} values for {n} names; give one value per held name")
            own = holdings[column].to_numpy(dtype=float) if column in holdings else np.full(n, np.nan)
            holdings[column] = np.where(np.isnan(own), given, own)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnitsWarning)  # said when this book was built
            book = Portfolio(holdings, self.covariance, self.factor_model)
        book.__dict__["_risk_source"] = self.__dict__.get("_risk_source", self)
        return book

    @property
    def risk_factored(self) -> bool:
        """Whether the risk model is already factored for this Portfolio (``risk`` is then free)."""
        source = self.__dict__.get("_risk_source")
        return "_risk_operator" in self.__dict__ or (source is not None and source.risk_factored)


def _check_arguments(holdings: object, covariance: object, factor_model: object) -> None:
    """Refuse an argument of the wrong kind (most often one passed in another's place) before any reading,
    naming the parameter and the fix."""
    kind = f"a {type(holdings).__name__}" if holdings is not None else "None"
    if isinstance(holdings, (str, Path)):
        raise InvalidValueError("holdings", ["(all)"], f"is a path ({str(holdings)!r}), not a table",
                                f"read the file with Portfolio.from_files({str(holdings)!r})")
    if not isinstance(holdings, pd.DataFrame):
        raise InvalidValueError("holdings", ["(all)"], f"is {kind}, not a DataFrame",
                                "give the holdings table first: Portfolio(holdings, covariance) or "
                                "Portfolio(holdings, factor_model=model)")
    if isinstance(covariance, FactorModel):
        raise InvalidValueError("covariance", ["(all)"], "is a FactorModel (the second argument is the covariance "
                                "matrix)", "pass a factor model by keyword: Portfolio(holdings, factor_model=model)")
    if isinstance(covariance, (str, Path)):
        raise InvalidValueError("covariance", ["(all)"], f"is a path ({str(covariance)!r}), not a matrix",
                                "read the files with Portfolio.from_files(holdings_path, covariance_path), or "
                                "pass load_covariance(path)")
    if factor_model is not None and not isinstance(factor_model, FactorModel):
        hint = " (a covariance matrix goes in covariance=)" if isinstance(factor_model, (pd.DataFrame, np.ndarray)) else ""
        raise InvalidValueError("factor_model", ["(all)"], f"is a {type(factor_model).__name__}{hint}, not a "
                                "FactorModel", "build one with FactorModel(exposures, factor_covariance, "
                                "specific_variance), or pass the matrix as covariance=")


def require_portfolio(value: object) -> Portfolio:
    """``value`` if it is a :class:`Portfolio`; else an InputError naming the parameter and the fix."""
    if isinstance(value, Portfolio):
        return value
    hint = " (a holdings table)" if isinstance(value, pd.DataFrame) else ""
    raise InvalidValueError("portfolio", ["(all)"], f"is a {type(value).__name__}{hint}, not a Portfolio",
                            "build one: Portfolio(holdings, covariance) or Portfolio.from_files('book.csv')")


def covariance_frame(covariance: pd.DataFrame | np.ndarray) -> pd.DataFrame:
    """A covariance as a float DataFrame labelled by symbol (text cells become NaN, reported as missing)."""
    cov = pd.DataFrame(covariance)
    cov.index, cov.columns = cov.index.astype(str).str.strip(), cov.columns.astype(str).str.strip()
    text = list(cov.select_dtypes(exclude="number").columns)
    if not text:
        return cov.astype(float)
    cov = cov.copy()
    for column in text:
        cov[column] = parse_numbers(cov[column])
    return cov.astype(float)
