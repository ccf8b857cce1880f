"""``annotate preload``: planning (pure, with Hypothesis) and the real thing against Label Studio."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from annotate.cli import app
from annotate.extract.baseline import BASELINE_VERSION
from annotate.labelstudio.client import ProjectInfo, StudioClient
from annotate.labelstudio.config import (
    ENTITIES,
    ENTITY_CHOICE,
    KIND,
    SPAN_LABELS,
    TASK_DATA_KEYS,
    TEXT,
    generate_labeling_config,
)
from annotate.labelstudio.prediction_check import ConfigNames
from annotate.labelstudio.preload import (
    baseline_prediction,
    check_offsets,
    existing_articles,
    existing_tasks,
    plan_preload,
    preload,
    revision_id,
    task_data,
)
from annotate.labelstudio.project import init_project, record_project
from annotate.labelstudio.wire import (
    ChoicesResult,
    ChoicesValue,
    LabelsResult,
    LabelsValue,
    RelationResult,
    TextAreaResult,
    TextAreaValue,
    to_json,
)
from schemas import Article, ToolkitError
from schemas.articles import load_articles, load_targets
from schemas.paths import SEED_TARGETS, SEEDS_DIR

runner = CliRunner()
SEEDS = load_articles([SEEDS_DIR])
# Twice as many articles, all different: each seed with its paragraphs in reverse order.
ARTICLES = SEEDS + [Article.from_text(f"{a.id}-reversed", "\n".join(reversed(a.text.split("\n"))),
                                      language=a.language) for a in SEEDS]


def fresh_project(client: StudioClient, title: str) -> ProjectInfo:
    return init_project(client, generate_labeling_config(load_targets(SEED_TARGETS)), title=title).project


def edited(article: Article, suffix: str = " (corrected)") -> Article:
    return Article.from_text(article.id, article.text + suffix, language=article.language)


# Planning, no server

ids = st.sampled_from(["a", "b", "c", "d"])
texts = st.sampled_from(["one", "two", "three"])


@given(st.dictionaries(ids, texts), st.dictionaries(ids, texts), st.booleans())
def test_plan_puts_each_article_in_exactly_one_place(before, now, new_revision):
    existing = {i: Article.from_text(i, t).sha256 for i, t in before.items()}
    articles = [Article.from_text(i, t) for i, t in now.items()]
    plan = plan_preload(articles, existing, new_revision)
    placed = [a.id for a in plan.new if a.id in now] + list(plan.revisions) + list(plan.conflicts)
    placed += [u.split("@r")[0] for u in plan.unchanged]
    assert sorted(placed) == sorted(now)
    assert not (plan.conflicts and new_revision)


@given(st.dictionaries(ids, texts), st.dictionaries(ids, texts))
def test_importing_the_plan_then_planning_again_changes_nothing(before, now):
    existing = {i: Article.from_text(i, t).sha256 for i, t in before.items()}
    articles = [Article.from_text(i, t) for i, t in now.items()]
    plan = plan_preload(articles, existing, new_revision=True)
    after = {**existing, **{a.id: a.sha256 for a in plan.new}}
    again = plan_preload(articles, after, new_revision=True)
    assert again.new == [] and again.conflicts == {} and len(again.unchanged) == len(articles)


def test_revisions_count_up_and_recognise_old_ones():
    v1, v2, v3 = (Article.from_text("x", t) for t in ("first", "second", "third"))
    existing = {"x": v1.sha256, "x@r2": v2.sha256}
    assert plan_preload([v2], existing, new_revision=False).unchanged == ["x@r2"]
    plan = plan_preload([v3], existing, new_revision=True)
    assert plan.revisions == {"x": "x@r3"} and [a.id for a in plan.new] == ["x@r3"]
    assert plan.new[0].text == "third"
    assert plan_preload([v3], existing, new_revision=False).conflicts == {"x": v1.sha256}
    assert revision_id("x", 1) == "x"


def test_task_data_has_exactly_the_contract_keys():
    data = task_data(SEEDS[1])
    assert tuple(data) == TASK_DATA_KEYS
    assert data["article_id"] == SEEDS[1].id and data["text"] == SEEDS[1].text
    assert data["outlet"] == "" and data["sha256"] == SEEDS[1].sha256
    assert data["entities"] == []  # a list even when empty: on a string, Label Studio's pickers block Submit
    assert all(isinstance(v, str) for k, v in data.items() if k != "entities")


def test_prediction_offsets_are_checked():
    article = Article.from_text("a", "Putin said no.")

    def mention(start: int, end: int) -> LabelsResult:
        return LabelsResult(id="m1", from_name=SPAN_LABELS, to_name=TEXT,
                            value=LabelsValue(start=start, end=end, text="Putin", labels=["Mention"]))

    check_offsets(article, [mention(0, 5)])
    # A per-region text box keeps what was typed, not the span: not a mismatch.
    check_offsets(article, [TextAreaResult(id="m1", from_name="entity", to_name=TEXT,
                                           value=TextAreaValue(start=0, end=5, text=["V. Putin"]))])
    with pytest.raises(ToolkitError, match=r"article 'a': prediction region 'm1' \[1, 6\) does not match"):
        check_offsets(article, [mention(1, 6)])


def test_prediction_names_are_checked_against_the_config():
    names = ConfigNames.parse(generate_labeling_config(load_targets(SEED_TARGETS)))
    prediction = baseline_prediction(SEEDS[0])
    names.check(SEEDS[0].id, prediction.result, task_data(SEEDS[0]))  # what preload sends passes
    region = next(r for r in prediction.result if isinstance(r, LabelsResult))

    def fails(item, match, data=None):
        with pytest.raises(ToolkitError, match=match):
            names.check("a", [*prediction.result, item], data or {})

    fails(region.model_copy(update={"id": "x1", "from_name": "spans"}),
          r"article 'a': prediction region 'x1' names labels control 'spans' on 'text', which the labeling config")
    fails(ChoicesResult(id=region.id, from_name=KIND, to_name=TEXT, value=ChoicesValue(choices=["sarcastic"])),
          rf"region '{region.id}' gives kind 'sarcastic', which the labeling config does not offer")
    fails(RelationResult(from_id=region.id, to_id="gone", labels=["said_by"]), r"joins no region 'gone'")
    fails(RelationResult(from_id=region.id, to_id=region.id, labels=["spoke_for"]), r"has the label 'spoke_for'")
    picked = ChoicesResult(id=region.id, from_name=ENTITY_CHOICE, to_name=TEXT, value=ChoicesValue(choices=["putin"]))
    fails(picked, r"gives entity_id 'putin', which the task's 'entities' list does not offer", {ENTITIES: ""})
    names.check("a", [*prediction.result, picked], {ENTITIES: [{"value": "Vladimir Putin (person)", "alias": "putin"}]})


# Against the session's server


def predictions_by_task(client: StudioClient, project_id: int) -> dict[str, list]:
    """Each task's predictions in full (article id -> results), read one task at a time."""
    return {t.data["article_id"]: [p.result for p in client.sdk.predictions.list(task=t.id)]
            for t in client.export_tasks(project_id)}


