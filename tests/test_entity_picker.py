"""The entity picker: entities chosen from the task's entity list, read back as the list's ids.

Offline: the canonical form with a list (``encode``'s docstring) round-trips exactly, picks outside the
task's list are rejected one by one, typed names the list knows link to it. In the browser (Label Studio
1.23.2 in Debian's Chromium): an annotator draws mentions and picks a different entity for each from the
drop-down by clicking, types a new entity in the box for another, submits, and the export holds exactly
those ids per region, which the exporter reads back as the list's entities.
"""

from __future__ import annotations

import json

import pytest
from chromium import SELECTION_POINTS_JS, logged_in_page, needs_chromium
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_labelstudio import (
    ARTICLE,
    PROVENANCE,
    PUTIN,
    box,
    by_id,
    canonical_documents,
    choice,
    dump,
    export_bytes,
    exported_annotation,
    exported_task,
    full_document,
    region,
    relation,
    span,
    task_data,
)

from annotate.labelstudio.annotators import add_annotator
from annotate.labelstudio.decode import results_to_document
from annotate.labelstudio.encode import document_to_results
from annotate.labelstudio.entities import task_entities
from annotate.labelstudio.export import parse_export
from annotate.labelstudio.preload import new_task
from annotate.labelstudio.pull import pull_from_file
from annotate.labelstudio.snapshots import fetch_export
from annotate.labelstudio.wire import to_json
from schemas import AnnotatedDocument, Article, Entity, EntityType, ToolkitError
from schemas.documents import read_documents
from schemas.inventory import EntityInventory, InventoryEntry

LIST = EntityInventory(entities=[
    InventoryEntry(id=PUTIN, name="Vladimir Putin", type="person", wikidata="Q7747", aliases=["Putin"]),
    InventoryEntry(id="the-kremlin", name="The Kremlin", aliases=["Kremlin"]),
    InventoryEntry(id="olaf-scholz", name="Olaf Scholz", type="person"),
])


def convert(results: list, entities: EntityInventory | None = LIST):
    return results_to_document(ARTICLE, json.loads(json.dumps(results)), PROVENANCE, entities=entities)


# ---------------------------------------------------------------- the canonical form with a list


def test_listed_entities_are_picked_and_the_rest_typed():
    results = document_to_results(full_document(), LIST)
    assert by_id(results, "m1", "entity_id")["value"]["choices"] == [PUTIN]
    assert not [r for r in results if r.get("id") == "m1" and r["from_name"] in ("entity", "entity_type", "wikidata")]
    assert by_id(results, "m3", "entity")["value"]["text"] == ["Emmanuel Macron"]  # not listed: typed
    assert by_id(results, "q3", "speaker_entity_id")["value"]["choices"] == ["the-kremlin"]
    outcome = convert(results)
    assert outcome.rejections == [] and outcome.repairs == []
    assert dump(outcome.document) == dump(full_document())


def test_a_type_or_wikidata_other_than_the_lists_is_written_and_read_back():
    listed = EntityInventory(entities=[InventoryEntry(id=PUTIN, name="Vladimir Putin", type="other", wikidata="Q1")])
    results = document_to_results(full_document(), listed)
    for mention in ("m1", "m2"):
        assert by_id(results, mention, "entity_type")["value"]["choices"] == ["person"]
        assert by_id(results, mention, "wikidata")["value"]["text"] == ["Q7747"]
    assert dump(convert(results, listed).document) == dump(full_document())


