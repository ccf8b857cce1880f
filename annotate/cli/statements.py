"""``annotate statements``: the statement layer. Link the gold quotes into statements (the baseline linker), let
annotators group them in Label Studio (``statements_studio``), measure their agreement, adjudicate, and show how
each outlet rendered each statement."""

from __future__ import annotations

from pathlib import Path

import typer

from annotate.cli.statements_studio import register as register_studio

statements_app = typer.Typer(
    help="Statements: one utterance as several outlets render it (link, Label Studio, agreement, adjudicate, "
         "fidelity).",
    no_args_is_help=True,
)

GOLD_HELP = "Gold JSONL of AnnotatedDocument whose quotes the statements link (e.g. from `annotate adjudicate`)."


@statements_app.command("link")
def link_command(
    gold: list[Path] = typer.Argument(..., help=GOLD_HELP + " A folder: the predictions of a finished "
                                      "`annotate extract --input ARCHIVE --out FOLDER` run."),
    out: Path = typer.Option(..., "--out", help="Statements JSONL to write (one document per story)."),
    no_stories: bool = typer.Option(False, "--no-stories", help="Link the whole collection at once, ignoring "
                                    "story labels (the same quote across days and stories)."),
    engine: str = typer.Option("local", "--engine", help="local: this process; spark: candidates by Spark's "
                               "MinHash LSH, scored on its executors by the same rule and clustered the same "
                               "way (its LSH can find a few passing pairs the local one misses; see README)."),
    workers: int = typer.Option(2, "--workers", min=1, help="Spark local mode: cores (spark-submit: its master)."),
) -> None:
    """The baseline linker: same speaker, similar words, clustered; writes one statement document per story."""
    from itertools import chain

    from annotate.extract.statements import link_documents
    from exports.archive.predictions import read_predictions
    from schemas.documents import read_documents, write_statement_documents
    from schemas.errors import ToolkitError

    if engine not in ("local", "spark"):
        raise ToolkitError(f"--engine {engine!r}: use local or spark")
    files = [p for p in gold if not p.is_dir()]
    documents = chain(read_documents(files) if files else [],
                      *(read_predictions(p) for p in gold if p.is_dir()))
    if engine == "spark":
        from exports.archive.spark_linking import spark_link_documents

        docs = spark_link_documents(documents, use_stories=not no_stories, workers=workers)
    else:
        docs = link_documents(documents, use_stories=not no_stories)
    n = write_statement_documents(out, docs)
    statements = sum(len(d.statements) for d in docs)
    linked = sum(1 for d in docs for s in d.statements if len(s.renderings) > 1)
    typer.echo(f"wrote {n} statement document(s) to {out}: {statements} statements, {linked} with several renderings")


@statements_app.command("agreement")
def agreement_command(
    statements: list[Path] = typer.Argument(..., help="Every annotator's statements JSONL (one document per story "
                                            "and annotator)."),
    gold: list[Path] = typer.Option(..., "--gold", help=GOLD_HELP),
    json_out: Path = typer.Option(None, "--json", help="Write the report as JSON here."),
    resamples: int = typer.Option(1000, "--resamples", min=0, help="Bootstrap resamples for the intervals."),
) -> None:
    """Cluster agreement between annotators (MUC, B-cubed, CEAF-m/e, BLANC, LEA, CoNLL, link kappa) with CIs."""
    from exports.statements.agreement import statement_agreement
    from exports.statements.agreement_report import print_statement_agreement
    from exports.statements.run import StatementInputs
    from schemas.files import write_atomically

    read = StatementInputs.read(statements, gold)
    report = statement_agreement(read.documents, resamples=resamples, where=read.where)
    print_statement_agreement(report)
    if json_out is not None:
        write_atomically(json_out, report.model_dump_json(indent=2) + "\n")
        typer.echo(f"wrote {json_out}")


@statements_app.command("adjudicate")
def adjudicate_command(
    statements: list[Path] = typer.Argument(..., help="Every annotator's statements JSONL."),
    gold: list[Path] = typer.Option(..., "--gold", help=GOLD_HELP),
    out: Path = typer.Option(..., "--out", help="Gold statements JSONL to write."),
    decisions: Path = typer.Option(None, "--decisions", help="JSON decisions for the conflicts (conflict id -> "
                                   "accept or statements, with a reason)."),
    majority: str = typer.Option(None, "--majority", help="Annotators who must form a statement exactly: a count "
                                 "or a fraction (default: more than half)."),
    conflicts: Path = typer.Option(None, "--conflicts", help="Where to write the conflicts report (default: beside "
                                   "--out, .conflicts.json)."),
) -> None:
    """Majority and decisions: the gold statements, with every rendering placed differently listed."""
    from exports.adjudication.decisions import parse_majority
    from exports.statements.run import run_statement_adjudication

    report, conflicts, n = run_statement_adjudication(statements, gold, out, decisions_path=decisions,
                                                      majority=parse_majority(majority), conflicts_path=conflicts)
    typer.echo(f"wrote {n} gold statement document(s) to {out}: {report.statements} statements "
               f"({report.accepted_by_majority} by majority), {len(report.conflicts)} conflict(s), "
               f"{len(report.undecided)} undecided; conflicts in {conflicts}")
    for conflict_id in report.undecided:
        typer.echo(f"undecided: {conflict_id} (its renderings are left out of the gold; decide it in --decisions)")
    for conflict_id in report.unused_decisions:
        typer.echo(f"unused decision: {conflict_id} (no such conflict)")


@statements_app.command("fidelity")
def fidelity_command(
    statements: list[Path] = typer.Argument(..., help="Statements JSONL (gold, an annotator's or a linker's)."),
    gold: list[Path] = typer.Option(..., "--gold", help=GOLD_HELP),
    json_out: Path = typer.Option(None, "--json", help="Write the view as JSON here."),
    html: Path = typer.Option(None, "--html", help="Write the story page (statements by outlets) here."),
    all_statements: bool = typer.Option(False, "--all", help="Also print statements with a single rendering."),
) -> None:
    """Each statement's renderings side by side, outlet by outlet, aligned word by word against the fullest one."""
    from exports.statements.fidelity_view import fidelity_report, print_fidelity
    from exports.statements.run import StatementInputs
    from exports.statements.story_page import write_story_page
    from schemas.files import write_atomically

    read = StatementInputs.read(statements, gold)
    report = fidelity_report(read.documents, read.mentions())
    print_fidelity(report, only_linked=not all_statements)
    if json_out is not None:
        write_atomically(json_out, report.model_dump_json(indent=2) + "\n")
        typer.echo(f"wrote {json_out}")
    if html is not None:
        write_story_page(html, report, {d.article.id: d.article for d in read.gold})
        typer.echo(f"wrote {html}")


register_studio(statements_app)


def register(app: typer.Typer) -> None:
    app.add_typer(statements_app, name="statements")
