"""What a training run logs as metrics: every model's figures and the lead's differences."""

from pipeline.tracking.model_metrics import flat_metrics


def test_the_leads_differences_are_filed_under_the_lead_model():
    metrics = {
        "models": {"lightgbm": {"pr_auc": 0.4, "rows": 10}, "rules": {"pr_auc": 0.07}},
        "cohort": {"rows": 10, "churn_rate": 0.1},
        "differences": {
            "lead": "lightgbm",
            "confidence": 0.95,
            "against": {
                "rules": {"pr_auc": {"difference": 0.33, "low": 0.3, "high": 0.36}},
                "logistic": {"roc_auc": {"difference": 0.01, "low": None, "high": None}},
            },
        },
    }
    flat = flat_metrics(metrics)
    assert flat["lightgbm.minus_rules.pr_auc"] == 0.33
    assert flat["lightgbm.minus_rules.pr_auc.low"] == 0.3
    assert flat["lightgbm.minus_rules.pr_auc.high"] == 0.36
    # without resamples there is no interval, and nothing undefined is logged
    assert flat["lightgbm.minus_logistic.roc_auc"] == 0.01
    assert "lightgbm.minus_logistic.roc_auc.low" not in flat
    assert flat["rules.pr_auc"] == 0.07 and flat["cohort.rows"] == 10.0
