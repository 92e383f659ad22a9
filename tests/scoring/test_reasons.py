import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from models.rules import RULE_FLAGS
from pipeline.scoring.reasons import RULE_MEASURES, model_reasons, rule_reasons

FEATURES = [
    "outflow_share_6m",
    "warn_outflow",
    "total_assets",
    "age_years",
    "commission_vs_prev",
    "warn_commission_drop",
    "warn_complaint",
]


def frame(rows: list[dict]) -> pd.DataFrame:
    """Feature rows: every flag False and every measure 0 unless given."""
    base = {flag: False for flag in RULE_FLAGS} | {m: 0.0 for m in RULE_MEASURES.values()}
    base |= {"total_assets": 10_000.0, "age_years": 40.0}
    return pd.DataFrame([base | row for row in rows])


def texts(reasons):
    return [[r.text for r in row] for row in reasons]


def contributions(rows: list[dict]) -> np.ndarray:
    """Contribution matrix over FEATURES plus a bias column (0 where not given)."""
    return np.array([[row.get(f, 0.0) for f in FEATURES] + [-2.0] for row in rows])


def test_model_reasons_follow_contributions_and_say_a_fired_rule_once():
    # Customer A: funds out 64% of assets, outflow rule fired, CNY 50,000, aged 72.
    X = frame(
        [
            {
                "outflow_share_6m": 0.64,
                "warn_outflow": True,
                "total_assets": 50_000.0,
                "age_years": 72.0,
                "commission_vs_prev": 1.1,
            }
        ]
    )
    C = contributions(
        [
            {
                "outflow_share_6m": 0.8,
                "warn_outflow": 0.3,
                "total_assets": 0.5,
                "age_years": 0.1,
                "commission_vs_prev": -0.2,
            }
        ]
    )
    reasons = model_reasons(X, C, FEATURES, 3)
    # 0.8 outflow share (its flag fired: one reason for both), 0.5 assets, then the flag
    # (0.3) is skipped as already said, then age (0.1).
    assert texts(reasons) == [
        [
            "funds out in 6 months = 64% of assets (warning indicator)",
            "total assets = CNY 50,000",
            "age = 72 years",
        ]
    ]
    assert [r.drivers for r in reasons[0]] == [
        ("warn_outflow", "outflow_share_6m"),
        ("total_assets",),
        ("age_years",),
    ]


def test_an_unfired_flag_is_never_a_reason_and_fired_rules_fill_free_places():
    # Customer B: the complaint flag did not fire but pushes the score up; the commission
    # rule fired but the model pulls it down. Only age is a positive driver.
    X = frame([{"warn_commission_drop": True, "commission_vs_prev": 0.55, "age_years": 45.0}])
    C = contributions(
        [
            {
                "warn_complaint": 0.4,
                "age_years": 0.2,
                "warn_commission_drop": -0.1,
                "commission_vs_prev": -0.3,
            }
        ]
    )
    assert texts(model_reasons(X, C, FEATURES, 3)) == [
        [
            "age = 45 years",
            "commission this month vs previous average = 0.55x (warning indicator)",
        ]
    ]


def test_a_measure_whose_rule_did_not_fire_is_said_without_the_mark():
    X = frame([{"commission_vs_prev": 0.9}])
    C = contributions([{"commission_vs_prev": 0.3}])
    assert texts(model_reasons(X, C, FEATURES, 3)) == [
        ["commission this month vs previous average = 0.90x"]
    ]


def test_model_reasons_stop_at_the_number_of_places():
    X = frame([{"total_assets": 2_000_000.0, "age_years": 30.0, "commission_vs_prev": 0.9}])
    C = contributions([{"total_assets": 0.1, "age_years": 0.3, "commission_vs_prev": 0.2}])
    assert texts(model_reasons(X, C, FEATURES, 1)) == [["age = 30 years"]]


def test_rule_reasons_list_fired_indicators_key_ones_first_up_to_n():
    X = frame(
        [
            # contact drop (qualitative), big loss (auxiliary), outflow (key): key first
            {
                "warn_contact_drop": True,
                "contacts_recent_vs_prev3m": 0.0,
                "warn_big_loss": True,
                "loss_share_1m": 0.76,
                "warn_outflow": True,
                "outflow_share_6m": 0.33,
            },
            {},  # nothing fired: no reason
        ]
    )
    assert texts(rule_reasons(X, 2)) == [
        [
            "funds out in 6 months = 33% of assets (warning indicator)",
            "loss this month = 76% of assets (warning indicator)",
        ],
        [],
    ]


def test_rule_reasons_say_each_accounts_own_measure():
    X = frame(
        [
            {"warn_outflow": True, "outflow_share_6m": 0.33},
            {"warn_outflow": True, "outflow_share_6m": 0.64},
            {"warn_outflow": True, "outflow_share_6m": 0.33},
            {"warn_outflow": True, "outflow_share_6m": np.nan},
        ]
    )
    assert texts(rule_reasons(X, 1)) == [
        ["funds out in 6 months = 33% of assets (warning indicator)"],
        ["funds out in 6 months = 64% of assets (warning indicator)"],
        ["funds out in 6 months = 33% of assets (warning indicator)"],
        ["funds out in 6 months = unknown (warning indicator)"],
    ]


flags_and_numbers = st.fixed_dictionaries(
    {
        "warn_outflow": st.booleans(),
        "warn_commission_drop": st.booleans(),
        "warn_complaint": st.booleans(),
        "outflow_share_6m": st.floats(0, 2),
        "commission_vs_prev": st.floats(0, 3),
        "total_assets": st.floats(0, 1e7),
        "age_years": st.floats(18, 99),
    }
)


@given(
    st.lists(flags_and_numbers, min_size=1, max_size=5),
    st.data(),
    st.integers(1, 3),
)
def test_reasons_are_positive_drivers_or_fired_rules_each_said_once(rows, data, n):
    X = frame(rows)
    C = np.array(
        [
            data.draw(
                st.lists(st.floats(-1, 1), min_size=len(FEATURES) + 1, max_size=len(FEATURES) + 1)
            )
            for _ in rows
        ]
    )
    for row, reasons in enumerate(model_reasons(X, C, FEATURES, n)):
        assert len(reasons) <= n
        drivers = [d for r in reasons for d in r.drivers]
        assert len(drivers) == len(set(drivers))  # no driver said twice
        for reason in reasons:
            flag = next((d for d in reason.drivers if d in RULE_FLAGS), None)
            if flag is not None:
                assert X.loc[row, flag]  # only fired flags are said
                assert reason.text.endswith("(warning indicator)")
            else:
                (feature,) = reason.drivers
                assert C[row, FEATURES.index(feature)] > 0
