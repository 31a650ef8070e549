"""Admin: settings and reasons only. Votes are not listed here: the admin would
show them unblinded, and every change to them must go through the services
(audit, outcome)."""

from django.contrib import admin

from screening.models import ExclusionReason, StageSettings


@admin.register(StageSettings)
class StageSettingsAdmin(admin.ModelAdmin[StageSettings]):
    list_display = ("review", "stage", "reviewers_required", "maybe_allowed")
    list_filter = ("stage",)
    readonly_fields = ("unblinded_at", "unblinded_by")


@admin.register(ExclusionReason)
class ExclusionReasonAdmin(admin.ModelAdmin[ExclusionReason]):
    list_display = ("review", "position", "label", "archived")
    list_filter = ("archived",)
