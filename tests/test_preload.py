"""``annotate preload``: planning (pure, with Hypothesis) and the real thing against Label Studio."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from annotate.cli import app
from annotate.extract.baseline import BASELINE_VERSION
from annotate.labelstudio.client import ProjectInfo, StudioClient
from annotate.labelstudio.config import SPAN_LABELS, TASK_DATA_KEYS, TEXT, generate_labeling_config
from annotate.labelstudio.preload import (
    check_offsets,
    existing_articles,
    plan_preload,
    preload,
    revision_id,
    task_data,
)
from annotate.labelstudio.project import init_project, record_project
from annotate.labelstudio.wire import LabelsResult, LabelsValue, TextAreaResult, TextAreaValue
from schemas import Article, ToolkitError
from schemas.articles import load_articles, load_targets
from schemas.paths import SEED_TARGETS, SEEDS_DIR

runner = CliRunner()
SEEDS = load_articles([SEEDS_DIR])


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
    assert all(isinstance(v, str) for v in data.values())


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


# Against the session's server


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
    real = ls_client.import_tasks

    def counting(project_id, tasks, **kw):  # a spy around the real call, not a fake server
        sizes.append(len(tasks))
        return real(project_id, tasks, **kw)

    ls_client.import_tasks = counting
    try:
        progress: list[tuple[int, int]] = []
        preload(ls_client, project, SEEDS, predictions=False, batch_size=3,
                on_batch=lambda n, total: progress.append((n, total)))
    finally:
        del ls_client.import_tasks
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
