"""Shared model fixtures (a synthetic labelled matrix, fitted models), loaded by conftest.py."""

import numpy as np
import pandas as pd
import pytest

from models.rules import RULE_FLAGS

NUMERIC = ["outflow_share_6m", "commission_vs_prev3m", "trades_3m", "noise"]
CATEGORICAL = ["channel", "branch", "value_tier"]
FEATURES = NUMERIC + CATEGORICAL + list(RULE_FLAGS) + ["total_assets"]
TIERS = ["mass", "affluent", "high_net_worth"]


def synthetic_matrix(customers: int = 500, months: int = 8, seed: int = 0):
    """Return (matrix, labels): churn driven by outflow, commission drop, channel and the flags."""
    rng = np.random.default_rng(seed)
    n = customers * months
    as_of = np.repeat(pd.date_range("2023-01-31", periods=months, freq="ME").to_numpy(), customers)
    outflow = rng.beta(1.2, 4.0, n)
    commission = rng.normal(0.0, 0.4, n)
    online = rng.random(n) < 0.5
    assets = np.exp(rng.normal(11.5, 1.4, n))
    logit = -3.6 + 4.0 * outflow - 2.5 * commission + 0.6 * online
    churn = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    flag = {
        "warn_outflow": outflow > 0.35,
        "warn_commission_drop": commission < -0.4,
        "warn_empty_position": rng.random(n) < np.where(churn == 1, 0.25, 0.05),
        "warn_trade_drop": rng.random(n) < np.where(churn == 1, 0.3, 0.15),
        "warn_big_loss": rng.random(n) < 0.05,
        "warn_complaint": rng.random(n) < np.where(churn == 1, 0.15, 0.03),
        "warn_fee_cut_request": rng.random(n) < 0.04,
        "warn_contact_drop": rng.random(n) < 0.1,
    }
    commission[rng.random(n) < 0.1] = np.nan
    matrix = pd.DataFrame(
        {
            "customer_id": [f"C{i % customers:05d}" for i in range(n)],
            "as_of": pd.DatetimeIndex(as_of).astype("datetime64[us]"),
            "outflow_share_6m": outflow,
            "commission_vs_prev3m": commission,
            "trades_3m": rng.poisson(6, n).astype("float64"),
            "noise": rng.normal(size=n),
            "channel": pd.Categorical(np.where(online, "online", "onsite")),
            "branch": pd.Categorical(rng.choice(["B1", "B2", "B3", "B4"], n)),
            "value_tier": pd.Categorical(
                np.array(TIERS)[np.digitize(assets, [100_000.0, 1_000_000.0])],
                categories=TIERS,
                ordered=True,
            ),
            "total_assets": assets,
            **flag,
        }
    )
    return matrix, pd.Series(churn, name="churn")


@pytest.fixture(scope="session")
def matrix():
    return synthetic_matrix()


@pytest.fixture(scope="session")
def parts(matrix):
    """Train months 1-4, validation months 5-6, test months 7-8 of the synthetic matrix."""
    frame, labels = matrix
    month = frame["as_of"].rank(method="dense").astype(int)
    train, valid, test = month <= 4, month.between(5, 6), month >= 7
    return {
        name: (frame[rows].reset_index(drop=True), labels[rows].reset_index(drop=True))
        for name, rows in (("train", train), ("valid", valid), ("test", test))
    }


@pytest.fixture(scope="session")
def fitted(parts):
    """The three models fitted on the synthetic training (and validation) months."""
    from models.lightgbm_model import ChurnLightGBM
    from models.logistic import ChurnLogistic
    from models.rules import RuleBaseline
    from pipeline.core.params import Params

    params = Params()
    model = single_thread_model_params()
    (X, y), (X_valid, y_valid) = parts["train"], parts["valid"]
    return {
        "lightgbm": ChurnLightGBM(model, FEATURES).fit(X, y, X_valid, y_valid),
        "rules": RuleBaseline(params.rules.weights, params.rules.levels).fit(X, y),
        "logistic": ChurnLogistic(model, FEATURES).fit(X, y, X_valid, y_valid),
    }


def single_thread_model_params(**sections):
    """Default model params with one LightGBM thread (OpenMP threads thrash on a busy machine)."""
    from pipeline.core.params import ModelParams

    lightgbm = {"num_threads": 1, **sections.pop("lightgbm", {})}
    return ModelParams.model_validate({**sections, "lightgbm": lightgbm})


@pytest.fixture(scope="session")
def model_params():
    """Build test model params: ``model_params(calibration="none", lightgbm={...})``."""
    return single_thread_model_params


@pytest.fixture(scope="session")
def feature_columns():
    return list(FEATURES)


@pytest.fixture(scope="session")
def fit_lightgbm(parts):
    """Fit LightGBM on the synthetic parts: ``fit_lightgbm(calibration="sigmoid")``."""
    from models.lightgbm_model import ChurnLightGBM

    def fit(**sections):
        (X, y), (X_valid, y_valid) = parts["train"], parts["valid"]
        params = single_thread_model_params(**sections)
        return ChurnLightGBM(params, FEATURES).fit(X, y, X_valid, y_valid)

    return fit
