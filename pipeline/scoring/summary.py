"""The short summary printed at the end of a scoring run (and logged with it)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.scoring.job import ScoringResult

TOP_CAUSES = 5
TOP_DRIFTED = 8
QUANTILES = (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)


def score_quantiles(probability: np.ndarray) -> dict[str, float]:
    """Return the score distribution: mean and quantiles named ``p01`` .. ``p99``."""
    if not len(probability):
        return {}
    values = np.quantile(probability, QUANTILES)
    named = {f"p{round(q * 100):02d}": float(v) for q, v in zip(QUANTILES, values, strict=True)}
    return {"mean": float(np.mean(probability)), **named}


def drift_warnings(drift: pd.DataFrame, threshold: float) -> list[str]:
    """Return one line per drifted column (largest PSI first), empty when nothing drifted."""
    drifted = drift[drift["drifted"]]
    lines = [f"{row.column}: PSI {row.psi:.3f}" for row in drifted.head(TOP_DRIFTED).itertuples()]
    if len(drifted) > TOP_DRIFTED:
        lines.append(f"... and {len(drifted) - TOP_DRIFTED} more (see the drift table)")
    return lines


def render_summary(result: ScoringResult, model_label: str, threshold: float) -> str:
    """Return the printed summary: accounts, bands, reasons, top causes, value at risk, drift."""
    n = result.accounts
    share = (lambda k: f"{k / n:.1%}") if n else (lambda k: "-")
    bands = ", ".join(
        f"{name} {count:,} ({share(count)})" for name, count in reversed(result.band_counts.items())
    )
    causes = ", ".join(
        f"{cause} {count:,}" for cause, count in result.cause_counts.most_common(TOP_CAUSES)
    )
    lines = [
        f"scored {n:,} accounts open at {result.as_of.date()} with {model_label}",
        f"risk bands: {bands}",
        f"reasons: model for the top {result.explained:,} by rank, rules for the other "
        f"{n - result.explained:,}",
        f"top likely causes: {causes or 'none'}",
        f"value at risk (probability x lifetime value): CNY {result.value_at_risk:,.0f}",
    ]
    warnings = drift_warnings(result.drift, threshold)
    if warnings:
        lines.append(
            f"DRIFT: {len(result.drift[result.drift['drifted']])} of "
            f"{len(result.drift)} columns above PSI {threshold:g} vs the training cohort:"
        )
        lines.extend(f"  {line}" for line in warnings)
    else:
        lines.append(f"drift: no column above PSI {threshold:g} vs the training cohort")
    return "\n".join(lines)
