"""Roles a user can hold in one review, ordered by what they may do."""

from django.db import models


class Role(models.TextChoices):
    OBSERVER = "observer", "Observer"
    REVIEWER = "reviewer", "Reviewer"
    LEAD = "lead", "Lead"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: "Role") -> bool:
        """True when this role may do everything `other` may do."""
        return self.rank >= other.rank

    @property
    def description(self) -> str:
        return _DESCRIPTION[self]


_RANK = {Role.OBSERVER: 1, Role.REVIEWER: 2, Role.LEAD: 3}
_DESCRIPTION = {
    Role.OBSERVER: "Reads the review; changes nothing.",
    Role.REVIEWER: "Screens records, extracts data and rates quality.",
    Role.LEAD: "Manages settings and the team, resolves conflicts, exports.",
}
