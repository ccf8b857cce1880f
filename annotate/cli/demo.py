"""``annotate demo``: the whole flow on the seeds, as the commands a user would type.

Each step prints the ``annotate`` command it runs and runs it in this process, so the demo
doubles as a tutorial. Everything is idempotent: a second run reuses the server, the project,
the tasks and the replayed annotations, and re-publishing the same release is a no-op.
The two annotators' work is RECORDED (seeds/annotations/), replayed as their accounts.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from pathlib import Path

import typer

from schemas.paths import REPO_ROOT, SEEDS_DIR

DEMO_ANNOTATORS = ("annotator-1", "annotator-2")
DECISIONS = SEEDS_DIR / "annotations" / "decisions.json"
NOTES = SEEDS_DIR / "annotations" / "NOTES.md"
STATEMENT_PASSES = tuple(SEEDS_DIR / "annotations" / "statements" / f"{name}.jsonl" for name in DEMO_ANNOTATORS)
STATEMENT_DECISIONS = SEEDS_DIR / "annotations" / "statement-decisions.json"
RELEASE_VERSION = "1.1.0"


def _run(app: typer.Typer, *args: str) -> None:
    import typer.main

    typer.secho(f"\n$ annotate {shlex.join(args)}", bold=True)
    started = time.perf_counter()
    typer.main.get_command(app).main(args=list(args), prog_name="annotate", standalone_mode=False)
    typer.secho(f"  ({time.perf_counter() - started:.1f} s)", dim=True)


def run_demo(app: typer.Typer, out: Path, port: int) -> None:
    from annotate.labelstudio import server
    from annotate.labelstudio.annotators import add_annotator
    from annotate.labelstudio.client import StudioClient
    from annotate.labelstudio.credentials import credentials_path, load_admin_credentials
    from annotate.labelstudio.pull import latest_pull_docs
    from annotate.labelstudio.recordings import SEED_RECORDING, email_for

    out.mkdir(parents=True, exist_ok=True)
    status = server.status()
    if status.running and status.healthy and status.state is not None:
        typer.secho(f"Label Studio already running at {status.state.url}: reusing it", fg="green")
    else:
        _run(app, "server", "start", "--port", str(port))
    _run(app, "init")
    _run(app, "preload")

    client = StudioClient.open()
    known = {u.email.lower() for u in client.list_users()}
    state = server.status().state
    for name in DEMO_ANNOTATORS:
        email = email_for(name)
        if email in known:
            typer.echo(f"annotator {email} exists: reusing the account")
        elif state is not None:
            added = add_annotator(client, email, state.data_dir)
            typer.echo(f"annotator {email} created; password stored in {added.password_file}")

    typer.secho("\nThe two annotators' annotations are RECORDED (made once by following guidelines.md and "
                f"kept in {SEED_RECORDING.relative_to(REPO_ROOT)}); replaying them as their accounts:", fg="yellow")
    _run(app, "replay")
    _run(app, "pull")
    docs = latest_pull_docs()
    agreement_json, agreement_html = out / "agreement.json", out / "agreement.html"
    _run(app, "agreement", str(docs), "--json", str(agreement_json), "--html", str(agreement_html))
    gold = out / "gold.jsonl"
    _run(app, "adjudicate", str(docs), "--out", str(gold), "--decisions", str(DECISIONS))
    statements = _statement_layer(app, out, gold)
    release = out / "seed-gold"
    _run(app, "publish", str(gold), "--version", RELEASE_VERSION, "--out", str(release),
         "--annotations", str(docs), "--agreement", str(agreement_json), "--notes", str(NOTES),
         "--statements", str(statements.gold), "--statement-agreement", str(statements.agreement))
    baseline = out / "baseline.jsonl"
    _run(app, "extract", str(SEEDS_DIR), "--out", str(baseline))
    _run(app, "evaluate", "--gold", str(release), "--pred", str(baseline), "--agreement", str(agreement_json),
         "--json", str(out / "evaluation.json"), "--gold-statements", str(statements.gold),
         "--pred-statements", str(statements.baseline), "--statements-json", str(out / "statement-evaluation.json"))

    creds = load_admin_credentials()
    typer.secho("\nDone. Look at the annotations in the browser:", bold=True, fg="green")
    typer.echo(f"  {client.url}  (project 'News attribution')")
    if creds is not None:
        typer.echo(f"  admin: {creds.email}, password in {credentials_path()} (mode 0600)")
    typer.echo(f"  annotators: {', '.join(email_for(n) for n in DEMO_ANNOTATORS)}; passwords in the annotators "
               "file beside it (`annotate annotators list` shows them)")
    typer.echo(f"  statements by outlet: {statements.page} (linking project 'Statement linking' in Label Studio)")
    typer.echo(f"  agreement report: {agreement_html}\n  dataset: {release} "
               f"(datasets.load_dataset('{release}', 'quotes'))\n  stop the server: annotate server stop")


@dataclass(frozen=True)
class StatementFiles:
    baseline: Path
    agreement: Path
    gold: Path
    page: Path


def _statement_layer(app: typer.Typer, out: Path, gold: Path) -> StatementFiles:
    """The statement layer on the gold quotes: the baseline linker pre-groups the linking project's tasks; the two
    recorded statement passes are measured and adjudicated; the story page shows each statement outlet by outlet."""
    files = StatementFiles(baseline=out / "baseline-statements.jsonl", agreement=out / "statement-agreement.json",
                           gold=out / "gold-statements.jsonl", page=out / "statements.html")
    _run(app, "statements", "link", str(gold), "--out", str(files.baseline))
    _run(app, "statements", "init")
    _run(app, "statements", "preload", str(gold), "--predictions", str(files.baseline))
    typer.secho("\nThe two statement passes are RECORDED (made once by following section 10 of guidelines.md, kept "
                f"in {STATEMENT_PASSES[0].parent.relative_to(REPO_ROOT)}); submitting them as their accounts:",
                fg="yellow")
    _run(app, "statements", "replay", *(str(p) for p in STATEMENT_PASSES))
    pulled = out / "statements.jsonl"
    _run(app, "statements", "pull", "--out", str(pulled), "--gold", str(gold))
    _run(app, "statements", "agreement", str(pulled), "--gold", str(gold), "--json", str(files.agreement))
    _run(app, "statements", "adjudicate", str(pulled), "--gold", str(gold), "--decisions", str(STATEMENT_DECISIONS),
         "--out", str(files.gold))
    _run(app, "statements", "fidelity", str(files.gold), "--gold", str(gold), "--html", str(files.page))
    return files


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        out: Path = typer.Option(REPO_ROOT / "out" / "demo", help="Where the demo writes its reports and dataset."),
        port: int = typer.Option(8080, help="Port of the local Label Studio if one must be started."),
    ) -> None:
        """Run the whole flow on the seeds: server, project, preload, recorded annotations, pull,
        agreement, adjudication, publish, evaluation."""
        run_demo(app, out, port)
