"""The statement-linking project against the real server: config, tasks from the seed gold, preload,
an annotation submitted through the API pulled back, and what decoding refuses.

Predictions come from the hand-made seed statements (``seeds/annotations/statements/``), not from
the baseline linker, so these tests do not depend on it.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from label_studio_sdk.label_interface import LabelInterface
from typer.testing import CliRunner

from annotate.cli import app
from annotate.labelstudio.linking import config as lc
from annotate.labelstudio.linking.decode import LinkingGold, decode_result
from annotate.labelstudio.linking.project import init_linking_project, linking_project, preload_linking, pull_linking
from annotate.labelstudio.linking.replay import replay_statements
from annotate.labelstudio.linking.tasks import build_tasks, content_sha256, ranker_value, speaker_groups
from annotate.labelstudio.linking.wire import LinkingTaskData, RankerResult, RenderingItem
from schemas import QuoteKind, ToolkitError
from schemas.documents import read_documents, read_statement_documents
from schemas.quote_mentions import gloss_of, quote_mentions
from schemas.statements import StatementDocument

pytestmark = pytest.mark.server

GOLD_PATH = Path("seeds/annotations/gold.jsonl")
GOLD = read_documents([GOLD_PATH])
SEED_STATEMENTS = Path("seeds/annotations/statements")
[ANNOTATOR_1] = read_statement_documents([SEED_STATEMENTS / "annotator-1.jsonl"])
[ANNOTATOR_2] = read_statement_documents([SEED_STATEMENTS / "annotator-2.jsonl"])
STORY = "eef-2025-09-05-foreign-troops"


def grouping(doc: StatementDocument, speakers: set[str]) -> set[tuple[str, str, tuple[str, ...]]]:
    """(statement id, speaker, rendering keys) of the statements of ``speakers``: what linking decides."""
    return {(s.id, s.speaker_entity_id, tuple(s.keys())) for s in doc.statements if s.speaker_entity_id in speakers}


def task_speakers() -> set[str]:
    return {g.speaker for g in speaker_groups(GOLD)}


def split_off_last(doc: StatementDocument, speaker: str) -> StatementDocument:
    """``doc`` with the last rendering of ``speaker``'s largest statement made a statement of its own."""
    doc = doc.model_copy(deep=True)
    largest = max((s for s in doc.statements if s.speaker_entity_id == speaker), key=lambda s: len(s.renderings))
    last = largest.renderings.pop()
    alone = largest.model_copy(update={"id": f"s-{last.article_id}-{last.quote_id}", "renderings": [last]})
    return StatementDocument.model_validate({**doc.model_dump(), "statements": [
        *(x.model_dump() for x in doc.statements), alone.model_dump()]})


def result_for(data: LinkingTaskData, doc: StatementDocument) -> list[dict]:
    """The ranker result an annotator who grouped as ``doc`` submits for this task."""
    groups = [s.keys() for s in doc.statements if s.speaker_entity_id == data.speaker]
    return [RankerResult(value=ranker_value(data, groups)).model_dump(mode="json")]


# ---------------------------------------------------------------- config and tasks


def test_config_is_valid_on_the_server_and_names_the_buckets(ls_client):
    config = lc.generate_linking_config(5)
    ls_client.validate_config(config)  # raises on a config the server refuses
    interface = LabelInterface(config)
    assert [o.name for o in interface.objects] == [lc.LIST]
    assert interface.get_control(lc.RANKER).tag == "Ranker"
    assert lc.bucket_count(config) == 5
    assert [lc.bucket_number(lc.bucket_name(n)) for n in (1, 2, 16)] == [1, 2, 16]
    assert lc.bucket_number(lc.UNSORTED) is None
    assert tuple(RenderingItem.model_fields) == lc.ITEM_FIELDS
    with pytest.raises(ToolkitError, match="--buckets 0"):
        lc.generate_linking_config(0)
    with pytest.raises(ToolkitError, match="no <Ranker"):
        lc.bucket_count("<View><Text name='t' value='$t'/></View>")


def test_init_is_idempotent_and_grows_the_buckets(ls_client):
    title = "test linking init"
    assert init_linking_project(ls_client, buckets=4, title=title).action == "created"
    assert init_linking_project(ls_client, buckets=4, title=title).action == "unchanged"
    grown = init_linking_project(ls_client, buckets=6, title=title)
    assert (grown.action, grown.changed) == ("updated", ["label_config"])
    assert lc.bucket_count(linking_project(ls_client, title).label_config) == 6


