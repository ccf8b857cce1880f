"""Adjudicating statements: a statement that a majority of a story's annotators formed exactly is gold; every
other rendering is in a conflict, settled by the decisions file or left out of the gold and listed.

Per story and speaker (a statement has one speaker): the candidate statements are the distinct clusters the
annotators formed; one formed identically by at least ``majority.needed(annotators)`` of them is accepted
(larger support first; with a majority of more than half two accepted clusters never overlap). The renderings
left over fall into conflicts: the connected parts of "some annotator put these two together", each listing
how every annotator grouped it. A decision takes one annotator's grouping of the conflict (``accept``) or gives
the grouping itself (``statements``), always with a reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from exports.adjudication.decisions import MajorityRule
from exports.statements.clusterings import Cluster, Clustering, clusterings_by_story
from exports.statements.decisions import StatementDecision, StatementDecisions
from schemas import Provenance, ToolkitError
from schemas.quote_mentions import QuoteMention, mention_order, statement_id_for
from schemas.statements import Rendering, Statement, StatementDocument


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StatementConflict(_Model):
    """Renderings the annotators grouped differently, and how each grouped them."""

    id: str = Field(description="'<story>/<speaker>/<first rendering key>': the key of its decision.")
    story: str | None
    speaker: str
    renderings: list[str]
    groupings: dict[str, list[list[str]]] = Field(description="annotator -> their statements over these renderings.")
    decision: StatementDecision | None = None


class StatementAdjudication(_Model):
    created_at: datetime
    annotators: list[str]
    majority: str
    statements: int
    accepted_by_majority: int
    conflicts: list[StatementConflict]
    undecided: list[str] = Field(description="Conflicts with no decision; their renderings are not in the gold.")
    unused_decisions: list[str] = Field(default_factory=list)


def adjudicate_statements(documents: Sequence[StatementDocument], *, majority: MajorityRule | None = None,
                          decisions: StatementDecisions | None = None, where: Sequence[str] | None = None,
                          mentions: Mapping[str, QuoteMention] | None = None,
                          ) -> tuple[list[StatementDocument], StatementAdjudication]:
    """The gold statement documents (one per story) and the report of how they were decided.

    ``mentions`` (the gold quotes by key) put renderings in ``mention_order`` and name statements by
    ``statement_id_for``, as the linker and the linking project do; without them, keys are ordered by article and
    quote number.
    """
    order = _ordering(mentions)
    majority = majority or MajorityRule()
    by_story = clusterings_by_story(documents, where)
    glosses = _glosses(documents)
    flags = _meaning_flags(documents)
    gold, conflicts, by_majority = [], [], 0
    used: set[str] = set()
    for story in sorted(by_story, key=str):
        per = by_story[story]
        statements: list[Statement] = []
        speakers = sorted({sp for c in per.values() for sp in c.speakers.values()})
        for speaker in speakers:
            own = {a: _of_speaker(c, speaker) for a, c in sorted(per.items())}
            needed = majority.needed(len(own))
            accepted, rest = _majority_clusters(own, needed, order)
            by_majority += len(accepted)
            statements += [_statement(story, speaker, c, sorted(sup), glosses, flags, order, mentions)
                           for c, sup in accepted]
            for part in _conflict_parts(own, rest, order):
                first = min(part, key=order)
                conflict = StatementConflict(
                    id=f"{story}/{speaker}/{first}", story=story, speaker=speaker, renderings=sorted(part, key=order),
                    groupings={a: _listed((c & part for c in clusters), order) for a, clusters in own.items()})
                decision = decisions.get(conflict.id) if decisions else None
                if decision is not None:
                    used.add(conflict.id)
                    conflict.decision = decision
                    for cluster, support in _decided(conflict, decision, own, order):
                        statements.append(_statement(story, speaker, cluster, support, glosses, flags, order,
                                                     mentions))
                conflicts.append(conflict)
        statements.sort(key=lambda s: order(s.renderings[0].key))
        gold.append(StatementDocument(story=story, provenance=Provenance(annotator="gold", origin="gold"),
                                      statements=statements))
    report = StatementAdjudication(
        created_at=datetime.now(UTC), annotators=sorted({a for per in by_story.values() for a in per}),
        majority=majority.describe(), statements=sum(len(d.statements) for d in gold),
        accepted_by_majority=by_majority, conflicts=conflicts,
        undecided=[c.id for c in conflicts if c.decision is None],
        unused_decisions=sorted(set(decisions.ids()) - used) if decisions else [])
    return gold, report


Order = Callable[[str], tuple[str, int, str]]


def _ordering(mentions: Mapping[str, QuoteMention] | None) -> Order:
    def by_number(key: str) -> tuple[str, int, str]:
        # Without positions: by article, then by quote number (q2 before q10), as the gold lists them.
        article, quote = key.split("/", 1)
        digits = "".join(ch for ch in quote if ch.isdigit())
        return article, int(digits) if digits else 0, quote

    if mentions is None:
        return by_number
    return lambda key: mention_order(mentions[key]) if key in mentions else by_number(key)


def _of_speaker(clustering: Clustering, speaker: str) -> list[Cluster]:
    return [c for c in clustering.clusters if clustering.speakers[next(iter(c))] == speaker]


def _majority_clusters(own: dict[str, list[Cluster]], needed: int,
                       order: Order) -> tuple[list[tuple[Cluster, set[str]]], set[str]]:
    support: dict[Cluster, set[str]] = defaultdict(set)
    for annotator, clusters in own.items():
        for c in clusters:
            support[c].add(annotator)
    accepted: list[tuple[Cluster, set[str]]] = []
    taken: set[str] = set()
    for cluster, who in sorted(support.items(), key=lambda kv: (-len(kv[1]), sorted(kv[0], key=order))):
        if len(who) >= needed and not cluster & taken:
            accepted.append((cluster, who))
            taken |= cluster
    everything = {k for clusters in own.values() for c in clusters for k in c}
    return accepted, everything - taken


def _conflict_parts(own: dict[str, list[Cluster]], rest: set[str], order: Order) -> list[set[str]]:
    """Connected parts of ``rest`` where two renderings connect when some annotator grouped them together."""
    parent = {k: k for k in rest}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for clusters in own.values():
        for c in clusters:
            members = sorted(c & rest)
            for other in members[1:]:
                parent[find(other)] = find(members[0])
    parts: dict[str, set[str]] = defaultdict(set)
    for k in rest:
        parts[find(k)].add(k)
    return sorted(parts.values(), key=lambda p: min(order(k) for k in p))


def _listed(clusters: Iterable[Cluster], order: Order) -> list[list[str]]:
    return sorted((sorted(c, key=order) for c in clusters if c), key=lambda c: order(c[0]))


def _decided(conflict: StatementConflict, decision: StatementDecision, own: dict[str, list[Cluster]],
             order: Order) -> list[tuple[Cluster, list[str]]]:
    part = set(conflict.renderings)
    if decision.accept is not None:
        if decision.accept not in conflict.groupings:
            raise ToolkitError(f"decision {conflict.id!r}: accept {decision.accept!r} is not one of this story's "
                               f"annotators ({', '.join(conflict.groupings)}); name one of them")
        chosen = [frozenset(c) for c in conflict.groupings[decision.accept]]
        missing = part - {k for c in chosen for k in c}
        chosen += [frozenset([k]) for k in sorted(missing, key=order)]  # what they left out stands alone
    else:
        chosen = [frozenset(c) for c in decision.statements or []]
        given = [k for c in chosen for k in c]
        if sorted(given) != sorted(part):
            extra, lacking = set(given) - part, part - set(given)
            raise ToolkitError(
                f"decision {conflict.id!r}: its statements must hold each of the conflict's renderings once "
                f"({'not in the conflict: ' + ', '.join(sorted(extra)) if extra else ''}"
                f"{'; ' if extra and lacking else ''}{'missing: ' + ', '.join(sorted(lacking)) if lacking else ''}"
                f"{'repeated renderings' if not extra and not lacking else ''}); list every rendering once")
    return [(c, sorted(a for a, clusters in own.items() if any(c == x & part for x in clusters)) or ["decision"])
            for c in chosen]


def _glosses(documents: Sequence[StatementDocument]) -> dict[frozenset[str], tuple[str, str | None]]:
    out: dict[frozenset[str], tuple[str, str | None]] = {}
    for doc in sorted(documents, key=lambda d: d.provenance.annotator):
        for s in doc.statements:
            out.setdefault(frozenset(s.keys()), (s.gloss, s.occasion))
    return out


def _meaning_flags(documents: Sequence[StatementDocument]) -> dict[str, list[bool]]:
    flags: dict[str, list[bool]] = defaultdict(list)
    for doc in documents:
        for s in doc.statements:
            for r in s.renderings:
                if r.changes_meaning is not None:
                    flags[r.key].append(r.changes_meaning)
    return flags


def _statement(story: str | None, speaker: str, cluster: Cluster, support: list[str],
               glosses: dict[frozenset[str], tuple[str, str | None]], flags: dict[str, list[bool]], order: Order,
               mentions: Mapping[str, QuoteMention] | None) -> Statement:
    keys = sorted(cluster, key=order)
    # The gloss of an annotator who formed exactly this statement; else of the one whose statement shares most.
    gloss, occasion = glosses.get(cluster) or max(
        glosses.items(), key=lambda kv: (len(kv[0] & cluster), -len(kv[0])))[1]
    renderings = []
    for key in keys:
        article_id, quote_id = key.split("/", 1)
        votes = flags.get(key, [])
        # A rendering changes the meaning in the gold when more than half of those who judged it said so.
        changes = None if not votes else sum(votes) * 2 > len(votes)
        renderings.append(Rendering(article_id=article_id, quote_id=quote_id, changes_meaning=changes))
    first = mentions.get(keys[0]) if mentions is not None else None
    statement_id = statement_id_for(first) if first is not None else f"s-{keys[0].replace('/', '-')}"
    return Statement(id=statement_id, story=story, speaker_entity_id=speaker, gloss=gloss,
                     occasion=occasion, renderings=renderings, supported_by=support)
