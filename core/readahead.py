"""Run an iterator one step ahead in a background thread.

An import parses (pure Python, holding the GIL) and writes to the database
(SQLite and libpq release the GIL while the database works). Run in one thread
the two take turns; with the parser in its own thread, parsing the next batch
overlaps writing the last, and the second core is used.

The database stays on the calling thread, so Django's per-thread connection
(and a test's transaction) is the one that writes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(items: Iterable[T], depth: int = 2) -> Generator[T, None, None]:
    """Yield `items` in order while a thread computes up to `depth` ahead.

    An exception raised by `items` is raised here, in the caller's thread, at
    the position it happened. Closing the generator early (an error while
    storing, a `break`) stops the thread at its next item."""
    buffer: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as error:  # handed over to the caller's thread
            put(_Failed(error))
            return
        put(_DONE)

    worker = threading.Thread(target=produce, name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