def test_tasks_from_the_seed_gold():
    tasks = build_tasks(GOLD, None, lc.DEFAULT_BUCKETS)
    mentions = list(quote_mentions(GOLD))
    per_speaker: dict[str, list[str]] = {}
    for m in mentions:
        per_speaker.setdefault(m.speaker, []).append(m.key)
    expected = {s for s, keys in per_speaker.items() if s is not None and len(keys) >= 2}
    assert {t.data.speaker for t in tasks} == expected
    by_key = {m.key: m for m in mentions}
    articles = {d.article.id: d.article for d in GOLD}
    for task in tasks:
        data = task.data
        assert task.predictions is None
        assert data.story == STORY and data.sha256 == content_sha256(data)
        assert sorted(data.item_ids()) == sorted(per_speaker[data.speaker])
        order = [(by_key[i].article_id, by_key[i].start) for i in data.item_ids()]
        assert order == sorted(order)
        for item in data.items:
            m = by_key[item.id]
            outlet = articles[m.article_id].outlet or m.article_id
            assert item.title == f"{outlet} · {m.kind.value}"
            first = next(q for q in next(d for d in GOLD if d.article.id == m.article_id).quotes
                         if q.id == m.quote_id).content[0]
            assert f"<mark>{html.escape(first.text)}</mark>" in item.html
    putin = next(t for t in tasks if t.data.speaker == "vladimir-putin")
    assert len(putin.data.items) == 27
    assert any(i.title.startswith("UPI · ") for i in putin.data.items)  # 002 has an outlet


def test_prediction_fills_buckets_in_first_rendering_order():
    tasks = build_tasks(GOLD, [ANNOTATOR_1], lc.DEFAULT_BUCKETS, model_version="seed-annotator-1")
    for task in tasks:
        [prediction] = task.predictions
        assert prediction.model_version == "seed-annotator-1"
        ranker = prediction.result[0].value.ranker
        assert ranker[lc.UNSORTED] == []
        wanted = sorted(tuple(s.keys()) for s in ANNOTATOR_1.statements if s.speaker_entity_id == task.data.speaker)
        got = [tuple(v) for k, v in ranker.items() if k != lc.UNSORTED]
        assert sorted(got) == wanted
        items = task.data.item_ids()
        firsts = [items.index(g[0]) for g in got]
        assert firsts == sorted(firsts)


def test_too_few_buckets_is_one_clear_line():
    with pytest.raises(ToolkitError, match=r"'vladimir-putin'.*10 predicted statements need 13 buckets.*has 8; run "
                                           r"`annotate statements init --buckets 13`"):
        build_tasks(GOLD, [ANNOTATOR_1], 8)


def test_a_prediction_naming_another_speakers_quote_is_refused():
    bad = ANNOTATOR_1.model_copy(deep=True)
    putin = next(s for s in bad.statements if s.speaker_entity_id == "vladimir-putin")
    macron = next(s for s in bad.statements if s.speaker_entity_id == "emmanuel-macron")
    stolen = macron.renderings.pop()
    putin.renderings.append(stolen)
    with pytest.raises(ToolkitError, match=f"rendering '{stolen.key}' is not a quote of 'vladimir-putin'"):
        build_tasks(GOLD, [bad], lc.DEFAULT_BUCKETS)


# ---------------------------------------------------------------- the server round trip


@pytest.fixture(scope="module")
def project(ls_client):
    return init_linking_project(ls_client, title="test linking round trip").project


def test_preload_is_idempotent(ls_client, project):
    first = preload_linking(ls_client, project, GOLD, [ANNOTATOR_1])
    assert (first.imported, first.predictions, first.unchanged) == (6, 6, 0)
    again = preload_linking(ls_client, project, GOLD, [ANNOTATOR_1])
    assert (again.imported, again.unchanged) == (0, 6)
    assert len(ls_client.list_task_data(project.id)) == 6


def test_preload_refuses_a_task_whose_gold_changed(ls_client, project):
    changed = [d.model_copy(deep=True) for d in GOLD]
    putin = next(e for d in changed for e in d.entities if e.id == "vladimir-putin")
    for d in changed:
        for e in d.entities:
            if e.id == "vladimir-putin":
                e.name = "V. V. Putin"
    assert putin.name == "V. V. Putin"
    with pytest.raises(ToolkitError, match="'vladimir-putin' in story .* made from other gold"):
        preload_linking(ls_client, project, changed, None)


