"""AnnotatedDocument lines read fast for ``annotate evaluate``, accepted and refused exactly as the model does.

Building an ``AnnotatedDocument`` costs about 60 µs a line, most of it pydantic making model instances and
calling the model's Python validators one object at a time. Here a line is validated by the model's own core
schema (``AnnotatedDocument.__pydantic_core_schema__``: every field, type, pattern and default as the models
declare them) with each model turned into a typed dict and the model validators (``RECHECKED``) taken out, so
pydantic's Rust JSON parser builds plain dicts; ``_consistent`` then does what those validators do (every span
``text[start:end] == span.text``, fragments in order, the text's sha256, unique ids, references that exist) in
one pass over the dict.

Whatever the fast path refuses goes to the model itself, which names the problem exactly as
``schemas.documents.iter_documents`` does (``file:line``); so the fast path accepts exactly what the model
accepts, and a bad line gives the same one-line ``ToolkitError``. If the schemas ever carry a validator that is
not re-checked here, or a construct this translation does not know, ``FAST`` is False and every line is
validated by the model (slower, never wrong).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import ValidationError
from pydantic_core import SchemaValidator, core_schema

from schemas import AnnotatedDocument, ToolkitError
from schemas.errors import first_error

# The model validators ``_consistent`` re-does (``__qualname__`` of each function in the core schema).
RECHECKED = frozenset({"AnnotatedDocument._consistent", "Article._hash_matches", "Span._length_matches",
                       "Quote._fragments_ordered", "OutOfScope._pieces_ordered"})
_FIELD_KEYS = {"type", "schema", "metadata", "serialization_exclude", "serialization_alias"}
_CONFIG_KEYS = {"extra_fields_behavior", "title"}


class _Untranslatable(Exception):
    """A part of the core schema whose typed-dict form this module does not know."""


def _plain(schema: Any, stripped: set[str]) -> Any:
    """The core schema with models as typed dicts and after-validators left out (their names in ``stripped``)."""
    if isinstance(schema, list):
        return [_plain(s, stripped) for s in schema]
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if kind == "function-after":
        stripped.add(getattr(schema["function"]["function"], "__qualname__", "?"))
        inner = _plain(schema["schema"], stripped)
        return {**inner, "ref": schema["ref"]} if "ref" in schema else inner
    if isinstance(kind, str) and kind.startswith("function-"):
        raise _Untranslatable(kind)
    if kind == "model":
        fields, config = schema["schema"], schema.get("config", {})
        if fields.get("type") != "model-fields" or set(config) - _CONFIG_KEYS or fields.get("computed_fields"):
            raise _Untranslatable(schema.get("ref"))
        typed = {}
        for name, field in fields["fields"].items():
            if set(field) - _FIELD_KEYS:
                raise _Untranslatable(name)
            typed[name] = core_schema.typed_dict_field(_plain(field["schema"], stripped),
                                                       required=field["schema"]["type"] != "default")
        return core_schema.typed_dict_schema(typed, extra_behavior=config.get("extra_fields_behavior"),
                                             ref=schema.get("ref"))
    return {k: v if k == "metadata" else _plain(v, stripped) for k, v in schema.items() if k != "serialization"}


def _validator() -> SchemaValidator | None:
    stripped: set[str] = set()
    try:
        schema = _plain(AnnotatedDocument.__pydantic_core_schema__, stripped)
    except _Untranslatable:
        return None
    return SchemaValidator(schema) if stripped == RECHECKED else None


_VALIDATOR = _validator()
FAST = _VALIDATOR is not None


def _unique(items: list[dict]) -> bool:
    return len(items) < 2 or len({item["id"] for item in items}) == len(items)


def _consistent(d: dict) -> bool:
    """What the model validators check (``RECHECKED``), on the typed dict; False at the first problem.

    A span lies on the text iff it covers its own length and the text has its text there
    (``startswith`` compares in place); that also gives ``end - start == len(text) > 0``, the span's own check.
    """
    article = d["article"]
    text = article["text"]
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != article["sha256"]:
        return False
    size, on_text = len(text), text.startswith
    entities, mentions, quotes, stances, claims = d["entities"], d["mentions"], d["quotes"], d["stances"], d["claims"]
    if not (_unique(entities) and _unique(mentions) and _unique(quotes) and _unique(stances) and _unique(claims)
            and _unique(d["out_of_scope"])):
        return False
    entity_ids = {e["id"] for e in entities}
    entity_of = {}
    for m in mentions:
        span = m["span"]
        start, end, covered = span["start"], span["end"], span["text"]
        if end > size or end - start != len(covered) or not on_text(covered, start) or m["entity_id"] not in entity_ids:
            return False
        entity_of[m["id"]] = m["entity_id"]
    for q in quotes:
        before = 0
        for span in q["content"]:
            start, end, covered = span["start"], span["end"], span["text"]
            if start < before or end > size or end - start != len(covered) or not on_text(covered, start):
                return False
            before = end
        cue = q["cue"]
        if cue is not None:
            start, end, covered = cue["start"], cue["end"], cue["text"]
            if end > size or end - start != len(covered) or not on_text(covered, start):
                return False
        mention, entity = q["speaker_mention_id"], q["speaker_entity_id"]
        if mention is not None and (mention not in entity_of or entity not in (None, entity_of[mention])):
            return False
        if entity is not None and entity not in entity_ids:
            return False
    if stances:
        quote_ids = {q["id"] for q in quotes}
        for s in stances:
            if s["holder_entity_id"] not in entity_ids or not quote_ids.issuperset(s["evidence"]):
                return False
    for c in claims:
        span = c["span"]
        start, end, covered = span["start"], span["end"], span["text"]
        if end > size or end - start != len(covered) or not on_text(covered, start):
            return False
        if c["claimant_entity_id"] is not None and c["claimant_entity_id"] not in entity_ids:
            return False
    for o in d["out_of_scope"]:
        before = 0
        for span in o["spans"]:
            start, end, covered = span["start"], span["end"], span["text"]
            if start < before or end > size or end - start != len(covered) or not on_text(covered, start):
                return False
            before = end
    return True


def document_dict(doc: AnnotatedDocument) -> dict:
    """A validated document as the dict the fast path makes of its line (what ``exports.evaluation_units`` reads)."""
    return doc.model_dump()


def fast_document(raw: bytes) -> dict | None:
    """The document dict of a line the fast path accepts; None for any other line (the model decides those)."""
    if _VALIDATOR is None:
        return None
    try:
        d = _VALIDATOR.validate_json(raw)
    except ValueError:  # pydantic's ValidationError is a ValueError
        return None
    return d if _consistent(d) else None


def read_line(raw: bytes, path: object, lineno: int, offset: int) -> dict | None:
    """The validated document of one line (``raw``, its bytes, at byte ``offset`` of ``path``), None for a blank
    line; a bad line raises the ``ToolkitError`` that ``schemas.documents.iter_documents`` raises for it."""
    d = fast_document(raw)
    return d if d is not None else _by_the_model(raw, path, lineno, offset)


def _by_the_model(raw: bytes, path: object, lineno: int, offset: int) -> dict | None:
    """The line read as ``schemas.files.iter_lines`` and ``schemas.documents`` read it, with their messages."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ToolkitError(f"{path}: not UTF-8 at byte {offset + e.start}; convert the file to UTF-8") from None
    if not line.strip():
        return None
    try:
        doc = AnnotatedDocument.model_validate(json.loads(line))
    except json.JSONDecodeError as e:
        raise ToolkitError(f"{path}:{lineno}: invalid JSON ({e.msg}); one annotated document per line") from None
    except ValidationError as e:
        raise ToolkitError(f"{path}:{lineno}: {first_error(e)}; fix the document or pull again") from None
    return document_dict(doc)
