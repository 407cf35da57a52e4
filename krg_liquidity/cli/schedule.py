"""``krg-liquidity schedule``: trade sizes into a POV schedule, or an optimal one (``--optimize``)."""

import datetime as dt
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import typer

from krg_liquidity.book import columns as col
from krg_liquidity.book.read import read_table
from krg_liquidity.cli import options
from krg_liquidity.cli.app import app
from krg_liquidity.cli.common import console, report_failure, reraise_exit, risk_model_from, trades_sheet
from krg_liquidity.core.errors import InputError
from krg_liquidity.core.plan import DEFAULT_TIME_LIMIT
from krg_liquidity.model.profiles import load_volume_profile, profile_buckets
from krg_liquidity.report.write import check_output, write_schedule, write_table
from krg_liquidity.schedule.optimal import optimize_basket_schedule
from krg_liquidity.schedule.pov_vwap import pov_schedule, schedule_grid, start_date


@app.command("schedule")
def schedule_command(
    trades: Path = typer.Argument(..., help="Trades (CSV/.xlsx/Parquet): a liquidate output, or symbol, shares "
                                            "(signed) or shares_traded, adv, pov or trade_time."),
    output: Path = typer.Option(..., help="Write the schedule here (.csv, .xlsx, .parquet or .json); an .xlsx also "
                                          "gets the 'grid' sheet (a row per bucket, a column per name) and with "
                                          "--optimize the 'names' and 'summary' sheets."),
    grid: Optional[Path] = typer.Option(None, help="Also write the trader's grid here (.csv, .xlsx, .parquet, .json): "
                                                   "one row per bucket, one column of shares per name."),
    profile: Optional[Path] = typer.Option(None, help="Volume profile CSV (minute HH:MM, fraction); default: the US "
                                                      "model."),
    bucket_minutes: int = typer.Option(30, help="Bucket length in minutes (must divide the session)."),
    start: Optional[str] = typer.Option(None, help="First trading day, YYYY-MM-DD (default: today's session, or "
                                                   "the next one when today's is over in New York)."),
    optimize: bool = typer.Option(False, "--optimize", help="Optimal schedule (impact + λ x timing risk) instead of "
                                                            "POV; the trades need price and volatility."),
    risk_aversion: float = typer.Option(1.0, help="With --optimize: λ, dollars of expected cost per dollar of "
                                                  "timing risk."),
    periods: int = typer.Option(26, help="With --optimize: buckets in the horizon (26 = two days of 30 minutes)."),
    covariance: Optional[Path] = typer.Option(None, help="With --optimize: covariance file (annualized); default: "
                                                         "uncorrelated."),
    factor_model: Optional[Path] = options.factor_model(),
    factor_covariance: Optional[Path] = options.factor_covariance(),
    specific_variance: Optional[Path] = options.specific_variance(),
    max_pov: Optional[float] = typer.Option(None, parser=options.fraction, metavar="POV",
                                            help="With --optimize: most participation per bucket, e.g. 0.2 or 20%."),
    cash_by_period: Optional[list[str]] = typer.Option(None, metavar="PERIOD:USD", help="With --optimize: at least "
                                                       "USD raised by the end of PERIOD (1-based bucket), e.g. "
                                                       "13:8e8; repeat for several."),
    confidence: Optional[float] = typer.Option(None, parser=options.fraction, metavar="PROBABILITY",
                                               help="With --optimize and --cash-by-period: meet every milestone with "
                                                    "this probability (Gaussian price moves), e.g. 0.95 or 95%."),
    cvar: Optional[tuple[float, float]] = typer.Option(
        None, parser=options.fraction, metavar="LEVEL WEIGHT",
        help="With --optimize: add WEIGHT x the cost's CVaR at LEVEL (Gaussian price moves) to the objective, e.g. "
             "--cvar 0.95 1 (with --risk-aversion 0 the objective is then the cost's 95% CVaR)."),
    engine: str = typer.Option("auto", help="With --optimize: auto, interior-point or conic (the solver of the "
                                            "schedule)."),
    horizon: Optional[list[str]] = typer.Option(None, metavar="SYMBOL:PERIOD", help="With --optimize: the last "
                                                "period SYMBOL may trade in, e.g. AAPL:13; repeat for several."),
    time_limit: float = typer.Option(DEFAULT_TIME_LIMIT, help="With --optimize: seconds for the solve."),
) -> None:
    """Turn trade sizes into a schedule: shares per name per bucket per day (POV, or optimal with --optimize)."""
    solution, rounded_note = None, ""
    try:
        check_output(output)
        if grid is not None:
            check_output(grid, "grid")
        table = read_table(trades, sheet=trades_sheet(trades), what="trades")
        shape = load_volume_profile(profile) if profile is not None else None
        session_note = ""
        if start is None:
            start, session_note = next_session(shape, bucket_minutes)
        if optimize:
            cov, factors = risk_model_from(covariance, factor_model, factor_covariance, specific_variance)
            solution = optimize_basket_schedule(table, covariance=cov, factor_model=factors, profile=shape,
                                                periods=periods, risk_aversion=risk_aversion,
                                                bucket_minutes=bucket_minutes, start=start, max_pov=max_pov,
                                                cash_by_period=_pairs(cash_by_period, "--cash-by-period", int),
                                                horizon=_pairs(horizon, "--horizon", str),
                                                time_limit=time_limit, confidence=confidence, cvar=cvar,
                                                engine=engine)
            plan = solution.schedule
        else:
            given = {"--covariance": covariance, "--factor-model": factor_model, "--max-pov": max_pov,
                     "--cash-by-period": cash_by_period, "--horizon": horizon, "--confidence": confidence,
                     "--cvar": cvar, "--engine": engine != "auto"}
            unused = [name for name, value in given.items() if value]
            if unused:
                verb = "applies" if len(unused) == 1 else "apply"
                raise InputError(f"{', '.join(unused)} {verb} only with --optimize; add --optimize, or drop "
                                 f"{'it' if len(unused) == 1 else 'them'}")
            plan = pov_schedule(table, profile=shape, bucket_minutes=bucket_minutes, start=start)
            rounded_note = rounding_note(table)
        write_schedule(plan, output, None if solution is None else {"names": solution.names,
                                                                    "summary": solution.summary_frame()})
        if grid is not None:
            write_table(schedule_grid(plan), grid, sheet="grid")
    except Exception as exc:
        reraise_exit(exc)
        report_failure(exc, json_output=False)
    if solution is not None:
        console.print(solution.summary(), highlight=False, markup=False, soft_wrap=True)
    days = int(plan["day"].max()) if len(plan) else 0
    totals = plan.groupby("symbol", observed=True)["shares"].sum()
    sells, buys = int((totals < 0).sum()), int((totals > 0).sum())
    console.print(f"{plan['symbol'].nunique()} name(s) ({sells} sell, {buys} buy), {len(plan):,} rows (name x bucket "
                  f"with a trade) over {days} day(s) -> {output}" + (f"; grid -> {grid}" if grid is not None else ""),
                  highlight=False)
    for note in (rounded_note, session_note):
        if note:
            console.print(note, highlight=False, markup=False)
    if not session_note and start is not None and len(plan) and not np.is_busday(start_date(start)):
        first = pd.Timestamp(plan["bucket_start"].min()).date()
        console.print(f"Note: {start} is not a business day; the schedule starts on {first:%A %Y-%m-%d}.",
                      highlight=False, markup=False)
    if buys and not sells and "shares_traded" not in [str(c).strip().lower() for c in table.columns]:
        console.print("Note: every order is a buy (positive shares). Sales are negative shares; if this file is "
                      "a book of holdings, run `krg-liquidity liquidate` first and schedule its trades.",
                      highlight=False, markup=False)


