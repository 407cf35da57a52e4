"""``python -m krg_liquidity`` runs the command line."""

from .cli import app

app()
