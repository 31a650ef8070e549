from django.contrib import admin

from reviews.models import Criterion, Invitation, Membership, Review


class CriterionInline(admin.TabularInline[Criterion, Review]):
    model = Criterion
    extra = 0


class MembershipInline(admin.TabularInline[Membership, Review]):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin[Review]):
    list_display = ["title", "status", "protocol_registration", "is_demo", "created_at"]
    list_filter = ["status", "is_demo"]
    search_fields = ["title", "question", "protocol_registration"]
    inlines = [CriterionInline, MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "review", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__name", "review__title"]
    list_select_related = ["user", "review"]
    autocomplete_fields = ["user", "review"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = [
        "email",
        "review",
        "role",
        "invited_by",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    list_filter = ["role"]
    search_fields = ["email", "review__title"]
    list_select_related = ["review", "invited_by"]
    readonly_fields = ["accepted_at", "accepted_by", "sent_at"]


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin[Criterion]):
    list_display = ["review", "kind", "position", "text"]
    list_filter = ["kind"]
    search_fields = ["text", "review__title"]
    list_select_related = ["review"]
