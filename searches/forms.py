from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from searches.models import DedupSettings, Search

COMMON_DATABASES = [
    "PubMed",
    "MEDLINE (Ovid)",
    "Embase",
    "Scopus",
    "Web of Science Core Collection",
    "Cochrane CENTRAL",
    "CINAHL",
    "PsycINFO",
    "ClinicalTrials.gov",
    "WHO ICTRP",
    "Google Scholar",
]


class SearchDetailsForm(forms.ModelForm[Search]):
    """The PRISMA-S description of a search."""

    class Meta:
        model = Search
        fields = [
            "source_type",
            "database",
            "platform",
            "run_on",
            "query",
            "filters",
            "hits_reported",
            "notes",
        ]
        widgets = {
            # An HTML date input only takes ISO dates, whatever the locale.
            "run_on": forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
            "query": forms.Textarea(attrs={"rows": 3, "class": "font-monospace"}),
            "filters": forms.Textarea(attrs={"rows": 1}),
            "notes": forms.Textarea(attrs={"rows": 1}),
            "database": forms.TextInput(attrs={"list": "databases"}),
        }
        help_texts = {
            "query": "Exactly as run, so that it can be reproduced (PRISMA-S item 8).",
            "hits_reported": "The number of results the database reported.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["run_on"].initial = timezone.localdate()

    def clean_run_on(self) -> Any:
        run_on = self.cleaned_data["run_on"]
        if run_on and run_on > timezone.localdate():
            raise forms.ValidationError(
                "The date a search was run cannot be in the future."
            )
        return run_on


class UploadForm(SearchDetailsForm):
    file = forms.FileField(
        label="Export file",
        help_text=(
            "RIS, MEDLINE/.nbib, PubMed XML, EndNote XML, BibTeX, Web of Science, "
            "CSV/TSV or Excel."
        ),
    )

    def __init__(self, *args: Any, refused: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refused = refused  # an upload cut off while it arrived
        if refused:
            self.fields["file"].required = False

    def clean_file(self) -> Any:
        if self.refused:
            raise ValidationError(self.refused)
        return self.cleaned_data["file"]


class RecordFilterForm(forms.Form):
    """The records page's query string."""

    q = forms.CharField(required=False, max_length=300, label="Search")
    search = forms.IntegerField(required=False, min_value=1)
    year_from = forms.IntegerField(required=False, min_value=1000, max_value=2200)
    year_to = forms.IntegerField(required=False, min_value=1000, max_value=2200)


class PubMedForm(forms.Form):
    term = forms.CharField(
        label="PubMed search",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
        help_text=(
            'PubMed syntax, e.g. ("spinal cord injuries"[MeSH] OR '
            '"spinal cord injur*"[tiab]) AND exercise[tiab]'
        ),
    )
    mindate = forms.RegexField(
        label="Published from",
        regex=r"^\d{4}(/\d{2}(/\d{2})?)?$",
        required=False,
        help_text="YYYY, YYYY/MM or YYYY/MM/DD",
        error_messages={"invalid": "Use YYYY, YYYY/MM or YYYY/MM/DD."},
    )
    maxdate = forms.RegexField(
        label="Published to",
        regex=r"^\d{4}(/\d{2}(/\d{2})?)?$",
        required=False,
        error_messages={"invalid": "Use YYYY, YYYY/MM or YYYY/MM/DD."},
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 1}))

    def clean_term(self) -> str:
        return " ".join(self.cleaned_data["term"].split())


class ColumnMappingForm(forms.Form):
    """One choice of column per record field; only the title is required."""

    def __init__(self, *args: Any, header: list[str], **kwargs: Any) -> None:
        from searches.services import MAPPABLE_FIELDS

        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((column, column) for column in header)]
        for name, label in MAPPABLE_FIELDS:
            guess = next(
                (c for c in header if c.strip().lower() == name.replace("_", " ")), ""
            )
            self.fields[name] = forms.ChoiceField(
                label=label, choices=choices, required=name == "title", initial=guess
            )


class DedupSettingsForm(forms.ModelForm[DedupSettings]):
    """A review's dedup thresholds: scores are the engine's match probability."""

    class Meta:
        model = DedupSettings
        fields = ("auto_threshold", "possible_threshold")
        help_texts = {
            "auto_threshold": (
                "Pairs scoring this or more are merged without a person (default "
                "0.95). Lower it and more merges happen unseen; on our labelled "
                "sets no false pair scored above 0.89."
            ),
            "possible_threshold": (
                "Pairs from this score up to the automatic threshold go to the "
                "review queue (default 0.3). Lower it and the queue grows."
            ),
        }
        widgets = {
            "auto_threshold": forms.NumberInput(attrs={"step": "0.01"}),
            "possible_threshold": forms.NumberInput(attrs={"step": "0.01"}),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        auto, possible = data.get("auto_threshold"), data.get("possible_threshold")
        if auto is not None and auto < 0.5:
            self.add_error(
                "auto_threshold",
                "Below 0.5 a pair is more likely two records than one: "
                "merging automatically from there would merge different papers.",
            )
        if auto is not None and possible is not None and possible > auto:
            self.add_error(
                "possible_threshold",
                "The review queue starts at or below the automatic threshold.",
            )
        return data
