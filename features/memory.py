"""Let the build reuse freed memory instead of returning it to the system after every chunk.

The chunked build allocates and frees the same ~100 MB of arrays per chunk. By
default glibc hands freed blocks of that size back to the kernel, and on virtual
machines like the one the benchmarks ran on, touching fresh pages again costs
about as much as the arithmetic (page faults were half the build's time). Raising
glibc's mmap and trim thresholds keeps up to a few hundred MB of freed heap for
reuse. Process-wide and glibc-only; elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import functools
import sys

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
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
        and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)
    )
