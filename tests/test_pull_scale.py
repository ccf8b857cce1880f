"""Batched pulls equal the single-request pull, byte for byte, on a real Label Studio."""

from __future__ import annotations

import json
import os
import secrets

import pytest
from test_pull import annotated_tasks

from annotate.labelstudio.pull import pull_from_server
from annotate.labelstudio.snapshots import fetch_export

pytestmark = [pytest.mark.server, pytest.mark.slow]

TASKS, BATCH = 600, 100


@pytest.fixture(scope="module")
def project(ls_client, ls_project) -> int:
    """600 tasks x 2 annotations, imported with their annotations; the last two tasks repeat the first two
    articles with newer annotations by the same annotators, so superseding crosses batches."""
    users = [ls_client.create_user(f"scale-{secrets.token_hex(4)}@example.com", f"scale{secrets.token_hex(4)}")
             for _ in range(2)]
    tasks = annotated_tasks(TASKS - 2, [u.id for u in users])
    tasks += [{**t, "annotations": [{**a, "lead_time": 20.0} for a in t["annotations"]]} for t in tasks[:2]]
    imported = ls_client.import_tasks(ls_project.id, tasks)
    assert imported.task_count == TASKS
    return ls_project.id


def _tasks_by_id(raw: bytes) -> dict[int, dict]:
    return {t["id"]: t for t in json.loads(raw)}


# Label Studio's export collects task ids with .distinct() and no order_by (data_export/mixins.py):
# SQLite returns them in id order, PostgreSQL in any order. Byte identity holds on SQLite only; on
# PostgreSQL the same tasks, each exactly the same, is what "equal" can mean.
ORDERED = os.environ.get("ANNOTATE_TEST_DATABASE", "sqlite") == "sqlite"


def test_batched_pull_equals_the_single_request_pull(ls_client, project, tmp_path):
    single = pull_from_server(project, client=ls_client, out=tmp_path / "single", batch_size=0)
    batched = pull_from_server(project, client=ls_client, out=tmp_path / "batched", batch_size=BATCH)

    if ORDERED:
        assert batched.export_path.read_bytes() == single.export_path.read_bytes()
        assert batched.docs_path.read_bytes() == single.docs_path.read_bytes()
    assert _tasks_by_id(batched.export_path.read_bytes()) == _tasks_by_id(single.export_path.read_bytes())
    assert sorted(batched.docs_path.read_text().split("\n")) == sorted(single.docs_path.read_text().split("\n"))
    a, b = single.report, batched.report
    assert (b.tasks, b.annotations, b.documents, b.annotators, b.skipped) == (
        a.tasks, a.annotations, a.documents, a.annotators, a.skipped)
    if ORDERED:
        assert b.export_sha256 == a.export_sha256
    assert sorted(r.message for r in b.rejections) == sorted(r.message for r in a.rejections)
    # Not vacuous: every task made it, and the superseded annotations span batches.
    raw = json.loads(batched.export_path.read_bytes())
    ids = [t["id"] for t in raw]
    assert len(ids) == TASKS and len(set(ids)) == TASKS
    assert b.skipped.superseded == 4 and b.documents == 2 * (TASKS - 2)
    if ORDERED:
        assert ids == sorted(ids)
        assert all(ids.index(r.task_id) < BATCH for r in b.rejections)  # the losers sit in the first batch
        # The in-memory form (annotate.labelstudio.recordings uses it) is the same bytes.
        assert fetch_export(ls_client, project, batch_size=BATCH) == single.export_path.read_bytes()
    else:
        assert _tasks_by_id(fetch_export(ls_client, project, batch_size=BATCH)) == _tasks_by_id(
            single.export_path.read_bytes())


def test_a_batch_larger_than_the_project_is_one_filtered_export(ls_client, project, tmp_path):
    whole = pull_from_server(project, client=ls_client, out=tmp_path / "whole", batch_size=TASKS + 1)
    assert len(json.loads(whole.export_path.read_bytes())) == TASKS
    assert whole.report.documents == 2 * (TASKS - 2)
