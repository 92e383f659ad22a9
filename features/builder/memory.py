"""Memory settings that make the chunked build fast on virtual machines like the benchmark's.

The build allocates and frees the same ~100-200 MB of arrays per chunk, then fills
a few GB of output. Two process-wide settings, measured on the benchmark machine
(a 2-core VM where touching fresh memory costs as much as the arithmetic):

- glibc's mmap and trim thresholds are raised once, so freed chunk arrays are
  reused instead of handed back to the kernel and faulted in again (page faults
  were half the build's time before);
- numpy's transparent-huge-page advice is switched off while the build runs:
  filling 2.7 GB of fresh output took 1.1-1.3 s with 4 KB pages and 1.9-3.6 s
  with huge pages (the kernel compacts memory to find them). It is restored after.

Both are no-ops where unsupported (non-glibc, other platforms, other numpy).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import sys
from collections.abc import Iterator

import numpy as np

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 32 << 20  # glibc's largest allowed value
_TRIM_THRESHOLD_BYTES = 512 << 20


@functools.cache
def reuse_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; return whether it applied."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
        and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)
    )


@contextlib.contextmanager
def build_memory() -> Iterator[None]:
    """Apply both settings for the duration of a build (huge-page advice is restored after)."""
    reuse_freed_memory()
    setter = getattr(getattr(np, "_core", None), "multiarray", None)
    setter = getattr(setter, "_set_madvise_hugepage", None)
    previous = setter(False) if setter is not None else None
    try:
        yield
    finally:
        if setter is not None:
            setter(previous)
