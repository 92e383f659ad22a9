"""Fixtures for the Dask engine: a two-worker LocalCluster per module, demo data in files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipeline.contract import SCHEMAS
from pipeline.loader import load_tables
from pipeline.params import Params


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


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of two worker processes (1 thread, 1.5 GiB each), closed after the module."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit="1.5GiB",
            dashboard_address=":0",
            scheduler_kwargs={"dashboard": False},
        ) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client


@pytest.fixture
def params() -> Params:
    params = Params()
    params.engine.kind = "dask"
    params.engine.partitions = 6
    params.model.lightgbm.n_estimators = 20
    return params


@pytest.fixture(scope="module")
def tables(split_demo_data):
    return load_tables(split_demo_data, Params(), None).tables
