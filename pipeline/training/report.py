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

import pandas as pd
from matplotlib.figure import Figure

from models.evaluation import Comparison
from pipeline.training.report_html import column_label, fmt, metric_label, table_html
from pipeline.training.report_sections import (
    differences_table,
    run_facts_html,
)

BASELINE = "rules"
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
        f"month), the model reaches {fmt(reach, 'recall')} of the customers who churned; the "
        f"rules' alerts reach {fmt(alerts['recall'], 'recall')}. On a call list of "
        f"{comparison.call_list_capacity:,} customers a month it reaches "
        f"{fmt(metrics.loc[model, 'recall_at_k'], 'recall')} of churners "
        f"(rules: {fmt(metrics.loc[BASELINE, 'recall_at_k'], 'recall')}) and "
        f"{fmt(metrics.loc[model, 'assets_at_risk_recall'], 'assets_at_risk_recall')} of "
        f"churned assets (rules: "
        f"{fmt(metrics.loc[BASELINE, 'assets_at_risk_recall'], 'assets_at_risk_recall')})."
    )
    return beats, text


def _metric_table(comparison: Comparison) -> str:
    shown = pd.DataFrame(
        {
            name: [fmt(value, metric) for metric, value in row.items()]
            for name, row in comparison.metrics.iterrows()
        },
        index=[metric_label(metric) for metric in comparison.metrics.columns],
    )
    return table_html(shown, "Metric")


def _group_tables(table: pd.DataFrame, column: str) -> str:
    parts = []
    for name, part in table.groupby("model", sort=False):
        shown = part.set_index(column)[GROUP_COLUMNS]
        parts.append(f"<h3>{escape(str(name))}</h3>" + table_html(shown, column_label(column)))
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
            f"</h3>{table_html(table, 'Group')}<p>Churners caught only by the model: "
            f"{only_model:,}; "
            f"only by the rules: {only_rules:,}.</p>"
        )
    return "".join(parts)


def _calibration_table(calibration: Mapping[str, Mapping[str, Any]]) -> str:
    rows = {name: dict(report) for name, report in calibration.items() if report}
    if not rows:
        return "<p>No calibration was fitted.</p>"
    return table_html(pd.DataFrame(rows).T, "Model")


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
        f"({', '.join(fmt(m) for m in comparison.test_as_of)}), churn rate "
        f"{fmt(comparison.churn_rate, 'churn_rate')}."
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
        table_html(alerts, ""),
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
