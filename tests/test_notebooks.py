"""The notebooks are committed with their outputs (tables and figures show where the repository is browsed),
as ``notebooks/run_all.py`` writes them: every code cell run, figures as images, no machine paths and no
run-to-run timings. ``pytest --nbmake notebooks`` checks separately that they still run."""

import json
import re
import sys
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def _texts(cell: dict) -> list[str]:
    found = []
    for output in cell.get("outputs", []):
        parts = [output.get("text", "")] + [v for k, v in output.get("data", {}).items() if k.startswith("text/")]
        found += ["".join(p) if isinstance(p, list) else p for p in parts]
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_with_its_outputs(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert cells and all(c["execution_count"] is not None for c in cells), "run notebooks/run_all.py"
    images = [o for c in cells for o in c["outputs"] if "image/png" in o.get("data", {})]
    assert images, "figures are stored as images (the notebook starts with %matplotlib inline)"
    text = "\n".join(t for c in cells for t in _texts(c))
    assert "Traceback" not in text
    for machine in {sys.prefix, str(Path(__file__).resolve().parent.parent), "/home/", "site-packages"}:
        assert machine not in text, f"{path.name} stores a path of the machine that ran it: {machine}"
    assert not re.search(r"\b\d+(\.\d+)? ms\b", text), f"{path.name} stores a wall-clock time"
    assert "seconds" not in re.sub(r"seconds\s+time not stored", "", text), f"{path.name} shows a column of timings"
