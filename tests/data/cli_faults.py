"""Helpers of the faulty-export tests: copy the demo export, run the real `churn` CLI on it."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app

END = "2023-06-30"


def churn(*args: str):
    return CliRunner().invoke(app, list(args))


def copy_of(demo_data: Path, target: Path) -> Path:
    shutil.copytree(demo_data, target)
    return target


def validate(data: Path, run: Path) -> tuple[int, str]:
    result = churn("validate", "--data", str(data), "--out", str(run))
    return result.exit_code, " ".join(result.output.split())
