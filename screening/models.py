"""Screening: per-stage settings, the review's exclusion reasons, each reviewer's
vote (Decision) and each record's state at a stage (RecordStage).

Votes are never overwritten by a resolution (DOMAIN.md SCR-5): a Decision is
a reviewer's own current vote, and the final answer of a conflict lives on the
RecordStage, with who resolved it, how and why. Agreement statistics read the
Decisions, so they are always on pre-resolution votes.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.models import BaseModel
from screening.rules import MaybeRule, Outcome, Stage, Vote

STAGE_CHOICES = [
    (Stage.TITLE_ABSTRACT.value, "Title and abstract"),
    (Stage.FULL_TEXT.value, "Full text"),
]
VOTE_CHOICES = [
    (Vote.INCLUDE.value, "Include"),
    (Vote.MAYBE.value, "Maybe"),
    (Vote.EXCLUDE.value, "Exclude"),
]


class StageSettings(BaseModel):
    """How one stage of one review is screened."""

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="screening_stages"
    )
    stage = models.CharField(max_length=16, choices=STAGE_CHOICES)
    reviewers_required = models.PositiveSmallIntegerField(
        "independent reviewers per record",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    maybe_allowed = models.BooleanField(default=True)
    maybe_rule = models.CharField(
        max_length=16,
        choices=[
            (MaybeRule.AS_INCLUDE.value, "Maybe goes on like include"),
            (MaybeRule.NEEDS_PERSON.value, "Every maybe is a conflict"),
        ],
        default=MaybeRule.AS_INCLUDE.value,
    )
    reasons_required = models.BooleanField(
        "exclusions need a reason",
        default=False,
        help_text="Always on at full text.",
    )
    unblinded_at = models.DateTimeField(null=True, blank=True)
    unblinded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Designated third reviewers: resolve conflicts they did not vote on.
    resolvers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        verbose_name="third reviewers",
        help_text="Reviewers who may resolve conflicts (besides the leads).",
    )
    prioritised = models.BooleanField(
        "prioritised screening",
        default=False,
        help_text="Serve the most likely relevant records first (title and abstract).",
    )
    # Calibration (SCR-7): every reviewer screens the same pilot sample first.
    pilot_size = models.PositiveIntegerField(
        "pilot sample size",
        null=True,
        blank=True,
        validators=[MinValueValidator(10), MaxValueValidator(1000)],
        help_text="Leave empty for no calibration round.",
    )
    pilot_kappa = models.FloatField(
        "kappa needed",
        default=0.6,
        validators=[MinValueValidator(-1.0), MaxValueValidator(1.0)],
    )
    pilot_agreement = models.FloatField(
        "agreement needed",
        default=0.8,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Proportion of pilot records on which each pair agreed.",
    )
    pilot_votes_count = models.BooleanField(
        "pilot votes count",
        default=True,
        help_text="When the calibration round passes, its votes become the "
        "reviewers' decisions on the pilot records.",
    )

    class Meta:
        verbose_name_plural = "stage settings"
        constraints = [
            models.UniqueConstraint(
                fields=["review", "stage"], name="stage_settings_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} in {self.review_id}"

    @property
    def needs_reasons(self) -> bool:
        return self.reasons_required or self.stage == Stage.FULL_TEXT

    @property
    def allows_maybe(self) -> bool:
        return self.maybe_allowed and self.stage == Stage.TITLE_ABSTRACT


class ExclusionReason(BaseModel):
    """One of a review's shared, ordered exclusion reasons (SCR-6). A reason in
    use is archived, never deleted, so past decisions keep their meaning."""

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="exclusion_reasons"
    )
    position = models.PositiveIntegerField()
    label = models.CharField(max_length=200)
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["review", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "label"], name="exclusion_reason_unique_label"
            )
        ]

    def __str__(self) -> str:
        return self.label


class Decision(BaseModel):
    """A reviewer's current vote on a record at a stage."""

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="+"
    )
    record = models.ForeignKey(
        "searches.Record", on_delete=models.CASCADE, related_name="decisions"
    )
    stage = models.CharField(max_length=16, choices=STAGE_CHOICES)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    vote = models.CharField(max_length=8, choices=VOTE_CHOICES)
    reason = models.ForeignKey(
        ExclusionReason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="decisions",
    )
    note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["record", "stage", "reviewer"], name="decision_unique_vote"
            )
        ]
        indexes = [
            models.Index(fields=["review", "stage", "reviewer", "vote"]),
            models.Index(fields=["reviewer", "stage", "-updated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_vote_display()} on {self.record_id} ({self.stage})"


class RecordStage(BaseModel):
    """A record's state at a stage: pending until every required vote is in,
    then included, excluded (agreement or resolution) or a conflict."""

    class Method(models.TextChoices):
        AGREEMENT = "agreement", "Reviewers agreed"
        CONSENSUS = "consensus", "Consensus of the reviewers"
        THIRD_REVIEWER = "third_reviewer", "Third reviewer"
        LEAD = "lead", "Lead"

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="+"
    )
    record = models.ForeignKey(
        "searches.Record", on_delete=models.CASCADE, related_name="stages"
    )
    stage = models.CharField(max_length=16, choices=STAGE_CHOICES)
    status = models.CharField(
        max_length=16,
        choices=[(o.value, o.value.capitalize()) for o in Outcome],
        default=Outcome.PENDING.value,
    )
    all_maybe = models.BooleanField(default=False)
    conflict = models.CharField(max_length=100, blank=True)  # what disagreed
    # Set when the outcome is final: by agreement, or by a person's resolution.
    final_vote = models.CharField(max_length=8, choices=VOTE_CHOICES, blank=True)
    final_reason = models.ForeignKey(
        ExclusionReason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    method = models.CharField(max_length=16, choices=Method.choices, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution_note = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["record", "stage"], name="record_stage_unique"
            )
        ]
        indexes = [models.Index(fields=["review", "stage", "status"])]

    def __str__(self) -> str:
        return f"{self.record_id} at {self.stage}: {self.status}"

    @property
    def is_resolved(self) -> bool:
        return self.status in (Outcome.INCLUDED, Outcome.EXCLUDED)


class HighlightTerm(BaseModel):
    """A word coloured in titles and abstracts: review-wide (set by a lead,
    `user` empty) or one reviewer's own."""

    class Kind(models.TextChoices):
        INCLUDE = "include", "Suggests inclusion"
        EXCLUDE = "exclude", "Suggests exclusion"

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    term = models.CharField(max_length=100)

    class Meta:
        ordering = ["kind", "term"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "user", "term"],
                condition=models.Q(user__isnull=False),
                name="highlight_unique_own_term",
            ),
            models.UniqueConstraint(
                fields=["review", "term"],
                condition=models.Q(user__isnull=True),
                name="highlight_unique_review_term",
            ),
        ]

    def __str__(self) -> str:
        return self.term


