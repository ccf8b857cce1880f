"""A hand-authoring format for annotations: spans located by their text, not by offsets.

Used to write the recorded seed annotations: a person (or a careful script) names each span by
its text and, where that text is not unique, by a longer snippet around it; offsets are then
found in the article, so nobody counts characters by hand. The result is an ordinary, fully
validated ``AnnotatedDocument``.

A span locator is ``{"text": T}``, ``{"text": T, "in": SNIPPET}`` (T inside a snippet that occurs
once) or either with ``"nth": k`` (take the k-th occurrence, 1-based, of the snippet or text).
Entities are given by name; their ids are ``entity_id_for(name)``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import ValidationError

from schemas import AnnotatedDocument, Article, Provenance, Span, ToolkitError, entity_id_for
from schemas.errors import first_error
from schemas.files import read_text


def _occurrences(haystack: str, needle: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(needle), haystack)]


def locate(text: str, locator: dict, where: str) -> Span:
    """The span a locator names in ``text``; ambiguity or absence is an error naming ``where``."""
    target = locator.get("text")
    if not isinstance(target, str) or not target:
        raise ToolkitError(f"{where}: a span needs a non-empty 'text'")
    snippet = locator.get("in", target)
    found = _occurrences(text, snippet)
    nth = locator.get("nth")
    if not found:
        raise ToolkitError(f"{where}: {snippet!r} does not occur in the article; copy it exactly")
    if nth is None and len(found) > 1:
        raise ToolkitError(f"{where}: {snippet!r} occurs {len(found)} times; add a longer 'in' snippet or 'nth'")
    if nth is not None and not 1 <= nth <= len(found):
        raise ToolkitError(f"{where}: nth={nth} but {snippet!r} occurs {len(found)} times")
    base = found[(nth or 1) - 1]
    inner = _occurrences(snippet, target)
    if len(inner) != 1:
        raise ToolkitError(f"{where}: {target!r} must occur exactly once inside {snippet!r} (found {len(inner)})")
    start = base + inner[0]
    return Span.of(text, start, start + len(target))


def compile_document(article: Article, entry: dict, annotator: str) -> AnnotatedDocument:
    """One authored entry (see the module docstring) to a validated document."""
    text, aid = article.text, article.id
    entities = [{**e, "id": entity_id_for(e["name"])} for e in entry.get("entities", [])]
    names = {e["name"]: e["id"] for e in entities}

    def entity(name: str | None, where: str) -> str | None:
        if name is None:
            return None
        if name not in names:
            raise ToolkitError(f"{where}: entity {name!r} is not in this document's entities")
        return names[name]

    mentions = [
        {"id": m["id"], "span": locate(text, m["span"], f"{aid} mention {m['id']}"),
         "entity_id": entity(m["entity"], f"{aid} mention {m['id']}")}
        for m in entry.get("mentions", [])
    ]
    quotes = []
    for q in entry.get("quotes", []):
        where = f"{aid} quote {q['id']}"
        quotes.append({
            "id": q["id"], "kind": q["kind"],
            "content": [locate(text, c, f"{where} content") for c in q["content"]],
            "cue": locate(text, q["cue"], f"{where} cue") if q.get("cue") else None,
            "speaker_mention_id": q.get("speaker_mention"),
            "speaker_entity_id": entity(q.get("speaker_entity"), where),
        })
    stances = [
        {"id": s["id"], "holder_entity_id": entity(s["holder"], f"{aid} stance {s['id']}"),
         "target_id": s["target"], "polarity": s["polarity"], "evidence": s.get("evidence", [])}
        for s in entry.get("stances", [])
    ]
    claims = [
        {"id": c["id"], "span": locate(text, c["span"], f"{aid} claim {c['id']}"),
         "claimant_entity_id": entity(c.get("claimant"), f"{aid} claim {c['id']}"),
         "check_worthy": c["check_worthy"]}
        for c in entry.get("claims", [])
    ]
    try:
        return AnnotatedDocument(
            article=article, provenance=Provenance(annotator=annotator, origin="label-studio"),
            entities=entities, mentions=mentions, quotes=quotes, stances=stances, claims=claims,
        )
    except ValidationError as e:
        raise ToolkitError(f"{aid}: {first_error(e)}") from None


def compile_file(path: Path, articles: dict[str, Article]) -> list[AnnotatedDocument]:
    """An authoring file ``{"annotator": ..., "documents": [{"article_id": ..., ...}]}``."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise ToolkitError(f"{path}:{e.lineno}: invalid JSON ({e.msg})") from None
    docs = []
    for entry in data["documents"]:
        if entry["article_id"] not in articles:
            raise ToolkitError(f"{path}: unknown article {entry['article_id']!r}")
        try:
            docs.append(compile_document(articles[entry["article_id"]], entry, data["annotator"]))
        except KeyError as e:
            raise ToolkitError(f"{path}: {entry['article_id']}: missing field {e}") from None
    return docs
