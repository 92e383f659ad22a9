"""The retention loop end to end on the demo simulator: score, call, record, monitor.

Usage:
    PYTHONPATH=. python benchmarks/retention_loop.py [--customers 20000] [--lists 4]
        [--work /tmp/churn-retention-loop] [--seed 42]

The simulator (pipeline/demo/simulate.py) is advanced month by month. After
``--train-month`` months the data so far train a model (``churn train``, its
own MLflow store under ``--work``). Then for ``--lists`` consecutive months the
data so far are scored (``churn score``), which writes the advisors' call
lists and the control group; the simulated desk (pipeline/demo/desk.py) calls
the listed accounts on the first trading day of the next month, and the
retention_actions rows it records join the data. At the end, once the last
list's label window has closed, ``churn monitor`` measures each play's effect,
and this script sets it beside the effect the desk really had (the share of
contacted accounts it saved from a closure inside the window), which only a
simulator can know.

It prints one table: per play, the accounts behind the figures, the measured
effect with its interval, the true effect, and whether the interval holds it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.core.params import LabelParams, Params
from pipeline.data.loader import load_tables
from pipeline.demo.desk import CallPlan, true_effects
from pipeline.demo.simulate import Simulation
from pipeline.demo.writer import write_tables_atomically
from pipeline.retention.effect import labelled_units, measured_effects

DEMO_TABLES = ("trades", "transfers", "balances", "events")


def main() -> None:
    args = _arguments()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = dict(os.environ, MLFLOW_TRACKING_URI=f"sqlite:///{work / 'mlflow.db'}")
    sim = Simulation(args.customers, args.months, args.seed, args.start)
    parts: dict[str, list[pa.Table]] = defaultdict(list)
    plans: dict[int, CallPlan] = {}
    list_months = range(args.train_month, args.train_month + args.lists)
    started = time.perf_counter()
    for month in range(args.months):
        for name, table in sim.month(month, plans.pop(month, None)):
            parts[name].append(table)
        if month + 1 == args.train_month:
            data = _write_data(work / "data-train", sim, parts, month + 1)
            _churn(env, "train", "--data", data, "--out", work / "train", *_sets(args))
        if month in list_months:
            data = _write_data(work / f"data-{month:02d}", sim, parts, month + 1)
            as_of = str(np.datetime64(int(sim.world.calendar.month_end[month]), "D"))
            scores = work / f"scores-{month:02d}.parquet"
            _churn(env, "score", "--data", data, "--as-of", as_of, "--out", scores, *_sets(args))
            plans[month + 1] = _plan(scores.with_name(f"{scores.stem}_call_lists"), sim)
            print(f"{as_of}: {(~plans[month + 1].control).sum():,} accounts to call, "
                  f"{plans[month + 1].control.sum():,} held back")  # fmt: skip
    final = _write_data(work / "data-final", sim, parts, args.months)
    _churn(env, "monitor", "--data", final, *_sets(args))
    label = Params().label
    _compare(final, label, true_effects(sim.desk, label.horizon_months))
    print(f"loop done in {time.perf_counter() - started:.0f} s; files under {work}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--train-month", type=int, default=26, help="months before training")
    parser.add_argument("--lists", type=int, default=4, help="consecutive monthly call lists")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start", default="2021-01")
    parser.add_argument("--work", default="/tmp/churn-retention-loop")
    parser.add_argument(
        "--set", action="append", default=[], dest="overrides", help="params override for churn"
    )
    args = parser.parse_args()
    horizon = Params().label.horizon_months
    if args.train_month + args.lists - 1 + horizon >= args.months:
        parser.error("the last list's label window must close inside --months")
    return args


def _sets(args: argparse.Namespace) -> list[str]:
    return [part for override in args.overrides for part in ("--set", override)]


def _write_data(folder: Path, sim: Simulation, parts, months_done: int) -> Path:
    """Write the tables of the months simulated so far (and the actions recorded) to a folder."""
    month_end = pa.scalar(int(sim.world.calendar.month_end[months_done - 1]), pa.date32())
    customers = sim.customers(months_done)
    customers = customers.filter(pc.less_equal(customers["open_date"], month_end))
    chunks = [(name, table) for name in DEMO_TABLES for table in parts[name]]
    write_tables_atomically(folder, [("customers", customers), *chunks])
    if parts["retention_actions"]:
        pq.write_table(
            pa.concat_tables(parts["retention_actions"]), folder / "retention_actions.parquet"
        )
    return folder


def _plan(call_lists: Path, sim: Simulation) -> CallPlan:
    """Return the call plan of a month's lists: every listed account, and the control group."""
    listed = [
        pd.read_csv(path, usecols=["customer_id", "likely_cause"])
        for path in call_lists.rglob("*.csv")
        if path.name not in ("control_group.csv", "play_effects.csv", "save_rates.csv")
    ]
    called = (
        pd.concat(listed, ignore_index=True)
        if listed
        else pd.DataFrame(columns=["customer_id", "likely_cause"])
    )
    held = pd.read_csv(call_lists / "control_group.csv", usecols=["customer_id", "likely_cause"])
    plan = pd.concat([called.assign(control=False), held.assign(control=True)], ignore_index=True)
    ids = pd.Index(sim.world.ids.to_pylist())
    return CallPlan(
        accounts=ids.get_indexer(plan["customer_id"].astype(str)).astype(np.int64),
        plays=plan["likely_cause"].astype(str).to_numpy(),
        control=plan["control"].to_numpy(bool),
    )


def _compare(data: Path, label: LabelParams, truth: dict[str, tuple[float, int]]) -> None:
    tables = load_tables(data, Params(), rejected_dir=None).tables
    effects = measured_effects(labelled_units(tables, label), Params().retention.confidence)
    print(
        "\nplay             contacted  control  measured effect [95% interval]   true effect  held"
    )
    for row in effects.itertuples():
        true, _ = truth.get(row.play, (float("nan"), 0))
        inside = row.effect_low <= true <= row.effect_high
        print(f"{row.play:<16} {row.contacted:>9,} {row.control:>8,}  "
              f"{row.effect:>+7.1%} [{row.effect_low:>+7.1%}, {row.effect_high:>+7.1%}]"
              f"        {true:>+7.1%}  {'yes' if inside else 'NO'}")  # fmt: skip


def _churn(env: dict, *args) -> None:
    command = [sys.executable, "-m", "pipeline.cli", *map(str, args)]
    print("$ churn", " ".join(map(str, args)), flush=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        print(done.stdout[-4000:], done.stderr[-4000:], sep="\n")
        raise SystemExit(f"churn {args[0]} failed with exit {done.returncode}")
    if args[0] == "monitor":
        print(done.stdout)


if __name__ == "__main__":
    main()
