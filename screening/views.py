"""Screening pages: the stage dashboard, the keyboard-first screening page and
its htmx fragments, conflicts, settings, reasons, highlight terms, shortcuts.

Blinding is enforced in what each view reads (screening.selectors and
services.decisions_visible), never only in templates.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from core.access import get_review_for_user
from core.models import AuthenticatedHttpRequest, Job, User
from core.roles import Role
from core.uploads import upload_refusal
from reviews.models import Review
from screening import full_text_services, pilot_services, selectors, services
from screening.forms import (
    DEFAULT_SHORTCUTS,
    SHORTCUT_ACTIONS,
    DecisionForm,
    HighlightTermForm,
    QueueForm,
    ReasonForm,
    ResolveForm,
    ShortcutsForm,
    StageSettingsForm,
)
from screening.highlight import highlighter
from screening.models import (
    Decision,
    ExclusionReason,
    FullText,
    HighlightTerm,
    PilotRound,
    PilotVote,
    PriorityTraining,
    RecordStage,
    ScreeningPreferences,
    StageSettings,
)
from screening.rules import Stage, Vote
from screening.selectors import SHOW_LABELS, Show
from searches.models import Record

STAGE_NAMES = {
    Stage.TITLE_ABSTRACT: "Title and abstract",
    Stage.FULL_TEXT: "Full text",
}


def _errors(error: ValidationError) -> str:
    return " ".join(error.messages)


def shortcuts_of(user: User) -> dict[str, str]:
    preferences = ScreeningPreferences.objects.filter(user=user).first()
    return {**DEFAULT_SHORTCUTS, **(preferences.shortcuts if preferences else {})}


# --- Dashboard --------------------------------------------------------------------


@login_required
@require_safe
def dashboard(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    """Progress per reviewer for every member; counts of conflicts and
    agreement for those who may see them (leads, or everyone once unblinded)."""
    review = get_review_for_user(request.user, review_id)
    stages = []
    for stage in Stage:
        settings = services.stage_settings(review, stage)
        sees_votes = review.viewer_role == Role.LEAD or settings.unblinded_at
        entry: dict[str, Any] = {
            "stage": stage,
            "name": STAGE_NAMES[stage],
            "settings": settings,
            "progress": selectors.progress(review, stage),
            "counts": selectors.stage_counts(review, stage),
            "sees_votes": sees_votes,
            "screening_open": services.screening_open(review, stage, settings),
            "to_resolve": selectors.listed(
                review, stage, request.user, Show.CONFLICTS
            ).count(),
        }
        if review.viewer_role in (Role.REVIEWER, Role.LEAD):
            entry["my_pending"] = selectors.pending_for(
                review, stage, request.user
            ).count()
        if settings.prioritised and stage is Stage.TITLE_ABSTRACT:
            entry["training"] = PriorityTraining.objects.filter(review=review).first()
        if sees_votes:
            pairs = services.stage_agreement(review, stage)
            users = User.objects.in_bulk({pk for a, b, _ in pairs for pk in (a, b)})
            entry["agreement"] = [(users[a], users[b], r) for a, b, r in pairs]
        stages.append(entry)
    context = {"review": review, "stages": stages}
    return render(request, "screening/dashboard.html", context)


# --- The screening page -------------------------------------------------------------


def _card(
    request: AuthenticatedHttpRequest,
    review: Review,
    stage: Stage,
    settings: StageSettings,
    record: Record | None,
    show: Show,
    *,
    error: str = "",
) -> dict[str, Any]:
    """Everything the record card shows, read blind: the viewer's own vote, and
    other votes only when services.decisions_visible allows them."""
    user = request.user
    context: dict[str, Any] = {
        "review": review,
        "stage": stage,
        "stage_name": STAGE_NAMES[stage],
        "settings": settings,
        "record": record,
        "show": show,
        "show_label": SHOW_LABELS[show],
        "error": error,
        "shortcuts": shortcuts_of(user),
    }
    if record is None or not (request.htmx and not request.htmx.boosted):
        # Counting a reviewer's votes grows with the review: full pages and
        # the end of the queue show it, the fragment served after each vote not.
        context["screened"] = Decision.objects.filter(
            review=review, stage=stage.value, reviewer=user
        ).count()
    if record is None:
        return context
    seen = services.record_view(
        review=review, record=record, stage=stage, viewer=user, settings=settings
    )
    mine = next((d for d in seen.votes if d.reviewer_id == user.pk), None)
    terms = HighlightTerm.objects.filter(
        Q(user=user) | Q(user__isnull=True), review=review
    )
    context.update(
        mine=mine,
        others=[d for d in seen.votes if d.reviewer_id != user.pk],
        state=seen.state,
        may_resolve=seen.may_resolve,
        reasons=list(ExclusionReason.objects.filter(review=review, archived=False)),
        highlight=highlighter(terms.values_list("term", "kind")),
        full_text=FullText.objects.filter(record=record).first()
        if stage is Stage.FULL_TEXT
        else None,
    )
    return context


def _allowed(review: Review, stage: Stage, user: User, show: Show) -> Show:
    """Conflicts are listed only to those who resolve them."""
    if show is Show.CONFLICTS and not services.may_resolve(review, stage, user):
        return Show.PENDING
    return show


def _render_card(
    request: AuthenticatedHttpRequest, context: dict[str, Any]
) -> HttpResponse:
    template = "screening/screen.html"
    if request.htmx and not request.htmx.boosted:
        template += "#record-card"
    return render(request, template, context)


@login_required
@require_safe
def screen(
    request: AuthenticatedHttpRequest, review_id: int, stage: Stage
) -> HttpResponse:
    """One record at a time: the next waiting for the viewer's vote, or a record
    of one of their lists (`show`), or one asked for by id (`record`)."""
    review = get_review_for_user(request.user, review_id, min_role=Role.REVIEWER)
    current = stage
    settings = services.stage_settings(review, current)
    if not services.screening_open(review, current, settings):
        messages.info(request, "Screen the calibration round first.")
        return redirect("screening:pilot", review.pk, current)
    show, after, record_id = QueueForm(request.GET).cleaned()
    show = _allowed(review, current, request.user, show)
    record: Record | None
    if record_id is not None:
        record = get_object_or_404(selectors.screenable(review, current), pk=record_id)
    else:
        record = selectors.next_record(
            review, current, request.user, settings, show=show, after=after
        )
    context = _card(request, review, current, settings, record, show)
    if not (request.htmx and not request.htmx.boosted):
        context.update(
            shows=[
                (s, label)
                for s, label in SHOW_LABELS.items()
                if s is not Show.MAYBE or settings.allows_maybe
                if s is not Show.CONFLICTS
                or services.may_resolve(review, current, request.user)
            ],
            key_legend=[
                (context["shortcuts"][action], label)
                for action, label in SHORTCUT_ACTIONS.items()
                if action != "maybe" or settings.allows_maybe
            ],
        )
    return _render_card(request, context)


@login_required
@require_POST
def vote(
    request: AuthenticatedHttpRequest, review_id: int, stage: Stage, record_id: int
) -> HttpResponse:
    """Store the viewer's vote, then show the next record (htmx: as a fragment)."""
    review = get_review_for_user(request.user, review_id, min_role=Role.REVIEWER)
    current = stage
    settings = services.stage_settings(review, current)
    record = get_object_or_404(Record, pk=record_id, review=review)
    show, _, _ = QueueForm(request.POST).cleaned()
    show = _allowed(review, current, request.user, show)
    form = DecisionForm(request.POST, review=review)
    error = ""
    if not form.is_valid():
        error = " ".join(
            f"{name.capitalize()}: {' '.join(str(p) for p in problems)}"
            if name in ("note", "reason")
            else "Choose include, exclude or maybe."
            for name, problems in form.errors.items()
        )
    else:
        try:
            services.decision_record(
                review=review,
                record=record,
                stage=current,
                reviewer=request.user,
                vote=Vote(form.cleaned_data["vote"]),
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                settings=settings,
            )
        except ValidationError as failure:
            error = _errors(failure)
    if error:
        # The same record again, with the problem named above the buttons.
        if not request.htmx:
            messages.error(request, error)
            # Back to the same record, unless it left the stage (merged away).
            still = selectors.screenable(review, current).filter(pk=record.pk).exists()
            target = record.pk if still else None
            return redirect(_screen_url(review, current, show, record=target))
        context = _card(request, review, current, settings, record, show, error=error)
        return _render_card(request, context)
    following = selectors.next_record(
        review, current, request.user, settings, show=show, after=record.pk
    )
    if not request.htmx:
        return redirect(
            _screen_url(
                review, current, show, record=following.pk if following else None
            )
        )
    return _render_card(
        request, _card(request, review, current, settings, following, show)
    )


