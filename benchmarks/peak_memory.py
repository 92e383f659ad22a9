"""Peak resident memory of this process, sampled in a thread (benchmarks only)."""

from __future__ import annotations

import threading
import time

import psutil


class PeakMemory:
    """Sample this process's RSS in a thread; report the peak."""

    def __init__(self):
        self.process, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self.start_rss = self.process.memory_info().rss

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)
