from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from core.access import get_invitation_for_token, get_job_for_user, get_review_for_user
from core.models import AuditEvent, AuthenticatedHttpRequest, User
from core.roles import Role
from reviews import services
from reviews.dashboard import cards_for
from reviews.forms import InvitationSignupForm, InviteForm, MemberRoleForm, ReviewForm
from reviews.models import Invitation, Membership, Review


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _attempt(request: HttpRequest, action: Callable[[], object], success: str) -> bool:
    """Run one service call; tell the user its refusal, or `success`."""
    try:
        action()
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return False
    messages.success(request, success)
    return True


# Audit events whose details would unblind screening (who voted which way):
# votes cast, withdrawn, imported, and calibration votes before the round closes.
SEALED_VERBS = frozenset(
    {
        "screening.voted",
        "screening.vote_withdrawn",
        "screening.vote_imported",
        "screening.pilot_voted",
    }
)


@login_required
@require_safe
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    memberships = (
        Membership.objects.filter(user_id=request.user.pk)
        .select_related("review")
        .annotate(member_count=Count("review__memberships", distinct=True))
        .order_by("-review__updated_at")
    )
    invitations = (
        Invitation.objects.pending()
        .filter(email__iexact=request.user.email)
        .exclude(review__memberships__user_id=request.user.pk)
        .select_related("review", "invited_by")
    )
    return render(
        request,
        "reviews/home.html",
        {"memberships": memberships, "invitations": invitations},
    )


@login_required
def review_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        review = services.review_create(creator=request.user, **form.cleaned_data)
        messages.success(request, f"Review “{review.title}” created. You are its lead.")
        return redirect(review)
    return render(request, "reviews/review_form.html", {"form": form})


