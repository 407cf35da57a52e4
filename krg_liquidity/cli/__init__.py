"""Command line: ``krg-liquidity demo | pretrade | liquidate | schedule | simulate | batch | stress | profile | report | posttrade | calibrate | app``.

The CLI only reads files, calls the public API and prints; bad input exits with code 2 and a
message naming the column, the symbols and the fix (or one JSON object with ``--json``),
never a traceback. Statuses and exit codes: see :mod:`krg_liquidity.core.status`.
"""

from krg_liquidity.cli import app_command, batch, liquidate, posttrade, report, schedule, simulate, stress  # noqa: F401  (registers the commands)
from krg_liquidity.cli.app import app

__all__ = ["app"]
