"""``annotate adjudicate``: the gold layer from the annotators' documents; ``annotate report-html``: their
disagreements as one static HTML page."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer


class BoundaryChoice(StrEnum):
    """``exports.compare.Boundary``'s values, so that ``annotate --help`` need not import numpy and scipy."""

    OVERLAP = "overlap"
    EXACT = "exact"

DOCS_ARGUMENT = typer.Argument(None, metavar="[DOCS.jsonl]...",
                               help="AnnotatedDocument JSONL files (default: the last pull).")


def _paths(docs: list[Path] | None) -> list[Path]:
    from annotate.labelstudio.pull import latest_pull_docs

    return list(docs) if docs else [latest_pull_docs()]


def register(app: typer.Typer) -> None:
    @app.command("adjudicate")
    def adjudicate_command(
        docs: list[Path] = DOCS_ARGUMENT,
        out: Path = typer.Option(..., "--out", help="The gold JSONL (one AnnotatedDocument per article)."),
        majority: str = typer.Option(None, "--majority", metavar="N|FRACTION",
                                     help="Annotators who must agree: a count (2) or a fraction (0.5, 2/3) of each "
                                          "article's annotators. Default: more than half."),
        decisions: Path = typer.Option(None, "--decisions", metavar="FILE",
                                       help="JSON or YAML: conflict id -> {accept: ANNOTATOR | reject: true | "
                                            "value: V, reason: WHY}."),
        conflicts: Path = typer.Option(None, "--conflicts", metavar="FILE",
                                       help="Where to write the conflicts (default: <out stem>.conflicts.json)."),
        boundary: BoundaryChoice = typer.Option(BoundaryChoice.OVERLAP, "--boundary",
                                                help="How units of different annotators match: overlapping spans "
                                                     "(the boundaries are then voted on) or exactly the same spans."),
        push_conflicts: bool = typer.Option(False, "--push-conflicts",
                                            help="Push articles with open conflicts to the review project "
                                                 "'<project> (review)' in Label Studio."),
    ) -> None:
        """Gold per article: ground truth wins, else what a majority agrees on; the rest is listed as conflicts."""
        from exports.adjudication.decisions import parse_majority
        from exports.adjudication.run import run_adjudication
        from exports.compare import Boundary

        result, conflicts_path = run_adjudication(
            _paths(docs), out, majority=parse_majority(majority), decisions_path=decisions,
            boundary=Boundary(boundary.value), conflicts_path=conflicts)
        report = result.report
        methods = {m: sum(a.method == m for a in report.articles) for m in ("majority", "ground-truth", "held-back")}
        open_conflicts = report.open_conflicts()
        typer.echo(f"gold for {len(result.gold)} of {len(report.articles)} articles written to {out} "
                   f"({methods['majority']} by majority: {report.majority}; {methods['ground-truth']} from ground "
                   f"truth; {methods['held-back']} held back)")
        typer.echo(f"{len(report.conflicts)} conflicts ({len(open_conflicts)} open, "
                   f"{len(report.conflicts) - len(open_conflicts)} decided) in {conflicts_path}")
        if open_conflicts:
            incomplete = len({c.article_id for c in open_conflicts})
            typer.echo(f"{incomplete} articles lack the units of open conflicts until they are decided: pass "
                       "--decisions FILE with `<conflict id>: {accept: <annotator>, reason: ...}` entries")
        for conflict_id in report.unused_decisions:
            typer.echo(f"warning: decision {conflict_id!r} matches no conflict (the annotations changed?)", err=True)
        for excluded in report.excluded:
            typer.echo(f"skipped {excluded.where}: {excluded.reason}")
        if push_conflicts:
            from annotate.labelstudio.client import StudioClient
            from annotate.labelstudio.project import current_project
            from exports.adjudication.review import push_conflicts as push

            client = StudioClient.open()
            pushed = push(client, current_project(client), result)
            typer.echo(f"review project {pushed.project_title!r} (id {pushed.project_id}): "
                       f"{len(pushed.imported)} tasks added, {len(pushed.unchanged)} already there")
            for skipped in pushed.skipped_versions:
                typer.echo(f"  not shown in Label Studio: {skipped}")

    @app.command("report-html")
    def report_html_command(
        docs: list[Path] = DOCS_ARGUMENT,
        out: Path = typer.Option(..., "--out", help="The HTML file to write (self-contained, no scripts)."),
        boundary: BoundaryChoice = typer.Option(BoundaryChoice.OVERLAP, "--boundary",
                                                help="How units of different annotators match."),
    ) -> None:
        """Annotators' spans side by side per article, layers colour-coded, disagreements highlighted."""
        from exports.adjudication.run import documents_with_where
        from exports.compare import Boundary
        from exports.html_report import render_report
        from schemas.files import write_atomically

        documents, where = documents_with_where(_paths(docs))
        report = render_report(documents, boundary=Boundary(boundary.value), where=where)
        write_atomically(out, report.html)
        typer.echo(f"{len(report.articles)} articles, {report.unmatched} unmatched units, {report.differing} "
                   f"attribute differences: {out}")
