import threading
import time

import pytest

from core.readahead import read_ahead


def test_it_yields_every_item_in_order():
    assert list(read_ahead(iter(range(1000)), depth=3)) == list(range(1000))


def test_it_runs_the_items_in_another_thread():
    threads = []

    def items():
        for n in range(3):
            threads.append(threading.current_thread())
            yield n

    assert list(read_ahead(items())) == [0, 1, 2]
    assert all(thread is not threading.current_thread() for thread in threads)


def test_an_error_is_raised_in_the_caller_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("record 3 is broken")

    seen: list[int] = []

    def consume() -> None:
        for item in read_ahead(items()):
            seen.append(item)

    with pytest.raises(ValueError, match="record 3 is broken"):
        consume()
    assert seen == [1, 2]


def test_closing_early_stops_the_thread():
    produced = []

    def items():
        for n in range(10_000):
            produced.append(n)
            yield n

    before = threading.active_count()
    batches = read_ahead(items(), depth=2)
    assert next(batches) == 0
    batches.close()
    time.sleep(0.05)
    assert threading.active_count() == before
    assert len(produced) < 10  # it stopped, a few items ahead at most
