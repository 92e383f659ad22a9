"""Track a training run in MLflow: params, data and code identity, metrics, artifacts, model.

The run opens before the training and spans it. The packaged model (a pyfunc) is
logged, then registered last; the champion alias moves only when the new version
beats the rules and the current champion on the same test cohort
(pipeline/tracking/registry.py decides).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.data
import pandas as pd
from mlflow.exceptions import MlflowException

from pipeline.core.params import Params
from pipeline.tracking.mlflow_store import (
    code_fingerprint,
    data_fingerprint,
    data_location,
    git_commit,
    mlflow_run,
    without_mlflow_event_lines,
)
from pipeline.tracking.model_metrics import log_cause_model, log_model_metrics
from pipeline.tracking.registry import (
    Promotion,
    champion_version,
    decide_promotion,
    load_packaged_model,
    log_run_model,
    set_alias,
)
from pipeline.training.fit import evaluate_on
from pipeline.training.outputs import TEST_COHORT

IDENTITY_TAG = "churn.training_identity"
"""The model of the comparison that is packaged and registered."""
DIGEST_LENGTH = 32  # MLflow stores a dataset digest in at most 36 characters
CUSTOMER_LEVEL = frozenset({TEST_COHORT, "test_scores.parquet", "rejected"})
"""Run-folder entries holding customer ids: kept out of the tracking store by default."""


@dataclass(frozen=True)
class TrackedRun:
    """What the MLflow side of a training run produced."""

    run_id: str
    version: str
    promotion: Promotion
    model_uri: str
    registered: bool = True


@contextmanager
def training_run(data: Path, params: Params, *, feature_builder_version: str) -> Iterator[Any]:
    """Open the MLflow run of a training, before the work, so it spans the training.

    Identity tags and params are logged at once. When the block fails or is
    interrupted (Ctrl-C, or SIGTERM, which the CLI turns into an exit), MLflow ends
    the run as FAILED; nothing is registered until :func:`finish_training_run`.
    """
    fingerprint = data_fingerprint(data)
    tags = {
        "git_commit": git_commit(),
        "data_fingerprint": fingerprint,
        "data_dir": data_location(data),
        "feature_builder_version": feature_builder_version,
        "label": f"{params.label.definition}/{params.label.horizon_months}m",
        IDENTITY_TAG: training_identity(fingerprint, params, code_fingerprint()),
    }
    with mlflow_run(params.tracking, run_name="train", tags=tags) as run:
        mlflow.log_params({k: str(v) for k, v in params.flat().items()})
        yield run


def training_identity(fingerprint: str, params: Params, code: str) -> str:
    """Return what makes two trainings the same: data fingerprint, every param, the code.

    Seeds are params and LightGBM is deterministic with them, so equal identities
    mean the same model; a rerun registers no second copy of it.
    """
    tree = {"data": fingerprint, "params": params.flat(), "code": code}
    return hashlib.sha256(json.dumps(tree, sort_keys=True, default=str).encode()).hexdigest()


def same_model_version(client, name: str, identity: str):
    """Return the registered version trained on the same identity, or None."""
    try:
        versions = client.search_model_versions(f"name = '{name}'")
    except MlflowException:
        return None
    same = [v for v in versions if v.tags.get(IDENTITY_TAG) == identity]
    return max(same, key=lambda v: int(v.version)) if same else None


def log_cohort_datasets(cohorts, fingerprint: str, data: str) -> dict[str, Any]:
    """Log the training and test cohorts as MLflow datasets (digest: the data fingerprint).

    Only the datasets' identity, schema and size go to the store, not their rows.
    """
    datasets = {}
    for part, frame, context in (
        ("training", cohorts.train, "training"),
        ("test", cohorts.test, "testing"),
    ):
        months = sorted(frame["as_of"].unique()) if len(frame) else []
        span = f"{months[0]:%Y-%m}..{months[-1]:%Y-%m}" if months else "empty"
        with warnings.catch_warnings():
            # MLflow hints that the integer label could hold no missing values (it
            # cannot) and that a local folder could be two kinds of source.
            warnings.simplefilter("ignore", UserWarning)
            dataset = mlflow.data.from_pandas(
                frame,
                source=data,
                name=f"{part} cohort {span}",
                digest=fingerprint[:DIGEST_LENGTH],
                targets="label" if "label" in frame.columns else None,
            )
            mlflow.log_input(dataset, context=context)  # infers the schema: warns here
        datasets[part] = dataset
    return datasets


def log_run_folder(out: Path, customer_level: bool) -> None:
    """Log the run folder as the run's artifacts; customer-level files only when asked."""
    for path in sorted(Path(out).iterdir()):
        if path.name in CUSTOMER_LEVEL and not customer_level:
            continue
        if path.is_dir():
            mlflow.log_artifacts(str(path), artifact_path=f"run/{path.name}")
        else:
            mlflow.log_artifact(str(path), artifact_path="run")


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
    mlflow.log_params(fitted.baseline_params())
    tags = run.data.tags
    datasets = log_cohort_datasets(cohorts, tags["data_fingerprint"], tags["data_dir"])
    _log_search_trials(fitted.search_trials)
    log_run_folder(out, params.tracking.log_customer_artifacts)
    # The model is logged before the metrics: MLflow links every metric already in
    # the run to a model logged into it (see log_model_metrics).
    info = log_run_model(outputs)
    log_model_metrics(evaluation.metrics, info.model_id, datasets["test"])
    log_cause_model(evaluation.metrics.get("causes"))
    client = mlflow.MlflowClient()
    name = params.tracking.model_name
    identity = tags[IDENTITY_TAG]
    same = same_model_version(client, name, identity)
    if same is not None:
        return _unchanged(run, same, info.model_uri)
    with without_mlflow_event_lines():
        registered = mlflow.register_model(info.model_uri, name, tags={IDENTITY_TAG: identity})
    version = str(registered.version)
    try:
        promotion = _promotion(client, params, evaluation, cohorts, version, fitted)
        set_alias(client, name, version, promotion)
        _tag_version(version, promotion)
    except BaseException:
        client.delete_model_version(name, version)
        raise
    return TrackedRun(run.info.run_id, version, promotion, info.model_uri, registered=True)


def _tag_version(version: str, promotion: Promotion) -> None:
    mlflow.set_tags(
        {
            "promotion": promotion.alias,
            "promotion_reason": promotion.reason,
            "model_version": version,
        }
    )


def _unchanged(run, same, model_uri: str) -> TrackedRun:
    """Tag the run with the version that already holds its model; register nothing."""
    aliases = sorted(same.aliases or [])
    alias = aliases[0] if aliases else "no alias"
    promotion = Promotion(
        alias,
        f"version {same.version} (run {same.run_id}) was trained on the same data "
        "fingerprint, params and code: no new version registered",
    )
    _tag_version(str(same.version), promotion)
    mlflow.set_tag("same_model_as_run", same.run_id)
    return TrackedRun(run.info.run_id, str(same.version), promotion, model_uri, registered=False)


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


def log_report_again(report: Path, facts_file: Path) -> None:
    """Replace the logged report and run facts with their final copies (version, alias)."""
    mlflow.log_artifact(str(report), artifact_path="run")
    mlflow.log_artifact(str(facts_file), artifact_path="run")