def test_an_annotation_through_the_api_pulls_back_to_the_same_statements(ls_client, project, tmp_path):
    preload_linking(ls_client, project, GOLD, [ANNOTATOR_1])
    user = ls_client.create_user(email="linker.api@example.com", username="linker.api")
    tasks = {t.data["speaker"]: t for t in ls_client.list_task_data(project.id)}
    wanted = split_off_last(ANNOTATOR_2, "vladimir-putin")  # not what the prediction (annotator 1) shows
    for task in tasks.values():
        data = LinkingTaskData.model_validate(task.data)
        ls_client.create_annotation(task.id, result_for(data, wanted), completed_by=user.id)
    out = tmp_path / "statements.jsonl"
    report = pull_linking(ls_client, project, GOLD, out)
    assert report.rejections == [] and report.annotators == ["linker.api@example.com"]
    [doc] = read_statement_documents([out])
    assert doc.story == STORY and doc.provenance.annotator == "linker.api@example.com"
    assert grouping(doc, task_speakers()) == grouping(wanted, task_speakers())
    assert grouping(doc, task_speakers()) != grouping(ANNOTATOR_1, task_speakers())  # the test can fail
    mentions = {m.key: m for m in quote_mentions(GOLD)}
    for s in doc.statements:
        assert s.gloss == gloss_of([mentions[k] for k in s.keys()]) and len(s.gloss) <= 120
    assert json.loads((tmp_path / "statements.export.json").read_text())[0]["annotations"]
    assert json.loads((tmp_path / "statements.report.json").read_text())["statements"] == len(doc.statements)


def test_unsorted_renderings_are_rejected_one_by_one(ls_client, project, tmp_path):
    preload_linking(ls_client, project, GOLD, [ANNOTATOR_1])
    user = ls_client.create_user(email="linker.lazy@example.com", username="linker.lazy")
    task = next(t for t in ls_client.list_task_data(project.id) if t.data["speaker"] == "emmanuel-macron")
    data = LinkingTaskData.model_validate(task.data)
    keep, *left = data.item_ids()
    ranker = {lc.UNSORTED: left, lc.bucket_name(3): [keep]}
    ls_client.create_annotation(task.id, [{"from_name": lc.RANKER, "to_name": lc.LIST, "type": "ranker",
                                           "value": {"ranker": ranker}}], completed_by=user.id)
    report = pull_linking(ls_client, project, GOLD, tmp_path / "lazy.jsonl")
    docs = {d.provenance.annotator: d for d in read_statement_documents([tmp_path / "lazy.jsonl"])}
    lazy = docs["linker.lazy@example.com"]
    assert [s.keys() for s in lazy.statements if s.speaker_entity_id == "emmanuel-macron"] == [[keep]]
    # speakers quoted once in the story have no task; each of their quotes is a statement of its own
    alone = {s.speaker_entity_id for s in lazy.statements} - {"emmanuel-macron"}
    assert alone and all(len(s.renderings) == 1 for s in lazy.statements)
    assert alone == {g.speaker for g in speaker_groups(GOLD, minimum=1) if len(g.mentions) == 1}
    assert lazy.provenance.task_id == task.id
    rejected = [r for r in report.rejections if r.task_id == task.id]
    assert sorted(r.region_id for r in rejected) == sorted(left)
    assert all("left unsorted" in r.message for r in rejected)


def test_the_cli_inits_preloads_and_pulls(ls_server, tmp_path):
    runner = CliRunner()
    title = ["--title", "test linking cli"]
    predictions = str(SEED_STATEMENTS / "annotator-1.jsonl")
    result = runner.invoke(app, ["statements", "init", "--buckets", "14", *title])
    assert result.exit_code == 0, result.output
    assert "created, 14 buckets" in result.output
    result = runner.invoke(app, ["statements", "preload", str(GOLD_PATH), "--predictions", predictions, *title])
    assert result.exit_code == 0, result.output
    assert "imported 6 task(s) with 6 prediction(s), 0 already there" in result.output
    out = tmp_path / "cli.jsonl"
    result = runner.invoke(app, ["statements", "pull", "--out", str(out), "--gold", str(GOLD_PATH), *title])
    assert result.exit_code == 0, result.output
    assert "0 annotation(s) of 6 task(s) -> 0 document(s)" in result.output and out.exists()


# ---------------------------------------------------------------- what decoding refuses


@pytest.fixture(scope="module")
def macron_task() -> tuple[LinkingTaskData, LinkingGold]:
    [task] = [t for t in build_tasks(GOLD, None, lc.DEFAULT_BUCKETS) if t.data.speaker == "emmanuel-macron"]
    return task.data, LinkingGold.of(GOLD)


