"""Fixtures for the engines: a two-worker LocalCluster per module, demo data, a faulty export."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.params import Params
from pipeline.data.loader import load_tables


def pytest_collection_modifyitems(config, items):
    """Mark every test on a LocalCluster as slow: it starts a scheduler and two workers."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents and "client" in item.fixturenames:
            item.add_marker(pytest.mark.slow)


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
def faulty(split_demo_data, tmp_path_factory) -> Path:
    """The split demo data with faults in the middle files (tests/engine/partition_fixtures.py)."""
    from partition_fixtures import faulty_export

    return faulty_export(split_demo_data, tmp_path_factory.mktemp("faulty") / "data")


@pytest.fixture(scope="module")
def tables(split_demo_data):
    return load_tables(split_demo_data, Params(), None).tables
