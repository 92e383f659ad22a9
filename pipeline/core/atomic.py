"""Write output files atomically: readers see the old file or the whole new one, never a part.

Every writer goes to a temporary sibling (same folder, so same file system) and
``os.replace`` moves it over the target only once the write has finished; on any
error the temporary file is removed and the target is left untouched.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; move it over ``path`` when the block succeeds.

    The temporary path does not exist yet (writers create it, with the usual
    permissions) and ends with the target's suffix, so writers that pick a format
    from the extension still do. The parent folder is created when missing. If the
    block raises, the temporary file is deleted and ``path`` keeps its previous
    content (or stays absent).

    Args:
        path: the file to (re)write.

    Yields:
        A path in the same folder to write the complete new content to.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.stem}-{secrets.token_hex(6)}.tmp{target.suffix}")
    try:
        yield temp
        os.replace(temp, target)
    except BaseException:
        _remove(temp)
        raise


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def atomic_write_parquet(df: pd.DataFrame | pa.Table, path: Path | str) -> Path:
    """Write a DataFrame (without its index) or an Arrow table to Parquet atomically.

    Args:
        df: the data to write.
        path: the Parquet file to (re)write.

    Returns:
        The path written.
    """
    table = df if isinstance(df, pa.Table) else pa.Table.from_pandas(df, preserve_index=False)
    with atomic_path(path) as temp:
        pq.write_table(table, temp)
    return Path(path)


def atomic_write_text(text: str, path: Path | str, encoding: str = "utf-8") -> Path:
    """Write a text file atomically.

    Args:
        text: the complete content.
        path: the file to (re)write.
        encoding: text encoding.

    Returns:
        The path written.
    """
    with atomic_path(path) as temp:
        temp.write_text(text, encoding=encoding)
    return Path(path)


@contextlib.contextmanager
def atomic_folder(path: Path | str) -> Iterator[Path]:
    """Yield a new, empty sibling folder; swap it in for ``path`` when the block succeeds.

    Readers see the previous folder or the whole new one: the old folder is
    renamed aside, the new one into place, and only then is the old one deleted.
    If the block raises, the new folder is deleted and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}-{secrets.token_hex(6)}.tmp")
    temp.mkdir()
    try:
        yield temp
    except BaseException:
        _remove(temp)
        raise
    old = target.with_name(f".{target.name}-{secrets.token_hex(6)}.old")
    if target.exists():
        os.replace(target, old)
    os.replace(temp, target)
    _remove(old)
