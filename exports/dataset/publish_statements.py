"""The statement layer of a release: gold statement files checked against the gold quotes, their fidelity
classes computed, and their rows placed in the split of their story's articles."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from exports.dataset.statement_rows import statement_item_id, statement_rows
from schemas import AnnotatedDocument, ToolkitError
from schemas.documents import iter_statement_documents
from schemas.fidelity import with_fidelity
from schemas.quote_mentions import quote_mentions
from schemas.statements import GoldQuotes


def statement_release_rows(paths: Sequence[Path], gold: Sequence[AnnotatedDocument],
                           split_of_article: dict[str, str]) -> Iterator[tuple[str, str, dict]]:
    """(config, split, row) of every gold statement and rendering in ``paths``; an error names file:line."""
    mentions = {m.key: m for m in quote_mentions(gold)}
    quotes = GoldQuotes(gold)
    seen: set[str | None] = set()
    for path in paths:
        for lineno, doc in iter_statement_documents(path, against=quotes):
            where = f"{path}:{lineno}"
            if doc.provenance.annotator != "gold" and doc.provenance.origin != "gold":
                raise ToolkitError(f"{where}: statements by {doc.provenance.annotator!r}, not gold; publish the "
                                   "output of `annotate statements adjudicate`")
            if doc.story in seen:
                raise ToolkitError(f"{where}: a second gold statement document for story {doc.story!r}; keep one "
                                   "per story")
            seen.add(doc.story)
            doc = with_fidelity(doc, mentions)
            split_of: dict[str, str] = {}  # statement item id -> the one split of its renderings
            for s in doc.statements:
                found = {split_of_article[r.article_id] for r in s.renderings}
                if len(found) > 1:
                    raise ToolkitError(f"{where}: statement {s.id!r} has renderings in splits "
                                       f"{', '.join(sorted(found))}; link statements within one story")
                split_of[statement_item_id(doc.story, s.id)] = found.pop()
            for config, row in statement_rows(doc, where):
                yield config, split_of[row["id"] if config == "statements" else row["statement"]], row
