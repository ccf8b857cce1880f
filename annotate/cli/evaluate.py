"""``annotate evaluate``: an extractor's predictions against a gold release or gold JSONL."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("evaluate")
    def evaluate(
        gold: Path = typer.Option(..., "--gold", help="Gold: a release folder written by `annotate publish`, or a "
                                                      "JSONL of AnnotatedDocuments (several per article allowed)."),
        pred: Path = typer.Option(..., "--pred", help="Predictions: JSONL of AnnotatedDocuments, one per article "
                                                      "(e.g. from `annotate extract`)."),
        json_path: Path = typer.Option(None, "--json", help="Also write the report as JSON to this file."),
        agreement: Path = typer.Option(None, "--agreement", help="Agreement report of the gold (`annotate agreement "
                                                                 "--json`) for the ceilings; default: the release's "
                                                                 "agreement.json, if it carries one."),
        split: str = typer.Option(None, "--split", help="Only this split of a release (train, validation, test)."),
        resamples: int = typer.Option(1000, min=1, help="Bootstrap resamples (over articles) for the intervals."),
        seed: int = typer.Option(0, help="Seed of the bootstrap."),
    ) -> None:
        """Extractor quality: span P/R/F1 (strict, exact, partial, type, overlap; token overlap), attribution,
        stance and claims, with bootstrap intervals and human agreement as the ceiling."""
        from rich.console import Console

        from exports.evaluate import evaluate_files
        from exports.evaluation_report import render
        from schemas import ToolkitError
        from schemas.files import write_atomically

        if json_path is not None and not json_path.parent.is_dir():  # fail before the work, not after it
            raise ToolkitError(f"--json {json_path}: directory {json_path.parent} does not exist; create it or "
                               "choose another path")
        report = evaluate_files(gold, pred, agreement=agreement, split=split, resamples=resamples, seed=seed)
        render(report, Console())
        if json_path is not None:
            write_atomically(json_path, report.model_dump_json(indent=2) + "\n")
            typer.echo(f"report written to {json_path}")
