"""Reasons in business words: an account's strongest drivers, merged with the rules that fired.

Model reasons come from LightGBM's exact per-row contributions: the features that
raise this account's score most, strongest first, positive contributions only.
A warning flag and its measure are one driver (the flag has fired, the measure
says by how much), said as the measure's value, e.g. "funds out in 6 months =
64% of assets (warning indicator)"; an unfired flag is never a reason. When the
model gives fewer positive drivers than places, the fired rules it did not name
fill the rest.

Rule reasons (for accounts below the model-reason rank cut) are the fired
warning indicators, key ones first, in the guideline's order; an account with no
fired indicator has no reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.builder.registry import INDICATOR_MEASURES, describe
from models.rules import RULE_FLAGS

RULE_MEASURES: dict[str, str] = dict(INDICATOR_MEASURES)
"""The measure each warning flag is said with, e.g. warn_outflow by outflow_share_6m."""
FLAG_OF_MEASURE: dict[str, str] = {measure: flag for flag, measure in RULE_MEASURES.items()}
RULE_MARK = " (warning indicator)"


@dataclass(frozen=True)
class Reason:
    """One reason: its words and the features or flags behind it (for the likely cause)."""

    text: str
    drivers: tuple[str, ...]


class _Columns:
    """Column values of a feature frame as numpy arrays, read once each."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, column: str) -> np.ndarray:
        if column not in self._cache:
            series = self.frame[column]
            if isinstance(series.dtype, pd.CategoricalDtype):
                values = series.astype(object).where(series.notna(), None).to_numpy()
            else:
                values = series.to_numpy()
            self._cache[column] = values
        return self._cache[column]

    def fired(self, flag: str) -> np.ndarray:
        return np.asarray(self[flag], dtype=bool)


def _value(columns: _Columns, column: str, row: int):
    value = columns[column][row]
    return float(value) if isinstance(value, (np.floating, np.integer)) else value


def _rule_reason(columns: _Columns, flag: str, row: int) -> Reason:
    measure = RULE_MEASURES[flag]
    return Reason(describe(measure, _value(columns, measure, row)) + RULE_MARK, (flag, measure))


def rule_reasons(frame: pd.DataFrame, per_account: int) -> list[list[Reason]]:
    """Return each row's fired warning indicators as reasons, key ones first, at most n."""
    columns = _Columns(frame)
    fired = np.column_stack([columns.fired(flag) for flag in RULE_FLAGS])
    # Flags in the guideline's order: the first n fired ones of each row are said.
    said = fired & (np.cumsum(fired, axis=1) <= per_account)
    reasons: list[list[Reason]] = [[] for _ in range(len(frame))]
    for position, flag in enumerate(RULE_FLAGS):
        rows = np.flatnonzero(said[:, position])
        found = _said_reasons(flag, columns[RULE_MEASURES[flag]][rows])
        for row, reason in zip(rows.tolist(), found, strict=True):
            reasons[row].append(reason)
    return reasons


def _said_reasons(flag: str, values: np.ndarray) -> list[Reason]:
    """Return a fired flag's reason for each value of its measure (each distinct one made once)."""
    measure = RULE_MEASURES[flag]
    made: dict[object, Reason] = {}
    found = []
    for value in values.tolist():
        reason = made.get(value)
        if reason is None:
            reason = made[value] = Reason(describe(measure, value) + RULE_MARK, (flag, measure))
        found.append(reason)
    return found


def model_reasons(
    frame: pd.DataFrame, contributions: np.ndarray, feature_columns: Sequence[str], per_account: int
) -> list[list[Reason]]:
    """Return each row's strongest positive drivers in words, merged with its fired rules.

    Args:
        frame: the feature rows explained (model columns and the eight ``warn_*`` flags).
        contributions: LightGBM contributions ``[rows x (features + bias)]`` of those rows.
        feature_columns: the model's columns, in contribution order.
        per_account: reasons per account (``scoring.reasons_per_account``).
    """
    columns = _Columns(frame)
    strengths = np.asarray(contributions, dtype=np.float64)[:, : len(feature_columns)]
    order = np.argsort(-strengths, axis=1, kind="stable")
    positives = (strengths > 0).sum(axis=1)
    names = np.asarray(feature_columns, dtype=object)
    fired = {flag: columns.fired(flag) for flag in RULE_FLAGS}
    return [
        _merged(columns, row, names[order[row, : positives[row]]], fired, per_account)
        for row in range(len(frame))
    ]


def _merged(
    columns: _Columns, row: int, drivers: Sequence[str], fired: dict[str, np.ndarray], n: int
) -> list[Reason]:
    """Return a row's reasons: its drivers strongest first, then fired rules not yet named."""
    reasons: list[Reason] = []
    covered: set[str] = set()
    for feature in drivers:
        if len(reasons) == n:
            return reasons
        flag = feature if feature in fired else FLAG_OF_MEASURE.get(feature)
        if feature in fired and not fired[feature][row]:
            continue  # an unfired flag is not a reason
        if flag is not None and fired[flag][row]:
            if flag in covered:
                continue
            reasons.append(_rule_reason(columns, flag, row))
            covered.add(flag)
        elif feature not in covered:
            reasons.append(Reason(describe(feature, _value(columns, feature, row)), (feature,)))
        covered.add(feature)
    for flag in RULE_FLAGS:
        if len(reasons) == n:
            break
        if fired[flag][row] and flag not in covered:
            reasons.append(_rule_reason(columns, flag, row))
            covered.add(flag)
    return reasons