def assert_each_has_its_own_prediction(client: StudioClient, project_id: int, articles: list[Article]) -> None:
    found = predictions_by_task(client, project_id)
    assert sorted(found) == sorted(a.id for a in articles)
    for article in articles:  # exactly one, and the one made from this task's own text
        assert found[article.id] == [to_json(baseline_prediction(article).result)], article.id


@pytest.mark.server
@pytest.mark.parametrize("separate", [False, True], ids=["with-tasks", "separately"])
def test_predictions_built_in_workers_arrive_on_their_own_tasks(ls_client: StudioClient, separate: bool):
    project = fresh_project(ls_client, f"preload workers {separate}")
    report = preload(ls_client, project, ARTICLES, batch_size=3, workers=2, separate_predictions=separate)
    assert (report.imported, report.predictions, report.repaired) == (len(ARTICLES), len(ARTICLES), 0)
    assert_each_has_its_own_prediction(ls_client, project.id, ARTICLES)
    again = preload(ls_client, project, ARTICLES, batch_size=3, workers=2, separate_predictions=separate)
    assert (again.imported, again.unchanged, again.repaired) == (0, len(ARTICLES), 0)


@pytest.mark.server
def test_a_build_failing_half_way_leaves_what_the_rerun_completes(ls_client: StudioClient):
    project = fresh_project(ls_client, "preload build fails")
    broken = ARTICLES[4]

    def predict(article: Article):
        if article.id == broken.id:
            raise ToolkitError(f"article {article.id!r}: the extractor failed")
        return baseline_prediction(article)

    with pytest.raises(ToolkitError, match=r"the extractor failed \(imported 3 of 8 before this; rerun the same"):
        preload(ls_client, project, ARTICLES, batch_size=3, workers=2, predict=predict)
    assert sorted(existing_articles(ls_client, project.id)) == sorted(a.id for a in ARTICLES[:3])
    report = preload(ls_client, project, ARTICLES, batch_size=3, workers=2)
    assert (report.imported, report.unchanged, report.repaired) == (5, 3, 0)
    assert_each_has_its_own_prediction(ls_client, project.id, ARTICLES)


