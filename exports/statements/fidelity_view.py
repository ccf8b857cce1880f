"""The fidelity view: each statement's renderings side by side, outlet by outlet, aligned word by word against
its fullest direct rendering (words dropped, added, changed). The model is the JSON; ``print_fidelity`` is the
terminal rendering and ``exports.statements.story_page`` the HTML one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict
from rapidfuzz.distance import Indel
from rich.console import Console
from rich.table import Table
from rich.text import Text

from schemas.fidelity import fidelity_classes
from schemas.labels import QuoteKind
from schemas.quote_mentions import QuoteMention, tokens_of
from schemas.statements import Fidelity, Statement, StatementDocument

REPORT_VERSION = "1.0.0"
Op = Literal["equal", "dropped", "added", "changed"]
_OPS: dict[str, Op] = {"equal": "equal", "delete": "dropped", "insert": "added", "replace": "changed"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WordChange(_Model):
    """One run of the alignment: reference words kept, dropped, changed into others, or words added."""

    op: Op
    reference: list[str]
    rendering: list[str]


class RenderingView(_Model):
    key: str
    article_id: str
    outlet: str | None
    kind: QuoteKind
    fidelity: Fidelity
    changes_meaning: bool | None
    text: str
    is_reference: bool
    alignment: list[WordChange]
    dropped: int
    added: int
    changed: int


class StatementView(_Model):
    id: str
    story: str | None
    speaker: str
    gloss: str
    occasion: str | None
    reference: str
    renderings: list[RenderingView]


class FidelityReport(_Model):
    report_version: str = REPORT_VERSION
    statements: list[StatementView]


def fidelity_report(documents: Iterable[StatementDocument], mentions: dict[str, QuoteMention]) -> FidelityReport:
    """The view of every statement (the documents checked against the quotes first)."""
    return FidelityReport(statements=[statement_view(s, mentions) for d in documents for s in d.statements])


def reference_of(renderings: Sequence[QuoteMention]) -> QuoteMention:
    """The fullest direct rendering (most words; the earliest on a tie); the fullest rendering when none is direct."""
    direct = [m for m in renderings if m.is_direct] or list(renderings)
    return max(direct, key=lambda m: len(m.words))


def align(reference: QuoteMention, rendering: QuoteMention) -> list[WordChange]:
    """Word-by-word alignment of ``rendering`` against ``reference``, shown in the words as each outlet wrote them.

    The kept words are a longest common subsequence of the compared words (``words_of``; rapidfuzz's Indel
    opcodes); a run dropped right next to a run added is one change. An LCS rather than a Levenshtein alignment,
    because Levenshtein pairs unrelated words as substitutions wherever two paraphrases differ in length.
    """
    ref_shown, own_shown = tokens_of(reference.text), tokens_of(rendering.text)
    changes: list[WordChange] = []
    for op in Indel.opcodes(reference.words, rendering.words):
        change = WordChange(op=_OPS[op.tag], reference=list(ref_shown[op.src_start:op.src_end]),
                            rendering=list(own_shown[op.dest_start:op.dest_end]))
        if changes and {changes[-1].op, change.op} == {"dropped", "added"}:
            last = changes.pop()
            change = WordChange(op="changed", reference=last.reference + change.reference,
                                rendering=last.rendering + change.rendering)
        changes.append(change)
    return changes


def statement_view(statement: Statement, mentions: dict[str, QuoteMention]) -> StatementView:
    renderings = [mentions[r.key] for r in statement.renderings]
    classes = fidelity_classes(renderings)
    reference = reference_of(renderings)
    flags = {r.key: r.changes_meaning for r in statement.renderings}
    views = []
    for m in renderings:
        alignment = align(reference, m)

        def count(op: Op, side: str, alignment: list[WordChange] = alignment) -> int:
            return sum(len(getattr(c, side)) for c in alignment if c.op == op)

        views.append(RenderingView(
            key=m.key, article_id=m.article_id, outlet=m.outlet, kind=m.kind, fidelity=classes[m.key],
            changes_meaning=flags[m.key], text=m.text, is_reference=m.key == reference.key, alignment=alignment,
            dropped=count("dropped", "reference"), added=count("added", "rendering"),
            changed=count("changed", "reference")))
    return StatementView(id=statement.id, story=statement.story, speaker=statement.speaker_entity_id,
                         gloss=statement.gloss, occasion=statement.occasion, reference=reference.key,
                         renderings=views)


_STYLE = {"equal": "", "dropped": "strike red", "added": "bold green", "changed": "bold yellow"}


def rendered_alignment(alignment: list[WordChange]) -> Text:
    """The rendering's words, marked: [-dropped-] struck through, {+added+} and changed (was ~old~) highlighted."""
    text = Text()
    for c in alignment:
        if c.op == "equal":
            text.append(" ".join(c.rendering) + " ")
        elif c.op == "dropped":
            text.append("[-" + " ".join(c.reference) + "-] ", style=_STYLE["dropped"])
        elif c.op == "added":
            text.append("{+" + " ".join(c.rendering) + "+} ", style=_STYLE["added"])
        else:
            text.append(" ".join(c.rendering), style=_STYLE["changed"])
            text.append(" (was " + " ".join(c.reference) + ") ", style="dim")
    return text


def print_fidelity(report: FidelityReport, console: Console | None = None, *, only_linked: bool = True) -> None:
    """One table per statement (with ``only_linked``, statements with two or more renderings)."""
    console = console or Console()
    for s in report.statements:
        if only_linked and len(s.renderings) < 2:
            continue
        # Text, not str: rich reads a str as markup, so a gloss with "[in Ukraine]" would lose it (or raise).
        table = Table(title=Text(f"{s.id} ({s.speaker}): {s.gloss}"), title_justify="left", show_lines=True)
        for column in ("outlet", "kind", "fidelity", "-/+/~", "words against the fullest direct rendering"):
            table.add_column(column)
        for r in s.renderings:
            mark = " (reference)" if r.is_reference else ""
            flag = " [meaning changed]" if r.changes_meaning else ""
            table.add_row(Text(f"{r.outlet or r.article_id}{mark}"), r.kind.value, Text(r.fidelity.value + flag),
                          f"{r.dropped}/{r.added}/{r.changed}", rendered_alignment(r.alignment))
        console.print(table)
