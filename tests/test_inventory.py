"""Entity inventories: the model and its file, the seeds' inventory, each story's list for a preload, and the
list as a task carries it."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from annotate.cli import app
from annotate.labelstudio.entities import task_entities, task_inventory
from annotate.labelstudio.ids import Rejected
from annotate.labelstudio.project import record_project
from annotate.labelstudio.story_entities import StoryEntities
from annotate.labelstudio.wire import to_json
from schemas import AnnotatedDocument, Article, Entity, Mention, Provenance, Quote, Span, ToolkitError
from schemas.articles import load_articles, load_targets
from schemas.documents import read_documents, write_documents
from schemas.inventory import (
    SEED_ENTITIES,
    EntityInventory,
    InventoryEntry,
    inventory_of_documents,
    read_inventory,
    write_inventory,
)
from schemas.paths import SEED_TARGETS, SEEDS_DIR

SEEDS = load_articles([SEEDS_DIR])
GOLD = read_documents([SEEDS_DIR / "annotations" / "gold.jsonl"])
PUTIN = InventoryEntry(id="vladimir-putin", name="Vladimir Putin", type="person", wikidata="Q7747", aliases=["Putin"])


# ---------------------------------------------------------------- the seeds' inventory


def test_seed_inventory_is_the_gold_entities_with_aliases():
    inventory = read_inventory(SEED_ENTITIES)
    assert inventory.story == SEEDS[0].story and {a.story for a in SEEDS} == {inventory.story}
    gold = {e.id: e for doc in GOLD for e in doc.entities}
    assert {e.id for e in inventory.entities} == set(gold)
    for entry in inventory.entities:
        assert entry.entity() == gold[entry.id], entry.id  # derived from the gold, nothing changed


@pytest.mark.parametrize(("names", "entity_id"), [
    (["Volodymyr Zelensky", "Volodymyr Zelenskyy", "Zelensky", "zelenskyy"], "volodymyr-zelenskyy"),
    (["Putin", "Vladimir Putin", "  vladimir   PUTIN "], "vladimir-putin"),
    (["the Kremlin", "Kremlin"], "kremlin"),
])
def test_spellings_of_one_participant_find_one_entry(names, entity_id):
    inventory = read_inventory(SEED_ENTITIES)
    assert {inventory.find(name).id for name in names} == {entity_id}


def test_a_name_nobody_listed_finds_nothing():
    assert read_inventory(SEED_ENTITIES).find("Olaf Scholz") is None
    assert read_inventory(SEED_ENTITIES).find("—") is None


# ---------------------------------------------------------------- the model and its file


def test_a_name_may_belong_to_one_entry_only():
    macron = InventoryEntry(id="emmanuel-macron", name="Emmanuel Macron", aliases=["Putin"])
    with pytest.raises(ValidationError, match="entities 'vladimir-putin' and 'emmanuel-macron' are both found by the "
                                              "name 'putin'"):
        EntityInventory(entities=[PUTIN, macron])


def test_ids_are_listed_once_and_names_need_letters():
    with pytest.raises(ValidationError, match="entity id 'vladimir-putin' is listed more than once"):
        EntityInventory(entities=[PUTIN, PUTIN.model_copy(update={"name": "V. V. Putin", "aliases": []})])
    with pytest.raises(ValidationError, match="name 'Путин' has no letters or digits"):
        EntityInventory(entities=[InventoryEntry(id="putin", name="Путин")])


def test_file_round_trip_and_bad_file(tmp_path):
    path = tmp_path / "entities.json"
    inventory = EntityInventory(story="s", entities=[PUTIN])
    write_inventory(path, inventory)
    assert read_inventory(path) == inventory
    path.write_text(json.dumps({"entities": [PUTIN.model_dump(), PUTIN.model_dump()]}), encoding="utf-8")
    with pytest.raises(ToolkitError, match=r"entities.json: .*listed more than once; fix the entity inventory"):
        read_inventory(path)


def test_extending_keeps_known_entries_and_adds_gold_names_as_aliases():
    inventory = EntityInventory(entities=[PUTIN])
    gold = [Entity(id="putin", name="V. Putin", type="other"), Entity(id="nato", name="NATO", type="organization")]
    extended = inventory.extended(gold, aliases=True)
    assert [e.id for e in extended.entities] == ["vladimir-putin", "nato"]
    assert extended.get("vladimir-putin") == PUTIN.model_copy(update={"aliases": ["Putin", "V. Putin"]})
    assert inventory.extended(gold).get("vladimir-putin") == PUTIN  # a guess does not add aliases
    assert extended.find("v putin").id == "vladimir-putin" and extended.get("putin") is None


def test_inventory_of_documents_takes_the_first_document_naming_an_entity():
    inventory = inventory_of_documents(GOLD, story="x")
    assert inventory.story == "x" and len(inventory.entities) == len({e.id for d in GOLD for e in d.entities})


def test_canonical_links_every_reference_and_merges_spellings():
    text = "Zelensky said yes. Zelenskyy said no. Merz said maybe."
    article = Article.from_text("a", text)

    def at(word: str, n: int = 0) -> Span:
        start = [i for i in range(len(text)) if text.startswith(word, i)][n]
        return Span.of(text, start, start + len(word))

    doc = AnnotatedDocument(
        article=article, provenance=Provenance(annotator="baseline", origin="prediction"),
        entities=[Entity(id="volodymyr-zelensky", name="Volodymyr Zelensky", type="person"),
                  Entity(id="zelenskyy", name="Zelenskyy"), Entity(id="merz", name="Merz")],
        mentions=[Mention(id="m1", span=at("Zelensky"), entity_id="volodymyr-zelensky"),
                  Mention(id="m2", span=at("Zelenskyy"), entity_id="zelenskyy")],
        quotes=[Quote(id="q1", kind="indirect", content=[at("yes")], speaker_mention_id="m1",
                      speaker_entity_id="volodymyr-zelensky"),
                Quote(id="q2", kind="indirect", content=[at("maybe")], speaker_entity_id="merz")],
    )
    canonical = read_inventory(SEED_ENTITIES).canonical(doc)
    assert [e.id for e in canonical.entities] == ["merz", "volodymyr-zelenskyy"]  # unknown ones stay
    assert canonical.entities[1].wikidata == "Q3881438"
    assert {m.entity_id for m in canonical.mentions} == {"volodymyr-zelenskyy"}
    assert [q.speaker_entity_id for q in canonical.quotes] == ["volodymyr-zelenskyy", "merz"]


# ---------------------------------------------------------------- a story's list for a preload


@pytest.fixture(scope="module")
def stories() -> StoryEntities:
    return StoryEntities.build(SEEDS, inventories=[read_inventory(SEED_ENTITIES)], targets=load_targets(SEED_TARGETS))


def test_every_article_of_a_story_gets_the_same_list(stories):
    (story,) = {a.story for a in SEEDS}
    lists = [stories.inventory_for(a) for a in SEEDS]
    assert all(inventory == lists[0] for inventory in lists) and lists[0].story == story
    seeds = read_inventory(SEED_ENTITIES)
    assert lists[0].entities[:len(seeds.entities)] == seeds.entities  # the seeds' entries first, unchanged
    revision = Article.model_validate({**SEEDS[1].model_dump(), "id": f"{SEEDS[1].id}@r2"})
    assert stories.inventory_for(revision) == lists[0]  # known by its text


def test_one_participant_has_one_id_in_every_article(stories):
    """The baseline calls Zelenskyy 'Volodymyr Zelensky' in 000 and 'Volodymyr Zelenskyy' in 001: one id."""
    picked: dict[str, set[str]] = {}
    for article in SEEDS:
        for item in to_json(stories.predict(article).result):
            assert item.get("from_name") != "entity", item  # every baseline entity is in the list: all picked
            if item.get("from_name") in ("entity_id", "speaker_entity_id"):
                picked.setdefault(article.id[:3], set()).update(item["value"]["choices"])
    assert "volodymyr-zelenskyy" in picked["000"] & picked["001"]
    listed = {e.id for e in stories.inventory_for(SEEDS[0]).entities}
    assert set().union(*picked.values()) <= listed


def test_earlier_gold_and_the_baseline_fill_a_story_without_an_inventory():
    articles = [a.model_copy(update={"story": "another"}) for a in SEEDS[:2]]
    gold = [GOLD[0].model_copy(update={"article": articles[0]})]
    built = StoryEntities.build(articles, gold=gold).inventory_for(articles[1])
    gold_ids = {e.id for e in GOLD[0].entities}
    assert gold_ids <= {e.id for e in built.entities}
    # 001's baseline "Volodymyr Zelenskyy" found the gold's entry; its own guesses were added after it
    assert built.find("Volodymyr Zelenskyy").id == "volodymyr-zelenskyy"
    assert "ukraineputin" in {e.id for e in built.entities}


# ---------------------------------------------------------------- the list in a task's data


def test_task_data_round_trip():
    inventory = read_inventory(SEED_ENTITIES)
    data = json.loads(json.dumps(to_json(task_entities(inventory))))
    putin = next(o for o in data if o["alias"] == "vladimir-putin")
    assert putin["value"] == "Vladimir Putin (person)" and putin["hint"] == "Wikidata Q7747; also: Putin"
    assert task_inventory(data, "task 1") == EntityInventory(entities=inventory.entities)
    assert task_inventory("", "task 1") is None and task_inventory(None, "task 1") is None


@pytest.mark.parametrize(("value", "message"), [
    ("Putin", r"task 7: data.entities is a str, not a list of entities; the task's entity list was edited"),
    ([{"value": "Putin (person)"}], r"task 7: data.entities\[0\]: alias: .*preload the article again"),
    ([{"value": "A (other)", "alias": "a", "entity_name": "A", "entity_type": "other"}] * 2,
     r"task 7: data.entities: .*entity id 'a' is listed more than once; the task's entity list was edited"),
])
def test_malformed_task_list_is_rejected_with_the_remedy(value, message):
    with pytest.raises(Rejected, match=message):
        task_inventory(value, "task 7")


def test_seed_predictions_cover_every_layer_the_baseline_gives(stories):
    """Quotes of each kind with fragments and cues, mentions with their entity picked, speakers without a
    mention picked too, and said_by / cue_of / continues; claims with their class and claimant, and stances
    (added by the claim and stance rules, ``annotate.extract.layers``)."""
    seen: set[tuple[str, str]] = set()
    for article in SEEDS:
        for item in to_json(stories.predict(article).result):
            if item["type"] == "relation":
                seen.add(("relation", item["labels"][0]))
            elif item["type"] == "labels":
                seen.add(("region", item["value"]["labels"][0]))
            else:
                seen.add((item["from_name"], item["value"]["choices"][0] if item["from_name"] == "kind" else ""))
    assert {("region", "Content"), ("region", "Cue"), ("region", "Mention"), ("kind", "direct"),
            ("kind", "indirect"), ("kind", "mixed"), ("entity_id", ""), ("speaker_entity_id", ""),
            ("relation", "said_by"), ("relation", "cue_of"), ("relation", "continues"), ("region", "Claim"),
            ("check_worthy", ""), ("relation", "claimed_by"), ("stance_target", ""), ("stance_polarity", "")} <= seen


@pytest.mark.server
def test_cli_preload_gives_every_task_its_storys_list(ls_client, ls_project, tmp_path):
    """`annotate preload` with the seeds' inventory (default), another for any story, and earlier gold."""
    record_project(ls_client.url, ls_project)
    general = tmp_path / "general.json"
    write_inventory(general, EntityInventory(entities=[InventoryEntry(id="olaf-scholz", name="Olaf Scholz")]))
    gold = tmp_path / "gold.jsonl"
    write_documents(gold, GOLD[:1])
    result = CliRunner().invoke(app, ["preload", "--entities", str(SEED_ENTITIES), "--entities", str(general),
                                      "--gold", str(gold)])
    assert result.exit_code == 0, result.output
    tasks = ls_client.export_tasks(ls_project.id)
    assert len(tasks) == len(SEEDS)
    lists = {json.dumps(t.data["entities"], sort_keys=True) for t in tasks}
    assert len(lists) == 1  # one list for the one story
    listed = [o["alias"] for o in tasks[0].data["entities"]]
    seeds = [e.id for e in read_inventory(SEED_ENTITIES).entities]
    assert listed[:len(seeds) + 1] == [*seeds, "olaf-scholz"] and "ukraineputin" in listed
    for task in tasks:
        (prediction,) = ls_client.sdk.predictions.list(task=task.id)
        picks = {r["value"]["choices"][0] for r in prediction.result if r.get("from_name") == "entity_id"}
        assert picks and picks <= set(listed)
