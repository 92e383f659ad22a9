"""Partitions on disk worked side by side: an executor of worker processes on this machine.

With ``engine.partitions`` above 1 and ``engine.n_workers`` above 1 the local
engine hands its calls (read and route a piece, check a partition, build a
partition's features, score it) to a pool of worker processes, so the load and
the scoring use every core instead of one. Values travel as files: a worker
reads its inputs from the spill folder (pipeline/engine/spill.py) and leaves
every large result there; only small values (reports, counts, probabilities
below ``KEEP_BYTES``) and file names go through the pool's pipes. A call whose
inputs are not ready yet waits for them here, so calls start in the order the
work submits them and the results are the same as one call at a time.

A worker's memory holds the call it runs (one partition's working set), so the
peak is about ``n_workers`` partitions' working sets. A worker that dies (killed,
out of memory) fails the command with a message naming both settings; workers
whose parent died end themselves.
"""

from __future__ import annotations

import copyreg
import ctypes
import itertools
import multiprocessing
import os
import pickle
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from pipeline.core.errors import ChurnError, DataContractError
from pipeline.core.executor import Done, checked_parts, resolved
from pipeline.data.arrow_frames import release_arrow_memory
from pipeline.engine.spill import KEEP_BYTES, Spilled, SpillFiles, removed_with, scratch_folder

_WORKER_FILES: SpillFiles | None = None  # in a worker process: the spill folder's files
_WORKER_SHARED: dict[Path, Any] = {}  # in a worker process: the shared values read, by file
SHARED_KEPT = 8
"""Shared values a worker keeps (the newest): a run shares a model or two."""


def _rebuilt_error(kind: type, args: tuple, state: dict) -> BaseException:
    """Rebuild an error raised in a worker without calling its ``__init__`` again."""
    error = kind.__new__(kind)
    error.args = args
    error.__dict__.update(state)
    return error


def _error_reduced(error: BaseException):
    return _rebuilt_error, (type(error), error.args, dict(error.__dict__))


# Errors whose __init__ takes other arguments than their message travel back from a
# worker as they were raised (same type, message and attributes: table, column, rule).
copyreg.pickle(DataContractError, _error_reduced)


class WorkerLostError(ChurnError):
    """A worker process ended in the middle of a call."""

    def __init__(self) -> None:
        super().__init__(
            "a partition worker process ended unexpectedly (killed, or out of memory): "
            "lower engine.n_workers, or raise engine.partitions so each partition is smaller"
        )


@dataclass(frozen=True)
class Shared:
    """The handle of a value every worker reads once from its file and keeps."""

    path: Path


class Pending:
    """The handle of a call's result (or one of its parts) while a worker computes it.

    Its file, once written, is removed when the handle is garbage-collected.
    """

    def __init__(self, future: Future, part: int | None):
        self.future, self.part = future, part
        weakref.finalize(self, _remove_when_done, future, part)

    def outcome(self) -> Done | Spilled:
        """Wait for the call; return the small value or the file it left."""
        try:
            result = self.future.result()
        except BrokenProcessPool:
            raise WorkerLostError() from None
        return result if self.part is None else result[self.part]


