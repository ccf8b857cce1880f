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


def _gold(paths: list[Path]):
    from schemas.documents import read_documents

    return read_documents(paths)


def _checked(statement_paths: list[Path], gold_paths: list[Path]):
    """The gold documents, and the statement documents each checked against their quotes (errors name file:line)."""
    from schemas import ToolkitError
    from schemas.documents import iter_statement_documents
    from schemas.statements import GoldQuotes

    gold = _gold(gold_paths)
    quotes = GoldQuotes(gold)
    docs, where = [], []
    for path in statement_paths:
        for lineno, doc in iter_statement_documents(path):
            try:
                quotes.check(doc)
            except ValueError as e:
                raise ToolkitError(f"{path}:{lineno}: {e}; link the quotes of the given --gold") from None
            docs.append(doc)
            where.append(f"{path}:{lineno}")
    if not docs:
        raise ToolkitError(f"no statement documents in {', '.join(map(str, statement_paths))}")
    return gold, docs, where


@statements_app.command("link")
def link_command(
    gold: list[Path] = typer.Argument(..., help=GOLD_HELP),
    out: Path = typer.Option(..., "--out", help="Statements JSONL to write (one document per story)."),
    no_stories: bool = typer.Option(False, "--no-stories", help="Link the whole collection at once, ignoring "
                                    "story labels (the same quote across days and stories)."),
) -> None:
    """The baseline linker: same speaker, similar words, clustered; writes one statement document per story."""
    from annotate.extract.statements import link_documents
    from schemas.documents import write_statement_documents

    docs = link_documents(_gold(gold), use_stories=not no_stories)
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
    from schemas.files import write_atomically

    _, docs, where = _checked(statements, gold)
    report = statement_agreement(docs, resamples=resamples, where=where)
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
    from exports.statements.adjudication import adjudicate_statements
    from exports.statements.decisions import load_statement_decisions
    from schemas import ToolkitError
    from schemas.documents import write_statement_documents
    from schemas.fidelity import with_fidelity
    from schemas.files import write_atomically
    from schemas.quote_mentions import quote_mentions

    conflicts = conflicts or out.with_name(out.name.removesuffix(".jsonl") + ".conflicts.json")
    inputs = {p.resolve() for p in [*statements, *gold, *([decisions] if decisions else [])]}
    for target, option in ((out, "--out"), (conflicts, "--conflicts")):
        if target.resolve() in inputs:
            raise ToolkitError(f"{option} {target} is one of the inputs; write it to another file")
    rule = parse_majority(majority)
    settled = load_statement_decisions(decisions) if decisions is not None else None
    gold_docs, docs, where = _checked(statements, gold)
    mentions = {m.key: m for m in quote_mentions(gold_docs)}
    result, report = adjudicate_statements(docs, majority=rule, decisions=settled, where=where, mentions=mentions)
    result = [with_fidelity(d, mentions) for d in result]
    # Conflicts first, gold second: a gold file is never newer than the report of how it was made.
    write_atomically(conflicts, report.model_dump_json(indent=2) + "\n")
    n = write_statement_documents(out, result)
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
    from exports.statements.story_page import write_story_page
    from schemas.files import write_atomically
    from schemas.quote_mentions import quote_mentions

    gold_docs, docs, _ = _checked(statements, gold)
    report = fidelity_report(docs, {m.key: m for m in quote_mentions(gold_docs)})
    print_fidelity(report, only_linked=not all_statements)
    if json_out is not None:
        write_atomically(json_out, report.model_dump_json(indent=2) + "\n")
        typer.echo(f"wrote {json_out}")
    if html is not None:
        write_story_page(html, report, {d.article.id: d.article for d in gold_docs})
        typer.echo(f"wrote {html}")


register_studio(statements_app)


def register(app: typer.Typer) -> None:
    app.add_typer(statements_app, name="statements")
