"""Demo data for the Dask engine: generated once, each table split into several Parquet files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipeline.contract import SCHEMAS


def split_into_files(source: Path, target: Path, files: int, row_group_size: int) -> Path:
    """Rewrite each ``<table>.parquet`` of ``source`` as ``target/<table>/part-*.parquet``."""
    for table in SCHEMAS:
        path = source / f"{table}.parquet"
        if not path.exists():
            continue
        data = pq.read_table(path)
        folder = target / table
        folder.mkdir(parents=True)
        cuts = np.linspace(0, data.num_rows, files + 1).astype(int)
        for number, (lo, hi) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
            part = data.slice(lo, hi - lo)
            pq.write_table(
                part, folder / f"part-{number:03d}.parquet", row_group_size=row_group_size
            )
    return target


@pytest.fixture(scope="session")
def split_demo_data(tmp_path_factory) -> Path:
    """1,500 accounts over 24 months; every table as three Parquet files of small row groups."""
    from pipeline.stages.generate import generate_stage

    root = tmp_path_factory.mktemp("dask-demo")
    single = generate_stage(root / "single", customers=1500, months=24, seed=5, start="2021-01")
    return split_into_files(single, root / "split", files=3, row_group_size=4000)
