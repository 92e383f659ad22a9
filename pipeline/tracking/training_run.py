"""Track a training run in MLflow: params, data and code identity, metrics, artifacts, model.

The run opens before the training and spans it. The packaged model (a pyfunc) is
logged, then registered last; the champion alias moves only when the new version
beats the rules and the current champion on the same test cohort
(pipeline/tracking/registry.py decides).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from pipeline.core.params import Params
from pipeline.tracking.mlflow_store import data_fingerprint, data_location, git_commit, mlflow_run
from pipeline.tracking.registry import (
    Promotion,
    champion_version,
    decide_promotion,
    load_packaged_model,
    log_run_model,
    set_alias,
)
from pipeline.training.causes import cause_metrics
from pipeline.training.fit import evaluate_on


@dataclass(frozen=True)
class TrackedRun:
    """What the MLflow side of a training run produced."""

    run_id: str
    version: str
    promotion: Promotion
    model_uri: str


def flat_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """Return ``{"<model>.<metric>": value}`` for every finite overall metric."""
    flat = {}
    for model, values in metrics["models"].items():
        for name, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                flat[f"{model}.{name}"] = float(value)
    flat["cohort.rows"] = float(metrics["cohort"]["rows"])
    flat["cohort.churn_rate"] = float(metrics["cohort"]["churn_rate"] or 0.0)
    return flat


@contextmanager
def training_run(data: Path, params: Params, *, feature_builder_version: str) -> Iterator[Any]:
    """Open the MLflow run of a training, before the work, so it spans the training.

    Identity tags and params are logged at once. When the block fails or is
    interrupted (Ctrl-C, or SIGTERM, which the CLI turns into an exit), MLflow ends
    the run as FAILED; nothing is registered until :func:`finish_training_run`.
    """
    tags = {
        "git_commit": git_commit(),
        "data_fingerprint": data_fingerprint(data),
        "data_dir": data_location(data),
        "feature_builder_version": feature_builder_version,
        "label": f"{params.label.definition}/{params.label.horizon_months}m",
    }
    with mlflow_run(params.tracking, run_name="train", tags=tags) as run:
        mlflow.log_params({k: str(v) for k, v in params.flat().items()})
        yield run


def finish_training_run(
    run, out: Path, fitted, cohorts, evaluation, outputs, params: Params
) -> TrackedRun:
    """Log metrics, the run folder and the model into the open run; register it last.

    The model version is registered only once everything else is logged, and its
    alias is set at once; if anything fails or is interrupted in between, the new
    version is deleted again, so the registry never holds a version of an unfinished
    run.
    """
    mlflow.set_tag("mlflow.runName", f"train {cohorts.split.test[-1]:%Y-%m}")
    mlflow.log_params(
        {f"fitted.{k}": str(v) for k, v in fitted.lightgbm_params.items()}
        | {"fitted.best_iteration": fitted.lightgbm.best_iteration_}
    )
    mlflow.log_metrics(flat_metrics(evaluation.metrics))
    _log_cause_model(evaluation.metrics.get("causes"))
    _log_search_trials(fitted.search_trials)
    mlflow.log_artifacts(str(out), artifact_path="run")
    info = log_run_model(outputs)
    client = mlflow.MlflowClient()
    name = params.tracking.model_name
    registered = mlflow.register_model(info.model_uri, name)
    version = str(registered.version)
    try:
        promotion = _promotion(client, params, evaluation, cohorts, version, fitted)
        set_alias(client, name, version, promotion)
        mlflow.set_tags(
            {
                "promotion": promotion.alias,
                "promotion_reason": promotion.reason,
                "model_version": version,
            }
        )
    except BaseException:
        client.delete_model_version(name, version)
        raise
    return TrackedRun(run.info.run_id, version, promotion, info.model_uri)


def _log_cause_model(causes: dict | None) -> None:
    """Log the cause model's out-of-time measures (``cause.*``) and its confusion table."""
    if not causes or not causes.get("fitted"):
        return
    mlflow.log_metrics(cause_metrics(causes))
    mlflow.log_dict(causes["confusion"], "cause_confusion.json")


def _log_search_trials(trials: list[dict]) -> None:
    for number, trial in enumerate(trials):
        with mlflow.start_run(run_name=f"search trial {number}", nested=True):
            mlflow.log_params({k: str(v) for k, v in trial.get("params", {}).items()})
            mlflow.log_metric("validation_pr_auc", float(trial.get("value", float("nan"))))


def _promotion(client, params: Params, evaluation, cohorts, version: str, fitted) -> Promotion:
    metric = params.evaluation.champion_metric
    models = evaluation.metrics["models"]
    candidate = _number(models["lightgbm"].get(metric))
    rules = _number(models["rules"].get(metric))
    current = champion_version(client, params.tracking.model_name)
    champion_value = None
    if current is not None and str(current.version) != version:
        champion_value = _champion_on_cohort(current, cohorts.test, params, fitted.rules)
    return decide_promotion(metric, candidate, rules, champion_value)


def _champion_on_cohort(current, cohort: pd.DataFrame, params: Params, rules) -> float | None:
    """Score the current champion on this run's test cohort; None when it cannot read it."""
    uri = f"models:/{params.tracking.model_name}/{current.version}"
    champion = load_packaged_model(uri).churn_model()
    if any(column not in cohort.columns for column in champion.feature_columns_):
        return None
    evaluation = evaluate_on(
        {"champion": champion, "rules": rules}, cohort, champion.feature_columns_, params
    )
    return _number(evaluation.metrics["models"]["champion"].get(params.evaluation.champion_metric))


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)
