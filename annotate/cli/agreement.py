"""``annotate agreement``: inter-annotator agreement of annotated documents (JSONL)."""

from __future__ import annotations

from pathlib import Path

import typer

from schemas.files import write_atomically


def register(app: typer.Typer) -> None:
    @app.command("agreement")
    def agreement(
        docs: list[Path] = typer.Argument(None, metavar="[DOCS.jsonl]...",
                                          help="AnnotatedDocument JSONL files (default: the last pull)."),
        json_path: Path = typer.Option(None, "--json", help="Also write the report as JSON to this file."),
        resamples: int = typer.Option(1000, min=1, help="Bootstrap resamples (over articles) for the intervals."),
        seed: int = typer.Option(0, help="Seed of the bootstrap."),
        html_path: Path = typer.Option(None, "--html", help="Also write each article's spans per annotator side by "
                                       "side, disagreements highlighted, as one static HTML page."),
    ) -> None:
        """Inter-annotator agreement: span F1, token-role alpha, attribute alpha and kappas, same-speaker share."""
        from rich.console import Console

        from annotate.labelstudio.pull import latest_pull_docs
        from exports.agreement import compute_agreement
        from exports.agreement_report import render
        from schemas.documents import read_documents

        documents = read_documents(docs or [latest_pull_docs()])
        report = compute_agreement(documents, resamples=resamples, seed=seed)
        render(report, Console())
        if json_path is not None:
            write_atomically(json_path, report.model_dump_json(indent=2) + "\n")
            typer.echo(f"report written to {json_path}")
        if html_path is not None:
            from exports.html_report import render_report

            write_atomically(html_path, render_report(documents).html)
            typer.echo(f"HTML report written to {html_path}")
