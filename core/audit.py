"""Writing the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models, transaction

from core.models import AuditEvent

if TYPE_CHECKING:
    from core.models import User


def audit_event_create(
    *,
    actor: User | None,
    verb: str,
    target: models.Model,
    review_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one change. Must run inside the transaction that makes the change,
    so that a rollback removes the change and its audit row together."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(
            "audit_event_create must be called inside transaction.atomic()"
        )
    return AuditEvent.objects.create(
        review_id=review_id,
        actor=actor,
        verb=verb,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        before=before,
        after=after,
    )
