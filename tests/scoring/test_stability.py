import numpy as np
import pandas as pd

from models.drift import SCORE, drift_table, reference_profile
from pipeline.scoring.stability import StabilityCounter, drift_figure


def cohort(seed: int, shift: float = 0.0, n: int = 4_000) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "outflow_share_6m": rng.beta(1.2, 4.0, n) + shift,
            "trades_3m": rng.poisson(6, n).astype("float64"),
            "channel": pd.Categorical(rng.choice(["online", "onsite"], n)),
        }
    )
    frame.loc[rng.random(n) < 0.1, "trades_3m"] = np.nan
    return frame, rng.beta(1, 9, n)


COLUMNS = ["outflow_share_6m", "trades_3m", "channel"]


def counted(reference, frame, score, chunk: int) -> StabilityCounter:
    counter = StabilityCounter(reference)
    for start in range(0, len(frame), chunk):
        rows = slice(start, start + chunk)
        counter.add(frame.iloc[rows].assign(**{SCORE: score[rows]}))
    return counter


def test_chunked_counts_give_the_drift_table_of_the_whole_cohort():
    train, train_score = cohort(1)
    reference = reference_profile(train, COLUMNS, train_score, 10)
    scored, score = cohort(2, shift=0.05)
    ours = counted(reference, scored, score, chunk=333).table(0.2)
    whole = drift_table(reference, scored.assign(**{SCORE: score}), 0.2)
    merged = ours.merge(whole, on="column", suffixes=("", "_whole"))
    assert len(merged) == 4
    np.testing.assert_allclose(merged["psi"], merged["psi_whole"], rtol=1e-9, atol=1e-12)
    assert (merged["drifted"] == merged["drifted_whole"]).all()


def test_a_shifted_feature_is_flagged_and_a_stable_one_is_not():
    train, train_score = cohort(1)
    reference = reference_profile(train, COLUMNS, train_score, 10)
    # outflow shares up by 0.3 for everyone: most rows leave their training deciles
    scored, score = cohort(2, shift=0.3)
    table = counted(reference, scored, score, chunk=1_000).table(0.2)
    flagged = dict(zip(table["column"], table["drifted"], strict=True))
    assert flagged == {"outflow_share_6m": True, "trades_3m": False, "channel": False, SCORE: False}
    assert table["column"].iloc[0] == "outflow_share_6m"  # largest PSI first


def test_the_same_cohort_has_no_drift_and_the_plot_draws_every_column():
    train, train_score = cohort(1)
    reference = reference_profile(train, COLUMNS, train_score, 10)
    table = counted(reference, train, train_score, chunk=500).table(0.2)
    assert table["psi"].max() < 1e-9
    figure = drift_figure(table, 0.2, "drift")
    assert len(figure.axes[0].patches) == len(table)


def test_counters_of_partitions_merge_into_the_counter_of_the_whole():
    import numpy as np
    import pandas as pd

    from models.drift import reference_profile
    from pipeline.scoring.stability import StabilityCounter

    rng = np.random.default_rng(3)
    train = pd.DataFrame({"x": rng.normal(size=400), "y": rng.uniform(size=400)})
    reference = reference_profile(train, ["x", "y"], rng.uniform(size=400), bins=5)
    now = pd.DataFrame({"x": rng.normal(1, 1, 300), "y": rng.uniform(size=300)})
    whole = StabilityCounter(reference)
    whole.add(now)
    left, right = StabilityCounter(reference), StabilityCounter(reference)
    left.add(now.iloc[:120])
    right.add(now.iloc[120:])
    merged = left.merge(right)
    assert merged.rows == 300
    pd.testing.assert_frame_equal(merged.table(0.2), whole.table(0.2))
