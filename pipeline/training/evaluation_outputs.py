"""Assemble and write the evaluation outputs of a run: metrics.json, plots, report.html.

Shared by `churn train` and `churn evaluate`, so both write the same files the
same way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from pipeline.core.atomic import atomic_path, atomic_write_parquet, atomic_write_text
from pipeline.core.params import Params
from pipeline.training.plots import evaluation_figures
from pipeline.training.report import render_report
from pipeline.training.report_sections import cause_sections, value_sections

METRICS_FILE = "metrics.json"
REPORT_FILE = "report.html"
FACTS_FILE = "run_facts.json"
CONTRIBUTION_SAMPLE = 5_000  # rows explained for the importance plot (exact SHAP is costly)


def build_figures(models: dict[str, Any], cohort: pd.DataFrame, seed: int) -> dict:
    """Return the ROC, PR, gain, calibration and importance figures for the test cohort."""
    y = cohort["label"].to_numpy()
    scores = {name: model.predict_proba(cohort)[:, 1] for name, model in models.items()}
    sample = cohort.sample(min(len(cohort), CONTRIBUTION_SAMPLE), random_state=seed)
    contributions = models["lightgbm"].contributions(sample)
    return evaluation_figures(y, scores, contributions)


def write_json(tree: dict, path: Path) -> Path:
    """Write a JSON file atomically (NaN is not valid JSON: trees hold null instead)."""
    return atomic_write_text(json.dumps(tree, indent=2, default=str, allow_nan=False), path)


def write_evaluation(
    run: Path,
    models: dict[str, Any],
    cohort: pd.DataFrame,
    evaluation,
    columns,
    params: Params,
    split_description: str,
    facts: dict[str, str] | None = None,
) -> Path:
    """Write metrics.json, test_scores.parquet, plots/*.png and report.html into a run folder.

    ``facts`` (run id, model version, date, commit, ...) head the report; they are
    kept in ``run_facts.json`` so `churn evaluate` writes them again.
    """
    write_json(evaluation.metrics, run / METRICS_FILE)
    atomic_write_parquet(evaluation.comparison.scores, run / "test_scores.parquet")
    figures = build_figures(models, cohort, params.model.seed)
    calibration = {
        name: model.calibration_report_
        for name, model in models.items()
        if getattr(model, "calibration_report_", None)
    }
    shown = {
        **(facts or {}),
        "features": str(len(columns)),
        "label": f"{params.label.definition}, {params.label.horizon_months} months",
        **btyd_facts(models, params.label.horizon_months),
    }
    html = render_report(
        evaluation.comparison,
        figures,
        split_description,
        shown,
        calibration=calibration,
        sections=[
            *value_sections(evaluation.metrics.get("value")),
            *cause_sections(evaluation.metrics.get("causes")),
        ],
    )
    if facts is not None:
        write_json(shown, run / FACTS_FILE)
    _write_figures(figures, run / "plots")
    return atomic_write_text(html, run / REPORT_FILE)


def btyd_facts(models: dict[str, Any], horizon_months: int) -> dict[str, str]:
    """Return the report's line on the BG/NBD baseline: what it scores and its parameters."""
    btyd = models.get("btyd")
    if btyd is None:
        return {}
    fitted = btyd.fitted_parameters()
    return {
        "btyd (BG/NBD) scores": f"P(no trade in the next {horizon_months} months), calibrated",
        "btyd fitted on training months": (
            f"r={fitted['r']:.3g}, alpha={fitted['alpha']:.3g} days, "
            f"a={fitted['a']:.3g}, b={fitted['b']:.3g}"
        ),
    }


def _write_figures(figures: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, figure in figures.items():
        with atomic_path(folder / f"{name}.png") as temp:
            figure.savefig(temp, dpi=110, bbox_inches="tight")
        plt.close(figure)


def read_facts(run: Path) -> dict[str, str] | None:
    """Return the run facts a run folder's report was written with (None for older runs)."""
    path = run / FACTS_FILE
    return json.loads(path.read_text()) if path.exists() else None
