"""A scoring process killed while it writes leaves no partial file at the target; a rerun then
writes the same bytes as an undisturbed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from scoring_fixtures import SCORED_AS_OF
from typer.testing import CliRunner

from pipeline.cli import app

pytestmark = pytest.mark.slow
KILLS = 3
# Small chunks and model reasons for everyone make the writing phase last a while.
SETTINGS = [
    "model.lightgbm.num_threads=1",
    "scoring.chunk_customers=100",
    "scoring.reasons_top_share=all",
]


def arguments(data: Path, model: Path, out: Path, tracking: str) -> list[str]:
    args = [
        "score",
        "--data",
        str(data),
        "--as-of",
        SCORED_AS_OF,
        "--out",
        str(out),
        "--model",
        str(model),
        "--csv",
        str(out.with_suffix(".csv")),
        "--set",
        f"tracking.uri={tracking}",
    ]
    for setting in SETTINGS:
        args += ["--set", setting]
    return args


def temporary_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".scores-")]


def kill_while_writing(args: list[str], folder: Path, delay: float) -> bool:
    """Start `churn score`, SIGKILL it ``delay`` s after its temporary output appears.

    Returns whether it was killed mid-write (running, temporary output not yet renamed).
    """
    churn = Path(sys.executable).with_name("churn")
    process = subprocess.Popen(
        [str(churn), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
    )
    deadline = time.monotonic() + 120
    while not temporary_files(folder) and process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("scoring never started writing")
        time.sleep(0.005)
    time.sleep(delay)
    # still running with its output not yet renamed into place: killed mid-write
    mid_write = process.poll() is None and bool(temporary_files(folder))
    process.send_signal(signal.SIGKILL)
    process.wait()
    return mid_write


def test_a_killed_run_leaves_no_partial_output_and_a_rerun_is_identical(
    demo_data, model_folder, tmp_path
):
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    reference = tmp_path / "reference" / "scores.parquet"
    result = CliRunner().invoke(app, arguments(demo_data, model_folder, reference, tracking))
    assert result.exit_code == 0, result.output
    expected = reference.read_bytes(), reference.with_suffix(".csv").read_bytes()

    folder = tmp_path / "killed"
    folder.mkdir()
    out = folder / "scores.parquet"
    rng = np.random.default_rng(7)
    # The first kill comes as soon as the temporary output appears, so at least one lands
    # mid-write on any machine; the others at random moments of the writing phase.
    delays = [0.0, *rng.uniform(0.0, 0.5, KILLS - 1)]
    killed_mid_write = 0
    for delay in delays:
        for temp in temporary_files(folder):  # what a killed run leaves behind
            temp.unlink()
        killed_mid_write += kill_while_writing(
            arguments(demo_data, model_folder, out, tracking), folder, delay
        )
        for target, content in zip((out, out.with_suffix(".csv")), expected, strict=True):
            # nothing, or the complete file an earlier attempt finished: never a part
            assert not target.exists() or target.read_bytes() == content
        if out.exists():
            pq.read_table(out)
    assert killed_mid_write >= 1, "no kill landed while the job was writing"

    result = CliRunner().invoke(app, arguments(demo_data, model_folder, out, tracking))
    assert result.exit_code == 0, result.output
    assert (out.read_bytes(), out.with_suffix(".csv").read_bytes()) == expected
