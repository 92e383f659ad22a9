"""Pieces of a table routed to customer partitions, rows in their storage order.

A read task reads one piece of a table (a file, or a run of row groups of a large
file: pipeline/data/reader.py) and splits its rows by customer partition
(pipeline/data/partitions.py), keeping their order; each part carries its rows'
positions in the piece, and the piece its row count, so a partition's rows know
their position in the whole table (the quarantine's ``source_row``).
"""

from __future__ import annotations

import operator

import numpy as np
import pandas as pd

from pipeline.core.contract import SCHEMAS
from pipeline.core.errors import DataContractError
from pipeline.core.executor import Executor
from pipeline.data.coercion import coerce_column
from pipeline.data.partitions import customer_partitions, partition_order
from pipeline.data.quarantine import RowProblems
from pipeline.data.reader import ReadUnit, TableSource, read_unit, read_units, table_arrow_schema


def routed_table(source: TableSource, n_partitions: int, executor: Executor) -> dict[str, list]:
    """Submit one read-and-route task per piece of a table.

    Returns:
        ``{"rows": handles [partition][piece] of the piece's rows in that partition with
        their rows' positions in the piece, "counts": handles of each piece's number of
        rows, "branches": handles of each piece's branch values}``.
    """
    schema = table_arrow_schema(source)
    # One handle per partition's rows of each piece, and one of the piece's row count and
    # branches: an executor keeping results on disk then writes each slice once.
    pieces = [
        executor.submit_parts(routed_piece, n_partitions + 1, source, unit, schema, n_partitions)
        for unit in read_units(source)
    ]
    rows = [[piece[partition] for piece in pieces] for partition in range(n_partitions)]
    about = [piece[n_partitions] for piece in pieces]
    counts = [executor.submit(operator.itemgetter("n_rows"), meta) for meta in about]
    branches = [executor.submit(operator.itemgetter("branches"), meta) for meta in about]
    return {"rows": rows, "counts": counts, "branches": branches}


def routed_piece(source: TableSource, unit: ReadUnit, schema, n_partitions: int) -> list:
    """Read one piece and split its rows by customer partition, keeping their order.

    Returns:
        ``(frame, positions in the piece)`` per partition, then ``{"n_rows": rows read,
        "branches": branch values}`` (branches of customers).
    """
    frame = read_unit(source, unit, schema)
    ids = _customer_ids(source.table, frame)
    order, bounds = partition_order(customer_partitions(ids, n_partitions), n_partitions)
    grouped = frame.take(order)
    rows = [
        (
            grouped.iloc[bounds[p] : bounds[p + 1]].reset_index(drop=True),
            order[bounds[p] : bounds[p + 1]],
        )
        for p in range(n_partitions)
    ]
    return [*rows, {"n_rows": len(frame), "branches": _branches(source.table, frame)}]


def _customer_ids(table: str, frame: pd.DataFrame) -> pd.Series:
    """Return the ids as the loader will read them (text), to route rows consistently."""
    column = next(c for c in SCHEMAS[table].columns if c.name == "customer_id")
    if "customer_id" not in frame:
        raise DataContractError(table, "customer_id", "required column missing", "no such column")
    return coerce_column(table, column, frame["customer_id"], RowProblems(len(frame)))


def _branches(table: str, frame: pd.DataFrame) -> tuple[str, ...]:
    if table != "customers" or "branch" not in frame:
        return ()
    column = next(c for c in SCHEMAS[table].columns if c.name == "branch")
    typed = coerce_column(table, column, frame["branch"], RowProblems(len(frame)))
    return tuple(str(v) for v in typed.cat.categories)


def branch_categories(pieces: list[tuple[str, ...]]) -> list[str]:
    """Return the branch values of every piece of customers, sorted (one categorical for all)."""
    return sorted({value for piece in pieces for value in piece})


def table_source_rows(rows: list[tuple[pd.DataFrame, np.ndarray]], counts: list[int]) -> np.ndarray:
    """Return each of a partition's rows' position in the whole table (pieces in storage order)."""
    offsets = np.cumsum([0, *counts], dtype=np.int64)[:-1]
    parts = [offset + positions for (_, positions), offset in zip(rows, offsets, strict=True)]
    return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, np.int64)
