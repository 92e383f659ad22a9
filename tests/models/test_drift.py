import math

import numpy as np
import pandas as pd
import pytest

from models.drift import (
    SCORE,
    column_profile,
    drift_table,
    population_stability_index,
    reference_profile,
    shares_like,
)


def test_psi_by_hand():
    # bins: expected 50/50, actual 25/75
    # (0.25-0.5)*ln(0.25/0.5) + (0.75-0.5)*ln(0.75/0.5) = 0.25*ln2 + 0.25*ln1.5 = 0.27465
    psi = population_stability_index([0.5, 0.5], [0.25, 0.75])
    assert psi == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))


def test_identical_distributions_have_zero_psi():
    assert population_stability_index([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0


def test_numeric_profile_bins_and_missing_share():
    series = pd.Series([1.0, 2.0, 3.0, 4.0, np.nan])
    profile = column_profile(series, bins=2)
    # median of the four finite values: 2.5 -> bins (<2.5) and (>=2.5), then NaN
    assert profile["edges"] == [2.5]
    assert profile["shares"] == [0.4, 0.4, 0.2]


def test_category_profile_keeps_an_other_bin_for_unseen_values():
    reference = column_profile(pd.Series(["a", "a", "b", "b"], dtype="category"), bins=10)
    assert reference["categories"] == ["a", "b"]
    assert shares_like(reference, pd.Series(["a", "c", "c", "b"])) == [0.25, 0.25, 0.5]


def test_drift_table_flags_the_shifted_column_only():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"stable": rng.normal(size=5000), "shifted": rng.normal(size=5000)})
    profile = reference_profile(train, ["stable", "shifted"], rng.uniform(size=5000), bins=10)
    now = pd.DataFrame(
        {
            "stable": rng.normal(size=5000),
            "shifted": rng.normal(2.0, 1, 5000),
            SCORE: rng.uniform(size=5000),
        }
    )
    table = drift_table(profile, now, threshold=0.2)
    assert table.iloc[0]["column"] == "shifted"
    assert table.set_index("column").loc["shifted", "drifted"]
    assert not table.set_index("column").loc["stable", "drifted"]
    assert not table.set_index("column").loc[SCORE, "drifted"]
