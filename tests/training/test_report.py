import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from models.evaluation import compare_models
from pipeline.core.params import EvaluationParams
from pipeline.training.plots import evaluation_figures
from pipeline.training.report import headline, render_report
from pipeline.training.report_sections import restamp_run_facts


class ColumnModel:
    def __init__(self, column):
        self.column = column

    def predict_proba(self, X):
        p = X[self.column].to_numpy(dtype=float)
        return np.column_stack([1 - p, p])


def comparison(good_model: bool):
    rng = np.random.default_rng(1)
    n = 400
    churn = (rng.random(n) < 0.2).astype(int)
    informative = np.clip(0.15 + 0.5 * churn + rng.normal(0, 0.15, n), 0.01, 0.99)
    coarse = np.clip(0.1 + 0.2 * churn * (rng.random(n) < 0.5), 0.01, 0.99)
    cohort = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "as_of": np.repeat(pd.to_datetime(["2024-01-31", "2024-02-29"]), n // 2),
            "total_assets": rng.uniform(1e4, 1e6, n),
            "value_tier": pd.Categorical(rng.choice(["mass", "affluent"], n)),
            "good": informative,
            "coarse": coarse,
            "noise": rng.uniform(0.01, 0.99, n),
        }
    )
    model = ColumnModel("good" if good_model else "noise")
    return compare_models(
        {"lightgbm": model, "rules": ColumnModel("coarse")},
        cohort,
        churn,
        feature_columns=[],
        evaluation=EvaluationParams(call_list_capacity=40),
        rule_alerts=pd.Series(coarse > 0.2),
    )


@pytest.fixture(scope="module")
def page():
    result = comparison(good_model=True)
    contributions = pd.DataFrame({"outflow": [0.5, -1.0], "bias": [0.0, 0.0]})
    figures = evaluation_figures(result.scores["churn"], result.probabilities(), contributions)
    calibration = {
        "lightgbm": {
            "method": "isotonic",
            "rows": 900,
            "log_loss_before": 0.41,
            "log_loss_after": 0.33,
            "brier_before": 0.129,
            "brier_after": 0.099,
        }
    }
    html = render_report(
        result,
        figures,
        "train 2022-01-31 .. 2022-06-30",
        {"mlflow run": "abc123"},
        calibration=calibration,
    )
    return result, html


def test_headline_says_whether_the_model_beats_the_rules():
    beats, text = headline(comparison(good_model=True))
    assert beats and "lightgbm model beats the warning rules on PR-AUC" in text
    beats, text = headline(comparison(good_model=False))
    assert not beats and "does NOT beat the warning rules" in text


def test_report_is_self_contained(page):
    _, html = page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "http://" not in html and "https://" not in html
    images = re.findall(r'<img alt="(\w+)" src="data:image/png;base64,', html)
    assert images == ["roc", "pr", "gain", "calibration", "importance"]
    assert "<style>" in html and "<link" not in html and "<script" not in html


def test_report_shows_headline_tables_split_and_run(page):
    result, html = page
    _, text = headline(result)
    assert text.replace("'", "&#x27;") in html
    assert "<th>Metric</th><th>lightgbm</th><th>rules</th>" in html
    assert "PR-AUC (average precision)" in html
    assert "Per test month" in html and "2024-02-29" in html
    assert "Per value tier" in html and "affluent" in html
    assert "rule alerts vs the top 40 a month" in html
    assert "0.330" in html and "0.099" in html  # calibration after
    assert "train 2022-01-31 .. 2022-06-30" in html and "abc123" in html


def test_report_is_well_formed_html(page):
    _, html = page

    class Balance(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack = []

        def handle_starttag(self, tag, attrs):
            if tag not in {"meta", "img", "br"}:
                self.stack.append(tag)

        def handle_endtag(self, tag):
            assert self.stack.pop() == tag

    parser = Balance()
    parser.feed(html)
    assert parser.stack == []


def test_calibration_can_come_inside_extra():
    result = comparison(good_model=True)
    report = {"lightgbm": {"method": "sigmoid", "brier_before": 0.2, "brier_after": 0.123}}
    html = render_report(result, {}, "split", {"calibration": report, "run": "r1"})
    assert "sigmoid" in html and "0.123" in html and "r1" in html


def test_every_table_column_is_labelled_in_words(page):
    _, html = page
    headers = re.findall(r"<th>([^<]*)</th>", html)
    assert "Churners on the monthly call list (recall at K)" in headers
    assert "Test month" in headers and "Value tier" in headers
    assert "Brier score after calibration" in headers
    raw = [h for h in headers if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", h)]
    assert raw == []  # no metrics.json key (recall_at_k, assets_at_risk_recall) as a header


def test_the_run_facts_head_the_report_and_are_restamped_with_the_version():
    result = comparison(good_model=True)
    facts = {"MLflow run": "run-1", "model version": "not registered yet", "git commit": "abc"}
    html = render_report(result, {}, "split", facts)
    assert html.index("run-1") < html.index("Metrics, side by side")
    final = restamp_run_facts(html, facts | {"model version": "m version 7", "alias": "champion"})
    assert "m version 7" in final and "champion" in final and "not registered yet" not in final
    assert final.replace("m version 7", "").count("run-1") == 1
    with pytest.raises(ValueError, match="no run-facts table"):
        restamp_run_facts("<html></html>", facts)


def test_report_and_metrics_say_how_sure_the_lead_is(page):
    result, html = page
    assert result.lead == "lightgbm"
    assert "How sure the lightgbm model's lead is" in html
    rules = result.differences_json()["against"]["rules"]["pr_auc"]
    assert rules["low"] <= rules["difference"] <= rules["high"] and rules["resamples"] == 200
    assert result.to_metrics_json()["differences"]["confidence"] == 0.95
    _, text = headline(result)
    assert "95% interval over resampled customers" in text and "a clear lead" in text


def test_an_interval_holding_zero_is_called_chance():
    twin = comparison(good_model=True)
    rows = twin.differences.assign(low=-0.01, high=0.02)
    _, text = headline(
        type(twin)(**{**twin.__dict__, "differences": rows})  # the same comparison, a tied lead
    )
    assert "the difference may be chance" in text
