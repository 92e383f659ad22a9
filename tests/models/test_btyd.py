"""The BG/NBD baseline: hand-computed likelihoods and probabilities, a hand-made trade log
through the real feature builder, recovery of known parameters, and lifetimes where installed.

With r = alpha = a = b = 1 (pencil arithmetic, Fader, Hardie & Lee 2005, eq. 6):
- x = 0, T = 1: L = B(1,1)/B(1,1) * G(1) 1 / (G(1) 2^1) = 1/2.
- x = 1, t_x = 1, T = 2: B(1,2)/B(1,1) * G(2) / 3^2 = 1/2 * 1/9 = 1/18, plus
  B(2,1)/B(1,1) * G(2) / 2^2 = 1/2 * 1/4 = 1/8; L = 1/18 + 1/8 = 13/72.
  P(alive) = (1/18) / (13/72) = 4/13; alive and silent for t = 1: (3/4)^2 = 9/16;
  P(no trade) = 9/13 + 4/13 * 9/16 = 45/52.
"""

import importlib.util

import numpy as np
import pandas as pd
import pytest

from models.btyd import (
    DAYS_PER_MONTH,
    BGNBDParams,
    ChurnBTYD,
    bgnbd_log_likelihood,
    btyd_summary,
    fit_bgnbd,
    probability_alive,
    probability_no_trade,
)
from models.estimator import InputError
from pipeline.core.errors import ChurnError
from tests.features.feature_fixtures import build, customers, load, row, trades

ONES = BGNBDParams(r=1.0, alpha=1.0, a=1.0, b=1.0)
HAS_LIFETIMES = importlib.util.find_spec("lifetimes") is not None


def test_likelihood_of_hand_computed_accounts():
    got = np.exp(bgnbd_log_likelihood(ONES, [0, 1], [0, 1], [1, 2]))
    np.testing.assert_allclose(got, [1 / 2, 13 / 72], rtol=1e-12)


def test_probability_alive_and_of_no_trade_by_hand():
    assert probability_alive(ONES, [1], [1], [2])[0] == pytest.approx(4 / 13, rel=1e-12)
    assert probability_no_trade(ONES, [1], [1], [2], 1.0)[0] == pytest.approx(45 / 52, rel=1e-12)
    # Without a repeat trade nobody has died yet: only the silence of a live account counts.
    assert probability_alive(ONES, [0], [0], [5])[0] == 1.0
    assert probability_no_trade(ONES, [0], [0], [5], 1.0)[0] == pytest.approx(6 / 7, rel=1e-12)


def test_a_long_silence_after_regular_trading_means_likely_gone():
    recent = probability_no_trade(ONES, [10], [100], [101], 30.0)[0]
    silent = probability_no_trade(ONES, [10], [20], [101], 30.0)[0]
    assert silent > recent


@pytest.fixture(scope="module")
def hand_log():
    """Customer "r" trades Mar 1 (twice), Mar 11, Apr 10, Jun 20: x = 3, t_x = 111, T = 121
    at 2023-06-30; "once" traded only on 2023-06-10; "never" opened 2022-01-03, no trade."""
    rows = [
        ("r", "2023-03-01", 100.0, 1.0),
        ("r", "2023-03-01", 100.0, 1.0),
        ("r", "2023-03-11", 100.0, 1.0),
        ("r", "2023-04-10", 100.0, 1.0),
        ("r", "2023-06-20", 100.0, 1.0),
        ("r", "2023-07-05", 100.0, 1.0),  # after T: never seen at T
        ("once", "2023-06-10", 100.0, 1.0),
    ]
    tables = load(customers=customers("r", "once", "never"), trades=trades(rows))
    return build(tables, as_of=(pd.Timestamp("2023-06-30"),))


def test_summary_from_a_hand_made_log(hand_log):
    frame = pd.DataFrame([row(hand_log, c) for c in ("r", "once", "never")])
    x, t_x, T = btyd_summary(frame)
    never_age = (17 + 0.5) * DAYS_PER_MONTH  # opened January 2022: 17 whole months at June 2023
    np.testing.assert_allclose(x, [3, 0, 0])
    np.testing.assert_allclose(t_x, [111, 0, 0])
    np.testing.assert_allclose(T, [121, 20, never_age])


