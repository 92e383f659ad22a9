"""Write the demo tables into a data folder, all or nothing.

Tables are streamed into a hidden staging folder next to the target, one row
group per simulated month, and the staging folder replaces the target only
once every file is complete: an interrupted run leaves the old folder (or
none) behind, never a half-written one. Same rows, same bytes: the writers
add no timestamps or other run-dependent metadata.
"""

from __future__ import annotations

import os
import shutil
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from pipeline.core.errors import ChurnError
from pipeline.demo.rows import ARROW_SCHEMAS

FORMATS = ("parquet", "csv")
TABLE_FILES = frozenset(f"{table}.{fmt}" for table in ARROW_SCHEMAS for fmt in FORMATS)
PARQUET_COMPRESSION = "zstd"
# Chunks (about one table-month each) waiting for the writer thread.
MAX_CHUNKS_IN_FLIGHT = 8


def check_replaceable(out: Path) -> None:
    """Refuse to replace anything but a folder of contract tables.

    Raises:
        ChurnError: ``out`` is a file, or a folder holding other files.
    """
    if out.exists() and not out.is_dir():
        raise ChurnError(f"{out} exists and is not a folder")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in TABLE_FILES)
        if foreign:
            shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
            raise ChurnError(
                f"refusing to replace {out}: it holds files that are not demo tables ({shown})"
            )


def write_tables_atomically(
    out: Path, chunks: Iterable[tuple[str, pa.Table]], fmt: str = "parquet"
) -> dict[str, int]:
    """Stream ``(table, rows)`` chunks into ``out/<table>.<fmt>``; return rows per table.

    Every table of the contract gets a file, empty tables included.

    Raises:
        ChurnError: unknown format, or ``out`` cannot be replaced (see check_replaceable).
    """
    if fmt not in FORMATS:
        raise ChurnError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    out = Path(out)
    check_replaceable(out)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        rows = _write_all(staging, chunks, fmt)
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return rows


def _write_all(folder: Path, chunks: Iterable[tuple[str, pa.Table]], fmt: str) -> dict[str, int]:
    # One background thread writes (Arrow releases the GIL) while the simulator
    # computes the next month; a single writer keeps the chunks in order, so the
    # bytes do not depend on timing, and the bounded backlog bounds memory.
    writers = {
        name: _open_writer(folder, name, schema, fmt) for name, schema in ARROW_SCHEMAS.items()
    }
    rows = dict.fromkeys(ARROW_SCHEMAS, 0)
    backlog: deque[Future] = deque()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            for name, table in chunks:
                if table.num_rows:
                    backlog.append(pool.submit(writers[name].write_table, _for_format(table, fmt)))
                    rows[name] += table.num_rows
                while len(backlog) > MAX_CHUNKS_IN_FLIGHT:
                    backlog.popleft().result()
            while backlog:
                backlog.popleft().result()
    finally:
        for writer in writers.values():
            writer.close()
    return rows


def _open_writer(folder: Path, name: str, schema: pa.Schema, fmt: str):
    path = folder / f"{name}.{fmt}"
    if fmt == "csv":
        return pa_csv.CSVWriter(path, _csv_schema(schema))
    return pq.ParquetWriter(path, schema, compression=PARQUET_COMPRESSION)


def _csv_schema(schema: pa.Schema) -> pa.Schema:
    # Whole seconds read better in a CSV than "10:23:11.000000".
    return pa.schema(
        pa.field(f.name, pa.timestamp("s")) if pa.types.is_timestamp(f.type) else f for f in schema
    )


def _for_format(table: pa.Table, fmt: str) -> pa.Table:
    return table.cast(_csv_schema(table.schema)) if fmt == "csv" else table


def _swap_into_place(staging: Path, out: Path) -> None:
    if not out.exists():
        os.replace(staging, out)
        return
    retired = out.parent / f".{out.name}.old-{os.getpid()}"
    shutil.rmtree(retired, ignore_errors=True)
    os.replace(out, retired)
    os.replace(staging, out)
    shutil.rmtree(retired, ignore_errors=True)
