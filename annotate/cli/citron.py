"""Citron JSON (BBC's quote extractor): ``annotate export-citron`` and ``annotate import citron``.

``register(app)`` adds the export command; ``register_import(import_app)`` adds ``citron`` to the
``annotate import`` group. The format and its mapping are described in ``annotate.formats.citron``.
"""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("export-citron")
    def export_citron(
        docs: Path = typer.Argument(..., help="Annotated documents, one JSON object per line."),
        out: Path = typer.Option(..., "--out", "-o", help="A .json (one document), a .jsonl, or an existing folder "
                                                    "(one .json per document, as Citron reads a corpus)."),
    ) -> None:
        """Write annotated documents as Citron JSON (quotes with cue, source, content and coreference spans)."""
        from annotate.formats.citron.writer import documents_to_citron, write_citron

        warnings: list[str] = []
        from schemas.documents import read_documents

        objects = documents_to_citron(read_documents([docs]), warnings=warnings)
        written = write_citron(objects, out)
        for warning in warnings:
            typer.echo(f"warning: {warning}", err=True)
        quotes = sum(len(obj["quotes"]) for obj in objects)
        where = out if len(written) == 1 else f"{len(written)} files in {out}"
        typer.echo(f"wrote {len(objects)} document(s) with {quotes} quote(s) to {where}; {len(warnings)} warning(s)")


def register_import(import_app: typer.Typer) -> None:
    @import_app.command("citron")
    def import_citron(
        file: Path = typer.Argument(..., help="Citron JSON: a .json (object or list), a .jsonl, or a folder of .json."),
        out: Path = typer.Option(..., "--out", "-o", help="Where to write the annotated documents (JSONL)."),
        article_id: str = typer.Option(None, "--id", help="Article id of a single document without an \"id\" field "
                                                          "(default: the file name, else a SHA-256 prefix)."),
        annotator: str = typer.Option("citron", help="Provenance annotator for documents without \"annotator\"."),
    ) -> None:
        """Read Citron JSON annotations as annotated documents (quotes, speaker mentions, entities)."""
        from annotate.formats.citron.reader import import_citron as run_import
        from schemas.documents import write_documents

        result = run_import(file, article_id=article_id, annotator=annotator)
        write_documents(out, result.documents)
        for warning in result.warnings:
            typer.echo(f"warning: {warning}", err=True)
        quotes = sum(len(d.quotes) for d in result.documents)
        typer.echo(f"imported {len(result.documents)} document(s) with {quotes} quote(s) into {out}; "
                   f"{len(result.warnings)} warning(s)")


