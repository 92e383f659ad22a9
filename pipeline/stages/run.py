"""`churn run`: the main job, end to end on one data folder (demo data by default)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from pipeline.cohorts.snapshots import snapshot_months
from pipeline.core.contract import SCHEMAS
from pipeline.core.params import Params, SnapshotParams
from pipeline.data.loader import load_tables
from pipeline.data.reader import find_table_file
from pipeline.stages.generate import generate_stage
from pipeline.stages.labels import label_base_rates, render_base_rates
from pipeline.stages.train import train_on_tables

console = Console(highlight=False, soft_wrap=True)


def has_required_tables(folder: Path) -> bool:
    """Return whether a folder holds every required table of the contract."""
    return folder.is_dir() and all(
        find_table_file(folder, name) is not None
        for name, schema in SCHEMAS.items()
        if schema.required
    )


def run_stage(data: Path | None, out: Path, params: Params) -> dict:
    """Generate demo data when the folder is empty, validate, report labels, train, evaluate."""
    folder = Path(data) if data is not None else Path(params.data.dir)
    if not has_required_tables(folder):
        demo = params.data.demo
        console.print(f"[bold]1/4 generate[/bold]: no input tables in {folder}; writing demo data")
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
    loaded = load_tables(folder, params, rejected_dir=Path(out) / "rejected")
    console.print(loaded.report.render())
    console.print("[bold]3/4 labels[/bold]: churn base rate per as-of month")
    months = snapshot_months(loaded.tables, SnapshotParams(min_history_months=0), params.label)
    rates = label_base_rates(loaded.tables, months, params)
    console.print(render_base_rates(rates, params.label.definition))
    console.print("[bold]4/4 features, train, evaluate[/bold]")
    return train_on_tables(loaded.tables, folder, Path(out), params)
