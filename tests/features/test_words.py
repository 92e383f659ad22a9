import pytest

from features.words import describe_value


@pytest.mark.parametrize(
    ("unit", "value", "said"),
    [
        ("share_of_assets", 0.64, "64% of assets"),
        ("share_of_assets", -1.0, "-100% of assets"),
        ("share_of_assets", 1.5, "1.5x assets"),
        ("share_of_assets", -3.24, "-3.2x assets"),
        ("share_of_assets", -10.0, "-10.0x assets"),
        ("share_of_assets", -10.01, "less than -10x assets"),
        ("share_of_assets", 250.0, "more than 10x assets"),
        ("share", 0.5, "50%"),
        ("share", 25.0, "more than 10x"),
        ("change", -0.9, "-90%"),
        ("change", 10.0, "+1000%"),
        ("change", 50.0, "more than +1000%"),
        ("ratio", 2.0, "2.00x"),
        ("ratio", 100.0, "100.00x"),
        ("ratio", 5000.0, "more than 100x"),
    ],
)
def test_magnitudes_are_capped_and_readable(unit, value, said):
    assert describe_value("x", unit, value) == f"x = {said}"


def test_a_tiny_balance_against_a_large_flow_never_reads_as_a_thousand_percent():
    text = describe_value("net funds in over 3 months", "share_of_assets", -10.0 - 1e-9)
    assert "%" not in text and text.endswith("less than -10x assets")
