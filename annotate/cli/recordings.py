"""``annotate record`` and ``annotate replay``: recorded annotations of the seeds."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("record")
    def record(
        authoring: list[Path] = typer.Argument(
            ..., help="Authoring files (annotate.formats.authoring), one per annotator."),
        out: Path = typer.Option(None, "--out", help="Where to keep the export (default: the seeds' recording)."),
    ) -> None:
        """Submit authored annotations through the server as their annotators and keep the export."""
        from annotate.labelstudio.client import StudioClient
        from annotate.labelstudio.recordings import SEED_RECORDING, record_seeds

        path = record_seeds(StudioClient.open(), authoring, out or SEED_RECORDING)
        typer.echo(f"recorded {len(authoring)} annotators' annotations of the seeds in {path}")

    @app.command("replay")
    def replay(
        recording: Path = typer.Argument(None, help="A recorded JSON export (default: the seeds' recording)."),
    ) -> None:
        """Replay recorded annotations into the current project, each as its own annotator account."""
        from annotate.labelstudio.client import StudioClient
        from annotate.labelstudio.project import current_project
        from annotate.labelstudio.recordings import SEED_RECORDING
        from annotate.labelstudio.recordings import replay as do_replay

        client = StudioClient.open()
        report = do_replay(client, current_project(client), recording or SEED_RECORDING)
        typer.echo(f"replayed RECORDED annotations of {', '.join(report.annotators)}: "
                   f"{report.created} created, {report.already_there} already there")
