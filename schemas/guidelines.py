"""The annotation guidelines file: its text and its version, read once for the dataset card and the project's
instructions (``guidelines.md`` is the one source of both)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from schemas.errors import ToolkitError
from schemas.files import read_text

_VERSION_LINE = re.compile(r"^Guidelines version:\s*(\d+\.\d+\.\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Guidelines:
    version: str
    text: str


def read_guidelines(path: Path) -> Guidelines:
    if not path.exists():
        raise ToolkitError(f"{path}: no guidelines file; write it or pass --guidelines PATH")
    text = read_text(path)
    match = _VERSION_LINE.search(text)
    if match is None:
        raise ToolkitError(f"{path}: no line 'Guidelines version: X.Y.Z'; add one near the top")
    return Guidelines(version=match.group(1), text=text)
