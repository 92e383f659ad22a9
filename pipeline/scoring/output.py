"""The scores file (and its CSV export and compact copy), written chunk by chunk, atomically.

Every file goes to a temporary sibling that is renamed over the target only
after the last chunk has been written and the file closed, so a crash or a kill
leaves the previous file (or none) at the target, never a partial one. An
output path that does not end in ``.parquet`` is a dataset folder instead: one
``part-NNNNN.parquet`` per chunk in a hidden staging folder, published with a
``_SUCCESS`` marker last (pipeline/data/publish.py), for readers that take
folders (Spark, Dask, ``pyarrow.dataset``). Columns
and types are fixed by :func:`scores_schema`, so every chunk writes the same
schema and reruns on the same inputs write the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from models.rules import RULE_FLAGS
from pipeline.core.atomic import atomic_path
from pipeline.data.publish import Staging, is_dataset_path, part_name, staged_dataset, write_part

COMPACT_COLUMNS = (
    "customer_id",
    "as_of",
    "churn_probability",
    "rule_score",
    "rule_probability",
    "rule_level",
    "rule_alert",
    "total_assets",
    "value_tier",
)
"""The scores a scoring run logs to MLflow for `churn monitor` (no words, small)."""


def reason_columns(per_account: int) -> list[str]:
    """Return ``reason_1`` .. ``reason_<n>``."""
    return [f"reason_{i}" for i in range(1, per_account + 1)]


def scores_schema(per_account: int) -> pa.Schema:
    """Return the columns of the scores file, in order."""
    text, number = pa.string(), pa.float64()
    fields = [
        ("customer_id", text),
        ("as_of", pa.timestamp("us")),
        ("churn_probability", number),
        ("risk_band", text),
        ("rank", pa.int64()),
        ("rule_level", text),
        *((flag, pa.bool_()) for flag in RULE_FLAGS),
        *((name, text) for name in reason_columns(per_account)),
        ("reason_source", text),
        ("likely_cause", text),
        ("likely_cause_probability", number),
        ("cause_source", text),
        ("retention_play", text),
        ("customer_value", number),
        ("revenue_12m_cny", number),
        ("lifetime_value_cny", number),
        ("value_at_risk_cny", number),
        ("total_assets", number),
        ("value_tier", text),
        ("advisor_id", text),
        ("branch", text),
        ("control_group", pa.bool_()),
    ]
    return pa.schema(fields)


def compact_schema() -> pa.Schema:
    """Return the columns of the compact scores logged for monitoring."""
    types = {
        "customer_id": pa.string(),
        "as_of": pa.timestamp("us"),
        "rule_level": pa.string(),
        "rule_alert": pa.bool_(),
        "value_tier": pa.string(),
    }
    return pa.schema([(name, types.get(name, pa.float64())) for name in COMPACT_COLUMNS])


class ScoresWriter:
    """Appends chunks to the scores file, its optional CSV and the compact copy."""

    def __init__(self, parquet, csv, compact: pq.ParquetWriter | None):
        self._parquet, self._csv, self._compact = parquet, csv, compact

    def write(self, chunk: pa.Table) -> None:
        """Append one chunk of scored accounts (columns as :func:`scores_schema`)."""
        self._parquet.write_table(chunk)
        if self._csv is not None:
            self._csv.write_table(_for_csv(chunk))

    def write_compact(self, chunk: pa.Table) -> None:
        """Append one chunk of compact scores (columns as :func:`compact_schema`)."""
        if self._compact is not None:
            self._compact.write_table(chunk)


class _PartsWriter:
    """Writes each chunk as the next part file of a staging folder (ParquetWriter's interface)."""

    def __init__(self, staging: Staging, schema: pa.Schema):
        self._staging, self._schema, self._parts, self._rows = staging, schema, 0, 0

    def write_table(self, chunk: pa.Table) -> None:
        write_part(chunk.cast(self._schema), f"{self._staging.url}/{part_name(self._parts)}")
        self._parts += 1
        self._rows += chunk.num_rows
        self._staging.summary = {"rows": self._rows, "parts": self._parts}


@contextmanager
def scores_writer(
    out: Path, csv: Path | None, compact: Path | None, schema: pa.Schema
) -> Iterator[ScoresWriter]:
    """Open the output files on temporary siblings; rename them into place on success.

    Args:
        out: the scores Parquet file, or a dataset folder (:func:`is_dataset_path`).
        csv: an optional CSV export for the CRM (same rows, ``as_of`` as a date).
        compact: an optional Parquet file for the compact scores (logged to MLflow).
        schema: the scores file's schema (:func:`scores_schema`).
    """
    with ExitStack() as stack:
        if is_dataset_path(out):
            parquet = _PartsWriter(stack.enter_context(staged_dataset(str(out))), schema)
        else:
            parquet = _parquet_writer(stack, stack.enter_context(atomic_path(out)), schema)
        csv_writer = None
        if csv is not None:
            csv_temp = stack.enter_context(atomic_path(csv))
            csv_writer = stack.enter_context(RankedCsv(csv_temp, _csv_schema(schema)))
        compact_writer = None
        if compact is not None:
            compact_temp = stack.enter_context(atomic_path(compact))
            compact_writer = _parquet_writer(stack, compact_temp, compact_schema())
        yield ScoresWriter(parquet, csv_writer, compact_writer)


CSV_DIGITS = {"probability": 4}
"""Decimals in the CSV export by the end of a column's name; other numbers get 2 (money)."""
MONEY_DIGITS = 2


def csv_digits(column: str) -> int:
    """Return the decimals a number column keeps in the CSV export."""
    return next(
        (digits for end, digits in CSV_DIGITS.items() if column.endswith(end)), MONEY_DIGITS
    )


def rounded_for_csv(chunk: pa.Table) -> pa.Table:
    """Return a chunk with its float columns rounded for people (4 decimals for probabilities)."""
    for position, field in enumerate(chunk.schema):
        if pa.types.is_floating(field.type):
            rounded = pc.round(chunk.column(position), ndigits=csv_digits(field.name))
            chunk = chunk.set_column(position, field, rounded)
    return chunk


class RankedCsv:
    """The CSV export: chunks gathered, then written once in rank order (most at risk first).

    A CRM imports the file top down, so it is sorted by ``rank``; the scores
    arrive partition by partition, so the rows are held until the last chunk (the
    export holds the words and numbers of every account, about 1 KB each).
    Nothing is written when the block fails.
    """

    def __init__(self, path: Path, schema: pa.Schema):
        self._path, self._schema, self._chunks = path, schema, []

    def __enter__(self) -> RankedCsv:
        return self

    def write_table(self, chunk: pa.Table) -> None:
        """Keep one chunk (columns as the CSV schema)."""
        self._chunks.append(rounded_for_csv(chunk))

    def __exit__(self, kind, value, traceback) -> None:
        if kind is not None:
            return
        rows = pa.concat_tables(self._chunks) if self._chunks else self._schema.empty_table()
        pacsv.write_csv(rows.sort_by([("rank", "ascending")]), str(self._path))


def _parquet_writer(stack: ExitStack, path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    return stack.enter_context(pq.ParquetWriter(str(path), schema, compression="zstd"))


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    return schema.set(schema.get_field_index("as_of"), pa.field("as_of", pa.date32()))


def _for_csv(chunk: pa.Table) -> pa.Table:
    position = chunk.schema.get_field_index("as_of")
    return chunk.set_column(position, "as_of", chunk.column("as_of").cast(pa.date32()))
