"""An annotator links statements in a real headless Chromium (Debian's package), as a person would.

The linking task opens pre-grouped by a prediction (the seed annotator 1's statements stand in
for the baseline linker), one card is dragged with the mouse (down, move, up) from its bucket into
another, the annotation is submitted, and the pulled ``StatementDocument`` must differ from the
prediction by exactly that one move. This is how we know that Label Studio 1.23.2 shows a ranker
prediction in its buckets and that its drag and drop works headless.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from chromium import logged_in_page, needs_chromium

from annotate.labelstudio.annotators import add_annotator
from annotate.labelstudio.linking import config as lc
from annotate.labelstudio.linking.project import init_linking_project, preload_linking, pull_linking
from annotate.labelstudio.linking.wire import LinkingTaskData
from schemas.documents import read_documents, read_statement_documents

pytestmark = [
    pytest.mark.server,
    pytest.mark.browser,
    needs_chromium,
]

GOLD = read_documents([Path("seeds/annotations/gold.jsonl")])
[PREDICTED] = read_statement_documents([Path("seeds/annotations/statements/annotator-1.jsonl")])
SPEAKER = "emmanuel-macron"  # 5 quotes in 4 predicted statements: one bucket holds two
ANNOTATOR = "linking.annotator@example.com"
PASSWORD = "Linking-Test-Passw0rd"

# Every column's title and the ids of its cards, in screen order.
COLUMNS_JS = """() => Array.from(document.querySelectorAll('.htx-ranker-column')).map(c => ({
  title: c.querySelector('[class*=columnTitle]').innerText.trim(),
  ids: Array.from(c.querySelectorAll('[data-ranker-id]')).map(e => e.dataset.rankerId)}))"""


@pytest.fixture(scope="module")
def linking(ls_server, ls_client):
    project = init_linking_project(ls_client, title="test linking browser").project
    report = preload_linking(ls_client, project, GOLD, [PREDICTED], model_version="seed-annotator-1")
    assert report.imported == report.predictions == 6
    user = add_annotator(ls_client, ANNOTATOR, ls_server.state.data_dir, password=PASSWORD).user
    [task] = [t for t in ls_client.list_task_data(project.id) if t.data["speaker"] == SPEAKER]
    return project, user, task


@pytest.fixture(scope="module")
def page(ls_server):
    with logged_in_page(ls_server.url, ANNOTATOR, PASSWORD) as page:
        yield page


def predicted_buckets(data: LinkingTaskData) -> list[list[str]]:
    """The prediction's groups in bucket order (first rendering's position), each in item order."""
    order = data.item_ids()
    groups = [sorted(s.keys(), key=order.index) for s in PREDICTED.statements if s.speaker_entity_id == SPEAKER]
    return sorted(groups, key=lambda g: order.index(g[0]))


def drag(page, card_id: str, column_index: int) -> None:
    """Press on the card, move it in small steps below the last card of the target column, release."""
    card = page.locator(f'[data-ranker-id="{card_id}"]').bounding_box()
    column = page.locator(".htx-ranker-column").nth(column_index)
    cards = column.locator("[data-ranker-id]")
    below = cards.nth(cards.count() - 1).bounding_box() if cards.count() else None
    target = column.bounding_box()
    x = target["x"] + target["width"] / 2
    y = below["y"] + below["height"] + 15 if below else target["y"] + 80
    page.mouse.move(card["x"] + card["width"] / 2, card["y"] + 12)
    page.mouse.down()
    page.mouse.move(card["x"] + card["width"] / 2 + 6, card["y"] + 20, steps=4)  # past the drag threshold
    page.mouse.move(x, y, steps=25)
    page.wait_for_timeout(300)  # the drop animation settles on the placeholder
    page.mouse.up()
    page.wait_for_timeout(500)


def test_annotator_drags_a_rendering_into_another_statement(ls_server, ls_client, linking, page, tmp_path):
    project, user, task = linking
    data = LinkingTaskData.model_validate(task.data)
    buckets = predicted_buckets(data)
    page.goto(f"{ls_server.url}/projects/{project.id}/data?task={task.id}")
    page.wait_for_selector(".htx-ranker-item")

    columns = page.evaluate(COLUMNS_JS)
    assert columns[0]["title"] == lc.UNSORTED_TITLE and columns[0]["ids"] == []
    assert [c["title"] for c in columns[1:]] == [lc.bucket_title(n) for n in range(1, lc.DEFAULT_BUCKETS + 1)]
    # The prediction fills the buckets, in bucket order.
    assert [c["ids"] for c in columns[1:len(buckets) + 1]] == buckets
    assert all(c["ids"] == [] for c in columns[len(buckets) + 1:])

    # Move the second card of the two-card bucket into the next bucket, as a person would.
    source = next(n for n, g in enumerate(buckets) if len(g) > 1)
    moved = buckets[source][1]
    destination = (source + 1) % len(buckets)
    drag(page, moved, destination + 1)  # column 0 is the unsorted one
    after = [c["ids"] for c in page.evaluate(COLUMNS_JS)[1:len(buckets) + 1]]
    expected = [[k for k in g if k != moved] for g in buckets]
    expected[destination].append(moved)
    assert after == expected

    page.get_by_role("button", name="Submit").click()
    page.wait_for_selector("button:has-text('Update')")

    out = tmp_path / "browser.jsonl"
    report = pull_linking(ls_client, project, GOLD, out)
    docs = {d.provenance.annotator: d for d in read_statement_documents([out])}
    doc = docs[ANNOTATOR]
    assert [r for r in report.rejections if r.task_id == task.id] == []
    assert doc.provenance.task_id == task.id and doc.provenance.lead_time is not None
    order = data.item_ids()
    linked = [s for s in doc.statements if s.speaker_entity_id == SPEAKER]  # the others: speakers quoted once
    assert all(len(s.renderings) == 1 for s in doc.statements if s.speaker_entity_id != SPEAKER)
    pulled = sorted((s.keys() for s in linked), key=lambda g: order.index(g[0]))
    wanted = sorted(([k for k in order if k in set(g)] for g in expected), key=lambda g: order.index(g[0]))
    assert pulled == wanted
    assert pulled != buckets  # the document changed, and only by the move (checked above)
    for s in linked:
        article_id, quote_id = s.keys()[0].split("/")
        assert s.id == f"s-{article_id}-{quote_id}"
