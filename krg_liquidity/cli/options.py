"""Options several commands share (liquidate, report, stress, pretrade): declared once, same help.

Numbers are taken the way a PM types them, as ``--cash`` is: a fraction as ``0.2`` or ``20%``
(:func:`fraction`), a risk ratio as ``1.1`` or ``110%`` (:func:`ratio`), basis points as ``50``,
``50bps``, ``50 bps`` or ``0.5%`` (:func:`bps`); thousands separators as a spreadsheet writes them
(:func:`krg_liquidity.core.numbers.parse_number`). Anything else is refused naming the option.
"""

import math
from pathlib import Path
from typing import Any, Optional  # noqa: F401  (the commands annotate with Optional)

import typer

from krg_liquidity.book.portfolio import Portfolio
from krg_liquidity.core.errors import InputError
from krg_liquidity.core.numbers import parse_bps, parse_number, parse_ratio
from krg_liquidity.model.tax import TaxRates
from krg_liquidity.solve.limits import SMALLEST_TOTAL_IMPACT_BPS, Limits, percent_hint, small_cap_message


def _checked(value: float, written: object, example: str, what: str) -> float:
    """``value`` when finite, else a usage error quoting what the user typed and giving an example."""
    if math.isnan(value) or math.isinf(value):
        raise typer.BadParameter(f"{str(written)[:40]!r} is not {what}; give e.g. {example}")
    return value


def fraction(text: object) -> float:
    """A participation or share given as a decimal or a percent: "0.2" or "20%" is 0.2.

    >>> fraction("20%"), fraction("0.1")
    (0.2, 0.1)
    """
    return _checked(parse_number(text), text, "0.2 or 20%", "a fraction (a decimal or a percent)")


def ratio(text: object) -> float:
    """A multiple of today's risk: "0.9", "0.9x" or "90%" is 0.9.

    >>> ratio("90%"), ratio("1.1x")
    (0.9, 1.1)
    """
    return _checked(parse_ratio(text), text, "0.9, 0.9x or 90%", "a multiple of today's risk")


def bps(text: object) -> float:
    """Basis points: "50", "50bps", "50 bps" or "0.5%" is 50.

    >>> bps("50bps"), bps("50 bps"), bps("0.5%"), bps("12.5")
    (50.0, 50.0, 50.0, 12.5)
    """
    return _checked(parse_bps(text), text, "50, 50bps or 0.5%", "a number of basis points")

def check_limits(risk_band: tuple[float, float] | None, time_limit: float,
                 max_total_mi_bps: float | None = None, allow_buys: bool = False, *,
                 group_column: str | None = None, max_group_weight_change: float | None = None,
                 max_tracking_error: float | None = None, min_liquid_fraction: str | None = None,
                 max_total_cost_bps: float | None = None, max_pct_adv: float | None = None,
                 max_weight_change: float | None = None, max_sold_fraction: float | None = None) -> Limits:
    """The request's options in the command line's own words (the library's messages name Python
    arguments): ``--risk-band LO HI`` needs 0 <= LO <= HI, ``--time-limit`` a positive number of seconds,
    ``--max-total-mi-bps`` at least ``SMALLEST_TOTAL_IMPACT_BPS`` (a smaller one is a percent or a fraction
    typed as bps: "did you mean 50 bps?"), ``--max-tracking-error`` a fraction below 1 ("did you mean 0.01?"),
    ``--min-liquid-fraction F,D`` a fraction and a number of days, ``--max-group-weight-change``,
    ``--max-pct-adv``, ``--max-weight-change`` and ``--max-sold-fraction`` fractions (all their problems at once). Returns the request's :class:`Limits`; raises ``InputError``, so
    that ``--json`` still answers with a bad_input object."""
    if max_total_mi_bps is not None and 0 < max_total_mi_bps < SMALLEST_TOTAL_IMPACT_BPS:
        raise InputError("--max-total-mi-bps " + small_cap_message(max_total_mi_bps).split("=", 1)[1])
    if risk_band is not None and not (0 <= risk_band[0] <= risk_band[1]):
        raise InputError(f"--risk-band {risk_band[0]:g} {risk_band[1]:g}: LO and HI need 0 <= LO <= HI, e.g. "
                         "--risk-band 0.9 1.1")
    if not (time_limit > 0 and math.isfinite(time_limit)):
        raise InputError(f"--time-limit {time_limit:g}: give a positive number of seconds, e.g. --time-limit 30")
    problems = []
    if max_tracking_error is not None and not 0 < max_tracking_error < 1:
        hint = f"; did you mean {max_tracking_error / 100:g}?" if max_tracking_error >= 1 else ""
        problems.append(f"--max-tracking-error {max_tracking_error:g}: give the annualized tracking error as a "
                        f"fraction between 0 and 1 (0.01 = 1% a year){hint}")
    if max_group_weight_change is not None and not 0 <= max_group_weight_change <= 1:
        hint = f"; did you mean {max_group_weight_change / 100:g}?" if max_group_weight_change > 1 else ""
        problems.append(f"--max-group-weight-change {max_group_weight_change:g}: give a fraction of weight between "
                        f"0 and 1 (0.02 = 2 points){hint}")
    for flag, value, zero_allowed, example in (("--max-pct-adv", max_pct_adv, False, "0.1 = 10% of ADV"),
                                               ("--max-weight-change", max_weight_change, True, "0.02 = 2 points"),
                                               ("--max-sold-fraction", max_sold_fraction, True, "0.5 = half")):
        if value is not None and not (0 < value <= 1 or (zero_allowed and value == 0)):
            hint = percent_hint(value)
            problems.append(f"{flag} {value:g}: give a fraction {'between 0 and 1' if zero_allowed else 'above 0 and at most 1'}"
                            f" ({example}){hint}")
    liquid = None
    if min_liquid_fraction is not None:
        parts = str(min_liquid_fraction).replace(";", ",").split(",")
        try:
            fraction, days = (float(p) for p in parts)
        except ValueError:
            problems.append(f"--min-liquid-fraction {min_liquid_fraction}: give F,D (a fraction and days), e.g. "
                            "--min-liquid-fraction 0.5,5")
        else:
            if not (0 <= fraction <= 1 and math.isfinite(days) and days > 0):
                problems.append(f"--min-liquid-fraction {min_liquid_fraction}: F must be between 0 and 1 and D a "
                                "positive number of days, e.g. 0.5,5")
            liquid = (fraction, days)
    if problems:
        raise InputError("; ".join(problems))
    group_limits = None if max_group_weight_change is None else {"max_weight_change": max_group_weight_change}
    return Limits(risk_band=risk_band, max_total_mi_bps=max_total_mi_bps, allow_buys=allow_buys,
                  group_column=group_column, group_limits=group_limits, max_tracking_error=max_tracking_error,
                  min_liquid_fraction=liquid, max_total_cost_bps=max_total_cost_bps, max_pct_adv=max_pct_adv,
                  max_weight_change=max_weight_change, max_sold_fraction=max_sold_fraction)


