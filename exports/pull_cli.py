"""``annotate pull``: export the project from Label Studio (or read a downloaded export) into documents."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("pull")
    def pull(
        project: int = typer.Option(None, "--project", "-p",
                                    help="Project id (default: the project `annotate init` recorded)."),
        from_file: Path = typer.Option(None, "--from", metavar="EXPORT.json",
                                       help="Convert a JSON export downloaded from the Label Studio UI; no server."),
        out: Path = typer.Option(None, "--out", help="Output directory, or the documents' .jsonl path "
                                                     "(default: the pulls directory in the state directory)."),
        articles: list[Path] = typer.Option(None, "--articles", help="Also check task texts against these "
                                            "articles (seeds dir, .txt dir or JSONL; repeatable)."),
    ) -> None:
        """Save the project's full JSON export unchanged and convert it: one document per article per annotator."""
        from annotate.articles import load_articles
        from exports.pull import pull_from_file, pull_from_server, summary
        from schemas import ToolkitError

        if project is not None and from_file is not None:
            raise ToolkitError("--project and --from exclude each other: pull from the server or convert a file")
        by_id = {a.id: a for a in load_articles(articles)} if articles else None
        if from_file is not None:
            result = pull_from_file(from_file, out=out, articles_by_id=by_id)
        else:
            result = pull_from_server(project, out=out, articles_by_id=by_id)
        typer.echo(summary(result))
