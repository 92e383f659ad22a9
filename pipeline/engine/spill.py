"""Executors that keep large results on disk: partitions of customers one (or a few) in memory.

The local engine with ``engine.partitions`` above 1 runs the Dask engine's
partitioned work (pipeline/data/partitioned.py, pipeline/scoring/job.py, ...)
through :class:`SpillingExecutor` (one call at a time in this process) or
:class:`pipeline.engine.pool.PoolExecutor` (calls side by side in worker
processes). Either way a result whose pickle exceeds ``keep_bytes`` is left in a
file of a temporary folder (:class:`SpillFiles`) and read back only when a later
call needs it. Memory then holds the inputs and result of the calls running
(one piece of a table, one partition's tables, one partition's feature chunks)
plus the small values (probabilities, reports, references), whatever the number
of customers; the operating system's page cache, not this process, keeps the
recently written files.
"""

from __future__ import annotations

import os
import pickle
import shutil
import socket
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


def scratch_folder(folder: Path | str | None) -> tempfile.TemporaryDirectory:
    """Open the temporary folder the partitions wait in, inside ``folder`` (None: the system's).

    Its name carries this machine's name and this process's id, so the folders that
    killed runs on this machine left behind can be found and removed
    (:func:`remove_stale_folders`).

    Raises:
        ChurnError: ``folder`` is not a writable folder.
    """
    try:
        return tempfile.TemporaryDirectory(prefix=f"{_own_prefix()}{os.getpid()}-", dir=folder)
    except OSError as exc:
        raise ChurnError(
            f"engine.spill_dir {folder}: cannot hold the partitions on disk ({exc.strerror})"
        ) from None


def remove_stale_folders(folder: Path | str | None) -> list[Path]:
    """Remove the partition folders of this machine's runs whose process has ended.

    A run killed outright (SIGKILL, a lost machine) cannot clean up after itself.
    Folders of other machines sharing ``folder`` and of living processes are left.

    Returns:
        The folders removed.
    """
    root = Path(folder) if folder is not None else Path(tempfile.gettempdir())
    removed = []
    for path in root.glob(f"{_own_prefix()}*-*"):
        owner = path.name[len(_own_prefix()) :].split("-", 1)[0]
        if path.is_dir() and owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _own_prefix() -> str:
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname())
    return f"churn-partitions-{host}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's living process
        return True
    return True


class SpillFiles:
    """Values pickled to files of one folder, and read back (the last one read is kept)."""

    def __init__(self, folder: Path, keep_bytes: int = KEEP_BYTES):
        self.folder, self.keep_bytes = folder, keep_bytes
        self._last: tuple[Path, Any] | None = None  # the value read last, often read again next

    def kept(self, value: Any, name: str, *, always: bool = False) -> Done | Spilled:
        """Return ``value`` itself when its pickle is small, else write it to file ``name``.

        With ``always`` the file is kept whatever its size. The caller decides when the
        file goes (:func:`removed_with`).

        Raises:
            ChurnError: the file cannot be written (a full disk, above all).
        """
        path = self.folder / f"{name}.pickle"
        try:
            with open(path, "wb") as file:
                pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise ChurnError(
                f"cannot keep a partition on disk in {self.folder} ({exc.strerror}): free space "
                "there or point engine.spill_dir at a larger disk"
            ) from None
        if not always and path.stat().st_size <= self.keep_bytes:
            path.unlink()
            return Done(value)
        return Spilled(path)

    def value(self, argument: Any) -> Any:
        """Return the value of a :class:`Spilled` handle; any other argument as it is."""
        return self.read(argument.path) if isinstance(argument, Spilled) else argument

    def read(self, path: Path) -> Any:
        """Return the value waiting in ``path``."""
        if self._last is not None and self._last[0] == path:
            # The value is used again right away (a piece split by partition): read once.
            return self._last[1]
        self._last = None  # release the previous value before reading the next
        with open(path, "rb") as file:
            value = pickle.load(file)
        self._last = (path, value)
        return value

    def forget(self) -> None:
        """Release the value read last."""
        self._last = None


def removed_with(handle: Done | Spilled) -> Done | Spilled:
    """Return ``handle``; its file (if any) is removed once the handle is garbage-collected."""
    if isinstance(handle, Spilled):
        weakref.finalize(handle, handle.path.unlink, missing_ok=True)
    return handle


class SpillingExecutor:
    """Calls every function at once in this process; large results wait on disk."""

    in_process = True
    gather_max_rows = None

    def __init__(self, folder: Path | str | None = None, keep_bytes: int = KEEP_BYTES):
        """Open a temporary folder for the results in ``folder`` (None: the system's).

        Raises:
            ChurnError: ``folder`` is not a writable folder.
        """
        self._scratch = scratch_folder(folder)
        self.folder = Path(self._scratch.name)
        self.keep_bytes = keep_bytes
        self._files = SpillFiles(self.folder, keep_bytes)
        self._written = 0

    def close(self) -> None:
        """Remove every waiting result."""
        self._files.forget()
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
        self._written += 1
        return removed_with(self._files.kept(value, f"{self._written:07d}"))

    def _value(self, argument: Any) -> Any:
        """Replace handles by their values, also inside lists, tuples and dicts."""
        return resolved(argument, self._files.value)
