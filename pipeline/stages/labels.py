"""`churn labels`: the churn base rate per as-of month under every label definition."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from pipeline.cohorts.labels import DEFINITIONS, base_rates
from pipeline.cohorts.snapshots import snapshot_months
from pipeline.core.atomic import atomic_write_text
from pipeline.core.contract import Tables
from pipeline.core.errors import ChurnError
from pipeline.core.params import Params, SnapshotParams
from pipeline.data.loader import load_tables

REJECTED_DIR = Path("runs/labels/rejected")


def labels_stage(data: Path, out: Path | None, params: Params) -> pd.DataFrame:
    """Load the data, print the base rate of each label definition per as-of month.

    The as-of months are every month end from the first month of activity data to
    the last one whose label window is complete (``snapshots`` settings do not
    narrow them). Rejected rows go to ``runs/labels/rejected/`` under the working
    directory, as ``churn validate`` would put them under its run folder.

    Args:
        data: folder holding the input tables.
        out: optional CSV for the report (written atomically).
        params: the run's params (``label`` horizon and fraction; the definition
            is only marked in the printout, all three are computed).

    Returns:
        One row per definition and as-of month: ``definition, as_of, population,
        labelled, churners, churn_rate`` (definitions that cannot be computed,
        such as asset_drain without balances, are left out and named in a warning).
    """
    loaded = load_tables(data, params, rejected_dir=REJECTED_DIR)
    typer.echo(loaded.report.render())
    months = snapshot_months(loaded.tables, SnapshotParams(min_history_months=0), params.label)
    report = label_base_rates(loaded.tables, months, params)
    typer.echo(render_base_rates(report, params.label.definition))
    if out is not None:
        atomic_write_text(report.to_csv(index=False), out)
    return report


def label_base_rates(tables: Tables, months: list[pd.Timestamp], params: Params) -> pd.DataFrame:
    """Return the base rates of every definition that the tables allow, stacked."""
    parts = []
    for definition in DEFINITIONS:
        label = params.label.model_copy(update={"definition": definition})
        try:
            parts.append(base_rates(tables, months, label))
        except ChurnError as exc:
            typer.echo(f"warning: {definition} labels unavailable: {exc}")
    return pd.concat(parts, ignore_index=True)


def render_base_rates(report: pd.DataFrame, chosen: str) -> str:
    """Return one line per as-of month: the population, then churners/labelled and rate."""
    definitions = list(dict.fromkeys(report["definition"]))
    cells = report.assign(
        cell=[
            f"{c:,}/{n:,} = {r:.2%}"
            for c, n, r in zip(
                report["churners"], report["labelled"], report["churn_rate"], strict=True
            )
        ]
    ).pivot(index="as_of", columns="definition", values="cell")
    population = report.drop_duplicates("as_of").set_index("as_of")["population"]
    table = pd.DataFrame({"population": population.map("{:,}".format)}).join(cells[definitions])
    table.index = table.index.strftime("%Y-%m-%d")
    table.columns = [f"{c}*" if c == chosen else c for c in table.columns]
    note = "churners/labelled = churn rate; * the configured label.definition"
    return table.to_string() + "\n" + note
