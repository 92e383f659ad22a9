"""What each scored account gets beside its probability: reasons, likely cause, play, money.

One chunk at a time (pipeline/scoring/job.py's third pass): model reasons for
the accounts the ranking explains (exact contributions,
pipeline/scoring/contributions.py), rule reasons for the others, then the
likely cause and its play, the account's value in CNY, its owner and whether it
is held back as the retention control group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.lifetime_value import account_money
from pipeline.core.params import Params
from pipeline.retention.control import account_owners, held_back
from pipeline.scoring.assemble import ChunkScores
from pipeline.scoring.causes import CauseFinder, likely_causes, plays_for
from pipeline.scoring.model import ScoringModel
from pipeline.scoring.ranking import Ranking
from pipeline.scoring.reasons import Reason, model_reasons, rule_reasons


def decide_accounts(
    frame: pd.DataFrame,
    ranking: Ranking,
    rows: slice,
    model: ScoringModel,
    causes: CauseFinder,
    per_account: int,
    params: Params,
    customers: pd.DataFrame,
) -> ChunkScores:
    """Return one chunk's rule view, reasons, likely causes, plays, money (CNY), owners, control."""
    explained = ranking.explained[rows]
    probability = ranking.probability[rows]
    ids = frame["customer_id"].to_numpy(dtype=object)
    reasons = account_reasons(frame, explained, model, per_account)
    choice = likely_causes(
        frame, reasons, model.cause, causes, slow_market_ratio=params.scoring.slow_market_ratio
    )
    return ChunkScores(
        frame=frame,
        probability=probability,
        rank=ranking.rank[rows],
        band=ranking.band[rows],
        rule_level=model.rules.warning_level(frame),
        rule_score=model.rules.rule_score(frame).to_numpy(),
        rule_probability=model.rule_probability(frame),
        reasons=reasons,
        explained=explained,
        cause=choice,
        play=plays_for(choice, frame, causes.playbook),
        money=account_money(frame, probability, params.value, model.horizon_months),
        owners=account_owners(customers, ids),
        control=held_back(ids, params.retention.control_share, params.retention.control_seed),
    )


def account_reasons(
    frame: pd.DataFrame, explained: np.ndarray, model: ScoringModel, per_account: int
) -> list[list[Reason]]:
    """Return model reasons for the explained rows and rule reasons for the others."""
    reasons: list[list[Reason]] = [[] for _ in range(len(frame))]
    by_rules = np.flatnonzero(~explained)
    for row, found in zip(by_rules, rule_reasons(frame.iloc[by_rules], per_account), strict=True):
        reasons[row] = found
    by_model = np.flatnonzero(explained)
    if len(by_model):
        rows = frame.iloc[by_model]
        contributions = model.contributions(rows)
        found = model_reasons(rows, contributions, model.feature_columns, per_account)
        for row, row_reasons in zip(by_model, found, strict=True):
            reasons[row] = row_reasons
    return reasons
