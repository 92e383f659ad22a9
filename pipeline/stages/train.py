"""`churn train`: fit the three models out of time, compare them, track and register.

Wiring only: every computation lives in features/, models/ and pipeline/ modules.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console

from pipeline.core.params import Params

console = Console(highlight=False, soft_wrap=True)


def train_stage(data: Path, out: Path, params: Params) -> dict:
    """Validate the inputs, then train, evaluate and track (see :func:`train_on_tables`)."""
    from pipeline.data.loader import load_tables

    loaded = load_tables(data, params, rejected_dir=Path(out) / "rejected")
    console.print(loaded.report.render())
    return train_on_tables(loaded.tables, data, Path(out), params)


def train_on_tables(tables, data: Path, out: Path, params: Params) -> dict:
    """Train, evaluate and track on validated tables; return the metrics.json tree."""
    from features import FEATURE_BUILDER_VERSION
    from features.builder.registry import model_feature_columns
    from pipeline.cohorts.cohorts import build_cohorts
    from pipeline.tracking.training_run import track_training_run
    from pipeline.training.fit import evaluate_models, fit_models
    from pipeline.training.outputs import write_training_outputs

    started = time.perf_counter()
    columns = model_feature_columns()
    if params.engine.kind == "dask":
        from pipeline.engine import dask_client, train_models_dask

        with dask_client(params.engine) as client:
            cohorts, fitted = train_models_dask(tables, columns, params, client, console)
        console.print(cohorts.split.describe())
    else:
        cohorts = build_cohorts(tables, params)
        console.print(cohorts.split.describe())
        fitted = fit_models(cohorts, columns, params, console)
    evaluation = evaluate_models(fitted, cohorts, columns, params)
    outputs = write_training_outputs(out, fitted, cohorts, evaluation, columns, params)
    tracked = track_training_run(
        data,
        Path(out),
        fitted,
        cohorts,
        evaluation,
        outputs,
        params,
        feature_builder_version=FEATURE_BUILDER_VERSION,
    )
    _print_summary(evaluation.metrics, outputs, tracked, params, time.perf_counter() - started)
    return evaluation.metrics


def _print_summary(metrics: dict, outputs, tracked, params: Params, seconds: float) -> None:
    from pipeline.tracking.mlflow_store import mlflow_ui_hint

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
