"""The stages route through the Dask engine when params say so: same output as local."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow
CHURN = Path(sys.executable).with_name("churn")


def _features(data: Path, out: Path, *sets: str) -> subprocess.CompletedProcess:
    args = [
        str(CHURN),
        "features",
        "--data",
        str(data),
        "--as-of",
        "2022-06-30",
        "--as-of",
        "2022-12-31",
        "--out",
        str(out),
    ]
    for item in sets:
        args += ["--set", item]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.run(
        args, capture_output=True, text=True, timeout=600, env=env, cwd=out.parent
    )


def test_churn_features_on_a_dask_local_cluster_equals_the_local_engine(split_demo_data, tmp_path):
    local = _features(split_demo_data, tmp_path / "local.parquet")
    assert local.returncode == 0, local.stderr
    dask = _features(
        split_demo_data,
        tmp_path / "dask.parquet",
        "engine.kind=dask",
        "engine.n_workers=2",
        "engine.partitions=4",
    )
    assert dask.returncode == 0, dask.stderr
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "dask.parquet"),
        pd.read_parquet(tmp_path / "local.parquet"),
        check_exact=True,
    )
