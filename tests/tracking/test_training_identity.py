from pipeline.core.params import Params, load_params
from pipeline.tracking.mlflow_store import code_fingerprint
from pipeline.tracking.training_run import training_identity


def test_the_same_data_params_and_code_are_the_same_training():
    params = Params()
    same = training_identity("d" * 64, Params(), "c" * 64)
    assert training_identity("d" * 64, params, "c" * 64) == same
    assert training_identity("e" * 64, params, "c" * 64) != same  # other data
    assert training_identity("d" * 64, params, "f" * 64) != same  # other code
    seeded = load_params(None, ["model.seed=43"])
    assert training_identity("d" * 64, seeded, "c" * 64) != same  # another param


def test_the_code_fingerprint_is_stable_between_calls():
    assert code_fingerprint() == code_fingerprint()
    assert len(code_fingerprint()) == 64
