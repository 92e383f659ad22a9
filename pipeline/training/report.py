"""The self-contained HTML report a manager reads: does the model beat the rules?

One page, no external assets: CSS inline, plots embedded as base64 PNG. Pure:
it returns the HTML text and the stage writes it.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from models.evaluation import Comparison

BASELINE = "rules"
LABELS = {
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC (average precision)",
    "log_loss": "Log loss (lower is better)",
    "brier": "Brier score (lower is better)",
    "precision_at_k": "Precision of the monthly call list (top K)",
    "recall_at_k": "Churners on the monthly call list (recall at K)",
    "recall_at_rule_volume": "Churners reached flagging as many as the rules",
    "precision_at_rule_volume": "Precision flagging as many as the rules",
    "assets_at_risk_recall": "Churned assets on the monthly call list",
    "assets_at_risk_recall_at_rule_volume": "Churned assets reached flagging as many as the rules",
}
COLUMN_LABELS = {
    "rows": "Customer-months",
    "customers": "Customers",
    "churners": "Churners",
    "churned_assets": "Churned assets",
    "flagged": "Alerts raised",
    "precision": "Precision",
    "recall": "Churners reached (recall)",
    "as_of": "Test month",
    "value_tier": "Value tier",
    "method": "Method",
    "log_loss_before": "Log loss before calibration",
    "log_loss_after": "Log loss after calibration",
    "brier_before": "Brier score before calibration",
    "brier_after": "Brier score after calibration",
    "churn_rate": "Churn rate",
}
"""Words for the table columns that are not metrics (metrics are worded by LABELS)."""
RUN_FACTS_START = "<!-- run facts -->"
RUN_FACTS_END = "<!-- /run facts -->"
GROUP_COLUMNS = [
    "rows",
    "churners",
    "roc_auc",
    "pr_auc",
    "recall_at_k",
    "recall_at_rule_volume",
    "assets_at_risk_recall",
]
CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;
color:#1d2733;line-height:1.45;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #d5dbe3}
.headline{font-size:1.1em;padding:1em 1.2em;border-radius:6px;background:#eef5ec;
border-left:6px solid #3c8a3f}
.headline.worse{background:#fbeeee;border-left-color:#b53a3a}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #d5dbe3;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f2f5f8}
.figures{display:flex;flex-wrap:wrap;gap:1em}.figures img{max-width:520px;border:1px solid #e3e7ec}
pre{background:#f6f8fa;padding:.8em;border-radius:4px}.note{color:#5a6573;font-size:.9em}
"""


def _primary_model(comparison: Comparison) -> str | None:
    names = [name for name in comparison.model_names if name != BASELINE]
    return "lightgbm" if "lightgbm" in names else (names[0] if names else None)


def _is_share(metric: str) -> bool:
    return metric.startswith(("precision", "recall", "assets_at_risk")) or metric == "churn_rate"


def _metric_label(metric: str) -> str:
    if metric.startswith("lift_at_"):
        return f"Lift in each month's top {metric[len('lift_at_') : -len('pct')]}%"
    return LABELS.get(metric, metric.replace("_", " "))


def column_label(column: str) -> str:
    """Return a table column's header in words: a metric's label, else its plain name."""
    return COLUMN_LABELS.get(column) or _metric_label(column)


def _fmt(value: Any, metric: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, pd.Timestamp):
        return str(value.date())
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, (float, np.floating)):
        if _is_share(metric):
            return f"{value:.1%}"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3f}"
    return str(value)


