"""``annotate adjudicate`` on files: read the documents and decisions, adjudicate, write the gold and the
conflicts file, and record them as the latest adjudication."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from exports.adjudication.decisions import MajorityRule, load_decisions
from exports.adjudication.latest import LATEST_FILE, LatestAdjudication
from exports.adjudication.report import Adjudication, InputFile
from exports.adjudication.rules import adjudicate
from exports.compare import Boundary
from schemas import AnnotatedDocument, ToolkitError
from schemas.documents import iter_documents, write_documents
from schemas.files import write_atomically
from schemas.paths import state_dir

CONFLICTS_SUFFIX = ".conflicts.json"


def documents_with_where(paths: Sequence[Path]) -> tuple[list[AnnotatedDocument], list[str]]:
    """The documents of JSONL files, and the file:line each came from."""
    docs, where = [], []
    for path in paths:
        for lineno, doc in iter_documents(path):
            docs.append(doc)
            where.append(f"{path}:{lineno}")
    if not docs:
        raise ToolkitError(f"no annotated documents in {', '.join(map(str, paths))}; pass the JSONL of a pull")
    return docs, where


def conflicts_path_for(out: Path) -> Path:
    return out.with_name(out.name.removesuffix(".jsonl") + CONFLICTS_SUFFIX)


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_adjudication(
    paths: Sequence[Path],
    out: Path,
    *,
    majority: MajorityRule | None = None,
    decisions_path: Path | None = None,
    boundary: Boundary = Boundary.OVERLAP,
    conflicts_path: Path | None = None,
) -> tuple[Adjudication, Path]:
    """Read, adjudicate, write ``out`` and the conflicts file, and record them as the latest adjudication."""
    conflicts_path = conflicts_path or conflicts_path_for(out)
    inputs = {p.resolve() for p in [*paths, *([decisions_path] if decisions_path else [])]}
    for target, option in ((out, "--out"), (conflicts_path, "--conflicts")):
        if target.resolve() in inputs:
            raise ToolkitError(f"{option} {target} is one of the inputs; write the gold to another file")
    if out.resolve() == conflicts_path.resolve():
        raise ToolkitError(f"--conflicts {conflicts_path} is the gold file; give it another name")
    docs, where = documents_with_where(paths)
    decisions = load_decisions(decisions_path) if decisions_path is not None else None
    result = adjudicate(docs, majority=majority, decisions=decisions, boundary=boundary, where=where)
    result.report.gold_file = str(out)
    result.report.inputs = [InputFile(path=str(p), sha256=_file_sha256(p)) for p in paths]
    # Conflicts first, gold second, the pointer last: a gold file is never newer than its record.
    write_atomically(conflicts_path, result.report.model_dump_json(indent=2, exclude_none=False) + "\n")
    write_documents(out, result.gold)
    record = LatestAdjudication(gold=str(out.resolve()), conflicts=str(conflicts_path.resolve()),
                                created_at=result.report.created_at)
    write_atomically(state_dir() / LATEST_FILE, record.model_dump_json(indent=2) + "\n", make_parents=True)
    return result, conflicts_path