PARAMETERS_HELP = "I-Star parameter table (CSV/.xlsx/Parquet: code,date,a1..a5,b1,source)."
MI_CODE_HELP = "Market-impact code to pick from --parameters (default 1; needs --parameters)."
MI_DATE_HELP = "Use the latest --parameters set dated on or before this day (needs --parameters)."
TRADE_TIME_HELP = "Default trade time in days for names with neither trade_time nor pov."
POV_HELP = "Default POV (0.1 or 10%) for names with neither trade_time nor pov."


def risk_band() -> Any:
    return typer.Option(None, metavar="LO HI", parser=ratio,
                        help="Post-trade risk between LO and HI x today's risk (two numbers, a space between), "
                             "e.g. --risk-band 0.9 1.1 or 90% 110%.")


def max_total_mi_bps() -> Any:
    return typer.Option(None, parser=bps, metavar="BPS",
                        help="Total impact cost at most this many bps of the cash (50, 50bps or 0.5%).")


def allow_buys() -> Any:
    return typer.Option(False, help="Allow trades that add to or flip positions (buying more of a long, or "
                                    "selling more of a short: that raises cash too).")


def parameters() -> Any:
    return typer.Option(None, help=PARAMETERS_HELP)


def mi_code() -> Any:
    return typer.Option(None, help=MI_CODE_HELP)


def mi_date() -> Any:
    return typer.Option(None, help=MI_DATE_HELP)


def trade_time() -> Any:
    return typer.Option(None, "--trade-time", help=TRADE_TIME_HELP)


def pov() -> Any:
    return typer.Option(None, "--pov", parser=fraction, metavar="POV", help=POV_HELP)


def factor_model() -> Any:
    return typer.Option(None, help="Factor model: an .xlsx with sheets exposures, factor_covariance, "
                                   "specific_variance; or the exposures file (with the two options below).")


def factor_covariance() -> Any:
    return typer.Option(None, help="Factor covariance file (annualized; with --factor-model EXPOSURES).")


def specific_variance() -> Any:
    return typer.Option(None, help="Specific variance (or specific_volatility) per symbol (annualized; with "
                                   "--factor-model).")


def cash() -> Any:
    return typer.Option(..., help="Cash to raise: USD (1e9, 1,000,000,000 or $1e9), a shorthand (250m, 1.5bn, 750k; "
                                  "k, m or mm, b or bn) or a percent of the book's net value (10%).")


def allow_small_cash() -> Any:
    return typer.Option(False, "--allow-small-cash", help="Accept a --cash below $1,000 on a book worth millions, or "
                                                          "below one millionth of its net value (refused otherwise: "
                                                          "0.142 is most often 14.2%).")


