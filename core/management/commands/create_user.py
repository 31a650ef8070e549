"""Create a user from the command line (for admins; others join by invitation)."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email

from core.models import User


class Command(BaseCommand):
    help = "Create a user. Without --password a random one is generated and printed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--password", help="At least 8 characters, not too common.")
        parser.add_argument("--staff", action="store_true", help="May open /admin/.")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"].strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"Not a valid e-mail address: {email!r}") from None
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"A user with the e-mail {email} exists already.")
        password = options["password"] or secrets.token_urlsafe(12)
        try:
            validate_password(password, User(email=email, name=options["name"]))
        except ValidationError as error:
            raise CommandError(
                "Password refused: " + " ".join(error.messages)
            ) from None
        User.objects.create_user(
            email=email,
            password=password,
            name=options["name"],
            is_staff=options["staff"],
        )
        self.stdout.write(self.style.SUCCESS(f"Created {email}."))
        if not options["password"]:
            self.stdout.write(f"Password: {password}")
