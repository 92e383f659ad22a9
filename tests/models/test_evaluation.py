import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.evaluation import compare_models
from pipeline.core.errors import ChurnError
from pipeline.core.params import EvaluationParams

TIERS = ["mass", "affluent", "high_net_worth"]


class ColumnModel:
    """A fitted 'model' whose probabilities are a column of the cohort (known scores)."""

    def __init__(self, column: str):
        self.column = column

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = X[self.column].to_numpy(dtype=float)
        return np.column_stack([1 - p, p])


def tiny_cohort():
    """January: the ten customers of test_metrics; February: ten customers, nobody churns."""
    january = pd.DataFrame(
        {
            "score": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05],
            "churn": [1, 0, 1, 0, 0, 1, 0, 0, 0, 0],
            "total_assets": [100, 50, 200, 10, 10, 300, 10, 10, 10, 10.0],
            "alert": [True, False, False, True, False, True, False, False, False, False],
            "value_tier": ["high_net_worth", "mass", "mass", "mass", "mass", "high_net_worth"]
            + ["mass"] * 4,
            "as_of": pd.Timestamp("2024-01-31"),
        }
    )
    february = pd.DataFrame(
        {
            "score": [0.04, 0.035, 0.03, 0.025, 0.02, 0.015, 0.01, 0.008, 0.006, 0.004],
            "churn": 0,
            "total_assets": 10.0,
            "alert": [True] + [False] * 9,
            "value_tier": "affluent",
            "as_of": pd.Timestamp("2024-02-29"),
        }
    )
    cohort = pd.concat([january, february], ignore_index=True)
    cohort["customer_id"] = [f"C{i:02d}" for i in range(20)]
    cohort["value_tier"] = pd.Categorical(cohort["value_tier"], categories=TIERS, ordered=True)
    cohort["flat"] = 0.2
    return cohort


def compare_tiny(**evaluation):
    cohort = tiny_cohort()
    params = EvaluationParams(call_list_capacity=2, **evaluation)
    return compare_models(
        {"model": ColumnModel("score"), "rules": ColumnModel("flat")},
        cohort,
        cohort["churn"],
        feature_columns=["score"],
        evaluation=params,
        rule_alerts=cohort["alert"],
    )


def test_overall_metrics_by_hand():
    m = compare_tiny().metrics.loc["model"]
    # K = 2 a month: Jan rows 0, 1 and Feb rows 10, 11 -> 1 churner of 4 called, of 3 churners.
    assert m["precision_at_k"] == pytest.approx(1 / 4)
    assert m["recall_at_k"] == pytest.approx(1 / 3)
    assert m["assets_at_risk_recall"] == pytest.approx(100 / 600)
    # Rules flag 3 in January (top 3 hold 2 churners) and 1 in February (no churner).
    assert m["recall_at_rule_volume"] == pytest.approx(2 / 3)
    assert m["precision_at_rule_volume"] == pytest.approx(2 / 4)
    # Top 10% a month: Jan row 0 (churner), Feb row 10 -> precision 1/2 over a 3/20 rate.
    assert m["lift_at_10pct"] == pytest.approx(0.5 / 0.15)
    # Pooled ROC-AUC: the February scores sit below every January one, so the churners
    # .9/.7/.4 beat 17/16/14 of the 17 negatives -> 47/51.
    assert m["roc_auc"] == pytest.approx(47 / 51)


def test_a_constant_score_is_judged_by_the_same_rules():
    m = compare_tiny().metrics.loc["rules"]
    # Everyone ties: the call list is a fair 2/10 share of each month -> 3 * 0.2 churners caught.
    assert m["recall_at_k"] == pytest.approx(0.2)
    assert m["roc_auc"] == pytest.approx(0.5)


def test_per_month_guards_a_month_without_churners():
    per_month = compare_tiny().per_month.set_index(["model", "as_of"])
    january = per_month.loc[("model", pd.Timestamp("2024-01-31"))]
    february = per_month.loc[("model", pd.Timestamp("2024-02-29"))]
    assert january["roc_auc"] == pytest.approx(17 / 21)
    assert january["precision_at_k"] == pytest.approx(0.5)
    assert (february["rows"], february["churners"]) == (10, 0)
    assert math.isnan(february["roc_auc"]) and math.isnan(february["recall_at_k"])
    assert february["precision_at_k"] == 0.0


def test_per_tier_uses_the_monthly_call_list_and_tier_order():
    per_tier = compare_tiny().per_tier
    model = per_tier[per_tier["model"] == "model"].set_index("value_tier")
    assert list(model.index) == TIERS
    hnw = model.loc["high_net_worth"]
    # Rows 0 and 5 both churn; only row 0 is on January's top-2 list: 1 of 2, 100 of 400 assets.
    assert (hnw["rows"], hnw["churners"]) == (2, 2)
    assert hnw["recall_at_k"] == pytest.approx(0.5)
    assert hnw["assets_at_risk_recall"] == pytest.approx(0.25)


