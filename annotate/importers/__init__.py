"""Importers of annotations made elsewhere (BRAT standoff for now) into ``AnnotatedDocument``s."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from schemas import AnnotatedDocument, ToolkitError


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
