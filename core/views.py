from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from core.forms import ProfileForm
from core.models import AuthenticatedHttpRequest
from reviews.models import Membership


@login_required
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Profile saved.")
        return redirect("core:profile")
    memberships = Membership.objects.filter(user_id=request.user.pk).select_related("review")
    return render(request, "core/profile.html", {"form": form, "memberships": memberships})


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """For load balancers: 200 when this process can reach the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
