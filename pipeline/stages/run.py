"""`churn run`: the main job, end to end on one data folder (demo data by default)."""

from __future__ import annotations

from pathlib import Path

from pipeline.cohorts.snapshots import snapshot_months
from pipeline.core.contract import SCHEMAS
from pipeline.core.params import Params, SnapshotParams
from pipeline.data.loader import load_tables
from pipeline.data.reader import find_table_file
from pipeline.stages.generate import generate_stage
from pipeline.stages.labels import label_base_rates, render_base_rates
from pipeline.stages.progress import StepLog, stage_console
from pipeline.stages.train import train_on_tables
from pipeline.training.run_folders import new_run_folder, point_latest_at

console = stage_console(soft_wrap=True)


def has_required_tables(folder: Path) -> bool:
    """Return whether a folder holds every required table of the contract."""
    return folder.is_dir() and all(
        find_table_file(folder, name) is not None
        for name, schema in SCHEMAS.items()
        if schema.required
    )


def run_stage(data: Path | None, out: Path | None, params: Params) -> dict:
    """Generate demo data when the folder is empty, validate, report labels, train, evaluate.

    ``out`` None writes a new folder under ``runs/`` and points ``runs/LATEST`` (and
    the ``runs/latest`` link) at it once the run has succeeded.
    """
    folder = Path(data) if data is not None else Path(params.data.dir)
    run_folder = Path(out) if out is not None else new_run_folder()
    steps = StepLog(console)
    console.print(f"[bold]1/4 generate[/bold] demo data into {folder}")
    if has_required_tables(folder):
        steps.skip("generate", f"{folder} already holds the input tables; reusing them")
    else:
        demo = params.data.demo
        with steps.step("generate"):
            generate_stage(
                folder,
                customers=demo.customers,
                months=demo.months,
                seed=demo.seed,
                start=demo.start,
                bear_spell_months=demo.bear_spell_months,
                silent_leaver_share=demo.silent_leaver_share,
            )
    console.print(f"[bold]2/4 validate[/bold] {folder}")
    with steps.step("validate"):
        loaded = load_tables(folder, params, rejected_dir=run_folder / "rejected")
    console.print(loaded.report.render())
    console.print("[bold]3/4 labels[/bold]: churn base rate per as-of month")
    with steps.step("labels"):
        months = snapshot_months(loaded.tables, SnapshotParams(min_history_months=0), params.label)
        rates = label_base_rates(loaded.tables, months, params)
    console.print(render_base_rates(rates, params.label.definition))
    console.print("[bold]4/4 features, train, evaluate[/bold]")
    metrics = train_on_tables(loaded.tables, folder, run_folder, params, steps)
    if out is None:
        point_latest_at(run_folder)
        console.print(f"runs/{run_folder.name} is now the latest run (runs/LATEST)")
    console.print(steps.summary())
    return metrics
