"""How partitions of customers run: the executor every command's work is written against.

Each command's work is written once, as functions over one partition of
customers plus a few cross-customer reductions (pipeline/cohorts/matrix.py,
pipeline/cohorts/cohorts.py, pipeline/scoring/job.py). An executor decides
only where those functions run: :class:`InProcessExecutor` calls them at once
in this process (the local engine); the Dask engine (pipeline/engine/dask.py)
submits them as tasks to a cluster. Work code sees handles, never values: it
passes handles on to further calls and turns them into values with
:meth:`Executor.gather` or :meth:`Executor.results` only where a reduction
needs them on this machine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Executor(Protocol):
    """Runs functions over partitions and brings their results back."""

    in_process: bool
    """True when functions run in this process (callbacks such as progress bars may travel)."""

    gather_max_rows: int | None
    """Most training rows gathered to this machine; None: everything is here already."""

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` on the values of any handles among ``args``; return a handle of its result."""

    def submit_parts(
        self, fn: Callable[..., Any], n_parts: int, *args: Any, **kwargs: Any
    ) -> list[Any]:
        """Run ``fn``, which returns a sequence of ``n_parts`` values; return a handle of each."""

    def share(self, value: Any) -> Any:
        """Return a handle of a small ``value`` (a model, a reference) that every task can read."""

    def scatter(self, values: Sequence[Any]) -> list[Any]:
        """Hand large values (partitions of tables) to the executor; return their handles."""

    def gather(self, handles: Sequence[Any]) -> list[Any]:
        """Return the values of ``handles``, in order."""

    def results(self, handles: Sequence[Any]) -> Iterator[Any]:
        """Yield the values of ``handles`` one at a time, in order, releasing each."""


class ClusterExecutor(Executor, Protocol):
    """An executor whose partitions may hold more rows than one machine should gather.

    Its ``gather_max_rows`` is a number; above it, training asks it to fit LightGBM
    where the partitions live.
    """

    gather_max_rows: int

    def fit_lightgbm(self, cohorts: Any, columns: Sequence[str], model: Any) -> Any:
        """Train LightGBM where the partitions live; return a fitted ``ChurnLightGBM``."""


@dataclass(frozen=True)
class Done:
    """The handle of a value computed in this process."""

    value: Any


def resolved(argument: Any, value_of: Callable[[Any], Any] | None = None) -> Any:
    """Replace handles by their values, also inside lists, tuples and dicts (as Dask does).

    Args:
        argument: an argument of a submitted call.
        value_of: the value of a handle that is not :class:`Done` (an executor's own
            kind), or None (the argument itself).
    """
    if isinstance(argument, Done):
        return argument.value
    if isinstance(argument, list | tuple):
        return type(argument)(resolved(item, value_of) for item in argument)
    if isinstance(argument, dict):
        return {key: resolved(item, value_of) for key, item in argument.items()}
    return argument if value_of is None else value_of(argument)


def _value(argument: Any) -> Any:
    return resolved(argument)


class InProcessExecutor:
    """Calls every function at once, in this process: the local engine's executor."""

    in_process = True
    gather_max_rows = None

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Done:
        """Call ``fn`` now on the values of its arguments."""
        return Done(fn(*_value(args), **_value(kwargs)))

    def submit_parts(
        self, fn: Callable[..., Any], n_parts: int, *args: Any, **kwargs: Any
    ) -> list[Done]:
        """Call ``fn`` now; return a handle of each of the ``n_parts`` values it returns."""
        return [Done(part) for part in checked_parts(fn(*_value(args), **_value(kwargs)), n_parts)]

    def share(self, value: Any) -> Done:
        """Return ``value`` as a handle."""
        return Done(value)

    def scatter(self, values: Sequence[Any]) -> list[Done]:
        """Return each value as a handle."""
        return [Done(value) for value in values]

    def gather(self, handles: Sequence[Done]) -> list[Any]:
        """Return the values of ``handles``."""
        return [handle.value for handle in handles]

    def results(self, handles: Iterable[Done]) -> Iterator[Any]:
        """Yield the values of ``handles`` in order."""
        for handle in handles:
            yield handle.value


def checked_parts(values: Sequence[Any], n_parts: int) -> Sequence[Any]:
    """Return the values a ``submit_parts`` function returned, refusing a wrong count."""
    if len(values) != n_parts:
        raise ValueError(f"expected {n_parts} parts, the function returned {len(values)}")
    return values
