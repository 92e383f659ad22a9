"""`churn train`: fit the three models out of time, compare them, track and register.

Wiring only: the engine runs the training flow (pipeline/training/fit.py) over its
partitions; every computation lives in features/, models/ and pipeline/ modules.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from features.builder.registry import model_feature_columns
from features.builder.version import builder_version
from pipeline.core.contract import Tables
from pipeline.core.outputs import check_outputs
from pipeline.core.params import Params
from pipeline.data.partitions import PartitionedTables
from pipeline.engine import Engine, open_engine
from pipeline.tracking.mlflow_store import check_tracking_store, mlflow_ui_hint
from pipeline.tracking.registry import save_run_model
from pipeline.tracking.training_run import finish_training_run, training_run
from pipeline.training.fit import evaluate_models, train_models
from pipeline.training.outputs import write_training_outputs

console = Console(highlight=False, soft_wrap=True)


def train_stage(data: Path, out: Path, params: Params) -> dict:
    """Validate the inputs, then train, evaluate and track (see :func:`train_partitioned`)."""
    check_outputs(data, {"--out": out})
    check_tracking_store(params.tracking)
    with open_engine(params.engine) as engine:
        partitioned = engine.load(data, params, rejected_dir=Path(out) / "rejected")
        console.print(partitioned.report.render())
        return train_partitioned(engine, partitioned, data, Path(out), params)


def train_on_tables(tables: Tables, data: Path, out: Path, params: Params) -> dict:
    """Train, evaluate and track on validated tables; return the metrics.json tree."""
    check_tracking_store(params.tracking)
    with open_engine(params.engine) as engine:
        return train_partitioned(engine, engine.partition(tables), data, Path(out), params)


def train_partitioned(
    engine: Engine, partitioned: PartitionedTables, data: Path, out: Path, params: Params
) -> dict:
    """Train on the engine's partitions, evaluate, write the run folder, track and register.

    The MLflow run spans the whole training; an interrupted training ends it FAILED
    and registers nothing.
    """
    started = time.perf_counter()
    columns = model_feature_columns()
    with training_run(data, params, feature_builder_version=builder_version()) as run:
        cohorts, fitted = engine.run(
            lambda parts: train_models(engine.executor, parts, columns, params, console),
            partitioned,
        )
        evaluation = evaluate_models(fitted, cohorts, columns, params)
        outputs = write_training_outputs(out, fitted, cohorts, evaluation, columns, params)
        save_run_model(outputs)
        tracked = finish_training_run(run, out, fitted, cohorts, evaluation, outputs, params)
    _print_summary(evaluation.metrics, outputs, tracked, params, time.perf_counter() - started)
    return evaluation.metrics


def _print_summary(metrics: dict, outputs, tracked, params: Params, seconds: float) -> None:
    metric = params.evaluation.champion_metric
    models = metrics["models"]
    console.print(
        f"\n[bold]{metric}[/bold] on {metrics['cohort']['rows']:,} out-of-time rows "
        f"(churn rate {metrics['cohort']['churn_rate']:.2%}): "
        + ", ".join(f"{name} {values[metric]:.4f}" for name, values in models.items())
    )
    console.print(
        f"model version {tracked.version}: {tracked.promotion.alias} ({tracked.promotion.reason})"
    )
    console.print(f"report:  {outputs.report}")
    console.print(f"metrics: {outputs.metrics}")
    console.print(
        f"MLflow run {tracked.run_id} in experiment '{params.tracking.experiment}'; "
        f"open it with: {mlflow_ui_hint(params.tracking)}"
    )
    console.print(f"done in {seconds:.1f} s")
