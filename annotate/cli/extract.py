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
        model: Path = typer.Option(None, "--model", help="A model file from `annotate train` (default: the rules)."),
        targets: Path = typer.Option(None, "--targets", help="Target inventory of the predicted stances (default: the "
                                     "seeds' targets.json)."),
    ) -> None:
        """Predict quotes, cues and speakers with the rule-based baseline (no model download) or a trained model,
        and claims and stances with the rules."""
        from annotate.extract.choose import quote_extractor
        from annotate.extract.layers import with_claims_and_stances
        from schemas.articles import load_articles, load_targets
        from schemas.documents import write_documents
        from schemas.paths import SEED_TARGETS

        extractor = quote_extractor(model)  # first, so a bad model file stops before any work
        inventory = load_targets(targets or SEED_TARGETS)
        # Claims and stances by the rules, whichever extractor found the quotes.
        documents = [with_claims_and_stances(extractor(article), inventory) for article in load_articles(inputs)]
        count = write_documents(out, documents)
        quotes, claims, stances = (sum(len(getattr(d, layer)) for d in documents) for layer in ("quotes", "claims",
                                                                                                   "stances"))
        typer.echo(f"wrote {count} documents ({quotes} quotes, {claims} claims, {stances} stances, {extractor.name}) "
                   f"to {out}")
