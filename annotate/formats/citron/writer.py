"""Annotated documents -> Citron JSON (``documents_to_citron``), and the files it is written to.

Each quote with a cue is written as that quote, its speaker mention as the one source, and - when
that mention's text is not the entity's name - the earliest mention carrying the name as its
coreference; every entity with two or more mentions, or with a mention that no quote uses, becomes a
coreference group. What Citron cannot hold (quotes without a cue, a speaker without a mention,
stances, claims, entity names, types and Wikidata ids that a re-import would not recover, quote kinds
that differ from the inferred ones) is reported as a warning: each object is imported again
(``reader.citron_to_documents``) and compared with its document.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from annotate.extract.entities import slugify
from annotate.formats.citron.reader import citron_to_documents
from annotate.formats.citron.wire import CitronDocument, CitronQuote, CitronSpan
from annotate.formats.shared import entity_name
from schemas import AnnotatedDocument, Mention, Span, ToolkitError
from schemas.files import write_atomically


def documents_to_citron(docs: Iterable[AnnotatedDocument], *, warnings: list[str] | None = None) -> list[dict]:
    """One Citron object per document; what Citron cannot hold is appended to ``warnings``."""
    sink = [] if warnings is None else warnings
    out = []
    for doc in docs:
        obj = _to_wire(doc, sink).model_dump(exclude_none=True)
        try:
            [again] = citron_to_documents(obj)
        except ToolkitError as e:  # e.g. a mention without letters, which no entity can be named after
            raise ToolkitError(f"{_label(doc)}: the Citron export would not import again: {e}") from None
        _report_changes(doc, again, sink)
        out.append(obj)
    return out


def _to_wire(doc: AnnotatedDocument, warnings: list[str]) -> CitronDocument:
    label = _label(doc)
    mentions = {m.id: m for m in doc.mentions}
    names = {e.id: e.name for e in doc.entities}
    by_entity: dict[str, list[Mention]] = {}
    for m in sorted(doc.mentions, key=lambda m: (m.span.start, m.span.end)):
        by_entity.setdefault(m.entity_id, []).append(m)
    used: set[str] = set()
    quotes = []
    for q in doc.quotes:
        if q.cue is None:
            warnings.append(f"{label}: quote {q.id} has no cue, which Citron requires; not exported")
            continue
        sources, corefs = [], []
        if q.speaker_mention_id is not None:
            mention = mentions[q.speaker_mention_id]
            sources.append(mention.span)
            used.add(mention.id)
            name = names[mention.entity_id]
            if entity_name(mention.span.text) != name:
                # Like Citron's resolver: the earliest mention that carries the entity's name.
                named = next((m for m in by_entity[mention.entity_id] if entity_name(m.span.text) == name), None)
                if named is not None:
                    corefs.append(named.span)
                    used.add(named.id)
        elif q.speaker_entity_id is not None:
            warnings.append(f"{label}: quote {q.id}: speaker {q.speaker_entity_id} has no mention in the text, "
                            "and a Citron source must be a span; exported without a source")
        quotes.append(CitronQuote(id=q.id, cue=_wire_span(q.cue), sources=[_wire_span(s) for s in sources],
                                  coreferences=[_wire_span(s) for s in corefs],
                                  contents=[_wire_span(s) for s in q.content]))
    groups = [[_wire_span(m.span) for m in ms] for ms in sorted(by_entity.values(), key=lambda ms: ms[0].span.start)
              if len(ms) > 1 or ms[0].id not in used]
    for entity in doc.entities:
        if entity.id not in by_entity:
            warnings.append(f"{label}: entity {entity.id} has no mention, and Citron holds entities only as "
                            "spans; not exported")
    for what, items in (("stance", doc.stances), ("claim", doc.claims)):
        if items:
            warnings.append(f"{label}: {len(items)} {what}(s) not exported: Citron has quotes only")
    return CitronDocument(id=doc.article.id, annotator=doc.provenance.annotator, text=doc.article.text, quotes=quotes,
                          coreference_groups=groups or None)


def _wire_span(span: Span) -> CitronSpan:
    return CitronSpan(start=span.start, end=span.end, text=span.text)


def _label(doc: AnnotatedDocument) -> str:
    return f"{doc.article.id} ({doc.provenance.annotator})"


def _report_changes(doc: AnnotatedDocument, again: AnnotatedDocument, warnings: list[str]) -> None:
    """Warn about what a re-import of the export would change: what Citron cannot carry."""
    label = _label(doc)
    new_entity_of = {(m.span.start, m.span.end): m.entity_id for m in again.mentions}
    new_entities = {e.id: e for e in again.entities}
    for entity in doc.entities:
        spans = [(m.span.start, m.span.end) for m in doc.mentions if m.entity_id == entity.id]
        if not spans:
            continue
        new = new_entities[new_entity_of[spans[0]]]
        old_view = (entity.id, entity.name, entity.type.value, entity.wikidata)
        new_view = (new.id, new.name, new.type.value, new.wikidata)
        if old_view != new_view:
            warnings.append(f"{label}: entity {_view(old_view)} comes back as {_view(new_view)}: Citron keeps only "
                            "mention spans; the name is re-derived from the longest mention, the type guessed")
    new_quotes = {q.id: q for q in again.quotes}
    for q in doc.quotes:
        new_q = new_quotes.get(q.id)
        if new_q is not None and new_q.kind != q.kind:
            warnings.append(f"{label}: quote {q.id}: kind {q.kind.value} comes back as {new_q.kind.value}: Citron has "
                            "no kinds, they are inferred from quotation marks")


def _view(v: tuple[str, str, str, str | None]) -> str:
    return f"{v[0]} ({v[1]!r}, {v[2]}{', ' + v[3] if v[3] else ''})"


def write_citron(objects: list[dict], out: Path) -> list[Path]:
    """``.jsonl``: one object per line; ``.json``: one document; an existing folder: one .json per document
    (``<article id>.<annotator>.json``, which Citron reads as a corpus). Each file written whole."""
    if out.is_dir():
        files: dict[Path, dict] = {}
        for obj in objects:
            path = out / f"{obj['id']}.{slugify(obj['annotator'])}.json"
            if path in files:
                raise ToolkitError(f"{path}: two documents of article {obj['id']} by annotators named alike; "
                                   "export them to separate folders")
            files[path] = obj
        for path, obj in files.items():
            write_atomically(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")
        return list(files)
    if out.suffix == ".jsonl":
        write_atomically(out, "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects))
    elif out.suffix == ".json":
        if len(objects) != 1:
            raise ToolkitError(f"{out}: a Citron .json file holds one document, {len(objects)} were given; "
                               "write a .jsonl or into an existing folder")
        write_atomically(out, json.dumps(objects[0], ensure_ascii=False, indent=2) + "\n")
    else:
        raise ToolkitError(f"{out}: not a .json, .jsonl or existing folder; choose one of those")
    return [out]
