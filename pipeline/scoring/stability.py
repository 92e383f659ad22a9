"""Population stability of the scoring cohort against the model's training cohort, chunk by chunk.

The packaged model carries the training cohort's profile of every feature and of
the score (bins and shares, :func:`models.drift.reference_profile`). Scoring adds
each chunk's counts in those same bins, so the drift table of the whole cohort
equals :func:`models.drift.drift_table` on the full matrix without holding it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from models.drift import population_stability_index, shares_like

PLOT_TOP = 25


class StabilityCounter:
    """Counts of the scoring cohort in the reference profile's bins, added chunk by chunk."""

    def __init__(self, reference: Mapping[str, Any]):
        """Start empty.

        Args:
            reference: the model's ``meta["reference"]`` (column -> profile).
        """
        self.reference = reference
        self.rows = 0
        self.counts = {column: np.zeros(len(p["shares"])) for column, p in reference.items()}

    def add(self, frame: pd.DataFrame) -> None:
        """Count a chunk's rows (columns absent from the frame are left out)."""
        self.rows += len(frame)
        for column, profile in self.reference.items():
            if column in frame.columns:
                self.counts[column] += np.asarray(shares_like(profile, frame[column])) * len(frame)

    def merge(self, other: StabilityCounter) -> StabilityCounter:
        """Add another counter's counts over the same reference (partitions of one cohort)."""
        self.rows += other.rows
        for column, counts in other.counts.items():
            self.counts[column] = self.counts[column] + counts
        return self

    def table(self, threshold: float, present: set[str] | None = None) -> pd.DataFrame:
        """Return ``column, psi, drifted``, largest PSI first (ties by column name).

        Args:
            threshold: params ``scoring.psi_threshold``; PSI above it is drift.
            present: columns to report (default: every profiled column).
        """
        rows = []
        for column, profile in self.reference.items():
            if present is not None and column not in present:
                continue
            actual = self.counts[column] / max(self.rows, 1)
            psi = population_stability_index(profile["shares"], actual)
            rows.append({"column": column, "psi": psi, "drifted": psi > threshold})
        table = pd.DataFrame(rows, columns=["column", "psi", "drifted"])
        return table.sort_values(["psi", "column"], ascending=[False, True], ignore_index=True)


def drift_figure(table: pd.DataFrame, threshold: float, title: str) -> Figure:
    """Return a bar chart of the largest PSI values with the threshold marked."""
    top = table.head(PLOT_TOP).iloc[::-1]
    figure = Figure(figsize=(7.0, 0.25 * len(top) + 1.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    colours = np.where(top["drifted"].to_numpy(dtype=bool), "tab:red", "tab:blue")
    axes.barh(top["column"].to_numpy(), top["psi"].to_numpy(), color=colours)
    axes.axvline(threshold, linestyle=":", color="grey", label=f"threshold {threshold:g}")
    axes.set(title=title, xlabel="population stability index (PSI)")
    axes.legend(loc="lower right")
    return figure
