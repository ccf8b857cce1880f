"""Citron JSON -> annotated documents, from parsed objects or from files (``import_citron``).

- each quote becomes a ``Quote`` (id from ``id``, else ``q<index>``): contents sorted into text
  order, the cue, and its first source (in text order) as the speaker mention; the kind comes from
  quotation marks, as in the BRAT importer (all letters quoted: direct, some: mixed, none: indirect);
- every source, quote coreference and coreference-group member becomes a ``Mention``
  (id ``m<start>-<end>``, one per distinct span). A quote with one source and one coreference,
  and each coreference group, say their spans are one entity; the entity is named by its longest
  quote coreference (the name Citron resolved the source to), else by its longest mention, ties
  to the earliest, with ``schemas.entity_id_for`` giving its id (so equal names are one entity)
  and the type guessed from the name. A quote with several sources or coreferences keeps the
  first source as speaker and imports the other spans as mentions of their own (with a warning):
  the schema has one speaker per quote;
- confidence scores are dropped (with a warning): a document has no place for them.

The format itself is described in ``annotate.formats.citron``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from annotate.extract.entities import guess_entity_type
from annotate.extract.quotemarks import kind_from_marks, quoted_mask
from annotate.formats.citron.wire import DEFAULT_ANNOTATOR, FORMAT_DOC, CitronDocument, CitronQuote, CitronSpan
from annotate.formats.shared import entity_name, imported_document, short
from schemas import AnnotatedDocument, Article, Entity, Mention, Quote, Span, ToolkitError, entity_id_for, sha256_of
from schemas.errors import first_error
from schemas.files import read_text
from schemas.models import Id

_ID = TypeAdapter(Id)
_MAX_ID = 200  # schemas.models.Id max_length


@dataclass(frozen=True)
class CitronImport:
    documents: list[AnnotatedDocument]
    warnings: list[str]


def citron_to_documents(obj: object, *, article_id: str | None = None, annotator: str = DEFAULT_ANNOTATOR,
                        warnings: list[str] | None = None) -> list[AnnotatedDocument]:
    """Documents from one Citron object or a list of them (e.g. the parsed lines of a JSONL).

    The article id is the object's ``id``, else ``article_id`` (one object only), else the first
    16 hex digits of the text's SHA-256. Warnings (dropped details) are appended to ``warnings``.
    """
    sink = [] if warnings is None else warnings
    if isinstance(obj, list):
        if article_id is not None:
            raise ToolkitError(f"article_id names one document but {len(obj)} were given; "
                               'put an "id" field in each instead')
        return [_to_document(item, f"document {n}: ", None, annotator, sink) for n, item in enumerate(obj)]
    return [_to_document(obj, "", article_id, annotator, sink)]


def import_citron(path: Path, *, article_id: str | None = None, annotator: str = DEFAULT_ANNOTATOR) -> CitronImport:
    """Every document in a Citron file (.json: one object or a list; .jsonl) or a folder of .json files.

    A lone object without ``id`` takes ``article_id``, else its file name when that is a valid id.
    """
    entries = load_citron(path)
    if article_id is not None and len(entries) != 1:
        raise ToolkitError(f"{path}: --id names one document but this holds {len(entries)}; "
                           'put an "id" field in each document instead')
    warnings: list[str] = []
    documents = [_to_document(obj, where, article_id or default_id, annotator, warnings)
                 for where, obj, default_id in entries]
    return CitronImport(documents=documents, warnings=warnings)


def load_citron(path: Path) -> list[tuple[str, object, str | None]]:
    """``(where, parsed object, default article id)`` for each document in a file or folder."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
        if not files:
            raise ToolkitError(f"{path}: no .json files found; give a Citron .json/.jsonl file or a folder of them")
        return [entry for file in files for entry in _load_file(file)]
    return _load_file(path)


