"""Adjudication: one gold document per article from its annotators' documents.

Per article:

- An annotation marked as ground truth in Label Studio wins, whole. Two marked is a conflict;
  the article then has no gold until a decision picks one (or rejects both marks: majority vote).
- Otherwise the units of each layer are grouped across annotators with the comparison core
  (``exports.compare``: ``extract_units``, then ``align`` one-to-one for every pair of the
  article's annotators; units joined by alignments form a group). A group that enough annotators
  marked (``MajorityRule``) is accepted, each attribute taking the value enough of them gave.
- What falls short is a ``Conflict``: a unit too few annotators marked, or one annotator marked
  twice within a group; an attribute without a majority value. The unit stays out of the gold
  until a decisions file settles it: accept one annotator's version, reject, or give a value,
  always with a reason. Decisions are applied on every run, so adjudication is reproducible
  (same inputs and decisions, same gold bytes).

Units and the attributes voted on (values are strings; ``"none"`` means "the annotator gave none"):

- quote: ``span`` (content fragments ``s-e+s-e``), ``kind``, ``cue`` (``s-e``), ``speaker``
  (entity id), ``stance`` (``target:polarity``; the holder is the quote's speaker, as in Label Studio);
- mention: ``span``, ``entity``;
- claim: ``span``, ``check_worthy``, ``claimant`` (entity id);
- stances without evidence quotes (not possible in Label Studio, possible in other sources) are
  voted on by (holder, target, polarity).

Gold items get fresh ids in text order (``m1``, ``q1``, ``c1``; stances ``holder:target:polarity``)
and ``supported_by``: the annotators who marked the unit (whose unit is in its group). A
ground-truth document keeps its own ids. Entities are those the accepted units refer to, each
with the name/type/Wikidata most of the article's annotators gave it.

Outputs: ``GOLD.jsonl`` and the sidecar ``<stem>.conflicts.json`` (``AdjudicationReport``: inputs
with their hashes, the rule, per-article outcome, every conflict with its versions and, when
decided, the decision and its reason). The path of the last gold is recorded in
``state_dir()/adjudication.json`` (``latest_adjudication``).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from annotate.articles import first_error, read_text
from annotate.paths import state_dir
from exports.compare import NO_VALUE, Boundary, Layer, Units, align, extract_units
from schemas import (
    AnnotatedDocument,
    Article,
    CheckWorthy,
    Claim,
    Entity,
    Mention,
    Polarity,
    Provenance,
    Quote,
    QuoteKind,
    Span,
    Stance,
    ToolkitError,
    entity_id_for,
)

if TYPE_CHECKING:
    from annotate.client import ProjectInfo, StudioClient

GOLD = "gold"
EXCLUDED_ORIGINS = {"gold": "a gold document, not an annotator", "prediction": "a model prediction, not an annotator"}
LATEST_FILE = "adjudication.json"
CONFLICTS_SUFFIX = ".conflicts.json"

# The layers adjudicated as units; cues are an attribute of their quote.
GOLD_LAYERS = (Layer.MENTION, Layer.QUOTE, Layer.CLAIM)
ATTRIBUTES: dict[Layer, tuple[str, ...]] = {
    Layer.QUOTE: ("span", "kind", "cue", "speaker", "stance"),
    Layer.CUE: ("span",),
    Layer.MENTION: ("span", "entity"),
    Layer.CLAIM: ("span", "check_worthy", "claimant"),
}
ENTITY_ATTRIBUTES = ("entity", "speaker", "claimant")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]*$")
_SPAN_VALUE = re.compile(r"^(\d+)-(\d+)$")


# --- inputs --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourcedDocuments:
    """Documents read from JSONL, each with where it came from (``file:line``)."""

    docs: list[AnnotatedDocument]
    where: list[str]


def read_documents(paths: Sequence[Path]) -> SourcedDocuments:
    """``AnnotatedDocument`` JSONL files, each document with the file:line it came from."""
    from annotate.documents import iter_documents

    docs, where = [], []
    for path in paths:
        for lineno, doc in iter_documents(path):
            docs.append(doc)
            where.append(f"{path}:{lineno}")
    if not docs:
        raise ToolkitError(f"no annotated documents in {', '.join(map(str, paths))}; pass the JSONL of a pull")
    return SourcedDocuments(docs, where)


@dataclass(frozen=True)
class Corpus:
    """Documents grouped by article (annotators sorted within), and every pair of one article's documents."""

    docs: list[AnnotatedDocument]
    article_ids: list[str]
    offsets: np.ndarray  # (A + 1,) documents of article a are docs[offsets[a]:offsets[a + 1]]

    @classmethod
    def of(cls, docs: Sequence[AnnotatedDocument], where: Sequence[str] | None = None) -> Corpus:
        where = list(where) if where is not None else [f"document {i + 1}" for i in range(len(docs))]
        order = sorted(range(len(docs)), key=lambda i: (docs[i].article.id, docs[i].provenance.annotator))
        seen: dict[tuple[str, str], str] = {}
        text_of: dict[str, tuple[str, str]] = {}
        for i in order:
            doc = docs[i]
            article, annotator = doc.article.id, doc.provenance.annotator
            first = text_of.setdefault(article, (doc.article.sha256, where[i]))
            if first[0] != doc.article.sha256:
                raise ToolkitError(f"{where[i]}: article {article!r} has a different text (sha256) than at {first[1]}; "
                                   "give each text its own article id, or pull again")
            if (article, annotator) in seen:
                raise ToolkitError(f"{where[i]}: annotator {annotator!r} already has a document of article {article!r} "
                                   f"at {seen[article, annotator]}; keep one per annotator and article")
            seen[article, annotator] = where[i]
        sorted_docs = [docs[i] for i in order]
        article_ids = list(text_of)
        index = {a: n for n, a in enumerate(article_ids)}
        doc_article = np.array([index[d.article.id] for d in sorted_docs], dtype=np.int64)
        return cls(sorted_docs, article_ids, np.searchsorted(doc_article, np.arange(len(article_ids) + 1)))

    def article_docs(self, a: int) -> list[AnnotatedDocument]:
        return self.docs[self.offsets[a] : self.offsets[a + 1]]

    def doc_article(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.article_ids)), np.diff(self.offsets))

    def pairs(self) -> np.ndarray:
        """(P, 2) every pair of documents of one article."""
        pairs = [pair for a in range(len(self.article_ids))
                 for pair in combinations(range(self.offsets[a], self.offsets[a + 1]), 2)]
        return np.array(pairs, dtype=np.int64).reshape(-1, 2)


