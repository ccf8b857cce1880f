"""Import PolNeAR-style BRAT standoff annotations as ``AnnotatedDocument``s.

Layout: either ``DIR/text/<article>.txt`` with ``DIR/attributions/<article>_<annotator>.ann``
(PolNeAR), or a flat ``DIR`` holding both. One document per article per annotator, with
provenance ``origin="import"`` and the annotator id from the file name.

Mapping (PolNeAR attribution scheme):
- ``E`` lines (``Attribution`` / ``Attribution-no-source`` events) become quotes, with the event
  id as quote id. ``Content`` (and ``Content2``...) arguments give the content fragments, sorted
  into text order; a discontiguous span (``s1 e1;s2 e2``) gives one fragment per piece. ``Cue``
  gives the cue and ``Source`` the speaker mention; either may be missing.
- each ``Source`` span becomes a mention (id = its T id) of an entity; one entity per distinct
  source text in the document (case and spacing ignored), with a slug id, typed "other" unless
  the text makes the type obvious (see ``annotate.extract.entities.guess_entity_type``).
- the quote kind is inferred from quotation marks in the article: content whose every letter and
  digit lies inside quotation marks is direct, content with some quoted letters is mixed, the
  rest is indirect (``annotate.extract.quotemarks`` pairs the marks).

Problems: a line that cannot be read (unknown line type, bad offsets, span text that differs
from the article, a reference to a missing id) raises ``ToolkitError`` naming ``file:line``.
A well-formed line that this scheme does not use (``#`` notes, attributes ``A``/``M``, relations
``R``, normalisations ``N``, equivalences ``*``, span types other than Source/Cue/Content/
Attribution such as PolNeAR's ``Discard`` and ``Discuss``, unknown event roles, events without
content) is skipped and reported as a warning naming ``file:line``, so a whole corpus imports
while nothing is dropped silently.

Files are read as bytes and decoded as UTF-8, with no newline translation: offsets are code
points of the stored text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from annotate.extract.entities import guess_entity_type, slugify
from annotate.extract.quotemarks import kind_from_marks, quoted_mask
from annotate.formats.shared import entity_name, imported_document, short
from schemas import AnnotatedDocument, Article, Entity, Mention, Quote, QuoteKind, Span, ToolkitError
from schemas.errors import first_error
from schemas.files import read_text

SOURCE, CUE, CONTENT = "Source", "Cue", "Content"
EVENT_TYPES = ("Attribution", "Attribution-no-source")
SPAN_TYPES = (SOURCE, CUE, CONTENT, *EVENT_TYPES)
UNSUPPORTED_LINES = {"#": "note", "A": "attribute", "M": "attribute", "R": "relation", "N": "normalisation",
                     "*": "equivalence"}

_T_LINE = re.compile(r"(T\d+)\t(\S+) (\d+ \d+(?:;\d+ \d+)*)\t(.*)", re.DOTALL)
_E_LINE = re.compile(r"(E\d+)\t([^\s:]+):(T\d+)((?: [^\s:]+:[TE]\d+)*) *")
_ROLE = re.compile(r"(Source|Cue|Content)\d*")


@dataclass(frozen=True)
class TextBound:
    """A ``T`` line: a typed, possibly discontiguous span."""

    id: str
    type: str
    fragments: tuple[tuple[int, int], ...]
    line: int


@dataclass(frozen=True)
class Event:
    """An ``E`` line: an attribution with its trigger and role arguments."""

    id: str
    type: str
    trigger: str
    arguments: tuple[tuple[str, str], ...]
    line: int


@dataclass
class AnnFile:
    """What one ``.ann`` file says, already checked against its article's text."""

    path: Path
    spans: dict[str, TextBound] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BratImport:
    documents: list[AnnotatedDocument]
    warnings: list[str]


def import_brat(directory: Path) -> BratImport:
    """Every ``.ann`` under ``directory`` as one document per article per annotator."""
    documents, warnings = [], []
    articles: dict[Path, tuple[Article, list[bool]]] = {}
    for text_path, ann_path, annotator in find_pairs(directory):
        if text_path not in articles:
            article = _article(text_path)
            articles[text_path] = (article, quoted_mask(article.text))
        article, quoted = articles[text_path]
        ann = parse_ann(ann_path, article.text)
        documents.append(to_document(ann, article, annotator, quoted))
        warnings += ann.warnings
    return BratImport(documents=documents, warnings=warnings)