def _load_file(path: Path) -> list[tuple[str, object, str | None]]:
    raw = read_text(path)
    if path.suffix == ".jsonl":
        # Split on "\n" only: str.splitlines would also split at U+2028 or U+0085 inside a text,
        # which JSON writers (ensure_ascii=False) leave unescaped.
        entries = []
        for lineno, line in enumerate(raw.split("\n"), start=1):
            if line.strip():
                entries.append((f"{path}:{lineno}: ", _parse_json(line, f"{path}:{lineno}"), None))
        if not entries:
            raise ToolkitError(f"{path}: empty; expected one Citron JSON object per line")
        return entries
    data = _parse_json(raw, str(path))
    if isinstance(data, list):
        return [(f"{path}: document {n}: ", item, None) for n, item in enumerate(data)]
    return [(f"{path}: ", data, path.stem if _valid_id(path.stem) else None)]


def _parse_json(raw: str, where: str) -> object:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as e:
        line = f":{e.lineno}" if "\n" in raw else ""
        raise ToolkitError(f"{where}{line}: invalid JSON ({e.msg}, column {e.colno}); fix the file") from None


def _to_document(obj: object, where: str, default_id: str | None, annotator: str,
                 warnings: list[str]) -> AnnotatedDocument:
    if not isinstance(obj, dict):
        raise ToolkitError(f'{where}expected a JSON object with "text" and "quotes", got {type(obj).__name__}')
    _refuse_extractor_output(obj, where)
    try:
        wire = CitronDocument.model_validate(obj)
    except ValidationError as e:
        raise ToolkitError(where + _wire_error(e)) from None
    return _Builder(wire, where, warnings).document(default_id, annotator)


def _refuse_extractor_output(obj: dict[str, Any], where: str) -> None:
    source = obj.get("source")
    if "text" not in obj and "quotes" in obj and isinstance(source, dict) and "application" in source:
        raise ToolkitError(
            f"{where}this is Citron extractor output ({source.get('application')}): it has no text and its "
            "start/end are spaCy token indices, not characters; give Citron's annotation format instead "
            f"(text plus character-offset spans, {FORMAT_DOC})"
        )


def _wire_error(e: ValidationError) -> str:
    err = e.errors()[0]
    path = _path(err["loc"])
    if err["type"] == "missing":
        return f"{path}: missing; every document needs text and quotes, every quote cue, sources and contents, " \
               f"every span start, end and text ({FORMAT_DOC})"
    got = repr(err["input"])
    got = got if len(got) <= 40 else got[:40] + "..."
    return f"{path}: {err['msg'].lower()}, got {got}; fix the value ({FORMAT_DOC})"


