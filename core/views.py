from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from core import services
from core.forms import ProfileForm
from core.models import AuthenticatedHttpRequest
from reviews.models import Membership


@login_required
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        if form.email_changed:
            new_email = form.cleaned_data["email"]
            services.email_change_request(user=request.user, new_email=new_email)
            messages.info(
                request,
                f"We sent a link to {new_email}. "
                "Your address changes when you open it.",
            )
        messages.success(request, "Profile saved.")
        return redirect("core:profile")
    memberships = Membership.objects.filter(user_id=request.user.pk).select_related(
        "review"
    )
    return render(
        request, "core/profile.html", {"form": form, "memberships": memberships}
    )


@login_required
def email_confirm(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    """GET shows what the link would change; POST applies it."""
    error, new_email = "", ""
    try:
        new_email = services.email_change_token_read(user=request.user, token=token)
        if request.method == "POST":
            services.email_change_confirm(user=request.user, token=token)
            messages.success(request, f"Your e-mail address is now {new_email}.")
            return redirect("core:profile")
    except ValidationError as exc:
        error = " ".join(exc.messages)
    context = {"new_email": new_email, "error": error}
    return render(request, "core/email_confirm.html", context)


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """For load balancers: 200 when this process can reach the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