# --- units and their groups across annotators ------------------------------------------------------------------


@dataclass(frozen=True)
class UnitView:
    """One annotator's unit with the values of its attributes."""

    layer: Layer
    doc: int  # index into ``Corpus.docs``
    annotator: str
    ref: str  # the quote, mention or claim id in the annotator's document
    start: int  # first position of the unit
    end: int  # end of its last segment
    values: dict[str, str]


def _span_value(span: Span | None) -> str:
    return NO_VALUE if span is None else f"{span.start}-{span.end}"


def _views(corpus: Corpus, units: Units) -> list[UnitView]:
    layer = units.layer
    items: dict[tuple[int, str], Any] = {}
    for d, doc in enumerate(corpus.docs):
        pool = doc.claims if layer is Layer.CLAIM else doc.mentions if layer is Layer.MENTION else doc.quotes
        items.update(((d, item.id), item) for item in pool)
    first = np.searchsorted(units.seg_unit, np.arange(len(units)), side="left")
    last = np.searchsorted(units.seg_unit, np.arange(len(units)), side="right") - 1
    views = []
    for u in range(len(units)):
        d, ref = int(units.doc[u]), units.ref[u]
        item = items[d, ref]
        a = units.attributes
        if layer is Layer.QUOTE:
            target = a["stance_target"][u]
            values = {"span": "+".join(_span_value(s) for s in item.content), "kind": a["kind"][u],
                      "cue": _span_value(item.cue), "speaker": a["speaker"][u],
                      "stance": NO_VALUE if target == NO_VALUE else f"{target}:{a['stance_polarity'][u]}"}
        elif layer is Layer.CUE:
            values = {"span": _span_value(item.cue)}
        elif layer is Layer.MENTION:
            values = {"span": _span_value(item.span), "entity": a["entity"][u]}
        else:
            values = {"span": _span_value(item.span), "check_worthy": a["check_worthy"][u],
                      "claimant": item.claimant_entity_id or NO_VALUE}
        views.append(UnitView(layer, d, corpus.docs[d].provenance.annotator, ref,
                              int(units.seg_start[first[u]]), int(units.seg_end[last[u]]), values))
    return views


def group_units(corpus: Corpus, layer: Layer, boundary: Boundary) -> list[list[list[UnitView]]]:
    """Per article, the groups of units of ``layer``: units joined by the core's pairwise one-to-one
    alignments (untyped: a differing kind is an attribute difference, not another unit).

    Groups are sorted by position; within a group units are in annotator order. A group may hold
    two units of one annotator when alignments chain (a1-b1, b1-c1, c1-a2): callers treat that as
    ambiguous.
    """
    units = extract_units(corpus.docs, layer)
    alignment = align(units, corpus.pairs(), boundary=boundary, typed=False)
    n = len(units)
    graph = coo_matrix((np.ones(len(alignment.left)), (alignment.left, alignment.right)), shape=(n, n))
    component = connected_components(graph, directed=False)[1] if n else np.zeros(0, dtype=np.int64)
    views = _views(corpus, units)
    doc_article = corpus.doc_article()
    by_article: list[list[list[UnitView]]] = [[] for _ in corpus.article_ids]
    members: dict[int, list[UnitView]] = defaultdict(list)
    for u in np.argsort(component, kind="stable").tolist():  # units are in document (= annotator) order
        members[int(component[u])].append(views[u])
    for group in members.values():
        by_article[int(doc_article[group[0].doc])].append(group)
    for groups in by_article:
        groups.sort(key=lambda g: (min(v.start for v in g), max(v.end for v in g), [(v.annotator, v.ref) for v in g]))
    return by_article


# --- the majority rule -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MajorityRule:
    """How many of an article's annotators must agree: a count, a fraction, or (default) more than half."""

    count: int | None = None
    fraction: Fraction | None = None

    def needed(self, annotators: int) -> int:
        if self.count is not None:
            return self.count
        if self.fraction is not None:
            return max(1, math.ceil(self.fraction * annotators))
        return annotators // 2 + 1

    def describe(self) -> str:
        if self.count is not None:
            return f"at least {self.count} annotator{'s' if self.count > 1 else ''}"
        if self.fraction is not None:
            return f"at least {self.fraction} of each article's annotators"
        return "more than half of each article's annotators"


