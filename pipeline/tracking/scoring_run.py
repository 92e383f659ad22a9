"""Track a scoring run in MLflow: model, as-of, counts per band, score distribution, drift.

The run carries the tag ``churn.kind=scoring``, its as-of date and the label
definition the model was trained for, and logs the compact scores
(``scores/scores.parquet``) that `churn monitor` reads once the label window has
passed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException

from pipeline.core.params import Params
from pipeline.retention.lists import PublishedCallLists
from pipeline.scoring.job import ScoringResult
from pipeline.scoring.model import ScoringModel
from pipeline.scoring.summary import score_quantiles
from pipeline.tracking.mlflow_store import data_fingerprint, data_location, git_commit, mlflow_run

KIND_TAG = "churn.kind"
AS_OF_TAG = "churn.as_of"
LABEL_TAG = "churn.label"
SCORES_DIR = "scores"
SCORES_FILE = "scores.parquet"


@dataclass(frozen=True)
class ScoringFiles:
    """The files a scoring run writes beside its output and logs."""

    scores: Path
    compact: Path
    drift_table: Path
    drift_plot: Path
    csv: Path | None = None
    call_lists: Path | None = None


def model_version(uri: str) -> str:
    """Return the registry version behind a ``models:/`` URI ("" for runs and folders)."""
    if not uri.startswith("models:/"):
        return ""
    reference = uri.removeprefix("models:/")
    if "@" in reference:
        name, alias = reference.split("@", 1)
        try:
            return str(mlflow.MlflowClient().get_model_version_by_alias(name, alias).version)
        except MlflowException:
            return ""
    name, _, version = reference.partition("/")
    return version


def scoring_tags(model: ScoringModel, model_uri: str, data: Path, as_of) -> dict[str, str]:
    """Return the tags identifying a scoring run: kind, as-of, model, label, data, code."""
    label = model.meta.get("label") or {}
    return {
        KIND_TAG: "scoring",
        AS_OF_TAG: as_of.date().isoformat(),
        LABEL_TAG: f"{label.get('definition')}/{label.get('horizon_months')}m",
        "churn.label_params": _json(label),
        "churn.model_uri": model_uri,
        "churn.model_version": model_version(model_uri),
        "feature_builder_version": str(model.meta.get("feature_builder_version")),
        "data_dir": data_location(data),
        "data_fingerprint": data_fingerprint(data),
        "git_commit": git_commit(),
    }


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def scoring_metrics(result: ScoringResult) -> dict[str, float]:
    """Return the run's metrics: accounts, per band, score quantiles, drift, timings."""
    metrics = {"accounts_scored": float(result.accounts), "explained_by_model": result.explained}
    metrics.update({f"band.{name}": float(n) for name, n in result.band_counts.items()})
    metrics.update({f"score.{k}": v for k, v in score_quantiles(result.probability).items()})
    drift = result.drift
    metrics["drift.columns_drifted"] = float(drift["drifted"].sum())
    metrics["drift.max_psi"] = float(drift["psi"].max()) if len(drift) else 0.0
    metrics["value_at_risk_cny"] = result.value_at_risk
    metrics.update({f"seconds.{k}": v for k, v in result.seconds.items()})
    return metrics


def log_scoring_run(
    result: ScoringResult,
    model: ScoringModel,
    model_uri: str,
    data: Path,
    files: ScoringFiles,
    calls: PublishedCallLists,
    summary: str,
    params: Params,
) -> str:
    """Log the scoring run; return its MLflow run id."""
    tags = scoring_tags(model, model_uri, data, result.as_of)
    tags["churn.output"] = str(files.scores.resolve())
    tags["churn.engine"] = params.engine.kind
    with mlflow_run(params.tracking, f"score {result.as_of:%Y-%m}", tags) as run:
        flat = {
            k: str(v) for k, v in params.flat().items() if k.startswith(("scoring.", "retention."))
        }
        mlflow.log_params(flat)
        mlflow.log_metrics(scoring_metrics(result))
        mlflow.log_artifact(str(files.compact), artifact_path=SCORES_DIR)
        mlflow.log_artifact(str(files.drift_table), artifact_path="drift")
        mlflow.log_artifact(str(files.drift_plot), artifact_path="drift")
        mlflow.log_text(summary, "summary.txt")
        _log_retention(calls)
    return run.info.run_id


def _log_retention(calls: PublishedCallLists) -> None:
    """Log the call lists' sizes and the play effects and save rates (no customer rows)."""
    for name in ("play_effects.csv", "save_rates.csv"):
        mlflow.log_artifact(str(calls.folder / name), artifact_path="retention")
    mlflow.log_metrics(
        {
            "call_lists.lists": calls.lists,
            "call_lists.accounts": calls.accounts,
            "call_lists.held_back": calls.held_back,
        }
    )
