"""``annotate agreement``: inter-annotator agreement of annotated documents (JSONL)."""

from __future__ import annotations

from pathlib import Path

import typer


def latest_pull() -> Path:
    """The last pull's documents, from ``exports.pull`` (written separately; imported only when needed)."""
    from schemas import ToolkitError

    try:
        from exports.pull import latest_pull_docs
    except ImportError as e:
        if isinstance(e, ModuleNotFoundError) and e.name != "exports.pull":
            raise
        raise ToolkitError("no DOCS.jsonl given and this install has no pull support (exports.pull."
                           "latest_pull_docs); pass the annotated documents as JSONL paths") from None
    return latest_pull_docs()


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file beside ``path`` and a rename, so a reader never sees half a file."""
    import os
    import tempfile

    from schemas import ToolkitError

    if not path.parent.is_dir():
        raise ToolkitError(f"{path}: directory {path.parent} does not exist; create it or choose another path")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


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

        from annotate.documents import read_documents
        from exports.agreement import compute_agreement
        from exports.agreement_report import render

        documents = read_documents(docs or [latest_pull()])
        report = compute_agreement(documents, resamples=resamples, seed=seed)
        render(report, Console())
        if json_path is not None:
            write_atomically(json_path, report.model_dump_json(indent=2) + "\n")
            typer.echo(f"report written to {json_path}")
        if html_path is not None:
            from exports.html_report import render_report

            write_atomically(html_path, render_report(documents).html)
            typer.echo(f"HTML report written to {html_path}")
