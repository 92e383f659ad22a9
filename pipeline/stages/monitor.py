"""`churn monitor`: realised performance of past scoring runs whose label windows have completed.

Wiring only: pipeline/scoring/monitoring.py finds the runs and computes the
metrics; this stage loads the data, prints the table and logs a monitoring run
(tag ``churn.kind=monitoring``) with one metric point per month
(``<model>.<metric>``, step = the as-of month as ``yyyymm``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from rich.table import Table

from pipeline.core.params import Params
from pipeline.data.loader import load_tables
from pipeline.retention.effect import labelled_units, measured_effects
from pipeline.scoring.monitoring import realised_month
from pipeline.stages.progress import StepLog, stage_console
from pipeline.tracking.mlflow_store import check_tracking_store
from pipeline.tracking.monitoring_run import log_monitoring_run, past_scoring_runs, stored_scores

console = stage_console(width=120)
SHOWN = {
    "pr_auc": "PR-AUC",
    "roc_auc": "ROC-AUC",
    "lift_at_10pct": "lift@10%",
    "precision_at_k": "prec@K",
    "recall_at_k": "recall@K",
    "recall_at_rule_volume": "recall@rules",
}


def monitor_stage(data: Path, params: Params) -> pd.DataFrame:
    """Label the past scoring runs the data now cover; print and log their realised metrics.

    Args:
        data: the input data folder (its observation_end decides which windows are complete).
        params: the run's params (``tracking:``, ``evaluation:``, ``data:``, ``validation:``).

    Returns:
        One row per completed month and model (lightgbm, rules); empty when none.
    """
    check_tracking_store(params.tracking)
    runs = past_scoring_runs(params.tracking)
    if not runs:
        console.print(f"no scoring runs in experiment '{params.tracking.experiment}'")
        return pd.DataFrame()
    steps = StepLog(console)
    with steps.step("load and validate"):
        tables = load_tables(data, params, rejected_dir=None).tables
    end = tables.observation_end
    complete = _complete(runs, end)
    if not complete:
        return pd.DataFrame()
    with tempfile.TemporaryDirectory(prefix="churn-monitor-") as scratch:
        with steps.step(f"label and judge {len(complete)} scored month(s)"):
            months = [
                realised_month(
                    tables, run, stored_scores(run.run_id, Path(scratch)), params.evaluation
                )
                for run in complete
            ]
        realised = pd.concat(months, ignore_index=True)
        if realised.empty:
            console.print("none of the scored accounts could be labelled")
            return realised
        _print(realised, params.evaluation.confidence)
        effects = _play_effects(tables, params)
        run_id = log_monitoring_run(
            realised, data, end, params.tracking, Path(scratch), effects=effects
        )
    console.print(f"MLflow monitoring run {run_id}")
    console.print(steps.summary())
    return realised


def _play_effects(tables, params: Params) -> pd.DataFrame | None:
    """Measure each play on the recorded retention actions whose windows closed; print it."""
    if tables.retention_actions is None:
        console.print("no retention_actions table: no play effect to measure")
        return None
    units = labelled_units(tables, params.label)
    if not len(units):
        console.print("no retention action has a closed label window yet: no effect measured")
        return None
    effects = measured_effects(units, params.retention.confidence)
    coverage = f"{params.retention.confidence:.0%}"
    table = Table(
        title="Measured effect per play: realised churn of control minus contacted accounts"
    )
    for header in ("play", "contacted", "control", "churn contacted", "churn control",
                   "effect", f"{coverage} interval", "breached"):  # fmt: skip
        table.add_column(header, justify="left" if header == "play" else "right")
    for row in effects.itertuples():
        table.add_row(
            row.play, f"{row.contacted:,}", f"{row.control:,}", _share(row.churn_contacted),
            _share(row.churn_control), _share(row.effect),
            f"{_share(row.effect_low)} to {_share(row.effect_high)}", f"{row.control_breached:,}",
        )  # fmt: skip
    console.print(table)
    return effects


def _share(value) -> str:
    return "-" if pd.isna(value) else f"{value:+.1%}" if value < 0 else f"{value:.1%}"


def _complete(runs, end: pd.Timestamp) -> list:
    """Return the runs whose label window has ended by ``end``; say which are still open."""
    for run in runs:
        if run.window_end() > end:
            console.print(
                f"{run.as_of.date()}: label window ends {run.window_end().date()}, after the "
                f"data's observation_end {end.date()}; not judged yet"
            )
    return [run for run in runs if run.window_end() <= end]


def _print(realised: pd.DataFrame, confidence: float) -> None:
    table = Table(title="Realised performance per scored month: model and rules side by side")
    for header in ("as-of", "model", "labelled", "churn", *SHOWN.values()):
        table.add_column(header, justify="left" if header in ("as-of", "model") else "right")
    for row in realised.itertuples():
        cells = [str(row.as_of.date()), row.model, f"{row.labelled:,}", f"{row.churn_rate:.1%}"]
        cells += [_number(getattr(row, name)) for name in SHOWN]
        table.add_row(*cells)
    console.print(table)
    for row in realised.itertuples():
        if pd.notna(row.pr_auc_minus_rules):
            console.print(_lead(row, confidence))


def _lead(row, confidence: float) -> str:
    """Return the month's PR-AUC lead of the model over the rules, in words with its interval."""
    text = f"{row.as_of.date()}: {row.model} minus rules on PR-AUC {row.pr_auc_minus_rules:+.3f}"
    low, high = row.pr_auc_minus_rules_low, row.pr_auc_minus_rules_high
    if pd.isna(low):
        return text
    meaning = "a clear lead" if low > 0 else "clearly behind" if high < 0 else "may be chance"
    interval = f"{confidence:.0%} interval over resampled customers {low:+.3f} to {high:+.3f}"
    return f"{text} ({interval}: {meaning})"


def _number(value) -> str:
    return "-" if pd.isna(value) else f"{value:.3f}"
