"""A `churn train` stopped by SIGTERM (a scheduler's stop) ends its MLflow run FAILED
and leaves no registered version: through the real CLI and a real sqlite store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest

pytestmark = pytest.mark.slow
CHURN = Path(sys.executable).with_name("churn")


def _wait_for_running_run(tracking: str, process, timeout: float = 300.0):
    mlflow.set_tracking_uri(tracking)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"churn train ended before it was stopped: {process.returncode}")
        try:
            runs = mlflow.search_runs(
                search_all_experiments=True,
                filter_string="attributes.status = 'RUNNING'",
                output_format="list",
            )
        except Exception:  # the store is being created by the job
            runs = []
        if runs:
            return runs[0]
        time.sleep(0.2)
    raise AssertionError("no MLflow run was ever RUNNING")


def test_a_stopped_training_fails_its_run_and_registers_nothing(demo_data, tmp_path):
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    args = [str(CHURN), "train", "--data", str(demo_data), "--out", str(tmp_path / "run")]
    args += ["--set", f"tracking.uri={tracking}", "--set", "model.lightgbm.num_threads=1"]
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    with open(tmp_path / "train.log", "w") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            running = _wait_for_running_run(tracking, process)
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=120)
        finally:
            process.kill()
    assert code == 128 + signal.SIGTERM, (tmp_path / "train.log").read_text()
    run = mlflow.get_run(running.info.run_id)
    assert run.info.status == "FAILED"
    client = mlflow.MlflowClient()
    assert client.search_model_versions("name = 'brokerage-churn-lightgbm'") == []
