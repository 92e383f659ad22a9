"""The scoring job in this process: how its reasons pass runs (pipeline/scoring/job.py)."""

import gc

import pandas as pd
from scoring_fixtures import SCORED_AS_OF, small_params

from features.builder.registry import model_feature_columns
from features.builder.version import builder_version
from pipeline.scoring import job
from pipeline.scoring.causes import CauseFinder
from pipeline.scoring.model import scoring_model
from pipeline.scoring.output import scores_schema, scores_writer
from pipeline.scoring.playbook import load_playbook
from pipeline.tracking.registry import load_packaged_model


def test_reasons_are_made_with_the_cycle_collector_paused_and_it_runs_again_after(
    demo_tables, model_folder, tmp_path, monkeypatch
):
    params = small_params(scoring={"chunk_customers": 1_000})
    columns = model_feature_columns()
    model = scoring_model(
        load_packaged_model(str(model_folder)), params, columns, builder_version()
    )
    causes = CauseFinder(load_playbook(None, columns))
    collector_on = []
    decide = job.decide_accounts

    def watched(*args, **kwargs):
        collector_on.append(gc.isenabled())
        return decide(*args, **kwargs)

    monkeypatch.setattr(job, "decide_accounts", watched)
    gc.enable()
    out = tmp_path / "scores.parquet"
    with scores_writer(out, None, None, scores_schema(3)) as writer:
        result = job.score_cohort(
            demo_tables, pd.Timestamp(SCORED_AS_OF), model, causes, params, writer
        )
    assert len(collector_on) > 1 and not any(collector_on)  # one call per chunk, all paused
    assert gc.isenabled()
    assert len(pd.read_parquet(out)) == result.accounts > 0
