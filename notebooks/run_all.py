"""Re-run every notebook here in place, keeping its outputs (tables and figures show where the repository
is browsed):

    python notebooks/run_all.py                      # every notebook
    python notebooks/run_all.py 02_trading_schedules.ipynb

Outputs that would change on every run without meaning anything are not stored: each answer's wall-clock
time in its summary (written "time not stored"), the cells' execution timestamps, and this machine's
paths (the checkout is written ".", the Python environment "<python>"). ``pytest --nbmake notebooks``
checks that the notebooks still run, whatever their stored outputs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TIMINGS = (
    (re.compile(r"(method\s+[\w+-]+), [\d.,]+ ms"), r"\1, time not stored"),  # a result's summary
    (re.compile(r"(method</th><td>[\w+-]+), [\d.,]+ ms"), r"\1, time not stored"),  # ... as HTML
    (re.compile(r"^(seconds\s+)[\d.]+$", re.M), r"\1time not stored"),  # a schedule's summary
)


def scrub(text: str) -> str:
    """The text with run-to-run timings and this machine's paths replaced."""
    for pattern, replacement in TIMINGS:
        text = pattern.sub(replacement, text)
    for path, name in ((sys.prefix, "<python>"), (sys.base_prefix, "<python>"), (str(ROOT), ".")):
        text = text.replace(path, name)
    return text


def _scrub_output(output: dict) -> None:
    if "text" in output:
        output["text"] = scrub(output["text"])
    for kind, value in output.get("data", {}).items():
        if kind.startswith("text/") and isinstance(value, str):
            output["data"][kind] = scrub(value)
    if output.get("output_type") == "error":
        output["traceback"] = [scrub(line) for line in output.get("traceback", [])]


def run(path: Path) -> None:
    """Execute one notebook from its own folder and write it back with its scrubbed outputs."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            _scrub_output(output)
    notebook.metadata.pop("widgets", None)
    nbformat.write(notebook, path)


def main(names: list[str]) -> None:
    paths = [HERE / name for name in names] if names else sorted(HERE.glob("*.ipynb"))
    for path in paths:
        print(f"running {path.name}", flush=True)
        run(path)


if __name__ == "__main__":
    main(sys.argv[1:])
