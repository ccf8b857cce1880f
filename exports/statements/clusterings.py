"""Statement documents as clusterings: per story and annotator, the statements as sets of rendering keys.

Agreement, adjudication and evaluation all compare clusterings of one story's renderings; this is the one
place that groups statement documents so (one document per story and annotator, checked here).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from schemas import ToolkitError
from schemas.statements import StatementDocument

Cluster = frozenset[str]


@dataclass(frozen=True)
class Clustering:
    """One annotator's (or a linker's, or the gold's) statements of one story, as clusters of rendering keys."""

    story: str | None
    annotator: str
    clusters: tuple[Cluster, ...]
    speakers: dict[str, str]  # rendering key -> the speaker of its statement

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(k for c in self.clusters for k in c)

    def restricted(self, keys: frozenset[str]) -> tuple[Cluster, ...]:
        """The clusters cut down to ``keys`` (empty ones dropped): the same renderings on both sides."""
        return tuple(c & keys for c in self.clusters if c & keys)


def clustering_of(document: StatementDocument) -> Clustering:
    clusters = tuple(frozenset(s.keys()) for s in document.statements)
    speakers = {k: s.speaker_entity_id for s in document.statements for k in s.keys()}
    return Clustering(story=document.story, annotator=document.provenance.annotator, clusters=clusters,
                      speakers=speakers)


def clusterings_by_story(documents: Iterable[StatementDocument],
                         where: Sequence[str] | None = None) -> dict[str | None, dict[str, Clustering]]:
    """story -> annotator -> clustering; two documents of one story by one annotator are an error naming both."""
    out: dict[str | None, dict[str, Clustering]] = defaultdict(dict)
    seen: dict[tuple[str | None, str], str] = {}
    for n, doc in enumerate(documents):
        here = where[n] if where is not None else f"statement document {n + 1}"
        ident = (doc.story, doc.provenance.annotator)
        if ident in seen:
            raise ToolkitError(f"{here}: annotator {ident[1]!r} has a second statement document for story "
                               f"{ident[0]!r} (the first is {seen[ident]}); keep one per story and annotator")
        seen[ident] = here
        out[doc.story][doc.provenance.annotator] = clustering_of(doc)
    return dict(out)
