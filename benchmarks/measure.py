"""What the side-by-side benchmarks share: the median time of whole calls, and the markdown table they print."""

from __future__ import annotations

import statistics
import time

import pandas as pd


def timed(call, repeats: int):
    """The median wall-clock seconds of ``repeats`` whole calls of ``call()``, and its last value."""
    seconds, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = call()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), value


def print_table(rows: list[dict]) -> None:
    """The rows as a markdown table, floats to 4 significant digits."""
    table = pd.DataFrame(rows)
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row) + " |")
