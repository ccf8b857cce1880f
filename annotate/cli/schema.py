"""``annotate schema``: write the generated artifacts (JSON Schemas, labeling config)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("schema")
    def schema(
        check: bool = typer.Option(False, "--check", help="Fail if the checked-in files differ instead of writing."),
        targets: Path = typer.Option(None, help="Target inventory JSON (default: the seeds' targets.json)."),
    ) -> None:
        """Regenerate schemas/json/*.schema.json and schemas/labeling_config.xml from the models."""
        from annotate.cli.artifacts import write_artifacts
        from schemas import ToolkitError
        from schemas.articles import load_targets
        from schemas.paths import SEED_TARGETS

        stale = write_artifacts(load_targets(targets or SEED_TARGETS), check=check)
        if check and stale:
            raise ToolkitError(f"generated files are stale: {', '.join(stale)}; run `annotate schema` and commit")
        typer.echo("artifacts up to date" if check else "artifacts written")
