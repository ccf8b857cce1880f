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

PolNeAR's two other span labels. Neither its README nor its guidelines define them (the BRAT
configuration that declared them is not published); what they mean is read from the data, and
PolNeAR's own reader (``parc-reader``) skips both and takes a span's role from the event that
uses it, not from the span's label:
- ``Discard`` marks text outside the scheme's scope: bylines, editors' notes, datelines,
  "Follow ... on Twitter", lists of related links. No Discard span overlaps an attribution span
  in any compartment. Each one becomes an ``OutOfScope`` of the document (id = its T id, label
  ``"Discard"``), so the text stays marked as deliberately unannotated.
- ``Discuss`` is an annotator's flag for the weekly review meetings the README describes: more
  than half lie on attribution spans, the rest on text left unannotated, and in one place (train)
  an event uses a Discuss span as its ``Cue``. Flags no event uses are skipped (one warning each).
- Which role a span plays: a Source, Cue or Content label decides, even where the event's arc
  names another role. BRAT lets a span be relabelled after the event's arcs are drawn, so the
  label is the annotator's later choice; train has one such event (E50 of
  ``nyt_2016-07-15_latest-poll-has-trump-pulling-ev_d473``: Source and Content arcs swapped, the
  labels as in the parallel E51). A label outside the scheme (Discuss, Discard, anything else)
  takes the event's role. Both are imported with a warning; an ``Attribution`` span as an
  argument, or a Source, Cue or Content span as an event's trigger, is an error.

