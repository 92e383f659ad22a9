"""Path-table contributions equal LightGBM's exact pred_contrib, and so do the reasons they give."""

import math

import lightgbm
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.scoring import contributions
from pipeline.scoring.contributions import PathExplainer
from pipeline.scoring.reasons import model_reasons
from pipeline.scoring.trees import Leaf


def exact(booster, frame, num_iteration=None):
    return booster.predict(frame, num_iteration=num_iteration, pred_contrib=True)


def ours(booster, frame, num_iteration=None):
    explainer = PathExplainer(booster, num_iteration)
    return explainer.contributions(explainer.frame_matrix(frame))


def test_one_split_by_hand():
    # Feature a splits 30 rows left (value 1.0) from 10 right (value -1.0): expected 0.5.
    X = pd.DataFrame({"a": [0.0] * 30 + [1.0] * 10, "b": np.linspace(0, 1, 40)})
    y = np.array([1.0] * 30 + [-1.0] * 10)
    params = {"objective": "regression", "num_leaves": 2, "min_data_in_leaf": 1, "verbose": -1}
    params |= {"learning_rate": 1.0, "boost_from_average": False, "min_data_in_bin": 1}
    booster = lightgbm.train(params, lightgbm.Dataset(X, y), num_boost_round=1)
    got = ours(booster, pd.DataFrame({"a": [0.0, 1.0], "b": [0.5, 0.5]}))
    # Left row: 1.0 - 0.5 = 0.5 for a, nothing for b, bias 0.5; right row: -1.5 for a.
    np.testing.assert_allclose(got, [[0.5, 0.0, 0.5], [-1.5, 0.0, 0.5]], atol=1e-12)


# Tables kept (the default budget), made per batch from counted patterns, or from sorted ones.
WAYS = {"kept": (64_000_000, 20), "counted": (0, 20), "sorted": (0, 0)}


@pytest.mark.parametrize("way", list(WAYS))
@pytest.mark.parametrize("missing", ["nan", "zero", "none"])
def test_equal_to_pred_contrib_with_missing_values_categories_and_deep_paths(
    missing, way, monkeypatch
):
    monkeypatch.setattr(contributions, "CACHED_TABLE_BYTES", WAYS[way][0])
    monkeypatch.setattr(contributions, "COUNTED_PATTERN_FEATURES", WAYS[way][1])
    rng = np.random.default_rng(7)
    n = 3000
    X = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": np.where(rng.random(n) < 0.2, 0.0, rng.normal(size=n)),
            "z": np.where(rng.random(n) < 0.15, np.nan, rng.exponential(size=n)),
            "tier": pd.Categorical(rng.choice(["a", "b", "c", "d", "e"], n)),
        }
    )
    logit = X["x"] * 2 - (X["y"] == 0) + np.nan_to_num(X["z"].to_numpy()) * (X["tier"] == "c")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {"objective": "binary", "num_leaves": 31, "min_data_in_leaf": 5, "verbose": -1}
    params |= {"use_missing": missing != "none", "zero_as_missing": missing == "zero"}
    params |= {"max_cat_to_onehot": 2, "num_threads": 1, "seed": 3}
    booster = lightgbm.train(params, lightgbm.Dataset(X, y), num_boost_round=30)
    # Rows the model never saw, with NaN in every column and an unseen category.
    rows = X.sample(400, random_state=1).reset_index(drop=True)
    rows.loc[:20, "x"] = np.nan
    rows.loc[10:30, "y"] = np.nan
    rows["tier"] = rows["tier"].cat.add_categories(["new"])
    rows.loc[40:45, "tier"] = "new"
    rows.loc[50:55, "tier"] = np.nan
    np.testing.assert_allclose(ours(booster, rows), exact(booster, rows), rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        ours(booster, rows, 12), exact(booster, rows, 12), rtol=0, atol=1e-10
    )


def test_reasons_equal_those_of_the_exact_contributions(model_folder, demo_matrix):
    """On the demo model, every reason said, the first included, is what pred_contrib gives."""
    from features.builder.registry import model_feature_columns
    from features.builder.version import builder_version
    from pipeline.core.params import Params
    from pipeline.scoring.model import scoring_model
    from pipeline.tracking.registry import load_packaged_model

    columns = model_feature_columns()
    scorer = scoring_model(
        load_packaged_model(str(model_folder)), Params(), columns, builder_version()
    )
    rows = demo_matrix.sample(1500, random_state=5).reset_index(drop=True)
    exact_values = scorer.churn.contributions(rows).to_numpy()
    our_values = scorer.contributions(rows)
    np.testing.assert_allclose(our_values, exact_values, rtol=0, atol=1e-10)
    expected = model_reasons(rows, exact_values, columns, 3)
    got = model_reasons(rows, our_values, columns, 3)
    assert sum(1 for r in expected if r) > 1000  # most rows have a reason to compare
    assert [r[0].text if r else None for r in got] == [r[0].text if r else None for r in expected]
    assert [[r.text for r in row] for row in got] == [[r.text for r in row] for row in expected]


def shapley_by_definition(value, zero, pattern):
    """Each feature's Shapley value of one leaf, summing over every coalition of the others."""
    m = len(zero)
    met = [(pattern >> j) & 1 for j in range(m)]
    result = []
    for i in range(m):
        total = 0.0
        others = [j for j in range(m) if j != i]
        for mask in range(1 << len(others)):
            known = {others[b] for b in range(len(others)) if (mask >> b) & 1}
            weight = math.factorial(len(known)) * math.factorial(m - len(known) - 1)
            rest = math.prod(met[j] if j in known else zero[j] for j in others)
            total += weight / math.factorial(m) * value * (met[i] - zero[i]) * rest
        result.append(total)
    return result


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(0.01, 1.0), min_size=1, max_size=7),
    st.floats(-3.0, 3.0),
)
def test_leaf_tables_equal_the_shapley_definition(zero, value):
    m = len(zero)
    patterns = np.arange(1 << m)
    tables = contributions._pattern_tables(
        np.array([value, -value]), np.array([zero, zero]), patterns
    )
    for pattern in patterns:
        expected = shapley_by_definition(value, zero, int(pattern))
        np.testing.assert_allclose(tables[0, pattern], expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(tables[1, pattern], -np.array(expected), rtol=0, atol=1e-12)


@pytest.mark.parametrize("m", [3, 8, 9, 16, 17, 20])
def test_pattern_codes_set_one_bit_per_feature_whose_conditions_hold(m):
    rng = np.random.default_rng(m)
    splits, rows = 2 * m, 500
    left = rng.random((splits, rows)) < 0.6
    sides = np.stack([left, ~left])
    # Feature j: split j taken left, and (for odd j) split m + j taken right too.
    conditions = [[(j, True)] + ([(m + j, False)] if j % 2 else []) for j in range(m)]
    leaf = Leaf(1.0, np.arange(m), conditions, np.full(m, 0.5))
    expected = np.zeros(rows, dtype=np.int64)
    for j in range(m):
        holds = left[j] & (~left[m + j] if j % 2 else True)
        expected += holds.astype(np.int64) << j
    np.testing.assert_array_equal(contributions._pattern_codes(leaf, sides), expected)
