"""A request rate shared by every process of the site.

NCBI counts requests per API key (or per address without one): the web process
(count previews) and every Celery worker draw from the same allowance, so an
in-process limiter lets two workers together exceed it. Each request here
reserves the next free moment in a database row (a short locked transaction),
then sleeps until its moment outside the transaction. Works on SQLite and
PostgreSQL alike, without Redis.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import transaction

from core.models import RateSlot


class SharedRateLimiter:
    """At most one request per `interval` seconds for `key`, across processes."""

    def __init__(
        self,
        key: str,
        interval: float,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.key = key
        self.interval = interval
        self._clock = clock
        self._sleep = sleep

    def wait(self) -> float:
        """Block until this process's reserved moment; return how long that took."""
        with transaction.atomic():
            RateSlot.objects.get_or_create(key=self.key)
            slot = RateSlot.objects.select_for_update().get(key=self.key)
            now = self._clock()
            # A moment far ahead (a clock set back) is not waited for.
            start = min(max(now, slot.next_at), now + 60 * self.interval)
            slot.next_at = start + self.interval
            slot.save(update_fields=["next_at"])
        waited = start - now
        if waited > 0:
            self._sleep(waited)
        return waited
