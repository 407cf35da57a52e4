"""``krg-liquidity posttrade`` (each execution's shortfall against its I-Star estimate) and
``krg-liquidity calibrate`` (fit the I-Star parameters to a desk's fills)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import typer

from krg_liquidity.cli import options
from krg_liquidity.cli.app import app
from krg_liquidity.cli.common import console, cost_model_from, print_frame, print_json, report_failure
from krg_liquidity.core.errors import InputError
from krg_liquidity.model.params import PARAMETER_COLUMNS
from krg_liquidity.posttrade.calibration import CalibrationWarning
from krg_liquidity.posttrade.calibration import calibrate as run_calibration
from krg_liquidity.posttrade.fills import fill_column_table, read_fills
from krg_liquidity.posttrade.report import POST_TRADE_SUFFIXES, write_post_trade
from krg_liquidity.posttrade.shortfall import post_trade
from krg_liquidity.report.write import check_output

FILLS_HELP = "Parent orders: CSV (comma, semicolon or tab), .xlsx, .parquet or .json (a list of records)."
FILL_COLUMNS_HELP = ("Fill columns (headers match case-, space- and punctuation-insensitively):\n\n\b\n"
                     + fill_column_table())
TABLE_FORMATS = {"value_usd": ",.0f", "total_usd": ",.0f", "mean_total_bps": ".2f", "mean_cost_bps": ".2f",
                 "mean_estimate_bps": ".2f", "mean_z": ".2f", "sd_z": ".2f"}


@app.command(epilog=FILL_COLUMNS_HELP)
def posttrade(
    fills: Path = typer.Argument(..., help=FILLS_HELP),
    sheet: Optional[str] = typer.Option(None, help="Sheet of an .xlsx fills file (default: the first)."),
    parameters: Optional[Path] = options.parameters(),
    mi_code: Optional[int] = options.mi_code(),
    mi_date: Optional[str] = options.mi_date(),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Set aside orders with unusable data (listed with the "
                                                            "reason) instead of refusing the file."),
    output: Optional[Path] = typer.Option(None, help="Write the analysis: .xlsx (a sheet per table), .html (tables "
                                                     "and figures), or .csv/.parquet/.json (the order table)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object on stdout (summary, every order, "
                                                           "the tables, orders set aside, notes), or the failure."),
) -> None:
    """Implementation shortfall of each order (delay, execution, opportunity, fees) against its I-Star estimate,
    the z-scores, and tables by broker, algorithm, size, POV and volatility."""
    try:
        if output is not None:
            check_output(output, "post-trade output", POST_TRADE_SUFFIXES)
        model = cost_model_from(parameters, mi_code, mi_date)
        result = post_trade(read_fills(fills, sheet=sheet, skip_bad=skip_bad), model)
        if output is not None:
            write_post_trade(result, output)
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:  # every failure is one clear message, never a traceback
        report_failure(exc, json_output)
    if json_output:
        print_json(result.to_dict())
        return
    summary = result.summary()
    console.print(summary.to_string(index=False), highlight=False, markup=False)
    for name, table in result.tables.items():
        print_frame(table, name.replace("_", " "), TABLE_FORMATS)
    for note in result.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    if len(result.skipped):
        print_frame(result.skipped, "orders set aside", {})
    if output is not None:
        console.print(f"wrote {output}", highlight=False, markup=False)


@app.command(epilog=FILL_COLUMNS_HELP)
def calibrate(
    fills: Path = typer.Argument(..., help=FILLS_HELP),
    output: Path = typer.Option(..., help="Parameter table to write (.csv, .xlsx or .parquet; columns "
                                          f"{','.join(PARAMETER_COLUMNS)}). An existing table keeps its other rows."),
    sheet: Optional[str] = typer.Option(None, help="Sheet of an .xlsx fills file (default: the first)."),
    parameters: Optional[Path] = typer.Option(None, help="Prior parameter table (the start of the fit and the value "
                                                         "of a parameter the fills cannot identify; default: Kissell "
                                                         "2013)."),
    prior_code: Optional[int] = typer.Option(None, help="Market-impact code of the prior in --parameters."),
    code: int = typer.Option(2, help="Market-impact code of the fitted set (pick it later with --mi-code)."),
    loss: str = typer.Option("huber", help="Loss on the z-score residuals: huber, soft_l1 or linear."),
    bootstrap: int = typer.Option(200, min=0, help="Bootstrap draws for the 95% intervals."),
    holdout: float = typer.Option(0.2, help="Share of the orders kept out to measure the error out of sample."),
    seed: int = typer.Option(0, help="Seed of the bootstrap and the held-out split."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Set aside orders with unusable data."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object on stdout (the parameters, their "
                                                           "table, the fit statistics, warnings), or the failure."),
) -> None:
    """Fit the I-Star parameters a1, a2, a3, a4, b1 to the execution costs of FILLS (bounded robust least squares
    weighted by timing risk) and write them as a parameter table every command reads with --parameters."""
    try:
        check_output(output, "parameter table", (".csv", ".xlsx", ".parquet"))
        if prior_code is not None and parameters is None:
            raise InputError("--prior-code picks the prior from a parameter table: give --parameters FILE")
        prior = cost_model_from(parameters, prior_code, None).params
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CalibrationWarning)
            fit = run_calibration(read_fills(fills, sheet=sheet, skip_bad=skip_bad), prior, loss=loss,
                                  bootstrap=bootstrap, holdout=holdout, seed=seed, code=code)
        fit.write(output)
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        report_failure(exc, json_output)
    if json_output:
        print_json(fit.to_dict() | {"output": str(output)})
        return
    print_frame(fit.table, "I-Star parameters fitted to the fills (95% bootstrap intervals)",
                {"estimate": ".4g", "prior": ".4g", "ci_low": ".4g", "ci_high": ".4g", "std_error": ".3g"})
    stats = fit.statistics
    console.print(f"{stats['orders_used']:,} orders used ({stats['orders_left_out']:,} left out); z-scores of the fit: "
                  f"mean {stats['z_mean']:.3f}, s.d. {stats['z_sd']:.3f} (prior: mean {stats['prior_z_mean']:.3f}, "
                  f"s.d. {stats['prior_z_sd']:.3f})", highlight=False, markup=False)
    if "heldout_orders" in stats:
        console.print(f"held out {stats['heldout_orders']:,} orders: z mean {stats['heldout_z_mean']:.3f}, s.d. "
                      f"{stats['heldout_z_sd']:.3f}; error {stats['heldout_rmse_bps']:.2f} bps RMS (prior "
                      f"{stats['heldout_prior_rmse_bps']:.2f} bps)", highlight=False, markup=False)
    for warning in caught:
        console.print(f"warning: {warning.message}", highlight=False, markup=False)
    console.print(f"wrote {output}: use it with --parameters {output} --mi-code {code}", highlight=False,
                  markup=False)
