"""``annotate publish``: one version of the dataset as a Hugging Face dataset folder (optionally pushed)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("publish")
    def publish_command(
        gold: list[Path] = typer.Argument(None, help="Gold JSONL files of AnnotatedDocument (default: the last "
                                          "adjudication)."),
        version: str = typer.Option(..., "--version", help="Semantic version MAJOR.MINOR.PATCH of this release."),
        out: Path = typer.Option(..., "--out", help="The dataset folder; the current version at its top, every "
                                 "version in .releases/<version>/."),
        annotations: list[Path] = typer.Option(None, "--annotations", help="JSONL of raw per-annotator documents "
                                               "(the `annotations` config); repeat for several files."),
        agreement: Path = typer.Option(None, "--agreement", help="Agreement report JSON from "
                                       "`annotate agreement --json`, rendered in the card."),
        targets: Path = typer.Option(None, "--targets", help="Target inventory JSON (default: seeds/targets.json)."),
        guidelines: Path = typer.Option(None, "--guidelines", help="Guidelines markdown (default: guidelines.md)."),
        license: str = typer.Option(None, "--license", help="License id for the card (default: cc-by-4.0)."),
        notes: Path = typer.Option(None, "--notes", help="Markdown file of curators' notes for the card."),
        pretty_name: str = typer.Option(None, "--pretty-name", help="Dataset name shown on the Hub."),
        statements: list[Path] = typer.Option(None, "--statements", help="Gold statements JSONL from `annotate "
                                              "statements adjudicate` (the `statements` and `renderings` configs)."),
        statement_agreement: Path = typer.Option(None, "--statement-agreement", help="Report JSON from `annotate "
                                                 "statements agreement --json`, rendered in the card."),
        push: str = typer.Option(None, "--push", help="Hub repo id (user/name) to upload to and tag with the "
                                 "version; needs HF_TOKEN."),
    ) -> None:
        """Publish gold (and raw) documents as a versioned dataset: Parquet per config split by story, a card."""
        from exports.dataset.publish import PublishRequest, publish

        defaults = PublishRequest(version=version, out=out)
        result = publish(PublishRequest(
            version=version, out=out, gold=list(gold or []), annotations=list(annotations or []),
            agreement=agreement, targets=targets or defaults.targets, guidelines=guidelines or defaults.guidelines,
            license=license or defaults.license, pretty_name=pretty_name or defaults.pretty_name, push=push,
            notes=notes, statements=list(statements or []), statement_agreement=statement_agreement,
        ))
        r = result.release
        if result.unchanged:
            typer.echo(f"{r.version} is already published in {result.out} with the same content; nothing changed")
        else:
            rows = ", ".join(f"{config} {sum(splits.values())}" for config, splits in r.rows.items())
            typer.echo(f"published {r.version} to {result.out} ({rows}); fingerprint {r.fingerprint[:12]}")
        if push:
            typer.echo(f"pushed to {push} and tagged {r.version}")
