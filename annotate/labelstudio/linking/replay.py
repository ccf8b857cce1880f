"""Submitting recorded statement passes through the linking project, each as its own annotator's annotation.

The seeds' two statement passes were made as files (``seeds/annotations/statements/``); replaying them puts them
in Label Studio exactly where an annotator's drags would: one ``ranker`` result per (story, speaker) task, the
statements in buckets 1..n. A pull then reads them back like any annotation, so the demo runs the statement layer
through the server end to end. Idempotent: a task the annotator already annotated is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from annotate.labelstudio.client import ProjectInfo, StudioClient
from annotate.labelstudio.linking.decode import read_task_data
from annotate.labelstudio.linking.tasks import predicted_groups, ranker_value
from annotate.labelstudio.linking.wire import RankerResult
from annotate.labelstudio.recordings import email_for, ensure_user
from schemas import ToolkitError
from schemas.statements import StatementDocument


@dataclass(frozen=True)
class StatementReplayReport:
    created: int
    already_there: int
    annotators: list[str]


def replay_statements(client: StudioClient, project: ProjectInfo,
                      documents: Sequence[StatementDocument]) -> StatementReplayReport:
    """Each document's statements as its annotator's annotation of every task of its story."""
    tasks = [(task, read_task_data(task.data, f"task {task.id}")) for task in client.export_tasks(project.id)]
    users = {u.email.lower(): u for u in client.list_users()}
    created = already = 0
    annotators: set[str] = set()
    stories = {doc.story for doc in documents}
    if not any(data.story in stories for _, data in tasks):
        raise ToolkitError(f"project {project.id} has no linking task of the stories {sorted(map(str, stories))}; "
                           "run `annotate statements preload` with the gold first")
    for doc in documents:
        email = email_for(doc.provenance.annotator).lower()
        annotators.add(email)
        user = ensure_user(client, email, users)
        for task, data in tasks:
            if data.story != doc.story:
                continue
            if any(a.completed_by == user.id for a in task.annotations):
                already += 1
                continue
            groups = predicted_groups(data, [doc])
            result = RankerResult(value=ranker_value(data, groups))
            client.create_annotation(task.id, [result.model_dump(mode="json")], completed_by=user.id)
            created += 1
    return StatementReplayReport(created=created, already_there=already, annotators=sorted(annotators))
