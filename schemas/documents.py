"""Reading and writing the JSONL files every command exchanges: ``AnnotatedDocument`` (one annotator's
annotations of one article) and ``StatementDocument`` (one annotator's statements over one story).

Lines are split on ``\\n`` only (``schemas.files.iter_lines``) and read one at a time; writes are all or
nothing (``schemas.files.write_atomically``). Both kinds share one line reader and one writer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from schemas import AnnotatedDocument, TargetInventory, ToolkitError
from schemas.errors import first_error
from schemas.files import iter_lines, write_atomically
from schemas.statements import GoldQuotes, StatementDocument

M = TypeVar("M", bound=BaseModel)


def iter_documents(path: Path, *, targets: TargetInventory | None = None) -> Iterator[tuple[int, AnnotatedDocument]]:
    """(line number, document) of every non-blank line, read one line at a time.

    A bad line is a ``ToolkitError`` naming file:line. ``targets``: also check stance targets
    against this inventory (the validation context of ``AnnotatedDocument``).
    """
    context = {"targets": targets} if targets is not None else None
    yield from _iter_models(path, AnnotatedDocument, context, "one annotated document per line",
                            "fix the document or pull again")


def read_documents(paths: Sequence[Path]) -> list[AnnotatedDocument]:
    """Every document of the files, in order; no document at all is an error too."""
    docs = [doc for path in paths for _, doc in iter_documents(path)]
    if not docs:
        raise ToolkitError(f"no annotated documents in {', '.join(map(str, paths))}; "
                           "give a JSONL with one document per line (e.g. from `annotate pull`)")
    return docs


def write_documents(path: Path, documents: Iterable[AnnotatedDocument]) -> int:
    """Write documents as JSONL, one per line, all or nothing (``write_atomically``). Returns the count."""
    return _write_models(path, documents, "documents.jsonl")


def iter_statement_documents(path: Path, *, against: GoldQuotes | None = None
                             ) -> Iterator[tuple[int, StatementDocument]]:
    """(line number, statement document) of every non-blank line; a bad line names file:line.

    ``against``: also check every document against these gold quotes (``GoldQuotes.check``), as ``targets`` does
    for annotated documents."""
    for lineno, doc in _iter_models(path, StatementDocument, None, "one statement document (one story) per line",
                                    "fix the statements file"):
        if against is not None:
            try:
                against.check(doc)
            except ValueError as e:
                raise ToolkitError(f"{path}:{lineno}: {e}; link only the quotes of the gold documents given with "
                                   "them") from None
        yield lineno, doc


def read_statement_documents(paths: Sequence[Path]) -> list[StatementDocument]:
    """Every statement document of the files, in order; none at all is an error."""
    docs = [doc for path in paths for _, doc in iter_statement_documents(path)]
    if not docs:
        raise ToolkitError(f"no statement documents in {', '.join(map(str, paths))}; give a JSONL with one story's "
                           "statements per line (e.g. from `annotate statements link` or `annotate statements pull`)")
    return docs


def write_statement_documents(path: Path, documents: Iterable[StatementDocument]) -> int:
    """Write statement documents as JSONL, all or nothing. Returns the count."""
    return _write_models(path, documents, "statements.jsonl")


def _iter_models(path: Path, model: type[M], context: dict[str, Any] | None, shape: str,
                 remedy: str) -> Iterator[tuple[int, M]]:
    for lineno, line in iter_lines(path):
        try:
            yield lineno, model.model_validate(json.loads(line), context=context)
        except json.JSONDecodeError as e:
            raise ToolkitError(f"{path}:{lineno}: invalid JSON ({e.msg}); {shape}") from None
        except ValidationError as e:
            raise ToolkitError(f"{path}:{lineno}: {first_error(e)}; {remedy}") from None


def _write_models(path: Path, models: Iterable[BaseModel], example: str) -> int:
    path = Path(path)
    if path.is_dir():
        raise ToolkitError(f"{path}: is a directory; give a file name such as {path / example}")
    if not path.parent.is_dir():
        raise ToolkitError(f"{path.parent}: no such directory; create it or choose another --out")
    count = 0

    def lines() -> Iterator[str]:
        nonlocal count
        for model in models:
            yield model.model_dump_json() + "\n"
            count += 1

    write_atomically(path, lines())
    return count
