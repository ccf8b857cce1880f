"""A person's path through Label Studio, in a real headless Chromium (Debian's package).

An annotator logs in, opens a seed task, sees the text and the baseline's pre-annotations
rendered with the generated config, selects a span with the mouse, labels it and submits; the
annotation read back through the API must cover exactly the selected characters. The second
test does the same on a text with characters outside the Basic Multilingual Plane, CRLF line
ends and non-breaking spaces: it is how we know that Label Studio 1.23.2's offsets over
``<Text>`` are Unicode code points (CRLF counts as two), which the exporter relies on.
"""

from __future__ import annotations

import pytest
from chromium import SELECTION_POINTS_JS, logged_in_page, needs_chromium

from annotate.labelstudio.annotators import add_annotator
from annotate.labelstudio.preload import preload
from schemas import Article
from schemas.articles import load_articles
from schemas.paths import SEEDS_DIR

pytestmark = [
    pytest.mark.server,
    pytest.mark.browser,
    needs_chromium,
]


ANNOTATOR = "browser.annotator@example.com"
PASSWORD = "Browser-Test-Passw0rd"
SPECIAL_TEXT = "Intro 🙂 line\r\nHe said 😀😀 “hello\u00a0world” today.\r\nThird 𝕏 line with target words here.\r\n"


@pytest.fixture(scope="module")
def seeded(ls_server, ls_client, ls_project):
    """The seeds (with baseline predictions) and the special text, plus one annotator account."""
    articles = load_articles([SEEDS_DIR]) + [Article.from_text("special-chars", SPECIAL_TEXT)]
    report = preload(ls_client, ls_project, articles)
    assert report.imported == 5 and report.predictions == 5
    user = add_annotator(ls_client, ANNOTATOR, ls_server.state.data_dir, password=PASSWORD).user
    tasks = {t.data["article_id"]: t for t in ls_client.export_tasks(ls_project.id)}
    return user, tasks


@pytest.fixture(scope="module")
def page(ls_server):
    with logged_in_page(ls_server.url, ANNOTATOR, PASSWORD) as page:
        yield page


def label_with_mouse(page, url: str, needle: str, label: str) -> None:
    """Open a task, drag the mouse over ``needle``, give it ``label`` and submit."""
    page.goto(url)
    page.wait_for_selector(".lsf-richtext__line")
    page.locator(".lsf-label", has_text=label).first.click()
    points = page.evaluate(SELECTION_POINTS_JS, needle)
    assert points is not None, f"{needle!r} is not rendered"
    page.mouse.move(points["x1"], points["y1"])
    page.mouse.down()
    page.mouse.move(points["x2"], points["y2"], steps=8)
    page.mouse.up()
    page.get_by_role("button", name="Submit").click()
    page.wait_for_selector("button:has-text('Update')")


def submitted_region(ls_client, project_id: int, article_id: str, user_id: int, label: str) -> dict:
    task = next(t for t in ls_client.export_tasks(project_id) if t.data["article_id"] == article_id)
    [annotation] = [a for a in task.annotations if a.completed_by == user_id]
    manual = [r for r in annotation.result if r.get("origin") != "prediction" and r["type"] == "labels"
              and r["value"]["labels"] == [label]]
    assert len(manual) == 1, annotation.result
    return manual[0]["value"]


def test_annotator_sees_predictions_and_labels_a_seed_span(ls_server, ls_client, ls_project, seeded, page):
    user, tasks = seeded
    article = load_articles([SEEDS_DIR])[0]
    task = tasks[article.id]
    page.goto(f"{ls_server.url}/projects/{ls_project.id}/data?task={task.id}")
    page.wait_for_selector(".lsf-richtext__line")
    rendered = page.inner_text(".lsf-richtext__container")
    assert article.text.splitlines()[0] in rendered
    # The baseline's regions are drawn over the text (pre-annotations rendered with our config).
    [prediction] = ls_client.sdk.predictions.list(task=task.id)
    predicted = prediction.result
    assert any(r["type"] == "labels" for r in predicted)
    assert page.locator(".htx-highlight").count() >= sum(r["type"] == "labels" for r in predicted)

    needle = "Russia’s Vladivostok"
    label_with_mouse(page, f"{ls_server.url}/projects/{ls_project.id}/data?task={task.id}", needle, "Mention")
    value = submitted_region(ls_client, ls_project.id, article.id, user.id, "Mention")
    start = article.text.index(needle)
    assert (value["start"], value["end"], value["text"]) == (start, start + len(needle), needle)


@pytest.mark.parametrize("needle", ["target words", "😀 “hello\u00a0world”"])
def test_offsets_are_code_points_with_astral_chars_crlf_and_nbsp(ls_server, ls_client, ls_project, seeded, page,
                                                                 needle):
    user, tasks = seeded
    task = tasks["special-chars"]
    label = "Cue" if needle == "target words" else "Claim"
    label_with_mouse(page, f"{ls_server.url}/projects/{ls_project.id}/data?task={task.id}", needle, label)
    value = submitted_region(ls_client, ls_project.id, "special-chars", user.id, label)
    start = SPECIAL_TEXT.index(needle)
    utf16_start = len(SPECIAL_TEXT[:start].encode("utf-16-le")) // 2
    assert utf16_start != start  # the text really tells code points from UTF-16 units
    assert (value["start"], value["end"]) == (start, start + len(needle))
    assert SPECIAL_TEXT[value["start"]:value["end"]] == value["text"] == needle
