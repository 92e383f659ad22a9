"""The scoring cohort's feature matrix, built chunk by chunk with a bounded working set.

The market-relative features compare each customer with all accounts open that
month, so the build takes two steps (features/builder/build.py): per chunk of
customers, the customer features and their small market reference; then, once
the references are combined, the market columns per chunk. The customer
features of each chunk wait in a temporary Arrow file between the two steps,
so memory holds one chunk at a time whatever the number of accounts. Every
chunk's frame equals that chunk's rows of ``build_feature_matrix`` exactly.

A cohort is one partition's state between the scoring passes. When an executor
moves it to another process (a Dask worker fetching it), it travels with its
chunks in memory, since the temporary files stay behind on the machine that wrote them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

from features.builder.build import (
    apply_market_reference,
    build_customer_features,
    combine_market_references,
    market_reference,
)
from features.builder.reference import MarketReference
from pipeline.cohorts.chunks import customer_chunks
from pipeline.core.contract import Tables
from pipeline.core.errors import ChurnError
from pipeline.core.params import Params

Progress = Callable[[str, int, int], None]
"""Called as ``progress(phase, chunks_done, chunks_total)`` after each chunk."""


def no_progress(phase: str, done: int, total: int) -> None:
    """Report nothing."""


class ChunkedCohort:
    """The feature rows of the accounts open at one as-of month end, chunk by chunk.

    Use as a context manager: the temporary chunk files are removed on exit.
    """

    def __init__(self, tables: Tables, as_of: pd.Timestamp, params: Params):
        """Plan the chunks.

        Args:
            tables: validated tables (pipeline.data.loader).
            as_of: the month end scored.
            params: the run's params (``scoring.chunk_customers``, ``features:``, ``rules:``).
        """
        self.as_of, self.params = as_of, params
        self.chunks = customer_chunks(tables, params.scoring.chunk_customers)
        self._n_chunks = self.chunks.n_chunks
        self.reference: MarketReference | None = None
        self._scratch: tempfile.TemporaryDirectory | None = tempfile.TemporaryDirectory(
            prefix="churn-score-"
        )
        self._files: list[Path | pa.Table] = []
        self._owners: pd.DataFrame | None = None

    @property
    def customers(self) -> pd.DataFrame:
        """The partition's customer ids, advisors and branches (sorted by customer_id)."""
        return self._owners

    def __enter__(self) -> ChunkedCohort:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the temporary chunk files."""
        if self._scratch is not None:
            self._scratch.cleanup()

    def __getstate__(self) -> dict:
        # Another process cannot read this machine's temporary files: send the chunks.
        state = dict(self.__dict__, _scratch=None)
        state["_files"] = [_read_chunk(chunk) for chunk in self._files]
        return state

    @property
    def n_chunks(self) -> int:
        """Number of customer chunks."""
        return self._n_chunks

    @property
    def n_frames(self) -> int:
        """Number of chunks holding open accounts (known after the customer step)."""
        return len(self._files)

    def build_customer_step(
        self, progress: Progress = no_progress, *, require_open: bool = True
    ) -> None:
        """Build each chunk's customer features, keep them on disk, combine the references.

        Args:
            progress: called after each chunk.
            require_open: fail when no account is open at the as-of date; a partition of a
                larger cohort may hold none (its reference is then None).

        Raises:
            ChurnError: no account is open at the as-of date (with ``require_open``).
        """
        references = []
        for chunk in range(self.n_chunks):
            frame = build_customer_features(self.chunks.tables_of(chunk), [self.as_of], self.params)
            if len(frame):  # a chunk without open accounts has nothing to score
                references.append(market_reference(frame))
                path = Path(self._scratch.name) / f"chunk-{chunk:06d}.arrow"
                feather.write_feather(pa.Table.from_pandas(frame, preserve_index=False), path)
                self._files.append(path)
            progress("features", chunk + 1, self.n_chunks)
        customers = self.chunks.tables.customers
        owned = [c for c in ("customer_id", "advisor_id", "branch") if c in customers]
        self._owners = customers[owned].copy()  # for the call lists (pipeline/retention/)
        self.chunks = None  # the tables are no longer needed, nor sent with the cohort
        if references:
            self.reference = combine_market_references(references)
        elif require_open:
            raise ChurnError(f"no account is open at {self.as_of.date()}: nothing to score")

    def frames(
        self, reference: MarketReference | None = None
    ) -> Iterator[tuple[int, pd.DataFrame]]:
        """Yield ``(number, feature frame)`` per chunk holding open accounts, market columns added.

        Numbers count the yielded frames from 0; :attr:`n_frames` is how many there are.

        Args:
            reference: the market reference of the whole cohort when this is one partition
                of it; None uses this cohort's own.
        """
        reference = reference if reference is not None else self.reference
        if reference is None and self._files:
            raise RuntimeError("call build_customer_step() first")
        for chunk, stored in enumerate(self._files):
            frame = _read_chunk(stored).to_pandas(date_as_object=False)
            yield chunk, apply_market_reference(frame, reference, self.params)


def _read_chunk(stored: Path | pa.Table) -> pa.Table:
    if isinstance(stored, pa.Table):
        return stored
    return feather.read_table(stored, memory_map=False)