def parse_majority(text: str | None) -> MajorityRule:
    """``None`` (more than half), a count (``2``) or a fraction (``0.5``, ``2/3``)."""
    if text is None:
        return MajorityRule()
    hint = "give a count of annotators (e.g. 2) or a fraction of them (e.g. 0.5 or 2/3)"
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise ToolkitError(f"--majority {text!r}: not a number; {hint}") from None
    if "." in text or "/" in text:
        if not 0 < value <= 1:
            raise ToolkitError(f"--majority {text!r}: a fraction must be above 0 and at most 1; {hint}")
        return MajorityRule(fraction=value)
    if value < 1:
        raise ToolkitError(f"--majority {text!r}: a count must be 1 or more; {hint}")
    return MajorityRule(count=int(value))


# --- decisions ------------------------------------------------------------------------------------------------


class Decision(BaseModel):
    """What a person decided for one conflict: exactly one of ``accept``, ``reject``, ``value``; and why."""

    model_config = ConfigDict(extra="forbid")

    accept: str | None = Field(default=None, description="Annotator whose version to take.")
    unit: str | None = Field(default=None, description="With accept: which of the annotator's units, when the "
                                                      "conflict holds several of theirs.")
    reject: bool = Field(default=False, description="Leave the unit out of the gold (ground truth: ignore the marks).")
    value: str | None = Field(default=None, description="The attribute's value (attribute conflicts only).")
    reason: str = Field(min_length=1, description="Why; recorded in the conflicts file.")

    @model_validator(mode="after")
    def _one_action(self) -> Decision:
        actions = [name for name, given in (("accept", self.accept is not None), ("reject", self.reject),
                                            ("value", self.value is not None)) if given]
        if len(actions) != 1:
            raise ValueError(f"give exactly one of accept, reject, value (got {', '.join(actions) or 'none'})")
        if self.unit is not None and self.accept is None:
            raise ValueError("unit goes with accept only")
        if not self.reason.strip():
            raise ValueError("reason is blank; say why")
        return self


@dataclass(frozen=True)
class Decisions:
    source: str  # the decisions file, for messages
    by_id: dict[str, Decision] = field(default_factory=dict)
    sha256: str | None = None


