"""A linking task's annotation -> the annotator's statements for that (story, speaker).

Each non-empty bucket becomes one ``Statement``: its renderings in (article id, position) order,
its id ``s-<article_id>-<quote_id>`` of the first of them (stable, whatever bucket number the
annotator used), its gloss derived from the longest direct rendering (the annotator types none;
the longest rendering when none is direct), cut to ``schemas.quote_mentions.GLOSS_LENGTH`` characters.

A rendering left in the unsorted column (or in no column at all, as when an annotation has no
ranker result) is a per-item ``Rejection``, not a singleton statement: an annotator who submits
without sorting must not silently produce "every quote its own statement", and a statement that
stands alone is one drag into an empty bucket. The rest of the annotation is kept.

The whole annotation is refused (``ToolkitError``, one line) when it cannot be trusted: a bucket
naming an item the task does not have, a rendering in two buckets, an unknown column, the task's
data edited in Label Studio (its sha256 no longer matches), or the gold changed since the task
was imported (the task rebuilt from today's gold has another sha256).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from annotate.labelstudio.ids import Rejection
from annotate.labelstudio.linking.config import RESULT_TYPE, UNSORTED, bucket_number
from annotate.labelstudio.linking.tasks import GroupKey, content_sha256, speaker_groups, task_data
from annotate.labelstudio.linking.wire import LinkingTaskData, RankerResult
from schemas import AnnotatedDocument, Provenance, ToolkitError
from schemas.errors import first_error
from schemas.quote_mentions import QuoteMention, gloss_of, mention_order, quote_mentions, statement_id_for
from schemas.statements import GoldQuotes, Rendering, Statement, StatementDocument


@dataclass
class LinkingGold:
    """The gold the tasks were made from, indexed for decoding: quotes by key, task data by group."""

    documents: list[AnnotatedDocument]
    quotes: GoldQuotes  # the documents indexed for checking statement documents
    mentions: dict[str, QuoteMention] = field(default_factory=dict)
    tasks: dict[GroupKey, LinkingTaskData] = field(default_factory=dict)
    alone: dict[str | None, list[QuoteMention]] = field(default_factory=dict)  # story -> one-quote speakers' quotes

    @classmethod
    def of(cls, documents: Iterable[AnnotatedDocument]) -> LinkingGold:
        documents = list(documents)
        gold = cls(documents=documents, mentions={m.key: m for m in quote_mentions(documents)},
                   quotes=GoldQuotes(documents))
        for group in speaker_groups(documents, minimum=1):
            if len(group.mentions) == 1:
                gold.alone.setdefault(group.story, []).append(group.mentions[0])
            else:
                gold.tasks[group.key] = task_data(group, documents)
        return gold

    def single_statements(self, story: str | None) -> list[Statement]:
        """A statement of its own for each quote of a speaker quoted once in the story: no task asks about them
        (there is nothing to group), but a story's statement document covers every attributed quote."""
        return [Statement(id=statement_id_for(m), story=story, speaker_entity_id=m.speaker or "",
                          gloss=gloss_of([m]), renderings=[Rendering(article_id=m.article_id, quote_id=m.quote_id)])
                for m in self.alone.get(story, [])]


def read_task_data(data: dict[str, Any], where: str) -> LinkingTaskData:
    """A task's data as ``LinkingTaskData``; ``ToolkitError`` when it is not a linking task's."""
    try:
        return LinkingTaskData.model_validate(data)
    except ValidationError as e:
        raise ToolkitError(f"{where}: not a statement-linking task ({first_error(e)}); import tasks with "
                           "`annotate statements preload`") from None


