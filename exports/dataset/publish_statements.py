"""The statement layer of a release: gold statement files checked against the gold quotes, their fidelity
classes computed, and their rows placed in the split of their story's articles."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from exports.dataset.statement_rows import statement_rows
from schemas import AnnotatedDocument, ToolkitError
from schemas.documents import iter_statement_documents
from schemas.fidelity import with_fidelity
from schemas.quote_mentions import quote_mentions
from schemas.statements import check_against_quotes


def statement_release_rows(paths: Sequence[Path], gold: Sequence[AnnotatedDocument],
                           split_of_article: dict[str, str]) -> Iterator[tuple[str, str, dict]]:
    """(config, split, row) of every gold statement and rendering in ``paths``; an error names file:line."""
    mentions = {m.key: m for m in quote_mentions(gold)}
    by_story: dict[str | None, list[AnnotatedDocument]] = {}
    for doc in gold:
        by_story.setdefault(doc.article.story, []).append(doc)
    seen: set[str | None] = set()
    for path in paths:
        for lineno, doc in iter_statement_documents(path):
            where = f"{path}:{lineno}"
            if doc.provenance.annotator != "gold" and doc.provenance.origin != "gold":
                raise ToolkitError(f"{where}: statements by {doc.provenance.annotator!r}, not gold; publish the "
                                   "output of `annotate statements adjudicate`")
            if doc.story in seen:
                raise ToolkitError(f"{where}: a second gold statement document for story {doc.story!r}; keep one "
                                   "per story")
            seen.add(doc.story)
            try:
                check_against_quotes(doc, gold if doc.story is None else by_story.get(doc.story, []))
            except ValueError as e:
                raise ToolkitError(f"{where}: {e}; the statements must link the quotes of the gold published "
                                   "with them") from None
            doc = with_fidelity(doc, mentions)
            splits = {s.id: {split_of_article[r.article_id] for r in s.renderings} for s in doc.statements}
            for statement_id, found in splits.items():
                if len(found) > 1:
                    raise ToolkitError(f"{where}: statement {statement_id!r} has renderings in splits "
                                       f"{', '.join(sorted(found))}; link statements within one story")
            items = {s.id: s for s in doc.statements}
            for config, row in statement_rows(doc, where):
                statement_id = row["statement_id"] if config == "statements" else row["statement"].split("/", 1)[1]
                yield config, next(iter(splits[items[statement_id].id])), row