def _screen_url(
    review: Review, stage: Stage, show: Show, *, record: int | None = None
) -> str:
    url = reverse("screening:screen", args=[review.pk, stage.value])
    query = [f"show={show.value}"] if show is not Show.PENDING else []
    if record is not None:
        query.append(f"record={record}")
    return url + ("?" + "&".join(query) if query else "")


@login_required
@require_POST
def undo(
    request: AuthenticatedHttpRequest, review_id: int, stage: Stage
) -> HttpResponse:
    """Withdraw the viewer's last vote and show that record again."""
    review = get_review_for_user(request.user, review_id, min_role=Role.REVIEWER)
    current = stage
    settings = services.stage_settings(review, current)
    try:
        record: Record | None = services.vote_undo(
            review=review, stage=current, reviewer=request.user
        )
        error = ""
    except ValidationError as failure:
        record, error = None, _errors(failure)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(
            _screen_url(
                review, current, Show.PENDING, record=record.pk if record else None
            )
        )
    if record is None:
        record = selectors.next_record(review, current, request.user, settings)
    context = _card(
        request, review, current, settings, record, Show.PENDING, error=error
    )
    return _render_card(request, context)


@login_required
@require_POST
def resolve(
    request: AuthenticatedHttpRequest, review_id: int, stage: Stage, record_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.REVIEWER)
    current = stage
    record = get_object_or_404(Record, pk=record_id, review=review)
    if not services.may_resolve(review, current, request.user):
        raise Http404("No such conflict.")  # not a resolver: do not confirm it exists
    form = ResolveForm(request.POST, review=review)
    if not form.is_valid():
        messages.error(
            request, "Choose include or exclude, and a reason from the list."
        )
    else:
        try:
            services.conflict_resolve(
                review=review,
                record=record,
                stage=current,
                actor=request.user,
                vote=Vote(form.cleaned_data["vote"]),
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                method=RecordStage.Method(form.cleaned_data["method"]),
            )
        except ValidationError as failure:
            messages.error(request, _errors(failure))
        else:
            messages.success(request, "Conflict resolved.")
    next_url = _screen_url(review, current, Show.CONFLICTS)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = next_url
        return response
    return redirect(next_url)


