"""64-bit hashes that are the same on every machine, process and run (unlike Python's ``hash``).

:func:`text_hashes` hashes each id's UTF-8 bytes (customer partitions,
pipeline/data/partitions.py); :func:`mix_in_place` scrambles integers (repeated
rows, pipeline/data/repeated.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
VECTOR_BYTES = 64
"""Ids up to this many bytes are hashed together; longer ones (rare) one at a time."""


def mix_in_place(values: np.ndarray) -> None:
    """Scramble 64-bit values (the splitmix64 finaliser)."""
    shifted = np.empty_like(values)
    for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB), (31, None)):
        np.right_shift(values, np.uint64(shift), out=shifted)
        np.bitwise_xor(values, shifted, out=values)
        if factor is not None:
            np.multiply(values, np.uint64(factor), out=values)


def text_hashes(values: pd.Series | np.ndarray | pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Return a 64-bit hash of each value's UTF-8 bytes; a missing value hashes as "".

    The hash: FNV-1a over the bytes, then the byte count xor-ed in, then the splitmix64
    finaliser. Values of up to :data:`VECTOR_BYTES` bytes are hashed side by side,
    one byte position at a time over the values that long (sorted by length once),
    so the cost follows the bytes, not the rows times the longest value.
    """
    text = _large_strings(values)
    n = len(text)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64, count=n + 1, offset=text.offset * 8)
    data_buffer = text.buffers()[2]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else None
    lengths = np.diff(offsets)
    if text.null_count:
        lengths[text.is_null().to_numpy(zero_copy_only=False)] = 0
    hashes = np.full(n, FNV_OFFSET, dtype=np.uint64)
    short = lengths <= VECTOR_BYTES
    _fnv_side_by_side(hashes, offsets[:-1], lengths, short, data)
    for row in np.flatnonzero(~short):
        start = offsets[row]
        hashes[row] = _fnv_one(data[start : start + lengths[row]].tobytes())
    np.bitwise_xor(hashes, lengths.astype(np.uint64), out=hashes)
    mix_in_place(hashes)
    return hashes


def _large_strings(values) -> pa.LargeStringArray:
    """Return the values as one Arrow array of large strings (64-bit offsets)."""
    if not isinstance(values, pa.Array | pa.ChunkedArray):
        values = pa.array(values, type=pa.large_string(), from_pandas=True)
    if isinstance(values, pa.ChunkedArray):  # also a pandas Series backed by Arrow chunks
        values = values.combine_chunks()
    if isinstance(values.type, pa.DictionaryType):
        values = values.dictionary_decode()
    return values.cast(pa.large_string())


def _fnv_side_by_side(
    hashes: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    rows: np.ndarray,
    data: np.ndarray | None,
) -> None:
    """FNV-1a the bytes of the ``rows`` (a mask), in place; every byte position is one pass."""
    if data is None or not rows.any():
        return
    if rows.all() and lengths.min() == lengths.max():  # ids of one width: no sort needed
        by_length = slice(None)
    else:
        chosen = np.flatnonzero(rows)
        # Lengths of at most VECTOR_BYTES fit 8 bits: numpy sorts those by radix, in one pass.
        by_length = chosen[np.argsort(lengths[chosen].astype(np.uint8), kind="stable")]
    sorted_lengths = lengths[by_length]
    sorted_starts = starts[by_length]
    part = hashes[by_length]
    prime = np.uint64(FNV_PRIME)
    for position in range(int(sorted_lengths[-1])):
        first = np.searchsorted(sorted_lengths, position, side="right")  # longer than position
        active = part[first:]
        np.bitwise_xor(active, data[sorted_starts[first:] + position], out=active)
        np.multiply(active, prime, out=active)
    hashes[by_length] = part


def _fnv_one(data: bytes) -> int:
    value = FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return value
