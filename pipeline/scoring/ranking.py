"""The whole cohort's ranking: every account's rank, band and whether the model explains it.

Ranks are set over every scored account at once, in customer-id order, so ranks
and ties are the same however the customers are partitioned (bands.py holds the
rank and band rules themselves).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.core.params import ScoringParams
from pipeline.scoring.bands import risk_bands, risk_ranks, top_count


@dataclass(frozen=True)
class Ranking:
    """Every account's probability, rank, band and whether the model explains it (id order)."""

    probability: np.ndarray
    rank: np.ndarray
    band: np.ndarray
    explained: np.ndarray


def rank_cohort(probability: np.ndarray, scoring: ScoringParams, call_list: int = 0) -> Ranking:
    """Rank the whole cohort, band it, and pick the accounts above the model-reason cut.

    The cut reaches at least the ``call_list`` accounts advisors call (params
    ``evaluation.call_list_capacity``), so every account on the call list has reasons.
    """
    ranks = risk_ranks(probability)
    bands = risk_bands(
        probability,
        ranks,
        band_by=scoring.band_by,
        cuts=scoring.band_cuts,
        names=scoring.band_names,
    )
    explained = max(explained_count(scoring, len(ranks)), min(call_list, len(ranks)))
    return Ranking(probability, ranks, bands, ranks <= explained)


def ranked_in_id_order(
    probabilities: list[np.ndarray], ids: list[np.ndarray], scoring: ScoringParams, call_list: int
) -> list[Ranking]:
    """Rank every account in customer-id order; return each partition's share of the ranking."""
    everyone = np.concatenate(probabilities) if probabilities else np.empty(0)
    if len(probabilities) == 1:
        return [rank_cohort(everyone, scoring, call_list)]  # one partition: customer-id order
    order = np.argsort(np.concatenate(ids).astype(str), kind="stable")
    ranking = rank_cohort(everyone[order], scoring, call_list)
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    bounds = np.cumsum([0, *(len(p) for p in probabilities)])
    return [
        Ranking(
            ranking.probability[position[lo:hi]],
            ranking.rank[position[lo:hi]],
            ranking.band[position[lo:hi]],
            ranking.explained[position[lo:hi]],
        )
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def explained_count(scoring: ScoringParams, accounts: int) -> int:
    """Return how many accounts from the top get model reasons (``scoring.reasons_top_share``)."""
    if scoring.reasons_top_share == "all":
        return accounts
    return top_count(float(scoring.reasons_top_share), accounts)
