import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from pipeline.training.plots import (
    calibration_axis_limit,
    calibration_figure,
    cumulative_gain,
    cumulative_gain_figure,
    evaluation_figures,
    feature_importance_figure,
    mean_abs_contributions,
    precision_recall_figure,
    roc_figure,
)

Y = np.array([1, 0, 1, 0, 0, 0, 1, 0])
SCORES = {
    "lightgbm": np.array([0.9, 0.2, 0.8, 0.1, 0.3, 0.2, 0.6, 0.1]),
    "rules": np.array([0.5, 0.5, 0.2, 0.2, 0.2, 0.5, 0.2, 0.2]),
}


def test_cumulative_gain_by_hand():
    contacted, reached = cumulative_gain(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.7, 0.1]))
    assert contacted.tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert reached.tolist() == [0, 0.5, 0.5, 1, 1]


@pytest.mark.parametrize(
    "draw", [roc_figure, precision_recall_figure, cumulative_gain_figure, calibration_figure]
)
def test_every_model_is_drawn_on_one_axes(draw):
    figure = draw(Y, SCORES)
    assert isinstance(figure, Figure)
    (axes,) = figure.axes
    labels = [line.get_label() for line in axes.get_lines()]
    assert {"lightgbm", "rules"} <= set(labels)


def test_degenerate_labels_still_give_a_figure():
    figure = roc_figure(np.zeros(8, dtype=int), SCORES)
    assert isinstance(figure, Figure)


def test_importance_is_the_mean_absolute_contribution_top_20():
    # Feature f{i} contributes +(i+1) and -(i+1) on alternate rows: mean |contribution| = i + 1.
    columns = [f"f{i:02d}" for i in range(25)]
    signs = np.tile([[1.0], [-1.0]], (20, 1))
    contributions = pd.DataFrame(signs * np.arange(1, 26), columns=columns)
    contributions["bias"] = 100.0
    importance = mean_abs_contributions(contributions)
    assert "bias" not in importance.index
    assert importance.index[0] == "f24" and importance.is_monotonic_decreasing
    assert importance["f03"] == pytest.approx(4.0)
    (axes,) = feature_importance_figure(contributions).axes
    assert len(axes.patches) == 20
    assert axes.get_yticklabels()[-1].get_text() == "f24"  # largest on top


def test_evaluation_figures_names():
    contributions = pd.DataFrame({"a": [1.0, -2.0], "bias": [0.1, 0.1]})
    assert list(evaluation_figures(Y, SCORES, contributions)) == [
        "roc",
        "pr",
        "gain",
        "calibration",
        "importance",
    ]
    assert "importance" not in evaluation_figures(Y, SCORES)


def test_the_calibration_plot_is_scaled_to_the_predicted_probabilities():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.0, 0.2, 2000)  # churn probabilities crowd near zero
    y = (rng.random(2000) < p).astype(int)
    (axes,) = calibration_figure(y, {"lightgbm": p}).axes
    top = axes.get_xlim()[1]
    assert axes.get_ylim() == axes.get_xlim()
    assert 0.15 < top < 0.3  # not the whole 0-1 square
    points = np.concatenate([line.get_xydata()[:, 0] for line in axes.get_lines()])
    assert points.max() <= top


def test_calibration_axis_limit_by_hand():
    assert calibration_axis_limit(np.array([0.1, 0.2, np.nan])) == pytest.approx(0.22)
    assert calibration_axis_limit(np.array([0.95])) == 1.0
    assert calibration_axis_limit(np.array([])) == 1.0
