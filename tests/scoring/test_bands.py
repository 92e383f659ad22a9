import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pipeline.scoring.bands import bands_by_probability, bands_by_rank, risk_ranks, top_count

NAMES = ["low", "medium", "high"]


def test_rank_one_is_the_highest_probability_and_ties_go_by_customer_order():
    # accounts in customer-id order:  A     B     C     D     E
    probability = np.array([0.20, 0.90, 0.20, 0.05, 0.50])
    # B (0.9) first, E (0.5), then A and C tie at 0.2: A comes first by id, then D.
    assert risk_ranks(probability).tolist() == [3, 1, 4, 5, 2]


def test_bands_by_probability_put_a_cut_point_in_the_higher_band():
    probability = np.array([0.0, 0.0999, 0.10, 0.2999, 0.30, 1.0])
    bands = bands_by_probability(probability, [0.10, 0.30], NAMES)
    assert bands.tolist() == ["low", "low", "medium", "medium", "high", "high"]


def test_bands_by_rank_count_shares_from_the_top():
    # 10 accounts, cuts [0.1, 0.3]: rank 1 is the top 10% (high), ranks 2-3 the next 20%.
    ranks = np.arange(1, 11)
    bands = bands_by_rank(ranks, [0.10, 0.30], NAMES)
    assert bands.tolist() == ["high", "medium", "medium"] + ["low"] * 7


def test_bands_by_rank_round_a_share_up_to_whole_accounts():
    # 7 accounts: top 10% is ceil(0.7) = 1 account, top 30% is ceil(2.1) = 3 accounts.
    bands = bands_by_rank(np.arange(1, 8), [0.10, 0.30], NAMES)
    assert bands.tolist() == ["high", "medium", "medium", "low", "low", "low", "low"]


def test_top_count_is_exact_on_binary_fractions_and_bounded():
    assert top_count(0.2, 10) == 2  # 0.2 * 10 is 2.0000000000000004 in binary
    assert top_count(0.2, 11) == 3
    assert top_count(0.0, 5) == 0
    assert top_count(1.0, 5) == 5


@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=60))
def test_ranks_are_a_permutation_ordered_by_probability(values):
    probability = np.array(values)
    ranks = risk_ranks(probability)
    assert sorted(ranks.tolist()) == list(range(1, len(values) + 1))
    order = np.argsort(ranks)
    assert np.all(np.diff(probability[order]) <= 0)


@given(
    st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=60),
    st.sampled_from(["probability", "rank"]),
)
def test_a_riskier_account_never_gets_a_lower_band(values, band_by):
    probability = np.array(values)
    ranks = risk_ranks(probability)
    if band_by == "rank":
        bands = bands_by_rank(ranks, [0.1, 0.3], NAMES)
    else:
        bands = bands_by_probability(probability, [0.1, 0.3], NAMES)
    level = np.array([NAMES.index(b) for b in bands])
    order = np.argsort(ranks)
    assert np.all(np.diff(level[order]) <= 0)
