"""``annotate train``: a quote tagger (CRF) learned from a gold, for ``extract --model`` and ``preload --model``."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        gold: Path = typer.Option(..., "--gold", help="Gold: a release folder (annotate publish) or document JSONL."),
        out: Path = typer.Option(..., "--out", "-o", help="The model file to write (a zip of JSON and CRF weights)."),
        split: str = typer.Option(None, "--split", help="Only this split of a release folder (e.g. train)."),
        convention: bool = typer.Option(
            False, "--toolkit-convention",
            help="Trim the gold's content to guidelines.md 4.3 first (for PolNeAR or PARC imports)."),
        max_iterations: int = typer.Option(150, "--max-iterations", min=1, help="L-BFGS iterations."),
        c1: float = typer.Option(0.05, "--c1", min=0.0, help="L1 regularisation."),
        c2: float = typer.Option(0.01, "--c2", min=0.0, help="L2 regularisation."),
    ) -> None:
        """Train a quote tagger (content, cue and source tokens, and the speaker link) from a gold."""
        from annotate.extract.model.train import train_model
        from annotate.formats.convention import to_toolkit_convention
        from exports.evaluation_inputs import read_gold
        from schemas import ToolkitError

        if out.exists() and out.is_dir():
            raise ToolkitError(f"--out {out}: is a folder; give a file name for the model, e.g. {out / 'model.zip'}")
        located, _ = read_gold(gold, split)
        docs = [to_toolkit_convention(x.doc) if convention else x.doc for x in located]
        info = train_model(docs, out, source=str(gold),
                           params={"max_iterations": max_iterations, "c1": c1, "c2": c2})
        data = info.trained_on
        typer.echo(f"trained {info.version} on {data.documents} documents ({data.articles} articles, {data.quotes} "
                   f"quotes, {data.tokens} tokens) in {info.trainer.seconds:.0f} s; wrote {out}")