@login_required
@require_safe
def dashboard(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    review = get_review_for_user(request.user, review_id)
    prefetch_related_objects([review], "criteria")
    team = review.memberships.values("role").annotate(n=Count("id"))
    role_counts = {row["role"]: row["n"] for row in team}
    context = {
        "review": review,
        "inclusion": review.inclusion_criteria(),
        "exclusion": review.exclusion_criteria(),
        "role_counts": [
            (role, role_counts.get(role.value, 0)) for role in reversed(Role)
        ],
        "member_count": sum(role_counts.values()),
        "pending_invitations": review.invitations.pending().count(),
        "stage_cards": cards_for(review),
        "recent_events": (
            AuditEvent.objects.filter(review=review).select_related("actor")[:8]
            if review.viewer_is_lead
            else []
        ),
    }
    return render(request, "reviews/dashboard.html", context)


@login_required
def review_edit(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    form = ReviewForm(request.POST or None, instance=review)
    if request.method == "POST" and form.is_valid():
        # form.instance already holds the new values; the service re-reads the
        # row so that its audit "before" is what was stored.
        services.review_update(review=review, actor=request.user, **form.cleaned_data)
        messages.success(request, "Review details saved.")
        return redirect(review)
    return render(request, "reviews/review_form.html", {"form": form, "review": review})


@login_required
@require_safe
def team(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    review = get_review_for_user(request.user, review_id)
    context = {
        "review": review,
        "memberships": review.memberships.select_related("user").order_by("user__name"),
        "roles": list(reversed(Role)),
        "invite_form": InviteForm(),
    }
    if review.viewer_is_lead:
        context["invitations"] = review.invitations.filter(
            accepted_at__isnull=True
        ).select_related("invited_by")[:50]
        context["jobs"] = review.jobs.filter(kind="invitations.send")[:3]
    return render(request, "reviews/team.html", context)


@login_required
@require_POST
def invite(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    form = InviteForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return redirect("reviews:team", review.pk)
    try:
        job = services.invitations_create(
            review=review, actor=request.user, **form.cleaned_data
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request, f"{job.total} invitation(s) created; the e-mails are on their way."
        )
    return redirect("reviews:team", review.pk)


def _membership_in(review: Review, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, review=review
    )


@login_required
@require_POST
def member_role(
    request: AuthenticatedHttpRequest, review_id: int, membership_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    membership = _membership_in(review, membership_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles: lead, reviewer or observer.")
        return redirect("reviews:team", review.pk)
    role = form.cleaned_data["role"]
    _attempt(
        request,
        lambda: services.membership_change_role(
            membership=membership, actor=request.user, role=role
        ),
        f"{membership.user} is now {role.label}.",
    )
    return redirect("reviews:team", review.pk)


@login_required
@require_POST
def member_remove(
    request: AuthenticatedHttpRequest, review_id: int, membership_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    membership = _membership_in(review, membership_id)
    removed = _attempt(
        request,
        lambda: services.membership_remove(membership=membership, actor=request.user),
        f"{membership.user} was removed from the review.",
    )
    if removed and membership.user_id == request.user.pk:
        return redirect("reviews:home")
    return redirect("reviews:team", review.pk)


def _invitation_in(review: Review, invitation_id: int) -> Invitation:
    return get_object_or_404(Invitation, pk=invitation_id, review=review)


@login_required
@require_POST
def invitation_revoke(
    request: AuthenticatedHttpRequest, review_id: int, invitation_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    invitation = _invitation_in(review, invitation_id)
    _attempt(
        request,
        lambda: services.invitation_revoke(invitation=invitation, actor=request.user),
        f"The invitation of {invitation.email} was withdrawn.",
    )
    return redirect("reviews:team", review.pk)


@login_required
@require_POST
def invitation_resend(
    request: AuthenticatedHttpRequest, review_id: int, invitation_id: int
) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    invitation = _invitation_in(review, invitation_id)
    _attempt(
        request,
        lambda: services.invitation_resend(invitation=invitation, actor=request.user),
        f"The invitation was sent to {invitation.email} again.",
    )
    return redirect("reviews:team", review.pk)


@login_required
@require_safe
def activity(request: AuthenticatedHttpRequest, review_id: int) -> HttpResponse:
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    events = AuditEvent.objects.filter(review=review).select_related("actor")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    for event in page:
        # A lead may screen too: the log must not show other reviewers' votes.
        event.sealed = event.verb in SEALED_VERBS  # type: ignore[attr-defined]
    return render(request, "reviews/activity.html", {"review": review, "page": page})


@login_required
@require_safe
def job_status(
    request: AuthenticatedHttpRequest, review_id: int, job_id: int
) -> HttpResponse:
    job = get_job_for_user(request.user, review_id, job_id)
    refresh = request.GET.get("refresh") == "1"
    context = {"job": job, "review_id": review_id, "refresh": refresh}
    response = render(request, "_partials/job.html", context)
    if refresh and job.is_finished:
        response["HX-Refresh"] = "true"  # the page shows the job's outcome
    return response


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Anyone holding the link may open it. Accepting needs an account: a
    logged-in user joins as themselves, an invited person without an account
    creates one here, and one with an account is asked to log in first."""
    try:
        invitation = get_invitation_for_token(token)
    except ValidationError as error:
        status = 404 if error.code == "invalid" else 410
        context = {"error": _error_text(error)}
        return render(
            request, "reviews/invitation_invalid.html", context, status=status
        )
    if request.user.is_authenticated:
        return _accept_as_current_user(
            cast(AuthenticatedHttpRequest, request), token, invitation
        )
    if User.objects.filter(email__iexact=invitation.email).exists():
        return render(
            request,
            "reviews/invitation_accept.html",
            {"invitation": invitation, "needs_login": True},
        )
    return _signup_and_accept(request, token, invitation)


def _accept_as_current_user(
    request: AuthenticatedHttpRequest, token: str, invitation: Invitation
) -> HttpResponse:
    if request.method == "POST":
        try:
            services.invitation_accept(token=token, user=request.user)
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(request, f"Welcome to “{invitation.review}”.")
            return redirect(invitation.review)
    return render(request, "reviews/invitation_accept.html", {"invitation": invitation})


def _signup_and_accept(
    request: HttpRequest, token: str, invitation: Invitation
) -> HttpResponse:
    form = InvitationSignupForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_signup_with_invitation(
                token=token,
                name=form.cleaned_data["name"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to “{invitation.review}”.")
            return redirect(invitation.review)
    context = {"invitation": invitation, "signup_form": form}
    return render(request, "reviews/invitation_accept.html", context)