def test_overlap_of_rule_alerts_and_the_call_list():
    comparison = compare_tiny()
    table = comparison.overlap["model"]
    # Call list: Jan 0, 1; Feb 10, 11. Alerts: 0, 3, 5, 10.
    assert table["customers"].tolist() == [2, 2, 2, 14]
    assert table["churners"].tolist() == [1, 0, 1, 1]
    assert table["churned_assets"].tolist() == [100, 0, 300, 200]
    assert comparison.caught_only_by_rules["model"]["customer_id"].tolist() == ["C05"]
    assert comparison.caught_only_by_model["model"].empty
    assert comparison.rule_alerts == pytest.approx(
        {"flagged": 4, "precision": 0.5, "recall": 2 / 3, "assets_at_risk_recall": 400 / 600}
    )


def test_metrics_json_shape():
    tree = compare_tiny().to_metrics_json()
    json.dumps(tree, allow_nan=False)  # NaN became null
    assert tree["cohort"] == {
        "test_as_of": ["2024-01-31", "2024-02-29"],
        "rows": 20,
        "churn_rate": pytest.approx(0.15),
    }
    assert set(tree["models"]) == {"model", "rules"}
    expected = {
        "roc_auc",
        "pr_auc",
        "log_loss",
        "brier",
        "lift_at_5pct",
        "lift_at_10pct",
        "lift_at_20pct",
        "precision_at_k",
        "recall_at_k",
        "recall_at_rule_volume",
        "assets_at_risk_recall",
    }
    assert expected <= set(tree["models"]["model"])
    february = tree["per_month"]["model"][1]
    assert february["as_of"] == "2024-02-29" and february["roc_auc"] is None
    assert tree["overlap"]["model"]["both"] == {
        "customers": 2,
        "churners": 1,
        "churned_assets": 100.0,
    }


def test_bad_inputs_are_clear_errors():
    cohort = tiny_cohort()
    params = EvaluationParams()
    models = {"model": ColumnModel("score")}
    with pytest.raises(ChurnError, match="lacks columns \\['total_assets'\\]"):
        compare_models(
            models,
            cohort.drop(columns="total_assets"),
            cohort["churn"],
            feature_columns=[],
            evaluation=params,
            rule_alerts=cohort["alert"],
        )
    with pytest.raises(ChurnError, match="indexed like the cohort"):
        compare_models(
            models,
            cohort,
            cohort["churn"],
            feature_columns=[],
            evaluation=params,
            rule_alerts=cohort["alert"].iloc[::-1],
        )
    with pytest.raises(ChurnError, match="20 rows but 19 labels"):
        compare_models(
            models,
            cohort,
            cohort["churn"][:19],
            feature_columns=[],
            evaluation=params,
            rule_alerts=cohort["alert"],
        )
    with pytest.raises(ChurnError, match="clash"):
        compare_models(
            {"churn": ColumnModel("score")},
            cohort,
            cohort["churn"],
            feature_columns=[],
            evaluation=params,
            rule_alerts=cohort["alert"],
        )


@pytest.fixture(scope="module")
def synthetic_comparison(fitted, parts, feature_columns):
    cohort, y = parts["test"]
    return compare_models(
        fitted,
        cohort,
        y,
        feature_columns=feature_columns,
        evaluation=EvaluationParams(call_list_capacity=50),
        rule_alerts=fitted["rules"].alerts(cohort),
    )


def test_lightgbm_beats_the_rules_on_the_planted_signal(synthetic_comparison):
    m = synthetic_comparison.metrics
    assert list(m.index) == ["lightgbm", "rules", "logistic"]
    assert m.loc["lightgbm", "pr_auc"] > m.loc["rules", "pr_auc"]
    assert len(synthetic_comparison.per_month) == 3 * 2  # 3 models x 2 test months


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_metrics_do_not_depend_on_row_order(
    fitted, parts, feature_columns, synthetic_comparison, seed
):
    cohort, y = parts["test"]
    order = np.random.default_rng(seed).permutation(len(cohort))
    shuffled = cohort.iloc[order].reset_index(drop=True)
    again = compare_models(
        fitted,
        shuffled,
        y.iloc[order].reset_index(drop=True),
        feature_columns=feature_columns,
        evaluation=EvaluationParams(call_list_capacity=50),
        rule_alerts=fitted["rules"].alerts(shuffled),
    )
    pd.testing.assert_frame_equal(again.metrics, synthetic_comparison.metrics, rtol=1e-9)
