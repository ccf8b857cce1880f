"""The annotators' instructions in Label Studio are made from guidelines.md, the one source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from chromium import logged_in_page, needs_chromium

from annotate.labelstudio.instructions import ANNOTATION_SECTIONS, LINKING_SECTIONS, instructions_html, sections_of
from schemas import ToolkitError
from schemas.paths import GUIDELINES

TEXT = GUIDELINES.read_text(encoding="utf-8")


def test_the_annotation_instructions_hold_the_sections_an_annotator_needs_and_the_version() -> None:
    html = instructions_html(GUIDELINES)
    version = re.search(r"^Guidelines version: (\S+)$", TEXT, re.M)[1]
    assert f"version {version}" in html
    assert [h for h in re.findall(r"<h[23]>(.*?)</h[23]>", html)] == list(ANNOTATION_SECTIONS)
    assert "<table>" in html and "<code>said_by</code>" in html  # the label table of section 1, rendered
    assert "Statements" not in re.findall(r"<h[23]>(.*?)</h[23]>", html)


def test_the_linking_instructions_are_section_10() -> None:
    html = instructions_html(GUIDELINES, LINKING_SECTIONS)
    assert re.findall(r"<h3>(.*?)</h3>", html) == list(LINKING_SECTIONS)
    assert "bucket" in html


def test_a_section_ends_at_the_next_heading_of_its_level_or_above() -> None:
    text = "## 1. A\n\na\n\n### 1.1 B\n\nb\n\n## 2. C\n\nc\n"
    assert sections_of(text, ("1. A", "1.1 B"), "g.md") == ["## 1. A\n\na\n\n### 1.1 B\n\nb", "### 1.1 B\n\nb"]


def test_raw_html_in_the_guidelines_is_shown_as_text(tmp_path: Path) -> None:
    guidelines = tmp_path / "guidelines.md"
    guidelines.write_text(TEXT.replace("## 1. What you mark\n", "## 1. What you mark\n\n<script>alert(1)</script>\n"))
    html = instructions_html(guidelines)
    assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.replace("## 8. Workflow in Label Studio", "## 8. Workflow"), "no section '8. Workflow in Label"),
    (lambda t: t.replace("Guidelines version:", "Version:"), "no line 'Guidelines version: X.Y.Z'"),
])
def test_guidelines_without_what_the_instructions_need_are_refused(tmp_path: Path, change, message) -> None:
    guidelines = tmp_path / "guidelines.md"
    guidelines.write_text(change(TEXT))
    with pytest.raises(ToolkitError, match=re.escape(message)):
        instructions_html(guidelines)


@pytest.mark.server
@pytest.mark.browser
@needs_chromium
def test_an_annotator_sees_the_instructions_when_labelling_starts(ls_server, ls_client) -> None:
    """In the browser: the project's labelling stream opens with the instructions from guidelines.md."""
    from annotate.labelstudio.config import generate_labeling_config
    from annotate.labelstudio.preload import preload
    from annotate.labelstudio.project import init_project
    from schemas.articles import load_articles, load_targets
    from schemas.paths import SEED_TARGETS, SEEDS_DIR

    project = init_project(ls_client, generate_labeling_config(load_targets(SEED_TARGETS)), title="instructions shown",
                           record=False, instructions=instructions_html(GUIDELINES)).project
    preload(ls_client, project, load_articles([SEEDS_DIR])[:1], predictions=False)
    with logged_in_page(ls_server.url, ls_server.admin_email, ls_server.admin_password) as page:
        page.goto(f"{ls_server.url}/projects/{project.id}/data?labeling=1")
        page.get_by_text("1. What you mark").wait_for()
        shown = page.inner_text("body")
    version = re.search(r"^Guidelines version: (\S+)$", TEXT, re.M)[1]
    assert "Labeling Instructions" in shown and f"version {version}" in shown
    assert "8. Workflow in Label Studio" in shown
