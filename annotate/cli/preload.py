"""``annotate preload``: articles into the project as tasks, with pre-annotations."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("preload")
    def preload(
        paths: list[Path] = typer.Argument(None, help="Seeds-style dirs, dirs of .txt, or JSONL (default: seeds/)."),
        batch_size: int = typer.Option(500, help="Tasks per import request."),
        predictions: bool = typer.Option(True, "--predictions/--no-predictions",
                                         help="Add the baseline extractor's pre-annotations as predictions."),
        new_revision: bool = typer.Option(False, "--new-revision",
                                          help="Import changed texts as '<id>@r2' (r3, ...) instead of refusing."),
        entities: list[Path] = typer.Option(None, "--entities", help="Entity inventories the pickers start from "
                                            "(repeatable; default: seeds/entities.json)."),
        gold: list[Path] = typer.Option(None, "--gold", help="Earlier gold JSONL whose entities join their story's "
                                        "list (repeatable)."),
        model: Path = typer.Option(None, "--model", help="Pre-annotate with a model from `annotate train` "
                                   "(default: the rule-based baseline)."),
        targets: Path = typer.Option(None, "--targets", help="Target inventory of the predicted stances, the one the "
                                     "project was made from (default: the seeds' targets.json)."),
    ) -> None:
        """Push articles as tasks, each with its story's entity list; skips those already there, refuses changed
        texts."""
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from annotate.extract.choose import quote_extractor
        from annotate.labelstudio import preload as preloading
        from annotate.labelstudio.blind.record import read_blind
        from annotate.labelstudio.client import StudioClient
        from annotate.labelstudio.project import current_project
        from annotate.labelstudio.story_entities import StoryEntities
        from schemas import ToolkitError
        from schemas.articles import load_articles, load_targets
        from schemas.documents import read_documents
        from schemas.inventory import SEED_ENTITIES, read_inventory
        from schemas.paths import SEED_TARGETS, SEEDS_DIR

        record = read_blind()
        if record is not None and new_revision:
            raise ToolkitError("--new-revision is not for blind mode: the desks' copies of an article must stay "
                               "one text; give the changed article a new id instead")
        articles = load_articles(paths or [SEEDS_DIR])
        # Every story's entity list, from the inventories, the earlier gold and the baseline over its articles.
        stories = StoryEntities.build(
            articles, inventories=[read_inventory(p) for p in entities or [SEED_ENTITIES]],
            gold=read_documents(gold) if gold else [], extractor=quote_extractor(model),
            targets=load_targets(targets or SEED_TARGETS))
        if record is not None:  # blind mode: routed to N annotators, each on their own desk
            from annotate.cli.blind import preload as preload_blind

            preload_blind(record, articles, batch_size, predictions, stories)
            return
        client = StudioClient.open()
        project = current_project(client)
        columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        console = Console(stderr=True)
        with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
            task = bar.add_task("import", total=None)

            def advance(n: int, total: int) -> None:
                bar.update(task, advance=n, total=total)

            report = preloading.preload(
                client, project, articles, batch_size=batch_size, predictions=predictions,
                new_revision=new_revision, on_batch=advance, predict=stories.predict,
                inventory_for=stories.inventory_for,
            )
        for original, revision in report.revisions.items():
            typer.echo(f"{original}: text changed, imported as new revision {revision}")
        rate = report.imported / report.seconds if report.seconds else 0.0
        typer.echo(
            f"project {report.project_id}: imported {report.imported} article(s) with {report.predictions} "
            f"prediction(s), {report.unchanged} already there; {report.seconds:.1f} s ({rate:.0f} articles/s)"
        )
