"""Reading and writing ``AnnotatedDocument`` JSONL: the one format every command exchanges.

Lines are split on ``\\n`` only: JSON writers leave U+2028 and U+0085 unescaped inside strings,
and ``str.splitlines`` would break a document there. Writes are all or nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from pydantic import ValidationError

from annotate.articles import first_error, read_text
from schemas import AnnotatedDocument, ToolkitError


def iter_documents(path: Path) -> Iterator[tuple[int, AnnotatedDocument]]:
    """(line number, document) of every non-blank line; a bad line is a ``ToolkitError`` naming file:line."""
    for lineno, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield lineno, AnnotatedDocument.model_validate(json.loads(line))
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
    """Write documents as JSONL, one per line, all or nothing (temp file, then rename). Returns the count."""
    path = Path(path)
    if path.is_dir():
        raise ToolkitError(f"{path}: is a directory; give a file name such as {path / 'documents.jsonl'}")
    if not path.parent.is_dir():
        raise ToolkitError(f"{path.parent}: no such directory; create it or choose another --out")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            for doc in documents:
                out.write(doc.model_dump_json() + "\n")
                count += 1
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count
