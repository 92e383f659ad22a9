"""Arrow tables into the loader's pandas frames: converted, joined, their memory handed back.

The reader (pipeline/data/reader.py) reads tables as Arrow; here they become
pandas frames with dates in ``datetime64[us]``, pieces of one table are joined
into one frame (one set of categories, one date unit), and the memory Arrow's
pool holds free goes back to the operating system.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = [
    "arrow_to_pandas",
    "concat_pieces",
    "release_arrow_memory",
    "use_system_memory_pool",
]


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Convert a table read here to pandas, freeing its Arrow columns as they are converted.

    The caller must hold no other reference to ``table``: the whole table in both
    forms at once would double the peak memory of a load. The freed columns go
    back to the operating system, not only to Arrow's memory pool, which would
    otherwise keep them for reuse (0.4 GB of a 100k-account load). Dates come out
    as ``datetime64[us]``, the type coercion gives them, so that the typed table
    shares their memory with the table as read instead of holding a second copy.
    """
    table = _dates_in_microseconds(table)
    frame = table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)
    release_arrow_memory()
    return frame


def _dates_in_microseconds(table: pa.Table) -> pa.Table:
    """Cast ``date32``/``date64`` columns to ``timestamp[us]`` where every value fits.

    A column with a date beyond year 294,247 is left as it is: coercion rejects that
    row as outside 1900-2199 (pipeline/data/coercion.py).
    """
    for i, field in enumerate(table.schema):
        if not pa.types.is_date(field.type):
            continue
        try:
            as_timestamps = table.column(i).cast(pa.timestamp("us"))
        except pa.ArrowInvalid:  # out of the microsecond range
            continue
        table = table.set_column(i, field.with_type(as_timestamps.type), as_timestamps)
    return table


@functools.cache
def use_system_memory_pool() -> bool:
    """Make the C library's allocator Arrow's memory pool, for the rest of the process.

    Called by a load of the tables whole (pipeline/data/loader.py): Arrow's default
    pool, mimalloc, kept about 0.1 GB of freed pages after a 100k-account load
    and read slower there (load 2.8 s -> 1.9 s, peak 0.1 GB lower). Not for the
    partitions of a larger book: streaming them, mimalloc reuses its buffers
    and the C allocator would map them afresh (1M accounts on 14 partitions:
    load 40.7 s with mimalloc, 49.1 s with the C allocator; docs/scaling.md,
    seventh round). An ``ARROW_DEFAULT_MEMORY_POOL`` set in the environment is
    the user's choice and is left alone. Returns whether the pool was changed.
    """
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return False
    pa.set_memory_pool(pa.system_memory_pool())
    return True


def release_arrow_memory() -> None:
    """Hand the memory Arrow's pool holds free back to the operating system.

    The pool keeps freed buffers for reuse; after a table is read, or a load's
    Arrow kernels are done, nothing reuses them and they only raise the peak.
    """
    pa.default_memory_pool().release_unused()


def concat_pieces(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate pieces of one table in order; categoricals keep the union of categories.

    A date column has one unit across pieces: the coarsest any piece has (a piece holding
    a date beyond ``datetime64[us]`` keeps milliseconds, see :func:`arrow_to_pandas`).
    """
    if len(pieces) == 1:
        return pieces[0]
    categorical = [
        name for name, dtype in pieces[0].dtypes.items() if isinstance(dtype, pd.CategoricalDtype)
    ]
    unified = {
        name: _union_of_categories([p[name] for p in pieces])
        for name in categorical
        if all(isinstance(p[name].dtype, pd.CategoricalDtype) for p in pieces)
    }
    unified |= _coarsest_time_units(pieces)
    aligned = [p.astype(unified) if unified else p for p in pieces]
    return pd.concat(aligned, ignore_index=True)


def _union_of_categories(parts: list[pd.Series]) -> pd.CategoricalDtype:
    """Return the categories of every part; a part with none (all missing) adds nothing.

    Such a part's empty categories may be of another type (a file whose column holds
    no value), which ``union_categoricals`` refuses.
    """
    valued = [part for part in parts if len(part.cat.categories)] or parts[:1]
    return pd.api.types.union_categoricals(valued, ignore_order=True).dtype


TIME_UNITS = ("s", "ms", "us", "ns")
"""datetime64 units, coarsest first."""


def _coarsest_time_units(pieces: list[pd.DataFrame]) -> dict[str, str]:
    """Return, per naive date column whose pieces differ in unit, the coarsest one's dtype."""
    coarsest = {}
    for name in pieces[0].columns:
        dtypes = {p[name].dtype for p in pieces if name in p}
        if len(dtypes) > 1 and all(isinstance(d, np.dtype) and d.kind == "M" for d in dtypes):
            unit = min((np.datetime_data(d)[0] for d in dtypes), key=TIME_UNITS.index)
            coarsest[name] = f"datetime64[{unit}]"
    return coarsest
