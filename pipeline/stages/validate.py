"""`churn validate`: check the input tables against the data contract, quarantine bad rows."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.core.atomic import atomic_write_text
from pipeline.core.outputs import check_outputs
from pipeline.core.params import Params
from pipeline.data.loader import LoadResult, load_tables

REPORT_FILE = "validation.txt"


def validate_stage(data: Path, out: Path, params: Params) -> LoadResult:
    """Load ``data`` through the contract checks, print and save the load report.

    Rejected rows go to ``out/rejected/<table>.parquet``; the report (rows per
    table, rejected per table and rule, warnings, observation_end) is printed and
    written to ``out/validation.txt``.

    Args:
        data: folder holding the input tables.
        out: run folder.
        params: the run's params (``validation``, ``data.observation_end``).

    Returns:
        The checked tables and the report.

    Raises:
        DataContractError: a structural problem, or a table whose rejected share is
            above ``validation.max_rejected_share`` (quarantine files are written first).
    """
    check_outputs(data, {"--out": out})
    result = load_tables(data, params, rejected_dir=Path(out) / "rejected")
    text = result.report.render()
    typer.echo(text)
    atomic_write_text(text + "\n", Path(out) / REPORT_FILE)
    return result
