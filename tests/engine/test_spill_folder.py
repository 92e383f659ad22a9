"""The local engine's partitions on disk: how many, where they wait, and what is left behind.

The spill executor's files, the partition count from the stored rows, a missing
spill folder, the folders of killed runs, and a load interrupted half-way.
"""

from __future__ import annotations

import gc

import pandas as pd
import pyarrow.parquet as pq
import pytest
from partition_fixtures import load, quarantining_params

from pipeline.core.params import Params
from pipeline.engine.local import LocalEngine, partitions_for
from pipeline.engine.spill import Spilled, SpillingExecutor


@pytest.fixture
def params() -> Params:
    return quarantining_params()


def test_large_results_wait_on_disk_and_come_back_equal(tmp_path):
    executor = SpillingExecutor(tmp_path, keep_bytes=1000)
    frame = pd.DataFrame({"x": range(10_000), "y": ["a", "b"] * 5_000})
    big = executor.submit(pd.DataFrame.copy, frame)
    small = executor.submit(len, frame)
    assert isinstance(big, Spilled) and big.path.exists()
    assert executor.gather([small]) == [10_000]
    pd.testing.assert_frame_equal(executor.gather([big])[0], frame)
    head, tail = executor.submit_parts(lambda f: [f.head(9_000), f["x"].iloc[-3:].tolist()], 2, big)
    assert isinstance(head, Spilled) and not isinstance(tail, Spilled)
    total = executor.submit(lambda a, b: len(a) + len(b), head, tail)
    assert list(executor.results([total])) == [9_003]
    with pytest.raises(ValueError, match="expected 3 parts"):
        executor.submit_parts(lambda f: [f, f], 3, big)
    path = head.path
    del head  # nothing can read it any more: its file goes
    gc.collect()
    assert not path.exists() and big.path.exists()
    executor.close()
    assert not big.path.exists()


def test_partitions_follow_the_stored_rows_when_not_fixed(faulty, params, tmp_path):
    stored = sum(
        pq.read_metadata(file).num_rows for file in faulty.glob("*/*.parquet")
    )  # hand count: every Parquet file's footer
    assert partitions_for(faulty, stored) == 1
    assert partitions_for(faulty, stored // 3 + 1) == 3
    assert partitions_for(tmp_path / "absent", 10) == 1  # the load then refuses it clearly
    # Two workers hold two partitions at a time: each gets half the rows.
    assert partitions_for(faulty, stored, workers=2) == 1  # within partition_rows: whole
    assert partitions_for(faulty, stored // 3 + 1, workers=2) == 6
    assert partitions_for(faulty, stored - 1, workers=2) == 3  # ceil(2 x (1 + 1 / (stored - 1)))
    engine = LocalEngine(None, partition_rows=stored // 3 + 1)
    try:
        loaded = engine.load(faulty, params, tmp_path / "rejected")
        assert engine.n_partitions == 3 and len(loaded.parts) == 3
        assert "held as 3 customer partitions on disk" in loaded.report.render()
    finally:
        engine.close()
    fixed = LocalEngine(2, partition_rows=10)  # a fixed count wins over the row count
    try:
        assert len(fixed.load(faulty, params, None).parts) == 2
    finally:
        fixed.close()


def test_a_spill_folder_that_does_not_exist_is_refused_by_the_cli(faulty, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    out = tmp_path / "features.parquet"
    args = ["features", "--data", str(faulty), "--as-of", "2022-06", "--out", str(out)]
    settings = ["--set", "engine.partitions=3", "--set", f"engine.spill_dir={tmp_path / 'no'}"]
    result = CliRunner().invoke(app, [*args, *settings])
    assert result.exit_code == 2, result.output
    assert "engine.spill_dir" in result.output and "No such file or directory" in result.output
    assert not out.exists()


def test_spill_folders_of_killed_runs_on_this_machine_are_removed(split_demo_data, tmp_path):
    import os
    import socket
    import subprocess
    import sys

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = int(ended.stdout)
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname())
    killed = tmp_path / f"churn-partitions-{host}-{dead}-abc123"
    living = tmp_path / f"churn-partitions-{host}-{os.getpid()}-def456"
    elsewhere = tmp_path / f"churn-partitions-otherhost-{dead}-ghi789"
    for folder in (killed, living, elsewhere):
        folder.mkdir()
        (folder / "0000001.pickle").write_bytes(b"x" * 100)
    engine = LocalEngine(3, spill_dir=tmp_path)
    try:
        loaded = engine.load(split_demo_data, Params(), None)
        assert loaded.report.layout.endswith("removed 1 spill folder(s) left by killed runs")
    finally:
        engine.close()
    assert not killed.exists()
    assert living.exists() and elsewhere.exists()  # a running job's, another machine's
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([living.name, elsewhere.name])


def test_a_load_interrupted_after_some_partitions_leaves_no_partial_quarantine(
    faulty, params, tmp_path, monkeypatch
):
    import pipeline.data.partitioned as partitioned

    finished = []

    def interrupted_on_the_third(*args):
        if len(finished) == 2:
            raise KeyboardInterrupt  # Ctrl-C while the fourth partition is being finished
        finished.append(args)
        return partitioned.finished_partition.__wrapped__(*args)

    interrupted_on_the_third.__wrapped__ = partitioned.finished_partition
    monkeypatch.setattr(partitioned, "finished_partition", interrupted_on_the_third)
    rejected = tmp_path / "rejected"
    with pytest.raises(KeyboardInterrupt):
        load(faulty, params, rejected, 4)
    assert len(finished) == 2  # two partitions had staged their quarantine files
    assert not rejected.exists()  # neither their files nor the staging folder are left
