"""A call's time as its own budget records tell it: the seconds of its stages and a fake clock. Tests
never time a call with a stopwatch (CI and a newcomer's machine are loaded)."""

from __future__ import annotations


def counted_seconds(stages: list[dict]) -> float:
    """Seconds of the recorded stages that count against the time limit (a "load" stage, loading a
    solver library once per process, is off the clock by design)."""
    return sum(stage["seconds"] for stage in stages if stage["stage"] != "load")


class TickClock:
    """A clock that moves ``tick`` seconds each time it is read, whatever the machine's load: a call
    timed by it spends its budget after a fixed number of reads, so only a stage that checks the
    budget stops in time."""

    def __init__(self, tick: float):
        self.tick, self.now = tick, 0.0

    def __call__(self) -> float:
        self.now += self.tick
        return self.now
