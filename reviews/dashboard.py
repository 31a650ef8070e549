"""Cards on a review's dashboard, one per workflow stage that exists.

Each stage's app registers its card from its AppConfig.ready(), so the dashboard
shows the stages built so far and reviews/ imports none of the later apps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reviews.models import Review


@dataclass(frozen=True)
class Card:
    order: int  # position on the page, by workflow stage
    template: str
    context: Callable[[Review], dict[str, Any]]


_cards: list[Card] = []


def register(card: Card) -> None:
    if card.template not in {c.template for c in _cards}:
        _cards.append(card)
        _cards.sort(key=lambda c: c.order)


def cards_for(review: Review) -> list[tuple[str, dict[str, Any]]]:
    return [(card.template, card.context(review)) for card in _cards]