def find_pairs(directory: Path) -> list[tuple[Path, Path, str]]:
    """``(text file, .ann file, annotator)`` for every ``<article>_<annotator>.ann``."""
    if not directory.is_dir():
        raise ToolkitError(f"{directory}: not a directory; give a BRAT folder (text/ + attributions/, or .txt + .ann)")
    polnear = (directory / "text").is_dir() and (directory / "attributions").is_dir()
    text_dir, ann_dir = (directory / "text", directory / "attributions") if polnear else (directory, directory)
    texts = {p.stem: p for p in text_dir.glob("*.txt")}
    ann_files = sorted(ann_dir.glob("*.ann"))
    if not ann_files:
        raise ToolkitError(f"{ann_dir}: no .ann files found; expected <article>_<annotator>.ann beside the texts")
    pairs = []
    for ann_path in ann_files:
        article_id, sep, annotator = ann_path.stem.rpartition("_")
        if ann_path.stem in texts or not sep or not annotator:
            raise ToolkitError(
                f"{ann_path}: name has no annotator; rename it to <article>_<annotator>.ann "
                f"(e.g. {ann_path.stem}_ann1.ann)"
            )
        if article_id not in texts:
            raise ToolkitError(
                f"{ann_path}: no article text {text_dir / (article_id + '.txt')}; add it or remove the .ann"
            )
        pairs.append((texts[article_id], ann_path, annotator))
    return pairs


def _article(path: Path) -> Article:
    try:
        return Article.from_text(path.stem, read_text(path))
    except ValidationError as e:
        raise ToolkitError(f"{path}: {first_error(e)}") from None


def parse_ann(path: Path, text: str) -> AnnFile:
    """Read one ``.ann`` file, checking every span against ``text``."""
    ann = AnnFile(path=path)
    for lineno, line in _lines(path):
        where = f"{path}:{lineno}"
        kind = line[:1]
        if not line.strip():
            continue
        if kind == "T":
            span = _text_bound(line, text, where, lineno)
            if span.id in ann.spans:
                raise ToolkitError(f"{where}: id {span.id} is used twice; give each annotation its own id")
            if span.type not in SPAN_TYPES:
                ann.warnings.append(f"{where}: span type {span.type!r} is not part of the attribution scheme; skipped")
            ann.spans[span.id] = span
        elif kind == "E":
            ann.events.append(_event(line, where, lineno))
        elif kind in UNSUPPORTED_LINES:
            ann.warnings.append(f"{where}: BRAT {UNSUPPORTED_LINES[kind]} line not imported; skipped")
        else:
            raise ToolkitError(
                f"{where}: unknown line type {line[:12]!r}; BRAT lines start with T, E, R, A, M, N, * or #"
            )
    return ann


def _lines(path: Path) -> Iterable[tuple[int, str]]:
    # Split on "\n" only: str.splitlines would also split at U+2028 etc. inside span texts.
    # A trailing "\r" is dropped so .ann files saved with CRLF line ends still read.
    for lineno, line in enumerate(read_text(path).split("\n"), start=1):
        yield lineno, line.removesuffix("\r")


def _text_bound(line: str, text: str, where: str, lineno: int) -> TextBound:
    m = _T_LINE.fullmatch(line)
    if m is None:
        raise ToolkitError(
            f"{where}: malformed span line; expected 'T<n><TAB><Type> <start> <end>[;<start> <end>]<TAB><text>'"
        )
    tid, type_, offsets, ann_text = m.groups()
    fragments = tuple(tuple(int(n) for n in piece.split()) for piece in offsets.split(";"))
    for start, end in fragments:
        if not 0 <= start < end <= len(text):
            raise ToolkitError(
                f"{where}: {tid} offsets {start} {end} are empty or past the article's {len(text)} code points; "
                "fix the offsets or use the matching article text"
            )
    # BRAT writes a discontiguous span's text as its pieces joined by single spaces.
    covered = " ".join(text[start:end] for start, end in fragments)
    if covered != ann_text:
        raise ToolkitError(
            f"{where}: {tid} says {short(ann_text)} but the article has {short(covered)} at {offsets}; "
            "the .ann does not belong to this text or its offsets are not code points"
        )
    return TextBound(id=tid, type=type_, fragments=fragments, line=lineno)  # type: ignore[arg-type]