class ScreeningPreferences(BaseModel):
    """A user's own keyboard shortcuts for the screening page."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    shortcuts = models.JSONField(default=dict)

    class Meta:
        verbose_name_plural = "screening preferences"

    def __str__(self) -> str:
        return f"Shortcuts of {self.user_id}"


class PriorityScore(models.Model):
    """The prioritisation model's latest score for a record still to be screened
    at title and abstract; only orders the queue, never decides."""

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="+"
    )
    record = models.OneToOneField(
        "searches.Record", on_delete=models.CASCADE, related_name="priority"
    )
    score = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["review", "-score", "record"])]

    def __str__(self) -> str:
        return f"{self.record_id}: {self.score:.3f}"


class PriorityTraining(BaseModel):
    """The state of a review's prioritisation model: what the last training
    learnt from, its estimate of what is left, and the claim that keeps one
    training at a time. Labels are resolved title/abstract outcomes only, so a
    record's place in the queue never depends on a vote still blinded."""

    review = models.OneToOneField(
        "reviews.Review", on_delete=models.CASCADE, related_name="+"
    )
    requested_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)  # set while training
    rerun = models.BooleanField(default=False)  # asked for while training
    trained_at = models.DateTimeField(null=True, blank=True)
    labelled = models.PositiveIntegerField(default=0)
    relevant = models.PositiveIntegerField(default=0)
    scored = models.PositiveIntegerField(default=0)
    method = models.CharField(max_length=16, blank=True)
    estimated_remaining = models.FloatField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Prioritisation of {self.review_id}"


class FullText(BaseModel):
    """The PDF of a record's report, for full-text screening. Served only to
    members of the review."""

    class Matched(models.TextChoices):
        UPLOAD = "upload", "Uploaded for this record"
        DOI = "doi", "DOI"
        PMID = "pmid", "PMID"
        PMCID = "pmcid", "PMCID"
        TITLE = "title", "Title"
        AUTHOR_YEAR_TITLE = "author-year-title", "Author, year and title"
        PERSON = "person", "Matched by hand"

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="+"
    )
    record = models.OneToOneField(
        "searches.Record",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="full_text",
    )
    file = models.FileField(upload_to="fulltexts/%Y/%m/")
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    matched_by = models.CharField(max_length=24, choices=Matched.choices, blank=True)
    candidates = models.JSONField(default=list, blank=True)  # record ids, best first
    note = models.CharField(max_length=255, blank=True)  # why it is unmatched
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["review", "record"])]

    def __str__(self) -> str:
        return self.file_name


class PilotRound(BaseModel):
    """One calibration round (SCR-7): a random sample every reviewer screens;
    votes are kept here, apart from the real decisions."""

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="+"
    )
    stage = models.CharField(max_length=16, choices=STAGE_CHOICES)
    number = models.PositiveSmallIntegerField()
    records = models.ManyToManyField("searches.Record", related_name="+")
    kappa_needed = models.FloatField()
    agreement_needed = models.FloatField()
    closed_at = models.DateTimeField(null=True, blank=True)
    passed = models.BooleanField(null=True)
    results = models.JSONField(default=list, blank=True)  # per pair, when closed

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["review", "stage", "number"], name="pilot_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"Pilot {self.number} ({self.stage})"


class PilotVote(BaseModel):
    round = models.ForeignKey(
        PilotRound, on_delete=models.CASCADE, related_name="votes"
    )
    record = models.ForeignKey(
        "searches.Record", on_delete=models.CASCADE, related_name="+"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    vote = models.CharField(max_length=8, choices=VOTE_CHOICES)
    reason = models.ForeignKey(
        ExclusionReason,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["round", "record", "reviewer"], name="pilot_vote_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.vote} on {self.record_id}"
