"""``annotate statements init|preload|pull``: the statement-linking project in Label Studio."""

from __future__ import annotations

from pathlib import Path

import typer

_BUCKETS, _TITLE = 24, "Statement linking"  # annotate.labelstudio.linking's defaults, repeated: --help stays fast


def register(group: typer.Typer) -> None:
    @group.command("init")
    def init(
        buckets: int = typer.Option(_BUCKETS, "--buckets", min=1, help="Statement buckets per task (the largest "
                                    "group's predicted statements and some spare)."),
        title: str = typer.Option(_TITLE, "--title", help="Project title (the project is found by it)."),
        maximum_annotations: int = typer.Option(2, "--maximum-annotations", min=1, help="Annotators per task."),
    ) -> None:
        """Create the linking project, or bring its labeling config up to date (validated by the server)."""
        from annotate.labelstudio.client import StudioClient
        from annotate.labelstudio.linking.project import init_linking_project

        outcome = init_linking_project(StudioClient.open(), buckets, title, maximum_annotations)
        changed = f" ({', '.join(outcome.changed)})" if outcome.changed else ""
        typer.echo(f"project {outcome.project.id} {title!r}: {outcome.action}{changed}, {buckets} buckets")

    @group.command("preload")
    def preload(
        gold: Path = typer.Argument(..., metavar="GOLD.jsonl", help="The gold documents to link."),
        predictions: Path = typer.Option(None, "--predictions", metavar="STATEMENTS.jsonl",
                                         help="Statements that pre-fill the buckets (e.g. a linker's)."),
        model_version: str = typer.Option("linker", "--model-version", help="Names the predictions in Label Studio."),
        title: str = typer.Option(_TITLE, "--title", help="Project title."),
    ) -> None:
        """One task per (story, speaker) with two or more quotes; tasks already there are skipped."""
        from annotate.labelstudio.client import StudioClient
        from annotate.labelstudio.linking.project import linking_project, preload_linking
        from schemas.documents import read_documents, read_statement_documents

        documents = read_documents([gold])
        predicted = read_statement_documents([predictions]) if predictions is not None else None
        client = StudioClient.open()
        report = preload_linking(client, linking_project(client, title), documents, predicted, model_version)
        typer.echo(f"project {report.project_id}: imported {report.imported} task(s) with {report.predictions} "
                   f"prediction(s), {report.unchanged} already there; {report.seconds:.1f} s")

    @group.command("replay")
    def replay(
        statements: list[Path] = typer.Argument(..., metavar="STATEMENTS.jsonl", help="Recorded statement passes, "
                                                "one annotator's statements per story (provenance names them)."),
        title: str = typer.Option(_TITLE, "--title", help="Project title."),
    ) -> None:
        """Submit recorded statement passes as their annotators' annotations (accounts made if missing)."""
        from annotate.labelstudio.client import StudioClient
        from annotate.labelstudio.linking.project import linking_project
        from annotate.labelstudio.linking.replay import replay_statements
        from schemas.documents import read_statement_documents

        client = StudioClient.open()
        report = replay_statements(client, linking_project(client, title), read_statement_documents(statements))
        typer.echo(f"replayed RECORDED statements of {', '.join(report.annotators)}: {report.created} created, "
                   f"{report.already_there} already there")

    @group.command("pull")
    def pull(
        out: Path = typer.Option(..., "--out", metavar="STATEMENTS.jsonl", help="Where the statements go "
                                 "(the raw export and a report are written beside it)."),
        gold: Path = typer.Option(..., "--gold", metavar="GOLD.jsonl", help="The gold the tasks were made from."),
        title: str = typer.Option(_TITLE, "--title", help="Project title."),
    ) -> None:
        """Export the linking project: one statement document per story per annotator."""
        from annotate.labelstudio.client import StudioClient
        from annotate.labelstudio.linking.project import linking_project, pull_linking
        from schemas.documents import read_documents

        documents = read_documents([gold])
        client = StudioClient.open()
        report = pull_linking(client, linking_project(client, title), documents, out)
        typer.echo(f"project {report.project_id}: {report.annotations} annotation(s) of {report.tasks} task(s) -> "
                   f"{report.documents} document(s), {report.statements} statement(s) in {out} "
                   f"({len(report.rejections)} rejection(s), see {report.export_file.removesuffix('.export.json')}"
                   ".report.json)")