def test_baseline_scores_the_hand_made_log_by_the_formula(hand_log):
    frame = pd.DataFrame([row(hand_log, c) for c in ("r", "once", "never")])
    model = ChurnBTYD(horizon_months=3, calibration="none").fit(frame, [0, 0, 1])
    p = model.params_
    t = 3 * DAYS_PER_MONTH
    alive = 1 / (1 + p.a / (p.b + 2) * ((p.alpha + 121) / (p.alpha + 111)) ** (p.r + 3))
    expected_r = 1 - alive + alive * ((p.alpha + 121) / (p.alpha + 121 + t)) ** (p.r + 3)
    expected_once = ((p.alpha + 20) / (p.alpha + 20 + t)) ** p.r
    got = model.predict_proba(frame)[:, 1]
    assert got[0] == pytest.approx(expected_r, rel=1e-9)
    assert got[1] == pytest.approx(expected_once, rel=1e-9)


def simulated_bgnbd(params: BGNBDParams, accounts: int, age: float, seed: int):
    """Draw (x, t_x, T) from BG/NBD itself: gamma rates, beta death chances, all aged ``age``."""
    rng = np.random.default_rng(seed)
    rates = rng.gamma(params.r, 1.0 / params.alpha, accounts)
    death = rng.beta(params.a, params.b, accounts)
    x, t_x = np.zeros(accounts), np.zeros(accounts)
    for i in range(accounts):
        clock = 0.0
        while True:
            clock += rng.exponential(1.0 / rates[i])
            if clock > age:
                break
            x[i], t_x[i] = x[i] + 1, clock
            if rng.random() < death[i]:
                break
    return x, t_x, np.full(accounts, age)


def test_fit_recovers_the_parameters_it_was_simulated_with():
    truth = BGNBDParams(r=0.5, alpha=20.0, a=0.8, b=2.5)
    x, t_x, T = simulated_bgnbd(truth, 4000, 365.0, seed=3)
    fitted = fit_bgnbd(x, t_x, T)
    # Population parameters, estimated from 4,000 accounts: within a fifth, the rate mean closer.
    assert fitted.r / fitted.alpha == pytest.approx(truth.r / truth.alpha, rel=0.1)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fitted, name) == pytest.approx(getattr(truth, name), rel=0.2), name


def test_fit_uses_no_label_and_calibration_keeps_the_ranking(hand_log):
    rng = np.random.default_rng(0)
    x, t_x, T = simulated_bgnbd(BGNBDParams(0.5, 20.0, 0.8, 2.5), 600, 300.0, seed=1)
    frame = pd.DataFrame(
        {
            "repeat_trade_days": np.where(x > 0, x, np.nan),
            "first_to_last_trade_days": np.where(x > 0, t_x, np.nan),
            "days_since_first_trade": np.where(x > 0, T, np.nan),
            "tenure_months": 10.0,
        }
    )
    y = rng.integers(0, 2, len(frame))
    one = ChurnBTYD(calibration="sigmoid").fit(frame, y, eval_set=(frame, y))
    other = ChurnBTYD(calibration="sigmoid").fit(frame, 1 - y, eval_set=(frame, y))
    assert one.params_ == other.params_
    raw, calibrated = one.predict_raw(frame), one.predict_proba(frame)[:, 1]
    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(calibrated[order]) >= 0)
    assert ((calibrated > 0) & (calibrated < 1)).all()


def test_missing_columns_and_impossible_summaries_are_refused():
    with pytest.raises(InputError, match="tenure_months"):
        ChurnBTYD().fit(pd.DataFrame({"repeat_trade_days": [1.0]}), [1])
    with pytest.raises(ChurnError, match="0 <= t_x <= T"):
        fit_bgnbd([1, 2], [5, 30], [10, 20])


@pytest.mark.skipif(not HAS_LIFETIMES, reason="lifetimes (a benchmark dependency) not installed")
def test_cdnow_sample_gives_the_published_parameters_and_lifetimes_answers():
    from lifetimes import BetaGeoFitter
    from lifetimes.datasets import load_cdnow_summary

    data = load_cdnow_summary()  # 2,357 customers, weeks, as in Fader, Hardie & Lee 2005
    x, t_x, T = data["frequency"], data["recency"], data["T"]
    fitted = fit_bgnbd(x, t_x, T)
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert getattr(fitted, name) == pytest.approx(value, abs=2e-3), name
    assert bgnbd_log_likelihood(fitted, x, t_x, T).sum() == pytest.approx(-9582.4, abs=0.1)
    reference = BetaGeoFitter().fit(x, t_x, T)
    alive = reference.conditional_probability_alive(x, t_x, T)
    np.testing.assert_allclose(probability_alive(fitted, x, t_x, T), alive, atol=1e-3)
    ref = reference.params_
    silent = ((ref["alpha"] + T) / (ref["alpha"] + T + 13)) ** (ref["r"] + x)
    np.testing.assert_allclose(
        probability_no_trade(fitted, x, t_x, T, 13.0), 1 - alive + alive * silent, atol=1e-3
    )
