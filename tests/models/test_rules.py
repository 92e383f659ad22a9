import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from models.rules import RULE_FLAGS, RuleBaseline
from pipeline.core.errors import ChurnError
from pipeline.core.params import RuleLevels, RuleWeights


def flags(*rows: dict) -> pd.DataFrame:
    """Rows of fired flags by short name; everything else False."""
    frame = pd.DataFrame(False, index=range(len(rows)), columns=list(RULE_FLAGS))
    for i, row in enumerate(rows):
        for name, value in row.items():
            frame.loc[i, f"warn_{name}"] = value
    return frame


HAND = flags(
    {},  # 0: nothing fired
    {"outflow": True},  # 1: one key
    {"outflow": True, "commission_drop": True},  # 2: two key
    {"outflow": True, "trade_drop": True, "complaint": True},  # 3: one key + two others
    {"trade_drop": True, "complaint": True},  # 4: two others
    {"complaint": True},  # 5: one other
    {"big_loss": True},  # 6: one other (qualitative flags unknown below)
    {"outflow": True, "big_loss": True},  # 7: one key + one other
)


def baseline(**levels) -> RuleBaseline:
    return RuleBaseline(RuleWeights(), RuleLevels(**levels))


def test_rule_score_weights_key_auxiliary_and_qualitative():
    # Weights key 2, auxiliary 1, qualitative 0.5:
    # 0; 2; 2+2; 2+1+0.5; 1+0.5; 0.5; 1; 2+1.
    expected = [0.0, 2.0, 4.0, 3.5, 1.5, 0.5, 1.0, 3.0]
    assert baseline().rule_score(HAND).tolist() == expected


def test_warning_levels_follow_the_guideline():
    # red: 2 key, or 1 key + 2 others; yellow: 1 key or 2 others.
    expected = ["none", "yellow", "red", "red", "yellow", "none", "none", "yellow"]
    assert baseline().warning_level(HAND).astype(str).tolist() == expected
    assert baseline().alerts(HAND).tolist() == [e != "none" for e in expected]


def test_levels_come_from_params():
    # yellow_others=1 turns the single-other rows 5 and 6 yellow.
    levels = baseline(yellow_others=1).warning_level(HAND).astype(str).tolist()
    assert levels[5] == "yellow" and levels[6] == "yellow"


def test_missing_flag_values_have_not_fired():
    frame = HAND.astype(object)
    frame.loc[6, ["warn_complaint", "warn_fee_cut_request", "warn_contact_drop"]] = np.nan
    frame = frame.astype({c: "boolean" for c in RULE_FLAGS})
    assert baseline().rule_score(frame)[6] == 1.0
    assert baseline().warning_level(frame)[6] == "none"


def test_weights_accept_a_plain_mapping():
    rules = RuleBaseline({"key": 1.0, "auxiliary": 0.0, "qualitative": 0.0}, RuleLevels())
    assert rules.rule_score(HAND).tolist() == [0, 1, 2, 1, 0, 0, 0, 1]


def test_fit_learns_the_smoothed_churn_rate_per_score():
    train = flags(
        {},
        {},
        {},
        {},
        {"outflow": True},
        {"outflow": True},
        {"outflow": True, "empty_position": True},
        {"outflow": True, "empty_position": True},
    )
    y = [0, 0, 0, 0, 1, 0, 1, 1]
    rules = baseline().fit(train, y)
    # base rate 3/8; one pseudo-customer at it per score value:
    # score 0: (0 + .375) / 5 = .075; score 2: (1 + .375) / 3; score 4: (2 + .375) / 3.
    assert rules.base_rate_ == pytest.approx(0.375)
    assert rules.score_values_.tolist() == [0.0, 2.0, 4.0]
    assert rules.churn_rate_ == pytest.approx([0.075, 1.375 / 3, 2.375 / 3])
    # Unseen scores interpolate: 3.5 is 3/4 of the way from 2 to 4 -> .458333 + .75 * .333333;
    # 1.5 is 3/4 from 0 to 2, 0.5 a quarter, 1.0 (a lone big loss) halfway; 3 halfway 2..4.
    p = rules.predict_proba(HAND)
    assert p[:, 1] == pytest.approx(
        [
            0.075,
            1.375 / 3,
            2.375 / 3,
            1.375 / 3 + 0.75 * (2.375 / 3 - 1.375 / 3),
            0.075 + 0.75 * (1.375 / 3 - 0.075),
            0.075 + 0.25 * (1.375 / 3 - 0.075),
            0.075 + 0.5 * (1.375 / 3 - 0.075),
            (1.375 / 3 + 2.375 / 3) / 2,
        ]
    )
    assert p.sum(axis=1) == pytest.approx(np.ones(len(HAND)))


def test_fit_pools_scores_whose_rates_would_decrease():
    train = flags({}, {}, {"outflow": True}, {"outflow": True})
    rules = baseline().fit(train, [1, 0, 0, 0])
    # base .25: score 0 -> (1 + .25) / 3 = .4167, score 2 -> .25 / 3 = .0833: not monotone,
    # so both are pooled (2 rows each) to their weighted mean .25.
    assert rules.churn_rate_ == pytest.approx([0.25, 0.25])


def test_fit_returns_self_and_predict_before_fit_is_an_error():
    rules = baseline()
    with pytest.raises(ChurnError, match="not fitted"):
        rules.predict_proba(HAND)
    assert rules.fit(HAND, [0, 1, 1, 1, 0, 0, 0, 1]) is rules


def test_missing_flag_column_is_an_error():
    with pytest.raises(ChurnError, match="warn_contact_drop"):
        baseline().rule_score(HAND.drop(columns="warn_contact_drop"))


@settings(max_examples=50, deadline=None)
@given(
    fired=arrays(bool, (60, len(RULE_FLAGS))),
    churn=arrays(np.int64, 60, elements=st.integers(0, 1)),
)
def test_probability_never_falls_as_the_score_rises(fired, churn):
    frame = pd.DataFrame(fired, columns=list(RULE_FLAGS))
    before = frame.copy()
    rules = baseline().fit(frame, churn)
    order = np.argsort(rules.rule_score(frame).to_numpy(), kind="stable")
    p = rules.predict_proba(frame)[order, 1]
    assert (np.diff(p) >= -1e-12).all()
    assert ((p > 0) & (p < 1)).all() or churn.min() == churn.max()
    pd.testing.assert_frame_equal(frame, before)


def test_the_fitted_baseline_round_trips_through_json():
    train = flags({}, {}, {"outflow": True}, {"outflow": True, "complaint": True})
    rules = RuleBaseline(RuleWeights(key=3.0), RuleLevels(yellow_others=1)).fit(train, [0, 0, 1, 1])
    state = json.loads(json.dumps(rules.to_dict()))
    assert state["weights"] == {"key": 3.0, "auxiliary": 1.0, "qualitative": 0.5}
    assert state["score_values"] == [0.0, 3.0, 3.5]
    again = RuleBaseline.from_dict(state)
    np.testing.assert_array_equal(again.predict_proba(HAND), rules.predict_proba(HAND))
    assert again.warning_level(HAND).tolist() == rules.warning_level(HAND).tolist()
    assert again.get_params() == {
        "weights": state["weights"],
        "levels": state["levels"],
        "smoothing": 1.0,
    }


def test_a_baseline_without_its_learned_rates_is_refused():
    with pytest.raises(ChurnError, match="0 score values but 0 churn rates"):
        RuleBaseline.from_dict({"weights": {}, "levels": {}})
