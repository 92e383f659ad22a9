"""The simulator's regime knobs: a long bear market and mostly silent leavers.

docs/demo-data.md, "Regimes". Each knob left at its default gives exactly the
default book; set, it changes only what it names.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.demo import simulate, simulated_market
from pipeline.demo.churn import SILENT_SHARE, silent_shares

SEED, MONTHS, START = 11, 24, "2021-01"
DRAINING_CAUSES = ("poached", "relocation", "private_fund", "incentive")


def test_a_forced_bear_spell_covers_the_last_months_and_leaves_the_rest_alone():
    drawn = simulated_market(SEED, MONTHS)
    forced = simulated_market(SEED, MONTHS, bear_spell_months=10)
    assert forced.bear[-10:].all()
    np.testing.assert_array_equal(forced.bear[:-10], drawn.bear[:-10])
    # Same random stream: the index differs only where a bull month became a bear month.
    changed = drawn.bear != forced.bear
    np.testing.assert_array_equal(forced.index_return[~changed], drawn.index_return[~changed])
    assert (forced.index_return[changed] < drawn.index_return[changed]).all()


def test_bear_spell_zero_is_the_default_market():
    drawn, zero = simulated_market(SEED, MONTHS), simulated_market(SEED, MONTHS, 0)
    np.testing.assert_array_equal(drawn.index_return, zero.index_return)


@pytest.mark.parametrize("months", [-1, MONTHS + 1])
def test_a_bear_spell_outside_the_history_is_refused(months):
    with pytest.raises(ValueError, match="bear_spell_months"):
        simulated_market(SEED, MONTHS, bear_spell_months=months)


def test_silent_shares_default_to_the_per_cause_table_or_one_share_for_all():
    assert silent_shares() is SILENT_SHARE
    np.testing.assert_array_equal(silent_shares(0.8), np.full(len(SILENT_SHARE), 0.8))
    with pytest.raises(ValueError, match="silent_leaver_share"):
        silent_shares(1.5)


def _drained_before_closing(tables: dict[str, pd.DataFrame]) -> float:
    """Mean money moved out in the 3 months before closing, by draining-cause closers."""
    customers = tables["customers"].dropna(subset=["closed_date"])
    closers = customers[customers.close_reason.isin(DRAINING_CAUSES)]
    out = (
        tables["transfers"]
        .query("direction == 'out'")
        .merge(closers[["customer_id", "closed_date"]], on="customer_id")
    )
    before = out[
        (out.transfer_date < out.closed_date - pd.Timedelta(days=5))
        & (out.transfer_date >= out.closed_date - pd.Timedelta(days=95))
    ]
    return float(before.amount.sum() / len(closers))


def test_mostly_silent_leavers_drain_less_before_closing():
    default = simulate(3000, MONTHS, SEED, START)
    silent = simulate(3000, MONTHS, SEED, START, silent_leaver_share=0.9)
    assert _drained_before_closing(silent) < 0.5 * _drained_before_closing(default)


def test_default_knobs_give_the_default_book():
    plain = simulate(200, 8, SEED, START)
    explicit = simulate(200, 8, SEED, START, bear_spell_months=0, silent_leaver_share=None)
    for name, frame in plain.items():
        pd.testing.assert_frame_equal(explicit[name], frame)


def _generate(out, *sets: str):
    args = ["generate", "--out", str(out), "--customers", "400", "--months", "14"]
    for item in sets:
        args += ["--set", item]
    return CliRunner().invoke(app, args)


def test_churn_generate_forwards_the_regime_knobs(tmp_path):
    runs = {
        "plain": _generate(tmp_path / "plain"),
        "silent": _generate(tmp_path / "silent", "data.demo.silent_leaver_share=0.9"),
        "bear": _generate(tmp_path / "bear", "data.demo.bear_spell_months=6"),
    }
    for name, result in runs.items():
        assert result.exit_code == 0, (name, result.output)
    moved = {name: pd.read_parquet(tmp_path / name / "transfers.parquet") for name in runs}
    assert not moved["silent"].equals(moved["plain"])
    assert not moved["bear"].equals(moved["plain"])
    # Exactly the simulator's book with that knob (seed data.demo.seed = 42, start 2021-01).
    book = simulate(400, 14, 42, "2021-01", silent_leaver_share=0.9)["transfers"]
    assert len(moved["silent"]) == len(book)
    assert moved["silent"]["amount"].sum() == pytest.approx(book["amount"].sum(), rel=1e-12)


def test_a_bear_spell_longer_than_the_history_is_refused(tmp_path):
    result = _generate(tmp_path / "d", "data.demo.bear_spell_months=15")
    assert result.exit_code == 2
    assert "data.demo.bear_spell_months=15 is longer than the 14 simulated months" in result.output
    assert not (tmp_path / "d").exists()
