"""The baseline statement linker: candidate pairs that pass a threshold, joined into connected components.

Every quote with a speaker ends up in exactly one statement (a quote linked to nothing is a statement of
its own). Components, not a finer clustering: a statement's renderings need not all resemble each
other, only be chained (two excerpts of different parts of a speech share no words, but each matches
the full rendering); the price is that one false link joins two statements, which is why a link also
needs a shared rare word (``candidates``). Components by ``scipy.sparse.csgraph.connected_components``
(compiled, one call per block, already a dependency) rather than a hand-written union-find.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from annotate.extract.statements.candidates import (
    DEFAULT_SETTINGS,
    Block,
    BlockCandidates,
    CandidatePair,
    CandidateSettings,
    Method,
    block_candidates,
    blocks_of,
    pair_records,
)
from schemas.errors import ToolkitError
from schemas.models import AnnotatedDocument, Provenance
from schemas.quote_mentions import QuoteMention, gloss_of, quote_mentions, statement_id_for
from schemas.statements import Rendering, Statement, StatementDocument

LINKER_VERSION = "0.1.0"
LINKER_NAME = "baseline-linker"
# A pair links when its best score (word-level ratio, partial ratio, token-set ratio; see ``similarity``)
# is at least 0.75 (and it shares a rare word). On the seed gold that joins the four direct renderings of
# Putin's "legitimate targets" remark (their pairs score 0.71-0.89) while pairs of his different remarks
# score 0.64 or less. On the benchmark's 1,000,000 synthetic quotes (BENCHMARKS.md) it gives pairwise
# precision 0.92 and recall 0.92 over the clusters; 0.70 and 0.80 trade one for the other by ~0.01-0.02,
# but at 0.65 precision collapses (0.04): loose matches chain statements into large components.
DEFAULT_THRESHOLD = 0.75


@dataclass(frozen=True)
class LinkedStatement:
    """One cluster of mentions: what the linker takes for one statement, and the links that made it."""

    keys: tuple[str, ...]  # mention keys (article_id/quote_id), in (article_id, start) order
    speaker: str
    story: str | None  # None: linked without story labels (or the articles have none)
    links: tuple[CandidatePair, ...]  # the passing pairs inside the cluster, in (left, right) order


LinkMentions = Callable[[Iterable[QuoteMention]], list[LinkedStatement]]


def link_mentions(mentions: Iterable[QuoteMention], *, use_stories: bool = True,
                  threshold: float = DEFAULT_THRESHOLD, method: Method = "lsh",
                  settings: CandidateSettings = DEFAULT_SETTINGS) -> list[LinkedStatement]:
    """Cluster the mentions that have a speaker into statements, in the order of their first rendering."""
    if not 0 < threshold <= 1:
        raise ToolkitError(f"link threshold {threshold}: use a similarity in (0, 1], e.g. {DEFAULT_THRESHOLD}")
    linked: list[tuple[QuoteMention, LinkedStatement]] = []
    for block in blocks_of(mentions, use_stories=use_stories):
        found = block_candidates([m.words for m in block.mentions], method=method, settings=settings,
                                 min_score=threshold).passing(threshold)
        linked.extend(cluster_block(block, found))
    return in_rendering_order(linked)


def cluster_block(block: Block, found: BlockCandidates) -> list[tuple[QuoteMention, LinkedStatement]]:
    """The statements of one block from its passing pairs (connected components), each with its first rendering.
    One piece of code for every engine, so the clustering cannot differ between them."""
    n = len(block.mentions)
    graph = coo_matrix((np.ones(len(found), dtype=np.int8), (found.left, found.right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    links: dict[int, list[CandidatePair]] = defaultdict(list)
    for k, pair in enumerate(pair_records(block, found)):
        links[int(labels[found.left[k]])].append(pair)
    members: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels.tolist()):
        members[label].append(i)  # ascending i: the block's mentions are in (article_id, start) order
    return [(block.mentions[idx[0]], LinkedStatement(
        keys=tuple(block.mentions[i].key for i in idx), speaker=block.speaker, story=block.story,
        links=tuple(links[label]))) for label, idx in members.items()]


def in_rendering_order(linked: list[tuple[QuoteMention, LinkedStatement]]) -> list[LinkedStatement]:
    linked = sorted(linked, key=lambda item: (item[0].article_id, item[0].start, item[0].quote_id))
    return [statement for _, statement in linked]


def link_documents(documents: Iterable[AnnotatedDocument], *, use_stories: bool = True,
                   threshold: float = DEFAULT_THRESHOLD, method: Method = "lsh",
                   settings: CandidateSettings = DEFAULT_SETTINGS) -> list[StatementDocument]:
    """The linker's statements over gold documents: one ``StatementDocument`` per story, in story order (the
    articles without a story, or all of them when ``use_stories`` is False, in one with ``story=None``, last)."""
    def link(mentions: Iterable[QuoteMention]) -> list[LinkedStatement]:
        return link_mentions(mentions, use_stories=use_stories, threshold=threshold, method=method,
                             settings=settings)

    return statement_documents(documents, link, use_stories=use_stories)


def statement_documents(documents: Iterable[AnnotatedDocument], link: LinkMentions, *,
                        use_stories: bool = True) -> list[StatementDocument]:
    """``link_documents`` with the mentions linked by ``link`` (another engine's ``link_mentions``)."""
    docs: dict[str, AnnotatedDocument] = {}
    for doc in documents:
        if doc.article.id in docs:
            raise ToolkitError(f"article {doc.article.id!r} comes in two documents; link one document per "
                               "article (the gold)")
        docs[doc.article.id] = doc
    ordered = [docs[a] for a in sorted(docs)]
    mentions = {m.key: m for m in quote_mentions(ordered)}
    linked = link(mentions.values())
    stories = {d.article.story for d in ordered} if use_stories else {None} if ordered else set()
    by_story: dict[str | None, list[Statement]] = {story: [] for story in stories}
    for statement in linked:
        by_story[statement.story].append(_statement(statement, [mentions[k] for k in statement.keys]))
    provenance = Provenance(annotator=LINKER_NAME, origin="prediction", model_version=LINKER_VERSION)
    return [StatementDocument(story=story, provenance=provenance, statements=by_story[story])
            for story in sorted(by_story, key=lambda s: (s is None, s or ""))]


def _statement(linked: LinkedStatement, renderings: list[QuoteMention]) -> Statement:
    return Statement(id=statement_id_for(renderings[0]), story=linked.story, speaker_entity_id=linked.speaker,
                     gloss=gloss_of(renderings),
                     renderings=[Rendering(article_id=m.article_id, quote_id=m.quote_id) for m in renderings])
