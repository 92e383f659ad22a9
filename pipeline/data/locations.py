"""Where input tables are stored: find and list them at a data location, local or remote.

A data location is a local folder or any fsspec URL (``file:///data``,
``s3://bucket/export``, ``memory://demo``) holding, per table,
``<table>.parquet`` (a file or a folder), a folder ``<table>/`` of Parquet files
(a warehouse export) or ``<table>.csv``. Files whose names start with ``.`` or
``_`` (temporary files, ``_SUCCESS`` markers) are skipped. Reading what is found
is pipeline/data/reader.py's, the one entry every caller imports these from.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from pipeline.core.contract import SCHEMAS, TableSchema
from pipeline.core.errors import ChurnError, DataContractError


@dataclass(frozen=True)
class TableSource:
    """Where one table is stored: its files on a filesystem, Parquet or CSV."""

    table: str
    location: str
    fs: fsspec.AbstractFileSystem
    files: tuple[str, ...]
    kind: str
    shadowed: tuple[str, ...] = ()
    """Other copies of the table found beside it and not read (reported, never silent)."""

    @property
    def schema(self) -> TableSchema:
        """The table's contract schema."""
        return SCHEMAS[self.table]


def table_sources(data_url: str) -> dict[str, TableSource]:
    """Return the source of every table present at a data location.

    An optional table without a single row counts as absent: its features are
    unavailable (NaN), never zeros.

    Raises:
        ChurnError: the location cannot be opened or is not a folder.
        DataContractError: a required table is missing, or a table folder holds no Parquet file.
    """
    try:
        fs, root = fsspec.core.url_to_fs(str(data_url))
    except (ValueError, ImportError) as exc:
        raise ChurnError(f"cannot open the data location {data_url}: {exc}") from None
    if not fs.isdir(root):
        raise ChurnError(f"data folder not found: {data_url}")
    sources = {}
    for name, schema in SCHEMAS.items():
        source = find_table_source(fs, root, name)
        if source is not None and (schema.required or not is_empty(source)):
            sources[name] = source
        elif schema.required:
            raise DataContractError(
                name,
                None,
                "required table missing",
                f"no {name}.parquet, {name}/ or {name}.csv in {data_url}",
            )
    return sources


def find_table_source(fs: fsspec.AbstractFileSystem, root: str, table: str) -> TableSource | None:
    """Return ``<table>.parquet`` (file or folder), else ``<table>/``, else ``<table>.csv``.

    The contract prefers Parquet; copies found beside the one read are named in
    ``shadowed``, so the load report can say which file was not read.
    """
    root = root.rstrip("/")
    found = [
        candidate
        for candidate in (f"{root}/{table}.parquet", f"{root}/{table}", f"{root}/{table}.csv")
        if fs.exists(candidate)
    ]
    if not found:
        return None
    return dataclasses.replace(source_at(fs, found[0], table), shadowed=tuple(found[1:]))


def source_at(fs: fsspec.AbstractFileSystem, location: str, table: str) -> TableSource:
    """Return the source stored at ``location``: a folder of Parquet files, or one file.

    Raises:
        DataContractError: a folder holds no Parquet file.
    """
    if fs.isdir(location):
        files = tuple(_parquet_files(fs, location))
        if not files:
            raise DataContractError(
                table, None, "unreadable file", f"{location} holds no .parquet files"
            )
        return TableSource(table, location, fs, files, "parquet")
    kind = "csv" if location.lower().endswith(".csv") else "parquet"
    return TableSource(table, location, fs, (location,), kind)


def _parquet_files(fs: fsspec.AbstractFileSystem, folder: str) -> list[str]:
    """Return every Parquet file under a table folder, partition sub-folders included.

    Names are matched without regard to case (``part-0.PARQUET``) and sub-folders are
    walked (Hive-style ``year=2022/part-0.parquet``). Hidden and marker files (a name
    starting with ``.`` or ``_`` anywhere in the path: temporary files, ``_SUCCESS``,
    ``_metadata``) are skipped.

    Raises:
        DataContractError: the folder holds other files, which would otherwise be ignored.
    """
    base = folder.rstrip("/")
    found, other = [], []
    for name in sorted(fs.find(base, withdirs=False)):
        relative = name[len(base) :].lstrip("/")
        if any(part[:1] in "._" for part in relative.split("/")):
            continue
        (found if name.lower().endswith(".parquet") else other).append(name)
    if other:
        listed = ", ".join(other[:5]) + (f" and {len(other) - 5} more" if len(other) > 5 else "")
        raise DataContractError(
            _table_of(base),
            None,
            "unreadable file",
            f"{base} holds files that are not Parquet (*.parquet): {listed}; "
            "move them out or rename them so that nothing is ignored",
        )
    return found


def _table_of(folder: str) -> str:
    name = folder.rsplit("/", 1)[-1]
    return name[: -len(".parquet")] if name.lower().endswith(".parquet") else name


def unread_entries(data_url: str) -> list[str]:
    """Return the files and folders of a data location that no contract table names.

    Hidden and marker names (``.``, ``_``) are left out. They are reported, never read:
    a table exported under another name (``orders.parquet``) would otherwise be
    missing without a word.
    """
    fs, root = fsspec.core.url_to_fs(str(data_url))
    names = {f"{table}{suffix}" for table in SCHEMAS for suffix in (".parquet", "", ".csv")}
    entries = [entry.rstrip("/").rsplit("/", 1)[-1] for entry in fs.ls(root, detail=False)]
    return sorted(e for e in entries if e not in names and e[:1] not in "._")


def is_empty(source: TableSource) -> bool:
    """Return whether a table holds no row (a header-only CSV, Parquet files of 0 rows)."""
    if source.kind == "csv":
        with source.fs.open(source.files[0], "rb") as stream:
            return len([line for line in stream.read(1 << 16).splitlines()[:2] if line.strip()]) < 2
    fs = arrow_filesystem(source.fs)
    try:
        return all(pq.read_metadata(file, filesystem=fs).num_rows == 0 for file in source.files)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataContractError(
            source.table, None, "unreadable file", f"{source.location}: {exc}"
        ) from None


def find_table_file(data_dir: Path, table: str) -> Path | None:
    """Return a local folder's ``<table>.parquet`` (file or folder), ``<table>/`` or ``.csv``."""
    fs, root = fsspec.core.url_to_fs(str(data_dir))
    source = find_table_source(fs, root, table)
    return None if source is None else Path(source.location)


def is_url(data: Path | str) -> bool:
    """Return whether an input location is an fsspec URL (``s3://``, ``file://``...)."""
    return isinstance(data, str) and "://" in data


def arrow_filesystem(fs: fsspec.AbstractFileSystem) -> pafs.FileSystem:
    """Return a pyarrow filesystem for an fsspec one (Arrow's own for local files)."""
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
    if "file" in protocols or "local" in protocols:
        return pafs.LocalFileSystem()
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))


def same_folder(a: Path | str, b: Path | str) -> bool:
    """True when two local paths name the same folder (False when either cannot be resolved)."""
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False
