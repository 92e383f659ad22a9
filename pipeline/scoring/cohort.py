"""The scoring cohort's feature matrix, built chunk by chunk with a bounded working set.

The market-relative features compare each customer with all accounts open that
month, so the build takes two steps (features/builder/build.py): per chunk of
customers, the customer features and their small market reference; then, once
the references are combined, the market columns per chunk. The customer
features of each chunk wait in a temporary Arrow file between the two steps,
so memory holds one chunk at a time whatever the number of accounts. Every
chunk's frame equals that chunk's rows of ``build_feature_matrix`` exactly.
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
from pipeline.core.contract import Tables
from pipeline.core.errors import ChurnError
from pipeline.core.params import Params
from pipeline.scoring.chunks import customer_chunks

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
        self.reference: MarketReference | None = None
        self._scratch = tempfile.TemporaryDirectory(prefix="churn-score-")
        self._files: list[Path] = []

    def __enter__(self) -> ChunkedCohort:
        return self

    def __exit__(self, *exc) -> None:
        self._scratch.cleanup()

    @property
    def n_chunks(self) -> int:
        """Number of customer chunks."""
        return self.chunks.n_chunks

    @property
    def n_frames(self) -> int:
        """Number of chunks holding open accounts (known after the customer step)."""
        return len(self._files)

    def build_customer_step(self, progress: Progress = no_progress) -> None:
        """Build each chunk's customer features, keep them on disk, combine the references."""
        references = []
        for chunk in range(self.n_chunks):
            frame = build_customer_features(self.chunks.tables_of(chunk), [self.as_of], self.params)
            if len(frame):  # a chunk without open accounts has nothing to score
                references.append(market_reference(frame))
                path = Path(self._scratch.name) / f"chunk-{chunk:06d}.arrow"
                feather.write_feather(pa.Table.from_pandas(frame, preserve_index=False), path)
                self._files.append(path)
            progress("features", chunk + 1, self.n_chunks)
        if not references:
            raise ChurnError(f"no account is open at {self.as_of.date()}: nothing to score")
        self.reference = combine_market_references(references)

    def frames(self) -> Iterator[tuple[int, pd.DataFrame]]:
        """Yield ``(number, feature frame)`` per chunk holding open accounts, market columns added.

        Numbers count the yielded frames from 0; :attr:`n_frames` is how many there are.
        """
        if self.reference is None:
            raise RuntimeError("call build_customer_step() first")
        for chunk, path in enumerate(self._files):
            frame = feather.read_table(path, memory_map=False).to_pandas(date_as_object=False)
            yield chunk, apply_market_reference(frame, self.reference, self.params)
