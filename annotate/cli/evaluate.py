"""``annotate evaluate``: an extractor's predictions against a gold release or gold JSONL, and optionally a
statement linker's statements against the gold statements."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer


class StatementQuotesChoice(StrEnum):
    """What the predicted statements' renderings point at (``exports.statements.evaluation_report.StatementQuotes``)."""

    GOLD = "gold"
    PREDICTED = "predicted"


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
        gold_statements: Path = typer.Option(None, "--gold-statements", metavar="FILE",
                                             help="Gold statements: JSONL of StatementDocuments (one per story) over "
                                                  "the --gold quotes. Give with --pred-statements."),
        pred_statements: Path = typer.Option(None, "--pred-statements", metavar="FILE",
                                             help="A linker's statements: JSONL of StatementDocuments (one per story, "
                                                  "or one without a story). Give with --gold-statements."),
        statements_on: StatementQuotesChoice = typer.Option(
            StatementQuotesChoice.GOLD, "--statements-on",
            help="What --pred-statements link: the gold's quotes (keys are gold quote keys), or the --pred "
                 "documents' quotes (end to end: aligned to the gold quotes first, one-to-one by overlap)."),
        statements_json: Path = typer.Option(None, "--statements-json", metavar="FILE",
                                             help="Also write the statement report as JSON to this file."),
        published: bool = typer.Option(False, "--published",
                                       help="Also print the figures as the published extractors' scoring code "
                                            "computes them (Citron's exact and token overlap, the Gender Gap "
                                            "Tracker's quote match at 0.3 and 0.8), named after them."),
    ) -> None:
        """Extractor quality: span P/R/F1 (strict, exact, partial, type, overlap; token overlap), attribution,
        stance and claims, with bootstrap intervals and human agreement as the ceiling; with statements, the
        linker's cluster metrics (MUC, B-cubed, CEAF, BLANC, LEA, CoNLL) against the gold statements."""
        from rich.console import Console

        from exports.evaluate import evaluate_files
        from exports.evaluation_report import render
        from exports.published_metrics import published_figures_of_files
        from exports.statements.evaluate import evaluate_statement_files
        from exports.statements.evaluation_report import print_statement_evaluation
        from schemas import ToolkitError
        from schemas.files import write_atomically

        if (gold_statements is None) != (pred_statements is None):
            given, missing = (("--gold-statements", "--pred-statements") if pred_statements is None
                              else ("--pred-statements", "--gold-statements"))
            raise ToolkitError(f"{given} needs {missing}: statements are evaluated against the gold statements; give "
                               "both files or neither")
        if statements_json is not None and gold_statements is None:
            raise ToolkitError("--statements-json needs --gold-statements and --pred-statements; give them or drop "
                               "--statements-json")
        for option, path in (("--json", json_path), ("--statements-json", statements_json)):
            if path is not None and not path.parent.is_dir():  # fail before the work, not after it
                raise ToolkitError(f"{option} {path}: directory {path.parent} does not exist; create it or choose "
                                   "another path")
        report = evaluate_files(gold, pred, agreement=agreement, split=split, resamples=resamples, seed=seed)
        if published:
            report = report.model_copy(update={"published": published_figures_of_files(gold, pred, split)})
        statements = None
        if gold_statements is not None:
            on_predicted = statements_on is StatementQuotesChoice.PREDICTED
            statements = evaluate_statement_files(gold_statements, pred_statements, gold=gold,
                                                  predicted=pred if on_predicted else None, split=split)
        console = Console()
        render(report, console)
        if statements is not None:
            print_statement_evaluation(statements, console)
        if json_path is not None:
            write_atomically(json_path, report.model_dump_json(indent=2) + "\n")
            typer.echo(f"report written to {json_path}")
        if statements_json is not None and statements is not None:
            write_atomically(statements_json, statements.model_dump_json(indent=2) + "\n")
            typer.echo(f"statement report written to {statements_json}")
