"""The monthly scoring job: every account open at the as-of date, scored, explained, written.

Three passes over chunks of customers keep memory bounded by the chunk size:

1. features: each chunk's customer features and market reference (cohort.py);
2. probabilities: the market columns, the calibrated probability, and the
   drift counts against the training cohort;
3. reasons and writing: once every probability is known, ranks and bands are
   global; the top ``scoring.reasons_top_share`` by rank get model reasons
   (exact LightGBM contributions, the costly part), the rest rule reasons; then
   the likely cause and play, and the chunk is appended to the output files.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.drift import SCORE
from pipeline.core.contract import Tables
from pipeline.core.params import Params, ScoringParams
from pipeline.scoring.assemble import VALUE_COLUMN, ChunkScores, compact_table, scores_table
from pipeline.scoring.bands import risk_bands, risk_ranks, top_count
from pipeline.scoring.causes import CauseFinder
from pipeline.scoring.cohort import ChunkedCohort, Progress, no_progress
from pipeline.scoring.model import ScoringModel
from pipeline.scoring.output import ScoresWriter
from pipeline.scoring.reasons import Reason, model_reasons, rule_reasons
from pipeline.scoring.stability import StabilityCounter


@dataclass(frozen=True)
class Ranking:
    """Every account's probability, rank, band and whether the model explains it (id order)."""

    probability: np.ndarray
    rank: np.ndarray
    band: np.ndarray
    explained: np.ndarray


def rank_cohort(probability: np.ndarray, scoring: ScoringParams) -> Ranking:
    """Rank the whole cohort, band it, and pick the accounts above the model-reason cut."""
    ranks = risk_ranks(probability)
    bands = risk_bands(
        probability,
        ranks,
        band_by=scoring.band_by,
        cuts=scoring.band_cuts,
        names=scoring.band_names,
    )
    return Ranking(probability, ranks, bands, ranks <= _explained_count(scoring, len(ranks)))


@dataclass
class ScoringResult:
    """What a scoring run decided, for the summary and the tracking run."""

    as_of: pd.Timestamp
    probability: np.ndarray
    band_counts: dict[str, int]
    explained: int
    drift: pd.DataFrame
    cause_counts: Counter = field(default_factory=Counter)
    value_at_risk: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def accounts(self) -> int:
        """Accounts scored."""
        return len(self.probability)


def score_cohort(
    tables: Tables,
    as_of: pd.Timestamp,
    model: ScoringModel,
    causes: CauseFinder,
    params: Params,
    writer: ScoresWriter,
    progress: Progress = no_progress,
) -> ScoringResult:
    """Score every account open at ``as_of`` and append the rows to ``writer``, chunk by chunk.

    Args:
        tables: validated tables (pipeline.data.loader).
        as_of: the month end scored (midnight).
        model: the checked model and rule baselines (pipeline.scoring.model).
        causes: the likely-cause finder over the retention playbook.
        params: the run's params (``scoring:``, ``features:``, ``rules:``).
        writer: where the chunks go (pipeline.scoring.output).
        progress: called after each chunk of each pass.

    Returns:
        The counts, score distribution, drift table and timings of the run.
    """
    started = time.perf_counter()
    scoring = params.scoring
    with ChunkedCohort(tables, as_of, params) as cohort:
        cohort.build_customer_step(progress)
        seconds = {"features": time.perf_counter() - started}
        probability, stability = _probabilities(cohort, model, progress)
        seconds["probabilities"] = time.perf_counter() - started
        ranking = rank_cohort(probability, scoring)
        result = ScoringResult(
            as_of=as_of,
            probability=probability,
            band_counts={name: int((ranking.band == name).sum()) for name in scoring.band_names},
            explained=int(ranking.explained.sum()),
            drift=stability.table(scoring.psi_threshold, _profiled(model)),
        )
        _explain_and_write(cohort, ranking, model, causes, scoring, writer, result, progress)
    result.seconds = {**seconds, "total": time.perf_counter() - started}
    return result


def _explain_and_write(
    cohort: ChunkedCohort,
    ranking: Ranking,
    model: ScoringModel,
    causes: CauseFinder,
    scoring: ScoringParams,
    writer: ScoresWriter,
    result: ScoringResult,
    progress: Progress,
) -> None:
    """Third pass: reasons, causes and plays per chunk, appended to the output files."""
    offset = 0
    for chunk, frame in cohort.frames():
        rows = slice(offset, offset + len(frame))
        scored = decide_accounts(frame, ranking, rows, model, causes, scoring.reasons_per_account)
        writer.write(scores_table(scored, scoring.reasons_per_account))
        writer.write_compact(compact_table(scored))
        result.cause_counts.update(scored.cause)
        value = frame[VALUE_COLUMN].to_numpy(dtype=np.float64)
        result.value_at_risk += float(np.nansum(scored.probability * value))
        offset += len(frame)
        progress("reasons", chunk + 1, cohort.n_frames)


def _explained_count(scoring: ScoringParams, accounts: int) -> int:
    if scoring.reasons_top_share == "all":
        return accounts
    return top_count(float(scoring.reasons_top_share), accounts)


def _profiled(model: ScoringModel) -> set[str]:
    return {*model.feature_columns, SCORE}


def _probabilities(
    cohort: ChunkedCohort, model: ScoringModel, progress: Progress
) -> tuple[np.ndarray, StabilityCounter]:
    """Return every account's probability (customer order) and the drift counts."""
    stability = StabilityCounter(model.meta.get("reference") or {})
    parts = []
    for chunk, frame in cohort.frames():
        probability = model.churn_probability(frame)
        stability.add(frame.assign(**{SCORE: probability}))
        parts.append(probability)
        progress("probabilities", chunk + 1, cohort.n_frames)
    return np.concatenate(parts) if parts else np.empty(0), stability


def decide_accounts(
    frame: pd.DataFrame,
    ranking: Ranking,
    rows: slice,
    model: ScoringModel,
    causes: CauseFinder,
    per_account: int,
) -> ChunkScores:
    """Return one chunk's rule view, reasons, likely causes and plays."""
    explained = ranking.explained[rows]
    reasons = _reasons(frame, explained, model, per_account)
    cause = [causes.likely_cause(r) for r in reasons]
    return ChunkScores(
        frame=frame,
        probability=ranking.probability[rows],
        rank=ranking.rank[rows],
        band=ranking.band[rows],
        rule_level=model.rules.warning_level(frame),
        rule_score=model.rules.rule_score(frame).to_numpy(),
        rule_probability=model.rule_probability(frame),
        reasons=reasons,
        explained=explained,
        cause=cause,
        play=[causes.play(c) for c in cause],
    )


def _reasons(
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
        contributions = model.churn.contributions(rows).to_numpy()
        found = model_reasons(rows, contributions, model.feature_columns, per_account)
        for row, row_reasons in zip(by_model, found, strict=True):
            reasons[row] = row_reasons
    return reasons
