"""The one entry every command reads its data through: files -> checked :class:`Tables`.

:func:`load_tables` reads ``<table>.parquet``, a folder ``<table>/`` of Parquet
files, or ``<table>.csv``; :func:`tables_from_frames` takes DataFrames already in
memory. Both take the same three steps: type and check every row
(:mod:`pipeline.data.checks`), settle the observation end
(:mod:`pipeline.data.observation`), quarantine the rejected rows and assemble the
tables every stage receives (:mod:`pipeline.data.assembly`). See docs/data-contract.md.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from pipeline.core.contract import SCHEMAS
from pipeline.core.errors import ChurnError, DataContractError
from pipeline.core.params import Params
from pipeline.data.arrow_frames import release_arrow_memory, use_system_memory_pool
from pipeline.data.assembly import SWITCHED_OFF, LoadResult, finish_frames
from pipeline.data.checks import CheckedFrames, check_frames
from pipeline.data.locations import same_folder
from pipeline.data.observation import decide_observation_end
from pipeline.data.quarantine import check_rejected_share
from pipeline.data.reader import TableSource, is_url, read_source, table_sources, unread_entries

__all__ = [
    "SWITCHED_OFF",
    "CheckedFrames",
    "LoadResult",
    "check_folders",
    "check_frames",
    "finish_frames",
    "load_tables",
    "shadowed_warnings",
    "tables_from_frames",
    "unread_warnings",
]


def load_tables(
    data_dir: Path | str, params: Params, rejected_dir: Path | str | None
) -> LoadResult:
    """Read, check and assemble the input tables of a data folder.

    Args:
        data_dir: folder holding ``<table>.parquet``, ``<table>/`` or ``<table>.csv``.
        params: the run's params (``validation`` and ``data.observation_end`` are used).
        rejected_dir: folder for ``<table>.parquet`` quarantine files; None writes none.

    Returns:
        The tables and the load report.

    Raises:
        DataContractError: a required table or column is missing, a column cannot
            be read as its type, a required table is empty, or too many rows of a
            table were rejected (the quarantine files are written first).
    """
    started = time.perf_counter()
    check_folders(data_dir, rejected_dir)
    use_system_memory_pool()  # the tables whole in this process
    sources = table_sources(str(data_dir))
    raw = {name: read_source(source) for name, source in sources.items()}
    locations = {name: source.location for name, source in sources.items()}
    loaded = _checked(raw, locations, params, rejected_dir, started)
    loaded.report.warnings += shadowed_warnings(sources) + unread_warnings(str(data_dir))
    return loaded


def check_folders(data_dir: Path | str, rejected_dir: Path | str | None) -> None:
    """Refuse a local data folder that does not exist, or quarantine written into it.

    Raises:
        ChurnError: naming the folder.
    """
    if is_url(data_dir):
        return
    if not Path(data_dir).is_dir():
        raise ChurnError(f"data folder not found: {data_dir}")
    if rejected_dir is not None and same_folder(rejected_dir, data_dir):
        raise ChurnError(f"the quarantine folder must not be the data folder ({data_dir})")


def unread_warnings(data_url: str) -> list[str]:
    """Name the entries of the data folder that are not contract tables (not read)."""
    unread = unread_entries(data_url)
    if not unread:
        return []
    return [
        f"not a contract table, not read: {', '.join(unread[:10])}"
        + (f" and {len(unread) - 10} more" if len(unread) > 10 else "")
        + f" (the tables are {', '.join(SCHEMAS)})"
    ]


def shadowed_warnings(sources: Mapping[str, TableSource]) -> list[str]:
    """Name every copy of a table that was found and not read."""
    return [
        f"{name}: {', '.join(source.shadowed)} also found and NOT read; {source.location} is "
        "read (the contract prefers Parquet): remove the other copies if they differ"
        for name, source in sources.items()
        if source.shadowed
    ]


def tables_from_frames(
    frames: Mapping[str, pd.DataFrame | None],
    params: Params | None = None,
    rejected_dir: Path | str | None = None,
) -> LoadResult:
    """Check and assemble tables held in memory, exactly as :func:`load_tables` does.

    The frames are not modified. Minimal frames are enough, e.g. customers with
    ``customer_id, open_date, closed_date`` and trades with ``customer_id,
    trade_date, amount, commission``; dates may be ISO strings.

    Args:
        frames: DataFrames by contract table name; absent or None optional tables are missing.
        params: the run's params; None uses the defaults.
        rejected_dir: folder for quarantine files; None writes none.

    Raises:
        ChurnError: a frame name that is not a contract table.
        DataContractError: as for :func:`load_tables`.
    """
    started = time.perf_counter()
    unknown = sorted(set(frames) - set(SCHEMAS))
    if unknown:
        raise ChurnError(f"unknown tables {unknown}; the contract's tables are {list(SCHEMAS)}")
    raw = {
        name: frames[name].reset_index(drop=True)
        for name in SCHEMAS
        if frames.get(name) is not None
    }
    for name, schema in SCHEMAS.items():
        if schema.required and name not in raw:
            raise DataContractError(name, None, "required table missing", "no such frame given")
    sources = {name: "in memory" for name in raw}
    return _checked(raw, sources, params or Params(), rejected_dir, started)


def _checked(
    raw: dict[str, pd.DataFrame],
    sources: dict[str, str],
    params: Params,
    rejected_dir: Path | str | None,
    started: float,
) -> LoadResult:
    """Check the frames, settle the observation end, quarantine, fail on too many rejects."""
    checked = check_frames(raw, sources, params.validation)
    decided = decide_observation_end(
        checked.months, params.data.observation_end, params.data.min_activity_share
    )
    loaded = finish_frames(checked, decided, rejected_dir, release=True)
    del checked
    release_arrow_memory()  # the frames as read and what the checks' kernels freed
    check_rejected_share(loaded.report.tables, params.validation.max_rejected_share)
    loaded.report.seconds = time.perf_counter() - started
    return loaded
