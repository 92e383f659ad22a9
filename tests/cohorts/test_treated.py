"""Contacted account-months: found by hand-placed actions, left out of training by policy."""

import pandas as pd

from pipeline.cohorts.cohorts import labelled_matrix
from pipeline.cohorts.labels import make_labels
from pipeline.cohorts.treated import TREATED, treated_account_months
from pipeline.core.params import LabelParams, Params
from pipeline.data.loader import tables_from_frames

MONTHS = list(pd.to_datetime(["2023-03-31", "2023-04-30", "2023-05-31", "2023-06-30"]))


def _tables(actions):
    frames = {
        "customers": pd.DataFrame(
            {
                "customer_id": ["a", "b", "c"],
                "open_date": ["2022-01-01"] * 3,
                "closed_date": [None, None, None],
            }
        ),
        "trades": pd.DataFrame(
            {
                "customer_id": ["a", "b", "c"] * 4,
                "trade_date": [f"2023-{m:02d}-10" for m in (6, 7, 8, 9) for _ in range(3)],
                "amount": [100.0] * 12,
                "commission": [1.0] * 12,
            }
        ),
        "retention_actions": pd.DataFrame(actions),
    }
    return tables_from_frames(frames, Params()).tables


def test_an_action_treats_exactly_the_months_whose_window_holds_it():
    # H = 2: an action on 2023-06-15 lies in (T, T+2] for T = April and May only.
    # b's call on 2023-05-01 is a control: nothing is treated. c is never contacted.
    tables = _tables(
        {
            "customer_id": ["a", "b"],
            "action_date": ["2023-06-15 09:30", "2023-05-01"],
            "play": ["service", "commission"],
            "control": [False, True],
        }
    )
    label = LabelParams(definition="dormancy", horizon_months=2)
    labels = make_labels(tables, MONTHS[:2] + MONTHS[2:3], label)
    treated = treated_account_months(tables, labels, label.horizon_months)
    marked = set(map(tuple, labels.loc[treated, ["customer_id", "as_of"]].astype(str).values))
    assert marked == {("a", "2023-04-30"), ("a", "2023-05-31")}


def test_the_exclude_policy_leaves_treated_rows_out_and_counts_them():
    features = pd.DataFrame({"customer_id": ["a", "b", "c"], "as_of": MONTHS[0], "x": [1, 2, 3]})
    labels = features[["customer_id", "as_of"]].assign(
        label=[1, 0, 1], **{TREATED: [True, False, False]}
    )
    out = labelled_matrix(features, labels, exclude_treated=True)
    assert out["customer_id"].tolist() == ["b", "c"] and TREATED not in out
    assert out.attrs["treated_rows"] == 1
    kept = labelled_matrix(features, labels, exclude_treated=False)
    assert kept["customer_id"].tolist() == ["a", "b", "c"] and TREATED not in kept
    assert kept.attrs["treated_rows"] == 0
