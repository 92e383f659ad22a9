"""`churn run`, the README's main job, through the installed executable in a fresh folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
CHURN = Path(sys.executable).with_name("churn")


def _churn(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.run(
        [str(CHURN), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


def test_churn_run_goes_end_to_end_on_generated_demo_data(tmp_path):
    result = _churn(
        "run", "--set", "data.demo.customers=2500", "--set", "data.demo.months=28", cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for step in ("1/4 generate", "2/4 validate", "3/4 labels", "4/4 features, train, evaluate"):
        assert step in out
    assert "report:  runs/latest/report.html" in out
    assert "mlflow ui --backend-store-uri sqlite:///" in out
    assert (tmp_path / "data" / "demo" / "customers.parquet").exists()
    assert (tmp_path / "mlflow.db").exists()
    metrics = json.loads((tmp_path / "runs" / "latest" / "metrics.json").read_text())
    assert set(metrics["models"]) == {"lightgbm", "rules", "logistic", "btyd"}

    again = _churn(
        "run", "--set", "data.demo.customers=2500", "--set", "data.demo.months=28", cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert "1/4 generate" not in again.stdout  # existing data is reused, not regenerated
    assert "challenger" in again.stdout


def test_bad_override_fails_before_any_work(tmp_path):
    result = _churn("run", "--set", "label.horizon_months=soon", cwd=tmp_path)
    assert result.returncode == 2
    assert "label.horizon_months" in result.stderr
    assert not (tmp_path / "data").exists()


def test_missing_required_table_names_table_and_rule(tmp_path):
    (tmp_path / "in").mkdir()
    result = _churn("validate", "--data", str(tmp_path / "in"), cwd=tmp_path)
    assert result.returncode == 2
    assert "customers: required table missing" in result.stderr
