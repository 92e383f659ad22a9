"""`churn train`: fit the three models out of time, compare them, track and register.

Wiring only: the engine runs the training flow (pipeline/training/fit.py) over its
partitions; every computation lives in features/, models/ and pipeline/ modules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from features.builder.registry import model_feature_columns
from features.builder.version import builder_version
from pipeline.core.contract import Tables
from pipeline.core.outputs import check_outputs
from pipeline.core.params import Params
from pipeline.data.partitions import PartitionedTables
from pipeline.engine import Engine, open_engine
from pipeline.stages.progress import StepLog, stage_console
from pipeline.tracking.mlflow_store import check_tracking_store, mlflow_ui_hint
from pipeline.tracking.registry import save_run_model
from pipeline.tracking.training_run import finish_training_run, log_report_again, training_run
from pipeline.training.evaluation_outputs import FACTS_FILE
from pipeline.training.fit import evaluate_models, train_models
from pipeline.training.outputs import restamp_report, write_training_outputs
from pipeline.training.run_folders import new_run_folder, point_latest_at

console = stage_console(soft_wrap=True)


def train_stage(data: Path, out: Path | None, params: Params) -> dict:
    """Validate the inputs, then train, evaluate and track (see :func:`train_partitioned`).

    ``out`` None writes a new folder under ``runs/`` and points ``runs/LATEST`` at it.
    """
    steps = StepLog(console)
    folder = Path(out) if out is not None else new_run_folder()
    check_outputs(data, {"--out": folder})
    check_tracking_store(params.tracking)
    with open_engine(params.engine) as engine:
        with steps.step("load and validate"):
            partitioned = engine.load(data, params, rejected_dir=folder / "rejected")
        console.print(partitioned.report.render())
        metrics = train_partitioned(engine, partitioned, data, folder, params, steps)
    if out is None:
        point_latest_at(folder)
    console.print(steps.summary())
    return metrics


def train_on_tables(
    tables: Tables, data: Path, out: Path, params: Params, steps: StepLog | None = None
) -> dict:
    """Train, evaluate and track on validated tables; return the metrics.json tree."""
    check_tracking_store(params.tracking)
    with open_engine(params.engine) as engine:
        partitioned = engine.partition(tables)
        return train_partitioned(engine, partitioned, data, Path(out), params, steps)


def train_partitioned(
    engine: Engine,
    partitioned: PartitionedTables,
    data: Path,
    out: Path,
    params: Params,
    steps: StepLog | None = None,
) -> dict:
    """Train on the engine's partitions, evaluate, write the run folder, track and register.

    The MLflow run spans the whole training; an interrupted training ends it FAILED
    and registers nothing. Each step is timed in ``steps``.
    """
    steps = steps or StepLog(console)
    columns = model_feature_columns()
    with training_run(data, params, feature_builder_version=builder_version()) as run:
        with steps.step("features, cohorts and fit") as log:
            cohorts, fitted = engine.run(
                lambda parts: train_models(engine.executor, parts, columns, params, log),
                partitioned,
            )
        with steps.step("evaluate and report"):
            evaluation = evaluate_models(fitted, cohorts, columns, params)
            facts = run_facts(run, params)
            outputs = write_training_outputs(
                out, fitted, cohorts, evaluation, columns, params, facts
            )
            save_run_model(outputs)
        with steps.step("track in MLflow and register"):
            tracked = finish_training_run(run, out, fitted, cohorts, evaluation, outputs, params)
            report = restamp_report(outputs, facts | version_facts(tracked, params))
            log_report_again(report, out / FACTS_FILE)
    _print_summary(evaluation.metrics, outputs, tracked, params, run)
    return evaluation.metrics


def run_facts(run, params: Params) -> dict[str, str]:
    """Return what identifies a training run in its report (before the registry's answer)."""
    tags = run.data.tags
    started = run.info.start_time
    return {
        "MLflow run": f"{run.info.run_id} (experiment '{params.tracking.experiment}')",
        "model version": "not registered yet",
        "date": _utc(started),
        "git commit": tags.get("git_commit", "unknown"),
        "data fingerprint": tags.get("data_fingerprint", ""),
        "data": tags.get("data_dir", ""),
        "label": f"{params.label.definition}, {params.label.horizon_months} months",
    }


def version_facts(tracked, params: Params) -> dict[str, str]:
    """Return the registry's answer for the report: version, alias and why."""
    return {
        "model version": f"{params.tracking.model_name} version {tracked.version}"
        + ("" if tracked.registered else " (already registered; no new version)"),
        "alias": f"{tracked.promotion.alias}: {tracked.promotion.reason}",
    }


def _utc(milliseconds: int) -> str:
    return datetime.fromtimestamp(milliseconds / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _print_summary(metrics: dict, outputs, tracked, params: Params, run) -> None:
    metric = params.evaluation.champion_metric
    models = metrics["models"]
    console.print(
        f"\n[bold]{metric}[/bold] on {metrics['cohort']['rows']:,} out-of-time rows "
        f"(churn rate {metrics['cohort']['churn_rate']:.2%}): "
        + ", ".join(f"{name} {values[metric]:.4f}" for name, values in models.items())
    )
    if tracked.registered:
        console.print(
            f"model version {tracked.version}: {tracked.promotion.alias} "
            f"({tracked.promotion.reason})"
        )
    else:
        console.print(f"no new model version: {tracked.promotion.reason}")
    console.print(f"report:  {outputs.report}")
    console.print(f"metrics: {outputs.metrics}")
    console.print(
        f"MLflow run {tracked.run_id} in experiment '{params.tracking.experiment}'; "
        f"open it with: {mlflow_ui_hint(params.tracking, run)}"
    )
