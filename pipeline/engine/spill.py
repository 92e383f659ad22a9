"""An executor that keeps large results on disk: one partition of customers in memory at a time.

The local engine with ``engine.partitions`` above 1 runs the Dask engine's
partitioned work (pipeline/data/partitioned.py, pipeline/scoring/job.py, ...)
in this process through :class:`SpillingExecutor`: every function runs at once,
as with :class:`pipeline.core.executor.InProcessExecutor`, but a result whose
pickle exceeds ``keep_bytes`` is left in a file of a temporary folder and read
back only when a later call needs it. Memory then holds the inputs and result
of one call (one piece of a table, one partition's tables, one partition's
feature chunks) plus the small values (probabilities, reports, references),
whatever the number of customers; the operating system's page cache, not this
process, keeps the recently written files.
"""

from __future__ import annotations

import pickle
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.errors import ChurnError
from pipeline.core.executor import Done, checked_parts, resolved

KEEP_BYTES = 1 << 20
"""Results whose pickle is at most this size stay in memory; larger ones wait on disk."""


@dataclass(frozen=True)
class Spilled:
    """The handle of a value waiting in a file."""

    path: Path


class SpillingExecutor:
    """Calls every function at once in this process; large results wait on disk."""

    in_process = True
    gather_max_rows = None

    def __init__(self, folder: Path | str | None = None, keep_bytes: int = KEEP_BYTES):
        """Open a temporary folder for the results in ``folder`` (None: the system's).

        Raises:
            ChurnError: ``folder`` is not a writable folder.
        """
        try:
            self._scratch = tempfile.TemporaryDirectory(prefix="churn-partitions-", dir=folder)
        except OSError as exc:
            raise ChurnError(
                f"engine.spill_dir {folder}: cannot hold the partitions on disk ({exc.strerror})"
            ) from None
        self.folder = Path(self._scratch.name)
        self.keep_bytes = keep_bytes
        self._written = 0
        self._last: tuple[Path, Any] | None = None  # the value read last, often read again next

    def close(self) -> None:
        """Remove every waiting result."""
        self._last = None
        self._scratch.cleanup()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Done | Spilled:
        """Call ``fn`` now on the values of its arguments; keep its result in memory or on disk."""
        return self._kept(fn(*self._value(args), **self._value(kwargs)))

    def submit_parts(
        self, fn: Callable[..., Any], n_parts: int, *args: Any, **kwargs: Any
    ) -> list[Done | Spilled]:
        """Call ``fn`` now; keep each of the ``n_parts`` values it returns apart."""
        parts = list(checked_parts(fn(*self._value(args), **self._value(kwargs)), n_parts))
        handles = []
        while parts:
            handles.append(self._kept(parts.pop(0)))  # each part released once it is kept
        return handles

    def share(self, value: Any) -> Done:
        """Return ``value`` as a handle (shared values are small: models, references)."""
        return Done(value)

    def scatter(self, values: Sequence[Any]) -> list[Done | Spilled]:
        """Return a handle of each value, leaving the large ones on disk."""
        return [self._kept(value) for value in values]

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        """Return the values of ``handles``."""
        return [self._value(handle) for handle in handles]

    def results(self, handles: Iterable[Any]) -> Iterator[Any]:
        """Yield the values of ``handles`` in order, one in memory at a time."""
        for handle in handles:
            yield self._value(handle)

    def _kept(self, value: Any) -> Done | Spilled:
        path = self.folder / f"{self._written:07d}.pickle"
        self._written += 1
        try:
            with open(path, "wb") as file:
                pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as exc:  # a full disk, above all
            path.unlink(missing_ok=True)
            raise ChurnError(
                f"cannot keep a partition on disk in {self.folder} ({exc.strerror}): free space "
                "there or point engine.spill_dir at a larger disk"
            ) from None
        if path.stat().st_size <= self.keep_bytes:
            path.unlink()
            return Done(value)
        handle = Spilled(path)
        weakref.finalize(handle, path.unlink, missing_ok=True)  # the file goes with its handle
        return handle

    def _value(self, argument: Any) -> Any:
        """Replace handles by their values, also inside lists, tuples and dicts."""
        return resolved(argument, self._read_spilled)

    def _read_spilled(self, argument: Any) -> Any:
        return self._read(argument.path) if isinstance(argument, Spilled) else argument

    def _read(self, path: Path) -> Any:
        if self._last is not None and self._last[0] == path:
            # The value is used again right away (a piece split by partition): read once.
            return self._last[1]
        self._last = None  # release the previous value before reading the next
        with open(path, "rb") as file:
            value = pickle.load(file)
        self._last = (path, value)
        return value
