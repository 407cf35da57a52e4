"""No test times a call with a stopwatch: a loaded machine (CI, a laptop running other work) makes any
bound on wall-clock seconds fail for the wrong reason. A test reads a call's time from the call's own
records (``budget_records.py``: the stages' seconds, a fake clock, the timeout status); the clock is
read only to give up waiting for another process (``deadline = time.time() + 60``)."""

import ast
from pathlib import Path

import pytest

TESTS = sorted(p for p in Path(__file__).resolve().parent.glob("*.py") if p.name != Path(__file__).name)
CLOCKS = {"time", "monotonic", "perf_counter", "perf_counter_ns", "process_time", "time_ns", "monotonic_ns"}


def clock_reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of each read of the time module's clocks that is not a wait's deadline."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CLOCKS
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "time"):
            continue
        statement = node
        while not isinstance(statement, ast.stmt):
            statement = parents[statement]
        targets = [ast.unparse(t) for t in statement.targets] if isinstance(statement, ast.Assign) else []
        sets_deadline = targets == ["deadline"]
        compare = parents.get(node)
        against_deadline = isinstance(compare, ast.Compare) and "deadline" in ast.unparse(compare)
        if not (sets_deadline or against_deadline) or isinstance(statement, ast.Assert):
            found.append((node.lineno, ast.unparse(statement).splitlines()[0]))
    return found


@pytest.mark.parametrize("path", TESTS, ids=[p.name for p in TESTS])
def test_no_test_reads_the_clock_but_to_stop_waiting(path):
    source = path.read_text()
    assert "import timeit" not in source and "from timeit" not in source
    assert clock_reads(ast.parse(source)) == [], path.name


def test_the_scan_sees_a_stopwatch():
    timed = "import time\nstarted = time.perf_counter()\nrun()\nassert time.perf_counter() - started < 5\n"
    waited = "import time\ndeadline = time.time() + 60\nwhile time.time() < deadline and not done():\n    pass\n"
    assert [line for line, _ in clock_reads(ast.parse(timed))] == [2, 4]
    assert clock_reads(ast.parse(waited)) == []