def check_task(data: LinkingTaskData, gold: LinkingGold, where: str) -> None:
    """The task is unedited and was made from this gold; ``ToolkitError`` naming which is not so."""
    if content_sha256(data) != data.sha256:
        raise ToolkitError(f"{where}: the task's data was changed in Label Studio (its sha256 no longer matches); "
                           "delete the task and preload it again")
    expected = gold.tasks.get((data.story, data.speaker))
    if expected is None or expected.sha256 != data.sha256:
        now = "has no such task" if expected is None else f"makes sha256 {expected.sha256[:12]}..."
        raise ToolkitError(f"{where}: the gold changed since this task was imported (task sha256 "
                           f"{data.sha256[:12]}..., the gold {now}); pull with the gold it was made from, or "
                           "re-import the task")


def decode_result(
    data: LinkingTaskData, result: Sequence[Any], gold: LinkingGold, where: str
) -> tuple[list[Statement], list[Rejection]]:
    """One annotation's result -> its statements (in first-rendering order) and per-item rejections."""
    check_task(data, gold, where)
    rankers = [r for r in result if isinstance(r, dict) and r.get("type") == RESULT_TYPE]
    if len(rankers) > 1:
        raise ToolkitError(f"{where}: {len(rankers)} ranker results; one annotation has one grouping")
    buckets: dict[int, list[str]] = {}
    if rankers:
        try:
            ranker = RankerResult.model_validate(rankers[0])
        except ValidationError as e:
            raise ToolkitError(f"{where}: the ranker result is malformed ({first_error(e)})") from None
        buckets = _buckets(data, ranker.value.ranker, where)
    placed = {key for keys in buckets.values() for key in keys}
    rejections = [Rejection(region_id=key, message=f"{where}: rendering {key!r} was left unsorted; drag it into a "
                                                   "statement (an empty one if it stands alone); rendering left out")
                  for key in data.item_ids() if key not in placed]
    statements = [_statement(data, [gold.mentions[k] for k in keys]) for _, keys in sorted(buckets.items()) if keys]
    statements.sort(key=lambda s: mention_order(gold.mentions[s.renderings[0].key]))
    return statements, rejections


def _buckets(data: LinkingTaskData, ranker: dict[str, list[str]], where: str) -> dict[int, list[str]]:
    items = set(data.item_ids())
    seen: dict[str, str] = {}
    buckets: dict[int, list[str]] = {}
    for column, keys in ranker.items():
        number = bucket_number(column)
        if number is None and column != UNSORTED:
            raise ToolkitError(f"{where}: unknown column {column!r} in the ranker result; the config names its "
                               "buckets statement_1, statement_2, ...")
        for key in keys:
            if key not in items:
                raise ToolkitError(f"{where}: column {column!r} holds {key!r}, which is not an item of this task; "
                                   "the annotation is not for this task")
            if key in seen:
                raise ToolkitError(f"{where}: rendering {key!r} is in {seen[key]!r} and {column!r}; a quote renders "
                                   "one statement")
            seen[key] = column
        if number is not None:
            buckets[number] = list(keys)
    return buckets


def _statement(data: LinkingTaskData, mentions: list[QuoteMention]) -> Statement:
    mentions = sorted(mentions, key=mention_order)
    first = mentions[0]
    renderings = [Rendering(article_id=m.article_id, quote_id=m.quote_id) for m in mentions]
    return Statement(id=statement_id_for(first), story=data.story, speaker_entity_id=data.speaker,
                     gloss=gloss_of(mentions), renderings=renderings)


def statement_document(
    story: str | None, statements: Iterable[Statement], provenance: Provenance, gold: LinkingGold
) -> StatementDocument:
    """One story's statements as a document, checked against the gold quotes (``GoldQuotes``)."""
    ordered = sorted(statements, key=lambda s: mention_order(gold.mentions[s.renderings[0].key]))
    try:
        doc = StatementDocument(story=story, provenance=provenance, statements=ordered)
        gold.quotes.check(doc)
    except ValidationError as e:
        raise ToolkitError(f"story {story!r}, {provenance.annotator}: {first_error(e)}") from None
    except ValueError as e:
        raise ToolkitError(f"story {story!r}, {provenance.annotator}: {e}") from None
    return doc
