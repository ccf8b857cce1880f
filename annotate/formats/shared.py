"""What the importers of foreign formats (BRAT, Citron) share: entity names from mention text, the
imported document with its validation errors as one-line ``ToolkitError``, and short quotes of text
for error messages."""

from __future__ import annotations

from pydantic import ValidationError

from schemas import AnnotatedDocument, Article, Entity, Mention, Provenance, Quote, ToolkitError
from schemas.errors import first_error
from schemas.models import OutOfScope


def entity_name(text: str) -> str:
    """A mention's text as an entity name: whitespace runs (line breaks too) become one space."""
    return " ".join(text.split())


def short(s: str, limit: int = 40) -> str:
    """``s`` quoted for a message, cut after ``limit`` characters."""
    return repr(s if len(s) <= limit else s[:limit] + "...")


def imported_document(where: str, article: Article, annotator: str, entities: list[Entity],
                      mentions: list[Mention], quotes: list[Quote],
                      out_of_scope: list[OutOfScope] | None = None) -> AnnotatedDocument:
    """The document an importer built, with provenance ``origin="import"``; ``where`` prefixes the error."""
    try:
        return AnnotatedDocument(article=article, provenance=Provenance(annotator=annotator, origin="import"),
                                 entities=entities, mentions=mentions, quotes=quotes, out_of_scope=out_of_scope or [])
    except ValidationError as e:
        raise ToolkitError(f"{where}{first_error(e)}") from None