def load_decisions(path: Path) -> Decisions:
    """A JSON or YAML (``.yaml``/``.yml``) mapping ``conflict id -> decision``."""
    text = read_text(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise ToolkitError(f"{path}{line}: invalid YAML ({getattr(e, 'problem', None) or e}); "
                               "write `conflict id: {accept|reject|value: ..., reason: ...}`") from None
    else:
        try:
            data = json.loads(text) if text.strip() else None
        except json.JSONDecodeError as e:
            raise ToolkitError(f"{path}:{e.lineno}: invalid JSON ({e.msg}); write "
                               '{"<conflict id>": {"accept": "<annotator>", "reason": "..."}}') from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ToolkitError(f"{path}: expected a mapping of conflict id to decision, found {type(data).__name__}")
    decisions = {}
    for conflict_id, entry in data.items():
        try:
            decisions[str(conflict_id)] = Decision.model_validate(entry)
        except ValidationError as e:
            raise ToolkitError(f"{path}: conflict {conflict_id!r}: {first_error(e)}; a decision is accept: <annotator> "
                               "(+ unit: <id>), reject: true or value: <value>, with reason: <why>") from None
    return Decisions(str(path), decisions, hashlib.sha256(text.encode("utf-8")).hexdigest())


# --- the conflicts file ----------------------------------------------------------------------------------------


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Version(_Record):
    """One annotator's answer in a conflict."""

    annotator: str
    unit: str | None = Field(default=None, description="The annotator's item id (or annotation id).")
    value: str | None = Field(default=None, description="Attribute conflicts: this annotator's value.")
    attributes: dict[str, str] = Field(default_factory=dict, description="Unit conflicts: all its values.")
    shown: str = Field(description="The version for a person: texts and names instead of offsets and ids.")


class Conflict(_Record):
    id: str = Field(description="Stable across runs while the annotations stay the same: key of the decisions file.")
    article_id: str
    kind: Literal["unit", "attribute", "ground-truth"]
    layer: str | None = None
    attribute: str | None = None
    start: int | None = None
    end: int | None = None
    text: str | None = Field(default=None, description="Article text the conflict covers.")
    problem: str
    annotators: list[str] = Field(description="All of the article's annotators.")
    versions: list[Version]
    decision: Decision | None = Field(default=None, description="None: still open (the unit is not in the gold).")


class InputFile(_Record):
    path: str
    sha256: str


class ExcludedDocument(_Record):
    where: str
    article_id: str
    annotator: str
    reason: str


class ArticleOutcome(_Record):
    article_id: str
    annotators: list[str]
    method: Literal["ground-truth", "majority", "held-back"]
    needed: int | None = Field(default=None, description="Annotators who must agree (majority method).")
    ground_truth: str | None = Field(default=None, description="Annotator whose ground truth the gold is.")
    gold_items: dict[str, int] = Field(default_factory=dict)
    open_conflicts: int = 0
    decided_conflicts: int = 0


class AdjudicationReport(_Record):
    """``<gold stem>.conflicts.json``: how the gold was made, and every conflict."""

    created_at: datetime
    gold_file: str | None = None
    inputs: list[InputFile] = Field(default_factory=list)
    majority: str
    boundary: Boundary
    decisions_file: InputFile | None = None
    excluded: list[ExcludedDocument] = Field(default_factory=list)
    articles: list[ArticleOutcome]
    conflicts: list[Conflict]
    unused_decisions: list[str] = Field(default_factory=list, description="Decisions whose conflict no longer "
                                        "exists (the annotations changed, or it was settled in Label Studio).")

    def open_conflicts(self) -> list[Conflict]:
        return [c for c in self.conflicts if c.decision is None]


@dataclass(frozen=True)
class Adjudication:
    gold: list[AnnotatedDocument]
    report: AdjudicationReport
    corpus: Corpus  # the annotators' documents that were adjudicated


# --- adjudication ----------------------------------------------------------------------------------------------


def _sorted_unique(names: Sequence[str]) -> list[str]:
    return sorted(set(names))


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _majority_value(values: Sequence[str], needed: int) -> str | None:
    """The value at least ``needed`` gave, and more than gave any other; None when there is none."""
    ranked = Counter(values).most_common()
    top, votes = ranked[0]
    if votes >= needed and (len(ranked) == 1 or ranked[1][1] < votes):
        return top
    return None


@dataclass
class _Accepted:
    """A unit going into the gold: its values and the annotators' units that support it."""

    layer: Layer
    values: dict[str, str]
    members: list[UnitView]


class _Article:
    """Adjudicates one article: collects conflicts, applies decisions, builds the gold."""

    def __init__(self, corpus: Corpus, a: int, decisions: Decisions, used: set[str]):
        self.corpus = corpus
        self.docs = corpus.article_docs(a)
        self.doc_base = int(corpus.offsets[a])
        self.article: Article = self.docs[0].article
        self.text = self.article.text
        self.annotators = [d.provenance.annotator for d in self.docs]
        self.decisions, self.used = decisions, used
        self.conflicts: list[Conflict] = []
        self.extra_entities: dict[str, Entity] = {}
        self.names = {e.id: e.name for d in self.docs for e in d.entities}
        self._ids: Counter[str] = Counter()

    # Conflicts and decisions

    def _conflict_id(self, base: str) -> str:
        self._ids[base] += 1
        return base if self._ids[base] == 1 else f"{base}~{self._ids[base]}"

    def _decide(self, conflict: Conflict) -> Decision | None:
        decision = self.decisions.by_id.get(conflict.id)
        self.conflicts.append(conflict)
        if decision is None:
            return None
        self.used.add(conflict.id)
        conflict.decision = decision
        return decision

    def _error(self, conflict: Conflict, message: str) -> ToolkitError:
        return ToolkitError(f"{self.decisions.source}: conflict {conflict.id!r}: {message}")

    def _chosen(self, conflict: Conflict, decision: Decision) -> int:
        """Index of the version ``decision.accept`` (and ``unit``) names."""
        found = [i for i, v in enumerate(conflict.versions)
                 if v.annotator == decision.accept and decision.unit in (None, v.unit)]
        if not found:
            offered = ", ".join(sorted({v.annotator for v in conflict.versions}))
            raise self._error(conflict, f"accept {decision.accept!r}"
                              + (f" with unit {decision.unit!r}" if decision.unit else "")
                              + f" is not one of its versions ({offered}); accept one of those")
        if len(found) > 1:
            units = ", ".join(str(conflict.versions[i].unit) for i in found)
            raise self._error(conflict, f"annotator {decision.accept!r} has several versions here (units {units}); "
                              "add unit: <one of them>")
        return found[0]

    # Values for people

    def shown(self, attribute: str, value: str) -> str:
        if value == NO_VALUE:
            return "(none)"
        if attribute in ("span", "cue"):
            pieces = [self.text[int(s) : int(e)] for s, e in (p.split("-") for p in value.split("+"))]
            return " … ".join(repr(_clip(p)) for p in pieces)
        if attribute in ENTITY_ATTRIBUTES:
            return f"{self.names.get(value, value)} ({value})"
        return value

    def _shown_unit(self, view: UnitView) -> str:
        return "; ".join(f"{name} {self.shown(name, value)}" for name, value in view.values.items())

    # Decision values

    def _parse_value(self, conflict: Conflict, attribute: str, value: str) -> str:
        value = value.strip()
        if attribute in ("span", "cue"):
            if attribute == "cue" and value == NO_VALUE:
                return value
            pieces = value.split("+") if attribute == "span" and conflict.layer == Layer.QUOTE else [value]
            bounds = []
            for piece in pieces:
                m = _SPAN_VALUE.match(piece.strip())
                if m is None:
                    raise self._error(conflict, f"value {value!r} is not a span; give start-end code points "
                                      "(quote fragments joined by +, e.g. 10-42+50-61)")
                bounds.append((int(m[1]), int(m[2])))
            for (s, e), after in zip(bounds, [*bounds[1:], None]):
                if not 0 <= s < e <= len(self.text) or (after is not None and after[0] < e):
                    raise self._error(conflict, f"value {value!r}: spans must be non-empty, within the article's "
                                      f"{len(self.text)} code points, in order and not overlapping")
            return "+".join(f"{s}-{e}" for s, e in bounds)
        if attribute == "kind":
            return self._choice(conflict, value, [k.value for k in QuoteKind])
        if attribute == "check_worthy":
            return self._choice(conflict, value, [c.value for c in CheckWorthy])
        if attribute == "stance":
            if value == NO_VALUE:
                return value
            target, _, polarity = value.rpartition(":")
            if not _ID.match(target) or polarity not in [p.value for p in Polarity]:
                raise self._error(conflict, f"value {value!r} is not a stance; give target:polarity (polarity one of "
                                  f"{', '.join(p.value for p in Polarity)}) or none")
            return value
        # An entity: a known id, "none" where allowed, or a canonical name (a new entity).
        if value == NO_VALUE and attribute != "entity":
            return value
        if value in self.names or value in self.extra_entities:
            return value
        try:
            entity_id = entity_id_for(value)
        except ValueError as e:
            raise self._error(conflict, f"value {value!r}: {e}; give an entity id of this article or a name") from None
        if entity_id not in self.names:
            self.extra_entities[entity_id] = Entity(id=entity_id, name=value)
        return entity_id

    def _choice(self, conflict: Conflict, value: str, allowed: list[str]) -> str:
        if value not in allowed:
            raise self._error(conflict, f"value {value!r} is not one of {', '.join(allowed)}")
        return value

    # Units

    def unit_group(self, layer: Layer, group: list[UnitView], needed: int) -> _Accepted | None:
        """The group's gold unit, or None (rejected, or waiting for a decision)."""
        start, end = min(v.start for v in group), max(v.end for v in group)
        base = self._conflict_id(f"{self.article.id}/{layer.value}/{start}-{end}")
        marked = [v.annotator for v in group]
        common = {"article_id": self.article.id, "layer": layer.value, "start": start, "end": end,
                  "text": _clip(self.text[start:end], 200), "annotators": self.annotators}
        if len(set(marked)) < len(marked) or len(marked) < needed:
            twice = sorted(n for n, c in Counter(marked).items() if c > 1)
            problem = (f"{', '.join(twice)} marked several units here that align with one unit of others"
                       if twice else f"marked by {len(marked)} of {len(self.annotators)} annotators "
                       f"({', '.join(marked)}); {needed} needed")
            conflict = Conflict(id=base, kind="unit", problem=problem, versions=[
                Version(annotator=v.annotator, unit=v.ref, attributes=v.values, shown=self._shown_unit(v))
                for v in group], **common)
            decision = self._decide(conflict)
            if decision is None or decision.reject:
                return None
            if decision.value is not None:
                raise self._error(conflict, "a unit conflict takes accept: <annotator> or reject: true, not a value")
            return _Accepted(layer, dict(group[self._chosen(conflict, decision)].values), group)

        values: dict[str, str] = {}
        waiting = rejected = False
        for attribute in ATTRIBUTES[layer]:
            given = [v.values[attribute] for v in group]
            agreed = _majority_value(given, needed)
            if agreed is not None:
                values[attribute] = agreed
                continue
            counts = ", ".join(f"{self.shown(attribute, v)} x{n}" for v, n in Counter(given).most_common())
            conflict = Conflict(id=f"{base}/{attribute}", kind="attribute", attribute=attribute,
                                problem=f"{attribute} has no value {needed} annotators agree on ({counts})",
                                versions=[Version(annotator=v.annotator, unit=v.ref, value=v.values[attribute],
                                                  shown=self.shown(attribute, v.values[attribute])) for v in group],
                                **common)
            decision = self._decide(conflict)
            if decision is None:
                waiting = True
            elif decision.reject:
                rejected = True
            elif decision.accept is not None:
                values[attribute] = conflict.versions[self._chosen(conflict, decision)].value or NO_VALUE
            else:
                values[attribute] = self._parse_value(conflict, attribute, decision.value or "")
        if waiting or rejected:
            return None
        return _Accepted(layer, values, group)

    def evidence_free_stances(self, needed: int) -> list[tuple[tuple[str, str, Polarity], list[str]]]:
        """Stances without evidence quotes, voted on by (holder, target, polarity)."""
        voters: dict[tuple[str, str, Polarity], list[str]] = defaultdict(list)
        for doc in self.docs:
            for key in sorted({(s.holder_entity_id, s.target_id, s.polarity) for s in doc.stances if not s.evidence}):
                voters[key].append(doc.provenance.annotator)
        accepted = []
        for key, names in sorted(voters.items()):
            if len(names) >= needed:
                accepted.append((key, names))
                continue
            conflict = Conflict(
                id=self._conflict_id(f"{self.article.id}/stance/{key[0]}:{key[1]}:{key[2].value}"), kind="unit",
                article_id=self.article.id, layer="stance", annotators=self.annotators,
                problem=f"stance without evidence held by {len(names)} of {len(self.annotators)} annotators "
                        f"({', '.join(names)}); {needed} needed",
                versions=[Version(annotator=n, shown=f"{self.shown('entity', key[0])} {key[2].value} {key[1]}")
                          for n in names])
            decision = self._decide(conflict)
            if decision is None or decision.reject:
                continue
            if decision.value is not None:
                raise self._error(conflict, "a unit conflict takes accept: <annotator> or reject: true, not a value")
            self._chosen(conflict, decision)
            accepted.append((key, names))
        return accepted

    # The gold document

    def _entity(self, entity_id: str) -> Entity:
        """The entity as most annotators of the article give it (name, type, Wikidata id)."""
        seen = Counter((e.name, e.type.value, e.wikidata or "") for d in self.docs for e in d.entities
                       if e.id == entity_id)
        if not seen:
            return self.extra_entities[entity_id]
        best = min(seen, key=lambda k: (-seen[k], k))  # most given; ties by name, so the result is stable
        return Entity(id=entity_id, name=best[0], type=best[1], wikidata=best[2] or None)

    def _provenance(self) -> Provenance:
        task_ids = {d.provenance.task_id for d in self.docs}
        return Provenance(annotator=GOLD, origin="gold", task_id=task_ids.pop() if len(task_ids) == 1 else None)

    def _stance_supporters(self, key: tuple[str, str, Polarity]) -> list[str]:
        return _sorted_unique([d.provenance.annotator for d in self.docs
                               if any((s.holder_entity_id, s.target_id, s.polarity) == key for s in d.stances)])

    def majority_gold(self, accepted: list[_Accepted], free_stances) -> AnnotatedDocument:
        text = self.text

        def spans(value: str) -> list[Span]:
            return [Span.of(text, int(s), int(e)) for s, e in (p.split("-") for p in value.split("+"))]

        by_layer: dict[Layer, list[_Accepted]] = defaultdict(list)
        for unit in accepted:
            by_layer[unit.layer].append(unit)
        for units in by_layer.values():
            units.sort(key=lambda u: ([(s.start, s.end) for s in spans(u.values["span"])], u.values.get("kind", "")))

        mentions, gold_mention = [], {}
        for n, unit in enumerate(by_layer[Layer.MENTION], start=1):
            mentions.append(Mention(id=f"m{n}", span=spans(unit.values["span"])[0], entity_id=unit.values["entity"],
                                    supported_by=_sorted_unique([v.annotator for v in unit.members])))
            gold_mention.update({(v.doc, v.ref): mentions[-1] for v in unit.members})
        doc_of = {self.doc_base + i: d for i, d in enumerate(self.docs)}

        quotes, evidence = [], defaultdict(list)
        for n, unit in enumerate(by_layer[Layer.QUOTE], start=1):
            quote_id, speaker = f"q{n}", unit.values["speaker"]
            speaker_mention = None
            if speaker != NO_VALUE:
                # The gold mention most supporters link as this quote's speaker, if it has the gold speaker entity.
                votes = Counter()
                for v in unit.members:
                    quote = next(q for q in doc_of[v.doc].quotes if q.id == v.ref)
                    mention = gold_mention.get((v.doc, quote.speaker_mention_id or ""))
                    if mention is not None and mention.entity_id == speaker:
                        votes[mention.id] += 1
                if votes:
                    speaker_mention = max(votes, key=lambda m: (votes[m], -int(m[1:])))
            cue = unit.values["cue"]
            quotes.append(Quote(
                id=quote_id, kind=QuoteKind(unit.values["kind"]), content=spans(unit.values["span"]),
                cue=None if cue == NO_VALUE else spans(cue)[0], speaker_mention_id=speaker_mention,
                speaker_entity_id=None if speaker_mention or speaker == NO_VALUE else speaker,
                supported_by=_sorted_unique([v.annotator for v in unit.members]),
            ))
            if unit.values["stance"] != NO_VALUE:
                target, _, polarity = unit.values["stance"].rpartition(":")
                holder = speaker if speaker != NO_VALUE else self._holder(unit, target, polarity)
                evidence[(holder, target, Polarity(polarity))].append(quote_id)
        for key, _ in free_stances:
            evidence.setdefault(key, [])
        stances = [Stance(id=f"{h}:{t}:{p.value}", holder_entity_id=h, target_id=t, polarity=p, evidence=ids,
                          supported_by=self._stance_supporters((h, t, p))) for (h, t, p), ids in evidence.items()]

        claims = []
        for n, unit in enumerate(by_layer[Layer.CLAIM], start=1):
            claimant = unit.values["claimant"]
            claims.append(Claim(id=f"c{n}", span=spans(unit.values["span"])[0],
                                claimant_entity_id=None if claimant == NO_VALUE else claimant,
                                check_worthy=CheckWorthy(unit.values["check_worthy"]),
                                supported_by=_sorted_unique([v.annotator for v in unit.members])))
        needed = ({m.entity_id for m in mentions} | {q.speaker_entity_id for q in quotes}
                  | {s.holder_entity_id for s in stances} | {c.claimant_entity_id for c in claims}) - {None}
        return AnnotatedDocument(
            article=self.article, provenance=self._provenance(), entities=[self._entity(e) for e in sorted(needed)],
            mentions=mentions, quotes=quotes, stances=sorted(stances, key=lambda s: s.id), claims=claims,
        )

    def _holder(self, unit: _Accepted, target: str, polarity: str) -> str:
        """A quote without a gold speaker: the holder its supporters' stances name."""
        holders = Counter()
        for v in unit.members:
            doc = self.corpus.docs[v.doc]
            holders.update(s.holder_entity_id for s in doc.stances
                           if v.ref in s.evidence and s.target_id == target and s.polarity.value == polarity)
        if not holders:
            raise ToolkitError(f"article {self.article.id!r}: the quote at {unit.values['span']} has stance "
                               f"{target}:{polarity} but no speaker to hold it; decide its speaker too")
        return max(sorted(holders), key=lambda h: holders[h])

    def ground_truth_gold(self, doc: AnnotatedDocument, groups: Mapping[Layer, list[list[UnitView]]]
                          ) -> AnnotatedDocument:
        """The ground-truth document as gold; ``supported_by`` from the groups its units are in."""
        d = self.doc_base + self.docs.index(doc)
        support = {(v.layer, v.ref): _sorted_unique([m.annotator for m in group])
                   for layer in GOLD_LAYERS for group in groups[layer] for v in group if v.doc == d}

        def backed(items: list, layer: Layer) -> list:
            return [item.model_copy(update={"supported_by": support[layer, item.id]}) for item in items]

        return AnnotatedDocument(
            article=self.article, provenance=self._provenance(), entities=doc.entities,
            mentions=backed(doc.mentions, Layer.MENTION), quotes=backed(doc.quotes, Layer.QUOTE),
            stances=[s.model_copy(update={"supported_by": self._stance_supporters(
                (s.holder_entity_id, s.target_id, s.polarity))}) for s in doc.stances],
            claims=backed(doc.claims, Layer.CLAIM),
        )

    def ground_truth(self) -> tuple[AnnotatedDocument | None, bool]:
        """(the ground-truth document to use, whether the article waits for a decision)."""
        marked = [d for d in self.docs if d.provenance.ground_truth]
        if len(marked) <= 1:
            return (marked[0] if marked else None), False
        conflict = Conflict(
            id=f"{self.article.id}/ground-truth", article_id=self.article.id, kind="ground-truth",
            annotators=self.annotators,
            problem=f"{len(marked)} annotations are marked as ground truth "
                    f"({', '.join(d.provenance.annotator for d in marked)})",
            versions=[Version(annotator=d.provenance.annotator,
                              unit=None if d.provenance.annotation_id is None else str(d.provenance.annotation_id),
                              shown=f"{len(d.quotes)} quotes, {len(d.mentions)} mentions, {len(d.claims)} claims")
                      for d in marked])
        decision = self._decide(conflict)
        if decision is None:
            return None, True
        if decision.reject:
            return None, False
        if decision.value is not None:
            raise self._error(conflict, "a ground-truth conflict takes accept: <annotator> or reject: true, "
                              "not a value")
        return marked[self._chosen(conflict, decision)], False


def adjudicate(
    docs: Sequence[AnnotatedDocument],
    *,
    majority: MajorityRule | None = None,
    decisions: Decisions | None = None,
    boundary: Boundary = Boundary.OVERLAP,
    where: Sequence[str] | None = None,
) -> Adjudication:
    """The gold of every article of ``docs`` (any order) and the report of how it was made.

    Documents of origin ``gold`` or ``prediction`` are left out (listed in the report).
    """
    majority = majority or MajorityRule()
    decisions = decisions or Decisions("decisions")
    where = list(where) if where is not None else [f"document {i + 1}" for i in range(len(docs))]
    kept, kept_where, excluded = [], [], []
    for doc, w in zip(docs, where):
        if doc.provenance.origin in EXCLUDED_ORIGINS:
            excluded.append(ExcludedDocument(where=w, article_id=doc.article.id, annotator=doc.provenance.annotator,
                                             reason=EXCLUDED_ORIGINS[doc.provenance.origin]))
        else:
            kept.append(doc)
            kept_where.append(w)
    if not kept:
        raise ToolkitError(f"no annotator documents to adjudicate: all {len(excluded)} are gold or predictions "
                           f"(e.g. {excluded[0].where}); pass the documents of a pull")
    corpus = Corpus.of(kept, kept_where)
    grouped = {layer: group_units(corpus, layer, boundary) for layer in GOLD_LAYERS}
    used: set[str] = set()
    gold, outcomes, conflicts = [], [], []
    for a, article_id in enumerate(corpus.article_ids):
        article = _Article(corpus, a, decisions, used)
        groups = {layer: grouped[layer][a] for layer in GOLD_LAYERS}
        truth, held = article.ground_truth()
        outcome = ArticleOutcome(article_id=article_id, annotators=article.annotators, method="held-back")
        if truth is not None:
            doc = article.ground_truth_gold(truth, groups)
            outcome.method, outcome.ground_truth = "ground-truth", truth.provenance.annotator
        elif not held:
            needed = majority.needed(len(article.annotators))
            accepted = [unit for layer in GOLD_LAYERS for group in groups[layer]
                        if (unit := article.unit_group(layer, group, needed)) is not None]
            doc = article.majority_gold(accepted, article.evidence_free_stances(needed))
            outcome.method, outcome.needed = "majority", needed
        if outcome.method != "held-back":
            gold.append(doc)
            outcome.gold_items = {"entities": len(doc.entities), "mentions": len(doc.mentions),
                                  "quotes": len(doc.quotes), "stances": len(doc.stances), "claims": len(doc.claims)}
        outcome.open_conflicts = sum(c.decision is None for c in article.conflicts)
        outcome.decided_conflicts = len(article.conflicts) - outcome.open_conflicts
        outcomes.append(outcome)
        conflicts += article.conflicts
    report = AdjudicationReport(
        created_at=datetime.now(UTC), majority=majority.describe(), boundary=boundary, excluded=excluded,
        articles=outcomes, conflicts=conflicts, unused_decisions=sorted(set(decisions.by_id) - used),
        decisions_file=None if decisions.sha256 is None else InputFile(path=decisions.source, sha256=decisions.sha256),
    )
    return Adjudication(gold, report, corpus)


# --- files -----------------------------------------------------------------------------------------------------


class LatestAdjudication(_Record):
    """``state_dir()/adjudication.json``: where the last adjudication wrote its files."""

    gold: str
    conflicts: str
    created_at: datetime


def conflicts_path_for(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".jsonl") + CONFLICTS_SUFFIX)


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_adjudication(
    paths: Sequence[Path],
    out: Path,
    *,
    majority: MajorityRule | None = None,
    decisions_path: Path | None = None,
    boundary: Boundary = Boundary.OVERLAP,
    conflicts_path: Path | None = None,
) -> tuple[Adjudication, Path]:
    """Read, adjudicate, write ``out`` and the conflicts file, and record them as the latest adjudication."""
    from exports.agreement_cli import write_atomically

    conflicts_path = conflicts_path or conflicts_path_for(out)
    inputs = {p.resolve() for p in [*paths, *([decisions_path] if decisions_path else [])]}
    for target, option in ((out, "--out"), (conflicts_path, "--conflicts")):
        if target.resolve() in inputs:
            raise ToolkitError(f"{option} {target} is one of the inputs; write the gold to another file")
    if out.resolve() == conflicts_path.resolve():
        raise ToolkitError(f"--conflicts {conflicts_path} is the gold file; give it another name")
    sourced = read_documents(paths)
    decisions = load_decisions(decisions_path) if decisions_path is not None else None
    result = adjudicate(sourced.docs, majority=majority, decisions=decisions, boundary=boundary, where=sourced.where)
    result.report.gold_file = str(out)
    result.report.inputs = [InputFile(path=str(p), sha256=_file_sha256(p)) for p in paths]
    # Conflicts first, gold second, the pointer last: a gold file is never newer than its record.
    write_atomically(conflicts_path, result.report.model_dump_json(indent=2, exclude_none=False) + "\n")
    write_atomically(out, "".join(doc.model_dump_json() + "\n" for doc in result.gold))
    record = LatestAdjudication(gold=str(out.resolve()), conflicts=str(conflicts_path.resolve()),
                                created_at=result.report.created_at)
    latest = state_dir() / LATEST_FILE
    latest.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(latest, record.model_dump_json(indent=2) + "\n")
    return result, conflicts_path


