"""``krg-liquidity app``: start the desk (a local web app) on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import os
import sys

import typer

from krg_liquidity.cli.app import app
from krg_liquidity.cli.common import fail


def streamlit_command(host: str, port: int, max_upload_mb: int) -> list[str]:
    """The Streamlit command line: headless, no usage statistics, no file watcher, no error details
    on the page, uploads capped (MB), static file serving off."""
    from krg_liquidity.desk import PAGE

    return [sys.executable, "-m", "streamlit", "run", str(PAGE),
            "--server.address", host, "--server.port", str(port), "--server.headless", "true",
            "--server.maxUploadSize", str(max_upload_mb), "--server.enableStaticServing", "false",
            "--server.fileWatcherType", "none", "--server.runOnSave", "false",
            "--browser.gatherUsageStats", "false", "--client.showErrorDetails", "false",
            "--client.toolbarMode", "minimal", "--global.developmentMode", "false"]


@app.command("app")
def start_app(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (127.0.0.1: this machine only; 0.0.0.0 "
                                               "opens it to the network)."),
    port: int = typer.Option(8501, help="Port to listen on."),
    max_upload_mb: int = typer.Option(20, min=1, help="Largest upload accepted, MB per file."),
    max_names: int = typer.Option(3000, min=1, help="Largest book accepted, names."),
    max_seconds: float = typer.Option(60.0, min=1.0, help="Most seconds a user may give one solve (the frontier "
                                                          "gets as much again)."),
) -> None:
    """Start the desk: upload a book (or use the bundled example), type the cash, read the trade list,
    the frontier and the schedule, download the report. Ctrl-C stops it."""
    try:
        import streamlit  # noqa: F401
    except ImportError:
        fail('the desk needs Streamlit: pip install "krg-liquidity[app]"')
    from krg_liquidity.desk.inputs import DeskLimits

    limits = DeskLimits(max_upload_mb=max_upload_mb, max_names=max_names, max_seconds=max_seconds)
    typer.echo(f"Desk on http://{host}:{port}  (Ctrl-C stops it)", err=True)
    sys.stdout.flush()
    command = streamlit_command(host, port, max_upload_mb)
    # The server replaces this process (no child left behind when it is stopped or killed).
    os.execve(command[0], command, {**os.environ, **limits.env()})