@pytest.mark.server
def test_tasks_left_without_their_predictions_get_them_on_the_rerun(ls_client: StudioClient):
    project = fresh_project(ls_client, "preload predictions fail")
    real = ls_client.import_predictions_json
    calls: list[int] = []

    def dropping(project_id, body, count, **kw):  # the connection lost on the second batch's predictions:
        calls.append(count)  # a fault the real server cannot be made to have on cue
        if len(calls) == 2:
            raise ToolkitError(f"cannot reach Label Studio at {ls_client.url} while importing {count} predictions")
        return real(project_id, body, count, **kw)

    ls_client.import_predictions_json = dropping
    try:
        with pytest.raises(ToolkitError, match=r"imported 6 of 8 before this; rerun the same command to continue: "
                                               r"articles already imported are skipped; those imported without"):
            preload(ls_client, project, ARTICLES, batch_size=3, workers=2, separate_predictions=True)
    finally:
        del ls_client.import_predictions_json
    counts = {a: t.predictions for a, t in existing_tasks(ls_client, project.id).items()}
    assert counts == {**{a.id: 1 for a in ARTICLES[:3]}, **{a.id: 0 for a in ARTICLES[3:6]}}
    report = preload(ls_client, project, ARTICLES, batch_size=3, separate_predictions=True)
    assert (report.imported, report.unchanged, report.repaired, report.predictions) == (2, 6, 3, 2)
    assert_each_has_its_own_prediction(ls_client, project.id, ARTICLES)


@pytest.mark.server
def test_tasks_imported_without_predictions_get_them_later(ls_client: StudioClient):
    project = fresh_project(ls_client, "preload predictions later")
    preload(ls_client, project, SEEDS, predictions=False)
    report = preload(ls_client, project, SEEDS)
    assert (report.imported, report.unchanged, report.repaired, report.predictions) == (0, len(SEEDS), len(SEEDS), 0)
    assert_each_has_its_own_prediction(ls_client, project.id, SEEDS)
    assert preload(ls_client, project, SEEDS).repaired == 0


@pytest.mark.server
def test_preload_twice_creates_no_duplicates(ls_client: StudioClient, ls_project: ProjectInfo):
    first = preload(ls_client, ls_project, SEEDS, predictions=False)
    second = preload(ls_client, ls_project, SEEDS, predictions=False)
    assert (first.imported, first.unchanged) == (len(SEEDS), 0)
    assert (second.imported, second.unchanged) == (0, len(SEEDS))
    tasks = ls_client.export_tasks(ls_project.id)
    assert sorted(t.data["article_id"] for t in tasks) == sorted(a.id for a in SEEDS)
    for task in tasks:
        article = next(a for a in SEEDS if a.id == task.data["article_id"])
        assert task.data == task_data(article)


