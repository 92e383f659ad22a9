"""One chunk of scored accounts as Arrow tables: the scores file's rows and the compact copy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from models.lifetime_value import MONEY_COLUMNS
from models.rules import RULE_FLAGS
from pipeline.scoring.causes import CauseChoice
from pipeline.scoring.output import compact_schema, reason_columns, scores_schema
from pipeline.scoring.reasons import Reason

VALUE_COLUMN = "customer_value"
"""The guideline's customer value score, 0-100 points (features/value.py)."""


@dataclass(frozen=True)
class ChunkScores:
    """Everything decided about one chunk's accounts, in the chunk's row order."""

    frame: pd.DataFrame
    probability: np.ndarray
    rank: np.ndarray
    band: np.ndarray
    rule_level: pd.Series
    rule_score: np.ndarray
    rule_probability: np.ndarray
    reasons: Sequence[Sequence[Reason]]
    explained: np.ndarray
    cause: CauseChoice
    play: Sequence[str]
    owners: pd.DataFrame  # advisor_id, branch (pipeline/retention/control.py)
    control: np.ndarray  # held back from call lists by design
    money: pd.DataFrame  # models.lifetime_value.MONEY_COLUMNS, in CNY


def _text(values) -> pa.Array:
    return pa.array(np.asarray(values, dtype=object), type=pa.string())


def _number(values) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.float64), type=pa.float64(), from_pandas=True)


def _category_text(series: pd.Series) -> pa.Array:
    return _text(series.astype(object).where(series.notna(), None).to_numpy())


def scores_table(chunk: ChunkScores, per_account: int) -> pa.Table:
    """Return the chunk's rows of the scores file (:func:`output.scores_schema`)."""
    frame = chunk.frame
    value = frame[VALUE_COLUMN].to_numpy(dtype=np.float64)
    columns = {
        "customer_id": _text(frame["customer_id"].to_numpy(dtype=object)),
        "as_of": pa.array(frame["as_of"].to_numpy(dtype="datetime64[us]"), pa.timestamp("us")),
        "churn_probability": _number(chunk.probability),
        "risk_band": _text(chunk.band),
        "rank": pa.array(chunk.rank, pa.int64()),
        "rule_level": _category_text(chunk.rule_level),
    }
    for flag in RULE_FLAGS:
        columns[flag] = pa.array(frame[flag].to_numpy(dtype=bool), pa.bool_())
    for k, name in enumerate(reason_columns(per_account)):
        columns[name] = _text([r[k].text if len(r) > k else None for r in chunk.reasons])
    columns["reason_source"] = _text(np.where(chunk.explained, "model", "rules"))
    columns["likely_cause"] = _text(chunk.cause.cause)
    columns["likely_cause_probability"] = _number(chunk.cause.probability)
    columns["cause_source"] = _text(chunk.cause.source)
    columns["retention_play"] = _text(chunk.play)
    columns["customer_value"] = _number(value)
    for name in MONEY_COLUMNS:
        columns[name] = _number(chunk.money[name])
    columns["total_assets"] = _number(frame["total_assets"])
    columns["value_tier"] = _category_text(frame["value_tier"])
    columns["advisor_id"] = _text(chunk.owners["advisor_id"])
    columns["branch"] = _text(chunk.owners["branch"])
    columns["control_group"] = pa.array(np.asarray(chunk.control, dtype=bool), pa.bool_())
    return pa.Table.from_pydict(columns, schema=scores_schema(per_account))


def compact_table(chunk: ChunkScores) -> pa.Table:
    """Return the chunk's compact scores (:func:`output.compact_schema`) for monitoring."""
    frame = chunk.frame
    columns = {
        "customer_id": _text(frame["customer_id"].to_numpy(dtype=object)),
        "as_of": pa.array(frame["as_of"].to_numpy(dtype="datetime64[us]"), pa.timestamp("us")),
        "churn_probability": _number(chunk.probability),
        "rule_score": _number(chunk.rule_score),
        "rule_probability": _number(chunk.rule_probability),
        "rule_level": _category_text(chunk.rule_level),
        "rule_alert": pa.array((chunk.rule_level != "none").to_numpy(dtype=bool), pa.bool_()),
        "total_assets": _number(frame["total_assets"]),
        "value_tier": _category_text(frame["value_tier"]),
    }
    return pa.Table.from_pydict(columns, schema=compact_schema())
