import re

import numpy as np
import pandas as pd
import pytest
import yaml

from features.builder.registry import model_feature_columns
from pipeline.core.contract import CLOSE_REASONS
from pipeline.core.errors import ChurnError
from pipeline.scoring.figures import play_figures
from pipeline.scoring.playbook import load_playbook

KNOWN = model_feature_columns()
TIERS = ["mass", "affluent", "high_net_worth"]


def write(tmp_path, causes: dict) -> str:
    path = tmp_path / "playbook.yaml"
    path.write_text(yaml.safe_dump({"causes": causes}, sort_keys=False))
    return str(path)


def complete(**entries) -> dict:
    """Every cause with a short play and no drivers, then the given entries."""
    causes = {cause: {"drivers": [], "play": f"play for {cause}"} for cause in CLOSE_REASONS}
    return causes | entries


def test_the_packaged_playbook_is_valid_and_covers_the_guideline_plays():
    playbook = load_playbook(None, KNOWN, TIERS)
    assert {c.name for c in playbook.causes} == set(CLOSE_REASONS)
    assert all(c.meaning for c in playbook.causes)
    meaning = {c.name: c.meaning.lower() for c in playbook.causes}
    plays = {c.name: c.play.lower() for c in playbook.causes}
    assert "securities industry" in meaning["identity"] and "relative" in meaning["identity"]
    assert "friend or relative" in meaning["relationship"] and "rival" in meaning["relationship"]
    assert (
        "risks" in plays["private_fund"] and "teach the customer to fish" in plays["private_fund"]
    )
    assert (
        "{yearly_difference_cny}" in plays["commission"] and "standard rate" in plays["commission"]
    )
    assert "bundle the accounts of the customer's relatives" in plays["commission"]
    assert "congratulate" in plays["relocation"] and "remote service" in plays["relocation"]
    assert "acknowledge" in plays["big_loss"] and "risk-control" in plays["big_loss"]
    assert "apologise" in plays["service"] and "dedicated" in plays["service"]
    assert "service products" in plays["fee_cut_demand"] and "5-yuan" in plays["fee_cut_demand"]
    assert "one-week trial of vip service" in playbook.failed_retention.lower()
    assert "market" in playbook.slow_market.lower()


def test_the_commission_play_cites_the_guideline_example():
    # CNY 100k a year at 0.25% against the rival's 0.2% is CNY 50 a year.
    frame = pd.DataFrame(
        {"traded_amount_12m": [100_000.0], "commission_12m": [250.0], "total_assets": [np.nan]}
    )
    figures = play_figures(frame, rival_commission_rate=0.002)[0]
    assert figures["yearly_difference_cny"] == "50"
    assert figures["own_rate"] == "0.25%" and figures["rival_rate"] == "0.2%"
    playbook = load_playbook(None, KNOWN, TIERS)
    said = playbook.play_for("commission", "mass", figures)
    assert "CNY 100,000 traded a year at 0.25% against the rival's 0.2% is CNY 50 a year" in said
    assert said.endswith(playbook.failed_retention)


def test_a_tier_variant_follows_the_play_and_other_tiers_get_the_plain_play(tmp_path):
    causes = complete(service={"play": "Apologise.", "tiers": {"high_net_worth": "Visit."}})
    playbook = load_playbook(write(tmp_path, causes), KNOWN, TIERS)
    assert playbook.play_for("service", "high_net_worth", {}) == "Apologise. Visit."
    assert playbook.play_for("service", "mass", {}) == "Apologise."
    assert playbook.play_for("service", None, {}) == "Apologise."


def test_a_user_playbook_keeps_file_order_and_folds_play_lines(tmp_path):
    causes = complete(commission={"drivers": ["warn_commission_drop"], "play": "Show\n  costs."})
    playbook = load_playbook(write(tmp_path, causes), KNOWN)
    assert [c.name for c in playbook.causes] == list(CLOSE_REASONS)
    assert playbook.play("commission") == "Show costs."
    assert playbook.causes_by_driver() == {
        "warn_commission_drop": (CLOSE_REASONS.index("commission"),)
    }


