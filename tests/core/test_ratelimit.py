"""The NCBI allowance is shared by processes: limiters that share nothing but the
database (as the web process and workers do) space their requests together."""

from __future__ import annotations

import itertools

import pytest
from django.test import override_settings

from core.models import RateSlot
from core.ratelimit import SharedRateLimiter
from searches import services


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.django_db
def test_two_processes_share_one_allowance() -> None:
    clock = Clock()
    # Two limiters with no memory in common, as in two worker processes.
    web, worker = (
        SharedRateLimiter("ncbi:test", 0.5, clock=clock.time, sleep=clock.sleep)
        for _ in range(2)
    )
    starts = []
    for limiter in (web, worker, web, worker, worker):
        limiter.wait()
        starts.append(clock.now)
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(starts)]
    assert gaps == [0.5, 0.5, 0.5, 0.5]
    assert RateSlot.objects.get(key="ncbi:test").next_at == pytest.approx(
        starts[-1] + 0.5
    )


@pytest.mark.django_db
def test_no_wait_once_the_interval_has_passed() -> None:
    clock = Clock()
    limiter = SharedRateLimiter("k", 1.0, clock=clock.time, sleep=clock.sleep)
    assert limiter.wait() == 0.0
    clock.now += 5
    assert limiter.wait() == 0.0


@pytest.mark.django_db
def test_a_slot_far_in_the_future_is_not_waited_for() -> None:
    clock = Clock()
    RateSlot.objects.create(key="k", next_at=clock.now + 86_400)  # clock set back
    limiter = SharedRateLimiter("k", 0.5, clock=clock.time, sleep=clock.sleep)
    assert limiter.wait() == pytest.approx(30.0)


@pytest.mark.django_db
@override_settings(NCBI_EMAIL="lead@example.org", NCBI_API_KEY="")
def test_the_site_client_uses_the_shared_limiter_at_ncbi_rates() -> None:
    client = services.entrez_client()
    assert isinstance(client.limiter, SharedRateLimiter)
    assert client.limiter.interval == pytest.approx(1.1 / 3)
    assert client.limiter.key == "ncbi:no-key"
    with override_settings(NCBI_API_KEY="secret-key"):
        keyed = services.entrez_client().limiter
    assert isinstance(keyed, SharedRateLimiter)
    assert keyed.interval == pytest.approx(1.1 / 10)
    assert "secret" not in keyed.key
