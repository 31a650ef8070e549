"""Small record builders for the engine tests."""

from __future__ import annotations

from typing import Any

from searches.dedup import DedupRecord

ARTICLE: dict[str, Any] = {
    "title": "Eculizumab in atypical hemolytic uremic syndrome: a prospective trial",
    "authors": (("Legendre", "C. M."), ("Licht", "C."), ("Muus", "P.")),
    "year": 2013,
    "journal": "New England Journal of Medicine",
    "volume": "368",
    "issue": "23",
    "pages": "2169-2181",
    "doi": "10.1056/NEJMoa1208981",
    "pmid": "23738544",
}


def record(id: str, **changes: Any) -> DedupRecord:
    """The ARTICLE with `changes` applied."""
    return DedupRecord(id=id, **{**ARTICLE, **changes})
