"""Linking tasks from the gold: one per (story, speaker) with two or more renderings, with predictions.

A task lists the speaker's quotes in the story (``schemas.quote_mentions``) in (article id,
position) order, each as a card: its outlet (the article id when the outlet is unknown) and
quote kind, and the sentence(s) around it with the quote's fragments marked. Its data carries
what decoding needs: the story, the speaker, the item ids (``QuoteMention.key``) and the sha256
of all of it, so a pull can tell that the task was edited or the gold changed since. A speaker
with one quote in a story has nothing to link and gets no task; quotes without a speaker neither.

A prediction places the renderings of a ``StatementDocument``'s statements (the baseline
linker's, say) in buckets 1..m in the order of their first rendering; renderings it does not
place start in the unsorted column.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from annotate.extract.sentences import sentence_spans
from annotate.labelstudio.linking.config import SPARE_BUCKETS, UNSORTED, bucket_name
from annotate.labelstudio.linking.wire import (
    LinkingPrediction,
    LinkingTask,
    LinkingTaskData,
    RankerResult,
    RankerValue,
    RenderingItem,
)
from schemas import AnnotatedDocument, ToolkitError
from schemas.quote_mentions import QuoteMention, mention_order, quote_mentions
from schemas.statements import Statement, StatementDocument

GroupKey = tuple[str | None, str]  # (story, speaker entity id)


@dataclass(frozen=True)
class SpeakerGroup:
    """One speaker's quotes in one story: what one linking task shows."""

    story: str | None
    speaker: str
    speaker_name: str
    mentions: tuple[QuoteMention, ...]  # in (article id, position) order

    @property
    def key(self) -> GroupKey:
        return (self.story, self.speaker)


def speaker_groups(documents: Iterable[AnnotatedDocument], minimum: int = 2) -> list[SpeakerGroup]:
    """Every (story, speaker) with at least ``minimum`` quotes, in (story, speaker) order."""
    documents = list(documents)
    names: dict[GroupKey, str] = {}
    for doc in documents:
        for e in doc.entities:
            names.setdefault((doc.article.story, e.id), e.name)
    grouped: dict[GroupKey, list[QuoteMention]] = {}
    for m in quote_mentions(documents):
        if m.speaker is not None:
            grouped.setdefault((m.story, m.speaker), []).append(m)
    return [
        SpeakerGroup(story=story, speaker=speaker, speaker_name=names.get((story, speaker), speaker),
                     mentions=tuple(sorted(ms, key=mention_order)))
        for (story, speaker), ms in sorted(grouped.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
        if len(ms) >= minimum
    ]


def content_sha256(data: LinkingTaskData) -> str:
    """The sha256 of everything in the task's data but the hash itself (canonical JSON)."""
    content = data.model_dump(mode="json", exclude={"sha256"})
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def task_data(group: SpeakerGroup, documents: Iterable[AnnotatedDocument]) -> LinkingTaskData:
    """The data of ``group``'s task, hashed; ``documents`` hold the group's articles and quotes."""
    docs = {d.article.id: d for d in documents}
    spans = {a: sentence_spans(docs[a].article.text) for a in {m.article_id for m in group.mentions}}
    items = [_item(docs[m.article_id], m, spans[m.article_id]) for m in group.mentions]
    articles = len({m.article_id for m in group.mentions})
    where = f"story {group.story}" if group.story is not None else "articles without a story"
    heading = f"{group.speaker_name}: {len(items)} quotes in {articles} article(s) of {where}"
    data = LinkingTaskData.model_construct(heading=heading, story=group.story, speaker=group.speaker,
                                           speaker_name=group.speaker_name, items=items, sha256="0" * 64)
    return LinkingTaskData.model_validate({**data.model_dump(), "sha256": content_sha256(data)})


def _item(doc: AnnotatedDocument, m: QuoteMention, sentences: list[tuple[int, int]]) -> RenderingItem:
    text = doc.article.text
    quote = next(q for q in doc.quotes if q.id == m.quote_id)
    start, end = _sentences_around(sentences, m.start, m.end)
    parts, at = [], start
    for fragment in quote.content:
        parts += [html.escape(text[at:fragment.start]), "<mark>", html.escape(fragment.text), "</mark>"]
        at = fragment.end
    parts.append(html.escape(text[at:end]))
    return RenderingItem(id=m.key, title=f"{doc.article.outlet or m.article_id} · {m.kind.value}", html="".join(parts))


def _sentences_around(sentences: list[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """From the start of the sentence holding ``start`` to the end of the one holding ``end - 1``."""
    first = next((s for s, e in sentences if s <= start < e), start)
    last = next((e for s, e in sentences if s < end <= e), end)
    return min(first, start), max(last, end)


def ranker_value(data: LinkingTaskData, groups: Sequence[Sequence[str]]) -> RankerValue:
    """``groups`` (item ids) in buckets 1..len(groups), each in item order; the rest unsorted."""
    order = {item_id: n for n, item_id in enumerate(data.item_ids())}
    placed = [key for g in groups for key in g]
    unknown = [key for key in placed if key not in order]
    if unknown:
        raise ToolkitError(f"rendering {unknown[0]!r} is not a quote of {data.speaker!r} in story {data.story!r} "
                           "in the gold; link against the same gold the tasks are made from")
    buckets = {bucket_name(n): sorted(g, key=order.__getitem__) for n, g in enumerate(groups, 1)}
    done = set(placed)
    return RankerValue(ranker={UNSORTED: [i for i in data.item_ids() if i not in done], **buckets})


def predicted_groups(data: LinkingTaskData, predictions: Iterable[StatementDocument]) -> list[list[str]]:
    """The item ids of each predicted statement of the task's (story, speaker), in first-rendering order."""
    statements: list[Statement] = [s for doc in predictions if doc.story == data.story for s in doc.statements
                                   if s.speaker_entity_id == data.speaker]
    order = {item_id: n for n, item_id in enumerate(data.item_ids())}
    groups = [s.keys() for s in statements]
    groups = [g for g in groups if g]
    return sorted(groups, key=lambda g: min(order.get(k, len(order)) for k in g))


def buckets_needed(items: int, predicted: int) -> int:
    """Buckets a task should have: its predicted statements and ``SPARE_BUCKETS`` more for splits,
    never more than one per rendering."""
    return min(items, predicted + SPARE_BUCKETS)


def build_tasks(
    documents: Sequence[AnnotatedDocument],
    predictions: Sequence[StatementDocument] | None,
    buckets: int,
    model_version: str = "linker",
) -> list[LinkingTask]:
    """One task per (story, speaker) with two or more renderings, with a prediction from ``predictions``.

    Raises ``ToolkitError`` when a task needs more than ``buckets`` buckets (``buckets_needed``),
    or a prediction places a quote that is not the speaker's in the gold.
    """
    tasks = []
    for group in speaker_groups(documents):
        data = task_data(group, documents)
        groups = predicted_groups(data, predictions) if predictions is not None else []
        need = buckets_needed(len(data.items), len(groups))
        if need > buckets:
            raise ToolkitError(
                f"speaker {group.speaker!r} in story {group.story!r}: {len(data.items)} renderings in {len(groups)} "
                f"predicted statements need {need} buckets ({SPARE_BUCKETS} spare), the project has {buckets}; run "
                f"`annotate statements init --buckets {need}` (or more) first")
        prediction = None
        if predictions is not None:
            result = RankerResult(value=ranker_value(data, groups))
            prediction = [LinkingPrediction(model_version=model_version, result=[result])]
        tasks.append(LinkingTask(data=data, predictions=prediction))
    return tasks
