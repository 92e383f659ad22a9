"""The measured effect of a play, checked against hand-computed and published figures."""

import numpy as np
import pandas as pd
import pytest

from pipeline.retention.effect import (
    OVERALL,
    experiment_units,
    list_month,
    measured_effects,
    newcombe_interval,
    save_rates,
    wilson_interval,
)


def test_wilson_interval_of_zero_in_ten():
    # centre = (0 + z^2/20) / (1 + z^2/10); half = z/(1 + z^2/10) * sqrt(z^2/400), z = 1.96.
    low, high = wilson_interval(0, 10, 1.959964)
    assert low == pytest.approx(0.0, abs=1e-9)
    assert high == pytest.approx(0.27753, abs=1e-4)


def test_newcombe_interval_matches_the_published_example():
    # Newcombe (1998), Statistics in Medicine 17, table II, example (a): 56/70 - 48/80,
    # method 10 (score interval, hybrid): 0.0524 to 0.3339.
    low, high = newcombe_interval(56, 70, 48, 80, confidence=0.95)
    assert (low, high) == pytest.approx((0.0524, 0.3339), abs=2e-4)


def test_newcombe_interval_without_accounts_is_unknown():
    assert all(np.isnan(newcombe_interval(0, 0, 3, 10, 0.95)))


def test_an_action_belongs_to_the_list_of_the_month_end_before_it():
    dates = pd.Series(pd.to_datetime(["2023-07-01 00:00", "2023-07-31 18:00", "2023-08-01 00:00"]))
    assert list(list_month(dates)) == list(
        pd.to_datetime(["2023-06-30", "2023-06-30", "2023-07-31"])
    )


def _actions(rows):
    return pd.DataFrame(rows, columns=["customer_id", "action_date", "play", "control"]).assign(
        action_date=lambda f: pd.to_datetime(f["action_date"])
    )


def test_an_account_counts_once_at_its_first_list_and_a_called_control_as_contacted():
    actions = _actions(
        [
            ("A", "2023-07-03", "service", False),
            ("A", "2023-07-20", "service", False),  # a second call on the same list
            ("B", "2023-07-05", "commission", True),
            ("C", "2023-07-05", "commission", True),
            ("C", "2023-07-09", "commission", False),  # control called anyway
            ("A", "2023-08-02", "big_loss", True),  # a later list: A counts at its first
            ("D", "2023-08-03", "other", False),  # first listed in August
        ]
    )
    units = experiment_units(actions)
    assert units[["customer_id", "play", "control", "control_breached"]].values.tolist() == [
        ["A", "service", False, False],
        ["B", "commission", True, False],
        ["C", "commission", False, True],
        ["D", "other", False, False],
    ]
    assert list(units["as_of"].dt.strftime("%Y-%m-%d")) == ["2023-06-30"] * 3 + ["2023-07-31"]


def test_effect_per_play_and_overall_by_hand():
    # service: control 2 of 4 churned, contacted 1 of 4 -> effect 0.25, relative 0.5.
    # commission: control 1 of 2, contacted 1 of 2 -> effect 0.
    units = pd.DataFrame(
        {
            "play": ["service"] * 8 + ["commission"] * 4,
            "control": [True] * 4 + [False] * 4 + [True, True, False, False],
            "label": [1, 1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0],
            "control_breached": [False] * 12,
        }
    )
    effects = measured_effects(units, confidence=0.95).set_index("play")
    assert effects.loc["service", ["contacted", "control"]].tolist() == [4, 4]
    assert effects.loc["service", "effect"] == pytest.approx(0.25)
    assert effects.loc["service", "relative_effect"] == pytest.approx(0.5)
    assert effects.loc["commission", "effect"] == pytest.approx(0.0)
    # Overall: control 3/6 = 0.5, contacted 2/6 -> 1/6.
    assert effects.loc[OVERALL, "effect"] == pytest.approx(0.5 - 2 / 6)
    low, high = effects.loc["service", ["effect_low", "effect_high"]]
    assert low < 0.25 < high and low >= -1 and high <= 1


def test_save_rates_shrink_a_small_measurement_towards_the_prior():
    effects = pd.DataFrame({"play": ["service"], "control": [10], "relative_effect": [0.5]})
    rates = save_rates(effects, ["service", "commission"], prior=0.1, prior_accounts=30)
    # (10 * 0.5 + 30 * 0.1) / 40 = 0.2; commission never measured -> prior.
    assert rates == {"service": pytest.approx(0.2), "commission": pytest.approx(0.1)}


def test_the_simulators_true_effect_counts_each_account_once_at_its_first_list():
    from pipeline.demo.book import NEVER
    from pipeline.demo.desk import DeskRecord, true_effects

    record = DeskRecord()
    # List month 10: accounts 1 and 2 called; 1 saved from a close in month 12 (in the
    # window 11..13). List month 11: 1 again (not saved again), 3 saved from month 16
    # (outside its window 12..14).
    record.list_month += [10, 11]
    record.accounts += [np.array([1, 2]), np.array([1, 3])]
    record.plays += [np.array(["service", "commission"]), np.array(["big_loss", "service"])]
    record.saved_close_month += [np.array([12, NEVER]), np.array([NEVER, 16])]
    truth = true_effects(record, horizon_months=3)
    assert truth["service"] == (0.5, 2)  # 1 prevented, 3 not (its close was too late)
    assert truth["commission"] == (0.0, 1)
    assert "big_loss" not in truth  # account 1 counts at its first list, as service
    assert truth["all plays"] == (pytest.approx(1 / 3), 3)
