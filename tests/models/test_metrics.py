import math

import numpy as np
import pytest

from models.metrics import (
    lift_name,
    metric_row,
    probability_metrics,
    selection_metrics,
    selections,
    top_weights,
)

# Ten customers in one month, best score first.
P = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
Y = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 0], dtype=float)  # 3 churners, rate .3
ASSETS = np.array([100, 50, 200, 10, 10, 300, 10, 10, 10, 10], dtype=float)
ALERTS = np.array([1, 0, 0, 1, 0, 1, 0, 0, 0, 0], dtype=bool)  # rules flag 3
MONTH = np.array(["2024-01-31"] * 10, dtype="datetime64[D]")


def test_lift_names():
    assert [lift_name(f) for f in (0.05, 0.1, 0.2, 0.125)] == [
        "lift_at_5pct",
        "lift_at_10pct",
        "lift_at_20pct",
        "lift_at_12.5pct",
    ]


def test_top_weights_share_ties_at_the_cut_off():
    assert top_weights(np.array([5, 4, 4, 2]), 2).tolist() == [1, 0.5, 0.5, 0]
    assert top_weights(np.array([5, 4, 3, 2]), 2.5).tolist() == [1, 1, 0.5, 0]
    assert top_weights(np.array([5, 4, 3, 2]), 0).tolist() == [0, 0, 0, 0]
    assert top_weights(np.array([5, 4, 3, 2]), 9).tolist() == [1, 1, 1, 1]
    assert top_weights(np.array([2, 2, 2]), 1) == pytest.approx([1 / 3] * 3)


def test_probability_metrics_by_hand():
    m = probability_metrics(Y, P)
    # ROC-AUC: positives .9/.7/.4 beat 7/6/4 of the 7 negatives -> 17/21.
    assert m["roc_auc"] == pytest.approx(17 / 21)
    # Average precision: churners at ranks 1, 3, 6 -> (1/1 + 2/3 + 3/6) / 3.
    assert m["pr_auc"] == pytest.approx((1 + 2 / 3 + 0.5) / 3)
    # Brier: (.01 + .64 + .09 + .36 + .25 + .36 + .09 + .04 + .01 + .0025) / 10.
    assert m["brier"] == pytest.approx(0.18525)
    # Log loss: -(ln .9 + ln .2 + ln .7 + ln .4 + ln .5 + ln .4 + ln .7 + ln .8 + ln .9
    #   + ln .95) / 10 = 5.333676 / 10.
    assert m["log_loss"] == pytest.approx(0.5333676, abs=1e-6)


def test_selection_metrics_by_hand():
    picked = selections(P, MONTH, ALERTS, lift_fractions=[0.1, 0.2, 0.5], call_list_capacity=2)
    row = metric_row(Y, P, ASSETS, picked, [0.1, 0.2, 0.5])
    # Top 1 (10%) is a churner: precision 1 / .3; top 2: 1 of 2 -> .5 / .3;
    # top 5: rows 0 and 2 of 5 -> .4 / .3.
    assert row["lift_at_10pct"] == pytest.approx(1 / 0.3)
    assert row["lift_at_20pct"] == pytest.approx(0.5 / 0.3)
    assert row["lift_at_50pct"] == pytest.approx(0.4 / 0.3)
    # K = 2: rows 0, 1 -> one churner of two called, one of three churners reached,
    # 100 of the 600 churned assets.
    assert row["precision_at_k"] == pytest.approx(0.5)
    assert row["recall_at_k"] == pytest.approx(1 / 3)
    assert row["assets_at_risk_recall"] == pytest.approx(100 / 600)
    # The rules flag 3: the model's top 3 (rows 0-2) holds 2 churners, 300 of 600 assets.
    assert row["recall_at_rule_volume"] == pytest.approx(2 / 3)
    assert row["precision_at_rule_volume"] == pytest.approx(2 / 3)
    assert row["assets_at_risk_recall_at_rule_volume"] == pytest.approx(0.5)


def test_selections_are_made_per_month():
    months = np.repeat(np.array(["2024-01-31", "2024-02-29"], dtype="datetime64[D]"), 3)
    scores = np.array([0.9, 0.1, 0.2, 0.3, 0.8, 0.05])
    picked = selections(scores, months, np.zeros(6, bool), lift_fractions=[], call_list_capacity=1)
    # Each month's best: row 0 in January, row 4 in February; no alerts -> nobody at volume.
    assert picked["at_k"].tolist() == [1, 0, 0, 0, 1, 0]
    assert picked["at_rule_volume"].tolist() == [0] * 6


def test_ties_count_as_a_fair_share():
    # A coarse score: three customers tied at the top, one churner among them, K = 1.
    scores = np.array([2.0, 2.0, 2.0, 0.0])
    y = np.array([1.0, 0, 0, 1])
    weights = top_weights(scores, 1)
    m = selection_metrics(weights, y, np.array([10.0, 10, 10, 30]))
    assert m["precision"] == pytest.approx(1 / 3)
    assert m["recall"] == pytest.approx(1 / 6)
    assert m["assets_recall"] == pytest.approx((10 / 3) / 40)


def test_a_group_without_churners_gives_nan_not_an_error():
    y = np.zeros(4)
    p = np.array([0.4, 0.3, 0.2, 0.1])
    picked = selections(p, MONTH[:4], np.ones(4, bool), lift_fractions=[0.5], call_list_capacity=2)
    row = metric_row(y, p, np.ones(4), picked, [0.5])
    for name in ("roc_auc", "pr_auc", "lift_at_50pct", "recall_at_k", "assets_at_risk_recall"):
        assert math.isnan(row[name]), name
    assert row["precision_at_k"] == 0.0
    assert math.isfinite(row["log_loss"]) and math.isfinite(row["brier"])


def test_nothing_selected_means_zero_recall_and_undefined_precision():
    m = selection_metrics(np.zeros(3), np.array([1.0, 0, 0]), np.ones(3))
    assert m["recall"] == 0.0 and math.isnan(m["precision"])