@login_required
@require_POST
def unblind(
    request: AuthenticatedHttpRequest, review_id: int, stage: Stage
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    current = stage
    try:
        services.stage_unblind(review=review, stage=current, actor=request.user)
    except ValidationError as failure:
        messages.error(request, _errors(failure))
    else:
        messages.success(request, f"{STAGE_NAMES[current]}: every vote is now visible.")
    return redirect("screening:dashboard", review.pk)


# --- Settings, reasons, highlight terms, shortcuts ----------------------------------


@login_required
def stage_settings(
    request: AuthenticatedHttpRequest, review_id: int, stage: Stage
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    current = stage
    settings = services.stage_settings(review, current)
    form = StageSettingsForm(request.POST or None, instance=settings, review=review)
    if request.method == "POST" and form.is_valid():
        services.stage_settings_update(
            review=review, stage=current, actor=request.user, form=form
        )
        messages.success(request, f"{STAGE_NAMES[current]} settings saved.")
        return redirect("screening:dashboard", review.pk)
    context = {"review": review, "form": form, "stage_name": STAGE_NAMES[current]}
    return render(request, "screening/stage_settings.html", context)


@login_required
def reasons(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    """The review's ordered exclusion reasons: every member reads them; leads
    add, rename, reorder and archive."""
    review = get_review_for_user(request.user, review_id)
    is_lead = review.viewer_role == Role.LEAD
    form = ReasonForm(request.POST or None, review=review)
    if request.method == "POST":
        if not is_lead:
            raise PermissionDenied("Only a lead changes the review-wide lists.")
        if form.is_valid():
            services.reason_create(
                review=review, actor=request.user, label=form.cleaned_data["label"]
            )
            messages.success(request, "Reason added.")
            return redirect("screening:reasons", review.pk)
    context = {
        "review": review,
        "form": form,
        "is_lead": is_lead,
        "reasons": ExclusionReason.objects.filter(review=review),
    }
    return render(request, "screening/reasons.html", context)


@login_required
@require_POST
def reason_change(
    request: AuthenticatedHttpRequest, review_id: int, reason_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    reason = get_object_or_404(ExclusionReason, pk=reason_id, review=review)
    action = request.POST.get("action", "")
    actions: dict[str, dict[str, Any]] = {
        "up": {"move": -1},
        "down": {"move": 1},
        "archive": {"archived": True},
        "restore": {"archived": False},
    }
    changes = actions.get(action, {})
    if action == "rename":
        form = ReasonForm(request.POST, instance=reason, review=review)
        if form.is_valid():
            changes = {"label": form.cleaned_data["label"]}
        else:
            messages.error(request, " ".join(str(e) for e in form.errors["label"]))
    if changes:
        services.reason_change(reason=reason, actor=request.user, **changes)
    return redirect("screening:reasons", review.pk)


@login_required
def highlights(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    """Review-wide terms (leads) and the viewer's own terms."""
    review = get_review_for_user(request.user, review_id, min_role=Role.REVIEWER)
    form = HighlightTermForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        review_wide = request.POST.get("scope") == "review"
        if review_wide and review.viewer_role != Role.LEAD:
            raise PermissionDenied("Only a lead changes the review-wide lists.")
        term = form.save(commit=False)
        term.review, term.user = review, None if review_wide else request.user
        if HighlightTerm.objects.filter(
            review=review, user=term.user, term__iexact=term.term
        ).exists():
            form.add_error("term", "This term is already highlighted.")
        else:
            term.save()
            return redirect("screening:highlights", review.pk)
    terms = HighlightTerm.objects.filter(review=review, user__isnull=True)
    own = HighlightTerm.objects.filter(review=review, user=request.user)
    context = {
        "review": review,
        "form": form,
        "terms": terms,
        "own": own,
        "is_lead": review.viewer_role == Role.LEAD,
    }
    return render(request, "screening/highlights.html", context)


@login_required
@require_POST
def highlight_delete(
    request: AuthenticatedHttpRequest, review_id: int, term_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.REVIEWER)
    term = get_object_or_404(HighlightTerm, pk=term_id, review=review)
    if term.user_id is None and review.viewer_role != Role.LEAD:
        raise PermissionDenied("Only a lead removes review-wide terms.")
    if term.user_id not in (None, request.user.pk):
        raise Http404("No such term.")
    term.delete()
    return redirect("screening:highlights", review.pk)


@login_required
def shortcuts(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.REVIEWER)
    form = ShortcutsForm(request.POST or None, current=shortcuts_of(request.user))
    if request.method == "POST" and form.is_valid():
        ScreeningPreferences.objects.update_or_create(
            user=request.user, defaults={"shortcuts": form.cleaned_data}
        )
        messages.success(request, "Your keyboard shortcuts are saved.")
        return redirect("screening:screen", review.pk, Stage.TITLE_ABSTRACT.value)
    return render(request, "screening/shortcuts.html", {"review": review, "form": form})


# --- Full texts ---------------------------------------------------------------------


@login_required
@require_safe
def full_text(
    request: AuthenticatedHttpRequest, review_id: int, record_id: int
) -> FileResponse:
    """The record's PDF, to members of the review only."""
    review = get_review_for_user(request.user, review_id)
    document = get_object_or_404(FullText, review=review, record_id=record_id)
    response = FileResponse(
        document.file.open("rb"), content_type="application/pdf", as_attachment=False
    )
    response["Content-Disposition"] = f'inline; filename="{document.record_id}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_POST
def full_text_upload(
    request: AuthenticatedHttpRequest, review_id: int, record_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.REVIEWER)
    record = get_object_or_404(
        selectors.screenable(review, Stage.FULL_TEXT), pk=record_id
    )
    upload = request.FILES.get("file")
    refused = upload_refusal(request)
    if refused:
        messages.error(request, refused)
    elif upload is None:
        messages.error(request, "Choose a PDF file to upload.")
    else:
        name = upload.name or "full text.pdf"
        try:
            full_text_services.full_text_attach(
                review=review,
                record=record,
                actor=request.user,
                name=name,
                data=full_text_services.read_upload(upload),
            )
        except ValidationError as failure:
            messages.error(request, _errors(failure))
        else:
            messages.success(request, f"{name} attached.")
    return redirect(
        _screen_url(review, Stage.FULL_TEXT, Show.PENDING, record=record.pk)
    )


@login_required
def full_texts(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    """A lead uploads a ZIP of PDFs, follows its matching, and matches by hand
    the PDFs no record could be chosen for."""
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    if request.method == "POST":
        upload = request.FILES.get("file")
        refused = upload_refusal(request)
        if refused:
            messages.error(request, refused)
        elif upload is None:
            messages.error(request, "Choose a ZIP file of PDFs.")
        else:
            try:
                full_text_services.full_text_zip_start(
                    review=review,
                    actor=request.user,
                    upload=upload,
                    name=upload.name or "upload.zip",
                )
            except ValidationError as failure:
                messages.error(request, _errors(failure))
            else:
                messages.success(request, "Matching the PDFs to records.")
        return redirect("screening:full_texts", review.pk)
    unmatched = list(
        FullText.objects.filter(review=review, record__isnull=True).order_by(
            "file_name"
        )
    )
    candidate_ids = {pk for f in unmatched for pk in f.candidates}
    candidates = Record.objects.filter(review=review).in_bulk(list(candidate_ids))
    at_full_text = selectors.screenable(review, Stage.FULL_TEXT)
    context = {
        "review": review,
        "unmatched": [
            (f, [candidates[pk] for pk in f.candidates if pk in candidates])
            for f in unmatched
        ],
        "job": Job.objects.filter(
            review=review, kind=full_text_services.ZIP_KIND
        ).first(),
        "at_full_text": at_full_text.count(),
        "with_pdf": at_full_text.filter(full_text__isnull=False).count(),
    }
    return render(request, "screening/full_texts.html", context)


@login_required
@require_POST
def full_text_assign(
    request: AuthenticatedHttpRequest, review_id: int, full_text_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    document = get_object_or_404(FullText, pk=full_text_id, review=review)
    typed = request.POST.get("record", "").strip()
    record = (
        Record.objects.filter(review=review, pk=int(typed)).first()
        if typed.isdigit() and len(typed) <= 18
        else None
    )
    if record is None:
        messages.error(request, "Choose one of this review's records (its number).")
    else:
        try:
            full_text_services.full_text_assign(
                review=review, actor=request.user, full_text=document, record=record
            )
        except ValidationError as failure:
            messages.error(request, _errors(failure))
        else:
            messages.success(
                request, f"{document.file_name} is now the PDF of record {record.pk}."
            )
    return redirect("screening:full_texts", review.pk)


# --- Calibration rounds (SCR-7) ------------------------------------------------------


@login_required
@require_safe
def pilot(
    request: AuthenticatedHttpRequest, review_id: int, stage: Stage
) -> HttpResponse:
    """The stage's calibration rounds: the open round's sample to screen (own
    votes only), progress per reviewer, and each closed round's results and
    votes (visible to every member once closed)."""
    review = get_review_for_user(request.user, review_id)
    settings = services.stage_settings(review, stage)
    rounds = pilot_services.rounds_of(review, stage)
    current = next((r for r in rounds if r.closed_at is None), None)
    context: dict[str, Any] = {
        "review": review,
        "stage": stage,
        "stage_name": STAGE_NAMES[stage],
        "settings": settings,
        "current": current,
        "open": services.screening_open(review, stage, settings),
        "closed": [_pilot_closed(r) for r in reversed(rounds) if r.closed_at],
    }
    if current is not None:
        context.update(_pilot_current(request, review, settings, current))
    return render(request, "screening/pilot.html", context)


def _pilot_current(
    request: AuthenticatedHttpRequest,
    review: Review,
    settings: StageSettings,
    current: PilotRound,
) -> dict[str, Any]:
    mine = {
        v.record_id: v
        for v in PilotVote.objects.filter(round=current, reviewer=request.user)
    }
    counts = (
        PilotVote.objects.filter(round=current)
        .values("reviewer__name", "reviewer__email")
        .annotate(voted=Count("id"))
        .order_by("reviewer__name")
    )
    records = list(current.records.order_by("pk"))
    with_pdf: set[int] = set()
    if current.stage == Stage.FULL_TEXT:
        with_pdf = set(
            FullText.objects.filter(record__in=records).values_list(
                "record_id", flat=True
            )
        )
    return {
        "with_pdf": with_pdf,
        "rows": [(record, mine.get(record.pk)) for record in records],
        "size": len(records),
        "counts": counts,
        "screens": review.viewer_role in (Role.REVIEWER, Role.LEAD),
        "reasons": ExclusionReason.objects.filter(review=review, archived=False),
    }


def _pilot_closed(pilot: PilotRound) -> dict[str, Any]:
    votes: dict[int, dict[int, PilotVote]] = {}
    for vote in PilotVote.objects.filter(round=pilot).select_related("reason"):
        votes.setdefault(vote.record_id, {})[vote.reviewer_id] = vote
    voters = User.objects.filter(
        pk__in={pk for by in votes.values() for pk in by}
    ).order_by("name")
    users = {u.pk: u for u in voters}
    records = pilot.records.order_by("pk")
    full_text = pilot.stage == Stage.FULL_TEXT
    return {
        "round": pilot,
        "voters": voters,
        "results": [
            {**r, "a": users.get(r["a"]), "b": users.get(r["b"])} for r in pilot.results
        ],
        "rows": [
            (
                record,
                [votes.get(record.pk, {}).get(u.pk) for u in voters],
                _differ(votes.get(record.pk, {}).values(), full_text=full_text),
            )
            for record in records
        ],
    }


def _differ(votes: Iterable[PilotVote], *, full_text: bool) -> bool:
    """Whether the votes disagree as the agreement counts them: maybe as
    include; at full text, two exclusions for different reasons too (SCR-4)."""
    seen = {
        (Vote.INCLUDE.value, None)
        if v.vote == Vote.MAYBE
        else (v.vote, v.reason_id if full_text else None)
        for v in votes
    }
    return len(seen) > 1


@login_required
@require_POST
def pilot_vote(
    request: AuthenticatedHttpRequest,
    review_id: int,
    stage: Stage,
    pilot_id: int,
    record_id: int,
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.REVIEWER)
    current = get_object_or_404(PilotRound, pk=pilot_id, review=review, stage=stage)
    record = get_object_or_404(current.records, pk=record_id)
    form = DecisionForm(request.POST, review=review)
    error, vote = "", None
    try:
        if not form.is_valid():
            raise ValidationError(
                "Choose a reason from the list."
                if "reason" in form.errors
                else "Choose include, exclude or maybe."
            )
        vote = pilot_services.pilot_vote(
            pilot=current,
            record=record,
            reviewer=request.user,
            vote=Vote(form.cleaned_data["vote"]),
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as failure:
        error = _errors(failure)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect(
            reverse("screening:pilot", args=[review.pk, stage]) + f"#pilot-{record.pk}"
        )
    if vote is None:
        vote = PilotVote.objects.filter(
            round=current, record=record, reviewer=request.user
        ).first()
    context = {
        "review": review,
        "stage": stage,
        "current": current,
        "record": record,
        "vote": vote,
        "error": error,
        "screens": True,
        "with_pdf": set(
            FullText.objects.filter(record=record).values_list("record_id", flat=True)
        ),
        "settings": services.stage_settings(review, stage),
        "reasons": ExclusionReason.objects.filter(review=review, archived=False),
    }
    return render(request, "screening/pilot.html#pilot-row", context)


@login_required
@require_POST
def pilot_start(
    request: AuthenticatedHttpRequest, review_id: int, stage: Stage
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    try:
        started = pilot_services.pilot_start(
            review=review, stage=stage, actor=request.user
        )
    except ValidationError as failure:
        messages.error(request, _errors(failure))
    else:
        messages.success(
            request,
            f"Calibration round {started.number} drawn: every reviewer screens it.",
        )
    return redirect("screening:pilot", review.pk, stage)


@login_required
@require_POST
def pilot_close(
    request: AuthenticatedHttpRequest, review_id: int, stage: Stage, pilot_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    current = get_object_or_404(PilotRound, pk=pilot_id, review=review, stage=stage)
    try:
        closed = pilot_services.pilot_close(pilot=current, actor=request.user)
    except ValidationError as failure:
        messages.error(request, _errors(failure))
    else:
        skipped = getattr(closed, "votes_not_carried_over", 0)
        if closed.passed and skipped:
            messages.warning(
                request,
                f"Round {closed.number} passed: screening is open. {skipped} pilot "
                f"vote{pluralize(skipped)} did not become decisions (a vote cast "
                "meanwhile, a record merged away, a reason archived, or more votes "
                "than the stage needs); those records are screened as usual.",
            )
        elif closed.passed:
            messages.success(
                request, f"Round {closed.number} passed: screening is open."
            )
        else:
            messages.warning(
                request,
                f"Round {closed.number} did not reach the agreement needed: "
                "clarify the criteria with the team and draw a new round.",
            )
    return redirect("screening:pilot", review.pk, stage)