def _path(loc: Sequence[int | str]) -> str:
    """``("quotes", 2, "cue", "start")`` -> ``quotes[2].cue.start``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def _valid_id(value: object) -> bool:
    try:
        _ID.validate_python(value)
    except ValidationError:
        return False
    return True


class _Builder:
    """One Citron object -> one document; ``where`` prefixes every error and warning."""

    def __init__(self, wire: CitronDocument, where: str, warnings: list[str]) -> None:
        self.wire, self.where, self.warnings = wire, where, warnings
        self.text = wire.text
        self.spans: dict[tuple[int, int], Span] = {}  # every mention span, by offsets
        self.parent: dict[tuple[int, int], tuple[int, int]] = {}  # union-find over mention spans
        self.naming: set[tuple[int, int]] = set()  # quote coreferences: the names Citron resolved to

    def document(self, default_id: str | None, annotator: str) -> AnnotatedDocument:
        wire, where = self.wire, self.where
        article = self._article(default_id)
        pending = [self._quote(n, q) for n, q in enumerate(wire.quotes)]
        first_use: dict[str, int] = {}
        for n, (quote_id, *_) in enumerate(pending):
            if quote_id in first_use:
                raise ToolkitError(f"{where}quotes[{n}].id: {quote_id!r} is already the id of "
                                   f"quotes[{first_use[quote_id]}]; give each quote its own id")
            first_use[quote_id] = n
        for g, group in enumerate(wire.coreference_groups or []):
            keys = [self._mention_span(s, f"coreference_groups[{g}][{n}]") for n, s in enumerate(group)]
            for key in keys[1:]:
                self._union(keys[0], key)
        entity_of, entities = self._entities()
        quoted = quoted_mask(self.text)
        quotes = []
        for n, (quote_id, content, cue, speaker) in enumerate(pending):
            speaker_entity = entity_of[speaker] if speaker else None
            try:
                kind = kind_from_marks(content, self.text, quoted)
                quotes.append(Quote(id=quote_id, kind=kind, content=content, cue=cue,
                                    speaker_mention_id=_mention_id(speaker) if speaker else None,
                                    speaker_entity_id=speaker_entity))
            except ValidationError as e:
                raise ToolkitError(f"{where}quotes[{n}].contents: {first_error(e).removeprefix('content: ')}") from None
        if any(q.confidence is not None for q in wire.quotes):
            self.warnings.append(f"{where}confidence scores are not imported (a document has no place for them)")
        self.warnings += [f"{where}{key}: unknown key, ignored" for key in _unknown_keys(wire)]
        mentions = [Mention(id=_mention_id(key), span=self.spans[key], entity_id=entity_of[key])
                    for key in sorted(self.spans)]
        return imported_document(where, article, wire.annotator or annotator, entities, mentions, quotes)

    def _article(self, default_id: str | None) -> Article:
        text, where = self.text, self.where
        if not text:
            raise ToolkitError(f"{where}text: empty; a Citron document needs its article text")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ToolkitError(f"{where}text: lone UTF-16 surrogate at code point {e.start}; "
                               "fix the \\u escapes so each pair encodes one character") from None
        article_id = self.wire.id if self.wire.id is not None else default_id or sha256_of(text)[:16]
        if not _valid_id(article_id):
            raise ToolkitError(f"{where}id: {article_id!r} is not a valid article id; use letters, digits and "
                               "._:@+- (starting with a letter or digit), at most 200 characters")
        if self.wire.annotator == "":
            raise ToolkitError(f"{where}annotator: empty; name the annotator or remove the key")
        return Article.from_text(article_id, text)

    def _quote(self, n: int, q: CitronQuote) -> tuple[str, list[Span], Span, tuple[int, int] | None]:
        p = f"quotes[{n}]"
        if not q.contents:
            raise ToolkitError(f"{self.where}{p}.contents: empty; a quote needs at least one content span")
        content = sorted((self._span(s, f"{p}.contents[{j}]") for j, s in enumerate(q.contents)),
                         key=lambda s: (s.start, s.end))
        cue = self._span(q.cue, f"{p}.cue")
        sources = [self._mention_span(s, f"{p}.sources[{j}]") for j, s in enumerate(q.sources)]
        corefs = [self._mention_span(s, f"{p}.coreferences[{j}]") for j, s in enumerate(q.coreferences or [])]
        if len(sources) == 1 and len(corefs) == 1:
            self._union(sources[0], corefs[0])
            # Citron only resolves a source to a different name; the same text names nothing new.
            if entity_name(self.spans[corefs[0]].text) != entity_name(self.spans[sources[0]].text):
                self.naming.add(corefs[0])
        elif len(sources) > 1 or corefs:
            self.warnings.append(
                f"{self.where}{p}: {len(sources)} source(s) and {len(corefs)} coreference(s); the schema has one "
                "speaker per quote: the first source is the speaker, the other spans are mentions of their own"
            )
        return self._quote_id(n, q.id), content, cue, min(sources, default=None)

    def _quote_id(self, n: int, raw: object) -> str:
        if raw is None:
            return f"q{n}"
        if isinstance(raw, bool) or not isinstance(raw, str | int) or not _valid_id(str(raw)):
            raise ToolkitError(f"{self.where}quotes[{n}].id: {raw!r} is not a valid quote id; use a string of "
                               "letters, digits and ._:@+- (or an integer), or remove it")
        return str(raw)

    def _span(self, s: CitronSpan, path: str) -> Span:
        text, where = self.text, self.where
        if not 0 <= s.start < s.end <= len(text):
            raise ToolkitError(
                f"{where}{path}: offsets [{s.start}, {s.end}) are empty, reversed or outside the text's {len(text)} "
                "code points; Citron offsets are code points with an exclusive end"
            )
        covered = text[s.start : s.end]
        if covered != s.text:
            raise ToolkitError(f"{where}{path}: says {short(s.text)} but the text has {short(covered)} at "
                               f"[{s.start}, {s.end}); {_offset_hint(text, s)}")
        return Span(start=s.start, end=s.end, text=covered)

    def _mention_span(self, s: CitronSpan, path: str) -> tuple[int, int]:
        span = self._span(s, path)
        name = entity_name(span.text)
        try:
            slug = entity_id_for(name)
        except ValueError:
            raise ToolkitError(f"{self.where}{path}: {short(span.text)} has no letters or digits to name an "
                               "entity; mark the words that refer to the speaker") from None
        if len(slug) > _MAX_ID:
            raise ToolkitError(f"{self.where}{path}: {short(span.text)} is too long to name an entity "
                               f"(over {_MAX_ID} characters); mark only the name or phrase")
        key = (span.start, span.end)
        self.spans[key] = span
        self.parent.setdefault(key, key)
        return key

    # A dozen lines of union-find: the clusters are tiny, no graph library is worth importing for them.
    def _find(self, key: tuple[int, int]) -> tuple[int, int]:
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def _union(self, a: tuple[int, int], b: tuple[int, int]) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def _name(self, keys: Iterable[tuple[int, int]]) -> str:
        """The cluster's name: its longest quote coreference, else its longest mention; ties to the earliest."""
        keys = list(keys)
        candidates = [k for k in keys if k in self.naming] or keys
        start, end = min(candidates, key=lambda k: (k[0] - k[1], k))
        return entity_name(self.text[start:end])

    def _entities(self) -> tuple[dict[tuple[int, int], str], list[Entity]]:
        clusters: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for key in sorted(self.spans):
            clusters.setdefault(self._find(key), []).append(key)
        # Clusters whose names give the same id are one entity, as the slug convention says. The
        # merged cluster's name keeps that id: it is one of the merged clusters' names.
        by_id: dict[str, list[tuple[int, int]]] = {}
        for keys in clusters.values():
            by_id.setdefault(entity_id_for(self._name(keys)), []).extend(keys)
        entity_of: dict[tuple[int, int], str] = {}
        entities = []
        for entity_id, keys in sorted(by_id.items(), key=lambda item: min(item[1])):
            name = self._name(keys)
            entities.append(Entity(id=entity_id, name=name, type=guess_entity_type(name)))
            entity_of.update(dict.fromkeys(keys, entity_id))
        return entity_of, entities


