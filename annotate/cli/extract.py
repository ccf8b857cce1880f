"""``annotate extract``: the rule-based baseline's predictions for a set of articles (JSONL)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("extract")
    def extract(
        inputs: list[Path] = typer.Argument(..., metavar="INPUT...",
                                            help="Articles: the seeds folder, a folder of .txt files, or a JSONL."),
        out: Path = typer.Option(..., "--out", "-o", help="Output JSONL, one predicted document per article."),
    ) -> None:
        """Predict quotes, cues and speakers with the rule-based baseline (no model download)."""
        from annotate.extract import BASELINE_VERSION
        from annotate.extract import extract as extract_document
        from schemas.articles import load_articles
        from schemas.documents import write_documents

        documents = [extract_document(article) for article in load_articles(inputs)]
        count = write_documents(out, documents)
        quotes = sum(len(d.quotes) for d in documents)
        typer.echo(f"wrote {count} documents ({quotes} quotes, baseline {BASELINE_VERSION}) to {out}")
