"""Candidate generation: which pairs are worth scoring.

Never all pairs. Records sharing a blocking key (DOI, PMID, exact title, title
prefix or suffix, first author + year, volume + first page ...) become
candidates, and three sorted-neighbourhood passes (titles sorted as written,
reversed, and as a bag of words) pair each record with its nearest titles,
which catches typos and reordered or extra leading words. A block larger than
`max_block` is paired by sorted neighbourhood inside it instead of all-pairs,
so the number of candidates is at most linear in the number of records:
roughly n * (keys * window + passes * window).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from searches.dedup.normalise import NormRecord, title_words

# Pairs are packed into one int: (i << 32) | j with i < j. Cheaper than tuples,
# which matters with millions of candidates.
_SHIFT = 32
_MASK = (1 << _SHIFT) - 1


def pack(i: int, j: int) -> int:
    """One int for the unordered pair {i, j} (i != j)."""
    return (i << _SHIFT) | j if i < j else (j << _SHIFT) | i


def unpack(pair: int) -> tuple[int, int]:
    """The (i, j) of a packed pair, i < j."""
    return pair >> _SHIFT, pair & _MASK


def _keys(r: NormRecord) -> Iterable[tuple[str, ...]]:
    if r.doi:
        yield ("doi", r.doi)
    if r.pmid:
        yield ("pmid", r.pmid)
    key = r.title_key
    if len(key) >= 12:
        yield ("title", key)
    if len(key) >= 40:
        # Prefix and suffix: a subtitle dropped, or a translation appended.
        yield ("title<", key[:30])
        yield ("title>", key[-30:])
    first_page = str(r.pages.first) if r.pages else ""
    first_author = r.authors[0] if r.authors else ""
    if first_author and r.year:
        yield ("author+year", first_author, str(r.year))
    if first_author and first_page:
        yield ("author+page", first_author, first_page)
    if r.volume and first_page:
        # Records without a usable title still share volume and first page.
        yield ("volume+page", r.volume, first_page)


def _bag_key(r: NormRecord) -> str:
    return " ".join(sorted(set(title_words(r.title))))


def _sort_keys() -> list[Callable[[NormRecord], str]]:
    return [
        lambda r: r.title_key,
        lambda r: r.title_key[::-1],
        _bag_key,
    ]


def _window_pairs(
    members: Sequence[int], window: int, out: set[int], is_new: Callable[[int], bool]
) -> None:
    # Each member with the next `window` members of the sorted sequence.
    for pos, i in enumerate(members):
        for j in members[pos + 1 : pos + 1 + window]:
            if i != j and (is_new(i) or is_new(j)):
                out.add(pack(i, j))


def candidate_pairs(
    records: Sequence[NormRecord],
    *,
    new_from: int = 0,
    window: int = 4,
    max_block: int = 40,
) -> set[int]:
    """Packed pairs (see `unpack`) of record positions worth scoring.

    With `new_from` = k > 0 only pairs involving a record at position >= k are
    returned (incremental mode: records before k were deduplicated already).
    Guarantees: no pair (i, i); no pair of two old records; at most about
    n * (7 * max(window, max_block share) + 3 * window) pairs, never all
    n * (n - 1) / 2 for n above a few dozen.
    """

    def is_new(i: int) -> bool:
        return i >= new_from

    out: set[int] = set()
    blocks: defaultdict[tuple[str, ...], list[int]] = defaultdict(list)
    for r in records:
        for key in _keys(r):
            blocks[key].append(r.index)
    by_index = {r.index: r for r in records}
    for members in blocks.values():
        if len(members) < 2:
            continue
        if new_from and not any(is_new(i) for i in members):
            continue
        if len(members) <= max_block:
            for pos, i in enumerate(members):
                for j in members[pos + 1 :]:
                    if is_new(i) or is_new(j):
                        out.add(pack(i, j))
        else:
            # A huge block ("wang 2020", a DOI shared by a whole supplement):
            # only the closest titles inside it.
            ordered = sorted(members, key=lambda i: by_index[i].title_key)
            _window_pairs(ordered, window, out, is_new)
    del blocks
    titled = [r for r in records if r.title_key]
    for sort_key in _sort_keys():
        ordered = [r.index for r in sorted(titled, key=sort_key)]
        _window_pairs(ordered, window, out, is_new)
    return out
