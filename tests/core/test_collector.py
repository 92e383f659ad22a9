import gc

import pytest

from pipeline.core.collector import cycle_collection_paused


@pytest.fixture
def collector_as_it_was():
    enabled = gc.isenabled()
    yield
    gc.enable() if enabled else gc.disable()


def test_the_collector_is_paused_inside_and_running_again_after(collector_as_it_was):
    gc.enable()
    with cycle_collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_paused_before_stays_paused(collector_as_it_was):
    gc.disable()
    with cycle_collection_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_an_error_inside_still_restarts_the_collector(collector_as_it_was):
    gc.enable()
    with pytest.raises(ValueError), cycle_collection_paused():
        raise ValueError("inside")
    assert gc.isenabled()
