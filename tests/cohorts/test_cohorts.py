import pandas as pd
import pytest

from pipeline.cohorts.cohorts import labelled_matrix
from pipeline.core.errors import ChurnError

T = pd.Timestamp("2023-01-31")


def _features(ids):
    return pd.DataFrame({"customer_id": ids, "as_of": [T] * len(ids), "x": range(len(ids))})


def _labels(ids, values):
    return pd.DataFrame({"customer_id": ids, "as_of": [T] * len(ids), "label": values})


def test_features_and_labels_join_one_to_one():
    out = labelled_matrix(_features(["a", "b"]), _labels(["b", "a"], [1, 0]))
    assert out.set_index("customer_id")["label"].to_dict() == {"a": 0, "b": 1}
    assert out.attrs["unlabelled_rows"] == 0


def test_an_unlabelled_account_is_an_error_unless_the_definition_allows_it():
    features, labels = _features(["a", "b", "c"]), _labels(["a", "b"], [0, 1])
    with pytest.raises(ChurnError, match="disagree on the population for 1 rows"):
        labelled_matrix(features, labels)
    out = labelled_matrix(features, labels, unlabelled_ok=True)
    assert sorted(out["customer_id"]) == ["a", "b"]
    assert out.attrs["unlabelled_rows"] == 1  # counted, not silently lost


def test_a_label_without_features_is_always_an_error():
    with pytest.raises(ChurnError, match="disagree"):
        labelled_matrix(_features(["a"]), _labels(["a", "z"], [0, 1]), unlabelled_ok=True)
