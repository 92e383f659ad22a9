"""Python's cyclic garbage collector paused while a pass makes many small objects.

The reasons pass makes a few small objects per account (lists of reasons, the
reasons themselves, play texts), none of them in a reference cycle, so
reference counting frees them all. The cyclic collector does not know that:
every 700 new container objects it runs, and its older generations go through
every object the process holds (300,000 with pandas, LightGBM and MLflow
loaded), which cost 0.16 s of the 0.17 s that 60,000 rule reasons took
(benchmarks/bench_scoring.py; docs/scaling.md, seventh round).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Pause the cyclic collector inside the block; restore it as it was after.

    Only for code that makes no reference cycles: a cycle made inside stays until
    the collector next runs after the block.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
