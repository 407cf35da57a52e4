"""``krg-liquidity schedule``: trade sizes into a POV schedule, or an optimal one (``--optimize``)."""

from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import typer

from ..io import read_covariance, read_table
from ..io.write import check_output, write_table, write_workbook
from ..optimal_schedule import optimize_basket_schedule
from ..profiles import load_volume_profile
from ..schedule import pov_schedule, start_date
from .app import app
from .common import console, report_failure
from .liquidate import _reraise_exit, _trades_sheet


@app.command("schedule")
def schedule_command(
    trades: Path = typer.Argument(..., help="Trades (CSV/.xlsx/Parquet): a liquidate output, or symbol, shares "
                                            "(signed) or shares_traded, adv, pov or trade_time."),
    output: Path = typer.Option(..., help="Write the schedule here (.csv, .xlsx, .parquet or .json); with --optimize "
                                          "an .xlsx also gets the 'names' and 'summary' sheets."),
    profile: Optional[Path] = typer.Option(None, help="Volume profile CSV (minute HH:MM, fraction); default: the US "
                                                      "model."),
    bucket_minutes: int = typer.Option(30, help="Bucket length in minutes (must divide the session)."),
    start: Optional[str] = typer.Option(None, help="First trading day, YYYY-MM-DD (default: today)."),
    optimize: bool = typer.Option(False, "--optimize", help="Optimal schedule (impact + λ x timing risk) instead of "
                                                            "POV; the trades need price and volatility."),
    risk_aversion: float = typer.Option(1.0, help="With --optimize: λ, dollars of expected cost per dollar of "
                                                  "timing risk."),
    periods: int = typer.Option(26, help="With --optimize: buckets in the horizon (26 = two days of 30 minutes)."),
    covariance: Optional[Path] = typer.Option(None, help="With --optimize: covariance file (annualized); default: "
                                                         "uncorrelated."),
    max_pov: Optional[float] = typer.Option(None, help="With --optimize: most participation per bucket, e.g. 0.2."),
) -> None:
    """Turn trade sizes into a schedule: shares per name per bucket per day (POV, or optimal with --optimize)."""
    solution = None
    try:
        check_output(output)
        table = read_table(trades, sheet=_trades_sheet(trades), what="trades")
        shape = load_volume_profile(profile) if profile is not None else None
        if optimize:
            cov = read_covariance(covariance) if covariance is not None else None
            solution = optimize_basket_schedule(table, covariance=cov, profile=shape, periods=periods,
                                                risk_aversion=risk_aversion, bucket_minutes=bucket_minutes,
                                                start=start, max_pov=max_pov)
            plan = solution.schedule
        else:
            plan = pov_schedule(table, profile=shape, bucket_minutes=bucket_minutes, start=start)
        if solution is not None and output.suffix.lower() == ".xlsx":
            write_workbook({"schedule": plan, "names": solution.names, "summary": solution.summary_frame()}, output)
        else:
            write_table(plan, output, sheet="schedule")
    except Exception as exc:
        _reraise_exit(exc)
        report_failure(exc, json_output=False)
    if solution is not None:
        console.print(solution.summary(), highlight=False, markup=False)
    days = int(plan["day"].max()) if len(plan) else 0
    totals = plan.groupby("symbol", observed=True)["shares"].sum()
    sells, buys = int((totals < 0).sum()), int((totals > 0).sum())
    console.print(f"{plan['symbol'].nunique()} name(s) ({sells} sell, {buys} buy), {len(plan):,} rows (name x bucket "
                  f"with a trade) over {days} day(s) -> {output}", highlight=False)
    if start is not None and len(plan) and not np.is_busday(start_date(start)):
        first = pd.Timestamp(plan["bucket_start"].min()).date()
        console.print(f"Note: {start} is not a business day; the schedule starts on {first:%A %Y-%m-%d}.",
                      highlight=False, markup=False)
    if buys and not sells and "shares_traded" not in [str(c).strip().lower() for c in table.columns]:
        console.print("Note: every order is a buy (positive shares). Sales are negative shares; if this file is "
                      "a book of holdings, run `krg-liquidity liquidate` first and schedule its trades.",
                      highlight=False, markup=False)
