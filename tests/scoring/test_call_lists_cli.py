"""`churn score` cuts the advisors' call lists and keeps the control group off them (real CLI)."""

from __future__ import annotations

import pandas as pd
import pytest
from scoring_fixtures import churn_score


@pytest.fixture(scope="module")
def scored(demo_data, model_folder, tmp_path_factory):
    root = tmp_path_factory.mktemp("lists")
    out, csv = root / "scores.parquet", root / "scores.csv"
    tracking = f"sqlite:///{root / 'mlflow.db'}"
    settings = ["retention.contact_cost=0.01", "retention.calls_per_advisor=5"]
    result = churn_score(demo_data, out, model_folder, tracking, *settings, csv=csv)
    assert result.exit_code == 0, result.output
    return out, csv, root / "scores_call_lists", result.output


def _lists(folder):
    paths = [p for p in folder.rglob("*.csv") if p.parent != folder]
    return {p: pd.read_csv(p) for p in paths}


def test_the_control_marker_travels_in_the_scores_and_the_csv(scored):
    out, csv, _, _ = scored
    scores, exported = pd.read_parquet(out), pd.read_csv(csv)
    share = scores["control_group"].mean()
    n = len(scores)
    assert abs(share - 0.10) < 5 * (0.1 * 0.9 / n) ** 0.5  # binomial, 5 sd
    merged = scores.merge(exported, on="customer_id", suffixes=("", "_csv"))
    assert (merged["control_group"] == merged["control_group_csv"]).all()


def test_each_list_respects_the_advisors_capacity_and_holds_no_control_account(scored):
    out, _, folder, output = scored
    scores = pd.read_parquet(out).set_index("customer_id")
    lists = _lists(folder)
    assert lists, output
    for path, frame in lists.items():
        assert len(frame) <= 5, path
        assert not scores.loc[frame["customer_id"], "control_group"].any(), path
        # Every account on a call list has at least one reason to call about.
        assert frame["reasons"].notna().all() and (frame["reasons"].str.len() > 0).all(), path
        assert frame["expected_saved_value"].is_monotonic_decreasing, path
    held = pd.read_csv(folder / "control_group.csv")
    assert scores.loc[held["customer_id"], "control_group"].all()
    listed = pd.concat(lists.values())["customer_id"]
    assert listed.is_unique and not set(listed) & set(held["customer_id"])
    assert "call lists:" in " ".join(output.split())


def test_an_advisors_list_holds_only_the_advisors_accounts(scored):
    out, _, folder, _ = scored
    scores = pd.read_parquet(out).set_index("customer_id")
    advisors = scores["advisor_id"].dropna().unique()
    assert len(advisors) > 3
    for path, frame in _lists(folder).items():
        owners = scores.loc[frame["customer_id"], "advisor_id"]
        if path.stem.startswith("_branch_pool_"):
            assert owners.isna().all(), path
        else:
            assert owners.nunique() == 1 and path.stem.startswith(owners.iloc[0]), path


def test_the_control_group_is_the_same_on_a_rerun(scored, demo_data, model_folder, tmp_path):
    out, _, _, _ = scored
    again = tmp_path / "again.parquet"
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = churn_score(demo_data, again, model_folder, tracking, "retention.contact_cost=0.01")
    assert result.exit_code == 0, result.output
    first = pd.read_parquet(out, columns=["customer_id", "control_group"])
    second = pd.read_parquet(again, columns=["customer_id", "control_group"])
    pd.testing.assert_frame_equal(first, second)
