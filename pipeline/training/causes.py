"""Train and evaluate the cause model on the closed accounts' recorded reasons, out of time.

Each closed account with a ``close_reason`` contributes one row: its features at
the as-of month end before the month it closed. Rows of the training months fit
the model, rows of the validation months stop its boosting, rows of the test
months evaluate it, so the cause model follows the churn model's out-of-time
split. Without recorded reasons (or with fewer than ``model.cause.min_closed_accounts``
in the training months) there is no cause model, and scoring takes the likely
cause from the playbook's drivers, saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models.cause_model import ChurnCauseModel, cause_evaluation
from pipeline.cohorts.cohorts import Cohorts
from pipeline.core.calendar import month_end_of_index, month_index
from pipeline.core.contract import Tables
from pipeline.core.executor import Executor
from pipeline.core.params import Params
from pipeline.data.partitions import PartitionedTables

REASON = "close_reason"


@dataclass
class CauseTraining:
    """The fitted cause model, its out-of-time measures and confusion table."""

    model: ChurnCauseModel
    measures: dict[str, Any]
    confusion: pd.DataFrame


def closures(tables: Tables) -> pd.DataFrame:
    """Return the closed accounts with a recorded reason and the as-of month end before closing."""
    customers = tables.customers
    if REASON not in customers.columns:
        return closures_empty()
    closed = customers.loc[
        customers["closed_date"].notna() & customers[REASON].notna(),
        ["customer_id", "closed_date", REASON],
    ]
    before = month_end_of_index(month_index(closed["closed_date"]) - 1)
    return pd.DataFrame(
        {
            "customer_id": closed["customer_id"].astype(str).to_numpy(),
            "as_of": before,
            REASON: closed[REASON].astype(str).to_numpy(),
        }
    )


def gathered_closures(executor: Executor, partitioned: PartitionedTables) -> pd.DataFrame:
    """Return :func:`closures` of every partition, here."""
    parts = executor.gather([executor.submit(closures, part) for part in partitioned.parts])
    return pd.concat(parts, ignore_index=True) if parts else closures_empty()


def closures_empty() -> pd.DataFrame:
    """Return an empty closures frame."""
    return pd.DataFrame({"customer_id": [], "as_of": [], REASON: []})


def rows_before_closing(cohort: pd.DataFrame, closed: pd.DataFrame) -> pd.DataFrame:
    """Return the cohort's rows at the as-of month before each account closed, with its reason."""
    keys = closed.assign(as_of=pd.to_datetime(closed["as_of"]).astype(cohort["as_of"].dtype))
    rows = cohort.assign(customer_id=cohort["customer_id"].astype(str))
    return rows.merge(keys, on=["customer_id", "as_of"], how="inner", validate="one_to_one")


def train_cause_model(
    cohorts: Cohorts, closed: pd.DataFrame, columns: Sequence[str], params: Params, console
) -> CauseTraining | None:
    """Fit the cause model on the training months and evaluate it on the test months.

    Returns:
        None (and says why on the console) when too few closed accounts carry a reason.
    """
    settings = params.model.cause
    train = rows_before_closing(cohorts.train, closed)
    if len(train) < settings.min_closed_accounts or train[REASON].nunique() < 2:
        console.print(
            f"cause model: {len(train):,} closed accounts with a recorded close_reason in the "
            f"training months (model.cause.min_closed_accounts {settings.min_closed_accounts}): "
            "none fitted; likely causes come from the playbook's drivers"
        )
        return None
    valid = rows_before_closing(cohorts.validation, closed)
    test = rows_before_closing(cohorts.test, closed)
    model = ChurnCauseModel(
        feature_columns=list(columns),
        num_leaves=settings.num_leaves,
        learning_rate=settings.learning_rate,
        n_estimators=settings.n_estimators,
        min_child_samples=settings.min_child_samples,
        early_stopping_rounds=settings.early_stopping_rounds,
        seed=params.model.seed,
        num_threads=params.model.lightgbm.num_threads,
    ).fit(train, train[REASON], eval_set=(valid, valid[REASON]))
    commonest = str(train[REASON].value_counts().idxmax())
    measures, confusion = cause_evaluation(
        test[REASON].to_numpy(object), model.predict_proba(test), model.classes_, commonest
    )
    measures = {"training_accounts": len(train), "validation_accounts": len(valid), **measures}
    console.print(cause_summary(measures))
    return CauseTraining(model, measures, confusion)


def cause_summary(measures: dict[str, Any]) -> str:
    """Return the log line of the cause model's out-of-time accuracy against the naive guess."""
    if not measures["accounts"]:
        return "cause model: no closed account with a recorded reason in the test months"
    return (
        f"cause model: out-of-time accuracy {measures['accuracy']:.1%} (top-2 "
        f"{measures['top2_accuracy']:.1%}) on {measures['accounts']:,} closed accounts; always "
        f"naming the commonest reason ({measures['commonest_reason']}) scores "
        f"{measures['commonest_share']:.1%}"
    )


def cause_tree(training: CauseTraining | None) -> dict[str, Any]:
    """Return the cause model's measures and confusion table for metrics.json and the report."""
    if training is None:
        return {"fitted": False}
    confusion = training.confusion
    return {
        "fitted": True,
        **training.measures,
        "confusion": {
            str(recorded): {str(k): int(v) for k, v in row.items()}
            for recorded, row in confusion.iterrows()
        },
    }


def cause_metrics(measures: dict[str, Any]) -> dict[str, float]:
    """Return the cause model's measures as flat MLflow metrics (``cause.*``)."""
    flat = {
        f"cause.{key}": float(measures[key])
        for key in ("accounts", "accuracy", "top2_accuracy", "commonest_share")
        if measures.get(key) is not None
    }
    for cause, values in measures["per_cause"].items():
        for key in ("precision", "recall"):
            if values[key] is not None and np.isfinite(values[key]):
                flat[f"cause.{key}.{cause}"] = float(values[key])
    return flat
