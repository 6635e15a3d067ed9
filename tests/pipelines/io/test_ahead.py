"""Read-ahead (pipelines.io.ahead): same items, same order, errors at their place, and no
thread left running when the consumer stops early."""

from __future__ import annotations

import threading

import pytest

from pipelines.io.ahead import ordered_map, read_ahead


def _alive() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "kefu-read-ahead"]


@pytest.mark.parametrize("depth", [0, 1, 2, 5])
def test_items_in_order(depth):
    assert list(read_ahead((i * i for i in range(50)), depth)) == [i * i for i in range(50)]
    assert not _alive()


@pytest.mark.parametrize("depth", [0, 2])
def test_an_error_is_raised_after_the_items_before_it(depth):
    def items():
        yield 1
        yield 2
        raise ValueError("第 3 个坏了")

    got = []
    with pytest.raises(ValueError, match="第 3 个坏了"):
        for x in read_ahead(items(), depth):
            got.append(x)
    assert got == [1, 2]
    assert not _alive()


def test_a_consumer_that_stops_early_stops_and_closes_the_producer():
    closed = threading.Event()
    produced = []

    def items():
        try:
            for i in range(1000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    gen = read_ahead(items(), 2)
    assert next(gen) == 0
    gen.close()
    assert closed.is_set() and not _alive()
    assert len(produced) <= 5  # bounded: a few items ahead, never the whole sequence


def test_the_producer_runs_in_another_thread():
    seen = []

    def items():
        seen.append(threading.current_thread().name)
        yield 1

    assert list(read_ahead(items(), 2)) == [1]
    assert seen == ["kefu-read-ahead"]


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_ordered_map_keeps_the_order_of_the_items(workers):
    import random
    import time

    def slow_square(i):
        time.sleep(random.random() / 500)  # later items often finish first
        return i * i

    assert list(ordered_map(slow_square, range(40), workers)) == [i * i for i in range(40)]


def test_ordered_map_raises_at_the_failing_item_and_takes_items_lazily():
    taken = []

    def items():
        for i in range(100):
            taken.append(i)
            yield i

    def fn(i):
        if i == 3:
            raise ValueError("第 3 块坏了")
        return i

    got = []
    with pytest.raises(ValueError, match="第 3 块坏了"):
        for x in ordered_map(fn, items(), 2):
            got.append(x)
    assert got == [0, 1, 2]
    assert len(taken) <= 6  # a few items ahead, never the whole sequence


def test_ordered_map_raises_an_error_of_the_items_after_the_results_before_it():
    def items():
        yield from range(5)
        raise OSError("第 5 块读不出来")

    got = []
    with pytest.raises(OSError, match="第 5 块读不出来"):
        for x in ordered_map(lambda i: i * 10, items(), 2):
            got.append(x)
    assert got == [0, 10, 20, 30, 40]
