"""Import export files into a review, as the upload page does, for scripts.

Prints one JSON line per file: {"file", "format", "records", "errors"}.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.models import User
from reviews.models import Review
from searches import services
from searches.models import Search


class Command(BaseCommand):
    help = "Import export files (RIS, nbib, XML, BibTeX, CSV, ...) into a review."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--review", type=int, required=True, help="Review id")
        parser.add_argument("--database", required=True, help="e.g. PubMed, Embase")
        parser.add_argument("--platform", default="")
        parser.add_argument("--query", default="", help="The search string as run")
        parser.add_argument(
            "--date", type=date.fromisoformat, help="Date run (YYYY-MM-DD)"
        )
        parser.add_argument(
            "--hits", type=int, help="Number of hits the source reported"
        )
        parser.add_argument(
            "--user", help="E-mail of the user recorded as having run it"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        review = Review.objects.filter(pk=options["review"]).first()
        if review is None:
            raise CommandError(f"No review with id {options['review']}.")
        actor = None
        if options["user"]:
            actor = User.objects.filter(email__iexact=options["user"]).first()
            if actor is None:
                raise CommandError(f"No user with e-mail {options['user']}.")
        failed = False
        for path in options["files"]:
            summary = self._import(review, actor, path, options)
            failed |= bool(summary["errors"])
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        if failed:
            raise CommandError("Some files were not imported (see the errors above).")

    def _import(
        self, review: Review, actor: User | None, path: Path, options: dict[str, Any]
    ) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "file": str(path),
            "format": None,
            "records": 0,
            "errors": [],
        }
        if not path.is_file():
            summary["errors"].append(f"{path}: no such file.")
            return summary
        try:
            with path.open("rb") as binary:
                search = services.search_import_now(
                    review=review,
                    actor=actor,
                    binary=binary,
                    file_name=path.name,
                    database=options["database"],
                    platform=options["platform"],
                    query=options["query"],
                    run_on=options["date"] or date.today(),
                    hits_reported=options["hits"],
                )
        except ValidationError as error:
            summary["errors"].extend(error.messages)
            return summary
        summary["format"] = search.file_format
        summary["records"] = search.records_imported
        if search.status == Search.Status.FAILED:
            summary["errors"].append(search.error)
        return summary