def cash_target(text: str, portfolio: Portfolio, allow_small_cash: bool = False) -> float:
    """The cash target in USD from --cash, read by :func:`krg_liquidity.core.cash.cash_usd` (dollars, shorthands
    or a percent of the book's net value; a small target refused unless ``allow_small_cash``)."""
    from krg_liquidity.core.cash import cash_usd

    return cash_usd(text, portfolio.net_value_usd, allow_small_cash=allow_small_cash, name="--cash",
                    allow="pass --allow-small-cash")


def group_column() -> Any:
    return typer.Option(None, help="Holdings column naming each name's group (default: the first of group, sector, "
                                   "industry, country, GICS Sector).")


def _fraction_option(help_text: str) -> Any:
    """An optional fraction typed as 0.02 or 2% (``fraction``)."""
    return typer.Option(None, parser=fraction, metavar="FRACTION", help=help_text)


def max_group_weight_change() -> Any:
    return _fraction_option("Each group's post-trade weight within this of today's (0.02 = +/-2 points).")


def max_pct_adv() -> Any:
    return _fraction_option("Each name trades at most this fraction of its ADV (0.1 or 10%), where the holdings give no "
                            "ub_max_pct_adv.")


def max_weight_change() -> Any:
    return _fraction_option("Each name's post-trade weight within this of today's (0.02 or 2% = +/-2 points), where "
                            "the holdings give no lb_wt / ub_wt.")


def max_sold_fraction() -> Any:
    return _fraction_option("Sell at most this fraction of each position (0.5 or 50%), where the holdings give no "
                            "lb_min_shares (a short: no ub_max_shares).")


def max_tracking_error() -> Any:
    return _fraction_option("Annualized tracking error of the post-trade weights against today's at most this "
                            "(0.01 or 1%); needs a risk model.")


def min_liquid_fraction() -> Any:
    return typer.Option(None, metavar="F,D", help="At least the fraction F of the post-trade value sellable within D "
                                                  "days at the names' POV (their pov, else 20%), e.g. 0.5,5.")


def max_total_cost_bps() -> Any:
    return typer.Option(None, parser=bps, metavar="BPS", help="All-in trading cost (impact, half-spread, commission, "
                                                              "fees) at most this many bps of the cash.")


def fee_bps() -> Any:
    return typer.Option(0.0, help="Sell-side fees in bps of the proceeds for the names without a 'fee_bps' column "
                                  "value (spread and commission come from the book's columns).")


def lots() -> Any:
    return typer.Option(None, help="Tax lots (CSV/.xlsx/Parquet/JSON: symbol, shares, cost basis, date acquired, "
                                   "optional lot id): minimize trading cost + tax.")


def tax_short() -> Any:
    return typer.Option(None, parser=fraction, metavar="RATE",
                        help="Short-term capital-gains rate with --lots (0.37 or 37%).")


def tax_long() -> Any:
    return typer.Option(None, parser=fraction, metavar="RATE",
                        help="Long-term capital-gains rate with --lots (0.238 or 23.8%).")


def as_of() -> Any:
    return typer.Option(None, help="Sale date for the lots' holding periods (YYYY-MM-DD; default today).")


def tax_weight() -> Any:
    return typer.Option(1.0, help="Weight of a dollar of tax against a dollar of trading cost.")


def netting() -> Any:
    return typer.Option("none", help="Tax model with --lots: 'none' (each lot's gain or loss at its term's rate) or "
                                     "'us' (gains and losses net within and across terms; a net loss is carried "
                                     "forward, not credited).")


def unknown_basis() -> Any:
    return typer.Option("refuse", help="With --lots, positions whose lots list fewer shares than are held: 'refuse' "
                                       "(an error naming them) or 'zero' (the rest taken at zero basis, short-term; "
                                       "said on the result).")


def tax_request(fee: float, lot_file: Path | None, short: float | None, long: float | None, sale_date: str | None,
                model: str, weight: float, unknown: str = "refuse") -> dict[str, Any]:
    """The keywords of ``liquidate`` for the sell fee and, with --lots, the lots and the tax rates; errors name the
    options (--tax-short, --as-of, ...), not the Python keywords."""
    taxed: dict[str, Any] = {"fee_bps": fee}
    if lot_file is None and short is None and long is None:
        return taxed
    if lot_file is None or short is None or long is None:
        raise InputError("--lots, --tax-short and --tax-long go together: give all three (and --as-of)")
    try:
        rates = TaxRates(short_term=short, long_term=long, as_of=sale_date, netting=model, unknown_basis=unknown)
    except InputError as exc:
        words = str(exc)
        for keyword, flag in (("short_term", "--tax-short"), ("long_term", "--tax-long"), ("as_of", "--as-of"),
                              ("netting", "--netting"), ("unknown_basis", "--unknown-basis")):
            words = words.replace(f"{keyword}=", f"{flag} ")
        raise InputError(words) from None
    return taxed | {"lots": lot_file, "tax": rates, "tax_weight": weight}
