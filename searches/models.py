"""The search log (PRISMA-S) and the bibliographic records searches bring in.

Record lives here, next to the searches that create it: every later stage
(screening, extraction, ...) refers to records, and imports flow one way
(core <- reviews <- searches <- screening ...), as STYLE.md's layout says.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from core.models import BaseModel
from searches.dedup import DEFAULT_THRESHOLDS
from searches.querysets import RecordQuerySet


class Search(BaseModel):
    """One run of one search in one source: a row of the PRISMA-S search log.

    A file upload or a PubMed query run through Entrez. Its records count only
    once it is IMPORTED; a failed import leaves none behind."""

    class SourceType(models.TextChoices):
        DATABASE = "database", "Database"
        REGISTER = "register", "Register"
        OTHER = "other", "Other method (citation searching, websites, organisations)"

    class Method(models.TextChoices):
        FILE = "file", "File upload"
        ENTREZ = "entrez", "PubMed through Entrez"

    class Status(models.TextChoices):
        MAPPING = "mapping", "Needs column mapping"
        PENDING = "pending", "Waiting"
        IMPORTING = "importing", "Importing"
        IMPORTED = "imported", "Imported"
        FAILED = "failed", "Failed"

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="searches"
    )
    source_type = models.CharField(
        max_length=16, choices=SourceType.choices, default=SourceType.DATABASE
    )
    database = models.CharField(
        "database or register", max_length=200, help_text="e.g. PubMed, Embase, Scopus"
    )
    platform = models.CharField(
        "interface or platform",
        max_length=200,
        blank=True,
        help_text="e.g. Ovid, Elsevier",
    )
    run_on = models.DateField("date run")
    query = models.TextField("search string", blank=True)
    filters = models.TextField("limits and filters", blank=True)
    hits_reported = models.PositiveIntegerField(
        "hits reported by the source", null=True, blank=True
    )
    records_imported = models.PositiveIntegerField(default=0)
    method = models.CharField(
        max_length=16, choices=Method.choices, default=Method.FILE
    )
    file = models.FileField(upload_to="searches/%Y/%m/", blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    file_size = models.BigIntegerField(null=True, blank=True)
    file_format = models.CharField(max_length=32, blank=True)
    column_mapping = models.JSONField(null=True, blank=True)
    rerun_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns"
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    error = models.TextField(blank=True)
    # The worker importing a search holds a claim and beats while it works, so a
    # duplicate task cannot run beside it, and a crashed worker's claim expires.
    import_token = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-run_on", "-created_at"]
        verbose_name_plural = "searches"
        constraints = [
            # The same file twice in one review is a mistake; the service says so
            # kindly, and this keeps two simultaneous uploads from both getting in.
            models.UniqueConstraint(
                fields=["review", "file_sha256"],
                condition=~models.Q(file_sha256="") & ~models.Q(status="failed"),
                name="search_unique_file_per_review",
            )
        ]

    def __str__(self) -> str:
        return f"{self.database} ({self.run_on:%Y-%m-%d})"

    def get_absolute_url(self) -> str:
        return reverse("searches:detail", args=[self.review_id, self.pk])


class Record(BaseModel):
    """A bibliographic record of a review, as read from its first source.

    Every search that found it is linked through RecordSource, so counts per
    database come from data (PRISMA 2020 "records identified from each database").
    """

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="records"
    )
    # The search whose import created the record; the record counts once it is imported.
    search = models.ForeignKey(
        Search, on_delete=models.CASCADE, related_name="created_records"
    )
    title = models.TextField(blank=True)
    abstract = models.TextField(blank=True)
    abstract_sections = models.JSONField(default=list, blank=True)
    authors = models.JSONField(
        default=list, blank=True
    )  # [[family, given], ...] in order
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    journal = models.TextField(blank=True)
    volume = models.CharField(max_length=64, blank=True)
    issue = models.CharField(max_length=64, blank=True)
    pages = models.CharField(max_length=64, blank=True)
    doi = models.CharField("DOI", max_length=255, blank=True)
    pmid = models.CharField("PMID", max_length=16, blank=True)
    pmcid = models.CharField("PMCID", max_length=16, blank=True)
    issn = models.CharField("ISSN", max_length=64, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    mesh_terms = models.JSONField("MeSH headings", default=list, blank=True)
    publication_types = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=64, blank=True)
    url = models.TextField(blank=True)
    # Deduplication: a duplicate points to the record it was merged into (which
    # may itself be a duplicate of another: follow to the primary). Nothing is
    # deleted, so a merge can be undone and every source still counts.
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    # Compared with the review's other records by a deduplication run; records
    # imported later are checked against these (incremental deduplication).
    dedup_checked = models.BooleanField(default=False, db_default=False)

    objects = RecordQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["review", "year"]),
            models.Index(fields=["review", "doi"]),
            models.Index(fields=["review", "pmid"]),
            models.Index(fields=["review", "duplicate_of"]),
        ]

    def __str__(self) -> str:
        return self.title[:80] or f"Record {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("searches:record", args=[self.review_id, self.pk])

    @property
    def author_names(self) -> list[str]:
        return [
            f"{family}, {given}" if given else family for family, given in self.authors
        ]

    @property
    def safe_url(self) -> str:
        """The link, if it is a web address (an imported 'javascript:' URL is not)."""
        return self.url if self.url.lower().startswith(("https://", "http://")) else ""

    @property
    def first_author(self) -> str:
        return self.authors[0][0] if self.authors else ""


class RecordSource(models.Model):
    """That `search` found `record`, as entry number `position` of its results."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="sources")
    search = models.ForeignKey(
        Search, on_delete=models.CASCADE, related_name="record_sources"
    )
    position = models.PositiveIntegerField()
    source_id = models.CharField("accession in the source", max_length=255, blank=True)
    raw = models.TextField("entry as exported", blank=True)

    class Meta:
        ordering = ["search", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["search", "position"], name="source_unique_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.search} #{self.position}"


class ColumnMappingMemory(BaseModel):
    """The column mapping a review last used for a CSV/Excel layout, so the next
    file with the same columns imports without asking again."""

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="+"
    )
    header_key = models.CharField(max_length=64)  # sha256 of the header row
    mapping = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["review", "header_key"], name="mapping_unique_header"
            )
        ]

    def __str__(self) -> str:
        return f"Column mapping {self.header_key[:8]}"


