"""Deduplication pages: overview and run, the review queue, merges and undo, report.

Only leads merge, split or decide pairs; every member sees the counts.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from core.access import get_review_for_user
from core.models import AuthenticatedHttpRequest
from core.roles import Role
from reviews.models import Review
from searches import dedup_services
from searches.forms import DedupSettingsForm
from searches.models import DuplicatePair, Merge, Record
from searches.views import spreadsheet_safe

COMPARED_FIELDS = (
    ("title", "Title"), ("author_names", "Authors"), ("year", "Year"),
    ("journal", "Journal"), ("volume", "Volume"), ("issue", "Issue"),
    ("pages", "Pages"), ("doi", "DOI"), ("pmid", "PMID"), ("abstract", "Abstract"),
)  # fmt: skip


@login_required
@require_safe
def overview(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    review = get_review_for_user(request.user, review_id)
    merges = Merge.objects.filter(review=review, undone_at__isnull=True).aggregate(
        auto=Count("id", filter=Q(method=Merge.Method.AUTO)),
        person=Count("id", filter=Q(method=Merge.Method.PERSON)),
    )
    pairs = DuplicatePair.objects.filter(review=review).aggregate(
        open=Count("id", filter=Q(status=DuplicatePair.Status.OPEN)),
        distinct=Count("id", filter=Q(status=DuplicatePair.Status.DISTINCT)),
    )
    context = {
        "review": review,
        "merges": merges,
        "pairs": pairs,
        "unchecked": Record.objects.unique(review.pk)
        .filter(dedup_checked=False)
        .count(),
        "job": dedup_services.dedup_running(review),
        "settings": dedup_services.dedup_settings(review),
    }
    return render(request, "searches/dedup.html", context)


@login_required
@require_POST
def run(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    try:
        dedup_services.dedup_start(review=review, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Looking for duplicates.")
    return redirect("searches:dedup", review.pk)


@login_required
def settings(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    """The lead sets the thresholds that later runs use."""
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    current = dedup_services.dedup_settings(review)
    form = DedupSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        dedup_services.dedup_settings_update(
            review=review, actor=request.user, **form.cleaned_data
        )
        messages.success(request, "The thresholds apply from the next run.")
        return redirect("searches:dedup", review.pk)
    context = {"review": review, "form": form}
    return render(request, "searches/dedup_settings.html", context)


def _comparison(pair: DuplicatePair) -> list[dict[str, object]]:
    rows = []
    for field, label in COMPARED_FIELDS:
        a, b = getattr(pair.record_a, field), getattr(pair.record_b, field)
        if isinstance(a, list):
            a, b = "; ".join(a), "; ".join(b)
        same = str(a or "").casefold().strip() == str(b or "").casefold().strip()
        rows.append({"label": label, "a": a, "b": b, "same": same})
    return rows


@login_required
@require_safe
def queue(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    """The next undecided pair, both records side by side (keys: s, n)."""
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    return _queue_page(request, review)


def _queue_page(request: AuthenticatedHttpRequest, review: Review) -> HttpResponse:
    waiting = DuplicatePair.objects.filter(
        review=review, status=DuplicatePair.Status.OPEN
    )
    pair = waiting.select_related("record_a", "record_b").order_by("-score", "id")
    current = pair.first()
    context = {
        "review": review,
        "pair": current,
        "rows": _comparison(current) if current else [],
        "left": waiting.count(),
    }
    template = "searches/dedup_queue.html"
    if request.htmx:
        template += "#pair"
    return render(request, template, context)


@login_required
@require_POST
def decide(
    request: AuthenticatedHttpRequest, review_id: int, pair_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    pair = get_object_or_404(DuplicatePair, pk=pair_id, review=review)
    choice = request.POST.get("decision")
    if choice not in ("same", "distinct"):
        messages.error(request, "Choose 'same record' or 'not duplicates'.")
    else:
        try:
            dedup_services.pair_decide(
                pair=pair, actor=request.user, same=choice == "same"
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    if request.htmx:
        return _queue_page(request, review)  # the next pair, as a fragment
    return redirect("searches:dedup_queue", review.pk)


@login_required
@require_safe
def merges(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    found = Merge.objects.filter(review=review, undone_at__isnull=True).select_related(
        "primary", "duplicate", "merged_by"
    )
    page = Paginator(found.order_by("-id"), 50).get_page(request.GET.get("page"))
    return render(
        request, "searches/dedup_merges.html", {"review": review, "page": page}
    )


@login_required
@require_POST
def undo(
    request: AuthenticatedHttpRequest, review_id: int, merge_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    merge = get_object_or_404(Merge, pk=merge_id, review=review)
    try:
        dedup_services.merge_undo(merge=merge, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"Record {merge.duplicate_id} stands on its own again."
        )
    return redirect("searches:dedup_merges", review.pk)


@login_required
@require_safe
def report(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    """Every duplicate group with why it was merged (CSV)."""
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="duplicates-review-{review.pk}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(dedup_services.REPORT_HEADER)
    for row in dedup_services.dedup_report_rows(review):
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return response
