"""The notebooks run top to bottom on small data, so they never rot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pipeline.cli import app

pytestmark = pytest.mark.slow
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _execute(name: str, env: dict[str, str], cwd: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    old = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        NotebookClient(
            notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
        ).execute()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook


def _outputs(notebook) -> str:
    return "\n".join(
        str(output.get("text", ""))
        + str(output.get("data", {}).get("text/plain", ""))
        + str(output.get("data", {}).get("text/html", ""))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def test_demo_data_notebook_shows_hit_rates_by_cause_through_jupyter_nbconvert(demo_data, tmp_path):
    # The way a user runs a notebook from the shell, with the dev extra's nbconvert.
    jupyter = Path(sys.executable).with_name("jupyter")
    name = "01_demo_data_and_indicators.ipynb"
    result = subprocess.run(
        [str(jupyter), "nbconvert", "--to", "notebook", "--execute", str(NOTEBOOKS / name)]
        + ["--output-dir", str(tmp_path), "--ExecutePreprocessor.timeout=600"],
        cwd=tmp_path,
        env={**os.environ, "CHURN_DATA": str(demo_data)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    text = _outputs(nbformat.read(tmp_path / name, as_version=4))
    assert "(stayed)" in text
    assert "warn_outflow" in text and "relocation" in text


def test_model_against_rules_notebook_reads_a_run(demo_data, tmp_path):
    from typer.testing import CliRunner

    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            str(demo_data),
            "--out",
            str(out),
            "--set",
            f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}",
        ],
    )
    assert result.exit_code == 0, result.output
    notebook = _execute("02_model_against_rules.ipynb", {"CHURN_RUN": str(out)}, tmp_path)
    text = _outputs(notebook)
    assert "lightgbm" in text and "rules" in text
    images = [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "image/png" in o.get("data", {})
    ]
    assert len(images) == 4
