from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from core.models import User
from core.roles import Role
from reviews.models import REVIEW_FIELDS, Review

MAX_CRITERIA = 100
MAX_INVITES = 50
PROSPERO_ID = re.compile(r"CRD\d{11}")


class CriteriaField(forms.CharField):
    """An ordered list typed one item per line; blank lines are dropped."""

    widget = forms.Textarea(attrs={"rows": 4})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [
            line.strip(" \t-•*") for line in text.splitlines() if line.strip(" \t-•*")
        ]

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")
        if len(value) > MAX_CRITERIA:
            raise ValidationError(f"At most {MAX_CRITERIA} criteria, one per line.")
        if any(len(item) > 1000 for item in value):
            raise ValidationError("Each criterion must be under 1,000 characters.")
        if any("\x00" in item for item in value):
            raise ValidationError("The criteria contain a null character; remove it.")

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(value)
        return value


class ReviewForm(forms.ModelForm[Review]):
    inclusion_criteria = CriteriaField(
        required=False, help_text="One criterion per line, in order of importance."
    )
    exclusion_criteria = CriteriaField(
        required=False,
        help_text="One criterion per line. When several apply, the first one counts.",
    )

    class Meta:
        model = Review
        fields = REVIEW_FIELDS
        widgets = {
            "question": forms.Textarea(attrs={"rows": 2}),
            "population": forms.Textarea(attrs={"rows": 2}),
            "intervention": forms.Textarea(attrs={"rows": 2}),
            "comparator": forms.Textarea(attrs={"rows": 2}),
            "outcomes": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "population": "Population (P)",
            "intervention": "Intervention (I)",
            "comparator": "Comparator (C)",
            "outcomes": "Outcomes (O)",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault(
                "inclusion_criteria", self.instance.inclusion_criteria()
            )
            self.initial.setdefault(
                "exclusion_criteria", self.instance.exclusion_criteria()
            )
        else:
            del self.fields["status"]  # a new review starts at the protocol stage

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise ValidationError("Give the review a title.")
        return title

    def clean_protocol_registration(self) -> str:
        value = " ".join(self.cleaned_data["protocol_registration"].split())
        match = re.search(r"CRD\w*", value, flags=re.IGNORECASE)
        if match and not PROSPERO_ID.fullmatch(match.group().upper()):
            raise ValidationError(
                "A PROSPERO id is CRD followed by 11 digits, e.g. CRD42023412345."
            )
        return value


class InviteForm(forms.Form):
    emails = forms.CharField(
        label="E-mail addresses",
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "ana@example.org, li@example.org"}
        ),
        help_text=(
            "One or more addresses, separated by commas or new lines "
            f"(at most {MAX_INVITES})."
        ),
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REVIEWER)

    def clean_emails(self) -> list[str]:
        emails = [e for e in re.split(r"[\s,;]+", self.cleaned_data["emails"]) if e]
        invalid = []
        for email in emails:
            try:
                validate_email(email)
            except ValidationError:
                invalid.append(email)
            else:
                if len(email) > 254:  # the longest address SMTP allows
                    invalid.append(email)
        if invalid:
            raise ValidationError(
                "Not valid e-mail addresses: %(invalid)s.",
                params={"invalid": ", ".join(invalid)},
            )
        if len(emails) > MAX_INVITES:
            raise ValidationError(f"Invite at most {MAX_INVITES} people at a time.")
        return [email.lower() for email in emails]

    def clean_role(self) -> Role:
        return Role(self.cleaned_data["role"])


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)

    def clean_role(self) -> Role:
        return Role(self.cleaned_data["role"])


class InvitationSignupForm(forms.Form):
    """An invited person without an account chooses their name and password."""

    name = forms.CharField(label="Your full name", max_length=150)
    password1 = forms.CharField(
        label="Password", widget=forms.PasswordInput, strip=False
    )
    password2 = forms.CharField(
        label="Password again", widget=forms.PasswordInput, strip=False
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2:
            if password1 != password2:
                self.add_error("password2", "The two passwords differ.")
            else:
                try:
                    validate_password(
                        password1, User(email=self.email, name=cleaned.get("name", ""))
                    )
                except ValidationError as error:
                    self.add_error("password1", error)
        return cleaned
