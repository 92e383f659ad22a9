"""Repeated rows: trades, transfers or events that repeat an earlier row exactly.

Found without comparing every pair: each row is hashed from integers (category
codes, date ticks, float bits, the customer's position), a slice of rows at a
time, and the values are compared only among rows whose hash recurs. A contract
rule (docs/data-contract.md), applied by pipeline/data/checks.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.core.contract import TableSchema
from pipeline.data.hashing import mix_in_place

DUPLICATE_ROW = "duplicate row"
DEDUPLICATED = ("trades", "transfers", "events")
BITMAP_SPREAD = 64  # bits of the recurring values' bitmap per recurring value (few false hits)
HASH_SLICE_ROWS = 1 << 20  # rows hashed at a time


def repeated_rows(
    table: str, frame: pd.DataFrame, schema: TableSchema, positions: np.ndarray | None = None
) -> np.ndarray:
    """Return which rows of trades, transfers or events repeat an earlier row exactly.

    ``positions`` (each row's customer position, ``validation.customer_positions``) saves
    hashing the ids again.
    """
    if table not in DEDUPLICATED or len(frame) < 2:
        return np.zeros(len(frame), dtype=bool)
    columns = [c.name for c in schema.columns if c.name in frame]
    known = {} if positions is None else {"customer_id": positions}
    # Equal rows have equal hashes: the values are compared only where a hash recurs.
    candidates = recurring(row_hashes(frame, columns, known))
    repeated = np.zeros(len(frame), dtype=bool)
    if candidates.any():
        repeated[candidates] = frame.loc[candidates, columns].duplicated(keep="first").to_numpy()
    return repeated


def row_hashes(
    frame: pd.DataFrame, columns: list[str], known: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """Return a 64-bit hash per row of ``columns``: rows equal in those columns hash equal.

    Each column becomes integers first (category codes, date ticks, float bits with
    -0.0 and NaN made one value, codes of other values; ``known`` gives a column's
    integers outright, equal for equal values), then the columns are mixed. Rows
    are hashed a slice at a time, so the working memory is a slice's, not a table's.
    """
    known = dict(known or {})
    for column in columns:
        if column not in known and not _sliceable(frame[column]):
            known[column] = pd.factorize(frame[column])[0]  # codes need the whole column
    hashed = np.empty(len(frame), dtype=np.uint64)
    for start in range(0, len(frame), HASH_SLICE_ROWS):
        rows = slice(start, start + HASH_SLICE_ROWS)
        part = np.zeros(len(hashed[rows]), dtype=np.uint64)
        for column in columns:
            integers = (
                known[column][rows].astype(np.uint64)
                if column in known
                else _column_integers(frame[column].iloc[rows])
            )
            np.multiply(part, np.uint64(0x100000001B3), out=part)
            np.bitwise_xor(part, integers, out=part)
            mix_in_place(part)
        hashed[rows] = part
    return hashed


def recurring(hashes: np.ndarray) -> np.ndarray:
    """Return which hashes occur more than once.

    The recurring values are found in a sorted copy (neighbours equal); each hash is
    then looked up among them, first through a bitmap of their low bits (one gather per
    hash; 8 KB to 16 MB, by how many values recur), then exactly, by binary search, for
    the few hashes whose bits are set in it.
    """
    found = np.zeros(len(hashes), dtype=bool)
    ordered = np.sort(hashes)
    values = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    if not len(values):
        return found
    bits = min(max(int(len(values) * BITMAP_SPREAD).bit_length(), 16), 24)
    low = np.uint64((1 << bits) - 1)
    bitmap = np.zeros(1 << bits, dtype=bool)
    bitmap[(values & low).astype(np.intp)] = True
    hits = [
        start
        + np.flatnonzero(bitmap[(hashes[start : start + HASH_SLICE_ROWS] & low).astype(np.intp)])
        for start in range(0, len(hashes), HASH_SLICE_ROWS)
    ]
    maybe = np.concatenate(hits)
    place = np.minimum(np.searchsorted(values, hashes[maybe]), len(values) - 1)
    found[maybe] = values[place] == hashes[maybe]
    return found


def _sliceable(values: pd.Series) -> bool:
    """Return whether a slice of the column gives the same integers as the whole column."""
    return (
        isinstance(values.dtype, pd.CategoricalDtype)
        or pd.api.types.is_datetime64_dtype(values.dtype)
        or values.dtype == np.float64
    )


def _column_integers(values: pd.Series) -> np.ndarray:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.uint64)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.to_numpy(dtype="datetime64[us]").view(np.uint64)
    if values.dtype == np.float64:
        numbers = values.to_numpy() + 0.0  # -0.0 becomes 0.0
        numbers[np.isnan(numbers)] = np.nan
        return numbers.view(np.uint64)
    return pd.factorize(values)[0].astype(np.uint64)