def _mention_id(key: tuple[int, int]) -> str:
    return f"m{key[0]}-{key[1]}"


def _unknown_keys(wire: CitronDocument) -> list[str]:
    found = [key for key in wire.model_extra or {}]
    for n, q in enumerate(wire.quotes):
        found += [f"quotes[{n}].{key}" for key in q.model_extra or {}]
        spans = [("cue", q.cue)] + [(f"{field}[{j}]", s) for field in ("sources", "coreferences", "contents")
                                    for j, s in enumerate(getattr(q, field) or [])]
        found += [f"quotes[{n}].{path}.{key}" for path, s in spans for key in s.model_extra or {}]
    for g, group in enumerate(wire.coreference_groups or []):
        found += [f"coreference_groups[{g}][{j}].{key}" for j, s in enumerate(group) for key in s.model_extra or {}]
    return found


def _offset_hint(text: str, s: CitronSpan) -> str:
    """How to fix a span whose text differs; names UTF-16 offsets when that is what they are."""
    units = text.encode("utf-16-le")
    if s.end * 2 <= len(units) and units[s.start * 2 : s.end * 2].decode("utf-16-le", "replace") == s.text:
        return ("the offsets count UTF-16 code units (as JavaScript or Tk do); convert them to code points, "
                "where an emoji counts 1")
    return "the offsets must be code points over this exact text (\\r\\n counts 2); fix the span or the text"
