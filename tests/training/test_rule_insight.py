import pandas as pd

from models.rules import RULE_FLAGS
from pipeline.training.rule_insight import STAYED, indicator_hit_rates


def test_hit_rates_group_churners_by_cause_and_stayers_apart():
    rows = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "label": [1, 1, 1, 0],
        }
    )
    for flag in RULE_FLAGS:
        rows[flag] = False
    rows.loc[[0, 1], "warn_outflow"] = True  # both relocations drained funds
    rows.loc[2, "warn_fee_cut_request"] = True  # the commission leaver asked for a cut
    rows.loc[3, "warn_empty_position"] = True  # a stayer sitting in cash: a false alarm
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "close_reason": ["relocation", "relocation", "commission", None],
        }
    )
    table = indicator_hit_rates(rows, customers)
    assert table.loc["relocation", "rows"] == 2
    assert table.loc["relocation", "warn_outflow"] == 1.0
    assert table.loc["commission", "warn_fee_cut_request"] == 1.0
    assert table.loc["commission", "warn_outflow"] == 0.0
    assert table.loc[STAYED, "warn_empty_position"] == 1.0
    assert table.loc[STAYED, "any_warning"] == 1.0