class DedupSettings(models.Model):
    """A review's deduplication thresholds (engine scores are 0..1)."""

    review = models.OneToOneField(
        "reviews.Review", on_delete=models.CASCADE, related_name="dedup_settings"
    )
    auto_threshold = models.FloatField(
        "merge automatically from",
        default=DEFAULT_THRESHOLDS.auto,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )
    possible_threshold = models.FloatField(
        "send to the review queue from",
        default=DEFAULT_THRESHOLDS.possible,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )

    class Meta:
        verbose_name_plural = "dedup settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(possible_threshold__lte=models.F("auto_threshold")),
                name="dedup_possible_below_auto",
            )
        ]

    def __str__(self) -> str:
        return f"Dedup settings of review {self.review_id}"


class Merge(BaseModel):
    """`duplicate` was merged into `primary`: automatically or by a person."""

    class Method(models.TextChoices):
        AUTO = "auto", "Automatic"
        PERSON = "person", "By a person"

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="+"
    )
    primary = models.ForeignKey(
        Record, on_delete=models.CASCADE, related_name="merges_in"
    )
    duplicate = models.ForeignKey(
        Record, on_delete=models.CASCADE, related_name="merges_out"
    )
    method = models.CharField(max_length=16, choices=Method.choices)
    score = models.FloatField()
    # The fields that matched (the reason a report shows).
    matched = models.JSONField(default=list)
    # Fields of the primary that were empty and filled from the duplicate, with
    # the primary's value before (so undo can put it back).
    filled = models.JSONField(default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["review", "method"])]
        constraints = [
            models.UniqueConstraint(
                fields=["duplicate"],
                condition=models.Q(undone_at__isnull=True),
                name="merge_one_active_per_duplicate",
            )
        ]

    def __str__(self) -> str:
        return f"Record {self.duplicate_id} into {self.primary_id}"


class DuplicatePair(BaseModel):
    """Two records the engine was unsure about: a person decides."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a decision"
        SAME = "same", "Same record"
        DISTINCT = "distinct", "Not duplicates"

    review = models.ForeignKey(
        "reviews.Review", on_delete=models.CASCADE, related_name="+"
    )
    # record_a has the lower id: one row per pair.
    record_a = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    record_b = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    matched = models.JSONField(default=list)
    conflicts = models.JSONField(default=list)
    rule = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score", "id"]
        indexes = [models.Index(fields=["review", "status", "-score"])]
        constraints = [
            models.UniqueConstraint(
                fields=["record_a", "record_b"], name="pair_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(record_a__lt=models.F("record_b")),
                name="pair_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"Records {self.record_a_id} and {self.record_b_id}"
