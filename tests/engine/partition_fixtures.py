"""A faulty export and a load on partitions, for the local engine's partition tests.

The export is the split demo data (three files per table) with faults added to
the middle file of trades and events, so ``source_row`` must count across files
and partitions: an unknown customer, a trade before its account opened, a
future-dated trade and event (after the observation end), two accounts closed in
2099, and an exact copy of a trade (quarantined with
``validation.duplicate_rows: quarantine``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.params import Params
from pipeline.engine.local import LocalEngine, workers_for


def append_to(path: Path, rows: pd.DataFrame) -> None:
    table = pq.read_table(path)
    extra = pa.Table.from_pandas(rows, preserve_index=False).cast(table.schema)
    pq.write_table(pa.concat_tables([table, extra]), path, row_group_size=4000)


def faulty_export(source: Path, data: Path) -> Path:
    """Copy the split demo data in ``source`` to ``data`` and add the faults."""
    shutil.copytree(source, data)
    middle = data / "trades" / "part-001.parquet"
    trades = pq.read_table(middle).to_pandas().head(4).reset_index(drop=True)
    trades.loc[0, "customer_id"] = "NOBODY"
    trades.loc[1, "trade_date"] = pd.Timestamp("2019-01-02")  # before any account opened
    trades.loc[2, "trade_date"] = pd.Timestamp("2031-05-05")  # a stray far after the end
    append_to(middle, pd.concat([trades, trades.iloc[[3]]], ignore_index=True))
    customers_file = data / "customers" / "part-001.parquet"
    schema = pq.read_schema(customers_file)
    customers = pq.read_table(customers_file).to_pandas(date_as_object=False)
    still_open = customers.index[customers["closed_date"].isna()][:2]
    customers.loc[still_open, "closed_date"] = pd.Timestamp("2099-12-31")  # open at the end
    table = pa.Table.from_pandas(customers, preserve_index=False).cast(schema)
    pq.write_table(table, customers_file)
    events_file = data / "events" / "part-001.parquet"
    events = pq.read_table(events_file).to_pandas().head(1)
    append_to(events_file, events.assign(event_date=pd.Timestamp("2030-01-15")))
    return data


def quarantining_params() -> Params:
    """The default params, repeated rows quarantined (the faulty export has one)."""
    params = Params()
    params.validation.duplicate_rows = "quarantine"
    return params


def load(data: Path, params: Params, rejected: Path, n_partitions: int, workers: int = 1):
    engine = LocalEngine(n_partitions, workers=workers)
    assert engine.workers == workers_for(n_partitions, workers)  # 2 on a machine of 2+ cores
    try:
        loaded = engine.load(data, params, rejected)
        return loaded, engine.executor.gather(loaded.parts)
    finally:
        engine.close()
