"""Exact per-row contributions of a LightGBM model, leaf by leaf, from precomputed path tables.

The same numbers as LightGBM's ``pred_contrib`` (tree SHAP, Lundberg et al. 2018),
found another way. For one leaf, a feature's contribution depends on the row only
through which of the leaf's path conditions the row meets, feature by feature (a
bit per distinct feature on the path). So each leaf keeps a table, one line per
pattern of those bits, of what it adds to each of its path's features; a row's
contribution is the sum, over every leaf of every tree, of the line its pattern
picks. The per-row work is a few comparisons and one lookup per leaf, against
tree SHAP's quadratic walk of each path; LightGBM spends about 1 ms per row
on a 100-tree model here, this about a tenth of it (benchmarks/bench_scoring.py).

A leaf's line (Shapley values of the leaf's output over its path's features): with
``z_j`` the share of training rows that follow feature j's branches on the path
and ``o_j`` whether the row meets them, feature i gets ``value x (o_i - z_i) x
sum_k w(k) q_k``, where ``q_k`` are the coefficients of ``prod_{j != i} (z_j +
o_j t)`` and ``w(k) = k! (m - k - 1)! / m!`` over the path's m features.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

CACHED_TABLE_FEATURES = 12
"""Leaves with at most this many distinct path features may keep every pattern's line
(at most 4,096 lines, 390 KB), within :data:`CACHED_TABLE_BYTES` for the whole model;
other leaves compute the lines of the patterns each batch holds."""
CACHED_TABLE_BYTES = 64_000_000  # the tables kept stay this small whatever the model's size
COUNTED_PATTERN_FEATURES = 20  # up to 2^20 patterns found by counting, beyond by sorting
ZERO_THRESHOLD = 1e-35  # LightGBM's kZeroThreshold: |x| at most this is zero


@dataclass
class _Tree:
    """One tree's splits as arrays, and its leaves' paths."""

    feature: np.ndarray
    threshold: np.ndarray
    categories: list[np.ndarray | None]
    default_left: np.ndarray
    missing: list[str]
    leaves: list[_Leaf]


@dataclass
class _Leaf:
    """A leaf: its path's distinct features, their conditions and shares, its value."""

    value: float
    features: np.ndarray  # distinct feature indices on the path
    conditions: list[list[tuple[int, bool]]]  # per feature: (split, went left)
    zero: np.ndarray  # per feature: the share of training rows down its branches
    table: np.ndarray | None = field(default=None, repr=False)


class PathExplainer:
    """Per-row feature contributions of a LightGBM booster, equal to ``pred_contrib``."""

    def __init__(self, booster, num_iteration: int | None = None):
        """Read the trees of ``booster`` up to ``num_iteration`` (None: all)."""
        dump = booster.dump_model(num_iteration=num_iteration)
        self.n_features = int(dump["max_feature_idx"]) + 1
        self.categories = booster.pandas_categorical or []
        roots = [info["tree_structure"] for info in dump["tree_info"]]
        self.trees = [_read_tree(root) for root in roots]
        self.bias = float(sum(_expected_value(root) for root in roots))
        self.cached_bytes = 0

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Return ``[rows x (features + 1)]`` contributions, the last column the bias."""
        # Feature-major throughout: every per-leaf step reads and adds whole contiguous rows.
        columns = np.ascontiguousarray(np.asarray(matrix, dtype=np.float64).T)
        out = np.zeros((self.n_features + 1, columns.shape[1]))
        out[-1] = self.bias
        if columns.shape[1]:
            for tree in self.trees:
                went_left = _decisions(tree, columns)
                for leaf in tree.leaves:
                    if len(leaf.features):
                        out[leaf.features] += self._lines(leaf, _pattern_codes(leaf, went_left))
        return out.T

    def _lines(self, leaf: _Leaf, codes: np.ndarray) -> np.ndarray:
        """Return each row's contributions to the leaf's path features ``[m x rows]``."""
        m = len(leaf.features)
        if leaf.table is None and m <= CACHED_TABLE_FEATURES:
            size = (1 << m) * m * 8
            if self.cached_bytes + size <= CACHED_TABLE_BYTES:
                leaf.table = np.ascontiguousarray(_pattern_table(leaf, np.arange(1 << m)).T)
                self.cached_bytes += size
        if leaf.table is not None:
            return leaf.table[:, codes]
        # Only the patterns this batch holds.
        if m <= COUNTED_PATTERN_FEATURES:
            present = np.flatnonzero(np.bincount(codes, minlength=1 << m))
            line_of = np.empty(1 << m, dtype=np.intp)
            line_of[present] = np.arange(len(present))
            where = line_of[codes]
        else:
            present, where = np.unique(codes, return_inverse=True)
        return np.ascontiguousarray(_pattern_table(leaf, present).T)[:, where]

    def frame_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Return a model-column frame as the float matrix LightGBM reads from it.

        Categorical columns become their codes among the training categories (NaN
        when unseen), as LightGBM's pandas conversion does.
        """
        columns = []
        position = 0
        for name in frame.columns:
            values = frame[name]
            if isinstance(values.dtype, pd.CategoricalDtype):
                known = self.categories[position]
                position += 1
                codes = values.cat.set_categories(known).cat.codes.to_numpy()
                columns.append(np.where(codes < 0, np.nan, codes.astype(np.float64)))
            else:
                columns.append(values.to_numpy(dtype=np.float64, na_value=np.nan))
        return np.column_stack(columns) if columns else np.empty((len(frame), 0))


