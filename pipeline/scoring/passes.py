"""How a pass of the scoring job over partitions reports its progress, wherever they run.

- one partition in this process: its chunks report themselves (inside the pass);
- several partitions called one at a time here (on disk): each as it is submitted,
  which is when it is done;
- several in worker processes of this machine: each as a worker finishes it;
- on a cluster: the whole pass once it has come back.
"""

from __future__ import annotations

import threading
from typing import Any

from pipeline.core.executor import Executor
from pipeline.scoring.cohort import Progress


class PassProgress:
    """Counts a pass's partitions done and reports them as ``progress(phase, done, total)``."""

    def __init__(self, progress: Progress, executor: Executor, phase: str, partitions: int):
        self.progress, self.executor = progress, executor
        self.phase, self.partitions = phase, partitions
        self.done, self._over = 0, False
        self._lock = threading.Lock()  # workers' completions arrive on the pool's thread

    def submitted(self, handle: Any) -> None:
        """Note a partition's call; report it now, or when a worker has finished it."""
        if self.partitions == 1:
            return  # its chunks report themselves
        if self.executor.in_process:
            self._tick()
        elif hasattr(self.executor, "when_done"):
            self.executor.when_done(handle, self._tick)

    def finished(self) -> None:
        """The pass's results are all here: report it whole (late completions are ignored)."""
        with self._lock:
            self._over = True
            whole = not self.executor.in_process and self.done < self.partitions
        if whole:
            self.progress(self.phase, self.partitions, self.partitions)

    def _tick(self) -> None:
        with self._lock:
            if self._over:
                return
            self.done += 1
            done = self.done
        self.progress(self.phase, done, self.partitions)