@pytest.mark.parametrize(
    ("causes", "message"),
    [
        (complete(greed={"play": "x"}), "unknown cause ['greed']"),
        (
            {c: {"play": "x"} for c in CLOSE_REASONS if c != "poached"},
            "causes ['poached'] are missing",
        ),
        (
            complete(service={"drivers": ["complaint_count"], "play": "x"}),
            "causes.service.drivers: unknown feature 'complaint_count' "
            "(did you mean 'complaints_2m'?)",
        ),
        (
            complete(service={"drivers": ["warn_complaint"]}),
            "causes.service.play: a non-empty text",
        ),
        (complete(service={"drivers": "warn_complaint", "play": "x"}), "expected a list"),
        (complete(service={"play": "x", "owner": "ops"}), "unknown keys ['owner']"),
        (
            complete(commission={"play": "save CNY {savings}"}),
            "causes.commission.play: unknown figure ['savings']",
        ),
        (
            complete(service={"play": "x", "tiers": {"vip": "y"}}),
            "causes.service.tiers: unknown value tier ['vip']",
        ),
        (
            complete(service={"play": "x", "tiers": {"mass": "cost {rate"}}),
            "causes.service.tiers.mass:",
        ),
    ],
)
def test_a_wrong_playbook_is_refused_with_the_place_named(tmp_path, causes, message):
    with pytest.raises(ChurnError, match=re.escape(message)):
        load_playbook(write(tmp_path, causes), KNOWN, TIERS)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"figures": {"rival_rate": 0.1}}, "figures: unknown keys ['rival_rate']"),
        (
            {"figures": {"rival_commission_rate": 2}},
            "figures.rival_commission_rate: expected a rate",
        ),
        ({"slow_market": ""}, "slow_market: expected a non-empty text"),
        ({"plays": {}}, "unknown top-level keys ['plays']"),
    ],
)
def test_wrong_top_level_entries_are_refused_naming_the_key(tmp_path, extra, message):
    path = tmp_path / "playbook.yaml"
    path.write_text(yaml.safe_dump({"causes": complete(), **extra}, sort_keys=False))
    with pytest.raises(ChurnError, match=re.escape(message)):
        load_playbook(path, KNOWN, TIERS)


def test_a_playbook_without_the_causes_key_or_not_yaml_is_refused(tmp_path):
    path = tmp_path / "playbook.yaml"
    path.write_text("plays:\n  commission: x\n")
    with pytest.raises(ChurnError, match="one top-level key `causes:`"):
        load_playbook(path, KNOWN)
    path.write_text("causes: [unclosed\n")
    with pytest.raises(ChurnError, match="is not valid YAML"):
        load_playbook(path, KNOWN)
    with pytest.raises(ChurnError, match="no such file"):
        load_playbook(tmp_path / "absent.yaml", KNOWN)


def test_each_account_gets_its_own_cause_tier_and_figures_in_its_play(tmp_path):
    from pipeline.scoring.causes import DRIVERS_SOURCE, SLOW_MARKET_SOURCE, CauseChoice, plays_for

    commission = {"play": "CNY {traded_12m_cny} at {own_rate}.", "tiers": {"mass": "Call."}}
    entries = complete(commission=commission, service={"play": "Sorry.", "tiers": {"mass": "Go."}})
    path = tmp_path / "playbook.yaml"
    path.write_text(yaml.safe_dump({"causes": entries, "slow_market": "Wait."}, sort_keys=False))
    playbook = load_playbook(str(path), KNOWN, TIERS)
    # Per tier: two commission accounts with different figures, "other" as a cause and as
    # the slow market's, a service account.
    causes = ["commission", "commission", "other", "other", "commission", "service"] * 3
    slow = [False, False, False, True, False, False] * 3
    tiers = [t for t in TIERS for _ in range(6)]
    traded = [100_000.0, 40_000.0, 1.0, 1.0, 100_000.0, 1.0] * 3
    frame = pd.DataFrame(
        {
            "traded_amount_12m": traded,
            "commission_12m": [250.0, 200.0, 0.0, 0.0, 250.0, 0.0] * 3,
            "total_assets": np.nan,
            "value_tier": pd.Categorical(tiers, categories=TIERS),
        }
    )
    choice = CauseChoice(
        causes,
        np.full(len(causes), np.nan),
        [SLOW_MARKET_SOURCE if s else DRIVERS_SOURCE for s in slow],
    )
    plays = plays_for(choice, frame, playbook)
    figures = play_figures(frame, playbook.rival_commission_rate)
    expected = [
        playbook.slow_market_play(tier, said) if s else playbook.play_for(cause, tier, said)
        for cause, s, tier, said in zip(causes, slow, tiers, figures, strict=True)
    ]
    assert plays == expected
    mass = ["CNY 100,000 at 0.25%. Call.", "CNY 40,000 at 0.5%. Call.", "play for other"]
    assert plays[:6] == [*mass, "Wait.", "CNY 100,000 at 0.25%. Call.", "Sorry. Go."]
    assert plays[12:18] == [
        "CNY 100,000 at 0.25%.",
        "CNY 40,000 at 0.5%.",
        "play for other",
        "Wait.",
        "CNY 100,000 at 0.25%.",
        "Sorry.",
    ]
