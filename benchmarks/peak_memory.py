"""Peak resident memory and CPU time of this process and its workers (benchmarks only)."""

from __future__ import annotations

import contextlib
import threading
import time

import psutil


def tree_rss(process: psutil.Process, children: list[psutil.Process]) -> int:
    """Return the RSS of ``process`` plus its ``children``'s (worker processes), in bytes."""
    total = process.memory_info().rss
    for child in children:
        with contextlib.suppress(psutil.Error):  # a worker that has just ended
            total += child.memory_info().rss
    return total


def tree_cpu_seconds(process: psutil.Process | None = None) -> float:
    """Return the user + system CPU seconds of ``process`` and of its living children."""
    process = process or psutil.Process()
    times = process.cpu_times()
    total = times.user + times.system
    for child in process.children(recursive=True):
        try:
            child_times = child.cpu_times()
        except psutil.Error:
            continue
        total += child_times.user + child_times.system
    return total


LIST_CHILDREN_SECONDS = 1.0
"""How often the sampler looks for new worker processes (their RSS is read every sample)."""


class PeakMemory:
    """Sample the RSS of this process and its workers in a thread; report the peak."""

    def __init__(self):
        self.process, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self.start_rss = self.process.memory_info().rss

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        children, listed = [], 0.0
        while not self._stop.is_set():
            if time.monotonic() - listed > LIST_CHILDREN_SECONDS:
                # Listing processes reads all of /proc (ms, holding the GIL): rarely.
                children, listed = self.process.children(recursive=True), time.monotonic()
            self.peak = max(self.peak, tree_rss(self.process, children))
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        children = self.process.children(recursive=True)
        self.peak = max(self.peak, tree_rss(self.process, children))
