"""Prioritised screening in the app: retrain the model as title/abstract
outcomes arrive, and write one score per open record for the queue to read.

The model (screening/prioritisation.py) learns only from records resolved at
title/abstract, never from single votes: a vote is blinded until its record is
resolved, and a record's place in anyone's queue must not move because another
reviewer voted on it. It only orders records; it never writes a decision.

One training runs at a time per review (a claim on PriorityTraining); a
request that arrives meanwhile is picked up when the running one ends. The
pool's features are cached on disk, because vectorising 100,000 records takes
~20 s and retraining on them a few seconds.
"""

from __future__ import annotations

import hashlib
import logging
import time
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from scipy import sparse

from reviews.models import Review
from screening.models import (
    PriorityScore,
    PriorityTraining,
    RecordStage,
    StageSettings,
)
from screening.prioritisation import (
    Ranking,
    Vectorised,
    ranking_from_matrix,
    record_text,
    vectorise,
)
from screening.rules import Outcome, Stage
from screening.selectors import screenable
from screening.services import priority_retrain_enqueue, stage_settings
from searches.querysets import RecordQuerySet

log = logging.getLogger(__name__)

# A claim older than the task's hard time limit (1900 s) died with its worker.
CLAIM_STALE = timedelta(minutes=35)
SCORE_BATCH = 5000
FEATURES_VERSION = 1  # bump when vectorise() changes: cached features go stale


