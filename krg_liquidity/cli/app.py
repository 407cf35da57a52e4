"""The Typer application every command registers with."""

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Constrained portfolio liquidation at least market impact (I-Star model).")


@app.callback()
def main() -> None:
    """krg-liquidity: pick what to sell to raise cash at least market impact."""
