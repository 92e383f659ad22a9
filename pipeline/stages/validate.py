"""`churn validate`: check the input tables against the data contract, quarantine bad rows."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.core.atomic import atomic_write_text
from pipeline.core.outputs import check_outputs
from pipeline.core.params import Params
from pipeline.data.quarantine import LoadReport
from pipeline.engine import open_engine

REPORT_FILE = "validation.txt"


def validate_stage(data: Path, out: Path, params: Params) -> LoadReport:
    """Load ``data`` through the contract checks, print and save the load report.

    Rejected rows go to ``out/rejected/<table>.parquet``; the report (rows per
    table, rejected per table and rule, warnings, observation_end) is printed and
    written to ``out/validation.txt``. The tables are read by the engine params.yaml
    names, so a large export is checked partition by partition (the local engine on
    disk) or on a cluster, as the other commands read it.

    Args:
        data: folder holding the input tables.
        out: run folder.
        params: the run's params (``validation``, ``data.observation_end``, ``engine``).

    Returns:
        The load report.

    Raises:
        DataContractError: a structural problem, or a table whose rejected share is
            above ``validation.max_rejected_share`` (quarantine files are written first).
    """
    check_outputs(data, {"--out": out})
    with open_engine(params.engine) as engine:
        report = engine.load(data, params, Path(out) / "rejected").report
    text = report.render()
    typer.echo(text)
    atomic_write_text(text + "\n", Path(out) / REPORT_FILE)
    return report
