"""The header every benchmark prints: library versions, Python, CPU count and the load average."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version

LIBRARIES = ("numpy", "pandas", "scipy", "cvxpy", "clarabel")


def header() -> str:
    """One markdown line: versions of the libraries a solve runs on, and the machine's load when it started."""
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} (not installed)")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"Python {platform.python_version()}; {'; '.join(found)}; {os.cpu_count()} CPUs; "
            f"load average (1, 5, 15 min) at start: {load}")
