"""The rules that build the gold: ground truth wins, else what a majority of annotators agree on; what falls
short becomes a ``Conflict`` that a decision settles."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from exports.adjudication.decisions import Decision, Decisions, MajorityRule
from exports.adjudication.groups import ATTRIBUTES, GOLD_LAYERS, UnitView, group_units
from exports.adjudication.report import (
    Adjudication,
    AdjudicationReport,
    ArticleOutcome,
    Conflict,
    ExcludedDocument,
    InputFile,
    Version,
)
from exports.compare import NO_VALUE, Boundary, Layer
from exports.corpus import Corpus
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

GOLD = "gold"
ENTITY_ATTRIBUTES = ("entity", "speaker", "claimant")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]*$")
_SPAN_VALUE = re.compile(r"^(\d+)-(\d+)$")


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
    corpus = Corpus.of(docs, where)
    excluded = [ExcludedDocument(where=e.where, article_id=e.article_id, annotator=e.annotator, reason=e.reason)
                for e in corpus.excluded]
    if not corpus.docs:
        raise ToolkitError(f"no annotator documents to adjudicate: all {len(excluded)} are gold or predictions "
                           f"(e.g. {excluded[0].where}); pass the documents of a pull")
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
