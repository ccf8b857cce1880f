"""The annotator's ``decisions.json``: pair decisions and statement entries, and what they make.

``pairs``: two quote keys, ``same`` or not, a reason for the non-obvious ones. ``statements``: one entry
per cluster of two or more quotes (id, speaker, gloss, occasion), naming its cluster by one member, the
``anchor``. Clusters are the connected components of the "same" pairs; ``check`` refuses a proposal
without a decision, a "different" pair that other decisions join, and a cluster without exactly one entry.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from benchmarks.polnear_statements.candidates import Candidate
from schemas import ToolkitError
from schemas.errors import first_error
from schemas.files import read_text
from schemas.models import Id
from schemas.quote_mentions import QuoteMention

DECISIONS = Path(__file__).with_name("decisions.json")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Pair(_Model):
    a: str
    b: str
    same: bool
    reason: str | None = Field(default=None, max_length=300)


class StatementEntry(_Model):
    id: Id
    speaker: Id
    gloss: str = Field(min_length=1, max_length=300)
    occasion: str | None = Field(default=None, max_length=300)
    anchor: str = Field(description="One member's key: names the cluster that contains it.")


class Decisions(_Model):
    statements: list[StatementEntry]
    pairs: list[Pair]

    @classmethod
    def read(cls, path: Path = DECISIONS) -> Decisions:
        try:
            return cls.model_validate_json(read_text(path))
        except ValidationError as e:
            raise ToolkitError(f"{path}: {first_error(e)}; fix the entry") from None


def required(candidates: list[Candidate], speakers: set[str]) -> list[Candidate]:
    """The proposals that need a decision: every pair across articles, and the pairs within one article of
    the mention set's speakers (whose same-article repeats the gold must group too)."""
    return [c for c in candidates if c.cross_article or c.speaker in speakers]


def mention_set_speakers(decisions: Decisions, components: dict[str, frozenset[str]],
                          by_key: dict[str, QuoteMention]) -> set[str]:
    """The speakers with at least one statement rendered in two or more articles."""
    return {s.speaker for s in decisions.statements if s.anchor in components
            and len({by_key[k].article_id for k in components[s.anchor]}) > 1}


def components(decisions: Decisions, by_key: dict[str, QuoteMention]) -> dict[str, frozenset[str]]:
    """Key -> its cluster, joining the "same" pairs (union-find, no library needed for a few hundred keys)."""
    parent: dict[str, str] = {}

    def root(k: str) -> str:
        while parent.setdefault(k, k) != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    seen: set[frozenset[str]] = set()
    for p in decisions.pairs:
        for k in (p.a, p.b):
            if k not in by_key:
                raise ToolkitError(f"{DECISIONS}: {k} is not a quote of a canonical speaker; fix the key or "
                                   "the speaker rules (speakers.py, speakers.json)")
        pair = frozenset((p.a, p.b))
        if len(pair) == 1 or pair in seen:
            problem = "a self-pair" if len(pair) == 1 else "decided twice"
            raise ToolkitError(f"{DECISIONS}: pair {p.a} / {p.b} is {problem}; keep one decision per pair")
        seen.add(pair)
        if by_key[p.a].speaker != by_key[p.b].speaker:
            raise ToolkitError(f"{DECISIONS}: {p.a} ({by_key[p.a].speaker}) and {p.b} ({by_key[p.b].speaker}) "
                               "have different speakers; only one speaker's quotes can render one statement")
        if p.same:
            parent[root(p.a)] = root(p.b)
    groups: dict[str, set[str]] = {}
    for k in list(parent):
        groups.setdefault(root(k), set()).add(k)
    return {k: frozenset(g) for g in groups.values() if len(g) > 1 for k in g}


def check(decisions: Decisions, candidates: list[Candidate], components: dict[str, frozenset[str]],
           by_key: dict[str, QuoteMention]) -> None:
    decided = {frozenset((p.a, p.b)) for p in decisions.pairs}
    missing = [c for c in candidates if frozenset((c.a, c.b)) not in decided]
    if missing:
        raise ToolkitError(f"{DECISIONS}: {len(missing)} proposed pairs have no decision, first {missing[0].a} / "
                           f"{missing[0].b}; judge them (list them with --undecided)")
    for p in decisions.pairs:
        if not p.same and components.get(p.a) is not None and p.b in components[p.a]:
            raise ToolkitError(f"{DECISIONS}: {p.a} / {p.b} is decided different but other decisions join them; "
                               "fix one of the decisions")
    named: dict[frozenset[str], str] = {}
    for s in decisions.statements:
        group = components.get(s.anchor)
        if group is None:
            raise ToolkitError(f"{DECISIONS}: statement {s.id}: anchor {s.anchor} is in no cluster of two or more; "
                               "join it with a 'same' pair or drop the entry")
        if group in named:
            raise ToolkitError(f"{DECISIONS}: statements {named[group]} and {s.id} name the same cluster; merge them")
        if by_key[s.anchor].speaker != s.speaker:
            raise ToolkitError(f"{DECISIONS}: statement {s.id}: speaker {s.speaker} but its quotes are "
                               f"{by_key[s.anchor].speaker}'s; fix the speaker")
        named[group] = s.id
    unnamed = [g for g in set(components.values()) if g not in named]
    if unnamed:
        raise ToolkitError(f"{DECISIONS}: the cluster of {min(unnamed[0])} has no statement entry; add one "
                           "(id, speaker, gloss, occasion, anchor)")