def headline(comparison: Comparison, model: str | None = None) -> tuple[bool, str]:
    """Return (model beats the rules on PR-AUC, a plain-words verdict with the figures)."""
    model = model or _primary_model(comparison)
    metrics = comparison.metrics
    if model is None or BASELINE not in metrics.index:
        return False, "No comparison with the rules: the run holds no model beside them."
    ours, rules = metrics.loc[model, "pr_auc"], metrics.loc[BASELINE, "pr_auc"]
    if math.isnan(ours) or math.isnan(rules):
        return (
            False,
            "The comparison is undefined: the test months hold no churner (or only churners).",
        )
    beats = bool(ours > rules)
    verdict = "beats" if beats else "does NOT beat"
    months = max(len(comparison.test_as_of), 1)
    alerts = comparison.rule_alerts
    reach = metrics.loc[model, "recall_at_rule_volume"]
    text = (
        f"The {model} model {verdict} the warning rules on PR-AUC: {ours:.3f} against {rules:.3f} "
        f"({ours - rules:+.3f}, {(ours / rules - 1) if rules else math.nan:+.0%}"
        f"{_interval_words(comparison, model, BASELINE, 'pr_auc')}). "
        f"Flagging as many customers as the rules do (about {alerts['flagged'] / months:,.0f} per "
        f"month), the model reaches {_fmt(reach, 'recall')} of the customers who churned; the "
        f"rules' alerts reach {_fmt(alerts['recall'], 'recall')}. On a call list of "
        f"{comparison.call_list_capacity:,} customers a month it reaches "
        f"{_fmt(metrics.loc[model, 'recall_at_k'], 'recall')} of churners "
        f"(rules: {_fmt(metrics.loc[BASELINE, 'recall_at_k'], 'recall')}) and "
        f"{_fmt(metrics.loc[model, 'assets_at_risk_recall'], 'assets_at_risk_recall')} of "
        f"churned assets (rules: "
        f"{_fmt(metrics.loc[BASELINE, 'assets_at_risk_recall'], 'assets_at_risk_recall')})."
    )
    return beats, text


def _table(frame: pd.DataFrame, index_label: str = "") -> str:
    headers = [index_label, *(column_label(str(c)) for c in frame.columns)]
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = "".join(
        "<tr><td>"
        + escape(_fmt(index))
        + "</td>"
        + "".join(f"<td>{escape(_fmt(v, str(c)))}</td>" for c, v in row.items())
        + "</tr>"
        for index, row in frame.astype(object).iterrows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _metric_table(comparison: Comparison) -> str:
    shown = pd.DataFrame(
        {
            name: [_fmt(value, metric) for metric, value in row.items()]
            for name, row in comparison.metrics.iterrows()
        },
        index=[_metric_label(metric) for metric in comparison.metrics.columns],
    )
    return _table(shown, "Metric")


def _group_tables(table: pd.DataFrame, column: str) -> str:
    parts = []
    for name, part in table.groupby("model", sort=False):
        shown = part.set_index(column)[GROUP_COLUMNS]
        parts.append(f"<h3>{escape(str(name))}</h3>" + _table(shown, column_label(column)))
    return "".join(parts)


def _overlap_tables(comparison: Comparison) -> str:
    parts = []
    for name, table in comparison.overlap.items():
        if name == BASELINE:
            continue
        only_model = len(comparison.caught_only_by_model[name])
        only_rules = len(comparison.caught_only_by_rules[name])
        parts.append(
            f"<h3>{escape(name)}: rule alerts vs the top {comparison.call_list_capacity:,} a month"
            f"</h3>{_table(table, 'Group')}<p>Churners caught only by the model: {only_model:,}; "
            f"only by the rules: {only_rules:,}.</p>"
        )
    return "".join(parts)


def _calibration_table(calibration: Mapping[str, Mapping[str, Any]]) -> str:
    rows = {name: dict(report) for name, report in calibration.items() if report}
    if not rows:
        return "<p>No calibration was fitted.</p>"
    return _table(pd.DataFrame(rows).T, "Model")


def figure_png_base64(figure: Figure) -> str:
    """Return a figure as base64-encoded PNG text."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figures(figures: Mapping[str, Figure]) -> str:
    images = "".join(
        f'<img alt="{escape(name)}" src="data:image/png;base64,{figure_png_base64(fig)}">'
        for name, fig in figures.items()
    )
    return f'<div class="figures">{images}</div>'


def _interval_words(comparison: Comparison, model: str, other: str, metric: str) -> str:
    """Return "; 95% interval ... : a clear lead" for the lead model's difference, or ""."""
    row = comparison.difference(other, metric) if model == comparison.lead else None
    if row is None or not (math.isfinite(row["low"]) and math.isfinite(row["high"])):
        return ""
    share = f"{comparison.differences_confidence:.0%}"
    if row["low"] > 0:
        meaning = "a clear lead"
    elif row["high"] < 0:
        meaning = "clearly behind"
    else:
        meaning = "the difference may be chance"
    return (
        f"; {share} interval over resampled customers {row['low']:+.3f} to {row['high']:+.3f}: "
        f"{meaning}"
    )


def differences_table(comparison: Comparison) -> str:
    """Return the lead model's differences to every other model with their intervals."""
    if not len(comparison.differences):
        return ""
    frame = comparison.differences
    table = pd.DataFrame(
        {
            "Compared with": frame["model"],
            "Metric": [_metric_label(m) for m in frame["metric"]],
            "Difference": [f"{v:+.3f}" for v in frame["difference"]],
            "Interval": [
                f"{low:+.3f} to {high:+.3f}" if math.isfinite(low) else "-"
                for low, high in zip(frame["low"], frame["high"], strict=True)
            ],
        }
    )
    resamples = int(frame["resamples"].max()) if len(frame) else 0
    return (
        f"<h2>How sure the {escape(comparison.lead)} model's lead is</h2>"
        + _table(table.set_index("Compared with"), "Compared with")
        + f"<p class='note'>{escape(comparison.lead)} minus each model on the same customers; "
        f"the {comparison.differences_confidence:.0%} interval comes from {resamples:,} "
        "resamples of the test customers (all their months together). An interval that "
        "holds 0 means the difference may be chance.</p>"
    )


def render_report(
    comparison: Comparison,
    figures: Mapping[str, Figure],
    split_description: str,
    extra: Mapping[str, Any] | None = None,
    *,
    calibration: Mapping[str, Mapping[str, Any]] | None = None,
    sections: Sequence[str] = (),
) -> str:
    """Return the report as one self-contained HTML page.

    Args:
        comparison: the side-by-side evaluation.
        figures: plots by name, embedded as PNG.
        split_description: ``Split.describe()`` text.
        extra: run facts shown as a table (e.g. MLflow run id, data fingerprint, promotion);
            an ``extra["calibration"]`` mapping is taken as ``calibration``.
        calibration: per model, ``calibration_report_`` (log loss and Brier before/after).
        sections: more HTML sections, after the details (:func:`value_sections`,
            :func:`cause_sections`).
    """
    extra = dict(extra or {})
    calibration = calibration or extra.pop("calibration", None)
    summary = _summary(comparison)
    sections = [
        summary[0],
        run_facts_html(extra),
        *summary[1:],
        *_details(comparison, figures, calibration or {}),
        *sections,
        "<h2>Out-of-time split</h2>",
        f"<pre>{escape(split_description)}</pre>",
    ]
    body = "\n".join(sections)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Churn model vs rules</title><style>{CSS}</style></head><body>{body}</body></html>"
    )