def rounding_note(trades: pd.DataFrame) -> str:
    """A note when some orders are fractional shares (the POV schedule trades whole shares: each order
    rounded to the nearest share), naming the first few; '' when every order is whole.

    >>> rounding_note(pd.DataFrame({"symbol": ["A", "B"], "shares_traded": [-100.4, -200.0], "adv": [1e5, 1e5],
    ...                             "pov": [0.1, 0.1]}))
    'Note: 1 order is fractional (A -100.4 shares); the schedule rounds each order to whole shares (A -100).'
    """
    frame = col.use_traded_shares(col.normalize_columns(trades))  # the columns the schedule read
    signed = col.numeric(frame, "shares")
    fractional = np.flatnonzero(np.abs(signed - np.round(signed)) > 1e-9)
    if not fractional.size:
        return ""
    symbols = frame["symbol"].astype(str).to_numpy()
    shown = fractional[:3]
    given = ", ".join(f"{symbols[i]} {signed[i]:,.10g}" for i in shown)
    whole = ", ".join(f"{symbols[i]} {np.round(signed[i]):,.0f}" for i in shown)
    more = f" and {fractional.size - shown.size} more" if fractional.size > shown.size else ""
    count = f"{fractional.size} order{' is' if fractional.size == 1 else 's are'}"
    return (f"Note: {count} fractional ({given} shares{more}); the schedule rounds each order to whole shares "
            f"({whole}).")


EXCHANGE_TIME = ZoneInfo("America/New_York")  # the bundled volume profile's session clock


def next_session(shape: pd.Series | None, bucket_minutes: int, now: dt.datetime | None = None) -> tuple[str, str]:
    """The first trading day of a schedule started ``now`` (default: the current time): today when its
    session (the volume profile's last bucket, New York time) is not over, else the next business day;
    and a note saying so when it is not today ('' otherwise).

    >>> when = dt.datetime(2026, 12, 4, 21, 30, tzinfo=dt.timezone.utc)  # a Friday, 16:30 in New York
    >>> next_session(None, 30, when)[0]
    '2026-12-07'
    """
    local = (now or dt.datetime.now(dt.timezone.utc)).astimezone(EXCHANGE_TIME)
    starts, _ = profile_buckets(shape if shape is not None else load_volume_profile(), bucket_minutes)
    close = int(starts[-1]) + bucket_minutes  # minutes after midnight
    today = np.datetime64(local.date(), "D")
    over = local.hour * 60 + local.minute >= close
    first = np.busday_offset(today, 1 if over and np.is_busday(today) else 0, roll="forward")
    if first == today:
        return str(first), ""
    why = (f"today's session is over ({local:%H:%M} New York time, close {close // 60:02d}:{close % 60:02d})" if over
           else "today is not a business day")
    day = pd.Timestamp(first).date()
    return str(first), f"Note: {why}; the schedule starts on the next session, {day:%A %Y-%m-%d} (--start to choose)."


def _pairs(values, option: str, key) -> dict | None:
    """"KEY:VALUE" texts as {key(KEY): float(VALUE)} (None when none were given)."""
    if not values:
        return None
    out = {}
    for text in values:
        left, sep, right = str(text).partition(":")
        try:
            if not sep:
                raise ValueError
            out[key(left.strip())] = float(right)
        except ValueError:
            raise InputError(f"{option} {text!r}: give KEY:VALUE, e.g. {'13:8e8' if key is int else 'AAPL:13'}") \
                from None
    return out
