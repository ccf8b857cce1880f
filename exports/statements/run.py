"""The statement commands on files: statement documents read against the gold quotes, and ``annotate statements
adjudicate`` from files in to files out (as ``exports.adjudication.run`` does for the quote layer)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exports.adjudication.decisions import MajorityRule
from exports.adjudication.run import conflicts_path_for
from exports.statements.adjudication import StatementAdjudication, adjudicate_statements
from exports.statements.decisions import load_statement_decisions
from schemas import AnnotatedDocument, ToolkitError
from schemas.documents import iter_statement_documents, read_documents, write_statement_documents
from schemas.fidelity import with_fidelity
from schemas.files import write_atomically
from schemas.quote_mentions import QuoteMention, quote_mentions
from schemas.statements import GoldQuotes, StatementDocument


@dataclass(frozen=True)
class StatementInputs:
    """Statement documents, each checked against the gold quotes, with the file:line each came from."""

    gold: list[AnnotatedDocument]
    documents: list[StatementDocument]
    where: list[str]

    @classmethod
    def read(cls, statement_paths: Sequence[Path], gold_paths: Sequence[Path]) -> StatementInputs:
        gold = read_documents(gold_paths)
        quotes = GoldQuotes(gold)
        read = [(f"{path}:{lineno}", doc) for path in statement_paths
                for lineno, doc in iter_statement_documents(path, against=quotes)]
        if not read:
            raise ToolkitError(f"no statement documents in {', '.join(map(str, statement_paths))}; give a JSONL "
                               "with one story's statements per line")
        return cls(gold=gold, documents=[doc for _, doc in read], where=[where for where, _ in read])

    def mentions(self) -> dict[str, QuoteMention]:
        return {m.key: m for m in quote_mentions(self.gold)}


def run_statement_adjudication(statement_paths: Sequence[Path], gold_paths: Sequence[Path], out: Path, *,
                               decisions_path: Path | None = None, majority: MajorityRule | None = None,
                               conflicts_path: Path | None = None) -> tuple[StatementAdjudication, Path, int]:
    """Read, adjudicate, compute the fidelity classes, write the conflicts report and then the gold statements.

    Returns the report, the conflicts file and the number of statement documents written."""
    conflicts_path = conflicts_path or conflicts_path_for(out)
    inputs = {p.resolve() for p in [*statement_paths, *gold_paths, *([decisions_path] if decisions_path else [])]}
    for target, option in ((out, "--out"), (conflicts_path, "--conflicts")):
        if target.resolve() in inputs:
            raise ToolkitError(f"{option} {target} is one of the inputs; write it to another file")
    decisions = load_statement_decisions(decisions_path) if decisions_path is not None else None
    read = StatementInputs.read(statement_paths, gold_paths)
    mentions = read.mentions()
    gold, report = adjudicate_statements(read.documents, majority=majority, decisions=decisions, where=read.where,
                                         mentions=mentions)
    gold = [with_fidelity(d, mentions) for d in gold]
    # Conflicts first, gold second: a gold file is never newer than the report of how it was made.
    write_atomically(conflicts_path, report.model_dump_json(indent=2) + "\n")
    return report, conflicts_path, write_statement_documents(out, gold)
