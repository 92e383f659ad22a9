"""The MLflow side of `churn monitor`: past scoring runs found, their scores read, a run logged.

The realised metrics themselves are computed in pipeline/scoring/monitoring.py.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import mlflow
import pandas as pd
import pyarrow.parquet as pq
from mlflow.entities import Metric

from pipeline.core.params import LabelParams, TrackingParams
from pipeline.retention.effect import OVERALL
from pipeline.scoring.monitoring import MODEL, PastScoring
from pipeline.tracking.mlflow_store import (
    data_fingerprint,
    data_location,
    mlflow_run,
    tracking_uri,
)
from pipeline.tracking.scoring_run import AS_OF_TAG, KIND_TAG, SCORES_DIR, SCORES_FILE

TABLE_FILE = "realised_performance.csv"
BATCH = 1000
"""Metrics per MLflow call (its limit)."""


def past_scoring_runs(tracking: TrackingParams) -> list[PastScoring]:
    """Return the latest scoring run of each as-of month in the experiment, oldest month first."""
    mlflow.set_tracking_uri(tracking_uri(tracking))
    client = mlflow.MlflowClient()
    found = client.get_experiment_by_name(tracking.experiment)
    if found is None:
        return []
    runs, token = [], None
    while True:
        page = client.search_runs(
            [found.experiment_id],
            filter_string=f"tags.`{KIND_TAG}` = 'scoring' and attributes.status = 'FINISHED'",
            order_by=["attributes.start_time DESC"],
            max_results=1000,
            page_token=token,
        )
        runs.extend(page)
        token = page.token
        if not token:
            break
    latest: dict[pd.Timestamp, PastScoring] = {}
    for run in runs:
        past = _past_scoring(run)
        if past is not None and past.as_of not in latest:
            latest[past.as_of] = past
    return [latest[month] for month in sorted(latest)]


def _past_scoring(run) -> PastScoring | None:
    tags = run.data.tags
    try:
        label = LabelParams.model_validate(json.loads(tags["churn.label_params"]))
        as_of = pd.Timestamp(tags[AS_OF_TAG])
    except (KeyError, ValueError):
        return None
    return PastScoring(
        run_id=run.info.run_id,
        as_of=as_of,
        label=label,
        model_uri=tags.get("churn.model_uri", ""),
        model_version=tags.get("churn.model_version", ""),
    )


def stored_scores(run_id: str, scratch: Path) -> pd.DataFrame:
    """Download a scoring run's compact scores and read them."""
    path = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path=f"{SCORES_DIR}/{SCORES_FILE}", dst_path=str(scratch)
    )
    return pq.read_table(path).to_pandas(date_as_object=False)


def log_monitoring_run(
    realised: pd.DataFrame,
    data: Path,
    end: pd.Timestamp,
    tracking: TrackingParams,
    scratch: Path,
    effects: pd.DataFrame | None = None,
) -> str:
    """Log a monitoring run: one metric point per month and model, and the table; return its id.

    Metrics are ``<model>.<metric>`` with step = the as-of month as ``yyyymm``. The
    measured effect of each play (pipeline/retention/effect.py), when there is one,
    goes in as ``retention.<play>.<figure>`` (``retention.all.*`` over all plays)
    and the table ``play_effects.csv``.
    """
    tags = {
        "churn.kind": "monitoring",
        "churn.observation_end": end.date().isoformat(),
        "data_dir": data_location(data),
        "data_fingerprint": data_fingerprint(data),
    }
    numeric = realised.select_dtypes("number").columns
    metric_columns = [c for c in numeric if c not in ("scored", "labelled")]
    path = scratch / TABLE_FILE
    realised.to_csv(path, index=False)
    with mlflow_run(tracking, f"monitor {end:%Y-%m}", tags) as run:
        now = int(time.time() * 1000)
        metrics = [
            Metric(f"{row['model']}.{name}", float(row[name]), now, _step(row["as_of"]))
            for _, row in realised.iterrows()
            for name in metric_columns
            if pd.notna(row[name])
        ]
        client = mlflow.MlflowClient()
        for start in range(0, len(metrics), BATCH):  # MLflow takes 1,000 metrics per call
            client.log_batch(run.info.run_id, metrics=metrics[start : start + BATCH])
        mlflow.log_artifact(str(path))
        if effects is not None and len(effects):
            _log_effects(effects, scratch)
        mlflow.set_tag(
            "churn.months",
            ",".join(str(m.date()) for m in realised.loc[realised["model"] == MODEL, "as_of"]),
        )
    return run.info.run_id


EFFECT_FIGURES = ("effect", "effect_low", "effect_high", "contacted", "control", "churn_control")


def _log_effects(effects: pd.DataFrame, scratch: Path) -> None:
    path = scratch / "play_effects.csv"
    effects.to_csv(path, index=False)
    mlflow.log_artifact(str(path))
    for row in effects.to_dict("records"):
        play = "all" if row["play"] == OVERALL else row["play"]
        mlflow.log_metrics(
            {
                f"retention.{play}.{name}": float(row[name])
                for name in EFFECT_FIGURES
                if pd.notna(row[name])
            }
        )


def _step(as_of: pd.Timestamp) -> int:
    return as_of.year * 100 + as_of.month