def retrain_every(labelled: int) -> int:
    """New outcomes needed before the next training: every one while the model
    knows little, then about 5% more outcomes, at most 25 (a training on a
    large pool takes seconds; one per decision would queue up behind a team)."""
    return max(1, min(25, labelled // 20))


def priority_retrain_run(*, review_id: int) -> PriorityTraining | None:
    """Train on the resolved title/abstract outcomes and rescore the open records.

    Returns the training state when it trained, None when it had nothing to do
    (prioritisation off, another training running, too few new outcomes)."""
    review = Review.objects.filter(pk=review_id).first()
    if review is None or not _prioritised(review):
        return None
    started = _claim(review)
    if started is None:
        return None  # the running training runs again when it ends
    trained = False
    try:
        trained = _train(review)
    except Exception as error:
        log.exception("Prioritisation of review %s failed", review_id)
        PriorityTraining.objects.filter(review=review).update(error=str(error)[:500])
        raise
    finally:
        again = _release(review, started)
    if again:
        priority_retrain_enqueue(review_id)  # asked for while it trained
    training = PriorityTraining.objects.get(review=review)
    return training if trained else None


@transaction.atomic
def _claim(review: Review) -> datetime | None:
    """Take the review's training, or, when another runs, ask it to run again
    (so a request refused here is never lost). The claim's time, or None."""
    PriorityTraining.objects.get_or_create(review=review)
    training = PriorityTraining.objects.select_for_update().get(review=review)
    now = timezone.now()
    if training.started_at and training.started_at > now - CLAIM_STALE:
        training.rerun = True
        training.save(update_fields=["rerun"])
        return None
    training.started_at, training.rerun = now, False
    training.save(update_fields=["started_at", "rerun"])
    return now


@transaction.atomic
def _release(review: Review, started: datetime) -> bool:
    """End this training's claim (never a newer one's); whether to run again."""
    training = PriorityTraining.objects.select_for_update().get(review=review)
    if training.started_at != started:
        return False  # taken over as stale: the new claim owns the re-run
    again = training.rerun or bool(
        training.requested_at and training.requested_at > started
    )
    training.started_at, training.rerun = None, False
    training.save(update_fields=["started_at", "rerun"])
    return again


def reviews_behind() -> list[int]:
    """Prioritised reviews whose scores lag: never trained, a request after the
    last training (lost with a dead worker), or records imported or merged
    since (the pool no longer matches what was scored)."""
    behind = []
    for review_id in StageSettings.objects.filter(
        stage=Stage.TITLE_ABSTRACT.value, prioritised=True
    ).values_list("review_id", flat=True):
        training = PriorityTraining.objects.filter(review_id=review_id).first()
        if training is None or training.trained_at is None:
            behind.append(review_id)
            continue
        if training.started_at is not None:
            continue  # running
        review = Review(pk=review_id)
        pool = screenable(review, Stage.TITLE_ABSTRACT).count()
        asked = training.requested_at and training.requested_at > training.trained_at
        if asked or pool != training.labelled + training.scored:
            behind.append(review_id)
    return behind


def _prioritised(review: Review) -> bool:
    return stage_settings(review, Stage.TITLE_ABSTRACT).prioritised


def _train(review: Review) -> bool:
    clock = time.perf_counter()
    training = PriorityTraining.objects.get(review=review)
    pool = screenable(review, Stage.TITLE_ABSTRACT)
    ids = np.fromiter(pool.order_by("pk").values_list("pk", flat=True), np.int64)
    position = {int(pk): i for i, pk in enumerate(ids)}
    outcomes = RecordStage.objects.filter(
        review=review,
        stage=Stage.TITLE_ABSTRACT.value,
        status__in=[Outcome.INCLUDED.value, Outcome.EXCLUDED.value],
    ).values_list("record_id", "status")
    labels = {
        position[pk]: status == Outcome.INCLUDED.value
        for pk, status in outcomes
        if pk in position  # not a record merged away
    }
    unchanged_pool = len(ids) == training.labelled + training.scored
    new = abs(len(labels) - training.labelled)
    if (
        training.trained_at
        and unchanged_pool
        and PriorityScore.objects.filter(review=review).exists()
        and new < retrain_every(training.labelled)
    ):
        return False
    vectorised = _pool_features(review, pool, ids)
    ranking = ranking_from_matrix(vectorised, labels)
    _scores_write(review, ids, ranking)
    PriorityTraining.objects.filter(pk=training.pk).update(
        trained_at=timezone.now(),
        labelled=len(labels),
        relevant=sum(labels.values()),
        scored=len(ranking.order),
        method=ranking.method,
        estimated_remaining=ranking.estimated_remaining_relevant,
        seconds=round(time.perf_counter() - clock, 3),
        error="",
    )
    return True


@transaction.atomic
def _scores_write(review: Review, ids: np.ndarray, ranking: Ranking) -> None:
    """Replace the review's scores in one transaction: the queue reads the old
    scores until the new ones are all there."""
    PriorityScore.objects.filter(review=review).delete()
    PriorityScore.objects.bulk_create(
        (
            PriorityScore(review=review, record_id=int(ids[position]), score=score)
            for position, score in zip(ranking.order, ranking.scores, strict=True)
        ),
        batch_size=SCORE_BATCH,
    )


def _pool_features(review: Review, pool: RecordQuerySet, ids: np.ndarray) -> Vectorised:
    """The pool's features from the cache when the pool is unchanged (same
    records, none edited since), else vectorised afresh and cached."""
    edited = pool.aggregate(last=Max("updated_at"))["last"]
    # The features change with the pool, an edited record, or the vectoriser.
    key = ids.tobytes() + f"{edited}|{FEATURES_VERSION}".encode()
    signature = hashlib.sha256(key).hexdigest()
    path = _cache_path(review)
    cached = _cache_read(path, signature)
    if cached is not None:
        return cached
    texts = dict.fromkeys(int(pk) for pk in ids)
    for pk, title, abstract in pool.values_list("pk", "title", "abstract"):
        texts[pk] = record_text(title, abstract)
    vectorised = vectorise([texts[int(pk)] or "" for pk in ids])
    _cache_write(path, signature, vectorised)
    return vectorised


def _cache_path(review: Review) -> Path:
    return Path(settings.VAR_DIR) / "priority" / f"review-{review.pk}.npz"


def _cache_read(path: Path, signature: str) -> Vectorised | None:
    try:
        with np.load(path) as saved:
            if str(saved["signature"]) != signature:
                return None
            matrix = sparse.csr_matrix(
                (saved["data"], saved["indices"], saved["indptr"]),
                shape=tuple(saved["shape"]),
            )
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None  # none yet, or unreadable (truncated): vectorise again
    return Vectorised(matrix)


def _cache_write(path: Path, signature: str, vectorised: Vectorised) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    matrix = vectorised.matrix
    np.savez(
        partial,
        signature=np.array(signature),
        data=matrix.data,
        indices=matrix.indices,
        indptr=matrix.indptr,
        shape=np.array(matrix.shape),
    )
    partial.replace(path)  # readers never see a half-written file
