"""What an annotator reads in Label Studio: the project's instructions, made from ``guidelines.md``.

The guidelines stay the one source: the instructions are the sections an annotator needs while labelling
(what to mark and the workflow for the annotation project; the statement task for the linking project),
rendered to HTML with ``markdown-it-py`` (already installed with ``rich``), headed by the guidelines' version and
where the full text is. Label Studio shows them before the first task and behind the "i" button while labelling
(``show_instruction``).
"""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt

from schemas import ToolkitError
from schemas.guidelines import read_guidelines

ANNOTATION_SECTIONS = ("1. What you mark", "8. Workflow in Label Studio", "9. Hard cases")
LINKING_SECTIONS = ("10.1 The task", "10.2 What is one statement")
_HEADING = re.compile(r"^(#{2,3}) (.+)$", re.M)


def sections_of(text: str, titles: tuple[str, ...], where: str) -> list[str]:
    """The Markdown of each titled section (a ``##`` or ``###`` heading up to the next heading of its level or
    above); a title the guidelines lack is an error naming it."""
    headings = [(m.start(), len(m.group(1)), m.group(2).strip()) for m in _HEADING.finditer(text)]
    out = []
    for title in titles:
        found = [(i, h) for i, h in enumerate(headings) if h[2] == title]
        if not found:
            raise ToolkitError(f"{where}: no section {title!r}; the instructions are made from it (keep its heading)")
        i, (start, level, _) = found[0]
        end = next((s for s, lv, _ in headings[i + 1:] if lv <= level), len(text))
        out.append(text[start:end].strip())
    return out


def instructions_html(guidelines: Path, titles: tuple[str, ...] = ANNOTATION_SECTIONS) -> str:
    """The instructions for a project, as HTML (links and inline code kept; raw HTML in the guidelines escaped)."""
    read = read_guidelines(guidelines)
    parts = sections_of(read.text, titles, str(guidelines))
    head = (f"*From the annotation guidelines, version {read.version} (`guidelines.md` of the toolkit: the full "
            "text, with every definition and example).*")
    markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
    return markdown.render("\n\n".join([head, *parts]))