def _read_tree(root: dict) -> _Tree:
    splits: list[dict] = []
    leaves: list[_Leaf] = []

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
    return _Tree(
        feature=np.array([s["split_feature"] for s in splits], dtype=np.int64),
        threshold=np.array([_numeric_threshold(s) for s in splits], dtype=np.float64),
        categories=[_category_set(s) for s in splits],
        default_left=np.array([bool(s["default_left"]) for s in splits]),
        missing=[s["missing_type"] for s in splits],
        leaves=leaves,
    )


def _leaf(node: dict, path: list[tuple[int, bool, float]], splits: list[dict]) -> _Leaf:
    features: dict[int, list[tuple[int, bool]]] = {}
    zero: dict[int, float] = {}
    for split, left, share in path:
        feature = int(splits[split]["split_feature"])
        features.setdefault(feature, []).append((split, left))
        zero[feature] = zero.get(feature, 1.0) * share
    order = list(features)
    return _Leaf(
        value=float(node["leaf_value"]),
        features=np.array(order, dtype=np.int64),
        conditions=[features[f] for f in order],
        zero=np.array([zero[f] for f in order], dtype=np.float64),
    )


def _count(node: dict) -> float:
    return float(node["internal_count"] if "internal_count" in node else node["leaf_count"])


def _expected_value(root: dict) -> float:
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


def _decisions(tree: _Tree, columns: np.ndarray) -> np.ndarray:
    """Return ``[splits x rows]``: whether each row goes left at each split (LightGBM's rule)."""
    went_left = np.empty((len(tree.feature), columns.shape[1]), dtype=bool)
    for split, feature in enumerate(tree.feature):
        values = columns[feature]
        categories = tree.categories[split]
        if categories is not None:
            # A missing or negative category goes right; others by membership.
            known = ~np.isnan(values) & (values >= 0)
            went_left[split] = known & np.isin(np.trunc(np.where(known, values, -1)), categories)
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
        went_left[split] = left
    return went_left


def _pattern_codes(leaf: _Leaf, went_left: np.ndarray) -> np.ndarray:
    """Return each row's pattern: bit j set when it meets feature j's conditions on the path."""
    codes = np.zeros(went_left.shape[1], dtype=np.intp)
    for bit, conditions in enumerate(leaf.conditions):
        met = np.ones(went_left.shape[1], dtype=bool)
        for split, left in conditions:
            met &= went_left[split] if left else ~went_left[split]
        codes |= met.astype(np.intp) << bit
    return codes


def _pattern_table(leaf: _Leaf, patterns: np.ndarray) -> np.ndarray:
    """Return ``[patterns x m]``: what the leaf adds to each path feature under each pattern."""
    m = len(leaf.features)
    z = leaf.zero
    met = ((patterns[:, None] >> np.arange(m)) & 1).astype(np.float64)
    # Coefficients of prod_j (z_j + o_j t), lowest power first.
    poly = np.zeros((len(patterns), m + 1))
    poly[:, 0] = 1.0
    for j in range(m):
        shifted = poly[:, :-1] * met[:, j : j + 1]
        poly *= z[j]
        poly[:, 1:] += shifted
    # Divide out each feature's own factor: by z_i when unmet, by (z_i + t) when met.
    without = np.empty((len(patterns), m, m))
    without[:, :, m - 1] = poly[:, None, m]
    for k in range(m - 1, 0, -1):
        without[:, :, k - 1] = poly[:, None, k] - z[None, :] * without[:, :, k]
    unmet = poly[:, None, :m] / z[None, :, None]
    without = np.where(met[:, :, None] > 0, without, unmet)
    weights = np.array(
        [math.factorial(k) * math.factorial(m - k - 1) / math.factorial(m) for k in range(m)]
    )
    return leaf.value * (met - z[None, :]) * (without @ weights)