``BratImport.labels`` tallies per label what became of every span (imported as content, cue or
source; an event's trigger; kept out of scope; skipped, with a warning for each), so the report
shows that nothing is lost silently.

The out-of-scope marks are for readers of the imported documents; the Label Studio encoder and
decoder, the dataset rows and the comparison core ignore them.

Problems: a line that cannot be read (unknown line type, bad offsets, span text that differs
from the article, a reference to a missing id) raises ``ToolkitError`` naming ``file:line``.
A well-formed line that this scheme does not use (``#`` notes, attributes ``A``/``M``, relations
``R``, normalisations ``N``, equivalences ``*``, spans no event uses, unknown event roles, events
without content) is skipped and reported as a warning naming ``file:line``, so a whole corpus
imports while nothing is dropped silently.

Files are read as bytes and decoded as UTF-8, with no newline translation: offsets are code
points of the stored text. A span whose text holds line breaks is written over several lines of
the ``.ann`` file (PolNeAR's train has three); its continuation lines are read as its text.
"""

from __future__ import annotations

import re
from collections import Counter
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
from schemas.models import OutOfScope

SOURCE, CUE, CONTENT = "Source", "Cue", "Content"
EVENT_TYPES = ("Attribution", "Attribution-no-source")
SPAN_TYPES = (SOURCE, CUE, CONTENT, *EVENT_TYPES)
OUT_OF_SCOPE_TYPES = ("Discard",)
UNSUPPORTED_LINES = {"#": "note", "A": "attribute", "M": "attribute", "R": "relation", "N": "normalisation",
                     "*": "equivalence"}

# What became of a span, strongest first: a span several events use counts once, as its strongest use.
IMPORTED_AS = {CONTENT: "imported as content", CUE: "imported as cue", SOURCE: "imported as source"}
TRIGGER = "trigger of an imported attribution"
OUT_OF_SCOPE = "kept as out-of-scope"
EXTRA = "extra {role} of an attribution (skipped, listed)"
UNKNOWN_ROLE = "under an unknown role (skipped, listed)"
SKIPPED_EVENT = "in a skipped event (skipped, listed)"
UNREFERENCED = "unreferenced (skipped, listed)"
_RANK = [*IMPORTED_AS.values(), TRIGGER, OUT_OF_SCOPE]

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
    """What one ``.ann`` file says, already checked against its article's text; ``to_document`` fills
    ``outcomes`` (T id -> what became of the span) and adds its warnings."""

    path: Path
    spans: dict[str, TextBound] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    notes: list[tuple[int, str]] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)

    def warn(self, line: int, message: str) -> None:
        self.notes.append((line, f"{self.path}:{line}: {message}"))

    @property
    def warnings(self) -> list[str]:
        """The warnings in line order."""
        return [message for _, message in sorted(self.notes, key=lambda note: note[0])]

    def mark(self, span_id: str, outcome: str) -> None:
        """Record what became of a span; a stronger use (see ``_RANK``) wins over a weaker one."""
        before = self.outcomes.get(span_id)
        if before is None or _rank(outcome) < _rank(before):
            self.outcomes[span_id] = outcome


def _rank(outcome: str) -> int:
    return _RANK.index(outcome) if outcome in _RANK else len(_RANK)


@dataclass(frozen=True)
class LabelTally:
    """What became of the spans of one BRAT label over the whole import."""

    label: str
    outcomes: dict[str, int]

    @property
    def spans(self) -> int:
        return sum(self.outcomes.values())

    def describe(self) -> str:
        """One line, e.g. ``Discuss: 663 spans: 662 unreferenced (skipped, listed), 1 imported as cue``."""
        parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items(), key=lambda o: -o[1]))
        return f"{self.label}: {self.spans} spans: {parts}"


@dataclass(frozen=True)
class BratImport:
    """The documents, the warnings (each naming ``file:line``) and, per label, what became of its spans."""

    documents: list[AnnotatedDocument]
    warnings: list[str]
    labels: list[LabelTally] = field(default_factory=list)

    def label(self, name: str) -> LabelTally:
        """The tally of one label (empty when no span has it)."""
        return next((t for t in self.labels if t.label == name), LabelTally(name, {}))


def import_brat(directory: Path) -> BratImport:
    """Every ``.ann`` under ``directory`` as one document per article per annotator."""
    documents, warnings = [], []
    tally: Counter[tuple[str, str]] = Counter()
    articles: dict[Path, tuple[Article, list[bool]]] = {}
    for text_path, ann_path, annotator in find_pairs(directory):
        if text_path not in articles:
            article = _article(text_path)
            articles[text_path] = (article, quoted_mask(article.text))
        article, quoted = articles[text_path]
        ann = parse_ann(ann_path, article.text)
        documents.append(to_document(ann, article, annotator, quoted))
        warnings += ann.warnings
        tally.update((ann.spans[span_id].type, outcome) for span_id, outcome in ann.outcomes.items())
    labels: dict[str, dict[str, int]] = {}
    for (label, outcome), n in sorted(tally.items()):
        labels.setdefault(label, {})[outcome] = n
    return BratImport(documents=documents, warnings=warnings,
                      labels=[LabelTally(label, outcomes) for label, outcomes in labels.items()])


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
    lines = list(_lines(path))
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        lineno, where = index, f"{path}:{index}"
        kind = line[:1]
        if not line.strip():
            continue
        if kind == "T":
            span, continued = _text_bound(line, lines, index, text, where)
            index += continued
            if span.id in ann.spans:
                raise ToolkitError(f"{where}: id {span.id} is used twice; give each annotation its own id")
            ann.spans[span.id] = span
        elif kind == "E":
            ann.events.append(_event(line, where, lineno))
        elif kind in UNSUPPORTED_LINES:
            ann.warn(lineno, f"BRAT {UNSUPPORTED_LINES[kind]} line not imported; skipped")
        else:
            raise ToolkitError(
                f"{where}: unknown line type {line[:12]!r}; BRAT lines start with T, E, R, A, M, N, * or #"
            )
    return ann


def _lines(path: Path) -> Iterable[str]:
    # Split on "\n" only: str.splitlines would also split at U+2028 etc. inside span texts.
    # A trailing "\r" is dropped so .ann files saved with CRLF line ends still read.
    for line in read_text(path).split("\n"):
        yield line.removesuffix("\r")


def _text_bound(line: str, lines: list[str], after: int, text: str, where: str) -> tuple[TextBound, int]:
    """The span of a ``T`` line and how many of the ``lines`` from index ``after`` on continue its text."""
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
    # BRAT writes a discontiguous span's text as its pieces joined by single spaces, and the line
    # breaks inside a piece as they are, so such a span's text goes on over the next lines.
    covered = " ".join(text[start:end] for start, end in fragments)
    continued = covered.count("\n")
    if covered != ann_text and continued and "\n".join([ann_text, *lines[after : after + continued]]) == covered:
        ann_text = covered
    else:
        continued = 0
    if covered != ann_text:
        raise ToolkitError(
            f"{where}: {tid} says {short(ann_text)} but the article has {short(covered)} at {offsets}; "
            "the .ann does not belong to this text or its offsets are not code points"
        )
    return TextBound(id=tid, type=type_, fragments=fragments, line=after), continued  # type: ignore[arg-type]


def _event(line: str, where: str, lineno: int) -> Event:
    m = _E_LINE.fullmatch(line)
    if m is None:
        raise ToolkitError(f"{where}: malformed event line; expected 'E<n><TAB><Type>:<T-id> <Role>:<T-id> ...'")
    eid, type_, trigger, rest = m.groups()
    arguments = tuple(tuple(arg.split(":")) for arg in rest.split())
    return Event(id=eid, type=type_, trigger=trigger, arguments=arguments, line=lineno)  # type: ignore[arg-type]


def to_document(ann: AnnFile, article: Article, annotator: str, quoted: list[bool] | None = None) -> AnnotatedDocument:
    """The quotes, mentions, entities and out-of-scope text of one ``.ann`` file (see the module docstring)."""
    quoted = quoted_mask(article.text) if quoted is None else quoted
    text = article.text
    entities: dict[str, Entity] = {}
    mentions: dict[str, Mention] = {}
    quotes: list[Quote] = []
    for event in ann.events:
        where = f"{ann.path}:{event.line}"
        if event.type not in EVENT_TYPES:
            ann.warn(event.line, f"event type {event.type!r} is not an attribution; skipped")
            _mark_skipped(ann, event)
            continue
        trigger = _trigger(ann, event)
        parts: dict[str, list[TextBound]] = {SOURCE: [], CUE: [], CONTENT: []}
        for role, ref in event.arguments:
            role_match = _ROLE.fullmatch(role)
            if role_match is None:
                ann.warn(event.line, f"role {role!r} is not Source, Cue or Content; argument skipped")
                if ref in ann.spans:
                    ann.mark(ref, UNKNOWN_ROLE)
                continue
            taken_as, span = _argument(ann, event, role_match.group(1), ref)
            parts[taken_as].append(span)
        if not parts[CONTENT]:
            ann.warn(event.line, f"event {event.id} has no Content; skipped")
            _mark_skipped(ann, event)
            continue
        content = sorted((Span.of(text, s, e) for t in parts[CONTENT] for s, e in t.fragments), key=lambda s: s.start)
        cue = _single(ann, event, parts[CUE], text, CUE)
        mention_id = entity_id = None
        if parts[SOURCE]:
            source = parts[SOURCE][0]
            span = _single(ann, event, parts[SOURCE], text, SOURCE)
            assert span is not None
            entity = _entity_for(span.text, entities)
            mentions.setdefault(source.id, Mention(id=source.id, span=span, entity_id=entity.id))
            mention_id, entity_id = source.id, mentions[source.id].entity_id
        quotes.append(
            _quote(event, where, content, cue, mention_id, entity_id, kind_from_marks(content, text, quoted))
        )
        ann.mark(trigger.id, TRIGGER)
        for t in parts[CONTENT]:
            ann.mark(t.id, IMPORTED_AS[CONTENT])
    out_of_scope = _unused_spans(ann, text)
    return imported_document(f"{ann.path}: ", article, annotator, list(entities.values()),
                             sorted(mentions.values(), key=lambda m: m.span.start), quotes, out_of_scope)


def _unused_spans(ann: AnnFile, text: str) -> list[OutOfScope]:
    """The spans no imported attribution uses: out-of-scope marks kept, the others skipped with a warning."""
    out_of_scope = []
    for span in ann.spans.values():
        used = ann.outcomes.get(span.id)
        if span.type in OUT_OF_SCOPE_TYPES and _rank(used or "") > _rank(OUT_OF_SCOPE):  # no quote took it
            pieces = [Span.of(text, s, e) for s, e in sorted(span.fragments)]
            out_of_scope.append(OutOfScope(id=span.id, label=span.type, spans=pieces))
            ann.mark(span.id, OUT_OF_SCOPE)
        elif used is None:
            why = (f"{span.type} span {span.id} is used by no attribution" if span.type in SPAN_TYPES else
                   f"span type {span.type!r} is not part of the attribution scheme and no attribution uses {span.id}")
            ann.warn(span.line, f"{why}; skipped")
            ann.mark(span.id, UNREFERENCED)
    return sorted(out_of_scope, key=lambda o: o.spans[0].start)


def _mark_skipped(ann: AnnFile, event: Event) -> None:
    for ref in (event.trigger, *(ref for _, ref in event.arguments)):
        if ref in ann.spans:
            ann.mark(ref, SKIPPED_EVENT)


def _quote(event: Event, where: str, content: list[Span], cue: Span | None, mention_id: str | None,
           entity_id: str | None, kind: QuoteKind) -> Quote:
    try:
        return Quote(id=event.id, kind=kind, content=content, cue=cue, speaker_mention_id=mention_id,
                     speaker_entity_id=entity_id)
    except ValidationError as e:
        raise ToolkitError(f"{where}: event {event.id}: {first_error(e)}; fix the Content spans") from None


def _span(ann: AnnFile, event: Event, ref: str) -> TextBound:
    span = ann.spans.get(ref)
    if span is None:
        raise ToolkitError(f"{ann.path}:{event.line}: {ref} is not defined in this file; add its T line or fix the "
                           "reference")
    return span


def _trigger(ann: AnnFile, event: Event) -> TextBound:
    """The event's trigger: an ``Attribution`` span, or one with a label outside the scheme (warned)."""
    span = _span(ann, event, event.trigger)
    if span.type in SPAN_TYPES and span.type not in EVENT_TYPES:
        raise ToolkitError(f"{ann.path}:{event.line}: {span.id} is labelled {span.type}, not "
                           f"{' or '.join(EVENT_TYPES)}; fix the reference")
    if span.type not in SPAN_TYPES:
        ann.warn(event.line, f"{span.id} is labelled {span.type} but is the trigger of {event.id}; the event is "
                             "imported all the same")
    return span


def _argument(ann: AnnFile, event: Event, role: str, ref: str) -> tuple[str, TextBound]:
    """The role an argument is imported in, and its span.

    A Source, Cue or Content label decides (BRAT lets a span be relabelled after the event's arcs were
    drawn, so the label is the annotator's later choice); a label outside the scheme (Discuss, Discard)
    takes the event's role; an ``Attribution`` span as an argument is an error.
    """
    span = _span(ann, event, ref)
    if span.type == role:
        return role, span
    if span.type in IMPORTED_AS:
        ann.warn(event.line, f"{ref} is labelled {span.type} but is the {role} of {event.id}; imported as "
                             f"{span.type.lower()}, as its label says")
        return span.type, span
    if span.type in SPAN_TYPES:
        raise ToolkitError(f"{ann.path}:{event.line}: {ref} is labelled {span.type}, not {role}; fix the reference")
    ann.warn(event.line, f"{ref} is labelled {span.type} but is the {role} of {event.id}; imported as the quote's "
                         f"{role.lower()}")
    return role, span


def _single(ann: AnnFile, event: Event, spans: list[TextBound], text: str, role: str) -> Span | None:
    """One span for a role the schema holds once (cue, speaker mention): the first piece of the first."""
    if not spans:
        return None
    what = "cue" if role == CUE else "source"
    first, *others = spans
    if others:
        ann.warn(event.line, f"more than one {what}; kept {first.id}, skipped the others")
        for other in others:
            ann.mark(other.id, EXTRA.format(role=what))
    if len(first.fragments) > 1:
        ann.warn(event.line, f"{what} {first.id} is discontiguous; kept its first piece only")
    ann.mark(first.id, IMPORTED_AS[role])
    start, end = first.fragments[0]
    return Span.of(text, start, end)


def _entity_for(source_text: str, entities: dict[str, Entity]) -> Entity:
    entity_id = slugify(source_text)
    if entity_id not in entities:
        entities[entity_id] = Entity(id=entity_id, name=entity_name(source_text), type=guess_entity_type(source_text))
    return entities[entity_id]