def _summary(comparison: Comparison) -> list[str]:
    """Return the headline, the cohort and the side-by-side metric table."""
    beats, verdict = headline(comparison)
    cohort = (
        f"{comparison.rows:,} customer-months over {len(comparison.test_as_of)} test months "
        f"({', '.join(_fmt(m) for m in comparison.test_as_of)}), churn rate "
        f"{_fmt(comparison.churn_rate, 'churn_rate')}."
    )
    return [
        "<h1>Churn model against the warning rules</h1>",
        f'<div class="headline{"" if beats else " worse"}">{escape(verdict)}</div>',
        f"<p>Out-of-time test cohort: {escape(cohort)}</p>",
        "<h2>Metrics, side by side</h2>",
        _metric_table(comparison),
        "<p class='note'>Every model is judged on the same customers. Selections are made month "
        "by month; ties at the cut-off share the last places.</p>",
        differences_table(comparison),
    ]


def _details(
    comparison: Comparison, figures: Mapping[str, Figure], calibration: Mapping[str, Any]
) -> list[str]:
    """Return the alerts, plots, per-month, per-tier, overlap and calibration sections."""
    alerts = pd.DataFrame([comparison.rule_alerts], index=["rule alerts"])
    return [
        "<h2>The rules' alerts (red or yellow, the project's rules.levels)</h2>",
        _table(alerts, ""),
        "<p class='note'>The alerts as advisors see them. The rules' column above ranks "
        "customers by the rules' weighted score instead, so its figures can differ slightly.</p>",
        "<h2>Plots</h2>",
        _figures(figures),
        "<h2>Per test month</h2>",
        _group_tables(comparison.per_month, "as_of"),
        "<h2>Per value tier</h2>",
        _group_tables(comparison.per_tier, "value_tier"),
        "<h2>Who is caught: rule alerts vs the model's call list</h2>",
        _overlap_tables(comparison),
        "<h2>Calibration on the validation months</h2>",
        _calibration_table(calibration),
    ]


