"""Advisors' call lists: capacity, order, the control group kept off, pages that hold every row."""

from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from pipeline.retention.calllists import (
    POOL,
    UNASSIGNED_BRANCH,
    expected_saved_value,
    select_calls,
)
from pipeline.retention.pages import file_stem, write_call_lists


def _scores(n=40, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "customer_id": [f"C{i:03d}" for i in range(n)],
            "branch": rng.choice(["north", "south", None], n),
            "advisor_id": rng.choice(["a1", "a2", "a3", None], n),
            "churn_probability": rng.uniform(0, 1, n),
            "risk_band": "high",
            "reason_1": [f"reason one of {i}" for i in range(n)],
            "reason_2": [None if i % 3 else f"reason <two> & {i}" for i in range(n)],
            "likely_cause": rng.choice(["service", "commission"], n),
            "retention_play": "Call & listen",
            "value_at_risk": rng.uniform(0, 5000, n),
        }
    )
    rate, saved = expected_saved_value(
        frame["value_at_risk"], frame["likely_cause"], {"service": 0.3, "commission": 0.1}, 50.0
    )
    return frame.assign(save_rate=rate, expected_saved_value=saved)


def test_expected_saved_value_by_hand():
    rate, saved = expected_saved_value(
        np.array([1000.0, 200.0]), ["a", "b"], {"a": 0.2, "b": 0.5}, 30
    )
    assert rate.tolist() == [0.2, 0.5]
    assert saved.tolist() == [170.0, 70.0]


def test_each_list_respects_the_capacity_and_is_best_first():
    scores = _scores()
    lists = select_calls(scores, calls_per_advisor=3, control=np.zeros(len(scores), bool))
    for calls in lists:
        assert len(calls.accounts) <= 3
        saved = calls.accounts["expected_saved_value"].to_numpy()
        assert np.all(np.diff(saved) <= 0) and np.all(saved > 0)
    # No account is on two lists.
    listed = pd.concat([c.accounts["customer_id"] for c in lists])
    assert listed.is_unique


def test_the_best_accounts_of_each_advisor_are_the_ones_listed():
    scores = _scores()
    lists = select_calls(scores, calls_per_advisor=2, control=np.zeros(len(scores), bool))
    north_a1 = next(c for c in lists if (c.branch, c.advisor) == ("north", "a1"))
    mine = scores[(scores["branch"] == "north") & (scores["advisor_id"] == "a1")]
    best = mine.nlargest(2, "expected_saved_value")["customer_id"].tolist()
    assert north_a1.accounts["customer_id"].tolist() == best


def test_accounts_without_advisor_or_branch_go_to_a_pool_and_the_unassigned_branch():
    scores = _scores()
    lists = select_calls(scores, calls_per_advisor=50, control=np.zeros(len(scores), bool))
    owners = {(c.branch, c.advisor) for c in lists}
    assert (UNASSIGNED_BRANCH, POOL) in owners or scores["branch"].notna().all()
    in_pools = sum(len(c.accounts) for c in lists if c.advisor == POOL)
    expected = int(((scores["advisor_id"].isna()) & (scores["expected_saved_value"] > 0)).sum())
    assert in_pools == expected


def test_control_accounts_are_selected_like_the_others_but_never_listed():
    scores = _scores()
    control = scores["customer_id"].isin(["C001", "C002", "C003", "C010"]).to_numpy()
    without = select_calls(scores, calls_per_advisor=3, control=np.zeros(len(scores), bool))
    lists = select_calls(scores, calls_per_advisor=3, control=control)
    listed = set(pd.concat([c.accounts["customer_id"] for c in lists]))
    assert not listed & {"C001", "C002", "C003", "C010"}
    selected = set(pd.concat([c.accounts["customer_id"] for c in without]))
    # Held back: the control accounts the selection would have listed, and no one else.
    held = set(pd.concat([c.held["customer_id"] for c in lists]))
    assert held == selected & {"C001", "C002", "C003", "C010"}
    assert listed == selected - {"C001", "C002", "C003", "C010"}


class _Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self._row, self._in_cell = [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._in_cell = True
            self._row.append("")

    def handle_endtag(self, tag):
        if tag == "tr":
            self.rows.append(self._row)
        elif tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data):
        if self._in_cell:
            self._row[-1] += data


def test_every_account_of_a_csv_is_on_its_html_page(tmp_path):
    scores = _scores(n=120, seed=3)
    lists = select_calls(scores, calls_per_advisor=10, control=np.zeros(len(scores), bool))
    written = write_call_lists(lists, tmp_path, as_of="2023-06-30", unit="CNY")
    csvs = [p for p in written if p.suffix == ".csv" and p.name != "control_group.csv"]
    assert len(csvs) == len(lists) and csvs
    for path in csvs:
        table = pd.read_csv(path)
        parser = _Cells()
        parser.feed(path.with_suffix(".html").read_text(encoding="utf-8"))
        body = parser.rows[1:]
        assert [row[1] for row in body] == table["customer_id"].tolist()
        # Reasons with markup characters arrive as text, not as tags.
        assert [row[4] for row in body] == table["reasons"].fillna("").tolist()
    assert pd.read_csv(tmp_path / "control_group.csv").empty
    index = (tmp_path / file_stem("north") / "index.html").read_text(encoding="utf-8")
    assert 'href="' + file_stem("a1") + '.html"' in index


@pytest.mark.parametrize("raw", ["../../etc/passwd", "a/b", "客户经理 7", "", "CON", "x" * 300])
def test_file_names_cannot_escape_their_folder_or_collide(raw):
    stem = file_stem(raw)
    assert "/" not in stem and ".." not in stem and len(stem) <= 69
    assert stem != file_stem(raw + " ")
