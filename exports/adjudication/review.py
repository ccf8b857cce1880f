"""Review tasks in Label Studio: every article with open conflicts pushed to the review project.

The one exports module that talks to the server (it uses ``annotate.labelstudio``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from pydantic import Field

from annotate.labelstudio.client import ProjectInfo, StudioClient
from annotate.labelstudio.preload import new_task, prediction_for
from annotate.labelstudio.project import init_project
from exports.adjudication.report import Adjudication, Conflict, _Record
from schemas import ToolkitError

REVIEW_SUFFIX = " (review)"
REVIEW_KEY = "review_key"  # task data: article id + digest of the versions, so a push is idempotent


class PushReport(_Record):
    project_id: int
    project_title: str
    created: bool
    imported: list[str] = Field(default_factory=list, description="Article ids pushed as new review tasks.")
    unchanged: list[str] = Field(default_factory=list, description="Already there with the same versions.")
    skipped_versions: list[str] = Field(default_factory=list, description="Versions Label Studio cannot show, why.")


def push_conflicts(client: StudioClient, project: ProjectInfo, result: Adjudication) -> PushReport:
    """Every article with open conflicts as a task of the review project ``<title> (review)`` (same labeling
    config), with each annotator's version and the gold so far as predictions, so a reviewer starts from them.

    A task is identified by its article and a digest of its versions and conflicts: pushing again adds
    nothing unless the annotations changed.
    """
    open_by_article: dict[str, list[Conflict]] = defaultdict(list)
    for conflict in result.report.open_conflicts():
        open_by_article[conflict.article_id].append(conflict)
    if not project.label_config.strip():
        project = client.get_project(project.id)
    title = project.title + REVIEW_SUFFIX
    outcome = init_project(client, project.label_config, title=title, maximum_annotations=1, record=False)
    review = outcome.project
    report = PushReport(project_id=review.id, project_title=title, created=outcome.action == "created")
    existing = {str(t.data.get(REVIEW_KEY)) for t in client.list_task_data(review.id)}
    gold_of = {d.article.id: d for d in result.gold}
    tasks = []
    for a, article_id in enumerate(result.corpus.article_ids):
        conflicts = open_by_article.get(article_id)
        if not conflicts:
            continue
        docs = result.corpus.article_docs(a)
        versions = [(f"annotator:{d.provenance.annotator}", d) for d in docs]
        if article_id in gold_of:
            versions.append(("gold-so-far", gold_of[article_id]))
        digest = hashlib.sha256("\n".join([c.id for c in conflicts] + [d.model_dump_json() for _, d in versions])
                                .encode("utf-8")).hexdigest()[:16]
        key = f"{article_id}#{digest}"
        if key in existing:
            report.unchanged.append(article_id)
            continue
        predictions = []
        for model_version, doc in versions:
            try:
                predictions.append(prediction_for(doc, model_version))
            except ToolkitError as e:  # a version the labeling config cannot hold: the others still go
                report.skipped_versions.append(f"{article_id} {model_version}: {e}")
        conflict_lines = "\n".join(f"{c.id}: {c.problem}" for c in conflicts)
        tasks.append(new_task(docs[0].article, predictions, {REVIEW_KEY: key, "conflicts": conflict_lines}))
        report.imported.append(article_id)
    if tasks:
        client.import_tasks(review.id, tasks)
    return report
