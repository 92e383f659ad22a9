"""Evaluation plots: every model on one axes per plot, and LightGBM's feature importance.

Figures are built with matplotlib's object API on the Agg canvas (no pyplot
state, no display, no files): each function returns a Figure; stages save them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve

Scores = Mapping[str, np.ndarray]
IMPORTANCE_TOP = 20


def _figure(title: str, xlabel: str, ylabel: str, size=(6.0, 4.5)) -> tuple[Figure, object]:
    figure = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axes.grid(alpha=0.3)
    return figure, axes


def _has_both_classes(y: np.ndarray) -> bool:
    return 0 < np.sum(y) < len(y)


def roc_figure(y: np.ndarray, scores: Scores) -> Figure:
    """Return ROC curves of every model (true vs false positive rate)."""
    figure, axes = _figure("ROC curve", "false positive rate", "true positive rate")
    y = np.asarray(y)
    for name, p in scores.items():
        if _has_both_classes(y):
            fpr, tpr, _ = roc_curve(y, p)
            axes.plot(fpr, tpr, label=name)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
    axes.legend(loc="lower right")
    return figure


def precision_recall_figure(y: np.ndarray, scores: Scores) -> Figure:
    """Return precision-recall curves of every model, with the churn rate as the floor."""
    figure, axes = _figure("Precision-recall curve", "recall", "precision")
    y = np.asarray(y)
    for name, p in scores.items():
        if _has_both_classes(y):
            precision, recall, _ = precision_recall_curve(y, p)
            axes.plot(recall, precision, label=name, drawstyle="steps-post")
    if len(y):
        axes.axhline(np.mean(y), linestyle=":", color="grey", label="churn rate")
    axes.legend(loc="upper right")
    return figure


def cumulative_gain(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (share of customers contacted, share of churners reached), best scores first."""
    order = np.argsort(-np.asarray(p), kind="stable")
    caught = np.concatenate([[0.0], np.cumsum(np.asarray(y)[order])])
    contacted = np.arange(len(caught)) / max(len(order), 1)
    return contacted, caught / max(caught[-1], 1.0)


def cumulative_gain_figure(y: np.ndarray, scores: Scores) -> Figure:
    """Return cumulative gain curves: churners reached by calling the top x% of customers."""
    figure, axes = _figure(
        "Cumulative gain", "share of customers contacted", "share of churners reached"
    )
    for name, p in scores.items():
        contacted, reached = cumulative_gain(np.asarray(y), p)
        axes.plot(contacted, reached, label=name)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
    axes.legend(loc="lower right")
    return figure


def calibration_figure(y: np.ndarray, scores: Scores, bins: int = 10) -> Figure:
    """Return reliability curves: observed churn rate per predicted-probability decile."""
    figure, axes = _figure("Calibration", "mean predicted probability", "observed churn rate")
    y = np.asarray(y)
    curves = []
    for name, p in scores.items():
        if _has_both_classes(y):
            observed, predicted = calibration_curve(y, p, n_bins=bins, strategy="quantile")
            axes.plot(predicted, observed, marker="o", label=name)
            curves += [predicted, observed]
    # Churn probabilities crowd near zero: on a 0-1 square every curve would sit in
    # the bottom-left corner, so the axes end just above the largest point plotted.
    top = calibration_axis_limit(np.concatenate(curves)) if curves else 1.0
    axes.plot([0, top], [0, top], linestyle=":", color="grey", label="perfect")
    axes.set_xlim(0, top)
    axes.set_ylim(0, top)
    axes.legend(loc="upper left")
    return figure


def calibration_axis_limit(points: np.ndarray, margin: float = 1.1) -> float:
    """Return the upper end of both calibration axes: the largest point plus 10%, at most 1."""
    finite = np.asarray(points, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0 or finite.max() <= 0:
        return 1.0
    return float(min(1.0, finite.max() * margin))


def mean_abs_contributions(contributions: pd.DataFrame) -> pd.Series:
    """Return each feature's mean |contribution| to the log-odds (SHAP-style), largest first."""
    values = contributions.drop(columns="bias", errors="ignore").abs().mean()
    return values.sort_values(ascending=False, kind="stable").rename("mean_abs_contribution")


def feature_importance_figure(contributions: pd.DataFrame, top: int = IMPORTANCE_TOP) -> Figure:
    """Return the top features by mean |contribution| from LightGBM's own pred_contrib."""
    importance = mean_abs_contributions(contributions).head(top).iloc[::-1]
    figure, axes = _figure(
        f"Feature importance (top {len(importance)})",
        "mean |contribution| to log-odds",
        "",
        size=(7.0, 0.3 * len(importance) + 1.5),
    )
    axes.barh(importance.index.astype(str), importance.to_numpy(), color="#3b6ea8")
    return figure


def evaluation_figures(
    y: np.ndarray, scores: Scores, contributions: pd.DataFrame | None = None
) -> dict[str, Figure]:
    """Return every evaluation figure by file stem (``roc``, ``pr``, ``gain``, ...)."""
    figures = {
        "roc": roc_figure(y, scores),
        "pr": precision_recall_figure(y, scores),
        "gain": cumulative_gain_figure(y, scores),
        "calibration": calibration_figure(y, scores),
    }
    if contributions is not None:
        figures["importance"] = feature_importance_figure(contributions)
    return figures
