"""Shared fixtures: small demo data made once per session, a real MLflow server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import settings

from pipeline.core.contract import SCHEMAS

REPO = Path(__file__).resolve().parents[1]

# No wall-clock limits in tests (speed is measured in benchmarks/): on a shared
# 2-core machine Hypothesis' 200 ms deadline fails examples that are merely slow.
settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")

# Model fixtures serve tests/models, tests/training and tests/tracking alike.
pytest_plugins = ["model_fixtures"]

# What a user's own runs leave in the repository; tests must write only under
# temporary folders, so none of these may change during a test session.
USER_STORE = ("mlruns", "mlflow.db", "runs", "data/demo", "scores")


def _user_store_entries() -> set[str]:
    entries = set()
    for name in USER_STORE:
        path = REPO / name
        if path.is_file():
            entries.add(f"{name} {path.stat().st_mtime_ns}")
        elif path.is_dir():
            entries |= {str(p.relative_to(REPO)) for p in path.glob("*/*")} | {name}
    return entries


def pytest_sessionstart(session):
    session.config._user_store_before = _user_store_entries()


def pytest_sessionfinish(session, exitstatus):
    """Fail the session when a test wrote into the repository's own MLflow store or runs."""
    before = getattr(session.config, "_user_store_before", None)
    if before is None:
        return
    added = sorted(_user_store_entries() - before)
    if added:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"tests wrote into the repository (not a temporary folder): {added[:10]}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory) -> Path:
    """A demo data folder of 3,000 accounts over 30 months, generated once."""
    from pipeline.stages.generate import generate_stage

    out = tmp_path_factory.mktemp("demo") / "data"
    generate_stage(out, customers=3000, months=30, seed=11, start="2021-01")
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real `mlflow server` on localhost (SQLite store, served artifacts); yields its URL."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    mlflow_cli = Path(sys.executable).with_name("mlflow")
    process = subprocess.Popen(
        [
            str(mlflow_cli),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--workers",
            "1",
        ],
        stdout=(root / "server.log").open("w"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "MLFLOW_TRACKING_URI": ""},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((root / "server.log").read_text()[-3000:])
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        raise RuntimeError("mlflow server did not start within 120 s")
    yield url
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


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
