"""The figures a training run logs, each filed under the model it measures.

The registered LightGBM's metrics are linked to its logged model (and the test
dataset); every other model's, the lead's differences aside, go in through the
client, so MLflow does not file the rules' figures under LightGBM.
"""

from __future__ import annotations

import time
from typing import Any

import mlflow
from mlflow.entities import Metric

from pipeline.training.causes import cause_metrics

REGISTERED_MODEL = "lightgbm"


def flat_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """Return ``{"<model>.<metric>": value}`` for every finite overall metric.

    The lead model's differences go in as ``<lead>.minus_<other>.<metric>`` with
    ``.low`` and ``.high`` for their interval (filed under the lead model).
    """
    flat = {}
    for model, values in metrics["models"].items():
        for name, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                flat[f"{model}.{name}"] = float(value)
    differences = metrics.get("differences") or {}
    for other, by_metric in (differences.get("against") or {}).items():
        for name, figures in by_metric.items():
            for part, suffix in (("difference", ""), ("low", ".low"), ("high", ".high")):
                if isinstance(figures.get(part), (int, float)):
                    key = f"{differences['lead']}.minus_{other}.{name}{suffix}"
                    flat[key] = float(figures[part])
    flat["cohort.rows"] = float(metrics["cohort"]["rows"])
    flat["cohort.churn_rate"] = float(metrics["cohort"]["churn_rate"] or 0.0)
    return flat


def log_model_metrics(metrics: dict[str, Any], model_id: str | None, test_dataset) -> None:
    """Log every model's metrics on the test cohort; the registered model's linked to it."""
    flat = flat_metrics(metrics)
    own = {k: v for k, v in flat.items() if k.startswith(f"{REGISTERED_MODEL}.")}
    mlflow.log_metrics(own, model_id=model_id, dataset=test_dataset)
    # The client, not mlflow.log_metrics: the fluent call links every metric to the
    # models logged in the run, which would file the rules' figures under LightGBM.
    run_id = mlflow.active_run().info.run_id
    stamp = int(time.time() * 1000)
    others = [
        Metric(
            key,
            value,
            stamp,
            0,
            dataset_name=test_dataset.name,
            dataset_digest=test_dataset.digest,
            run_id=run_id,
        )
        for key, value in flat.items()
        if key not in own
    ]
    mlflow.MlflowClient().log_batch(run_id, metrics=others)


def log_cause_model(causes: dict | None) -> None:
    """Log the cause model's out-of-time measures (``cause.*``) and its confusion table."""
    if not causes or not causes.get("fitted"):
        return
    # Through the client, like the other models' figures: the fluent call would file
    # them under the registered LightGBM model (see log_model_metrics).
    run_id = mlflow.active_run().info.run_id
    stamp = int(time.time() * 1000)
    metrics = [Metric(k, float(v), stamp, 0) for k, v in cause_metrics(causes).items()]
    mlflow.MlflowClient().log_batch(run_id, metrics=metrics)
    mlflow.log_dict(causes["confusion"], "cause_confusion.json")
