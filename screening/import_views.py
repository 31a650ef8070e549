"""A lead's page to import earlier screening decisions (a pilot in Rayyan or
Covidence, a spreadsheet) from a CSV file, and to follow the import.

The page shows the import's own outcome only (counts, or the problems of a
refused file), never anyone's votes (SCR-2).
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from core.access import get_review_for_user
from core.models import AuthenticatedHttpRequest, Job, User
from core.roles import Role
from core.uploads import upload_refusal
from reviews.models import Review
from screening import import_services, services
from screening.import_services import MODE_LABELS, Mode
from screening.models import ExclusionReason
from screening.rules import Stage
from screening.views import STAGE_NAMES


class DecisionImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 (with or without BOM), UTF-16 or Windows-1252; "
        "commas, semicolons or tabs.",
    )
    mode = forms.TypedChoiceField(
        label="Each row is",
        choices=[(mode.value, label) for mode, label in MODE_LABELS.items()],
        coerce=Mode,
        initial=Mode.VOTES.value,
        widget=forms.RadioSelect,
    )
    reviewer = forms.ModelChoiceField(
        label="Whose votes",
        queryset=User.objects.none(),
        required=False,
        help_text="For a file without a reviewer column, or rows that leave it "
        "empty (votes only).",
    )

    def __init__(
        self, *args: Any, review: Review, refused: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.refused = refused  # an upload cut off while it arrived
        if refused:
            self.fields["file"].required = False
        field = cast("forms.ModelChoiceField[User]", self.fields["reviewer"])
        field.queryset = User.objects.filter(
            memberships__review=review,
            memberships__role__in=[Role.REVIEWER, Role.LEAD],
        ).order_by("name")

    def clean_file(self) -> Any:
        if self.refused:
            raise ValidationError(self.refused)
        return self.cleaned_data["file"]


def _page(review: Review, stage: Stage, form: DecisionImportForm) -> dict[str, Any]:
    """The form, the stage's rules and reasons, and this stage's latest import."""
    job = Job.objects.filter(
        review=review, kind=import_services.KIND, params__stage=stage.value
    ).first()
    return {
        "review": review,
        "form": form,
        "stage": stage,
        "stage_name": STAGE_NAMES[stage],
        "config": services.stage_settings(review, stage),
        "reasons": ExclusionReason.objects.filter(review=review, archived=False),
        "job": job,
        "problems": job.error.splitlines() if job and job.error else [],
    }


@login_required
def decision_import(
    request: AuthenticatedHttpRequest, review_id: int, stage: Stage
) -> HttpResponse:
    """GET: the form and the latest import of this stage; POST: queue an import."""
    review = get_review_for_user(request.user, review_id, min_role=Role.LEAD)
    posted = request.method == "POST"  # bound even when a refused upload left no data
    form = DecisionImportForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        review=review,
        refused=upload_refusal(request),
    )
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            import_services.decision_import_start(
                review=review,
                stage=stage,
                actor=request.user,
                upload=upload,
                file_name=upload.name or "decisions.csv",
                mode=form.cleaned_data["mode"],
                reviewer=form.cleaned_data["reviewer"],
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            messages.success(request, f"{upload.name} is being imported.")
            return redirect("screening:decision_import", review.pk, stage.value)
    context = _page(review, stage, form)
    return render(request, "screening/decision_import.html", context)
