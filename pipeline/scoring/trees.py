"""LightGBM trees as arrays: splits, leaves' paths, and which way each row goes.

Read from ``Booster.dump_model()`` for the path tables of the exact per-row
contributions (pipeline/scoring/contributions.py): every leaf keeps its path's
distinct features, the conditions a row must meet on each, and the share of
training rows that follows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ZERO_THRESHOLD = 1e-35  # LightGBM's kZeroThreshold: |x| at most this is zero


@dataclass
class Tree:
    """One tree's splits as arrays, and its leaves' paths."""

    feature: np.ndarray
    threshold: np.ndarray
    categories: list[np.ndarray | None]
    default_left: np.ndarray
    missing: list[str]
    leaves: list[Leaf]


@dataclass
class Leaf:
    """A leaf: its path's distinct features, their conditions and shares, its value."""

    value: float
    features: np.ndarray  # distinct feature indices on the path
    conditions: list[list[tuple[int, bool]]]  # per feature: (split, went left)
    zero: np.ndarray  # per feature: the share of training rows down its branches
    table: np.ndarray | None = field(default=None, repr=False)


def read_tree(root: dict) -> Tree:
    """Return a tree of ``Booster.dump_model()`` as split arrays and its leaves' paths."""
    splits: list[dict] = []
    leaves: list[Leaf] = []

    def walk(node: dict, path: list[tuple[int, bool, float]]) -> None:
        if "split_index" not in node:
            leaves.append(_leaf(node, path, splits))
            return
        split = len(splits)
        splits.append(node)
        count = float(node["internal_count"])
        for child, left in ((node["left_child"], True), (node["right_child"], False)):
            walk(child, [*path, (split, left, _count(child) / count)])

    walk(root, [])
    return Tree(
        feature=np.array([s["split_feature"] for s in splits], dtype=np.int64),
        threshold=np.array([_numeric_threshold(s) for s in splits], dtype=np.float64),
        categories=[_category_set(s) for s in splits],
        default_left=np.array([bool(s["default_left"]) for s in splits]),
        missing=[s["missing_type"] for s in splits],
        leaves=leaves,
    )


def _leaf(node: dict, path: list[tuple[int, bool, float]], splits: list[dict]) -> Leaf:
    features: dict[int, list[tuple[int, bool]]] = {}
    zero: dict[int, float] = {}
    for split, left, share in path:
        feature = int(splits[split]["split_feature"])
        features.setdefault(feature, []).append((split, left))
        zero[feature] = zero.get(feature, 1.0) * share
    order = list(features)
    return Leaf(
        value=float(node["leaf_value"]),
        features=np.array(order, dtype=np.int64),
        conditions=[features[f] for f in order],
        zero=np.array([zero[f] for f in order], dtype=np.float64),
    )


def _count(node: dict) -> float:
    return float(node["internal_count"] if "internal_count" in node else node["leaf_count"])


def expected_value(root: dict) -> float:
    """Return a tree's output averaged over its training rows (its part of the bias)."""
    if "split_index" not in root:
        return float(root["leaf_value"])
    total = float(root["internal_count"])
    stack, value = [root], 0.0
    while stack:
        node = stack.pop()
        if "split_index" in node:
            stack += [node["left_child"], node["right_child"]]
        else:
            value += float(node["leaf_count"]) / total * float(node["leaf_value"])
    return value


def _numeric_threshold(split: dict) -> float:
    return float(split["threshold"]) if split["decision_type"] == "<=" else np.nan


def _category_set(split: dict) -> np.ndarray | None:
    if split["decision_type"] != "==":
        return None
    return np.array([int(c) for c in str(split["threshold"]).split("||")], dtype=np.float64)


def sides_taken(tree: Tree, columns: np.ndarray) -> np.ndarray:
    """Return ``[2 x splits x rows]``: whether each row goes left, then right, at each split.

    LightGBM's rule: a missing or negative category goes right, others by membership;
    a missing value by the split's missing type and default direction.
    """
    sides = np.empty((2, len(tree.feature), columns.shape[1]), dtype=bool)
    for split, feature in enumerate(tree.feature):
        values = columns[feature]
        categories = tree.categories[split]
        if categories is not None:
            known = ~np.isnan(values) & (values >= 0)
            sides[0, split] = known & np.isin(np.trunc(np.where(known, values, -1)), categories)
            continue
        nan = np.isnan(values)
        missing_type = tree.missing[split]
        if missing_type != "NaN":
            values = np.where(nan, 0.0, values)
        if missing_type == "Zero":
            missing = np.abs(values) <= ZERO_THRESHOLD
        elif missing_type == "NaN":
            missing = nan
        else:
            missing = None
        left = values <= tree.threshold[split]
        if missing is not None:
            left = np.where(missing, tree.default_left[split], left)
        sides[0, split] = left
    np.logical_not(sides[0], out=sides[1])
    return sides