class PoolExecutor:
    """Runs every function in one of ``workers`` processes; large results wait on disk."""

    in_process = False  # values cross processes: sinks and callbacks stay here
    gather_max_rows = None

    def __init__(self, workers: int, folder: Path | str | None = None, keep_bytes=KEEP_BYTES):
        """Open a temporary folder in ``folder`` (None: the system's) and start the workers.

        Raises:
            ChurnError: ``folder`` is not a writable folder.
        """
        self._scratch = scratch_folder(folder)
        self.folder = Path(self._scratch.name)
        self.workers = workers
        self._files = SpillFiles(self.folder, keep_bytes)  # what this process writes and reads
        self._calls = itertools.count()
        self._pool = ProcessPoolExecutor(
            workers,
            # spawn: a fresh interpreter, never a fork of a process running OpenMP threads
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(str(self.folder), keep_bytes, os.getpid()),
        )

    def close(self) -> None:
        """Stop the workers; remove every waiting result."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._files.forget()
        self._scratch.cleanup()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Pending:
        """Hand ``fn`` to a worker once its inputs are ready; return a handle of its result."""
        return Pending(self._sent(fn, None, args, kwargs), None)

    def submit_parts(
        self, fn: Callable[..., Any], n_parts: int, *args: Any, **kwargs: Any
    ) -> list[Pending]:
        """Hand ``fn`` to a worker; return a handle of each of the ``n_parts`` values."""
        future = self._sent(fn, n_parts, args, kwargs)
        return [Pending(future, part) for part in range(n_parts)]

    def share(self, value: Any) -> Shared:
        """Leave ``value`` (a model, a reference) in a file each worker reads once and keeps.

        A worker then reuses the one copy for every call, with what it caches (the
        scoring model's path tables are built once per worker, not once per partition).
        """
        path = self.folder / f"shared-{self._name()}.pickle"
        self._files.kept(value, path.stem, always=True)
        handle = Shared(path)
        weakref.finalize(handle, path.unlink, missing_ok=True)
        return handle

    def scatter(self, values: Sequence[Any]) -> list[Done | Spilled]:
        """Return a handle of each value, leaving the large ones on disk."""
        return [removed_with(self._files.kept(value, self._name())) for value in values]

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        """Wait for ``handles``; return their values."""
        return [resolved(handle, self._value) for handle in handles]

    def results(self, handles: Iterable[Any]) -> Iterator[Any]:
        """Yield the values of ``handles`` in order, one in memory at a time."""
        for handle in handles:
            yield resolved(handle, self._value)

    def when_done(self, handle: Pending, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (on the pool's thread) once a worker has finished ``handle``."""
        handle.future.add_done_callback(lambda _: callback())

    def _sent(self, fn: Callable[..., Any], n_parts: int | None, args, kwargs) -> Future:
        inputs = [args, kwargs]  # held until the call is done: their files must stay
        sendable = resolved((args, kwargs), _sendable)
        try:
            future = self._pool.submit(_call, fn, n_parts, self._name(), *sendable)
        except BrokenProcessPool:
            raise WorkerLostError() from None
        future.add_done_callback(lambda _: inputs.clear())
        return future

    def _name(self) -> str:
        return f"{os.getpid()}-{next(self._calls):07d}"

    def _value(self, handle: Any) -> Any:
        if isinstance(handle, Pending):
            handle = handle.outcome()
            if isinstance(handle, Done):
                return handle.value
        if isinstance(handle, Shared):
            return self._files.read(handle.path)
        return self._files.value(handle)


def _sendable(argument: Any) -> Any:
    """What travels to a worker for a handle: a small value, or the file the value waits in."""
    if isinstance(argument, Pending):
        outcome = argument.outcome()
        return outcome.value if isinstance(outcome, Done) else outcome
    return argument


def _remove_when_done(future: Future, part: int | None) -> None:
    future.add_done_callback(partial(_remove_result, part=part))


def _remove_result(future: Future, part: int | None) -> None:
    if future.cancelled() or future.exception() is not None:
        return
    result = future.result()
    handle = result if part is None else result[part]
    if isinstance(handle, Spilled):
        handle.path.unlink(missing_ok=True)


def _start_worker(folder: str, keep_bytes: int, parent: int) -> None:
    """In a new worker: open the spill folder; end when the parent process is gone."""
    global _WORKER_FILES
    _WORKER_FILES = SpillFiles(Path(folder), keep_bytes)
    threading.Thread(target=_end_with_parent, args=(parent,), daemon=True).start()


def _end_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)  # the parent was killed: nobody waits for this worker's results


def _call(
    fn: Callable[..., Any], n_parts: int | None, name: str, args: tuple, kwargs: dict
) -> Done | Spilled | list[Done | Spilled]:
    """In a worker: call ``fn`` on its inputs read from files; leave large results in files."""
    files = _WORKER_FILES
    try:
        result = fn(*resolved(args, _worker_value), **resolved(kwargs, _worker_value))
        files.forget()  # the next call reads other files: hold no input while idle
        if n_parts is None:
            return files.kept(result, name)
        parts = list(checked_parts(result, n_parts))
        del result
        handles = []
        for number in range(n_parts):
            handles.append(files.kept(parts[number], f"{name}-{number:04d}"))
            parts[number] = None  # each part released once it is kept
        return handles
    finally:
        files.forget()
        _hand_back_memory()


def _worker_value(argument: Any) -> Any:
    """In a worker: the value of a handle read from its file (a shared one read once)."""
    if not isinstance(argument, Shared):
        return _WORKER_FILES.value(argument)
    if argument.path not in _WORKER_SHARED:
        while len(_WORKER_SHARED) >= SHARED_KEPT:
            del _WORKER_SHARED[next(iter(_WORKER_SHARED))]  # the oldest
        with open(argument.path, "rb") as file:
            _WORKER_SHARED[argument.path] = pickle.load(file)
    return _WORKER_SHARED[argument.path]


def _hand_back_memory() -> None:
    """Return the memory a finished call freed to the system, so an idle worker holds little.

    Arrow's pool and glibc's heap both keep freed blocks for reuse; a worker's next
    call is another partition's, so they would only add up across the workers.
    """
    release_arrow_memory()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim  # noqa: B018 (glibc only: musl and other systems lack it)
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()
