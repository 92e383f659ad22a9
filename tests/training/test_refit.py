"""The refit on every matured month: which months it learns from, and what it keeps.

The synthetic matrix holds 8 as-of months, 2023-01 .. 2023-08. With a 2-month
horizon (purge 1), 1 test and 1 validation month: test 2023-08, purged 2023-07,
validation 2023-06, purged 2023-05, training 2023-01 .. 2023-04. Every month up to
2023-06 has its label window (T, T+2] ended by the test as-of 2023-08-31; 2023-07's
ends 2023-09-30, after it.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from models.lightgbm_model import ChurnLightGBM
from pipeline.cohorts.cohorts import split_cohorts
from pipeline.cohorts.split import out_of_time_split
from pipeline.core.calendar import add_months
from pipeline.core.params import SplitParams
from pipeline.training.fit import refit_on_matured
from tests.model_fixtures import FEATURES, single_thread_model_params

HORIZON = 2


def iso(months) -> list[str]:
    return [str(pd.Timestamp(m).date()) for m in months]


@pytest.fixture(scope="module")
def cohorts(matrix):
    frame, labels = matrix
    frame = frame.assign(label=labels.to_numpy().astype("int8"))
    months = sorted(pd.DatetimeIndex(frame["as_of"].unique()))
    split = out_of_time_split(months, SplitParams(test_months=1, validation_months=1), HORIZON)
    return split_cohorts(frame, split, with_gap=True)


def test_refit_months_are_training_gap_and_validation_all_matured(cohorts):
    split = cohorts.split
    assert iso(split.test) == ["2023-08-31"] and iso(split.validation) == ["2023-06-30"]
    assert iso(split.matured_gap) == ["2023-05-31"]
    expected = iso(pd.date_range("2023-01-31", "2023-06-30", freq="ME"))
    assert iso(split.refit) == expected
    assert all(add_months(month, HORIZON) <= split.test[0] for month in split.refit)
    assert iso(sorted(cohorts.refit_rows()["as_of"].unique())) == expected


@pytest.fixture(scope="module")
def selected(cohorts):
    params = single_thread_model_params()
    train, valid = cohorts.train, cohorts.validation
    return ChurnLightGBM.from_params(params, FEATURES).fit(
        train, train["label"], eval_set=(valid, valid["label"])
    )


def test_refit_learns_from_every_matured_month_with_the_stopped_tree_count(cohorts, selected):
    refit = refit_on_matured(selected, cohorts, 1.0, Console(file=io.StringIO()))
    rows = cohorts.refit_rows()
    by_hand = ChurnLightGBM.from_params(single_thread_model_params(), FEATURES)
    by_hand = by_hand.set_params(n_estimators=selected.best_iteration_).fit(rows, rows["label"])
    test = cohorts.test
    np.testing.assert_array_equal(refit.predict_raw(test), by_hand.predict_raw(test))
    assert refit.booster_.num_trees() == selected.best_iteration_ == refit.best_iteration_
    assert refit.calibrator_ == selected.calibrator_
    assert not np.array_equal(refit.predict_raw(test), selected.predict_raw(test))


def test_refit_tree_scale_multiplies_the_stopped_tree_count(cohorts, selected):
    refit = refit_on_matured(selected, cohorts, 2.0, Console(file=io.StringIO()))
    assert refit.best_iteration_ == 2 * selected.best_iteration_


def test_labels_of_unmatured_and_test_months_change_nothing(cohorts, selected):
    flipped = cohorts.test.assign(label=1 - cohorts.test["label"])
    changed = type(cohorts)(
        cohorts.train, cohorts.validation, flipped, cohorts.split, cohorts.matured_gap
    )
    console = Console(file=io.StringIO())
    a = refit_on_matured(selected, cohorts, 1.0, console).predict_raw(cohorts.test)
    b = refit_on_matured(selected, changed, 1.0, console).predict_raw(cohorts.test)
    np.testing.assert_array_equal(a, b)
