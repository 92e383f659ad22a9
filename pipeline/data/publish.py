"""Publish a dataset folder atomically: parts under a temporary name, a rename, ``_SUCCESS`` last.

Workers write their part files into a hidden staging folder beside the target.
Only when every part is written does the client move the staging folder to the
target name and then write the ``_SUCCESS`` marker, the last file of the
dataset. Readers treat a folder without ``_SUCCESS`` as incomplete, which also
covers object stores where a folder "rename" is a copy of each object. A job
that fails or is killed before the end leaves the previous complete dataset at
the target (or nothing) and at most an abandoned hidden staging folder.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from pipeline.core.errors import ChurnError
from pipeline.data.reader import arrow_filesystem

SUCCESS = "_SUCCESS"
"""The marker a complete dataset folder ends with."""


def is_dataset_path(out: Path | str) -> bool:
    """Return whether an output path names a dataset folder: any path not ending in ``.parquet``."""
    return not str(out).lower().endswith(".parquet")


def part_name(partition: int) -> str:
    """Return the file name of one partition's part: ``part-00007.parquet``."""
    return f"part-{partition:05d}.parquet"


@dataclass
class Staging:
    """A staging folder being filled; ``summary`` goes into the ``_SUCCESS`` marker (JSON)."""

    url: str
    summary: dict = field(default_factory=dict)


@contextmanager
def staged_dataset(target: str) -> Iterator[Staging]:
    """Yield a fresh hidden staging folder beside ``target``; publish it when the block succeeds.

    On any error (or interrupt) inside the block the staging folder is removed and
    ``target`` keeps its previous content.

    Args:
        target: the dataset folder (local path or fsspec URL) every worker can write.
    """
    fs, path = fsspec.core.url_to_fs(str(target))
    path = path.rstrip("/")
    staging = _sibling(path, f"{secrets.token_hex(6)}.tmp")
    fs.makedirs(staging, exist_ok=False)
    stage = Staging(_url(fs, staging))
    try:
        yield stage
    except BaseException:
        fs.rm(staging, recursive=True)
        raise
    publish(fs, staging, path, stage.summary)


def publish(
    fs: fsspec.AbstractFileSystem, staging: str, target: str, summary: dict | None = None
) -> None:
    """Move a finished staging folder to ``target`` (replacing a dataset there), then mark it."""
    replaced = None
    if fs.exists(target):
        replaced = _sibling(target, f"replaced-{secrets.token_hex(6)}")
        fs.mv(target, replaced, recursive=True)
    fs.mv(staging, target, recursive=True)
    with fs.open(f"{target}/{SUCCESS}", "w") as marker:
        marker.write(json.dumps(summary or {}))
    if replaced is not None:
        fs.rm(replaced, recursive=True)


def write_part(data: pd.DataFrame | pa.Table, url: str) -> int:
    """Write one part file (a worker's task) and return its rows."""
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    fs, path = fsspec.core.url_to_fs(url)
    pq.write_table(table, path, filesystem=arrow_filesystem(fs))
    return table.num_rows


def is_complete(folder: str) -> bool:
    """Return whether a dataset folder was published completely (holds ``_SUCCESS``)."""
    fs, path = fsspec.core.url_to_fs(str(folder))
    return fs.exists(f"{path.rstrip('/')}/{SUCCESS}")


def read_dataset(folder: str) -> pd.DataFrame:
    """Read a published dataset folder (its part files in name order).

    Raises:
        ChurnError: the folder is absent or incomplete (no ``_SUCCESS``).
    """
    if not is_complete(folder):
        raise ChurnError(
            f"{folder} is not a complete dataset (no {SUCCESS} marker): "
            "its job did not finish; rerun it"
        )
    fs, path = fsspec.core.url_to_fs(str(folder))
    files = sorted(
        f
        for f in fs.find(path, maxdepth=1)
        if f.endswith(".parquet") and f.rsplit("/", 1)[-1][0] not in "._"
    )
    dataset = ds.dataset(files, format="parquet", filesystem=arrow_filesystem(fs))
    return dataset.to_table().to_pandas(date_as_object=False)


def _sibling(path: str, suffix: str) -> str:
    """Return a hidden sibling of ``path``: ``<parent>/.<name>-<suffix>``."""
    parent, _, name = path.rpartition("/")
    return f"{parent}/.{name}-{suffix}" if parent or path.startswith("/") else f".{name}-{suffix}"


def _url(fs: fsspec.AbstractFileSystem, path: str) -> str:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return path if protocol in ("file", "local") else f"{protocol}://{path.lstrip('/')}"
