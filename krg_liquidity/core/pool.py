"""Local worker processes for batch books and stress scenarios: quiet on Ctrl-C, never orphaned.

Workers ignore Ctrl-C (the driver stops them) and exit on their own when the driver dies (they
watch their parent process), so no worker outlives the run that started it.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager


def watch_parent() -> None:
    """Worker start-up: ignore Ctrl-C (the driver stops the pool), end quietly on SIGTERM (not the
    driver's handler, inherited by a forked worker), and exit as soon as the process that started
    this worker is gone (checked every 0.2 s), so a killed driver leaves no worker behind."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="krg-parent-watch").start()


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end every worker process now."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)


@contextmanager
def local_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A process pool of ``workers`` started by :func:`watch_parent`.

    Leaving the block normally lets the workers finish and exit on their own (nothing to cancel,
    nothing printed); leaving it by an exception (interrupted, failed, the consumer stopped) stops
    them at once.
    """
    pool = ProcessPoolExecutor(max_workers=workers, initializer=watch_parent)
    try:
        yield pool
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)
