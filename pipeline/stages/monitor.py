"""`churn monitor`: realised performance of past scoring runs whose label windows have completed.

Wiring only: pipeline/scoring/monitoring.py finds the runs and computes the
metrics; this stage loads the data, prints the table and logs a monitoring run
(tag ``churn.kind=monitoring``) with one metric point per month
(``<model>.<metric>``, step = the as-of month as ``yyyymm``).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from pipeline.core.params import Params

console = Console(highlight=False, width=120)
SHOWN = {
    "pr_auc": "PR-AUC",
    "roc_auc": "ROC-AUC",
    "lift_at_10pct": "lift@10%",
    "precision_at_k": "prec@K",
    "recall_at_k": "recall@K",
    "recall_at_rule_volume": "recall@rules",
}
TABLE_FILE = "realised_performance.csv"
BATCH = 1000


def monitor_stage(data: Path, params: Params) -> pd.DataFrame:
    """Label the past scoring runs the data now cover; print and log their realised metrics.

    Args:
        data: the input data folder (its observation_end decides which windows are complete).
        params: the run's params (``tracking:``, ``evaluation:``, ``data:``, ``validation:``).

    Returns:
        One row per completed month and model (lightgbm, rules); empty when none.
    """
    import mlflow

    from pipeline.data.loader import load_tables
    from pipeline.scoring.monitoring import past_scoring_runs, realised_month, stored_scores
    from pipeline.tracking.mlflow_store import tracking_uri

    mlflow.set_tracking_uri(tracking_uri(params.tracking))
    runs = past_scoring_runs(mlflow.MlflowClient(), params.tracking.experiment)
    if not runs:
        console.print(f"no scoring runs in experiment '{params.tracking.experiment}'")
        return pd.DataFrame()
    tables = load_tables(data, params, rejected_dir=None).tables
    end = tables.observation_end
    complete = _complete(runs, end)
    if not complete:
        return pd.DataFrame()
    with tempfile.TemporaryDirectory(prefix="churn-monitor-") as scratch:
        months = [
            realised_month(tables, run, stored_scores(run.run_id, Path(scratch)), params.evaluation)
            for run in complete
        ]
        realised = pd.concat(months, ignore_index=True)
        if realised.empty:
            console.print("none of the scored accounts could be labelled")
            return realised
        _print(realised)
        run_id = _log(realised, data, end, params, Path(scratch))
    console.print(f"MLflow monitoring run {run_id}")
    return realised


def _complete(runs, end: pd.Timestamp) -> list:
    """Return the runs whose label window has ended by ``end``; say which are still open."""
    for run in runs:
        if run.window_end() > end:
            console.print(
                f"{run.as_of.date()}: label window ends {run.window_end().date()}, after the "
                f"data's observation_end {end.date()}; not judged yet"
            )
    return [run for run in runs if run.window_end() <= end]


def _print(realised: pd.DataFrame) -> None:
    table = Table(title="Realised performance per scored month: model and rules side by side")
    for header in ("as-of", "model", "labelled", "churn", *SHOWN.values()):
        table.add_column(header, justify="left" if header in ("as-of", "model") else "right")
    for row in realised.itertuples():
        cells = [str(row.as_of.date()), row.model, f"{row.labelled:,}", f"{row.churn_rate:.1%}"]
        cells += [_number(getattr(row, name)) for name in SHOWN]
        table.add_row(*cells)
    console.print(table)


def _number(value) -> str:
    return "-" if pd.isna(value) else f"{value:.3f}"


def _log(realised: pd.DataFrame, data: Path, end, params: Params, scratch: Path) -> str:
    import mlflow
    from mlflow.entities import Metric

    from pipeline.scoring.monitoring import MODEL
    from pipeline.tracking.mlflow_store import data_fingerprint, data_location, mlflow_run

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
    with mlflow_run(params.tracking, f"monitor {end:%Y-%m}", tags) as run:
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
        mlflow.set_tag(
            "churn.months",
            ",".join(str(m.date()) for m in realised.loc[realised["model"] == MODEL, "as_of"]),
        )
    return run.info.run_id


def _step(as_of: pd.Timestamp) -> int:
    return as_of.year * 100 + as_of.month
