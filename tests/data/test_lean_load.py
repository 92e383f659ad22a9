"""The load holds each value once: typed columns share the columns as read, ids become codes.

Each test states a value that a copy, a join of chunks or a slice boundary would change,
and the rows and reasons the contract promises, computed by hand.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from validation_fixtures import LENIENT, frames

from pipeline.core.contract import SCHEMAS
from pipeline.data import checks, coercion, observation, validation
from pipeline.data.arrow_frames import concat_pieces
from pipeline.data.loader import load_tables
from pipeline.data.observation import activity_months
from pipeline.data.quarantine import RowProblems
from pipeline.data.reader import read_table_file
from pipeline.engine.local import LocalEngine


def write_tables(folder, tables: dict[str, pa.Table]) -> None:
    folder.mkdir()
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")


def arrow_tables() -> dict[str, pa.Table]:
    return {name: pa.Table.from_pandas(f, preserve_index=False) for name, f in frames().items()}


def with_dates(table: pa.Table, column: str, days: list[int]) -> pa.Table:
    at = table.schema.get_field_index(column)
    return table.set_column(at, column, pa.array(days, pa.date32()))


def test_parquet_dates_are_read_as_the_microsecond_dates_coercion_keeps(tmp_path):
    tables = arrow_tables()
    tables["trades"] = with_dates(tables["trades"], "trade_date", [19367, 19523, 19450, 19569])
    write_tables(tmp_path / "data", tables)
    raw = read_table_file("trades", tmp_path / "data" / "trades.parquet")
    assert raw["trade_date"].dtype == "datetime64[us]"
    assert raw["trade_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2023-01-10",
        "2023-06-15",
        "2023-04-03",
        "2023-07-31",
    ]
    typed, problems = coercion.coerce_table("trades", raw, SCHEMAS["trades"])
    for column in ("trade_date", "amount", "commission"):  # nothing to change: not copied
        assert np.shares_memory(typed[column].to_numpy(), raw[column].to_numpy()), column
    assert problems.counts() == {}
    customers = read_table_file("customers", tmp_path / "data" / "customers.parquet")
    typed, _ = coercion.coerce_table("customers", customers, SCHEMAS["customers"])
    assert np.shares_memory(typed["open_date"].to_numpy(), customers["open_date"].to_numpy())


def test_a_column_with_a_fault_is_typed_in_a_copy_and_the_read_values_kept():
    trades = frames()["trades"].assign(amount=[1000.0, np.inf, 20.0, 30.0])
    typed, problems = coercion.coerce_table("trades", trades, SCHEMAS["trades"])
    assert typed["amount"].isna().tolist() == [False, True, False, False]
    assert trades["amount"].tolist()[1] == np.inf
    assert problems.counts() == {"amount: not a number": 1}
    balances = frames()["balances"]
    balances["month_end"] = pd.Series(
        pd.to_datetime(
            ["2023-01-31 18:00", "2023-02-28", "2023-05-31", "2023-03-31"], format="ISO8601"
        ),
        dtype="datetime64[us]",
    )
    typed, _ = coercion.coerce_table("balances", balances, SCHEMAS["balances"])
    assert typed["month_end"].dt.strftime("%d %H:%M").tolist()[0] == "31 00:00"  # a date
    assert balances["month_end"].dt.strftime("%H:%M").tolist()[0] == "18:00"  # as read
    assert not np.shares_memory(typed["month_end"].to_numpy(), balances["month_end"].to_numpy())


def test_missing_dates_alone_are_not_a_time_of_day():
    dates = pd.Series(pd.to_datetime(["2023-01-10", None, "2023-02-01"]), dtype="datetime64[us]")
    assert not coercion._has_time_of_day(dates)
    assert coercion._has_time_of_day(dates.fillna(pd.Timestamp("2023-01-01 00:00:01")))


SECONDS_PER_DAY = 86_400


@pytest.mark.parametrize(
    ("arrow_type", "per_day"),
    [
        (pa.date32(), 1),
        (pa.timestamp("s"), SECONDS_PER_DAY),
        (pa.timestamp("ms", tz="+08:00"), 1000 * SECONDS_PER_DAY),
    ],
)
def test_a_date_beyond_the_microsecond_range_is_a_row_outside_1900_2199(
    tmp_path, arrow_type, per_day
):
    tables = arrow_tables()
    # Day 2**31 - 1 is in year 5,881,580 and -2**31 before year -5,877,000: Parquet holds
    # them, datetime64[us] cannot (it ends in the year 294,247).
    days = [19367, 2**31 - 1, 19450, -(2**31)]
    at = tables["trades"].schema.get_field_index("trade_date")
    stamps = pa.array([day * per_day for day in days], arrow_type)
    tables["trades"] = tables["trades"].set_column(at, "trade_date", stamps)
    write_tables(tmp_path / "data", tables)
    loaded = load_tables(tmp_path / "data", LENIENT, tmp_path / "rejected")
    report = loaded.report.tables["trades"]
    assert report.rejected_by_rule == {"trade_date: outside 1900-2199": 2}
    quarantined = pd.read_parquet(tmp_path / "rejected" / "trades.parquet")
    assert quarantined["source_row"].tolist() == [1, 3]
    assert loaded.tables.trades["trade_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2023-01-10",
        "2023-04-03",
    ]


def test_ids_become_codes_that_are_the_customer_positions():
    spine = pd.Series(["C1", "C2", "C3"], dtype="str")
    ids = pd.Series(["C3", "C9", None, "C1", "C9", "C7"], dtype="str")
    positions = validation.customer_positions(ids, spine)
    assert positions.tolist() == [2, -1, -1, 0, -1, -1]
    codes = checks._ids_as_codes(ids, positions, pd.CategoricalDtype(pd.Index(spine)))
    assert codes.tolist()[:2] == ["C3", "C9"] and pd.isna(codes[2])
    assert codes.tolist()[3:] == ["C1", "C9", "C7"]
    assert codes.cat.categories.tolist() == ["C1", "C2", "C3", "C9", "C7"]
    assert codes.cat.codes.tolist() == [2, 3, -1, 0, 3, 4]


def test_ids_all_known_share_the_positions_array():
    # Beyond 32,767 customers the codes are int32, the positions' type: one array for both.
    spine = pd.Series([f"C{i:05d}" for i in range(40_000)], dtype="str")
    ids = pd.Series(["C00002", "C39999", "C00002"], dtype="str")
    positions = validation.customer_positions(ids, spine)
    codes = checks._ids_as_codes(ids, positions, pd.CategoricalDtype(pd.Index(spine)))
    assert positions.tolist() == [2, 39_999, 2]
    assert np.shares_memory(codes.array.codes, positions)
    assert codes.tolist() == ["C00002", "C39999", "C00002"]


def test_loaded_ids_are_one_array_with_customer_idx(tmp_path):
    tables = arrow_tables()
    ids = [f"C{i:05d}" for i in range(40_000)]
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "open_date": pd.Series([pd.Timestamp("2023-01-01")] * len(ids), dtype="datetime64[us]"),
            "closed_date": pd.Series([pd.NaT] * len(ids), dtype="datetime64[us]"),
        }
    )
    trades = frames()["trades"].assign(customer_id=["C00007", "C39999", "C00007", "C00000"])
    tables |= {"customers": pa.Table.from_pandas(customers), "trades": pa.Table.from_pandas(trades)}
    write_tables(tmp_path / "data", tables)
    trades = load_tables(tmp_path / "data", LENIENT, None).tables.trades
    assert np.shares_memory(trades["customer_id"].array.codes, trades["customer_idx"].to_numpy())
    assert trades["customer_id"].tolist() == ["C00007", "C39999", "C00007", "C00000"]
    assert trades["customer_idx"].tolist() == [7, 39_999, 7, 0]
    with pytest.raises(ValueError, match="read-only"):  # loudly, not into the ids too
        trades.loc[0, "customer_idx"] = 5
    with pytest.raises(ValueError, match="read-only"):
        trades.loc[1, "customer_id"] = "C00001"
    assert trades["customer_id"].tolist() == ["C00007", "C39999", "C00007", "C00000"]
    copied = trades.copy()
    copied.loc[0, "customer_idx"] = 5
    assert copied["customer_id"].tolist()[0] == "C00007"  # the copy's arrays are its own


def test_quarantined_ids_and_text_are_written_as_text_with_no_other_customers(tmp_path):
    tables = frames()
    tables["trades"].loc[3, "customer_id"] = "C9"
    write_tables(tmp_path / "data", {n: pa.Table.from_pandas(f) for n, f in tables.items()})
    load_tables(tmp_path / "data", LENIENT, tmp_path / "rejected")
    schema = pq.read_schema(tmp_path / "rejected" / "trades.parquet")
    for column in ("customer_id", "side"):  # text, not a dictionary of every customer
        assert pa.types.is_large_string(schema.field(column).type), column
    quarantined = pd.read_parquet(tmp_path / "rejected" / "trades.parquet")
    assert quarantined[["customer_id", "side", "source_row"]].values.tolist() == [["C9", "sell", 3]]


def test_activity_dates_checked_a_slice_at_a_time_find_the_same_rows(monkeypatch):
    tables = frames()
    trades = tables["trades"].assign(
        trade_date=pd.Series(
            pd.to_datetime(
                ["2023-06-16", None, "2023-03-14", "2023-07-31 14:00"], format="ISO8601"
            ),
            dtype="datetime64[us]",
        )
    )
    customers = tables["customers"]
    # C2 a day after closing, C3 undated, C3 a day before opening, an unknown customer.
    positions = np.array([1, 2, 2, -1], dtype=np.int32)
    days = validation.open_and_close_days(customers)
    expected = {"trade_date: before open_date": 1, "trade_date: after closed_date": 1}
    for slice_rows in (1, 3, 1 << 20):
        monkeypatch.setattr(validation, "SLICE_ROWS", slice_rows)
        problems = RowProblems(len(trades))
        validation.check_activity_dates(trades, "trade_date", positions, days, problems)
        assert problems.counts() == expected
        assert problems.rejected_rows().tolist() == [0, 2]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-1, 5), st.integers(0, 900), st.booleans()),
        min_size=1,
        max_size=30,
    ),
    st.integers(1, 7),
)
def test_active_months_a_slice_at_a_time_count_only_kept_rows(rows, slice_rows):
    positions = np.array([p for p, _, _ in rows], dtype=np.int32)
    stamps = pd.Timestamp("2020-01-01 08:00") + pd.to_timedelta([d for _, d, _ in rows], "D")
    dates = pd.Series(stamps.where([present for _, _, present in rows]), dtype="datetime64[us]")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(observation, "SLICE_ROWS", slice_rows)
        months = activity_months([(positions, dates)])
    counted = (positions >= 0) & dates.notna().to_numpy()
    kept = pd.DataFrame({"customer": positions[counted], "date": dates[counted]})
    month = kept["date"].dt.year * 12 + kept["date"].dt.month - 1
    expected = kept.assign(month=month).drop_duplicates(["customer", "month"])
    assert months.active == {int(m): int(n) for m, n in expected.groupby("month").size().items()}
    latest = kept["date"].dt.normalize().groupby(month).max()
    assert months.latest_day == {int(m): d for m, d in latest.items()}


def test_arrow_memory_pool_is_the_c_allocator_for_a_whole_load_unless_the_user_chose(tmp_path):
    write_tables(tmp_path / "data", arrow_tables())
    script = textwrap.dedent(
        """
        import sys
        import pyarrow as pa
        from pipeline.core.params import Params
        from pipeline.engine.local import LocalEngine
        engine = LocalEngine(int(sys.argv[2]), None, None, 1)
        engine.load(sys.argv[1], Params.model_validate(
            {"validation": {"max_rejected_share": 1.0}}), None)
        engine.close()
        print(pa.default_memory_pool().backend_name)
        """
    )

    def backend(partitions: int, env: dict[str, str]) -> str:
        command = [sys.executable, "-c", script, str(tmp_path / "data"), str(partitions)]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        return done.stdout.strip().splitlines()[-1]

    plain = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    assert backend(1, plain) == "system"  # the tables whole in this process
    assert backend(1, plain | {"ARROW_DEFAULT_MEMORY_POOL": "mimalloc"}) == "mimalloc"
    assert backend(2, plain) == "mimalloc"  # partitions streamed: Arrow's own pool


def test_pieces_whose_dates_differ_in_unit_are_joined_in_the_coarsest(tmp_path):
    # A table in two files, only the second with a date beyond datetime64[us]: its piece
    # keeps milliseconds, and the partitions' rows join without overflow (was a crash).
    tables = arrow_tables()
    trades = tables.pop("trades")
    at = trades.schema.get_field_index("trade_date")
    first = trades.slice(0, 2).set_column(at, "trade_date", pa.array([19367, 19523], pa.date32()))
    second = trades.slice(2).set_column(at, "trade_date", pa.array([2**31 - 1, 19569], pa.date32()))
    write_tables(tmp_path / "data", tables)
    (tmp_path / "data" / "trades").mkdir()
    pq.write_table(first, tmp_path / "data" / "trades" / "part-0.parquet")
    pq.write_table(second, tmp_path / "data" / "trades" / "part-1.parquet")
    engine = LocalEngine(3, None, None, 1)
    try:
        loaded = engine.load(tmp_path / "data", LENIENT, tmp_path / "rejected")
    finally:
        engine.close()
    assert loaded.report.tables["trades"].rejected_by_rule == {"trade_date: outside 1900-2199": 1}
    quarantined = pd.read_parquet(tmp_path / "rejected" / "trades.parquet")
    assert quarantined["source_row"].tolist() == [2]


def test_a_piece_with_no_text_value_joins_the_others_categories():
    pieces = [
        pd.DataFrame({"close_reason": pd.Categorical(["service", None])}),
        pd.DataFrame({"close_reason": pd.Series([None], dtype="object").astype("category")}),
    ]
    joined = concat_pieces(pieces)
    assert joined["close_reason"].tolist()[0] == "service"
    assert joined["close_reason"].isna().tolist() == [False, True, True]
