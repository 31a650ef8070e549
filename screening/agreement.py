"""Agreement between two screeners (DOMAIN.md 5.3), on pre-resolution votes.

Pure Python: the stage dashboard computes it from decision rows, the tests
from the worked vectors. For a k x k table of N items with proportions p_ij
(rows: reviewer A, columns: reviewer B):

* observed agreement  po = sum p_ii;
* Cohen's kappa       (po - pe) / (1 - pe), pe = sum p_i. * p_.i
  (KAP-1; undefined when pe = 1, e.g. both reviewers always said "exclude");
* its standard error  the large-sample formula of Fleiss, Cohen and Everitt
  (1969), as R's psych::cohen.kappa and vcd::Kappa report it, and a 95%
  Wald interval clipped to [-1, 1];
* PABAK               (k po - 1) / (k - 1) (KAP-3);
* Gwet's AC1          (po - pe) / (1 - pe) with pe = sum pi_k (1 - pi_k) / (k - 1),
  pi_k the mean of the two reviewers' shares of category k (Gwet 2008): stays
  high when one category is rare, where kappa collapses (the "kappa paradox").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Z_95 = 1.959963984540054  # the standard normal's 97.5th percentile


@dataclass(frozen=True, slots=True)
class Agreement:
    """Agreement on `n` items between two reviewers. None = not defined."""

    n: int
    categories: tuple[str, ...]
    table: tuple[tuple[int, ...], ...]  # counts, rows reviewer A, columns B
    observed: float | None  # po
    expected: float | None  # pe (chance agreement, Cohen)
    kappa: float | None
    kappa_se: float | None
    kappa_low: float | None
    kappa_high: float | None
    pabak: float | None
    ac1: float | None

    @property
    def label(self) -> str:
        """Landis and Koch's words for kappa, or 'n/a'."""
        return landis_koch(self.kappa)


def landis_koch(kappa: float | None) -> str:
    """KAP-4: upper limits inclusive (0.20 is slight, 0.61 substantial)."""
    if kappa is None or math.isnan(kappa):
        return "n/a"
    kappa = round(kappa, 10)  # 0.2 computed as 0.20000000000000004 is still slight
    if kappa < 0:
        return "poor"
    for limit, label in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate")):
        if kappa <= limit:
            return label
    return "substantial" if kappa <= 0.8 else "almost perfect"


def agreement(pairs: Iterable[tuple[str, str]], categories: Sequence[str]) -> Agreement:
    """Agreement from (reviewer A's vote, reviewer B's vote) per item. Votes
    outside `categories` raise ValueError (a caller maps "maybe" first)."""
    index = {category: i for i, category in enumerate(categories)}
    k = len(categories)
    counts = [[0] * k for _ in range(k)]
    for a, b in pairs:
        try:
            counts[index[a]][index[b]] += 1
        except KeyError as error:
            message = f"vote {error.args[0]!r} is not one of {tuple(categories)}"
            raise ValueError(message) from None
    return agreement_from_table(counts, categories)


def agreement_from_table(
    table: Sequence[Sequence[int]], categories: Sequence[str]
) -> Agreement:
    """Agreement from a k x k table of counts (rows A, columns B)."""
    k = len(categories)
    if k < 2 or len(table) != k or any(len(row) != k for row in table):
        raise ValueError("the table must be k x k, with k >= 2 categories")
    counts = tuple(tuple(int(c) for c in row) for row in table)
    if any(c < 0 for row in counts for c in row):
        raise ValueError("counts cannot be negative")
    n = sum(map(sum, counts))
    if n == 0:
        return Agreement(0, tuple(categories), counts, *([None] * 8))
    p = [[c / n for c in row] for row in counts]
    rows = [sum(row) for row in p]
    cols = [sum(p[i][j] for i in range(k)) for j in range(k)]
    po = sum(p[i][i] for i in range(k))
    pe = sum(rows[i] * cols[i] for i in range(k))
    pabak = (k * po - 1) / (k - 1)

    kappa = se = low = high = None
    if not math.isclose(pe, 1.0):
        kappa = (po - pe) / (1 - pe)
        se = _kappa_se(p, rows, cols, kappa, pe, n)
        low = max(-1.0, kappa - Z_95 * se)
        high = min(1.0, kappa + Z_95 * se)

    shares = [(rows[i] + cols[i]) / 2 for i in range(k)]
    pe_gwet = sum(s * (1 - s) for s in shares) / (k - 1)
    ac1 = None if math.isclose(pe_gwet, 1.0) else (po - pe_gwet) / (1 - pe_gwet)
    return Agreement(
        n, tuple(categories), counts, po, pe, kappa, se, low, high, pabak, ac1
    )


def _kappa_se(
    p: list[list[float]],
    rows: list[float],
    cols: list[float],
    kappa: float,
    pe: float,
    n: int,
) -> float:
    """Fleiss, Cohen and Everitt (1969), the large-sample standard error of kappa."""
    k = len(p)
    a = sum(p[i][i] * (1 - (rows[i] + cols[i]) * (1 - kappa)) ** 2 for i in range(k))
    b = (1 - kappa) ** 2 * sum(
        p[i][j] * (cols[i] + rows[j]) ** 2 for i in range(k) for j in range(k) if i != j
    )
    c = (kappa - pe * (1 - kappa)) ** 2
    variance = (a + b - c) / (n * (1 - pe) ** 2)
    return math.sqrt(max(variance, 0.0))
