"""``annotate init`` against a real Label Studio: idempotent by title, updates, server validation."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from annotate.cli import app
from annotate.labelstudio.client import ProjectInfo, StudioClient
from annotate.labelstudio.config import generate_labeling_config
from annotate.labelstudio.project import current_project, init_project, read_record, record_project, summarize
from annotate.labelstudio.wire import ExportedAnnotation, ExportedTask
from schemas import TargetInventory, ToolkitError
from schemas.articles import load_targets
from schemas.paths import SEED_TARGETS

runner = CliRunner()


def seed_config() -> str:
    return generate_labeling_config(load_targets(SEED_TARGETS))


def projects_titled(client: StudioClient, title: str) -> list[ProjectInfo]:
    return [p for p in client.list_projects() if p.title == title]


@pytest.mark.server
def test_init_twice_leaves_one_project(ls_client: StudioClient):
    title = "init twice"
    first = init_project(ls_client, seed_config(), title=title)
    second = init_project(ls_client, seed_config(), title=title)
    assert (first.action, second.action) == ("created", "unchanged")
    assert first.project.id == second.project.id
    assert [p.id for p in projects_titled(ls_client, title)] == [first.project.id]
    assert first.project.maximum_annotations == 2  # several annotators per article by default


@pytest.mark.server
def test_init_is_exact_about_titles(ls_client: StudioClient):
    # The server filters titles by substring; "init exact" must not find "init exact 2".
    longer = init_project(ls_client, seed_config(), title="init exact 2")
    shorter = init_project(ls_client, seed_config(), title="init exact")
    assert shorter.action == "created" and shorter.project.id != longer.project.id


@pytest.mark.server
def test_changed_schema_updates_the_config(ls_client: StudioClient):
    title = "init update"
    created = init_project(ls_client, seed_config(), title=title)
    targets = load_targets(SEED_TARGETS).model_dump()
    targets["targets"].append({"id": "grain-deal", "description": "The Black Sea grain deal"})
    new_config = generate_labeling_config(TargetInventory.model_validate(targets))
    updated = init_project(ls_client, new_config, title=title, maximum_annotations=3)
    assert updated.action == "updated" and updated.changed == ["label_config", "maximum_annotations"]
    assert updated.project.id == created.project.id
    stored = ls_client.get_project(created.project.id)
    assert '<Choice value="grain-deal"/>' in stored.label_config
    assert stored.maximum_annotations == 3
    assert init_project(ls_client, new_config, title=title, maximum_annotations=3).action == "unchanged"


@pytest.mark.server
def test_config_rejected_by_the_server_names_its_reason(ls_client: StudioClient):
    bad = '<View><Text name="text" value="$text"/><Labels name="l" toName="nowhere"><Label value="A"/></Labels></View>'
    with pytest.raises(ToolkitError, match=r'answered 400 while validating the labeling config: .*toName="nowhere"'):
        init_project(ls_client, bad, title="init rejected")
    assert projects_titled(ls_client, "init rejected") == []


@pytest.mark.server
def test_config_change_rejected_for_an_existing_project(ls_client: StudioClient):
    title = "init rejected update"
    created = init_project(ls_client, seed_config(), title=title)
    bad = '<View><Text name="text" value="$text"/><Labels name="l" toName="nowhere"><Label value="A"/></Labels></View>'
    with pytest.raises(ToolkitError, match='toName="nowhere"'):
        init_project(ls_client, bad, title=title)
    assert ls_client.get_project(created.project.id).label_config.strip() == seed_config().strip()


@pytest.mark.server
def test_maximum_annotations_must_be_positive(ls_client: StudioClient):
    with pytest.raises(ToolkitError, match="--maximum-annotations 0"):
        init_project(ls_client, seed_config(), title="init zero", maximum_annotations=0)


@pytest.mark.server
def test_project_id_is_recorded_for_later_commands(ls_client: StudioClient):
    outcome = init_project(ls_client, seed_config(), title="init recorded")
    record = read_record()
    assert record is not None
    assert (record.project_id, record.server_url) == (outcome.project.id, ls_client.url)
    assert current_project(ls_client).id == outcome.project.id


@pytest.mark.server
def test_recorded_project_that_was_deleted(ls_client: StudioClient):
    outcome = init_project(ls_client, seed_config(), title="init deleted")
    ls_client.sdk.projects.delete(outcome.project.id)
    record_project(ls_client.url, outcome.project)
    with pytest.raises(ToolkitError, match=f"project {outcome.project.id} recorded in .* is gone.*annotate init"):
        current_project(ls_client)


@pytest.mark.server
def test_cli_init_with_a_targets_file(ls_client: StudioClient, tmp_path):
    targets = json.loads(SEED_TARGETS.read_text())
    targets["targets"] = targets["targets"][:2]
    path = tmp_path / "targets.json"
    path.write_text(json.dumps(targets))
    result = runner.invoke(app, ["init", "--targets", str(path), "--title", "init cli"])
    assert result.exit_code == 0, result.output
    assert "'init cli' created at http://127.0.0.1:" in result.output
    again = runner.invoke(app, ["init", "--targets", str(path), "--title", "init cli"])
    assert "'init cli' unchanged" in again.output
    (project,) = projects_titled(ls_client, "init cli")
    assert "ukraine-in-nato" not in ls_client.get_project(project.id).label_config


def test_summarize_counts_submitted_annotations_only():
    project = ProjectInfo(id=1, title="t", maximum_annotations=2)

    def task(i: int, *by: tuple[int, bool]) -> ExportedTask:
        annotations = [
            ExportedAnnotation(id=10 * i + n, completed_by=u, was_cancelled=c) for n, (u, c) in enumerate(by)
        ]
        return ExportedTask(id=i, data={"article_id": f"a{i}"}, annotations=annotations)

    tasks = [task(1, (7, False), (8, False)), task(2, (7, False), (8, True)), task(3)]
    status = summarize(project, tasks, {7: "ann@x.org"})
    assert status.annotations == 3
    assert status.per_annotator == {"ann@x.org": 2, "user 8": 1}
    assert status.short == {"a2": 1, "a3": 0}


@pytest.mark.server
def test_instructions_come_from_the_guidelines_and_follow_their_changes(ls_client: StudioClient, tmp_path):
    from annotate.labelstudio.instructions import instructions_html
    from schemas.paths import GUIDELINES

    title = "init instructions"
    shown = instructions_html(GUIDELINES)
    first = init_project(ls_client, seed_config(), title=title, instructions=shown)
    assert first.action == "created"
    stored = ls_client.get_project(first.project.id)
    assert stored.show_instruction and stored.expert_instruction.strip() == shown.strip()
    assert init_project(ls_client, seed_config(), title=title, instructions=shown).action == "unchanged"
    changed = tmp_path / "guidelines.md"
    changed.write_text(GUIDELINES.read_text(encoding="utf-8").replace("Guidelines version: ", "Guidelines version: 9"))
    again = init_project(ls_client, seed_config(), title=title, instructions=instructions_html(changed))
    assert again.action == "updated" and again.changed == ["expert_instruction", "show_instruction"]
    assert "version 91." in ls_client.get_project(first.project.id).expert_instruction
