"""Command line: ``krg-liquidity demo | pretrade | liquidate``.

The CLI only reads files, calls the public API and prints; bad input exits with code 2
and one line, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from .columns import normalize_columns
from .datasets import load_example
from .errors import InputError
from .impact import CostModel
from .params import KISSELL_2013_ALL_DATA, load_parameters

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Constrained portfolio liquidation at least market impact (I-Star model).")
console = Console()


@app.callback()
def main() -> None:
    """krg-liquidity: pick what to sell to raise cash at least market impact."""


def fail(message: str, code: int = 2) -> None:
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        fail(f"file not found: {path}")
    try:
        return pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # any reader error becomes one clear line
        fail(f"cannot read {path}: {exc}")


def cost_model_from(parameters: Optional[Path], mi_code: int, mi_date: Optional[str]) -> CostModel:
    if parameters is None:
        return CostModel(KISSELL_2013_ALL_DATA)
    return CostModel(load_parameters(parameters, code=mi_code, date=mi_date))


def pretrade_table(holdings: pd.DataFrame, model: CostModel) -> pd.DataFrame:
    """Impact, timing risk and liquidity factor of selling each whole position at its trade time."""
    orders = normalize_columns(holdings)
    if "shares" in orders:
        orders["shares"] = pd.to_numeric(orders["shares"], errors="coerce").abs()
    return pd.DataFrame({
        "symbol": orders["symbol"],
        "trade_time_days": model.trade_time(orders),
        "istar_bps": model.istar(orders),
        "market_impact_bps": model.market_impact(orders),
        "timing_risk_bps": model.timing_risk(orders),
        "liquidity_factor_bps": model.liquidity_factor(orders),
        "market_impact_usd": model.market_impact_usd(orders),
    })


def print_frame(frame: pd.DataFrame, title: str, formats: dict[str, str]) -> None:
    table = Table(title=title, show_lines=False)
    for column in frame.columns:
        table.add_column(column, justify="left" if frame[column].dtype == object else "right")
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row):
            fmt = formats.get(column)
            cells.append(format(value, fmt) if fmt and isinstance(value, (int, float)) else str(value))
        table.add_row(*cells)
    console.print(table)


@app.command()
def pretrade(
    holdings: Optional[Path] = typer.Argument(None, help="Holdings CSV/Parquet (default: the bundled example book)."),
    parameters: Optional[Path] = typer.Option(None, help="I-Star parameter table (CSV: code,date,a1..a5,b1,source)."),
    mi_code: int = typer.Option(1, help="Market-impact code to pick from the parameter table."),
    mi_date: Optional[str] = typer.Option(None, help="Use the latest parameters dated on or before this day."),
) -> None:
    """Pre-trade cost table: selling each whole position at its trade time."""
    book = load_example()[0] if holdings is None else read_table(holdings)
    try:
        table = pretrade_table(book, cost_model_from(parameters, mi_code, mi_date))
    except InputError as exc:
        fail(str(exc))
    print_frame(table, "Pre-trade costs (whole positions)", {
        "trade_time_days": ".2f", "istar_bps": ".2f", "market_impact_bps": ".2f",
        "timing_risk_bps": ".2f", "liquidity_factor_bps": ".4g", "market_impact_usd": ",.0f"})
    console.print(f"Total market impact: ${table['market_impact_usd'].sum():,.0f}")
