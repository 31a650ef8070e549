from typing import Any, cast

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from core.models import User
from core.roles import Role
from reviews import services
from reviews.models import Criterion, Invitation, Membership, Review


class CriterionInline(admin.TabularInline[Criterion, Review]):
    model = Criterion
    extra = 0


class MembershipInline(admin.TabularInline[Membership, Review]):
    """Read-only: team changes go through the Team page or the Membership admin,
    which keep the last-lead rule and write the audit trail."""

    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["user", "role", "created_at"]
    can_delete = False

    def has_add_permission(
        self, request: HttpRequest, obj: Review | None = None
    ) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin[Review]):
    list_display = ["title", "status", "protocol_registration", "is_demo", "created_at"]
    list_filter = ["status", "is_demo"]
    search_fields = ["title", "question", "protocol_registration"]
    inlines = [CriterionInline, MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    """Staff may add a member (say, a new lead for an orphaned review) and change
    roles; both go through the services, so the last-lead rule holds and the
    audit trail records it. Removal is done on the review's Team page."""

    list_display = ["user", "review", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "user__name", "review__title"]
    list_select_related = ["user", "review"]
    autocomplete_fields = ["user", "review"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Membership | None = None
    ) -> list[str]:
        return ["user", "review"] if obj else []

    def has_delete_permission(
        self, request: HttpRequest, obj: Membership | None = None
    ) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Membership, form: Any, change: bool
    ) -> None:
        actor = cast(User, request.user)
        try:
            if change:
                services.membership_change_role(
                    membership=obj, actor=actor, role=Role(obj.role)
                )
            else:
                created = services.membership_create(
                    review_id=obj.review_id,
                    user=obj.user,
                    role=Role(obj.role),
                    actor=actor,
                )
                obj.pk = created.pk
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), level=messages.ERROR)


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
