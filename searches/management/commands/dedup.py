"""Deduplicate a review's records from the command line (automatic merges only).

    python manage.py dedup --review 3 --report groups.csv

Runs the same pipeline as the deduplication page and writes the report: one row
per duplicate group, with each member's record id and its identifier in the file
it came from, so results can be compared with labelled data outside the app.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reviews.models import Review
from searches import dedup_services


class Command(BaseCommand):
    help = "Find and merge duplicate records of a review; optionally write a report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--review", type=int, required=True, help="Review id")
        parser.add_argument("--report", type=Path, help="CSV file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        review = Review.objects.filter(pk=options["review"]).first()
        if review is None:
            raise CommandError(f"No review with id {options['review']}.")
        counts = dedup_services.dedup_run(review_id=review.pk)
        if options["report"]:
            with options["report"].open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(dedup_services.REPORT_HEADER)
                writer.writerows(dedup_services.dedup_report_rows(review))
        self.stdout.write(json.dumps({"review": review.pk, **counts}))
