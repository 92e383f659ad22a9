"""The one reader of input tables: find, list and read them, whole or in pieces, anywhere.

A data location is a local folder or any fsspec URL (``file:///data``,
``s3://bucket/export``, ``memory://demo``) holding, per table,
``<table>.parquet`` (a file or a folder), a folder ``<table>/`` of Parquet files
(a warehouse export) or ``<table>.csv``; finding and listing them is
pipeline/data/locations.py's, imported from here, so this module stays the one
entry that finds, lists and reads tables.

Every table is read with one rule for types: optional text columns
dictionary-encoded (pandas ``category``), ids as plain strings (leading zeros
kept), whatever the files hold. The local loader reads each table whole
(:func:`read_source`); the Dask engine's workers read it in pieces
(:class:`ReadUnit`: a file, or a run of row groups of a large Parquet file),
each with the whole table's unified schema, so the pieces concatenated in order
equal the whole table row for row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from pipeline.core.contract import TableSchema
from pipeline.core.errors import DataContractError
from pipeline.data.arrow_frames import arrow_to_pandas, concat_pieces
from pipeline.data.locations import (
    TableSource,
    arrow_filesystem,
    find_table_file,
    find_table_source,
    is_empty,
    is_url,
    source_at,
    table_sources,
    unread_entries,
)

__all__ = [
    "ReadUnit",
    "TableSource",
    "arrow_filesystem",
    "find_table_file",
    "find_table_source",
    "is_empty",
    "is_url",
    "read_source",
    "read_table",
    "read_table_file",
    "read_tables_at",
    "read_unit",
    "read_units",
    "reading_schema",
    "table_arrow_schema",
    "table_sources",
    "unread_entries",
]

READ_UNIT_ROWS = 2_000_000
"""Rows per read piece of a large Parquet file (whole row groups; a file is never split less)."""


@dataclass(frozen=True)
class ReadUnit:
    """One piece of a table: a file, or some of its row groups (None: all)."""

    file: str
    row_groups: tuple[int, ...] | None = None


def read_units(source: TableSource, rows_per_unit: int = READ_UNIT_ROWS) -> list[ReadUnit]:
    """Split a table into pieces in storage order: files, large Parquet files by row groups."""
    if source.kind == "csv":
        return [ReadUnit(file) for file in source.files]
    units = []
    for file in source.files:
        metadata = pq.read_metadata(file, filesystem=arrow_filesystem(source.fs))
        groups = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]
        if sum(groups) <= rows_per_unit:
            units.append(ReadUnit(file))
            continue
        run: list[int] = []
        for group, rows in enumerate(groups):
            if run and sum(groups[g] for g in run) + rows > rows_per_unit:
                units.append(ReadUnit(file, tuple(run)))
                run = []
            run.append(group)
        units.append(ReadUnit(file, tuple(run)))
    return units


CSV_BYTES_PER_ROW = 40
"""Bytes per row of a contract table as CSV, for :func:`stored_rows` (the demo's are 35-60)."""


def stored_rows(source: TableSource) -> int:
    """Return a table's rows from its Parquet footers, or an estimate from a CSV file's size."""
    if source.kind == "csv":
        return sum(source.fs.size(file) for file in source.files) // CSV_BYTES_PER_ROW
    fs = arrow_filesystem(source.fs)
    return sum(pq.read_metadata(file, filesystem=fs).num_rows for file in source.files)


def table_arrow_schema(source: TableSource) -> pa.Schema | None:
    """Return the unified Arrow schema of a Parquet table's files (None for CSV)."""
    if source.kind == "csv":
        return None
    fs = arrow_filesystem(source.fs)
    try:
        schemas = [pq.read_schema(file, filesystem=fs) for file in source.files]
        unified = pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataContractError(
            source.table, None, "unreadable file", f"{source.location}: {exc}"
        ) from None
    return reading_schema(unified, source.schema)


def _unique_columns(source: TableSource, names: list[str]) -> None:
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataContractError(
            source.table,
            repeated[0],
            "duplicate column name",
            f"{source.location} names {repeated} more than once; which one is the data?",
        )


def read_unit(source: TableSource, unit: ReadUnit, schema: pa.Schema | None) -> pd.DataFrame:
    """Read one piece of a table (``schema`` from :func:`table_arrow_schema`).

    Raises:
        DataContractError: the file cannot be read.
    """
    try:
        if source.kind == "csv":
            arrow = _read_csv(source, unit.file)
        else:
            arrow = _read_parquet_unit(source, unit, schema)
        _unique_columns(source, arrow.column_names)
        frame = arrow_to_pandas(arrow)
        del arrow
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataContractError(
            source.table, None, "unreadable file", f"{unit.file}: {exc}"
        ) from None
    return frame.reset_index(drop=True)


def read_table(data_url: str, table: str) -> pd.DataFrame | None:
    """Read a whole table at a data location as the loader's reader does (None when absent)."""
    fs, root = fsspec.core.url_to_fs(str(data_url))
    source = find_table_source(fs, root, table)
    return None if source is None else read_source(source)


def read_tables_at(data_url: str) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Read every table present at a data location; return the frames and their locations."""
    sources = table_sources(data_url)
    frames = {name: read_source(source) for name, source in sources.items()}
    return frames, {name: source.location for name, source in sources.items()}


def read_source(source: TableSource) -> pd.DataFrame:
    """Read a whole table from its source in one pass (Parquet files as one dataset).

    Raises:
        DataContractError: a file cannot be read.
    """
    if source.kind == "csv":
        schema = None
        return concat_pieces([read_unit(source, unit, schema) for unit in read_units(source)])
    schema = table_arrow_schema(source)
    try:
        dataset = ds.dataset(
            list(source.files),
            schema=schema,
            format=_parquet_format(source.schema),
            filesystem=arrow_filesystem(source.fs),
        )
        frame = arrow_to_pandas(dataset.to_table())
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataContractError(
            source.table, None, "unreadable file", f"{source.location}: {exc}"
        ) from None
    return frame.reset_index(drop=True)


def read_table_file(table: str, path: Path) -> pd.DataFrame:
    """Read one table stored at a local path (file or folder), as :func:`read_source` does."""
    fs, location = fsspec.core.url_to_fs(str(path))
    return read_source(source_at(fs, location, table))


def _parquet_format(schema: TableSchema) -> ds.ParquetFileFormat:
    options = ds.ParquetReadOptions(dictionary_columns=_text_columns(schema))
    return ds.ParquetFileFormat(read_options=options)


def _read_parquet_unit(source: TableSource, unit: ReadUnit, schema: pa.Schema) -> pa.Table:
    fragment = _parquet_format(source.schema).make_fragment(
        unit.file,
        filesystem=arrow_filesystem(source.fs),
        row_groups=list(unit.row_groups) if unit.row_groups is not None else None,
    )
    return fragment.to_table(schema=schema)


def _read_csv(source: TableSource, file: str) -> pa.Table:
    # As the loader: ids as text so leading zeros survive, empty fields are missing values.
    text_columns = _text_columns(source.schema)
    types = {name: pa.dictionary(pa.int32(), pa.string()) for name in text_columns}
    types |= {c.name: pa.string() for c in source.schema.columns if c.kind == "id"}
    # Dates as text: Arrow would shift a time with an offset to UTC; coercion keeps the
    # local wall-clock time, as for time-zone-aware Parquet.
    types |= {c.name: pa.string() for c in source.schema.columns if c.kind in ("date", "datetime")}
    options = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
    with source.fs.open(file, "rb") as stream:
        return pacsv.read_csv(stream, convert_options=options)


def _text_columns(schema: TableSchema) -> list[str]:
    return [c.name for c in schema.columns if c.kind == "string"]


def reading_schema(schema: pa.Schema, contract: TableSchema) -> pa.Schema:
    """Read optional text dictionary-encoded and ids as plain strings, whatever the files hold.

    Ids stay plain strings: at a million customers most ids recur in every row
    group, so per-group dictionaries would cost more than they save.
    """
    text_columns = _text_columns(contract)
    id_columns = [c.name for c in contract.columns if c.kind == "id"]
    for i, field in enumerate(schema):
        value_type = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        if not (pa.types.is_string(value_type) or pa.types.is_large_string(value_type)):
            continue
        if field.name in text_columns:
            schema = schema.set(i, field.with_type(pa.dictionary(pa.int32(), pa.string())))
        elif field.name in id_columns:
            schema = schema.set(i, field.with_type(pa.string()))
    return schema.remove_metadata()