@st.composite
def documents_with_lists(draw) -> tuple[AnnotatedDocument, EntityInventory]:
    """A canonical document and a list holding some of its entities (types may differ where a mention says)."""
    doc = draw(canonical_documents())
    mentioned = {m.entity_id for m in doc.mentions}
    entries = [InventoryEntry(id="olaf-scholz", name="Olaf Scholz", type="person", wikidata="Q61053")]
    for e in doc.entities:
        if not draw(st.booleans()):
            continue
        entry = InventoryEntry(id=e.id, name=e.name, type=e.type, wikidata=e.wikidata)
        if e.id in mentioned:  # a mention can say how the document's entity differs from the entry
            entry = entry.model_copy(update={
                "type": draw(st.sampled_from(list(EntityType))),
                "wikidata": e.wikidata and draw(st.sampled_from([e.wikidata, "Q5"])),
                "aliases": draw(st.sampled_from([[], [f"{e.name} Jr"]]))})
        entries.append(entry)
    return doc, EntityInventory(entities=draw(st.permutations(entries)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents_with_lists(), st.randoms(use_true_random=False))
def test_round_trip_with_a_list_changes_nothing(case, rnd):
    doc, listed = case
    results = json.loads(json.dumps(document_to_results(doc, listed)))
    rnd.shuffle(results)
    outcome = results_to_document(doc.article, results, doc.provenance, entities=listed)
    assert outcome.rejections == [] and outcome.repairs == []
    assert dump(outcome.document) == dump(doc)
    picked = {r["value"]["choices"][0] for r in results if r.get("from_name") in ("entity_id", "speaker_entity_id")}
    assert picked == {e.id for e in doc.entities if listed.get(e.id)} & (
        {m.entity_id for m in doc.mentions} | {q.speaker_entity_id for q in doc.quotes if q.speaker_mention_id is None})


def test_what_a_pick_cannot_carry_is_refused_when_encoding():
    doc = full_document()
    renamed = EntityInventory(entities=[InventoryEntry(id=PUTIN, name="Putin V.", type="person", wikidata="Q7747")])
    with pytest.raises(ToolkitError, match="entity 'vladimir-putin' .* differs from its entry in the entity list"):
        document_to_results(doc, renamed)
    typed_alias = EntityInventory(entities=[InventoryEntry(id="macron", name="President Macron",
                                                           aliases=["Emmanuel Macron"])])
    with pytest.raises(ToolkitError, match="entity 'emmanuel-macron' is not in the entity list, but its name "
                                           "'Emmanuel Macron' is the list's 'macron'"):
        document_to_results(doc, typed_alias)
    typed_kremlin = EntityInventory(entities=[InventoryEntry(id="the-kremlin", name="The Kremlin", type="country")])
    with pytest.raises(ToolkitError, match="entity 'the-kremlin': differs from its entry .* and has no mention"):
        document_to_results(doc, typed_kremlin)


# ---------------------------------------------------------------- what annotators and stale predictions give


def picked_quote(entity: str) -> list[dict]:
    q, m = span("talks were possible"), span("He")
    return [region("q", q, "Content"), choice("q", q, "kind", "indirect"), region("m", m, "Mention"),
            choice("m", m, "entity_id", entity), relation("q", "m", "said_by")]


def test_a_picked_entity_is_the_lists_entry():
    doc = convert(picked_quote(PUTIN)).document
    assert doc.entities == [Entity(id=PUTIN, name="Vladimir Putin", type="person", wikidata="Q7747")]
    assert doc.quotes[0].speaker_mention_id == "m"


def test_a_pick_outside_the_tasks_list_is_rejected_alone():
    """A stale prediction (or a list changed since preload) names an id the task's list lacks."""
    outcome = convert(picked_quote("volodymyr-zelenskyy"))
    assert outcome.document.mentions == [] and [q.id for q in outcome.document.quotes] == ["q"]
    first = outcome.rejections[0]
    assert first.region_id == "m"
    assert "Mention region 'm' 'He' at [" in first.message
    assert "entity 'volodymyr-zelenskyy' is picked, but the task lists 3 entities, not this one (a prediction or " \
           "annotation made with another list); pick the entity again, or type it as a new one (mention left out)" \
           in first.message
    assert "said_by links mention 'm', which was left out" in outcome.rejections[1].message
    without_list = convert(picked_quote(PUTIN), entities=None)
    assert "is picked, but the task has no entity list" in without_list.rejections[0].message


def test_a_stale_speaker_pick_keeps_the_quote_without_its_speaker():
    q = span("talks were possible")
    outcome = convert([region("q", q, "Content"), choice("q", q, "kind", "indirect"),
                       choice("q", q, "speaker_entity_id", "nato")])
    assert outcome.document.quotes[0].speaker_entity_id is None and outcome.document.entities == []
    assert outcome.rejections[0].region_id == "q"
    assert "speaker: entity 'nato' is picked, but the task lists 3" in outcome.rejections[0].message
    assert outcome.rejections[0].message.endswith("(speaker pick ignored)")


def test_a_typed_name_the_list_knows_links_to_its_entry_with_a_note():
    s, q = span("Kremlin"), span("26 countries had pledged troops")
    outcome = convert([region("m", s, "Mention"), box("m", s, "entity", "Kremlin"),
                       region("q", q, "Content"), choice("q", q, "kind", "indirect"),
                       box("q", q, "speaker_entity", "Putin")])
    assert outcome.rejections == []
    assert [(e.id, e.name) for e in outcome.document.entities] == [("the-kremlin", "The Kremlin"),
                                                                  (PUTIN, "Vladimir Putin")]
    assert outcome.document.quotes[0].speaker_entity_id == PUTIN
    reasons = [r.reason for r in outcome.repairs]
    assert any("name 'Kremlin' is the entity list's 'The Kremlin' (the-kremlin); linked to it" in r for r in reasons)
    assert any("speaker box: the name 'Putin' is the entity list's 'Vladimir Putin'" in r for r in reasons)


def test_a_pick_and_a_different_typed_name_are_rejected():
    results = picked_quote(PUTIN) + [box("m", span("He"), "entity", "Olaf Scholz")]
    outcome = convert(results)
    assert outcome.document.mentions == []
    assert "entity 'Vladimir Putin' is picked from the list and 'Olaf Scholz' typed as a new one; keep one of the " \
           "two (mention left out)" in outcome.rejections[0].message
    same = convert(picked_quote(PUTIN) + [box("m", span("He"), "entity", "Putin")])
    assert same.rejections == [] and same.document.mentions[0].entity_id == PUTIN


def test_an_export_reads_each_tasks_own_list():
    listed = to_json(task_entities(LIST))
    # One annotator per task: the same article by the same annotator would be one document (the latest)
    good = exported_task(1, [exported_annotation(11, 1, picked_quote(PUTIN))], data=task_data(entities=listed))
    bare = exported_task(2, [exported_annotation(21, 2, picked_quote(PUTIN))], data=task_data(entities=""))
    broken = exported_task(3, [exported_annotation(31, 3, picked_quote(PUTIN))],
                           data=task_data(entities=[{"value": "x"}]))
    conversion = parse_export(export_bytes([good, bare, broken]))
    by_task = {d.provenance.task_id: d for d in conversion.documents}
    assert by_task[1].mentions[0].entity_id == PUTIN and by_task[2].mentions == [] and by_task[3].mentions == []
    messages = [(r.task_id, r.message) for r in conversion.rejections]
    assert any(t == 2 and "task has no entity list" in m for t, m in messages)
    assert any(t == 3 and "task 3: data.entities[0]:" in m and "preload the article again" in m for t, m in messages)
    assert any(t == 3 and "task has no entity list" in m for t, m in messages)  # and its pick, on its own


def test_pull_reports_a_stale_pick_with_its_task_and_annotation(tmp_path):
    stale = exported_task(4, [exported_annotation(41, 1, picked_quote("volodymyr-zelenskyy"))],
                          data=task_data(entities=to_json(task_entities(LIST))))
    export = tmp_path / "export.json"
    export.write_bytes(export_bytes([stale]))
    result = pull_from_file(export, out=tmp_path / "pulled")
    (doc,) = read_documents([result.docs_path])
    assert [q.id for q in doc.quotes] == ["q"] and doc.mentions == []  # the rest is kept
    first = result.report.rejections[0]
    assert (first.task_id, first.annotation_id, first.region_id) == (4, 41, "m")
    assert "entity 'volodymyr-zelenskyy' is picked, but the task lists 3 entities" in first.message
    assert json.loads(result.report_path.read_text())["rejections"][0]["message"] == first.message


def test_a_task_carries_its_list_for_the_pickers():
    task = to_json(new_task(ARTICLE, [], entities=LIST))
    assert [o["alias"] for o in task["data"]["entities"]] == [e.id for e in LIST.entities]
    assert to_json(new_task(ARTICLE))["data"]["entities"] == []  # no list: the key is there, an empty list


# ---------------------------------------------------------------- in the browser

ANNOTATOR = "picker.annotator@example.com"
PASSWORD = "Picker-Test-Passw0rd"
STORY_TEXT = "Putin spoke first. Zelenskyy replied. Then Scholz and Macron spoke too."
STORY = Article.from_text("picker-1", STORY_TEXT, story="picker-story")
STORY_LIST = EntityInventory(story="picker-story", entities=[
    InventoryEntry(id=PUTIN, name="Vladimir Putin", type="person", wikidata="Q7747", aliases=["Putin"]),
    InventoryEntry(id="volodymyr-zelenskyy", name="Volodymyr Zelenskyy", type="person", wikidata="Q3881438",
                   aliases=["Zelensky", "Zelenskyy"]),
    InventoryEntry(id="emmanuel-macron", name="Emmanuel Macron", type="person", wikidata="Q3052772"),
])


def draw_region(page, needle: str, label: str) -> None:
    """Click a label, drag the mouse over ``needle``, then select the new region in the region list (Label Studio
    leaves a new region unselected), which opens its panel."""
    page.locator(".lsf-label", has_text=label).first.click()
    points = page.evaluate(SELECTION_POINTS_JS, needle)
    assert points is not None, f"{needle!r} is not rendered"
    page.mouse.move(points["x1"], points["y1"])
    page.mouse.down()
    page.mouse.move(points["x2"], points["y2"], steps=8)
    page.mouse.up()
    page.locator(".lsf-outliner-item__title", has_text=needle).last.click()


def pick_entity(page, shown: str) -> None:
    """Open the selected region's entity drop-down and click the option showing ``shown``."""
    page.locator("[data-testid^='select-trigger']:visible").first.click()
    page.get_by_role("option", name=shown).click()
    trigger = page.locator("[data-testid^='select-trigger']:visible").first
    assert trigger.get_attribute("data-value") == shown


def drop_selection(page) -> None:
    page.keyboard.press("Escape")  # unselect the region, so that the next label click starts a new one


@pytest.mark.server
@pytest.mark.browser
@needs_chromium
def test_an_annotator_picks_an_entity_per_region_and_the_export_has_the_ids(ls_server, ls_client, ls_project):
    result = ls_client.import_tasks(ls_project.id, [new_task(STORY, entities=STORY_LIST)])
    (task_id,) = result.task_ids
    add_annotator(ls_client, ANNOTATOR, ls_server.state.data_dir, password=PASSWORD)
    with logged_in_page(ls_server.url, ANNOTATOR, PASSWORD) as page:
        page.goto(f"{ls_server.url}/projects/{ls_project.id}/data?task={task_id}")
        page.wait_for_selector(".lsf-richtext__line")
        draw_region(page, "Putin", "Mention")
        pick_entity(page, "Vladimir Putin (person)")
        drop_selection(page)
        draw_region(page, "Zelenskyy", "Mention")
        pick_entity(page, "Volodymyr Zelenskyy (person)")
        drop_selection(page)
        draw_region(page, "Scholz", "Mention")  # not listed: typed in the box below the list
        page.locator("input[name='entity']:visible").click()  # a one-row TextArea is an input
        page.keyboard.type("Olaf Scholz")
        page.keyboard.press("Enter")
        drop_selection(page)
        page.get_by_role("button", name="Submit").click()
        page.wait_for_selector("button:has-text('Update')")

    raw = fetch_export(ls_client, ls_project.id)
    (task,) = [t for t in json.loads(raw) if t["id"] == task_id]
    (annotation,) = task["annotations"]
    spans = {r["id"]: r["value"]["text"] for r in annotation["result"] if r["type"] == "labels"}
    picks = {spans[r["id"]]: r["value"]["choices"] for r in annotation["result"] if r["from_name"] == "entity_id"}
    assert picks == {"Putin": [PUTIN], "Zelenskyy": ["volodymyr-zelenskyy"]}  # each region its own pick, as ids
    typed = {spans[r["id"]]: r["value"]["text"] for r in annotation["result"] if r["from_name"] == "entity"}
    assert typed == {"Scholz": ["Olaf Scholz"]}

    (doc,) = [d for d in parse_export(raw).documents if d.provenance.task_id == task_id]
    linked = {m.span.text: m.entity_id for m in doc.mentions}
    assert linked == {"Putin": PUTIN, "Zelenskyy": "volodymyr-zelenskyy", "Scholz": "olaf-scholz"}
    assert {e.id: (e.name, e.wikidata) for e in doc.entities} == {
        PUTIN: ("Vladimir Putin", "Q7747"), "volodymyr-zelenskyy": ("Volodymyr Zelenskyy", "Q3881438"),
        "olaf-scholz": ("Olaf Scholz", None)}
