"""Sections of the training report beyond the comparison: run facts, value, causes, intervals.

Each function takes one part of the run's metrics and returns HTML (pure);
pipeline/training/report.py assembles the page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape
from typing import Any

import pandas as pd

from models.evaluation import Comparison
from pipeline.training.report_html import metric_label, table_html

RUN_FACTS_START = "<!-- run facts -->"


RUN_FACTS_END = "<!-- /run facts -->"


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
        table_html(curve.rename(columns={"revenue_share": "share of revenue"}), "top share"),
        "<h3>Value at risk by value tier and risk band</h3>",
        table_html(at_risk, "value tier"),
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
        table_html(per_cause, "cause"),
        "<h3>Confusion: recorded cause (rows) against predicted (columns)</h3>",
        table_html(confusion, "recorded"),
    ]


def differences_table(comparison: Comparison) -> str:
    """Return the lead model's differences to every other model with their intervals."""
    if not len(comparison.differences):
        return ""
    frame = comparison.differences
    table = pd.DataFrame(
        {
            "Compared with": frame["model"],
            "Metric": [metric_label(m) for m in frame["metric"]],
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
        + table_html(table.set_index("Compared with"), "Compared with")
        + f"<p class='note'>{escape(comparison.lead)} minus each model on the same customers; "
        f"the {comparison.differences_confidence:.0%} interval comes from {resamples:,} "
        "resamples of the test customers (all their months together). An interval that "
        "holds 0 means the difference may be chance.</p>"
    )
