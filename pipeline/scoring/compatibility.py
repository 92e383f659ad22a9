"""Refuse a model the current feature code cannot feed exactly as in training."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from models.package import feature_order_problems
from pipeline.core.errors import ChurnError


def check_model_matches_features(
    meta: Mapping[str, Any],
    feature_columns: Sequence[str],
    builder_version: str,
    booster: Any | None = None,
) -> None:
    """Check a packaged model's feature list and feature-builder version against the code.

    Args:
        meta: the packaged model's metadata (``feature_columns``, ``feature_builder_version``).
        feature_columns: the columns the current code builds (``model_feature_columns()``).
        builder_version: the current ``features.builder.version.builder_version()``.
        booster: the model's LightGBM booster, whose own feature names (in order) the
            metadata's list must equal: scoring feeds the columns in the metadata's order.

    Raises:
        ChurnError: naming the features the model needs that the code does not build, the
            features the code builds that the model was not trained on, both versions, and
            a metadata feature list that is not the booster's own.
    """
    problems = model_mismatches(meta, feature_columns, builder_version)
    if booster is not None:
        problems += feature_order_problems(meta, booster)
    if problems:
        raise ChurnError(
            "the model does not match the current feature code: "
            + "; ".join(problems)
            + ". Retrain it (churn train) or score with the code it was trained with."
        )


def model_mismatches(
    meta: Mapping[str, Any], feature_columns: Sequence[str], builder_version: str
) -> list[str]:
    """Return what differs between a model's metadata and the current feature code (empty: none)."""
    trained = list(meta.get("feature_columns") or [])
    current = list(feature_columns)
    problems = []
    missing = [c for c in trained if c not in set(current)]
    extra = [c for c in current if c not in set(trained)]
    if missing:
        problems.append(f"features the model needs but the code does not build: {missing}")
    if extra:
        problems.append(f"features the code builds but the model was not trained on: {extra}")
    if not trained:
        problems.append("the model's metadata lists no feature_columns")
    trained_version = meta.get("feature_builder_version")
    if trained_version != builder_version:
        problems.append(
            f"feature builder version {trained_version} at training, {builder_version} now"
        )
    return problems
