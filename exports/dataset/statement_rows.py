"""The row codec of the statement configs: gold ``StatementDocument`` -> ``statements`` and ``renderings`` rows,
and those rows back into statement documents (what ``annotate evaluate`` reads from a release).

Statement item ids are ``<story>/<statement_id>`` (``-`` for a collection without stories); rendering ids are the
quote's item id ``<article_id>/<quote_id>``, so a rendering joins the ``quotes`` config on ``id``. Fidelity is
stored as its position in ``schemas.statements.Fidelity``; a rendering without one is an error here, because the
publisher computes every class before encoding.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping

from schemas import Provenance, ToolkitError
from schemas.statements import Fidelity, Rendering, Statement, StatementDocument

_FIDELITY = {f: i for i, f in enumerate(Fidelity)}
NO_STORY = "-"


def statement_item_id(story: str | None, statement_id: str) -> str:
    return f"{story if story is not None else NO_STORY}/{statement_id}"


def statement_rows(doc: StatementDocument, where: str) -> Iterator[tuple[str, dict]]:
    """(config, row) of every statement and rendering of one gold statement document."""
    for s in doc.statements:
        item = statement_item_id(doc.story, s.id)
        yield "statements", {
            "id": item, "story": doc.story, "statement_id": s.id, "speaker_entity_id": s.speaker_entity_id,
            "gloss": s.gloss, "occasion": s.occasion, "renderings": s.keys(), "supported_by": s.supported_by,
        }
        for r in s.renderings:
            if r.fidelity is None:
                raise ToolkitError(f"{where}: statement {s.id!r}: rendering {r.key!r} has no fidelity class; "
                                   "compute it (schemas.fidelity.with_fidelity) before publishing")
            yield "renderings", {"id": r.key, "article_id": r.article_id, "quote_id": r.quote_id, "statement": item,
                                 "fidelity": _FIDELITY[r.fidelity], "changes_meaning": r.changes_meaning}


def statement_documents(statements: Iterable[Mapping], renderings: Iterable[Mapping]) -> list[StatementDocument]:
    """The gold statement documents (one per story) from the rows of both configs: the inverse of ``statement_rows``."""
    by_statement: dict[str, list[Rendering]] = defaultdict(list)
    for row in renderings:
        by_statement[row["statement"]].append(Rendering(
            article_id=row["article_id"], quote_id=row["quote_id"], fidelity=list(Fidelity)[row["fidelity"]],
            changes_meaning=row["changes_meaning"]))
    by_story: dict[str | None, list[Statement]] = defaultdict(list)
    for row in statements:
        found = {r.key: r for r in by_statement.pop(row["id"], [])}
        missing = [k for k in row["renderings"] if k not in found]
        if missing:
            raise ToolkitError(f"statements row {row['id']!r}: rendering {missing[0]!r} has no row in `renderings`; "
                               "the release is incomplete: publish it again")
        by_story[row["story"]].append(Statement(
            id=row["statement_id"], story=row["story"], speaker_entity_id=row["speaker_entity_id"], gloss=row["gloss"],
            occasion=row["occasion"], renderings=[found[k] for k in row["renderings"]],
            supported_by=row["supported_by"] or []))
    if by_statement:
        raise ToolkitError(f"renderings row of statement {next(iter(by_statement))!r} has no row in `statements`; "
                           "the release is incomplete: publish it again")
    return [StatementDocument(story=story, provenance=Provenance(annotator="gold", origin="gold"), statements=items)
            for story, items in sorted(by_story.items(), key=lambda kv: str(kv[0]))]