def latest_adjudication() -> Path:
    """The gold JSONL the last ``annotate adjudicate`` wrote (recorded in ``state_dir()/adjudication.json``)."""
    path = state_dir() / LATEST_FILE
    if not path.exists():
        raise ToolkitError(f"no adjudication recorded in {path}; run `annotate adjudicate --out GOLD.jsonl` first, "
                           "or give the gold files")
    try:
        record = LatestAdjudication.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as e:
        raise ToolkitError(f"{path}: {first_error(e)}; run `annotate adjudicate` again to rewrite it") from None
    gold = Path(record.gold)
    if not gold.is_file():
        raise ToolkitError(f"the last adjudication's gold {gold} (recorded in {path}) is gone; run `annotate "
                           "adjudicate` again or give the gold files")
    return gold


# --- review tasks in Label Studio --------------------------------------------------------------------------------


REVIEW_SUFFIX = " (review)"
REVIEW_KEY = "review_key"  # task data: article id + digest of the versions, so a push is idempotent


class PushReport(_Record):
    project_id: int
    project_title: str
    created: bool
    imported: list[str] = Field(default_factory=list, description="Article ids pushed as new review tasks.")
    unchanged: list[str] = Field(default_factory=list, description="Already there with the same versions.")
    skipped_versions: list[str] = Field(default_factory=list, description="Versions Label Studio cannot show, why.")


