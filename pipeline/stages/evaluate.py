"""`churn evaluate`: recompute the side-by-side evaluation and report from a run folder."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import pandas as pd

from pipeline.core.errors import ChurnError
from pipeline.core.params import Params
from pipeline.stages.progress import stage_console
from pipeline.training.evaluation_outputs import read_facts, write_evaluation
from pipeline.training.fit import evaluate_on
from pipeline.training.outputs import METRICS_FILE, MODELS_FILE, REPORT_FILE, TEST_COHORT
from pipeline.training.run_folders import latest_run_folder
from pipeline.training.value_figures import value_figures

console = stage_console(soft_wrap=True)


def evaluate_stage(run: Path | None, params: Params) -> dict:
    """Score the run's fitted models on its test cohort again; rewrite metrics and report.

    ``run`` None takes the latest run (``runs/LATEST``).

    Raises:
        ChurnError: the folder is not a training run folder, or no run is recorded.
    """
    run = Path(run) if run is not None else latest_run_folder()
    console.print(f"evaluating {run}", markup=False)
    missing = [name for name in (MODELS_FILE, TEST_COHORT) if not (run / name).exists()]
    if missing:
        raise ChurnError(f"{run} is not a `churn train` run folder: missing {missing}")
    models = joblib.load(run / MODELS_FILE)
    cohort = pd.read_parquet(run / TEST_COHORT)
    columns = list(models["lightgbm"].feature_columns_)
    evaluation = evaluate_on(models, cohort, columns, params)
    evaluation.metrics["value"] = value_figures(models["lightgbm"], cohort, params)
    causes = _training_causes(run)
    if causes is not None:
        evaluation.metrics["causes"] = causes
    split = _split_description(run)
    write_evaluation(run, models, cohort, evaluation, columns, params, split, read_facts(run))
    for name, values in evaluation.metrics["models"].items():
        console.print(
            f"{name:<10} ROC-AUC {values['roc_auc']:.4f}  PR-AUC {values['pr_auc']:.4f}  "
            f"lift@10% {values['lift_at_10pct']:.2f}  "
            f"recall@rule volume {values['recall_at_rule_volume']:.3f}"
        )
    console.print(f"metrics: {run / METRICS_FILE}\nreport:  {run / REPORT_FILE}")
    return evaluation.metrics


def _training_causes(run: Path) -> dict | None:
    """Return the cause model's out-of-time figures as training recorded them, if any.

    The cause model is packaged with the churn model, not in models.joblib; its
    test-month figures do not change when the churn models are evaluated again.
    """
    path = run / METRICS_FILE
    return json.loads(path.read_text()).get("causes") if path.exists() else None


def _split_description(run: Path) -> str:
    path = run / "split.json"
    return json.loads(path.read_text())["describe"] if path.exists() else ""
