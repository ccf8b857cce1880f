"""Reading and writing ``AnnotatedDocument`` JSONL: the one format every command exchanges.

Lines are split on ``\\n`` only (``schemas.files.iter_lines``) and read one at a time; writes are all or
nothing (``schemas.files.write_atomically``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from pydantic import ValidationError

from schemas import AnnotatedDocument, TargetInventory, ToolkitError
from schemas.errors import first_error
from schemas.files import iter_lines, write_atomically


def iter_documents(path: Path, *, targets: TargetInventory | None = None) -> Iterator[tuple[int, AnnotatedDocument]]:
    """(line number, document) of every non-blank line, read one line at a time.

    A bad line is a ``ToolkitError`` naming file:line. ``targets``: also check stance targets
    against this inventory (the validation context of ``AnnotatedDocument``).
    """
    context = {"targets": targets} if targets is not None else None
    for lineno, line in iter_lines(path):
        try:
            yield lineno, AnnotatedDocument.model_validate(json.loads(line), context=context)
        except json.JSONDecodeError as e:
            raise ToolkitError(f"{path}:{lineno}: invalid JSON ({e.msg}); one annotated document per line") from None
        except ValidationError as e:
            raise ToolkitError(f"{path}:{lineno}: {first_error(e)}; fix the document or pull again") from None


def read_documents(paths: Sequence[Path]) -> list[AnnotatedDocument]:
    """Every document of the files, in order; no document at all is an error too."""
    docs = [doc for path in paths for _, doc in iter_documents(path)]
    if not docs:
        raise ToolkitError(f"no annotated documents in {', '.join(map(str, paths))}; "
                           "give a JSONL with one document per line (e.g. from `annotate pull`)")
    return docs


def write_documents(path: Path, documents: Iterable[AnnotatedDocument]) -> int:
    """Write documents as JSONL, one per line, all or nothing (``write_atomically``). Returns the count."""
    path = Path(path)
    if path.is_dir():
        raise ToolkitError(f"{path}: is a directory; give a file name such as {path / 'documents.jsonl'}")
    if not path.parent.is_dir():
        raise ToolkitError(f"{path.parent}: no such directory; create it or choose another --out")
    count = 0

    def lines() -> Iterator[str]:
        nonlocal count
        for doc in documents:
            yield doc.model_dump_json() + "\n"
            count += 1

    write_atomically(path, lines())
    return count