@pytest.mark.server
def test_changed_text_is_refused_then_accepted_as_a_revision(ls_client: StudioClient, ls_project: ProjectInfo):
    preload(ls_client, ls_project, SEEDS, predictions=False)
    changed = edited(SEEDS[0])
    with pytest.raises(ToolkitError, match=rf"article '{SEEDS[0].id}' is already in project .* --new-revision"):
        preload(ls_client, ls_project, [changed, *SEEDS[1:]], predictions=False)
    assert existing_articles(ls_client, ls_project.id)[SEEDS[0].id] == SEEDS[0].sha256  # nothing imported

    report = preload(ls_client, ls_project, [changed], predictions=False, new_revision=True)
    assert report.revisions == {SEEDS[0].id: f"{SEEDS[0].id}@r2"} and report.imported == 1
    existing = existing_articles(ls_client, ls_project.id)
    assert existing[f"{SEEDS[0].id}@r2"] == changed.sha256
    assert existing[SEEDS[0].id] == SEEDS[0].sha256
    again = preload(ls_client, ls_project, [changed], predictions=False, new_revision=True)
    assert (again.imported, again.unchanged) == (0, 1)
    third = preload(ls_client, ls_project, [edited(SEEDS[0], " (again)")], predictions=False, new_revision=True)
    assert third.revisions == {SEEDS[0].id: f"{SEEDS[0].id}@r3"}


@pytest.mark.server
def test_predictions_are_on_the_tasks(ls_client: StudioClient):
    project = fresh_project(ls_client, "preload predictions")
    report = preload(ls_client, project, SEEDS, predictions=True, batch_size=3)
    assert report.predictions == len(SEEDS)
    for task in ls_client.export_tasks(project.id):
        assert len(task.predictions) == 1
    # The export lists prediction ids; read one task's predictions in full.
    task_id = ls_client.export_tasks(project.id)[0].id
    predictions = list(ls_client.sdk.predictions.list(task=task_id))
    assert [p.model_version for p in predictions] == [BASELINE_VERSION]
    regions = [r for r in predictions[0].result if r["type"] == "labels"]
    assert regions, "the baseline found nothing in a seed article"
    text = next(t for t in ls_client.export_tasks(project.id) if t.id == task_id).data["text"]
    for r in regions:
        assert text[r["value"]["start"]:r["value"]["end"]] == r["value"]["text"]


@pytest.mark.server
def test_batches_are_bulk_requests(ls_client: StudioClient):
    project = fresh_project(ls_client, "preload batches")
    sizes: list[int] = []
    real = ls_client.import_tasks_json

    def counting(project_id, body, count, **kw):  # a spy around the real call, not a fake server
        sizes.append(count)
        return real(project_id, body, count, **kw)

    ls_client.import_tasks_json = counting
    try:
        progress: list[tuple[int, int]] = []
        preload(ls_client, project, SEEDS, predictions=False, batch_size=3,
                on_batch=lambda n, total: progress.append((n, total)))
    finally:
        del ls_client.import_tasks_json
    assert sizes == [3, 1]
    assert progress == [(0, 4), (3, 4), (1, 4)]


@pytest.mark.server
def test_batch_size_must_be_positive(ls_client: StudioClient, ls_project: ProjectInfo):
    with pytest.raises(ToolkitError, match="--batch-size 0"):
        preload(ls_client, ls_project, SEEDS, batch_size=0)


@pytest.mark.server
def test_cli_preload_reports_and_says_so_for_revisions(ls_client: StudioClient, ls_project: ProjectInfo, tmp_path):
    record_project(ls_client.url, ls_project)
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "cli-1.txt").write_text("Putin said on Friday that troops would be targets.", encoding="utf-8")
    result = runner.invoke(app, ["preload", str(folder), "--no-predictions"])
    assert result.exit_code == 0, result.output
    assert f"project {ls_project.id}: imported 1 article(s)" in result.output
    (folder / "cli-1.txt").write_text("Putin said on Friday that troops would be legitimate targets.")
    refused = runner.invoke(app, ["preload", str(folder), "--no-predictions"])
    assert isinstance(refused.exception, ToolkitError) and "--new-revision" in str(refused.exception)
    accepted = runner.invoke(app, ["preload", str(folder), "--no-predictions", "--new-revision"])
    assert "cli-1: text changed, imported as new revision cli-1@r2" in accepted.output
