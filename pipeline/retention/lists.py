"""One month of the retention loop after scoring: measure the plays, cut the call lists, publish.

Written once over partitions (pipeline/core/executor.py): each partition labels
its own recorded retention actions whose windows have closed; the small
labelled units come back here, where the effect of each play is measured and
turned into save rates; the call lists are then cut from the written scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.core.atomic import atomic_folder
from pipeline.core.contract import CLOSE_REASONS
from pipeline.core.executor import Executor
from pipeline.core.params import Params
from pipeline.data.partitions import PartitionedTables
from pipeline.retention.calllists import VALUE_UNIT, candidate_scores, select_calls
from pipeline.retention.effect import (
    EFFECT_COLUMNS,
    OVERALL,
    labelled_units,
    measured_effects,
    save_rates,
)
from pipeline.retention.pages import write_call_lists


def measured_play_effects(
    executor: Executor, partitioned: PartitionedTables, params: Params
) -> pd.DataFrame:
    """Return the effect of each play (and over all) measured on the data's closed windows."""
    units = executor.gather(
        [executor.submit(labelled_units, part, params.label) for part in partitioned.parts]
    )
    present = [u for u in units if len(u)]
    if not present:
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    return measured_effects(pd.concat(present, ignore_index=True), params.retention.confidence)


@dataclass(frozen=True)
class PublishedCallLists:
    """What ``publish_call_lists`` wrote: the folder and the lists' sizes."""

    folder: Path
    lists: int
    accounts: int
    held_back: int
    plays_measured: int

    def describe(self) -> str:
        """Return the line the command prints."""
        return (
            f"call lists: {self.accounts:,} accounts on {self.lists:,} lists "
            f"({self.held_back:,} more held back as the control group); "
            f"{self.plays_measured} plays measured; {self.folder}"
        )


def publish_call_lists(
    executor: Executor,
    partitioned: PartitionedTables,
    scores: Path,
    folder: Path,
    as_of: pd.Timestamp,
    params: Params,
) -> PublishedCallLists:
    """Write the advisors' call lists, the measured effects and save rates to ``folder``.

    ``folder`` is replaced whole, atomically.
    """
    retention = params.retention
    effects = measured_play_effects(executor, partitioned, params)
    rates = save_rates(
        effects, list(CLOSE_REASONS), retention.prior_save_rate, retention.prior_accounts
    )
    candidates = candidate_scores(scores, rates, retention.contact_cost)
    control = candidates["control_group"].to_numpy(bool)
    lists = select_calls(candidates, retention.calls_per_advisor, control)
    with atomic_folder(folder) as staging:
        write_call_lists(lists, staging, str(as_of.date()), VALUE_UNIT)
        effects.to_csv(staging / "play_effects.csv", index=False)
        rate_table = pd.Series(rates, name="save_rate").rename_axis("play")
        rate_table.to_csv(staging / "save_rates.csv")
    return PublishedCallLists(
        folder=folder,
        lists=len(lists),
        accounts=sum(len(c.accounts) for c in lists),
        held_back=sum(c.held_back for c in lists),
        plays_measured=int((effects["play"] != OVERALL).sum()) if len(effects) else 0,
    )
