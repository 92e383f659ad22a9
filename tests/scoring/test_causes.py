from pipeline.core.contract import CLOSE_REASONS
from pipeline.scoring.causes import CauseFinder
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
