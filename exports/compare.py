"""The one comparison core: units of a layer, one-to-one alignment, scores.

Agreement (annotator vs annotator) and evaluation (gold vs prediction) compare two documents of
the same article the same way, so both use this module:

1. ``extract_layers`` (``extract_units`` for one layer) turns documents into columnar tables of
   the units of each ``Layer``; a unit is one or more half-open segments (a quote is its content
   fragments) with a label and attributes;
2. ``align`` pairs the units of the two documents of each document pair ONE-TO-ONE: candidates
   (``overlapping``) are unit pairs that overlap (``Boundary.OVERLAP``) or cover the same
   positions (``Boundary.EXACT``), optionally only with equal labels, and the assignment maximises
   the total overlap (``scipy.optimize.linear_sum_assignment``), with fixed tie-breakers so that
   neither the solver nor the order of the documents decides;
3. ``tally`` counts, per document pair and label, the units on each side and the credit of the
   matched pairs; ``Score`` turns the counts into precision, recall and F1.

A ``Scheme`` fixes boundary, typing and the credit of a non-exact match, so the SemEval-2013
schemes (strict, exact, partial, type) and plain overlap are one code path with four settings.

Everything runs on numpy arrays over all document pairs at once; a Python loop only visits the
rare groups of units where several overlap several on the other side (there the assignment
problem is real and goes to scipy). Positions are code points, or token indices after
``Units.in_tokens`` (``TOKEN_PATTERN`` tokens).

The steps live in ``exports.units`` (1), ``exports.alignment`` (2) and here (3, with the schemes); every
part is importable from this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from exports.alignment import Alignment, Candidates, align, overlapping
from exports.units import (
    LAYER_ATTRIBUTES,
    LAYER_LABELS,
    NO_VALUE,
    TOKEN_PATTERN,
    Boundary,
    Layer,
    Tokens,
    Units,
    concat_ranges,
    extract_layers,
    extract_units,
    token_spans,
)
from schemas import AnnotatedDocument, ToolkitError

# The core's parts, importable from here: units (``exports.units``), alignment (``exports.alignment``), scores.
__all__ = ["EXACT", "LAYER_ATTRIBUTES", "LAYER_LABELS", "NO_VALUE", "OVERLAP", "PARTIAL", "SCHEMES", "STRICT",
           "TOKEN_PATTERN", "TYPE", "Alignment", "Boundary", "Candidates", "Layer", "Scheme", "Score", "Tally",
           "Tokens", "Units", "align", "compare", "concat_ranges", "extract_layers", "extract_units", "overlapping",
           "tally", "token_spans"]


@dataclass(frozen=True)
class Scheme:
    """How two units may match and what a match is worth."""

    name: str
    boundary: Boundary
    typed: bool  # labels must be equal to match
    partial_credit: float = 1.0  # credit of a match whose positions differ (exact matches earn 1)


STRICT = Scheme("strict", Boundary.EXACT, typed=True)
EXACT = Scheme("exact", Boundary.EXACT, typed=False)
PARTIAL = Scheme("partial", Boundary.OVERLAP, typed=False, partial_credit=0.5)
TYPE = Scheme("type", Boundary.OVERLAP, typed=True)
OVERLAP = Scheme("overlap", Boundary.OVERLAP, typed=False)
SCHEMES = {s.name: s for s in (STRICT, EXACT, PARTIAL, TYPE, OVERLAP)}


# --- scores ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """Counts of one comparison; left is the reference (gold, or the first annotator)."""

    n_left: int
    n_right: int
    credit: float  # matched pairs, a non-exact one counting its scheme's partial credit

    @property
    def tp(self) -> float:
        return self.credit

    @property
    def fp(self) -> float:
        return self.n_right - self.credit

    @property
    def fn(self) -> float:
        return self.n_left - self.credit

    @property
    def precision(self) -> float | None:
        return self.credit / self.n_right if self.n_right else None

    @property
    def recall(self) -> float | None:
        return self.credit / self.n_left if self.n_left else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall; None when neither side has a unit."""
        total = self.n_left + self.n_right
        return 2 * self.credit / total if total else None


@dataclass(frozen=True)
class Tally:
    """Per document pair and label: units on each side and the credit of the matches.

    An untyped scheme has one column, ``"all"``: a match may join units of different labels.
    """

    scheme: Scheme
    labels: tuple[str, ...]
    n_left: np.ndarray  # (P, L)
    n_right: np.ndarray  # (P, L)
    credit: np.ndarray  # (P, L)

    def score(self, pairs: np.ndarray | slice = slice(None), label: str | None = None) -> Score:
        """Summed over the given document pairs, for one label or all."""
        cols = slice(None) if label is None else self.labels.index(label)
        return Score(int(self.n_left[pairs, cols].sum()), int(self.n_right[pairs, cols].sum()),
                     float(self.credit[pairs, cols].sum()))

    def by_label(self) -> dict[str, Score]:
        return {label: self.score(label=label) for label in self.labels}


def tally(units: Units, pairs: np.ndarray, alignment: Alignment, scheme: Scheme) -> Tally:
    """Units on each side and credit of ``alignment``'s matches under ``scheme``, per document pair and label."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    labels = units.labels if scheme.typed else ("all",)
    n_labels = len(labels)
    label = units.label if scheme.typed else np.zeros(len(units), dtype=np.int64)
    per_doc = np.bincount(units.doc * n_labels + label, minlength=units.n_docs * n_labels).reshape(-1, n_labels)
    credit = np.where(alignment.exact, 1.0, scheme.partial_credit)
    credits = np.bincount(alignment.pair * n_labels + label[alignment.left], weights=credit,
                          minlength=len(pairs) * n_labels).reshape(-1, n_labels)
    return Tally(scheme, labels, per_doc[pairs[:, 0]], per_doc[pairs[:, 1]], credits)


def compare(docs: Sequence[AnnotatedDocument], pairs: np.ndarray | Sequence[tuple[int, int]], layer: Layer,
            scheme: Scheme, *, tokens: bool = False) -> Tally:
    """Score ``docs[j]`` against ``docs[i]`` for each ``(i, j)`` in ``pairs`` (documents of one article).

    ``tokens`` measures overlap in ``TOKEN_PATTERN`` tokens instead of code points.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    for i, j in pairs.tolist():
        if docs[i].article.sha256 != docs[j].article.sha256:
            raise ToolkitError(f"documents {i} ({docs[i].article.id!r}) and {j} ({docs[j].article.id!r}) annotate "
                               "different texts; compare only documents of the same article")
    units = extract_units(docs, layer)
    if tokens:
        units = units.in_tokens(Tokens.of(docs))
    return tally(units, pairs, align(units, pairs, boundary=scheme.boundary, typed=scheme.typed), scheme)