def ranker(**columns: list[str]) -> list[dict]:
    return [{"from_name": lc.RANKER, "to_name": lc.LIST, "type": "ranker", "value": {"ranker": columns}}]


def test_decode_keeps_buckets_as_statements(macron_task):
    data, gold = macron_task
    a, b, *rest = data.item_ids()
    statements, rejections = decode_result(data, ranker(statement_2=[b, a], statement_1=rest, _=[]), gold, "t")
    assert [s.keys() for s in statements] == [[a, b], rest]
    assert statements[0].id == "s-{}-{}".format(*a.split("/"))
    assert rejections == []


def test_decode_refuses_an_item_not_in_the_task(macron_task):
    data, gold = macron_task
    with pytest.raises(ToolkitError, match=r"^t: column 'statement_1' holds '000_x/q9', which is not an item of this "
                                           r"task; the annotation is not for this task$"):
        decode_result(data, ranker(statement_1=["000_x/q9"]), gold, "t")


def test_decode_refuses_a_rendering_in_two_buckets(macron_task):
    data, gold = macron_task
    a, *_ = data.item_ids()
    with pytest.raises(ToolkitError, match=f"^t: rendering '{a}' is in 'statement_1' and 'statement_2'; a quote "
                                           "renders one statement$"):
        decode_result(data, ranker(statement_1=[a], statement_2=[a]), gold, "t")


def test_decode_refuses_an_unknown_column(macron_task):
    data, gold = macron_task
    with pytest.raises(ToolkitError, match="unknown column 'best'"):
        decode_result(data, ranker(best=data.item_ids()), gold, "t")


def test_decode_refuses_a_changed_gold(macron_task):
    data, _ = macron_task
    changed = [d.model_copy(deep=True) for d in GOLD]
    article_id, quote_id = data.item_ids()[0].split("/")
    quote = next(q for d in changed if d.article.id == article_id for q in d.quotes if q.id == quote_id)
    quote.kind = QuoteKind.INDIRECT if quote.kind is QuoteKind.DIRECT else QuoteKind.DIRECT
    with pytest.raises(ToolkitError, match=r"^t: the gold changed since this task was imported \(task sha256 "):
        decode_result(data, ranker(statement_1=data.item_ids()), LinkingGold.of(changed), "t")


def test_decode_refuses_task_data_edited_in_label_studio(macron_task):
    data, gold = macron_task
    edited = data.model_copy(update={"heading": "someone typed here"})
    with pytest.raises(ToolkitError, match="the task's data was changed in Label Studio"):
        decode_result(edited, ranker(statement_1=data.item_ids()), gold, "t")


def test_gloss_is_the_longest_direct_rendering_cut_to_120():
    mentions = [m for m in quote_mentions(GOLD) if m.speaker == "vladimir-putin"]
    direct = max((m for m in mentions if m.is_direct), key=lambda m: len(m.text))
    gloss = gloss_of(mentions)
    assert len(gloss) <= 120
    assert gloss.removesuffix("…") == " ".join(direct.text.split())[:len(gloss.removesuffix("…"))]
    short = [m for m in mentions if not m.is_direct and len(m.text) < 100]
    assert gloss_of(short) == " ".join(max(short, key=lambda m: len(m.text)).text.split())  # none direct: longest


def test_recorded_passes_replay_as_their_annotators_and_pull_back_unchanged(ls_client, tmp_path):
    project = init_linking_project(ls_client, 24, "test linking replay", 2).project
    preload_linking(ls_client, project, GOLD, [ANNOTATOR_1])
    first = replay_statements(ls_client, project, [ANNOTATOR_1, ANNOTATOR_2])
    assert (first.created, first.already_there) == (2 * len(speaker_groups(GOLD)), 0)
    again = replay_statements(ls_client, project, [ANNOTATOR_1, ANNOTATOR_2])
    assert (again.created, again.already_there) == (0, first.created)
    report = pull_linking(ls_client, project, GOLD, tmp_path / "replayed.jsonl")
    assert report.rejections == []
    pulled = {d.provenance.annotator: d for d in read_statement_documents([tmp_path / "replayed.jsonl"])}
    assert sorted(pulled) == ["annotator-1@example.org", "annotator-2@example.org"]
    for recorded in (ANNOTATOR_1, ANNOTATOR_2):
        back = pulled[f"{recorded.provenance.annotator}@example.org"]
        assert sorted(s.keys() for s in back.statements) == sorted(s.keys() for s in recorded.statements)
