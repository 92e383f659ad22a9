"""The qualitative indicators on hand-written customers (as-of 2023-06-30).

Complaint and fee-cut request: one this month (June) or last (May). Contact drop:
June's or May's contacts (or both) below the mean monthly contacts of Feb..Apr
(the guideline's 当月或上月沟通频率低于前3个月平均频率).
"""

import math

import pytest
from feature_fixtures import build, customers, events, load, row


def _contacts(customer: str, counts: dict[str, int]) -> list[tuple]:
    return [
        (customer, f"{month}-{day + 1:02d} 10:00:00", "contact")
        for month, count in counts.items()
        for day in range(count)
    ]


@pytest.fixture(scope="module")
def matrix():
    rows = [
        ("complained_may", "2023-05-31 23:59:00", "complaint"),
        ("complained_april", "2023-04-30", "complaint"),
        ("complained_june", "2023-06-30 18:00:00", "complaint"),  # on T: counts
        ("complains_july", "2023-07-01", "complaint"),  # after T: never seen at T
        ("asked_may", "2023-05-02", "fee_cut_request"),
        ("asked_april", "2023-04-02", "fee_cut_request"),
    ]
    plans = {
        # Feb..Apr mean 2 a month
        "dropped": {"2023-02": 2, "2023-03": 2, "2023-04": 2, "2023-05": 1, "2023-06": 1},
        "at": {"2023-02": 2, "2023-03": 2, "2023-04": 2, "2023-05": 2, "2023-06": 1},  # May 2 = 2
        "only_this_month": {"2023-02": 2, "2023-03": 2, "2023-04": 2, "2023-05": 3},  # June 0
        "only_last_month": {"2023-02": 2, "2023-03": 2, "2023-04": 2, "2023-05": 1, "2023-06": 4},
        "both_at": {"2023-02": 2, "2023-03": 2, "2023-04": 2, "2023-05": 2, "2023-06": 2},
        "both_over": {"2023-02": 1, "2023-03": 2, "2023-04": 3, "2023-05": 3, "2023-06": 5},
        "never": {"2023-06": 1},
    }
    rows += [r for customer, plan in plans.items() for r in _contacts(customer, plan)]
    ids = sorted({r[0] for r in rows})
    return build(load(customers=customers(*ids), events=events(rows)))


@pytest.mark.parametrize(
    ("customer", "flag", "count"),
    [
        ("complained_may", True, 1),
        ("complained_april", False, 0),
        ("complained_june", True, 1),
        ("complains_july", False, 0),
    ],
)
def test_complaint_this_or_last_month(matrix, customer, flag, count):
    got = row(matrix, customer)
    assert bool(got["warn_complaint"]) is flag
    assert got["complaints_2m"] == count


@pytest.mark.parametrize(("customer", "flag"), [("asked_may", True), ("asked_april", False)])
def test_fee_cut_request_this_or_last_month(matrix, customer, flag):
    got = row(matrix, customer)
    assert bool(got["warn_fee_cut_request"]) is flag
    assert got["fee_cut_requests_12m"] == 1


@pytest.mark.parametrize(
    ("customer", "flag", "measure"),
    [
        ("dropped", True, 0.5),  # min(1, 1) / 2: both months below
        ("at", True, 0.5),  # min(2, 1) / 2: June below, May at the average
        ("only_this_month", True, 0.0),  # min(0, 3) / 2: no contact in June
        ("only_last_month", True, 0.5),  # min(4, 1) / 2: May below, June above
        ("both_at", False, 1.0),  # min(2, 2) / 2: at the average is not below it
        ("both_over", False, 1.5),  # min(5, 3) / mean(1, 2, 3)
    ],
)
def test_contacts_this_or_last_month_below_the_previous_average(matrix, customer, flag, measure):
    got = row(matrix, customer)
    assert bool(got["warn_contact_drop"]) is flag
    assert got["contacts_recent_vs_prev3m"] == pytest.approx(measure)


def test_no_contacts_before_means_no_drop(matrix):
    got = row(matrix, "never")
    assert math.isnan(got["contacts_recent_vs_prev3m"])
    assert bool(got["warn_contact_drop"]) is False
    assert got["months_since_last_contact"] == 0
    assert got["contacts_3m"] == 1


def test_first_month_account_counts_its_one_month():
    people = customers("new", opened="2023-06-05")
    tables = load(customers=people, events=events([("new", "2023-06-20", "complaint")]))
    got = row(build(tables), "new")
    assert got["complaints_2m"] == 1  # June is its whole 2-month window
    assert bool(got["warn_complaint"]) is True
    assert math.isnan(got["contacts_recent_vs_prev3m"])  # no month of Apr..May to compare with


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_missing_events_table_warns_naming_it():
    tables = load(customers=customers("x"))
    with pytest.warns(UserWarning, match="'events' is missing.*warn_complaint"):
        got = row(build(tables, quiet=False), "x")
    for flag in ("warn_complaint", "warn_fee_cut_request", "warn_contact_drop"):
        assert bool(got[flag]) is False
    assert math.isnan(got["complaints_12m"])
