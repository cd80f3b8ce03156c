"""The collector is paused for loads only, and comes back when the last concurrent one ends."""

import gc
import threading

from mapsvc.services.collector import collector_paused


def test_the_collector_is_off_during_a_load_and_on_after_it_even_when_the_load_fails():
    assert gc.isenabled()
    try:
        with collector_paused():
            assert not gc.isenabled()
            raise ValueError("a bad file")
    except ValueError:
        pass
    assert gc.isenabled()


def test_the_collector_stays_off_until_the_last_of_overlapping_loads_ends():
    first_inside, second_done = threading.Event(), threading.Event()
    seen = []

    def first_load():
        with collector_paused():
            first_inside.set()
            second_done.wait(5)
            seen.append(gc.isenabled())  # the other load ended: still off for this one

    thread = threading.Thread(target=first_load)
    thread.start()
    first_inside.wait(5)
    with collector_paused():
        pass
    second_done.set()
    thread.join(5)
    assert seen == [False]
    assert gc.isenabled()


def test_a_collector_someone_else_turned_off_stays_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
