"""Prioritised screening: the undecided records, most likely relevant first.

Pure library (numpy, scipy, scikit-learn; no Django), so the app, the tests and
`bench/prioritisation_eval.py` run the same code. It only orders records: it
never reads or changes a decision beyond the labels it is handed.

The model (chosen on `bench/prioritisation_eval.py`, see docs/prioritisation.md):

* text: title (twice) and abstract, see `record_text`;
* features: TF-IDF of words and word pairs (bigrams) with sublinear term
  frequency; bigrams are hashed into 2**21 columns, so no bigram vocabulary
  is held in memory; terms in more than 95% of the records are dropped, rows
  L2-normalised. Fitted once per pool (`vectorise`) and reused
  for every retrain, because the app retrains after each batch of decisions.
* classifier: L2 logistic regression, C = 1, classes weighted to balance
  (liblinear's dual solver: fast when features outnumber labelled records).
* query: certainty ("max"): the highest score first, ties in pool order.

With only one class labelled there is nothing to learn a boundary from: with
included records only, the rest are ordered by cosine similarity to their mean
vector; with excluded records only, or none, in pool order.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.special import expit
from sklearn.feature_extraction.text import (  # type: ignore[import-untyped]
    TfidfTransformer,
)
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]
from sklearn.naive_bayes import MultinomialNB  # type: ignore[import-untyped]
from sklearn.svm import LinearSVC  # type: ignore[import-untyped]

BIGRAM_BITS = 21  # bigrams hash into 2**21 columns: no bigram vocabulary
_KNUTH = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio
_WORD = re.compile(r"\w\w+")
MAX_DF = 0.95  # terms in more than 95% of the records carry no signal
CALIBRATION_FOLDS = 5

Method = Literal["model", "similarity", "pool order", "complete"]
Classifier = Literal["logistic", "svm", "nb"]


@dataclass(frozen=True, slots=True)
class Model:
    """A classifier configuration; `DEFAULT_MODEL` is the benchmarked best."""

    classifier: Classifier = "logistic"
    c: float = 1.0  # inverse regularisation (logistic, svm)
    alpha: float = 3.822  # additive smoothing (nb; ASReview's default)

    @property
    def name(self) -> str:
        if self.classifier == "nb":
            return f"nb(alpha={self.alpha:g})"
        return f"{self.classifier}(C={self.c:g})"


DEFAULT_MODEL = Model()


@dataclass(frozen=True, slots=True)
class Vectorised:
    """The pool as features: one L2-normalised TF-IDF row per record.

    Build it once per pool with `vectorise` and pass it to every retrain; it
    depends on the texts only, never on decisions. Rows may be reordered
    (`Vectorised(v.matrix[perm])`): the idf weights are order-free.
    """

    matrix: sparse.csr_matrix

    @property
    def size(self) -> int:
        return int(self.matrix.shape[0])


@dataclass(frozen=True, slots=True)
class Ranking:
    """The undecided records in screening order, and what is left to find.

    `order` holds every undecided position exactly once, most likely relevant
    first; `scores[i]` belongs to `order[i]` (higher is more likely relevant;
    a model score, not a probability). `estimated_remaining_relevant` is the
    expected number of relevant records among the undecided ones (see
    `_remaining_relevant`), 0.0 when nothing is undecided, and None when it
    was not asked for or cannot be: until one record of each class is decided.
    """

    order: list[int]
    scores: list[float]
    estimated_remaining_relevant: float | None
    method: Method


def record_text(title: str, abstract: str = "", keywords: str = "") -> str:
    """One record's text for `vectorise`, title written twice.

    Titles are short and dense in signal: counting them twice added 4 points
    of WSS@95 on Kitchenham and 1 on Bannach-Brown (1.5 lost on PPI). A record
    without abstract is its title. Keywords are optional and off in the
    benchmark: on the PPI set (Cohen 2006) its MeSH terms cost 12 points of
    WSS@95, because the excluded trials share them with the included ones.
    """
    return " ".join(part for part in (title, title, abstract, keywords) if part)


def vectorise(texts: Sequence[str]) -> Vectorised:
    """TF-IDF features of the whole pool (index = position in `texts`)."""
    if not texts:
        return Vectorised(sparse.csr_matrix((0, 0), dtype=np.float32))
    vocabulary: defaultdict[str, int] = defaultdict()
    vocabulary.default_factory = vocabulary.__len__  # a new word gets the next id
    per_record = [
        np.fromiter(map(vocabulary.__getitem__, words), np.int32, len(words))
        for words in map(_words, texts)
    ]
    lengths = [ids.size for ids in per_record]
    unigrams = np.concatenate(per_record)
    del per_record
    rows = np.repeat(np.arange(len(texts), dtype=np.int32), lengths)
    # Bigrams: neighbouring words of one record, hashed (Knuth's multiplicative
    # hash, top bits) into 2**BIGRAM_BITS columns after the words' own.
    pair = rows[:-1] == rows[1:]
    code = unigrams[:-1][pair].astype(np.uint64) << np.uint64(32)
    code |= unigrams[1:][pair].astype(np.uint64)
    code *= _KNUTH
    code >>= np.uint64(64 - BIGRAM_BITS)
    columns = np.concatenate([unigrams, len(vocabulary) + code.astype(np.int32)])
    rows = np.concatenate([rows, rows[:-1][pair]])
    del unigrams, pair, code
    counts = sparse.csr_matrix(
        (np.ones(columns.size, dtype=np.float32), (rows, columns)),
        shape=(len(texts), len(vocabulary) + 2**BIGRAM_BITS),
    )  # duplicates (a word used twice) are summed: term counts
    del rows, columns
    if counts.shape[0] > 1:
        document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        too_common = document_frequency > MAX_DF * counts.shape[0]
        if too_common.any():
            counts.data[too_common[counts.indices]] = 0
            counts.eliminate_zeros()
    tfidf = sparse.csr_matrix(
        TfidfTransformer(sublinear_tf=True).fit_transform(counts), dtype=np.float32
    )
    return Vectorised(_used_columns(tfidf)[0])


def _words(text: str) -> list[str]:
    """Lower-cased words of two or more word characters, accents stripped
    (scikit-learn's default tokens, with strip_accents="unicode")."""
    text = text.lower()
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(text)


def ranking(
    texts: Sequence[str],
    labels: Mapping[int, bool],
    *,
    seed: int = 0,
    model: Model = DEFAULT_MODEL,
    estimate: bool = True,
) -> Ranking:
    """`ranking_from_matrix` on a pool vectorised for this call only."""
    return ranking_from_matrix(
        vectorise(texts), labels, seed=seed, model=model, estimate=estimate
    )


def ranking_from_matrix(
    vectorised: Vectorised,
    labels: Mapping[int, bool],
    *,
    seed: int = 0,
    model: Model = DEFAULT_MODEL,
    estimate: bool = True,
) -> Ranking:
    """Order the undecided records of the pool, most likely relevant first.

    `labels` maps decided positions to relevant (True) or irrelevant (False);
    every other position is undecided and appears once in the result. The
    same inputs and seed always give the same ranking. `estimate=False` skips
    the estimate of what remains (a cross-validation: the costly part).
    """
    n = vectorised.size
    decided = np.zeros(n, dtype=bool)
    relevant = np.zeros(n, dtype=bool)
    for position, is_relevant in labels.items():
        if not 0 <= position < n:
            raise ValueError(f"label for position {position}, pool of {n}")
        decided[position] = True
        relevant[position] = bool(is_relevant)
    undecided = np.flatnonzero(~decided)
    if undecided.size == 0:
        return Ranking([], [], 0.0, "complete")
    n_relevant = int(relevant.sum())
    n_irrelevant = int(decided.sum()) - n_relevant
    matrix = vectorised.matrix
    if n_relevant and n_irrelevant:
        labelled = np.flatnonzero(decided)
        x, y = matrix[labelled], relevant[labelled]
        # Scoring every row and keeping the undecided ones is cheaper than
        # copying the undecided rows out of a large pool first.
        scores = _decision(model, seed, x, y, matrix)[undecided]
        remaining = _remaining_relevant(model, seed, x, y, scores) if estimate else None
        return _ranked(undecided, scores, remaining, "model")
    if n_relevant:
        centroid = np.asarray(matrix[relevant].mean(axis=0)).ravel()
        scores = np.asarray(matrix[undecided] @ centroid, dtype=np.float64)
        return _ranked(undecided, scores, None, "similarity")
    return _ranked(undecided, np.zeros(undecided.size), None, "pool order")


def _ranked(
    undecided: npt.NDArray[np.intp],
    scores: npt.NDArray[np.float64],
    remaining: float | None,
    method: Method,
) -> Ranking:
    # Stable sort on -score: equal scores keep pool order, whatever the seed.
    order = np.argsort(-scores, kind="stable")
    return Ranking(
        order=undecided[order].tolist(),
        scores=scores[order].tolist(),
        estimated_remaining_relevant=remaining,
        method=method,
    )


def _decision(
    model: Model,
    seed: int,
    x: sparse.csr_matrix,
    y: npt.NDArray[np.bool_],
    unseen: sparse.csr_matrix,
) -> npt.NDArray[np.float64]:
    """Scores for `unseen` from `model` trained on (x, y): higher = relevant."""
    if x.nnz == 0:  # no decided record has a word: nothing to learn from
        return np.zeros(unseen.shape[0])
    if model.classifier == "nb":
        # ASReview's "balanced" sample weights: both classes weigh the same.
        weights = np.where(y, (~y).sum() / y.sum(), 1.0)
        nb = MultinomialNB(alpha=model.alpha).fit(x, y, sample_weight=weights)
        log_proba = nb.predict_log_proba(unseen)
        return np.asarray(log_proba[:, 1] - log_proba[:, 0], dtype=np.float64)
    if model.classifier == "svm":
        estimator = LinearSVC(C=model.c, class_weight="balanced", random_state=seed)
    else:
        estimator = LogisticRegression(
            C=model.c,
            class_weight="balanced",
            solver="liblinear",
            dual=True,  # features outnumber labelled records: dual is faster
            max_iter=1000,
            random_state=seed,
        )
    # Fit on the columns the decided records use: a column they never use
    # gets weight 0 anyway (L2), and liblinear's cost grows with the width.
    narrow, columns = _used_columns(x)
    estimator.fit(narrow, y)
    weights = np.zeros(x.shape[1], dtype=unseen.dtype)  # no float64 copy
    weights[columns] = estimator.coef_[0]
    return np.asarray(unseen @ weights + estimator.intercept_[0], dtype=np.float64)


def _remaining_relevant(
    model: Model,
    seed: int,
    x: sparse.csr_matrix,
    y: npt.NDArray[np.bool_],
    scores: npt.NDArray[np.float64],
) -> float:
    """Expected number of relevant records among the undecided ones.

    Sum over the undecided records of P(relevant | score), where the score to
    probability map is a logistic curve (Platt scaling) fitted on
    out-of-fold scores of the decided records (stratified k-fold, k <= 5):
    training scores would be overconfident, and the class weighting that
    helps the ranking inflates raw probabilities. With fewer than two
    records of a class no fold can hold one out; the balanced model's own
    log-odds, shifted back to the decided records' prevalence, stand in.
    """
    n_relevant = int(y.sum())
    folds = min(CALIBRATION_FOLDS, n_relevant, y.size - n_relevant)
    prior_shift = math.log(n_relevant / (y.size - n_relevant))
    if folds < 2:
        return float(expit(scores + prior_shift).sum())
    out_of_fold = np.empty(y.size)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(np.zeros(y.size), y):
        out_of_fold[test] = _decision(model, seed, x[train], y[train], x[test])
    platt = LogisticRegression(C=1e4).fit(out_of_fold.reshape(-1, 1), y)
    if platt.coef_[0, 0] <= 0:  # folds too small to order anything
        return float(expit(scores + prior_shift).sum())
    return float(platt.predict_proba(scores.reshape(-1, 1))[:, 1].sum())


def _used_columns(
    matrix: sparse.csr_matrix,
) -> tuple[sparse.csr_matrix, npt.NDArray[np.intp]]:
    """`matrix` without its all-zero columns, and the columns it kept."""
    used = np.zeros(matrix.shape[1], dtype=bool)
    used[matrix.indices] = True
    new_index = np.cumsum(used, dtype=np.int32) - 1
    narrow = sparse.csr_matrix(
        (matrix.data, new_index[matrix.indices], matrix.indptr),
        shape=(matrix.shape[0], int(used.sum())),
    )
    return narrow, np.flatnonzero(used)
