"""``python -m krg_liquidity`` runs the command line."""

from krg_liquidity.cli import app

app()
