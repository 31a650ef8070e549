"""Duplicate groups from AUTO pairs: union-find with a guard against chaining.

Plain transitive closure lets one bad link glue two unrelated groups together
(A=B, B~C, so A=C even when A and C are plainly different). Here two groups
join only if every pair across them is at least POSSIBLE and breaks no hard
rule; pairs blocking never scored are compared on the spot. Links are applied
strongest first, so a weak link cannot pre-empt a strong one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


class _Groups:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.members: dict[int, list[int]] = {}

    def find(self, i: int) -> int:
        parent = self.parent.setdefault(i, i)
        if parent != i:
            parent = self.parent[i] = self.find(parent)
        return parent

    def group(self, root: int) -> list[int]:
        return self.members.get(root, [root])

    def union(self, ra: int, rb: int) -> None:
        # The larger group absorbs the smaller: near-linear overall.
        ga, gb = self.group(ra), self.group(rb)
        if len(ga) < len(gb):
            ra, rb, ga, gb = rb, ra, gb, ga
        self.parent[rb] = ra
        self.members[ra] = ga + gb
        self.members.pop(rb, None)


def group_links(
    links: Sequence[tuple[int, int, float]],
    compatible: Callable[[int, int], bool],
    *,
    max_group: int = 25,
) -> tuple[list[list[int]], list[tuple[int, int]]]:
    """Join AUTO links (i, j, score) into groups of record positions.

    Returns (groups, refused): groups with two or more members, each sorted,
    and the links the guard refused. Guarantees: within every returned group
    every pair is `compatible` (the chaining guard; the engine's test is "at
    least POSSIBLE and no hard rule");
    no group exceeds `max_group` members; the result does not depend on the
    order of `links` beyond ties in score.
    """
    groups = _Groups()
    refused: list[tuple[int, int]] = []
    for i, j, _ in sorted(links, key=lambda link: (-link[2], link[0], link[1])):
        ra, rb = groups.find(i), groups.find(j)
        if ra == rb:
            continue
        ga, gb = groups.group(ra), groups.group(rb)
        if len(ga) + len(gb) > max_group or not all(
            compatible(x, y) for x in ga for y in gb
        ):
            refused.append((i, j))
            continue
        groups.union(ra, rb)
    result = [sorted(members) for members in groups.members.values()]
    result.sort(key=lambda g: (-len(g), g[0]))
    return result, refused
