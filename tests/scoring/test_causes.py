import numpy as np
import pandas as pd

from models.cause_model import ChurnCauseModel
from pipeline.core.contract import CLOSE_REASONS
from pipeline.scoring.causes import (
    DRIVERS_SOURCE,
    MODEL_SOURCE,
    SLOW_MARKET_SOURCE,
    CauseFinder,
    likely_causes,
    market_slowdown,
)
from pipeline.scoring.playbook import Playbook, parse_causes
from pipeline.scoring.reasons import Reason

KNOWN = [
    "warn_outflow",
    "outflow_share_6m",
    "warn_contact_drop",
    "contacts_3m",
    "warn_big_loss",
    "loss_share_1m",
    "age_years",
]


def finder() -> CauseFinder:
    """A small playbook: poached before private_fund, so poached wins their ties."""
    entries = {cause: {"play": f"play for {cause}"} for cause in CLOSE_REASONS}
    entries = {
        "poached": {
            "drivers": ["warn_outflow", "warn_contact_drop"],
            "play": "senior manager call",
        },
        "private_fund": {"drivers": ["outflow_share_6m"], "play": "own fund products"},
        "relationship": {"drivers": ["warn_contact_drop", "contacts_3m"], "play": "handover"},
        "big_loss": {"drivers": ["loss_share_1m"], "play": "acknowledge the loss"},
    } | {
        c: e
        for c, e in entries.items()
        if c not in ("poached", "private_fund", "relationship", "big_loss")
    }
    return CauseFinder(Playbook(parse_causes({"causes": entries}, KNOWN, "test"), "test"))


def reason(*drivers: str) -> Reason:
    return Reason("words", drivers)


def test_one_reason_picks_every_cause_it_names_and_ties_go_to_the_earlier_cause():
    # outflow rule (warn_outflow + outflow_share_6m): poached 3, private_fund 3 -> poached
    assert finder().likely_cause([reason("warn_outflow", "outflow_share_6m")]) == "poached"


def test_stronger_reasons_weigh_more():
    # loss (3 votes big_loss) beats contacts (2 votes relationship)
    reasons = [reason("loss_share_1m"), reason("contacts_3m")]
    assert finder().likely_cause(reasons) == "big_loss"


def test_weaker_reasons_add_up_against_a_stronger_one():
    # votes 3, 2, 1: private_fund 3 (outflow share); poached 2 (contact flag); relationship
    # 2 + 1 = 3. private_fund and relationship tie; private_fund is written first.
    reasons = [reason("outflow_share_6m"), reason("warn_contact_drop"), reason("contacts_3m")]
    assert finder().likely_cause(reasons) == "private_fund"
    # contact flag first: poached 3, relationship 3 + 1 = 4, big_loss 2 -> relationship
    reasons = [reason("warn_contact_drop"), reason("loss_share_1m"), reason("contacts_3m")]
    assert finder().likely_cause(reasons) == "relationship"


def test_no_reason_or_no_listed_driver_means_other_and_plays_come_from_the_playbook():
    cause_finder = finder()
    assert cause_finder.likely_cause([]) == "other"
    assert cause_finder.likely_cause([reason("age_years")]) == "other"
    assert cause_finder.play("poached") == "senior manager call"
    assert cause_finder.play("other") == "play for other"


def _market_frame(own, versus_market) -> pd.DataFrame:
    return pd.DataFrame({"trades_3m_vs_prev_3m": own, "trades_ratio_vs_market": versus_market})


def test_a_fall_with_the_whole_market_is_a_slow_market():
    # market median = own / versus market: 0.5/0.8 = 0.625 (slow), 0.5/0.5 = 1.0 (not),
    # 0.3/0.5 = 0.6 (slow, but the account fell further than the market), unknown
    frame = _market_frame([0.5, 0.5, 0.3, np.nan], [0.8, 0.5, 0.5, 1.0])
    got = market_slowdown(frame, slow_market_ratio=0.8)
    assert got.tolist() == [True, False, False, False]


def test_without_a_cause_model_drivers_decide_and_a_slow_market_is_other():
    entries = {cause: {"play": f"play for {cause}"} for cause in CLOSE_REASONS}
    entries["commission"] = {"drivers": ["warn_big_loss"], "play": "rates"}
    playbook = Playbook(parse_causes({"causes": entries}, KNOWN, "test"), "test")
    frame = _market_frame([0.5, 0.5], [0.8, 0.5])
    reasons = [[reason("warn_big_loss")], [reason("warn_big_loss")]]
    got = likely_causes(frame, reasons, None, CauseFinder(playbook), slow_market_ratio=0.8)
    assert got.cause == ["other", "commission"]
    assert got.source == [SLOW_MARKET_SOURCE, DRIVERS_SOURCE]
    assert np.isnan(got.probability).all()


def test_a_cause_model_names_the_cause_with_its_probability():
    X = pd.DataFrame({"complaints_12m": [0.0, 3.0] * 40, "outflow_share_6m": [0.9, 0.0] * 40})
    y = ["relocation", "service"] * 40
    model = ChurnCauseModel(
        feature_columns=list(X.columns), n_estimators=20, min_child_samples=5, num_threads=1
    ).fit(X, y)
    frame = X.head(2).assign(trades_3m_vs_prev_3m=0.5, trades_ratio_vs_market=0.8)
    got = likely_causes(frame, [[], []], model, finder(), slow_market_ratio=0.8)
    assert got.cause == ["relocation", "service"]
    assert got.source == [MODEL_SOURCE, MODEL_SOURCE]
    np.testing.assert_allclose(got.probability, model.predict_proba(frame).max(axis=1))
