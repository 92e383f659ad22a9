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
integral over [0, 1] of prod_{j != i} (z_j (1 - t) + o_j t) dt`` (the Shapley
weights ``k! (m - k - 1)! / m!`` are that integral's Beta weights), computed
exactly by Gauss-Legendre quadrature, the tables of many leaves side by side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.scoring.trees import Leaf, expected_value, read_tree, sides_taken

CACHED_TABLE_FEATURES = 12
"""Leaves with at most this many distinct path features may keep every pattern's line
(at most 4,096 lines, 390 KB), within :data:`CACHED_TABLE_BYTES` for the whole model;
other leaves compute the lines of the patterns each batch holds."""
CACHED_TABLE_BYTES = 64_000_000  # the tables kept stay this small whatever the model's size
TABLE_BATCH_CELLS = 1 << 20  # leaves x patterns x m x nodes made at once (8 MB of memory)
COUNTED_PATTERN_FEATURES = 20  # up to 2^20 patterns found by counting, beyond by sorting


class PathExplainer:
    """Per-row feature contributions of a LightGBM booster, equal to ``pred_contrib``."""

    def __init__(self, booster, num_iteration: int | None = None):
        """Read the trees of ``booster`` up to ``num_iteration`` (None: all)."""
        dump = booster.dump_model(num_iteration=num_iteration)
        self.n_features = int(dump["max_feature_idx"]) + 1
        self.categories = booster.pandas_categorical or []
        roots = [info["tree_structure"] for info in dump["tree_info"]]
        self.trees = [read_tree(root) for root in roots]
        self.bias = float(sum(expected_value(root) for root in roots))
        self.cached_bytes = 0
        self.tables_kept = False
        self.widest = max((len(leaf.features) for t in self.trees for leaf in t.leaves), default=0)

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Return ``[rows x (features + 1)]`` contributions, the last column the bias."""
        # Feature-major throughout: every per-leaf step reads and adds whole contiguous rows.
        columns = np.ascontiguousarray(np.asarray(matrix, dtype=np.float64).T)
        out = np.zeros((self.n_features + 1, columns.shape[1]))
        out[-1] = self.bias
        if columns.shape[1]:
            if not self.tables_kept:
                self._keep_tables()
            lines = np.empty((self.widest, columns.shape[1]))  # one leaf's lines at a time
            for tree in self.trees:
                sides = sides_taken(tree, columns)
                for leaf in tree.leaves:
                    if len(leaf.features):
                        found = self._lines(leaf, _pattern_codes(leaf, sides), lines)
                        for line, feature in zip(found, leaf.features.tolist(), strict=True):
                            out[feature] += line
        return out.T

    def _keep_tables(self) -> None:
        """Make every pattern's lines of the leaves kept within the budget, once.

        Leaves are kept in tree order while :data:`CACHED_TABLE_BYTES` lasts; the
        tables of leaves with as many features are made side by side, a few
        megabytes of working memory at a time.
        """
        self.tables_kept = True
        kept: dict[int, list[Leaf]] = {}
        for tree in self.trees:
            for leaf in tree.leaves:
                m = len(leaf.features)
                size = (1 << m) * m * 8
                if (
                    0 < m <= CACHED_TABLE_FEATURES
                    and self.cached_bytes + size <= CACHED_TABLE_BYTES
                ):
                    kept.setdefault(m, []).append(leaf)
                    self.cached_bytes += size
        for m, leaves in kept.items():
            patterns = np.arange(1 << m)
            step = max(1, TABLE_BATCH_CELLS // ((1 << m) * m * (m + 1) // 2))
            for start in range(0, len(leaves), step):
                batch = leaves[start : start + step]
                values = np.array([leaf.value for leaf in batch])
                tables = _pattern_tables(values, np.stack([leaf.zero for leaf in batch]), patterns)
                for leaf, table in zip(batch, tables, strict=True):
                    leaf.table = np.ascontiguousarray(table.T)

    def _lines(self, leaf: Leaf, codes: np.ndarray, lines: np.ndarray) -> np.ndarray:
        """Return each row's contributions to the leaf's path features ``[m x rows]``.

        A kept table's lines are written into ``lines`` (at least m rows).
        """
        m = len(leaf.features)
        if leaf.table is not None:
            return np.take(leaf.table, codes, axis=1, out=lines[:m])
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


def _pattern_codes(leaf: Leaf, sides: np.ndarray) -> np.ndarray:
    """Return each row's pattern: bit j set when it meets feature j's conditions on the path.

    A code takes one byte for up to 8 features, two for up to 16 (cheaper to build and read).
    """
    m = len(leaf.conditions)
    kind = np.uint8 if m <= 8 else np.uint16 if m <= 16 else np.intp
    codes = np.zeros(sides.shape[2], dtype=kind)
    for bit, conditions in enumerate(leaf.conditions):
        split, left = conditions[0]
        met = sides[0 if left else 1, split]
        if len(conditions) > 1:
            met = met.copy()
            for split, left in conditions[1:]:
                met &= sides[0 if left else 1, split]
        codes |= met.view(np.uint8).astype(kind, copy=False) << kind(bit)
    return codes


def _pattern_table(leaf: Leaf, patterns: np.ndarray) -> np.ndarray:
    """Return ``[patterns x m]``: what the leaf adds to each path feature under each pattern."""
    return _pattern_tables(np.array([leaf.value]), leaf.zero[None, :], patterns)[0]


def _pattern_tables(values: np.ndarray, zero: np.ndarray, patterns: np.ndarray) -> np.ndarray:
    """Return ``[leaves x patterns x m]`` for leaves of m path features each, side by side.

    ``values`` holds each leaf's value, ``zero`` its features' shares ``[leaves x m]``.
    The Shapley weights are ``w(k) = integral of t^k (1 - t)^(m-k-1) dt`` over [0, 1], so
    ``sum_k w(k) q_k = integral of prod_{j != i} (z_j (1 - t) + o_j t) dt``: a polynomial
    of degree m - 1 in t, which Gauss-Legendre quadrature with ceil(m / 2) nodes gives
    exactly. Each node's product over all features is divided by feature i's own factor.
    """
    m = zero.shape[1]
    x, w = np.polynomial.legendre.leggauss(max(1, (m + 1) // 2))
    t, weight = (x + 1) / 2, w / 2  # nodes and weights on [0, 1]
    met = ((patterns[:, None] >> np.arange(m)) & 1).astype(np.float64)  # [patterns x m]
    # Each feature's factor at each node under each pattern: [leaves x nodes x patterns x m].
    factors = zero[:, None, None, :] * (1 - t)[None, :, None, None] + (
        met[None, None, :, :] * t[None, :, None, None]
    )
    product = np.prod(factors, axis=3, keepdims=True)
    np.divide(product, factors, out=factors)  # each feature's factor divided out
    shapley = np.einsum("n,lnpm->lpm", weight, factors)
    return values[:, None, None] * (met[None] - zero[:, None, :]) * shapley
