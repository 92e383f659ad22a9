import pandas as pd
import pytest
from scoring_fixtures import SCORED_AS_OF, small_params

from features.builder.build import build_feature_matrix
from pipeline.cohorts.chunks import customer_chunks
from pipeline.scoring.cohort import ChunkedCohort


@pytest.fixture(scope="module")
def whole(demo_tables):
    return build_feature_matrix(demo_tables, [pd.Timestamp(SCORED_AS_OF)], small_params())


@pytest.mark.parametrize("chunk", [1, 701, 2_999, 3_000, 10_000])
def test_chunked_features_equal_the_whole_build(demo_tables, whole, chunk):
    params = small_params(scoring={"chunk_customers": chunk})
    if chunk == 1:  # one customer per chunk is slow: check the first 40 customers only
        tables = customer_chunks(demo_tables, 40).tables_of(0)
        whole = build_feature_matrix(tables, [pd.Timestamp(SCORED_AS_OF)], params)
    else:
        tables = demo_tables
    progress = []
    with ChunkedCohort(tables, pd.Timestamp(SCORED_AS_OF), params) as cohort:
        cohort.build_customer_step(lambda *args: progress.append(args))
        frames = [frame for _, frame in cohort.frames()]
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), whole)
    assert progress[-1] == ("features", cohort.n_chunks, cohort.n_chunks)
    assert max(len(frame) for frame in frames) <= chunk


def test_a_chunk_holds_exactly_its_customers_rows_renumbered(demo_tables):
    chunks = customer_chunks(demo_tables, 1_000)
    part = chunks.tables_of(1)
    ids = demo_tables.customers["customer_id"].iloc[1_000:2_000].tolist()
    assert part.customers["customer_id"].tolist() == ids
    trades = demo_tables.trades
    mine = trades[trades["customer_idx"].between(1_000, 1_999)]
    assert len(part.trades) == len(mine)
    assert part.trades["customer_idx"].tolist() == (mine["customer_idx"] - 1_000).tolist()
    assert (
        part.trades["customer_id"].astype(str).tolist() == mine["customer_id"].astype(str).tolist()
    )
    assert part.trades["amount"].tolist() == mine["amount"].tolist()


def test_a_chunk_of_every_customer_is_the_tables_themselves(demo_tables):
    n = len(demo_tables.customers)
    assert customer_chunks(demo_tables, n).tables_of(0) is demo_tables  # nothing copied
    assert customer_chunks(demo_tables, n + 1).tables_of(0) is demo_tables
    last = customer_chunks(demo_tables, n - 1)
    assert last.tables_of(0) is not demo_tables
    assert len(last.tables_of(1).customers) == 1


def test_the_scratch_files_are_removed_on_exit(demo_tables):
    with ChunkedCohort(demo_tables, pd.Timestamp(SCORED_AS_OF), small_params()) as cohort:
        cohort.build_customer_step()
        scratch = cohort._scratch.name
        assert len(list(pd.io.common.Path(scratch).iterdir())) == cohort.n_chunks
    assert not pd.io.common.Path(scratch).exists()