def push_conflicts(client: StudioClient, project: ProjectInfo, result: Adjudication) -> PushReport:
    """Every article with open conflicts as a task of the review project ``<title> (review)`` (same labeling
    config), with each annotator's version and the gold so far as predictions, so a reviewer starts from them.

    A task is identified by its article and a digest of its versions and conflicts: pushing again adds
    nothing unless the annotations changed.
    """
    from annotate.preload import check_offsets, task_data
    from annotate.project import init_project
    from exports.labelstudio import document_to_results

    open_by_article: dict[str, list[Conflict]] = defaultdict(list)
    for conflict in result.report.open_conflicts():
        open_by_article[conflict.article_id].append(conflict)
    if not project.label_config.strip():
        project = client.get_project(project.id)
    title = project.title + REVIEW_SUFFIX
    outcome = init_project(client, project.label_config, title=title, maximum_annotations=1, record=False)
    review = outcome.project
    report = PushReport(project_id=review.id, project_title=title, created=outcome.action == "created")
    existing = {str(t.data.get(REVIEW_KEY)) for t in client.list_task_data(review.id)}
    gold_of = {d.article.id: d for d in result.gold}
    tasks = []
    for a, article_id in enumerate(result.corpus.article_ids):
        conflicts = open_by_article.get(article_id)
        if not conflicts:
            continue
        docs = result.corpus.article_docs(a)
        versions = [(f"annotator:{d.provenance.annotator}", d) for d in docs]
        if article_id in gold_of:
            versions.append(("gold-so-far", gold_of[article_id]))
        digest = hashlib.sha256("\n".join([c.id for c in conflicts] + [d.model_dump_json() for _, d in versions])
                                .encode("utf-8")).hexdigest()[:16]
        key = f"{article_id}#{digest}"
        if key in existing:
            report.unchanged.append(article_id)
            continue
        predictions = []
        for model_version, doc in versions:
            try:
                results = document_to_results(doc)
                check_offsets(doc.article, results)
            except ToolkitError as e:
                report.skipped_versions.append(f"{article_id} {model_version}: {e}")
                continue
            predictions.append({"model_version": model_version, "result": results})
        data = {**task_data(docs[0].article), REVIEW_KEY: key,
                "conflicts": "\n".join(f"{c.id}: {c.problem}" for c in conflicts)}
        tasks.append({"data": data, "predictions": predictions})
        report.imported.append(article_id)
    if tasks:
        client.import_tasks(review.id, tasks)
    return report
