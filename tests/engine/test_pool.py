"""The local engine's worker processes: values through files, errors as raised, no orphans.

Real processes throughout (spawned like the CLI's), real files in the spill folder.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import psutil
import pyarrow.parquet as pq
import pytest

from pipeline.core.errors import DataContractError
from pipeline.core.params import Params
from pipeline.engine.local import LocalEngine, workers_for
from pipeline.engine.pool import Pending, PoolExecutor, WorkerLostError


def frame_of(n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": range(n), "y": ["a", "b"] * (n // 2)})


def halves(frame: pd.DataFrame) -> list:
    return [frame.head(len(frame) // 2), frame.tail(len(frame) - len(frame) // 2), len(frame)]


def summed(*frames: pd.DataFrame) -> int:
    return int(sum(f["x"].sum() for f in frames))


def refused(table: str) -> None:
    raise DataContractError(table, "customer_id", "required column missing", "no such column")


def pid_of(_: object = None) -> int:
    time.sleep(0.2)  # long enough for the second worker to take the next call
    return os.getpid()


def copy_in_worker(shared: dict) -> tuple[int, int]:
    """Which worker, and how many calls its copy of the shared value has served."""
    time.sleep(0.1)
    shared["calls"] = shared.get("calls", 0) + 1  # a fresh copy per call would say 1
    return os.getpid(), shared["calls"]


def killed_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture
def pool(tmp_path):
    executor = PoolExecutor(2, tmp_path, keep_bytes=1000)
    yield executor
    executor.close()


def test_values_travel_between_workers_through_files_and_come_back_equal(pool):
    frame = frame_of(10_000)
    [scattered] = pool.scatter([frame])  # written here, read by a worker
    head, tail, count = pool.submit_parts(halves, 3, scattered)
    assert all(isinstance(h, Pending) for h in (head, tail, count))
    assert isinstance(head.outcome().path, Path) and head.outcome().path.exists()
    assert pool.gather([count]) == [10_000]  # small: came back through the pipe, no file
    total = pool.submit(summed, head, tail)
    assert pool.gather([total]) == [sum(range(10_000))]
    parts = list(pool.results([tail, head]))
    pd.testing.assert_frame_equal(pd.concat([parts[1], parts[0]]), frame)
    with pytest.raises(ValueError, match="expected 2 parts"):
        pool.gather([pool.submit_parts(halves, 2, scattered)[0]])


def test_the_two_workers_both_work(pool):
    pids = set(pool.gather([pool.submit(pid_of, n) for n in range(10)]))
    assert len(pids) == 2 and os.getpid() not in pids


def test_a_file_goes_when_nothing_can_read_it_any_more(pool):
    head, tail, _ = pool.submit_parts(halves, 3, frame_of(10_000))
    path = head.outcome().path
    assert path.exists()
    total = pool.submit(summed, head)
    del head  # the call still needs it: the file stays until the call is done
    assert pool.gather([total]) == [sum(range(5_000))]
    gc.collect()
    assert not path.exists() and tail.outcome().path.exists()
    pool.close()
    assert not tail.outcome().path.exists()


def test_an_error_raised_in_a_worker_comes_back_as_raised(pool):
    with pytest.raises(DataContractError) as raised:
        pool.gather([pool.submit(refused, "trades")])
    error = raised.value
    assert (error.table, error.column, error.rule) == (
        "trades",
        "customer_id",
        "required column missing",
    )
    assert str(error) == "trades.customer_id: required column missing (no such column)"


def test_a_killed_worker_fails_the_work_with_a_clear_message(pool):
    with pytest.raises(WorkerLostError, match="engine.n_workers.*engine.partitions"):
        pool.gather([pool.submit(killed_self)])


def test_workers_end_when_their_parent_is_killed(tmp_path):
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from pipeline.engine.pool import PoolExecutor
        from test_pool import pid_of
        if __name__ == "__main__":
            pool = PoolExecutor(2, {str(tmp_path)!r})
            pids = set(pool.gather([pool.submit(pid_of, n) for n in range(10)]))
            print(" ".join(map(str, pids)), flush=True)
            import time; time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    workers = [psutil.Process(int(p)) for p in parent.stdout.readline().split()]
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, "workers outlived their killed parent"


def test_workers_follow_partitions_and_cores():
    assert workers_for(1, 8) == 1  # one partition stays in memory, in this process
    assert workers_for(3, 1) == 1
    assert workers_for(3, 2) == min(2, len(os.sched_getaffinity(0)))
    assert workers_for(2, 64) <= 2


def test_a_partition_check_refusal_in_a_worker_is_the_whole_load_refusal(split_demo_data, tmp_path):
    """A file without customer_id: its rows quarantined by the workers, the same refusal."""
    data = tmp_path / "data"
    for source in split_demo_data.rglob("*.parquet"):
        target = data / source.relative_to(split_demo_data)
        target.parent.mkdir(parents=True, exist_ok=True)
        table = pq.read_table(source)
        if source.parent.name == "events" and target.name.endswith("1.parquet"):
            table = table.drop(["customer_id"])
        pq.write_table(table, target)
    errors = []
    for partitions, workers in [(1, 1), (3, 2)]:
        engine = LocalEngine(partitions, workers=workers)
        try:
            rejected = tmp_path / f"rejected-{partitions}"
            with pytest.raises(DataContractError) as refusal:
                engine.load(data, Params(), rejected)
            message = str(refusal.value).replace(str(rejected), "<rejected>")
            errors.append(
                (type(refusal.value), message, pd.read_parquet(rejected / "events.parquet"))
            )
        finally:
            engine.close()
    assert errors[0][:2] == errors[1][:2]
    assert (
        "events: rejected share" in errors[0][1] and "customer_id: missing: 5,299" in errors[0][1]
    )
    pd.testing.assert_frame_equal(errors[1][2], errors[0][2])


@pytest.mark.skipif(workers_for(3, 2) < 2, reason="one core: the engine starts no worker")
def test_no_worker_outlives_the_engine(split_demo_data):
    engine = LocalEngine(3, workers=2)
    engine.load(split_demo_data, Params(), None)
    children = [  # multiprocessing's resource tracker lives as long as this process: not ours
        p for p in psutil.Process().children() if "spawn_main" in " ".join(p.cmdline())
    ]
    assert len(children) == 2
    engine.close()
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive


def test_a_pass_reports_each_partition_as_its_worker_finishes_it(pool):
    from pipeline.scoring.passes import PassProgress

    reported = []
    progress = PassProgress(lambda *call: reported.append(call), pool, "features", 6)
    handles = [pool.submit(pid_of, n) for n in range(6)]
    for handle in handles:
        progress.submitted(handle)
    pool.gather(handles)
    deadline = time.monotonic() + 30  # completions arrive on the pool's thread
    while len(reported) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    progress.finished()
    assert reported == [("features", done, 6) for done in range(1, 7)]
    progress._tick()  # a completion after the pass is over changes nothing
    assert len(reported) == 6


def test_a_pass_whose_last_completions_are_late_still_ends_whole(pool):
    from pipeline.scoring.passes import PassProgress

    reported = []
    progress = PassProgress(lambda *call: reported.append(call), pool, "reasons", 3)
    handles = [pool.submit(pid_of, n) for n in range(3)]  # nothing noted: all "late"
    pool.gather(handles)
    progress.finished()
    assert reported == [("reasons", 3, 3)]


def test_a_shared_value_is_read_once_per_worker_and_kept(pool):
    model = {"trees": list(range(100_000))}  # larger than keep_bytes: a file
    shared = pool.share(model)
    assert shared.path.exists()
    seen = pool.gather([pool.submit(copy_in_worker, shared) for _ in range(10)])
    calls = {}
    for pid, served in seen:
        calls.setdefault(pid, []).append(served)
    # Each worker's one copy counts its calls 1, 2, 3...: it was read once and kept.
    assert all(served == list(range(1, len(served) + 1)) for served in calls.values())
    assert sum(len(served) for served in calls.values()) == 10
    assert pool.gather([shared]) == [model]  # this process's own value is untouched
    path = shared.path
    del shared
    gc.collect()
    assert not path.exists()
