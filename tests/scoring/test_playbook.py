import re

import pytest
import yaml

from features.builder.registry import model_feature_columns
from pipeline.core.contract import CLOSE_REASONS
from pipeline.core.errors import ChurnError
from pipeline.scoring.playbook import load_playbook

KNOWN = model_feature_columns()


def write(tmp_path, causes: dict) -> str:
    path = tmp_path / "playbook.yaml"
    path.write_text(yaml.safe_dump({"causes": causes}, sort_keys=False))
    return str(path)


def complete(**entries) -> dict:
    """Every cause with a short play and no drivers, then the given entries."""
    causes = {cause: {"drivers": [], "play": f"play for {cause}"} for cause in CLOSE_REASONS}
    return causes | entries


def test_the_packaged_playbook_is_valid_and_covers_the_guideline_plays():
    playbook = load_playbook(None, KNOWN)
    assert [c.name for c in playbook.causes] != [] and {c.name for c in playbook.causes} == set(
        CLOSE_REASONS
    )
    plays = {c.name: c.play.lower() for c in playbook.causes}
    assert "cost difference" in plays["commission"] and "bundled" in plays["commission"]
    assert "acknowledge" in plays["big_loss"] and "risk-control" in plays["big_loss"]
    assert "apologise" in plays["service"] and "dedicated" in plays["service"]
    assert "online" in plays["relocation"] and "nearest branch" in plays["relocation"]
    assert "service products" in plays["fee_cut_demand"] and "5-yuan" in plays["fee_cut_demand"]


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
    ],
)
def test_a_wrong_playbook_is_refused_with_the_place_named(tmp_path, causes, message):
    with pytest.raises(ChurnError, match=re.escape(message)):
        load_playbook(write(tmp_path, causes), KNOWN)


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
