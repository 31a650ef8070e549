from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def highlighted(
    context: dict[str, Any], text: str | Sequence[str], sep: str = "; "
) -> SafeString:
    """`text` (or a list of texts joined by `sep`) escaped once, with the
    page's highlight terms marked."""
    if not isinstance(text, str):
        text = sep.join(str(item) for item in text)
    mark = context.get("highlight")
    return mark(text) if mark is not None else escape(text)
