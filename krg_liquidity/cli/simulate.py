"""``krg-liquidity simulate``: a schedule file played against simulated markets (cost and cash distributions)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.progress import Progress

from krg_liquidity.book.read import read_table
from krg_liquidity.cli import options
from krg_liquidity.cli.app import app
from krg_liquidity.cli.common import console, cost_model_from, report_failure, risk_model_from
from krg_liquidity.core.errors import InputError
from krg_liquidity.model.profiles import load_volume_profile
from krg_liquidity.report.write import check_output, write_table
from krg_liquidity.schedule.simulate import simulate


def milestones_from(values: Optional[list[str]]) -> dict:
    """"PERIOD:USD" texts as {period: usd}."""
    out = {}
    for text in values or []:
        period, sep, usd = str(text).partition(":")
        try:
            if not sep:
                raise ValueError
            out[int(period.strip())] = float(usd)
        except ValueError:
            raise InputError(f"--milestone {text!r}: give PERIOD:USD, e.g. 13:8e8") from None
    return out


@app.command("simulate")
def simulate_command(
    schedule: Path = typer.Argument(..., help="Schedule file (CSV/.xlsx/Parquet) as `krg-liquidity schedule` writes "
                                              "it: symbol, day, bucket_start, shares, expected_market_volume."),
    trades: Path = typer.Option(..., help="The orders (CSV/.xlsx/Parquet): symbol, adv, price, volatility (or a risk "
                                          "model), optional alpha_bp."),
    paths: int = typer.Option(10_000, help="Simulated markets."),
    seed: Optional[int] = typer.Option(None, help="Seed (the same seed gives the same numbers)."),
    volume_noise: float = typer.Option(0.3, help="Standard deviation of log volume per name and bucket (0: off)."),
    price_noise: bool = typer.Option(True, "--price-noise/--no-price-noise", help="Random price moves."),
    max_pov: Optional[float] = typer.Option(None, parser=options.fraction, metavar="POV",
                                            help="Most participation a bucket fills at its realized volume."),
    milestone: Optional[list[str]] = typer.Option(None, metavar="PERIOD:USD", help="Cash to raise by the end of "
                                                  "PERIOD, e.g. 13:8e8; the summary gives its probability. Repeat "
                                                  "for several."),
    bucket_minutes: int = typer.Option(30, help="The schedule's bucket length in minutes."),
    profile: Optional[Path] = typer.Option(None, help="Volume profile CSV (minute HH:MM, fraction); default: the US "
                                                      "model."),
    covariance: Optional[Path] = typer.Option(None, help="Covariance file (annualized); default: uncorrelated."),
    factor_model: Optional[Path] = options.factor_model(),
    factor_covariance: Optional[Path] = options.factor_covariance(),
    specific_variance: Optional[Path] = options.specific_variance(),
    parameters: Optional[Path] = options.parameters(),
    mi_code: Optional[int] = options.mi_code(),
    mi_date: Optional[str] = options.mi_date(),
    output: Optional[Path] = typer.Option(None, help="Write each path's shortfall and cash by period here "
                                                     "(.csv, .xlsx, .parquet or .json)."),
) -> None:
    """Play SCHEDULE against simulated markets: the distribution of its cost (mean, sd, VaR and CVaR) and the
    probability of raising each milestone's cash in time."""
    try:
        if output is not None:
            check_output(output)
        model = cost_model_from(parameters, mi_code, mi_date)
        cov, factors = risk_model_from(covariance, factor_model, factor_covariance, specific_variance)
        table = read_table(schedule, what="schedule")
        orders = read_table(trades, what="trades")
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("simulating", total=paths)
            result = simulate(table, orders, covariance=cov, factor_model=factors, paths=paths, seed=seed,
                              volume_noise=volume_noise, price_noise=price_noise, max_pov=max_pov,
                              milestones=milestones_from(milestone), bucket_minutes=bucket_minutes,
                              profile=load_volume_profile(profile) if profile is not None else None,
                              cost_model=model, progress=lambda done, total: bar.update(task, completed=done))
        if output is not None:
            frame = result.paths_frame()
            write_table(frame, output)
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # every failure is one clear message, never a traceback
        report_failure(exc, json_output=False)
    console.print(result.summary(), highlight=False, markup=False)
    if output is not None:
        console.print(f"wrote {output}", highlight=False, markup=False)
