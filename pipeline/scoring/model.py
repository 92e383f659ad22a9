"""The model a scoring run uses: the packaged LightGBM, checked against the code, and the rules.

The rule levels and flags need no fitting (params ``rules:``). Rule
probabilities, which realised-performance monitoring compares with the model's,
need the rule baseline fitted at training: the packaged model's metadata carries
it under ``rules`` as ``RuleBaseline.to_dict()`` data; without it a scoring run
records no rule probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from models.cause_model import ChurnCauseModel
from models.estimator import feature_frame
from models.lightgbm_model import ChurnLightGBM
from models.package import PackagedModel
from models.rules import RuleBaseline
from pipeline.core.errors import ChurnError
from pipeline.core.params import Params
from pipeline.scoring.compatibility import check_model_matches_features
from pipeline.scoring.contributions import PathExplainer


@dataclass(frozen=True)
class ScoringModel:
    """A packaged model ready to score, with the rule baselines it is read beside."""

    churn: ChurnLightGBM
    meta: dict[str, Any]
    source: str
    rules: RuleBaseline
    fitted_rules: RuleBaseline | None
    cause: ChurnCauseModel | None = None  # learned from recorded close reasons, if any

    @property
    def feature_columns(self) -> list[str]:
        """The model's input columns, in order."""
        return list(self.churn.feature_columns_)

    @property
    def horizon_months(self) -> int:
        """The label horizon the model's probability refers to (months)."""
        return int(self.meta["label"]["horizon_months"])

    def churn_probability(self, X: pd.DataFrame) -> np.ndarray:
        """Return the calibrated churn probability of each row."""
        return self.churn.predict_proba(X)[:, 1]

    @cached_property
    def explainer(self) -> PathExplainer:
        """The churn model's trees as path tables, read once per run (each worker on a cluster)."""
        return PathExplainer(self.churn.booster_, self.churn.best_iteration_)

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        """Return each row's exact feature contributions to the raw log-odds, bias last.

        Equal to LightGBM's ``pred_contrib`` (pipeline/scoring/contributions.py) at a
        fraction of its cost: ``[rows x (features + 1)]`` in the model's column order.
        """
        frame = feature_frame(X, self.feature_columns)
        return self.explainer.contributions(self.explainer.frame_matrix(frame))

    def rule_probability(self, X: pd.DataFrame) -> np.ndarray:
        """Return the fitted rule baseline's probability per row (NaN when not packaged)."""
        if self.fitted_rules is None:
            return np.full(len(X), np.nan)
        return self.fitted_rules.predict_proba(X)[:, 1]


def scoring_model(
    packaged: PackagedModel, params: Params, feature_columns: list[str], builder_version: str
) -> ScoringModel:
    """Check a packaged model against the feature code and pair it with the rule baselines.

    Args:
        packaged: the loaded model (``pipeline.tracking.registry.load_packaged_model``).
        params: the run's params (``rules:`` for the warning levels).
        feature_columns: the columns the current feature code builds.
        builder_version: the current feature builder version.

    Raises:
        ChurnError: the model's features or builder version differ from the code's.
    """
    check_model_matches_features(packaged.meta, feature_columns, builder_version, packaged.booster)
    return ScoringModel(
        churn=packaged.churn_model(),
        meta=packaged.meta,
        source=packaged.source,
        rules=RuleBaseline(params.rules.weights, params.rules.levels),
        fitted_rules=fitted_rule_baseline(packaged.meta),
        cause=packaged.cause,
    )


def fitted_rule_baseline(meta: dict[str, Any]) -> RuleBaseline | None:
    """Return the training run's fitted rule baseline from model metadata, None when absent.

    Raises:
        ChurnError: the metadata's ``rules`` entry is not a fitted baseline's data.
    """
    state = meta.get("rules")
    if state is None:
        return None
    if not isinstance(state, dict):
        raise ChurnError("the model's metadata 'rules' is not a fitted rule baseline")
    try:
        return RuleBaseline.from_dict(state)
    except (KeyError, TypeError, ValueError) as exc:
        raise ChurnError(
            f"the model's metadata 'rules' is not a fitted rule baseline ({exc})"
        ) from None
