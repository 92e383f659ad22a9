"""Invariants on random small books (hypothesis): no leakage, order-free, chunk-free, pure.

Every registered feature is in the frames compared, the day-level recency and
BTYD signals (features/recency.py) included; trades fall at any time of any day.
Amounts are multiples of 1/4, so sums are exact in any order and results can be
compared bit for bit (with arbitrary floats only the last bit could differ when
row order changes, as floating-point addition is not associative).
"""

import copy
import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.builder.build import build_feature_matrix
from features.builder.registry import model_feature_columns
from pipeline.core.params import Params
from pipeline.data.loader import tables_from_frames

T = pd.Timestamp("2023-06-30")
AS_OF = [pd.Timestamp("2023-03-31"), T]
FIRST, LAST = pd.Timestamp("2022-01-01"), pd.Timestamp("2023-12-31")
MONEY = st.sampled_from([0.25, 1.0, 2.5, 100.0, 1000.0, 250_000.0])
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def _day(draw, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.Timestamp:
    days = draw(st.integers(0, max(0, (hi - lo).days)))
    seconds = draw(st.sampled_from([0, 0, 36_000, 86_399]))  # midnight, 10:00, 23:59:59
    return lo + pd.Timedelta(days=days, seconds=seconds)


@st.composite
def books(draw) -> dict[str, pd.DataFrame]:
    n = draw(st.integers(1, 5))
    people, rows = [], {"trades": [], "transfers": [], "balances": [], "events": []}
    for i in range(n):
        opened = draw(_day(FIRST, pd.Timestamp("2023-08-31"))).normalize()
        closed = draw(st.none() | _day(opened, LAST + pd.Timedelta(days=60)))
        closed = None if closed is None else closed.normalize()
        people.append((f"c{i}", opened, closed, draw(st.sampled_from(["online", "onsite", None]))))
        end = min(LAST, closed) if closed is not None else LAST
        for _ in range(draw(st.integers(0, 12))):
            kind = draw(st.sampled_from(["stock", "fund", "bond", "other", None]))
            amount = draw(MONEY)
            fee = min(draw(st.sampled_from([0.0, 0.25, 1.0])), amount)  # never above the trade
            rows["trades"].append((f"c{i}", draw(_day(opened, end)), amount, fee, kind))
        for _ in range(draw(st.integers(0, 6))):
            way = draw(st.sampled_from(["in", "out"]))
            rows["transfers"].append((f"c{i}", draw(_day(opened, end)), way, draw(MONEY)))
        for _ in range(draw(st.integers(0, 5))):
            event = draw(st.sampled_from(["complaint", "fee_cut_request", "contact"]))
            rows["events"].append((f"c{i}", draw(_day(opened, end)), event))
        month_ends = pd.date_range(opened, end, freq="ME")
        for month_end in (
            draw(st.sets(st.sampled_from(list(month_ends)))) if len(month_ends) else []
        ):
            rows["balances"].append(
                (f"c{i}", month_end, draw(MONEY), draw(st.sampled_from([0.0, 5.0])))
            )
    if not rows["trades"]:
        rows["trades"].append(("c0", people[0][1], 1.0, 0.0, None))
    return _frames(people, rows)


def _frames(people, rows) -> dict[str, pd.DataFrame]:
    columns = {
        "trades": ["customer_id", "trade_date", "amount", "commission", "security_type"],
        "transfers": ["customer_id", "transfer_date", "direction", "amount"],
        "balances": ["customer_id", "month_end", "cash", "market_value"],
        "events": ["customer_id", "event_date", "event_type"],
    }
    frames = {
        "customers": pd.DataFrame(
            people, columns=["customer_id", "open_date", "closed_date", "channel"]
        )
    }
    for name, names in columns.items():
        frames[name] = pd.DataFrame(rows[name], columns=names)
        if name != "trades":
            frames[name][names[1]] = pd.to_datetime(frames[name][names[1]])
    frames["trades"]["trade_date"] = pd.to_datetime(frames["trades"]["trade_date"])
    return frames


def _build(frames, chunk: int = 62_500, as_of=AS_OF) -> pd.DataFrame:
    params = Params()
    params.features.chunk_customers = chunk
    # The export's end is fixed: inferring it from a handful of random rows would make
    # a sparse month look like stray activity, which is the loader's business, not the
    # builder's cut-off at the as-of date that these properties are about.
    params.data.observation_end = str(LAST.date())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_feature_matrix(tables_from_frames(frames, params).tables, as_of, params)


@st.composite
def late_rows(draw, frames) -> dict[str, pd.DataFrame]:
    """Rows dated after T for customers still open then (valid under the contract)."""
    open_after = frames["customers"][
        frames["customers"]["closed_date"].isna() & (frames["customers"]["open_date"] <= T)
    ]
    if open_after.empty:
        return {}
    who = st.sampled_from(open_after["customer_id"].tolist())
    after = _day(T + pd.Timedelta(days=1), LAST)
    amounts = [draw(MONEY) for _ in range(draw(st.integers(1, 4)))]
    trades = [(draw(who), draw(after), amount, min(1.0, amount), "stock") for amount in amounts]
    moves = [(draw(who), draw(after), "out", draw(MONEY)) for _ in range(draw(st.integers(0, 3)))]
    calls = [(draw(who), draw(after), "complaint") for _ in range(draw(st.integers(0, 2)))]
    extra = _frames([], {"trades": trades, "transfers": moves, "balances": [], "events": calls})
    return {name: frame for name, frame in extra.items() if name != "customers"}


@SETTINGS
@given(data=st.data())
def test_rows_after_the_as_of_date_change_nothing_at_it(data):
    frames = data.draw(books())
    extra = data.draw(late_rows(frames))
    more = {
        name: pd.concat([frame, extra[name]], ignore_index=True) if name in extra else frame
        for name, frame in frames.items()
    }
    before, after = _build(frames), _build(more)
    pd.testing.assert_frame_equal(
        after[after.as_of <= T].reset_index(drop=True), before[before.as_of <= T]
    )


@SETTINGS
@given(frames=books())
def test_an_earlier_as_of_never_sees_the_months_after_it(frames):
    # With T requested too, rows of Apr..Jun reach the panel; March must not read them.
    march = AS_OF[0]
    alone = _build(frames, as_of=[march])
    together = _build(frames)
    pd.testing.assert_frame_equal(together[together.as_of == march], alone)


@SETTINGS
@given(frames=books(), seed=st.integers(0, 2**16))
def test_row_order_changes_nothing(frames, seed):
    rng = np.random.default_rng(seed)
    shuffled = {
        name: frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
        for name, frame in frames.items()
    }
    pd.testing.assert_frame_equal(_build(shuffled), _build(frames))


@SETTINGS
@given(frames=books(), chunk=st.integers(1, 3))
def test_chunked_equals_unchunked(frames, chunk):
    pd.testing.assert_frame_equal(_build(frames, chunk=chunk), _build(frames))


@SETTINGS
@given(frames=books())
def test_the_compared_frames_hold_every_feature(frames):
    built = _build(frames)
    assert list(built.columns) == ["customer_id", "as_of", *model_feature_columns()]


@SETTINGS
@given(frames=books())
def test_inputs_are_not_mutated(frames):
    tables = tables_from_frames(frames).tables
    kept = {
        name: copy.deepcopy(tables.table(name))
        for name in ("customers", "trades", "transfers", "balances", "events")
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        build_feature_matrix(tables, AS_OF, Params())
    for name, frame in kept.items():
        pd.testing.assert_frame_equal(tables.table(name), frame)
