"""Pre-annotations an annotator corrects, in a real Label Studio and a real browser.

A seed article goes into a fresh project as ``annotate preload`` sends it: the story's entity list in the
task, the baseline's prediction with every layer it has (quotes with kind, content fragments and cue,
speaker mentions with their entity preselected in the picker, ``said_by`` / ``cue_of`` / ``continues``).
An annotator opens it, checks a pre-annotated quote and keeps it, changes the entity of its speaker
mention with the picker (clicks, as a person does), and submits. ``pull`` must give back the prediction
with exactly that one change.
"""

from __future__ import annotations

import re

import pytest
from chromium import logged_in_page, needs_chromium
from test_entity_picker import pick_entity

from annotate.labelstudio.annotators import add_annotator
from annotate.labelstudio.decode import results_to_document
from annotate.labelstudio.preload import preload
from annotate.labelstudio.pull import pull_from_server
from annotate.labelstudio.story_entities import StoryEntities
from annotate.labelstudio.wire import to_json
from schemas import AnnotatedDocument, Provenance
from schemas.articles import load_articles
from schemas.documents import read_documents
from schemas.inventory import SEED_ENTITIES, read_inventory
from schemas.paths import SEEDS_DIR

pytestmark = [pytest.mark.server, pytest.mark.browser, needs_chromium]

ANNOTATOR = "preannotation.annotator@example.com"
PASSWORD = "Corrector-Desk-8842"
SEEDS = load_articles([SEEDS_DIR])
ARTICLE = SEEDS[1]  # 001: the baseline links the caption's "UkrainePutin" to an entity of its own
QUOTE = "Russia’s stance that NATO expansion"  # the start of that quote's content
SPEAKER = "UkrainePutin"


def click_region(page, starts_with: str) -> None:
    """Click, in the text, the region whose text starts with ``starts_with``: it is selected, its panel opens."""
    page.locator(".htx-highlight").filter(has_text=re.compile("^" + re.escape(starts_with))).first.click()


def predicted_document(stories: StoryEntities) -> AnnotatedDocument:
    """The prediction as the exporter reads it: what an annotator who submits it unchanged would give."""
    results = to_json(stories.predict(ARTICLE).result)
    outcome = results_to_document(ARTICLE, results, Provenance(annotator="prediction"),
                                  entities=stories.inventory_for(ARTICLE))
    assert outcome.rejections == [] and outcome.repairs == []
    return outcome.document


def with_speaker_changed(doc: AnnotatedDocument, mention_text: str, entity_id: str, stories: StoryEntities
                         ) -> AnnotatedDocument:
    """``doc`` with the mention ``mention_text`` linked to ``entity_id``; its old entity, used by nothing else, gone."""
    data = doc.model_dump()
    (mention,) = [m for m in data["mentions"] if m["span"]["text"] == mention_text]
    old, mention["entity_id"] = mention["entity_id"], entity_id
    used = {m["entity_id"] for m in data["mentions"]} | {q["speaker_entity_id"] for q in data["quotes"]}
    entities = [e for e in data["entities"] if e["id"] in used and e["id"] != entity_id]
    entities.append(stories.inventory_for(ARTICLE).get(entity_id).entity().model_dump())
    data["entities"] = sorted(entities, key=lambda e: e["id"])
    assert old not in used or old == entity_id
    return AnnotatedDocument.model_validate(data)


def without_provenance(doc: AnnotatedDocument) -> dict:
    return doc.model_dump(mode="json", exclude={"provenance"})


def test_an_annotator_accepts_a_quote_and_changes_its_speaker_with_the_picker(ls_server, ls_client, ls_project,
                                                                             tmp_path):
    stories = StoryEntities.build(SEEDS, inventories=[read_inventory(SEED_ENTITIES)])
    report = preload(ls_client, ls_project, [ARTICLE], predict=stories.predict, inventory_for=stories.inventory_for)
    assert (report.imported, report.predictions) == (1, 1)
    predicted = predicted_document(stories)
    # Every layer the baseline gives is in the prediction, the speaker's entity picked from the list.
    quote = next(q for q in predicted.quotes if q.content[0].text.startswith(QUOTE))
    speaker = next(m for m in predicted.mentions if m.id == quote.speaker_mention_id)
    assert speaker.span.text == SPEAKER and speaker.entity_id == "ukraineputin" and quote.cue is not None
    assert all(e.id in {x.id for x in stories.inventory_for(ARTICLE).entities} for e in predicted.entities)

    add_annotator(ls_client, ANNOTATOR, ls_server.state.data_dir, password=PASSWORD)
    (task,) = ls_client.list_task_data(ls_project.id)
    with logged_in_page(ls_server.url, ANNOTATOR, PASSWORD) as page:
        page.goto(f"{ls_server.url}/projects/{ls_project.id}/data?task={task.id}")
        page.wait_for_selector(".lsf-richtext__line")
        # The quote is there as predicted: select it, its kind is chosen; keep it as it is.
        click_region(page, QUOTE)
        assert page.locator(f"input[name='{quote.kind.value}']:visible").is_checked()
        page.keyboard.press("Escape")
        # Its speaker mention shows the baseline's entity; pick the right one.
        click_region(page, SPEAKER)
        trigger = page.locator("[data-testid^='select-trigger']:visible").first
        assert trigger.get_attribute("data-value") == "UkrainePutin (person)"
        pick_entity(page, "Vladimir Putin (person)")
        page.keyboard.press("Escape")
        page.get_by_role("button", name="Submit").click()
        page.wait_for_selector("button:has-text('Update')")

    pulled = pull_from_server(ls_project.id, client=ls_client, out=tmp_path, say=lambda _: None)
    assert pulled.report.rejections == [] and pulled.report.repairs == []
    (doc,) = [d for d in read_documents([pulled.docs_path]) if d.provenance.annotator == ANNOTATOR]
    expected = with_speaker_changed(predicted, SPEAKER, "vladimir-putin", stories)
    assert without_provenance(doc) == without_provenance(expected)
    assert without_provenance(doc) != without_provenance(predicted)
