"""Scoring on a two-worker LocalCluster: the local job's rows, published whole or not at all."""

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from engine_helpers import dask_score

from features.builder.build import build_feature_matrix
from features.builder.registry import model_feature_columns
from models.lightgbm_model import ChurnLightGBM
from pipeline.cohorts.cohorts import build_cohorts
from pipeline.core.params import Params
from pipeline.data.publish import read_dataset
from pipeline.scoring.bands import risk_ranks

SCORED = pd.Timestamp("2022-09-30")
HERE = Path(__file__).resolve().parent


def scoring_model_of(model, params, meta=None):
    from models.rules import RuleBaseline
    from pipeline.scoring.model import ScoringModel

    return ScoringModel(
        churn=model,
        meta={"label": params.label.model_dump(), **(meta or {})},
        source="test",
        rules=RuleBaseline(params.rules.weights, params.rules.levels),
        fitted_rules=None,
    )


def cause_finder():
    from pipeline.scoring.causes import CauseFinder
    from pipeline.scoring.playbook import load_playbook

    return CauseFinder(load_playbook(None, model_feature_columns()))


def score_dask(tables, as_of, model, params, client, out, reference=None):
    scoring = scoring_model_of(model, params, {"reference": reference} if reference else None)
    return dask_score(tables, as_of, scoring, cause_finder(), params, client, out)


@pytest.fixture(scope="module")
def model(tables):
    params = Params()
    params.model.lightgbm.n_estimators = 20
    cohorts = build_cohorts(tables, params)
    train, valid = cohorts.train, cohorts.validation
    return ChurnLightGBM.from_params(params.model, model_feature_columns()).fit(
        train, train["label"], eval_set=(valid, valid["label"])
    )


def test_scores_equal_local_within_1e_9(client, tables, params, model, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        features = build_feature_matrix(tables, [SCORED], params)
    expected = model.predict_proba(features)[:, 1]
    result = score_dask(tables, SCORED, model, params, client, str(tmp_path / "scores"))
    scores = read_dataset(str(tmp_path / "scores"))
    assert sorted(p.name for p in (tmp_path / "scores").iterdir())[-1] == "part-00005.parquet"
    scores = scores.sort_values("customer_id", ignore_index=True)
    assert scores["customer_id"].tolist() == features["customer_id"].tolist()
    np.testing.assert_allclose(scores["churn_probability"], expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(scores["rank"], risk_ranks(expected))
    assert result.accounts == len(features) == sum(result.band_counts.values())


def test_full_scores_rows_equal_the_local_scoring_job(client, tables, params, model, tmp_path):
    from models.rules import RuleBaseline
    from pipeline.scoring.causes import CauseFinder
    from pipeline.scoring.job import score_cohort
    from pipeline.scoring.model import ScoringModel
    from pipeline.scoring.output import scores_schema, scores_writer
    from pipeline.scoring.playbook import load_playbook

    scoring = ScoringModel(
        churn=model,
        meta={"label": params.label.model_dump()},
        source="test",
        rules=RuleBaseline(params.rules.weights, params.rules.levels),
        fitted_rules=None,
    )
    causes = CauseFinder(load_playbook(None, model_feature_columns()))
    per_account = params.scoring.reasons_per_account
    local_file = tmp_path / "local.parquet"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with scores_writer(local_file, None, None, scores_schema(per_account)) as writer:
            score_cohort(tables, SCORED, scoring, causes, params, writer)
    dask_score(tables, SCORED, scoring, causes, params, client, str(tmp_path / "dask"))
    local = pd.read_parquet(local_file).sort_values("customer_id", ignore_index=True)
    distributed = read_dataset(str(tmp_path / "dask")).sort_values("customer_id", ignore_index=True)
    assert list(distributed.columns) == list(local.columns)
    numbers = ["churn_probability", "value_at_risk_cny"]
    for column in numbers:
        np.testing.assert_allclose(distributed[column], local[column], rtol=0, atol=1e-9)
    pd.testing.assert_frame_equal(distributed.drop(columns=numbers), local.drop(columns=numbers))


KILLED_JOB = """
import sys, time
import joblib
import pandas as pd
from distributed import Client
from engine_helpers import dask_score
from test_engine_scoring import cause_finder, scoring_model_of
import pipeline.scoring.output as output
from pipeline.core.params import Params

written = output.write_part


def slow_part(table, url):
    time.sleep(1.5)
    return written(table, url)


if __name__ == "__main__":
    output.write_part = slow_part  # parts are written here, one every 1.5 s
    scheduler, data, model_path, out = sys.argv[1:5]
    params = Params()
    params.engine.partitions = 6
    model = scoring_model_of(joblib.load(model_path), params)
    with Client(scheduler) as client:
        dask_score(data, pd.Timestamp("2022-09-30"), model, cause_finder(), params, client, out)
"""


def _wait_for_a_staged_part(folder: Path, process, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if list(folder.glob(".scores-*.tmp/part-*.parquet")):
            return
        if process.poll() is not None:
            raise AssertionError(f"the job ended before it was killed: {process.returncode}")
        time.sleep(0.01)
    raise AssertionError("the job never wrote a part")


def test_job_killed_midway_leaves_the_previous_dataset_published(
    client, split_demo_data, tables, params, model, tmp_path
):
    out = tmp_path / "scores"
    score_dask(tables, SCORED, model, params, client, str(out))
    before = read_dataset(str(out))
    joblib.dump(model, tmp_path / "model.joblib")
    script = tmp_path / "job.py"
    script.write_text(KILLED_JOB)
    scheduler = client.scheduler.address
    args = [str(split_demo_data), str(tmp_path / "model.joblib"), str(out)]
    with open(tmp_path / "job.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, str(script), scheduler, *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parents[1])])},
        )
        try:
            _wait_for_a_staged_part(tmp_path, process)
        finally:
            process.kill()
            process.wait()
    staged = list(tmp_path.glob(".scores-*.tmp"))
    assert len(staged) == 1 and len(list(staged[0].glob("part-*"))) < 6
    pd.testing.assert_frame_equal(read_dataset(str(out)), before)


def test_drift_counted_on_partitions_equals_the_local_drift_table(
    client, tables, params, model, tmp_path
):
    from models.drift import SCORE, drift_table, reference_profile

    columns = model_feature_columns()
    train = build_cohorts(tables, params).train
    reference = reference_profile(train, columns, model.predict_proba(train)[:, 1], 10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        features = build_feature_matrix(tables, [SCORED], params)
    cohort = features.assign(**{SCORE: model.predict_proba(features)[:, 1]})
    expected = drift_table(reference, cohort, 0.2).set_index("column").sort_index()
    params.scoring.psi_threshold = 0.2
    result = score_dask(
        tables, SCORED, model, params, client, str(tmp_path / "s"), reference=reference
    )
    got = result.drift.set_index("column").sort_index()
    np.testing.assert_allclose(got["psi"], expected["psi"], rtol=0, atol=1e-9)
    assert got["drifted"].tolist() == expected["drifted"].tolist()