def _event(line: str, where: str, lineno: int) -> Event:
    m = _E_LINE.fullmatch(line)
    if m is None:
        raise ToolkitError(f"{where}: malformed event line; expected 'E<n><TAB><Type>:<T-id> <Role>:<T-id> ...'")
    eid, type_, trigger, rest = m.groups()
    arguments = tuple(tuple(arg.split(":")) for arg in rest.split())
    return Event(id=eid, type=type_, trigger=trigger, arguments=arguments, line=lineno)  # type: ignore[arg-type]


def to_document(ann: AnnFile, article: Article, annotator: str, quoted: list[bool] | None = None) -> AnnotatedDocument:
    """The quotes, mentions and entities of one ``.ann`` file (see the module docstring)."""
    quoted = quoted_mask(article.text) if quoted is None else quoted
    text = article.text
    entities: dict[str, Entity] = {}
    mentions: dict[str, Mention] = {}
    quotes: list[Quote] = []
    for event in ann.events:
        where = f"{ann.path}:{event.line}"
        if event.type not in EVENT_TYPES:
            ann.warnings.append(f"{where}: event type {event.type!r} is not an attribution; skipped")
            continue
        _require(ann, event.trigger, where, EVENT_TYPES)
        parts: dict[str, list[TextBound]] = {SOURCE: [], CUE: [], CONTENT: []}
        for role, ref in event.arguments:
            role_match = _ROLE.fullmatch(role)
            if role_match is None:
                ann.warnings.append(f"{where}: role {role!r} is not Source, Cue or Content; argument skipped")
                continue
            parts[role_match.group(1)].append(_require(ann, ref, where, (role_match.group(1),)))
        if not parts[CONTENT]:
            ann.warnings.append(f"{where}: event {event.id} has no Content; skipped")
            continue
        content = sorted((Span.of(text, s, e) for t in parts[CONTENT] for s, e in t.fragments), key=lambda s: s.start)
        cue = _single(ann, parts[CUE], text, where, "cue")
        mention_id = entity_id = None
        if parts[SOURCE]:
            source = parts[SOURCE][0]
            span = _single(ann, parts[SOURCE], text, where, "source")
            assert span is not None
            entity = _entity_for(span.text, entities)
            mentions.setdefault(source.id, Mention(id=source.id, span=span, entity_id=entity.id))
            mention_id, entity_id = source.id, mentions[source.id].entity_id
        quotes.append(
            _quote(ann, event, where, content, cue, mention_id, entity_id, kind_from_marks(content, text, quoted))
        )
    return imported_document(f"{ann.path}: ", article, annotator, list(entities.values()),
                             sorted(mentions.values(), key=lambda m: m.span.start), quotes)


def _quote(ann: AnnFile, event: Event, where: str, content: list[Span], cue: Span | None, mention_id: str | None,
           entity_id: str | None, kind: QuoteKind) -> Quote:
    try:
        return Quote(id=event.id, kind=kind, content=content, cue=cue, speaker_mention_id=mention_id,
                     speaker_entity_id=entity_id)
    except ValidationError as e:
        raise ToolkitError(f"{where}: event {event.id}: {first_error(e)}; fix the Content spans") from None


def _require(ann: AnnFile, ref: str, where: str, types: tuple[str, ...]) -> TextBound:
    span = ann.spans.get(ref)
    if span is None:
        raise ToolkitError(f"{where}: {ref} is not defined in this file; add its T line or fix the reference")
    if span.type not in types:
        raise ToolkitError(f"{where}: {ref} is a {span.type} span, not {' or '.join(types)}; fix the reference")
    return span


def _single(ann: AnnFile, spans: list[TextBound], text: str, where: str, what: str) -> Span | None:
    """One span for a role the schema holds once (cue, speaker mention): the first piece of the first."""
    if not spans:
        return None
    if len(spans) > 1:
        ann.warnings.append(f"{where}: more than one {what}; kept {spans[0].id}, skipped the others")
    first = spans[0]
    if len(first.fragments) > 1:
        ann.warnings.append(f"{where}: {what} {first.id} is discontiguous; kept its first piece only")
    start, end = first.fragments[0]
    return Span.of(text, start, end)


def _entity_for(source_text: str, entities: dict[str, Entity]) -> Entity:
    entity_id = slugify(source_text)
    if entity_id not in entities:
        entities[entity_id] = Entity(id=entity_id, name=entity_name(source_text), type=guess_entity_type(source_text))
    return entities[entity_id]


