"""The demo simulator and `churn generate`: determinism, the data contract, atomic writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.core.contract import SCHEMAS
from pipeline.core.errors import ChurnError
from pipeline.core.params import Params
from pipeline.data.loader import load_tables
from pipeline.demo import TABLES, simulate
from pipeline.demo.summary import yearly_churn_rate
from pipeline.demo.writer import write_tables_atomically
from pipeline.stages.generate import generate_stage

ARROW_KINDS = {
    "id": {pa.string()},
    "string": {pa.string()},
    "date": {pa.date32()},
    "datetime": {pa.date32(), pa.timestamp("us")},
    "float": {pa.float64()},
    "int": {pa.int32(), pa.int64()},
}
ACTIVITY_DATES = {"trades": "trade_date", "transfers": "transfer_date", "events": "event_date"}


def _generate(out: Path, seed: int = 1, fmt: str = "parquet") -> Path:
    return generate_stage(out, customers=300, months=12, seed=seed, start="2022-03", fmt=fmt)


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    return _generate(tmp_path_factory.mktemp("demo") / "data")


@pytest.fixture(scope="module")
def book() -> dict[str, pd.DataFrame]:
    return simulate(3000, 24, seed=5, start="2020-07")


def test_same_seed_writes_the_same_bytes_and_another_seed_does_not(written, tmp_path):
    again = _generate(tmp_path / "again")
    other = _generate(tmp_path / "other", seed=2)
    for table in TABLES:
        name = f"{table}.parquet"
        assert (written / name).read_bytes() == (again / name).read_bytes(), table
        assert (written / name).read_bytes() != (other / name).read_bytes(), table


def test_parquet_files_follow_the_contract_schemas(written):
    for table, schema in ((t, SCHEMAS[t]) for t in TABLES):
        arrow = pq.read_schema(written / f"{table}.parquet")
        assert arrow.names == [c.name for c in schema.columns], table
        for column in schema.columns:
            assert arrow.field(column.name).type in ARROW_KINDS[column.kind], (table, column.name)


def test_written_folder_passes_the_loader_without_rejections(written):
    result = load_tables(written, Params(), rejected_dir=None)
    assert {t.table: t.rows_rejected for t in result.report.tables.values()} == dict.fromkeys(
        TABLES, 0
    )
    # 12 months from March 2022 end in February 2023.
    assert result.tables.observation_end == pd.Timestamp("2023-02-28")


def test_csv_holds_the_same_rows_as_parquet(written, tmp_path):
    csv = _generate(tmp_path / "csv", fmt="csv")
    assert sorted(p.name for p in csv.iterdir()) == sorted(f"{t}.csv" for t in TABLES)
    for table in ("customers", "transfers"):
        from_csv = pd.read_csv(csv / f"{table}.csv")
        from_parquet = pq.read_table(written / f"{table}.parquet").to_pandas()
        assert len(from_csv) == len(from_parquet)
        assert from_csv["customer_id"].tolist() == from_parquet["customer_id"].tolist()
    transfers = pd.read_csv(csv / "transfers.csv")
    # Whole seconds, ISO: "2022-03-01 10:15:42".
    assert transfers["transfer_date"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()


def test_enumerations_and_ranges_hold(book):
    for table, schema in ((t, SCHEMAS[t]) for t in TABLES):
        frame = book[table]
        for column in schema.columns:
            values = frame[column.name]
            assert column.nullable or values.notna().all(), (table, column.name)
            if column.allowed is not None:
                assert set(values.dropna()) <= set(column.allowed), (table, column.name)
    assert (book["trades"]["amount"] > 0).all() and (book["trades"]["commission"] >= 0).all()
    assert (book["transfers"]["amount"] > 0).all()
    assert (book["balances"][["cash", "market_value"]] >= 0).all().all()
    assert set(book["customers"]["channel"]) == {"online", "onsite"}
    # Managed accounts have an advisor of their own branch; the others none.
    customers = book["customers"]
    managed = customers[customers["advisor_id"].notna()]
    assert 0.2 < len(managed) / len(customers) < 1.0
    assert (managed["advisor_id"].str.rsplit("-A", n=1).str[0] == managed["branch"]).all()


def test_customer_ids_are_unique_padded_and_sorted(book):
    ids = book["customers"]["customer_id"]
    assert ids.is_unique and ids.is_monotonic_increasing
    assert ids.iloc[0] == "C0000001" and ids.str.len().nunique() == 1
    for table in ("trades", "transfers", "balances", "events"):
        assert set(book[table]["customer_id"]) <= set(ids), table


def test_close_reason_is_present_exactly_when_closed(book):
    customers = book["customers"]
    assert (customers["closed_date"].notna() == customers["close_reason"].notna()).all()
    assert customers["closed_date"].notna().sum() > 0
    assert (
        customers["closed_date"].dropna() > customers["open_date"][customers["closed_date"].notna()]
    ).all()


def _assert_activity_inside_accounts(tables: dict[str, pd.DataFrame]) -> None:
    customers = tables["customers"].set_index("customer_id")
    for table, column in {**ACTIVITY_DATES, "balances": "month_end"}.items():
        rows = tables[table].join(customers[["open_date", "closed_date"]], on="customer_id")
        day = rows[column].dt.normalize()
        assert (day >= rows["open_date"]).all(), f"{table} before open_date"
        # Activity ends before the closing day; the day itself has none.
        assert (rows["closed_date"].isna() | (day < rows["closed_date"])).all(), table


def _assert_balances_cover_every_open_month_end(tables, start: str, months: int) -> None:
    balances, customers = tables["balances"], tables["customers"]
    assert balances["month_end"].dt.is_month_end.all()
    assert not balances.duplicated(["customer_id", "month_end"]).any()
    month_ends = pd.date_range(
        pd.Period(start, "M").end_time.normalize(), periods=months, freq="ME"
    )
    opened = customers["open_date"].to_numpy()[:, None] <= month_ends.to_numpy()[None, :]
    closed = customers["closed_date"].to_numpy()[:, None] <= month_ends.to_numpy()[None, :]
    expected = (opened & ~closed).sum(axis=1)
    counted = balances.groupby("customer_id").size().reindex(customers["customer_id"]).fillna(0)
    np.testing.assert_array_equal(counted.to_numpy(), expected)


def test_no_activity_outside_the_life_of_the_account(book):
    _assert_activity_inside_accounts(book)
    _assert_balances_cover_every_open_month_end(book, "2020-07", 24)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=st.integers(1, 60),
    months=st.integers(1, 9),
    seed=st.integers(0, 2**32 - 1),
    start=st.sampled_from(["2015-02", "2019-12", "2024-02", "2031-06"]),
)
def test_any_small_book_keeps_the_contract(customers, months, seed, start):
    tables = simulate(customers, months, seed, start)
    assert len(tables["customers"]) == customers
    _assert_activity_inside_accounts(tables)
    _assert_balances_cover_every_open_month_end(tables, start, months)
    last_day = pd.Period(start, "M") + (months - 1)
    for table, column in ACTIVITY_DATES.items():
        assert (tables[table][column] <= last_day.end_time).all(), table


def test_yearly_churn_rate_of_a_hand_written_book():
    customers = pd.DataFrame(
        {
            "open_date": pd.to_datetime(["2020-01-01", "2020-01-01", "2021-01-01", "2021-07-01"]),
            "closed_date": pd.to_datetime([None, "2020-07-01", None, "2021-12-01"]),
        }
    )
    rate = yearly_churn_rate(customers, "2020-01", 24)
    # Open days inside 2020-01-01..2021-12-31: 731 + 182 + 365 + 153 = 1431;
    # two closures over 1431 / 365.25 = 3.918 account-years -> 0.510 a year.
    assert rate.closures == 2
    assert rate.account_years == pytest.approx(1431 / 365.25)
    assert rate.yearly == pytest.approx(2 / (1431 / 365.25))


@pytest.mark.parametrize("seed", [3, 42])
def test_yearly_churn_is_between_8_and_15_percent(seed):
    customers = simulate(5000, 36, seed=seed, start="2021-01")["customers"]
    assert 0.08 <= yearly_churn_rate(customers, "2021-01", 36).yearly <= 0.15


def test_cli_generate_writes_five_tables_and_reports_churn(tmp_path):
    out = tmp_path / "tmp"
    args = ["generate", "--out", str(out), "--customers", "500", "--months", "12", "--seed", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
    assert "customers" in result.output and "500 rows" in result.output
    assert "simulated yearly churn rate" in result.output
    assert pq.read_metadata(out / "customers.parquet").num_rows == 500


def test_cli_rejects_an_unknown_format(tmp_path):
    args = ["generate", "--out", str(tmp_path / "x"), "--customers", "10", "--format", "xlsx"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "--format" in result.output and not (tmp_path / "x").exists()


def test_refuses_to_replace_a_folder_with_other_files(tmp_path):
    out = tmp_path / "data"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(ChurnError, match="notes.txt"):
        _generate(out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_rerun_replaces_an_existing_demo_folder(written, tmp_path):
    out = _generate(tmp_path / "data", seed=9)
    _generate(out, seed=1)
    assert (out / "trades.parquet").read_bytes() == (written / "trades.parquet").read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["data"]


def _interrupted(chunks):
    yield from chunks
    raise KeyboardInterrupt


def test_an_interrupted_write_leaves_the_previous_folder_untouched(written, tmp_path):
    out = _generate(tmp_path / "data", seed=9)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    chunks = [("trades", pq.read_table(written / "trades.parquet"))]
    with pytest.raises(KeyboardInterrupt):
        write_tables_atomically(out, _interrupted(chunks), "parquet")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["data"]  # no staging folder left


def test_an_interrupted_first_write_leaves_no_folder(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        write_tables_atomically(tmp_path / "data", _interrupted([]), "parquet")
    assert list(tmp_path.iterdir()) == []
