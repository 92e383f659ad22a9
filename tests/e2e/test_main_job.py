"""`churn run`, the README's main job, and every `churn` line of the README and of
`churn --help`, through the installed executable in a fresh folder.

One small demo run is shared: the folder holds a params.yaml that shrinks the
demo book (2,500 accounts, 28 months), which every command reads as a user's
./params.yaml, so the README's lines run exactly as written.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow
CHURN = Path(sys.executable).with_name("churn")
REPO = Path(__file__).resolve().parents[2]
SMALL = {"data": {"demo": {"customers": 2500, "months": 28}}}


def _churn(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    return subprocess.run(
        [str(CHURN), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


def readme_churn_lines(text: str) -> list[str]:
    """Return the `churn ...` commands of the README's bash blocks, in order."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            for command in line.split("&&"):
                words = command.strip().removeprefix("$ ").strip()
                if re.match(r"^(\.venv/bin/)?churn\b", words):
                    lines.append(words.removeprefix(".venv/bin/"))
    return lines


def help_churn_lines(text: str) -> list[str]:
    """Return the example lines of `churn --help`."""
    return [line.strip() for line in text.splitlines() if line.strip().startswith("churn ")]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A fresh folder with a small-book params.yaml, after one `churn run`."""
    folder = tmp_path_factory.mktemp("first-hour")
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["data"]["demo"].update(SMALL["data"]["demo"])
    (folder / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    first = _churn("run", cwd=folder)
    assert first.returncode == 0, first.stdout + first.stderr
    return folder, first


@pytest.fixture(scope="module")
def rerun(workspace):
    folder, first = workspace
    again = _churn("run", cwd=folder)
    assert again.returncode == 0, again.stdout + again.stderr
    return again


def test_churn_run_goes_end_to_end_and_says_where_its_time_went(workspace):
    folder, result = workspace
    out = result.stdout
    for step in ("1/4 generate", "2/4 validate", "3/4 labels", "4/4 features, train, evaluate"):
        assert step in out
    for step in ("generate", "validate", "labels", "features, cohorts and fit", "evaluate"):
        assert re.search(rf"done {step}[^\n]* in \d+\.\d s", out), step
    assert re.search(r"timings: generate \d+\.\d s, validate .*; total \d+\.\d s", out)
    assert re.search(r"^\s+\d+\.\d s  fitted on [\d,]+ training rows", out, flags=re.M)
    name = (folder / "runs" / "LATEST").read_text().strip()
    assert f"report:  runs/{name}/report.html" in out
    assert "mlflow ui --backend-store-uri sqlite:///" in out
    assert (folder / "data" / "demo" / "customers.parquet").exists()
    assert (folder / "mlflow.db").exists()
    metrics = json.loads((folder / "runs" / "latest" / "metrics.json").read_text())
    assert set(metrics["models"]) == {"lightgbm", "rules", "logistic", "btyd"}
    assert "Successfully registered model" not in result.stderr  # we say it ourselves
    assert "Created version" not in result.stderr


def test_a_rerun_on_the_same_data_params_and_code_registers_no_new_version(workspace, rerun):
    folder, first = workspace
    out = rerun.stdout
    assert "1/4 generate" in out and "skipped generate: data/demo already holds" in out
    assert "no new model version: version 1 (run " in out
    assert "trained on the same data fingerprint, params and code" in out
    runs = sorted(p.name for p in (folder / "runs").iterdir() if p.name[0].isdigit())
    assert len(runs) == 2  # the first run's folder is kept
    assert (folder / "runs" / "LATEST").read_text().strip() == runs[-1]
    assert os.readlink(folder / "runs" / "latest") == runs[-1]
    report = (folder / "runs" / runs[-1] / "report.html").read_text()
    assert "version 1 (already registered; no new version)" in report


def test_every_churn_line_of_the_readme_and_the_help_runs_on_the_demo_data(workspace, rerun):
    folder, _ = workspace
    readme = readme_churn_lines((REPO / "README.md").read_text())
    examples = help_churn_lines(_churn("--help", cwd=folder).stdout)
    assert "churn run" in readme and "churn run" in examples  # run by the fixtures
    assert len(examples) >= 4
    commands = list(dict.fromkeys(line for line in readme + examples if line != "churn run"))
    assert any(c.startswith("churn score") for c in commands)
    for command in commands:
        result = _churn(*shlex.split(command, comments=True)[1:], cwd=folder)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"


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


def test_evaluate_without_a_recorded_run_says_what_to_run_first(tmp_path):
    result = _churn("evaluate", cwd=tmp_path)
    assert result.returncode == 2
    assert "no training run recorded under runs/" in result.stderr
