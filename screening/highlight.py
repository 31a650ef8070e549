"""Colouring highlight terms in titles and abstracts (pure).

A term is a word or phrase; a trailing `*` matches any ending ("neuropath*"
finds neuropathy and neuropathic). Matching ignores case and only matches
whole words, so "rat" does not colour "ratio". The text is escaped before
marks are added, so an abstract cannot inject HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

INCLUDE, EXCLUDE = "include", "exclude"


@dataclass(frozen=True)
class Highlighter:
    pattern: re.Pattern[str] | None
    kinds: dict[str, str]  # casefolded term (without *) -> kind

    def __call__(self, text: str) -> SafeString:
        if not text or self.pattern is None:
            return escape(text)
        parts: list[str] = []
        last = 0
        for match in self.pattern.finditer(text):
            kind = self._kind(match)
            parts.append(escape(text[last : match.start()]))
            parts.append(
                f'<mark class="hl-{kind}" data-hl="{kind}">'
                f"{escape(match.group(0))}</mark>"
            )
            last = match.end()
        parts.append(escape(text[last:]))
        return mark_safe("".join(parts))  # noqa: S308 (every piece escaped above)

    def _kind(self, match: re.Match[str]) -> str:
        for name, value in match.groupdict().items():
            if value is not None:
                return self.kinds[name]
        return INCLUDE


def _term_regex(term: str) -> str:
    words = term.strip().rstrip("*").split()
    body = r"\s+".join(re.escape(word) for word in words)
    tail = r"\w*" if term.strip().endswith("*") else ""
    return rf"\b{body}{tail}\b"


def highlighter(terms: Iterable[tuple[str, str]]) -> Highlighter:
    """A function that marks `terms` ((term, kind) pairs) in a text. Longer
    terms win over shorter ones that start at the same place; an exclusion
    term wins over an identical inclusion term."""
    cleaned: dict[str, tuple[str, str]] = {}
    for term, kind in terms:
        key = term.strip().casefold()
        if not key.rstrip("*").strip():
            continue
        if key not in cleaned or kind == EXCLUDE:
            cleaned[key] = (term.strip(), kind)
    if not cleaned:
        return Highlighter(None, {})
    ordered = sorted(cleaned.values(), key=lambda item: -len(item[0]))
    groups, kinds = [], {}
    for index, (term, kind) in enumerate(ordered):
        name = f"t{index}"
        groups.append(f"(?P<{name}>{_term_regex(term)})")
        kinds[name] = kind
    pattern = re.compile("|".join(groups), re.IGNORECASE)
    return Highlighter(pattern, kinds)
