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
    """Import PolNeAR-style BRAT attributions (Source, Cue, Content and the events linking them; Discard as
    out-of-scope text) and print, per label, what became of its spans."""
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
               f"{len(result.warnings)} warnings")
    for tally in result.labels:  # what became of every span, per BRAT label
        typer.echo(f"  {tally.describe()}")


@import_app.command("anchored")
def anchored(
    file: Path = typer.Argument(..., help="JSONL, one article per line: quotes as content / cue / speaker strings "
                                "(format: annotate.formats.anchored)."),
    articles: list[Path] = typer.Option(..., "--articles", "-a", help="The articles (seeds folder, .txt folder or "
                                        "JSONL); repeat for several."),
    out: Path = typer.Option(..., "--out", "-o", help="Output JSONL of predicted documents, one per line of FILE."),
    report: Path = typer.Option(None, "--report", help="Write the per-quote, per-field report here (JSON)."),
    skip_unplaced: bool = typer.Option(False, "--skip-unplaced", help="Leave out quotes whose content is not found "
                                       "or ambiguous (listed in the report) instead of failing."),
    fuzzy: float = typer.Option(None, "--fuzzy", min=50, max=100, help="Place a content found by neither exact nor "
                                "normalised match at its best fuzzy alignment scoring at least this (50-100), when "
                                "nothing else scores as high; reported as fuzzy. Off by default."),
) -> None:
    """Anchor quotes given as strings (e.g. a language model's output) to offsets in their articles."""
    from annotate.formats.anchored import import_anchored
    from schemas import ToolkitError
    from schemas.articles import load_articles
    from schemas.documents import write_documents
    from schemas.files import write_atomically

    result = import_anchored(file, load_articles(articles), skip_unplaced=skip_unplaced, fuzzy=fuzzy)
    for target in (out, report):
        if target is not None and not target.parent.is_dir():  # nothing is written unless everything can be
            raise ToolkitError(f"{target}: directory {target.parent} does not exist; create it or choose another path")
    write_documents(out, result.documents)
    if report is not None:
        write_atomically(report, result.report.model_dump_json(indent=2) + "\n")
    typer.echo(f"{result.report.summary()}; wrote {len(result.documents)} documents to {out}")


def register(app: typer.Typer) -> None:
    register_citron_import(import_app)  # other formats add themselves to the group the same way
    app.add_typer(import_app, name="import")