def run_facts_html(facts: Mapping[str, Any]) -> str:
    """Return the "what this report is" table (run id, model version, alias, date, commit).

    It sits between two comment markers so :func:`restamp_run_facts` can replace it
    once the registry has given the model its version and alias.
    """
    rows = "".join(
        f"<tr><th>{escape(str(key))}</th><td>{escape(str(value))}</td></tr>"
        for key, value in facts.items()
    )
    table = f"<table class='facts'><tbody>{rows}</tbody></table>" if rows else ""
    return f"{RUN_FACTS_START}{table}{RUN_FACTS_END}"


def restamp_run_facts(html: str, facts: Mapping[str, Any]) -> str:
    """Return the report with its run-facts table replaced by one built from ``facts``.

    Raises:
        ValueError: the page has no run-facts table (not a report of this module).
    """
    start, end = html.find(RUN_FACTS_START), html.find(RUN_FACTS_END)
    if start < 0 or end < start:
        raise ValueError("the page holds no run-facts table")
    return html[:start] + run_facts_html(facts) + html[end + len(RUN_FACTS_END) :]


def value_sections(value: Mapping[str, Any] | None) -> list[str]:
    """Return the 80/20 curve and the value at risk by tier and risk band (metrics ``value``)."""
    if not value:
        return []
    curve = pd.DataFrame(value["revenue_concentration"]).set_index("top_accounts_share")
    at_risk = pd.DataFrame(value["value_at_risk_by_tier_band"]).set_index("value_tier")
    return [
        f"<h2>What the accounts are worth (CNY, {escape(value['as_of'])})</h2>",
        f"<p>{value['accounts']:,} accounts: revenue of the last 12 months CNY "
        f"{value['revenue_12m_cny']:,.0f}, lifetime value CNY {value['lifetime_value_cny']:,.0f}, "
        f"value at risk (probability x lifetime value) CNY {value['value_at_risk_cny']:,.0f}.</p>",
        "<h3>The 80/20 curve: share of revenue from the top accounts</h3>",
        _table(curve.rename(columns={"revenue_share": "share of revenue"}), "top share"),
        "<h3>Value at risk by value tier and risk band</h3>",
        _table(at_risk, "value tier"),
        "<p class='note'>Revenue = commission + value.interest_spread_rate x average cash; "
        "lifetime value and value at risk as in docs/scoring.md.</p>",
    ]


def cause_sections(causes: Mapping[str, Any] | None) -> list[str]:
    """Return the cause model's out-of-time accuracy and confusion table (metrics ``causes``)."""
    if causes is None:
        return []
    if not causes.get("fitted"):
        return [
            "<h2>Likely cause</h2>",
            "<p>No cause model: the customers carry no recorded close_reason (or too few); "
            "scoring names the likely cause from the playbook's drivers.</p>",
        ]
    if not causes["accounts"]:
        return [
            "<h2>Likely cause</h2>",
            "<p>No closed account with a reason in the test months.</p>",
        ]
    per_cause = pd.DataFrame(causes["per_cause"]).T
    confusion = pd.DataFrame(causes["confusion"]).T
    return [
        "<h2>Likely cause: the cause model, out of time</h2>",
        f"<p>On {causes['accounts']:,} accounts that closed in the test months (features at the "
        f"month end before closing): accuracy {causes['accuracy']:.1%}, top-2 accuracy "
        f"{causes['top2_accuracy']:.1%}; always naming the commonest training reason "
        f"({escape(causes['commonest_reason'])}) would score {causes['commonest_share']:.1%}. "
        f"Trained on {causes['training_accounts']:,} closed accounts.</p>",
        _table(per_cause, "cause"),
        "<h3>Confusion: recorded cause (rows) against predicted (columns)</h3>",
        _table(confusion, "recorded"),
    ]
