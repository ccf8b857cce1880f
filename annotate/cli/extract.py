"""``annotate extract``: predictions for a set of articles (JSONL), or for a Parquet archive of any size
(``--input ARCHIVE --out DIR``: partitioned Parquet in the published row codec, worker processes, resumable)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from schemas import ToolkitError

DEFAULT_BATCH_SIZE = 500  # as exports.archive.local_run's (not imported here: `annotate --help` stays fast)


def _extract_jsonl(inputs: list[Path], out: Path, model: Path | None, targets: Path | None) -> None:
    from annotate.extract.choose import quote_extractor
    from annotate.extract.layers import with_claims_and_stances
    from schemas.articles import load_articles, load_targets
    from schemas.documents import write_documents
    from schemas.paths import SEED_TARGETS

    extractor = quote_extractor(model)  # first, so a bad model file stops before any work
    inventory = load_targets(targets or SEED_TARGETS)
    # Claims and stances by the rules, whichever extractor found the quotes.
    documents = [with_claims_and_stances(extractor(article), inventory) for article in load_articles(inputs)]
    count = write_documents(out, documents)
    quotes, claims, stances = (sum(len(getattr(d, layer)) for d in documents) for layer in ("quotes", "claims",
                                                                                               "stances"))
    typer.echo(f"wrote {count} documents ({quotes} quotes, {claims} claims, {stances} stances, {extractor.name}) "
               f"to {out}")


def register(app: typer.Typer) -> None:
    @app.command("extract")
    def extract(
        inputs: list[Path] = typer.Argument(None, metavar="INPUT...",
                                            help="Articles: the seeds folder, a folder of .txt files, or a JSONL."),
        archive: Path = typer.Option(None, "--input", help="Instead of INPUT: an archive of articles, a Parquet file "
                                     "or a directory of them (the `articles` config's columns, or mapped below)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output JSONL, one predicted document per article; with "
                                 "--input, a directory for the predicted dataset (Parquet)."),
        model: Path = typer.Option(None, "--model", help="A model file from `annotate train` (default: the rules)."),
        targets: Path = typer.Option(None, "--targets", help="Target inventory of the predicted stances (default: the "
                                     "seeds' targets.json)."),
        workers: int = typer.Option(None, "--workers", help="With --input: worker processes (default: one per core)."),
        partition_by: str = typer.Option(None, "--partition-by", help="With --input: partition the output by outlet, "
                                         "published, language or story (hive-style folders)."),
        batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", help="With --input: articles per batch "
                                       "(one part file per batch and partition)."),
        id_column: str = typer.Option("id", "--id-column", help="With --input: the column of the article ids."),
        text_column: str = typer.Option("text", "--text-column", help="With --input: the column of the texts."),
        columns: list[str] = typer.Option(None, "--column", help="With --input: FIELD=COLUMN for metadata (title, "
                                          "outlet, published, url, language, story, sha256); repeatable."),
        overwrite: bool = typer.Option(False, "--overwrite", help="With --input: replace an earlier run in --out."),
        engine: str = typer.Option("local", "--engine", help="With --input: local (worker processes) or spark (a "
                                   "Spark job; needs the [spark] extra and Java)."),
        master: str = typer.Option(None, "--master", help="With --engine spark: the Spark master (default: "
                                   "spark-submit's, else local[N] with N = --workers)."),
    ) -> None:
        """Predict quotes, cues and speakers with the rule-based baseline (no model download) or a trained model,
        and claims and stances with the rules."""
        if inputs and archive is not None:
            raise ToolkitError("give either INPUT... (articles to a JSONL) or --input ARCHIVE (Parquet to a "
                               "directory), not both")
        if not inputs and archive is None:
            raise ToolkitError("give the articles: INPUT... (seeds, .txt folder, JSONL) or --input ARCHIVE (Parquet)")
        archive_only = {"--workers": workers is not None, "--partition-by": partition_by is not None,
                        "--batch-size": batch_size != DEFAULT_BATCH_SIZE, "--id-column": id_column != "id",
                        "--text-column": text_column != "text", "--column": bool(columns), "--overwrite": overwrite,
                        "--engine": engine != "local", "--master": master is not None}
        if archive is None:
            given = [name for name, set_ in archive_only.items() if set_]
            if given:
                raise ToolkitError(f"{', '.join(given)}: only with --input ARCHIVE (INPUT... is read whole into a "
                                   "JSONL)")
            _extract_jsonl(inputs, out, model, targets)
            return

        if engine not in ("local", "spark"):
            raise ToolkitError(f"--engine {engine}: choose local or spark")
        if master is not None and engine != "spark":
            raise ToolkitError("--master: only with --engine spark")

        from exports.archive.batch import ExtractorSpec
        from exports.archive.local_run import run_archive
        from exports.archive.source import ArchiveSource, ColumnMap

        source = ArchiveSource.open(archive, ColumnMap.from_options(id_column, text_column, columns or []))
        spec = ExtractorSpec(None if model is None else str(model), None if targets is None else str(targets))
        options = dict(workers=workers or os.cpu_count() or 1, partition_by=partition_by, spec=spec,
                       batch_size=batch_size, overwrite=overwrite)
        if engine == "spark":
            from exports.archive.spark_run import run_archive_spark  # pyspark only when the engine is asked for

            result = run_archive_spark(source, out, master=master, **options)
        else:
            result = run_archive(source, out, **options)
        c = result.counts
        resumed = f", {result.resumed} done by an earlier run" if result.resumed else ""
        typer.echo(f"wrote {c.get('articles', 0)} articles ({c.get('quotes', 0)} quotes, {c.get('claims', 0)} claims, "
                   f"{c.get('stances', 0)} stances, {result.extractor}) in {result.batches} batches{resumed} to {out}")
