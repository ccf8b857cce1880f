"""The statement layer: one utterance (a ``Statement``) and the quotes that render it (``Rendering``).

A statement is what one speaker said on one occasion; each outlet that reports it renders it as one
of its gold quotes, verbatim, as an excerpt, in other words, or as a paraphrase. The quotes are the
mentions and the statements their clusters, as in two-stage quote attribution, so a statement refers
to quotes by ``(article_id, quote_id)`` and never copies their text.

A ``StatementDocument`` is one annotator's (or the gold, or a linker's) statements over one story, as
an ``AnnotatedDocument`` is one annotator's annotations of one article; ``story`` is None for a
collection linked without story labels. What can be checked inside one document is checked by its
validator; what needs the quotes (a rendering pointing at a missing quote, a speaker that differs,
an entity id naming two people in one story) is checked by ``GoldQuotes.check`` (``check_against_quotes`` for one).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.models import AnnotatedDocument, Id, Provenance
from schemas.version import SCHEMA_VERSION


class Fidelity(StrEnum):
    """How a rendering relates to the statement's other renderings, computed from the words.

    Ordered from closest to loosest; the order is the ClassLabel order of the published dataset.
    """

    VERBATIM = "verbatim"  # the same words as another direct rendering, case and punctuation aside
    EXCERPT = "excerpt"  # a contiguous part of a fuller rendering
    VARIANT = "variant"  # a direct rendering in other words (another translation, say)
    PARAPHRASE = "paraphrase"  # an indirect or mixed rendering


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rendering(_Model):
    """One gold quote that renders a statement."""

    article_id: Id
    quote_id: Id
    fidelity: Fidelity | None = Field(default=None, description="Computed from the words; None until computed.")
    changes_meaning: bool | None = Field(
        default=None, description="Annotator's flag: this rendering changes what was said (None: not judged).")

    @property
    def key(self) -> str:
        """The rendering's mention id, unique in a collection: ``article_id/quote_id``."""
        return f"{self.article_id}/{self.quote_id}"


class Statement(_Model):
    """What one speaker said on one occasion, with the quotes that render it."""

    id: Id = Field(description="Stable within its story.")
    story: Id | None = Field(default=None, description="The story; None in a collection without story labels.")
    speaker_entity_id: Id
    gloss: str = Field(min_length=1, max_length=300, description="A short summary of what was said.")
    occasion: str | None = Field(default=None, max_length=300, description="Where and when, if the text tells.")
    renderings: list[Rendering] = Field(min_length=1)
    supported_by: list[str] = Field(default_factory=list, description="Gold only: annotators who grouped it so.")

    def keys(self) -> list[str]:
        return [r.key for r in self.renderings]


class StatementDocument(_Model):
    """One annotator's (or the gold, or a linker's) statements over one story."""

    schema_version: str = SCHEMA_VERSION
    story: Id | None = Field(default=None, description="None: a collection linked without story labels.")
    provenance: Provenance
    statements: list[Statement] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> StatementDocument:
        dupes = [i for i, n in Counter(s.id for s in self.statements).items() if n > 1]
        if dupes:
            raise ValueError(f"statement id {dupes[0]!r} is used by two statements; give each its own id")
        placed: dict[str, str] = {}
        for s in self.statements:
            if s.story != self.story:
                raise ValueError(f"statement {s.id!r}: story {s.story!r} differs from its document's story "
                                 f"{self.story!r}")
            for r in s.renderings:
                if r.key in placed:
                    other = placed[r.key]
                    where = "twice" if other == s.id else f"in statement {other!r} too"
                    raise ValueError(f"statement {s.id!r}: rendering {r.key!r} is placed {where}; a quote "
                                     "renders one statement")
                placed[r.key] = s.id
        return self

    def rendering_keys(self) -> list[str]:
        return [key for s in self.statements for key in s.keys()]


class GoldQuotes:
    """The gold documents indexed once, to check any number of statement documents against them (a CLI run or a
    release checks one per story and annotator: indexing per check would make that quadratic)."""

    def __init__(self, documents: Iterable[AnnotatedDocument]) -> None:
        self.documents = {d.article.id: d for d in documents}
        self._by_story: dict[str | None, list[AnnotatedDocument]] = defaultdict(list)
        for d in self.documents.values():
            self._by_story[d.article.story].append(d)
        self._quotes = {(d.article.id, q.id): q for d in self.documents.values() for q in d.quotes}
        self._entities_checked: set[str | None] = set()

    def check(self, statements: StatementDocument) -> None:
        """Raise ``ValueError`` naming the item unless every rendering points at an existing quote of an article
        of the statement's story, spoken by the statement's speaker, and every entity id names one entity across
        those articles (one speaker, one id)."""
        story = statements.story
        if story not in self._entities_checked:
            check_entities_across_articles(self.documents.values() if story is None else self._by_story[story])
            self._entities_checked.add(story)
        for s in statements.statements:
            for r in s.renderings:
                doc = self.documents.get(r.article_id)
                if doc is None:
                    raise ValueError(f"statement {s.id!r}: rendering {r.key!r} points at article {r.article_id!r}, "
                                     "which is not among the gold documents")
                if story is not None and doc.article.story != story:
                    raise ValueError(f"statement {s.id!r}: rendering {r.key!r} is in story {doc.article.story!r}, "
                                     f"not {story!r}")
                quote = self._quotes.get((r.article_id, r.quote_id))
                if quote is None:
                    raise ValueError(f"statement {s.id!r}: rendering {r.key!r} points at quote {r.quote_id!r}, "
                                     f"which article {r.article_id!r} does not have")
                speaker = doc.speaker_of(quote)
                if speaker != s.speaker_entity_id:
                    raise ValueError(f"statement {s.id!r}: rendering {r.key!r} is spoken by {speaker!r}, not by the "
                                     f"statement's speaker {s.speaker_entity_id!r}; a statement has one speaker")


def check_against_quotes(statements: StatementDocument, documents: Iterable[AnnotatedDocument]) -> None:
    """``GoldQuotes(documents).check(statements)``, for a single statement document."""
    GoldQuotes(documents).check(statements)


def check_entities_across_articles(documents: Iterable[AnnotatedDocument]) -> None:
    """Raise ``ValueError`` when one entity id carries two names in the given articles (one story).

    Statements link quotes across articles through their speaker ids, so ``putin`` must be the same
    person in every article of a story; a name compared case- and space-insensitively."""
    names: dict[str, tuple[str, str]] = {}
    for doc in documents:
        for e in doc.entities:
            seen = names.setdefault(e.id, (e.name, doc.article.id))
            if _name_key(seen[0]) != _name_key(e.name):
                raise ValueError(f"entity id {e.id!r} names {seen[0]!r} in article {seen[1]!r} but {e.name!r} in "
                                 f"article {doc.article.id!r}; one entity id must name one entity across a story")


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())
