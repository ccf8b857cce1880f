"""``annotate import FORMAT ...``: annotations made elsewhere into AnnotatedDocuments (JSONL).

``import`` is a group so that other formats can sit beside ``brat``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from annotate.cli.citron import register_import as register_citron_import

import_app = typer.Typer(help="Import annotations made elsewhere as AnnotatedDocuments (JSONL).", no_args_is_help=True)


@import_app.command("brat")
def brat(
    directory: Path = typer.Argument(..., help="BRAT folder: text/ + attributions/ (PolNeAR), or .txt and .ann side "
                                     "by side; one <article>_<annotator>.ann per annotator."),
    out: Path = typer.Option(..., "--out", "-o", help="Output JSONL, one document per article per annotator."),
    strict: bool = typer.Option(False, "--strict", help="Fail on lines that would be skipped with a warning."),
) -> None:
    """Import PolNeAR-style BRAT attributions (Source, Cue, Content and the events linking them)."""
    from annotate.formats.brat import import_brat
    from schemas import ToolkitError
    from schemas.documents import write_documents

    result = import_brat(directory)
    if strict and result.warnings:
        raise ToolkitError(f"{result.warnings[0]} (and {len(result.warnings) - 1} more warnings); "
                           "drop --strict to import anyway")
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    count = write_documents(out, result.documents)
    quotes = sum(len(d.quotes) for d in result.documents)
    articles = len({d.article.id for d in result.documents})
    typer.echo(f"wrote {count} documents ({articles} articles, {quotes} quotes) to {out}; "
               f"{len(result.warnings)} lines skipped with warnings")


def register(app: typer.Typer) -> None:
    register_citron_import(import_app)  # other formats add themselves to the group the same way
    app.add_typer(import_app, name="import")
