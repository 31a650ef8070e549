from __future__ import annotations

from typing import Any, cast

from django import forms

from core.models import User
from core.roles import Role
from reviews.models import Review
from screening.models import (
    Decision,
    ExclusionReason,
    HighlightTerm,
    PilotRound,
    RecordStage,
    StageSettings,
)
from screening.rules import Stage, Vote
from screening.selectors import SHOW_LABELS, Show

# Keyboard shortcuts of the screening page: action -> key. Each user may change
# them; these are the defaults shown on the page.
SHORTCUT_ACTIONS = {
    "include": "Include",
    "maybe": "Maybe",
    "exclude": "Exclude",
    "undo": "Undo my last vote",
    "skip": "Next record without voting",
    "note": "Write a note",
}
DEFAULT_SHORTCUTS = {
    "include": "i",
    "maybe": "m",
    "exclude": "e",
    "undo": "u",
    "skip": "n",
    "note": "t",
}
RESERVED_KEYS = set("123456789")  # the exclusion reasons, in order
PILOT_MAX = 200  # closing carries every vote over within one request


class StageSettingsForm(forms.ModelForm[StageSettings]):
    class Meta:
        model = StageSettings
        fields = [
            "reviewers_required",
            "maybe_allowed",
            "maybe_rule",
            "reasons_required",
            "resolvers",
            "prioritised",
            "pilot_size",
            "pilot_kappa",
            "pilot_agreement",
            "pilot_votes_count",
        ]
        widgets = {"resolvers": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, review: Review, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelMultipleChoiceField[User]", self.fields["resolvers"])
        field.queryset = User.objects.filter(
            memberships__review=review, memberships__role=Role.REVIEWER
        ).order_by("name")
        if self.instance.stage == Stage.FULL_TEXT:
            # Full text never takes maybe and always needs reasons.
            # The queue is prioritised at title and abstract only.
            for name in (
                "maybe_allowed",
                "maybe_rule",
                "reasons_required",
                "prioritised",
            ):
                del self.fields[name]

    def clean_pilot_size(self) -> int | None:
        size: int | None = self.cleaned_data["pilot_size"]
        settings = self.instance
        rounds = PilotRound.objects.filter(
            review=settings.review_id, stage=settings.stage
        )
        if size is not None and size > PILOT_MAX:
            raise forms.ValidationError(
                f"A calibration round is a sample: at most {PILOT_MAX} records."
            )
        if size is None and rounds.filter(closed_at=None).exists():
            raise forms.ValidationError(
                "A calibration round is open: close it before removing calibration."
            )
        if (
            size is not None
            and settings.pilot_size is None
            and Decision.objects.filter(
                review=settings.review_id, stage=settings.stage
            ).exists()
        ):
            raise forms.ValidationError(
                "This stage already has votes: a calibration round comes before "
                "screening."
            )
        return size


class ReasonForm(forms.ModelForm[ExclusionReason]):
    class Meta:
        model = ExclusionReason
        fields = ["label"]
        labels = {"label": "New reason"}

    def __init__(self, *args: Any, review: Review, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.review = review

    def clean_label(self) -> str:
        label = " ".join(self.cleaned_data["label"].split())
        taken = ExclusionReason.objects.filter(review=self.review, label__iexact=label)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("This review already has that reason.")
        return label


class DecisionForm(forms.Form):
    vote = forms.ChoiceField(choices=[(v.value, v.value) for v in Vote])
    reason = forms.ModelChoiceField(
        queryset=ExclusionReason.objects.none(), required=False
    )
    note = forms.CharField(max_length=2000, required=False)

    def __init__(self, *args: Any, review: Review, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField[ExclusionReason]", self.fields["reason"])
        field.queryset = ExclusionReason.objects.filter(review=review, archived=False)


class ResolveForm(forms.Form):
    vote = forms.ChoiceField(
        choices=[(Vote.INCLUDE.value, "Include"), (Vote.EXCLUDE.value, "Exclude")]
    )
    reason = forms.ModelChoiceField(
        queryset=ExclusionReason.objects.none(), required=False
    )
    method = forms.ChoiceField(
        choices=[
            (RecordStage.Method.CONSENSUS.value, "Consensus of the reviewers"),
            (RecordStage.Method.THIRD_REVIEWER.value, "Third reviewer"),
            (RecordStage.Method.LEAD.value, "Lead"),
        ]
    )
    note = forms.CharField(max_length=2000, required=False)

    def __init__(self, *args: Any, review: Review, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField[ExclusionReason]", self.fields["reason"])
        field.queryset = ExclusionReason.objects.filter(review=review, archived=False)


class QueueForm(forms.Form):
    """The screening page's query string, validated."""

    show = forms.ChoiceField(
        choices=[(s.value, label) for s, label in SHOW_LABELS.items()], required=False
    )
    after = forms.IntegerField(min_value=1, required=False)
    record = forms.IntegerField(min_value=1, required=False)

    def cleaned(self) -> tuple[Show, int | None, int | None]:
        if not self.is_valid():
            return Show.PENDING, None, None
        show = Show(self.cleaned_data["show"] or Show.PENDING)
        return show, self.cleaned_data["after"], self.cleaned_data["record"]


class HighlightTermForm(forms.ModelForm[HighlightTerm]):
    class Meta:
        model = HighlightTerm
        fields = ["term", "kind"]
        help_texts = {"term": "A word or phrase; end it with * for any ending."}

    def clean_term(self) -> str:
        term = " ".join(self.cleaned_data["term"].split())
        if not term.rstrip("*").strip():
            raise forms.ValidationError("Type a word to highlight.")
        return term


class ShortcutsForm(forms.Form):
    def __init__(self, *args: Any, current: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for action, label in SHORTCUT_ACTIONS.items():
            self.fields[action] = forms.CharField(
                label=label,
                max_length=1,
                initial=current.get(action, DEFAULT_SHORTCUTS[action]),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        keys = {a: str(k).lower() for a, k in data.items() if k}
        for action, key in keys.items():
            if key in RESERVED_KEYS:
                self.add_error(action, "The digits 1-9 choose exclusion reasons.")
            elif not key.isprintable() or key.isspace():
                self.add_error(action, "Choose a letter or a sign.")
        seen: dict[str, str] = {}
        for action, key in keys.items():
            if key in seen:
                self.add_error(
                    action, f"'{key}' is already the key for {seen[key].lower()}."
                )
            seen[key] = SHORTCUT_ACTIONS[action]
        return keys
