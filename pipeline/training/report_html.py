"""Words and HTML tables of the training report: metric names in words, figures formatted.

Shared by the report's page (pipeline/training/report.py) and its sections
(pipeline/training/report_sections.py). Pure: strings in, strings out.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import numpy as np
import pandas as pd

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


def is_share(metric: str) -> bool:
    """Return whether a metric is a share (shown as a percentage)."""
    return metric.startswith(("precision", "recall", "assets_at_risk")) or metric == "churn_rate"


def metric_label(metric: str) -> str:
    """Return a metric's name in words."""
    if metric.startswith("lift_at_"):
        return f"Lift in each month's top {metric[len('lift_at_') : -len('pct')]}%"
    return LABELS.get(metric, metric.replace("_", " "))


def column_label(column: str) -> str:
    """Return a table column's header in words: a metric's label, else its plain name."""
    return COLUMN_LABELS.get(column) or metric_label(column)


def fmt(value: Any, metric: str = "") -> str:
    """Return a figure as the report prints it (shares as percentages, n/a for missing)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, pd.Timestamp):
        return str(value.date())
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, (float, np.floating)):
        if is_share(metric):
            return f"{value:.1%}"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3f}"
    return str(value)


def table_html(frame: pd.DataFrame, index_label: str = "") -> str:
    """Return a frame as an HTML table: the index first, headers in words."""
    headers = [index_label, *(column_label(str(c)) for c in frame.columns)]
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = "".join(
        "<tr><td>"
        + escape(fmt(index))
        + "</td>"
        + "".join(f"<td>{escape(fmt(v, str(c)))}</td>" for c, v in row.items())
        + "</tr>"
        for index, row in frame.astype(object).iterrows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
