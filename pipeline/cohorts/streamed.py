"""The feature matrix written to one Parquet file chunk by chunk of customers, in bounded memory.

``churn features --out F.parquet`` on the local engine: the matrix of a million
accounts over a year of month ends would not fit beside the tables, so it is
never held whole. Two passes over chunks of consecutive customers
(pipeline/cohorts/chunks.py, ``engine.chunk_customers``):

1. each chunk's customer features at every as-of month, kept in temporary Arrow
   files one per (month, chunk), and its market reference; the references are
   combined exactly (features/builder/build.py);
2. month by month, chunk by chunk, the market columns are added and the rows
   appended to the Parquet file as row groups.

Customers are sorted by id and chunks are id ranges, so the file holds the rows
of ``build_feature_matrix`` in its order, (as_of, customer_id), value for value.
The file is written to a temporary sibling and moved over ``out`` at the end
(pipeline/core/atomic.py): a failed build leaves no partial output.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from features.builder.build import (
    apply_market_reference,
    build_customer_features,
    combine_market_references,
    market_reference,
)
from pipeline.cohorts.chunks import customer_chunks
from pipeline.core.atomic import atomic_path
from pipeline.core.contract import Tables
from pipeline.core.params import Params


def write_feature_file(
    tables: Tables | Iterable[Tables],
    as_of: Sequence[pd.Timestamp],
    params: Params,
    out: str | Path,
) -> int:
    """Build every feature at each as-of month end and write one Parquet file, chunk by chunk.

    Args:
        tables: the validated tables (pipeline.data.loader), customers sorted by id; or
            partitions of customers, taken one at a time (the local engine's on disk).
        as_of: month ends (midnight), any order; rows come out by month, then customer id
            (within each partition, partition after partition).
        params: the run's params (``features``, ``rules``, ``engine.chunk_customers``).
        out: the Parquet file.

    Returns:
        The number of rows written.

    Raises:
        ValueError: no account is open at any as-of month end.
    """
    months = sorted(pd.Timestamp(m) for m in as_of)
    with tempfile.TemporaryDirectory(prefix="churn-features-") as scratch:
        stored, reference = _customer_pass(tables, months, params, Path(scratch))
        if reference is None:
            raise ValueError("no account is open at any as-of month end: no feature row")
        with atomic_path(out) as temp:
            return _market_pass(stored, reference, params, temp)


def _customer_pass(
    tables: Tables | Iterable[Tables], months: list[pd.Timestamp], params: Params, scratch: Path
) -> tuple[list[list[Path]], object]:
    """Store each chunk's customer features per month; return the files and combined reference."""
    stored: list[list[Path]] = [[] for _ in months]
    references = []
    for chunk, chunk_tables in enumerate(_chunks(tables, params.engine.chunk_customers)):
        frame = build_customer_features(chunk_tables, months, params)
        if not len(frame):
            continue
        references.append(market_reference(frame))
        for number, month in enumerate(months):
            rows = frame[frame["as_of"] == month]
            if len(rows):
                path = scratch / f"month-{number:03d}-chunk-{chunk:06d}.arrow"
                feather.write_feather(pa.Table.from_pandas(rows, preserve_index=False), path)
                stored[number].append(path)
    reference = combine_market_references(references) if references else None
    return stored, reference


def _chunks(tables: Tables | Iterable[Tables], size: int) -> Iterator[Tables]:
    """Yield the chunks of customers of the tables, or of each partition in turn."""
    for part in [tables] if isinstance(tables, Tables) else tables:
        chunks = customer_chunks(part, size)
        for chunk in range(chunks.n_chunks):
            yield chunks.tables_of(chunk)


def _market_pass(stored: list[list[Path]], reference, params: Params, temp: Path) -> int:
    """Append every stored piece, market columns added, as row groups in (month, chunk) order."""
    rows, writer = 0, None
    try:
        for paths in stored:
            for path in paths:
                frame = feather.read_table(path).to_pandas(date_as_object=False)
                table = pa.Table.from_pandas(
                    apply_market_reference(frame, reference, params), preserve_index=False
                )
                if writer is None:
                    writer = pq.ParquetWriter(temp, table.schema)
                writer.write_table(table.cast(writer.schema))
                rows += table.num_rows
                path.unlink()
    finally:
        if writer is not None:
            writer.close()
    return rows
