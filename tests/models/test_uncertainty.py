"""The paired bootstrap of model differences: metrics by hand and against scikit-learn."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score, roc_auc_score

from models.uncertainty import (
    RankedScores,
    customer_resample_weights,
    paired_differences,
    weighted_average_precision,
    weighted_roc_auc,
)


def test_metrics_by_hand_with_a_tie():
    # churners at 0.9 and 0.8, stayers at 0.8 and 0.1: of the 4 churner-stayer pairs three
    # are ordered right and one is tied (half): 3.5 / 4. The list cut after 0.9 holds 1
    # churner of 1 (recall 1/2), after the tied 0.8s 2 of 3 (recall 1): AP = 1/2 + 1/2 * 2/3.
    ranked = RankedScores.of(np.array([0.9, 0.8, 0.8, 0.1]))
    churn, ones = np.array([1.0, 0.0, 1.0, 0.0]), np.ones(4)
    assert weighted_roc_auc(ranked, churn, ones) == pytest.approx(0.875)
    assert weighted_average_precision(ranked, churn, ones) == pytest.approx(0.5 + 0.5 * 2 / 3)


def test_a_weight_counts_a_row_that_many_times():
    ranked = RankedScores.of(np.array([0.9, 0.8, 0.1]))
    churn = np.array([1.0, 0.0, 1.0])
    # weight 2 on the stayer: churner 0.9 above both copies, churner 0.1 below both: 2/4
    assert weighted_roc_auc(ranked, churn, np.array([1.0, 2.0, 1.0])) == pytest.approx(0.5)
    # without the stayer the churners alone: no pair, no ROC-AUC
    assert np.isnan(weighted_roc_auc(ranked, churn, np.array([1.0, 0.0, 1.0])))


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.booleans(), st.integers(0, 3)), min_size=2, max_size=60
    )
)
def test_metrics_equal_scikit_learns_weighted_ones(rows):
    score = np.array([r[0] / 5 for r in rows])  # few distinct values: many ties
    churn = np.array([float(r[1]) for r in rows])
    weights = np.array([float(r[2]) for r in rows])
    positives, negatives = (weights * churn).sum(), (weights * (1 - churn)).sum()
    ranked = RankedScores.of(score)
    if positives > 0 and negatives > 0:
        expected = roc_auc_score(churn, score, sample_weight=weights)
        assert weighted_roc_auc(ranked, churn, weights) == pytest.approx(expected)
    if positives > 0:
        expected = average_precision_score(churn, score, sample_weight=weights)
        assert weighted_average_precision(ranked, churn, weights) == pytest.approx(expected)


def test_resamples_move_a_customers_months_together():
    customers = ["A", "A", "B", "C", "C", "C"]
    draws = customer_resample_weights(customers, resamples=50, seed=3)
    for weights in draws:
        assert weights[0] == weights[1] and weights[3] == weights[4] == weights[5]
        # three customers drawn with replacement per resample
        assert weights[0] + weights[2] + weights[3] == 3
    again = customer_resample_weights(customers, resamples=50, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(draws, again, strict=True))


def scores_table(n=600, seed=0):
    rng = np.random.default_rng(seed)
    churn = (rng.random(n) < 0.3).astype(int)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i // 2}" for i in range(n)],  # two months per customer
            "churn": churn,
            "good": churn + rng.normal(0, 0.6, n),
            "noise": rng.random(n),
        }
    )


def test_a_model_against_itself_differs_by_nothing():
    table = scores_table().assign(copy=lambda t: t["good"])
    out = paired_differences(table, "good", ["copy"], resamples=100, confidence=0.95, seed=1)
    assert (out[["difference", "low", "high"]].to_numpy() == 0).all()


def test_a_clearly_better_model_has_an_interval_above_zero():
    out = paired_differences(
        scores_table(), "good", ["noise"], resamples=200, confidence=0.95, seed=1
    )
    assert set(out["metric"]) == {"roc_auc", "pr_auc"}
    assert (out["low"] > 0).all() and (out["low"] <= out["difference"]).all()
    assert (out["difference"] <= out["high"]).all() and (out["resamples"] == 200).all()
    # the other way round the interval lies below zero
    back = paired_differences(
        scores_table(), "noise", ["good"], resamples=200, confidence=0.95, seed=1
    )
    assert (back["high"] < 0).all()


def test_two_similar_models_get_an_interval_holding_zero():
    table = scores_table(seed=4)
    rng = np.random.default_rng(9)
    table["twin"] = table["good"] + rng.normal(0, 0.05, len(table))
    out = paired_differences(table, "good", ["twin"], resamples=300, confidence=0.95, seed=2)
    assert ((out["low"] < 0) & (out["high"] > 0)).all()


def test_no_resamples_give_the_differences_alone():
    out = paired_differences(
        scores_table(), "good", ["noise"], resamples=0, confidence=0.95, seed=1
    )
    assert out["low"].isna().all() and out["high"].isna().all()
    expected = roc_auc_score(scores_table()["churn"], scores_table()["good"]) - roc_auc_score(
        scores_table()["churn"], scores_table()["noise"]
    )
    assert out.set_index("metric").loc["roc_auc", "difference"] == pytest.approx(expected)
