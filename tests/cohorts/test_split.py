import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.cohorts.split import out_of_time_split
from pipeline.core.calendar import add_months, month_end_of_index, month_index
from pipeline.core.errors import ChurnError
from pipeline.core.params import SplitParams


def months(first: str, count: int) -> list[pd.Timestamp]:
    return list(pd.date_range(first, periods=count, freq="ME").astype("datetime64[us]"))


def iso(stamps) -> list[str]:
    return [str(stamp.date()) for stamp in stamps]


def test_default_split_purges_exactly_h_minus_1_months_between_parts():
    # 18 month ends Jan 2022 .. Jun 2023, H = 3, test 3, validation 3, purge = H - 1 = 2:
    # test Apr-Jun 2023, purged Feb-Mar 2023, validation Nov 2022-Jan 2023,
    # purged Sep-Oct 2022, train Jan-Aug 2022.
    split = out_of_time_split(months("2022-01-31", 18), SplitParams(), horizon_months=3)
    assert iso(split.test) == ["2023-04-30", "2023-05-31", "2023-06-30"]
    assert iso(split.validation) == ["2022-11-30", "2022-12-31", "2023-01-31"]
    assert iso(split.train) == iso(months("2022-01-31", 8))
    assert iso(split.purged) == iso(months("2022-09-30", 2) + months("2023-02-28", 2))
    assert split.purge_months == 2
    assert split.after_test == []


def test_last_training_label_window_ends_on_the_first_validation_as_of_at_the_latest():
    split = out_of_time_split(months("2022-01-31", 18), SplitParams(), horizon_months=3)
    # Train's last as-of 2022-08-31 looks at (Aug, Nov 2022]: it ends on validation's first
    # as-of date, whose features end there too, and never reaches its label window.
    assert add_months(split.train[-1], 3) == split.validation[0]
    assert add_months(split.validation[-1], 3) == split.test[0]


def test_test_end_moves_the_whole_split_back():
    split = out_of_time_split(
        months("2022-01-31", 18), SplitParams(test_end="2023-03"), horizon_months=3
    )
    assert iso(split.test) == ["2023-01-31", "2023-02-28", "2023-03-31"]
    assert iso(split.validation) == ["2022-08-31", "2022-09-30", "2022-10-31"]
    assert iso(split.train) == iso(months("2022-01-31", 5))
    assert iso(split.after_test) == ["2023-04-30", "2023-05-31", "2023-06-30"]


def test_explicit_purge_overrides_the_horizon():
    split = out_of_time_split(
        months("2022-01-31", 8), SplitParams(purge_months=0, test_months=2), horizon_months=3
    )
    assert iso(split.test) == ["2022-07-31", "2022-08-31"]
    assert iso(split.validation) == ["2022-04-30", "2022-05-31", "2022-06-30"]
    assert iso(split.train) == ["2022-01-31", "2022-02-28", "2022-03-31"]
    assert split.purged == []


def test_unsorted_duplicated_input_is_normalised():
    stamps = months("2022-01-31", 13)
    shuffled = stamps[::-1] + stamps[:3]
    assert out_of_time_split(shuffled, SplitParams(), 3) == out_of_time_split(
        stamps, SplitParams(), 3
    )


def test_too_few_months_names_how_many_are_needed():
    # 3 test + 3 validation + 1 train + 2 gaps of H - 1 = 2: 11 months; 10 are given.
    with pytest.raises(ChurnError, match="need at least 11 consecutive monthly as-of months"):
        out_of_time_split(months("2022-01-31", 10), SplitParams(), horizon_months=3)
    out_of_time_split(months("2022-01-31", 11), SplitParams(), horizon_months=3)


def test_test_end_outside_the_months_is_an_error():
    with pytest.raises(ChurnError, match="split.test_end=2030-01 is not one of"):
        out_of_time_split(months("2022-01-31", 18), SplitParams(test_end="2030-01"), 3)


def test_a_date_that_is_not_a_month_end_is_an_error():
    with pytest.raises(ChurnError, match="month ends; got 2022-03-15"):
        out_of_time_split([*months("2022-01-31", 18), pd.Timestamp("2022-03-15")], SplitParams(), 3)


def test_describe_prints_every_part():
    text = out_of_time_split(months("2022-01-31", 18), SplitParams(), 3).describe()
    assert "train       2022-01-31 .. 2022-08-31 (8 months)" in text
    assert "purged      2022-09-30 .. 2022-10-31 (2 months)" in text
    assert "validation  2022-11-30 .. 2023-01-31 (3 months)" in text
    assert "test        2023-04-30 .. 2023-06-30 (3 months)" in text


def test_part_of_labels_rows():
    split = out_of_time_split(months("2022-01-31", 11), SplitParams(), 3)
    parts = split.part_of(pd.Series(months("2022-01-31", 11)))
    assert (
        parts.tolist()
        == ["train"] + ["unused"] * 2 + ["validation"] * 3 + ["unused"] * 2 + ["test"] * 3
    )


@settings(max_examples=200, deadline=None)
@given(
    indices=st.sets(st.integers(24_000, 24_060), min_size=1, max_size=40),
    test_months=st.integers(1, 4),
    validation_months=st.integers(1, 4),
    purge=st.one_of(st.none(), st.integers(0, 6)),
    horizon=st.integers(1, 6),
)
def test_parts_are_ordered_disjoint_purged_and_complete(
    indices, test_months, validation_months, purge, horizon
):
    stamps = list(month_end_of_index(sorted(indices)))
    params = SplitParams(
        test_months=test_months, validation_months=validation_months, purge_months=purge
    )
    try:
        split = out_of_time_split(stamps, params, horizon)
    except ChurnError as error:
        assert "too few as-of months" in str(error)
        return
    gap = horizon - 1 if purge is None else purge
    train, valid, test = (
        month_index(pd.DatetimeIndex(p)) for p in (split.train, split.validation, split.test)
    )
    assert len(test) == test_months and len(valid) == validation_months and len(train) >= 1
    assert test.tolist() == sorted(indices)[-test_months:]
    assert train.max() + gap < valid.min() and valid.max() + gap < test.min()
    # Nothing is dropped silently: every month is in a part or purged.
    everything = [*split.train, *split.purged, *split.validation, *split.test]
    assert sorted(everything) == stamps
    # Purged months are exactly those too close to the next part.
    for month in month_index(pd.DatetimeIndex(split.purged)):
        assert month + gap >= (valid.min() if month < valid.min() else test.min())
    if purge is None:
        # The default purge keeps every label window (T, T+H] ending on or before the
        # next part's first as-of date.
        assert add_months(split.train[-1], horizon) <= split.validation[0]
        assert add_months(split.validation[-1], horizon) <= split.test[0]


@settings(max_examples=100, deadline=None)
@given(
    count=st.integers(1, 30),
    test_months=st.integers(1, 4),
    validation_months=st.integers(1, 4),
    horizon=st.integers(1, 6),
)
def test_consecutive_months_split_exactly_when_enough(
    count, test_months, validation_months, horizon
):
    params = SplitParams(test_months=test_months, validation_months=validation_months)
    needed = test_months + validation_months + 1 + 2 * (horizon - 1)
    if count >= needed:
        split = out_of_time_split(months("2020-01-31", count), params, horizon)
        assert len(split.train) == count - needed + 1
    else:
        with pytest.raises(ChurnError, match=f"need at least {needed} "):
            out_of_time_split(months("2020-01-31", count), params, horizon)
