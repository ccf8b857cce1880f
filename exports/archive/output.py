"""The output folder of an archive run: its layout, its run record and done-markers, and its card and manifest.

Layout (``datasets.load_dataset(OUT, "annotations")`` reads it through the card's ``configs``)::

    OUT/articles/<key>=<value>/part-000001.parquet     one file per batch and partition value
    OUT/annotations/<key>=<value>/part-000001.parquet  (no <key>=<value> level without --partition-by)
    OUT/.progress/run.json                             what the run is (input fingerprint, options): written
                                                       before the first batch, compared on every rerun
    OUT/.progress/batch-000001.json                    done-marker: written after the batch's files
    OUT/README.md, OUT/manifest.json                   written when every batch is done

Partition values are percent-encoded (a ``/`` in an outlet cannot make a folder), and a null or empty value is
Hive's placeholder ``__HIVE_DEFAULT_PARTITION__``, which pyarrow and Spark read back as null. Every file is
written with ``write_atomically`` (a temp name, then a rename to its deterministic name), so a part file
exists whole or not at all; a batch counts only once its marker exists. A rerun deletes the parts of unmarked
batches (and any temp file), so every article ends up in exactly one part.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import quote

from datasets import DatasetInfo
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCardData

from exports.archive.source import HIVE_NULL
from exports.dataset.configs import ANNOTATIONS, ARTICLES
from schemas import ToolkitError
from schemas.files import read_text, write_atomically

CONFIGS = (ARTICLES, ANNOTATIONS)
PROGRESS = ".progress"
RUN_RECORD = "run.json"
MANIFEST = "manifest.json"
CARD = "README.md"
SPLIT = "train"  # the one split of a predicted dataset (the Hub's name for a dataset's only split)
PARTITION_KEYS = ("outlet", "published", "language", "story")
_PART = re.compile(r"part-(\d+)\.parquet")
_MARKER = re.compile(r"batch-(\d+)\.json")


def partition_folder(key: str | None, article: dict) -> str:
    """The hive-style folder of an article row for the partition key (``""``: no partitioning)."""
    if key is None:
        return ""
    value = article[key]
    if value is None or value == "":
        return f"{key}={HIVE_NULL}"
    return f"{key}={quote(value.isoformat() if isinstance(value, date) else str(value), safe='')}"


def part_path(config: str, folder: str, batch: int) -> str:
    return "/".join(p for p in (config, folder, f"part-{batch:06d}.parquet") if p)


def data_files(partition_by: str | None) -> dict[str, str]:
    """Each config's glob of part files, relative to OUT."""
    return {spec.name: f"{spec.name}/{'*/' if partition_by else ''}*.parquet" for spec in CONFIGS}


def _marker(out: Path, batch: int) -> Path:
    return out / PROGRESS / f"batch-{batch:06d}.json"


@dataclass(frozen=True)
class Finished:
    """What a batch's done-marker records."""

    batch: int
    files: list[str]
    counts: dict[str, int]


def commit(out: Path, batch: int, files: dict[str, bytes], counts: dict[str, int]) -> None:
    """Write a batch's part files, then its marker: the marker is the commit."""
    for rel, data in files.items():
        write_atomically(out / rel, data, make_parents=True)
    write_atomically(_marker(out, batch), json.dumps({"batch": batch, "files": sorted(files), "counts": counts},
                                                     indent=1) + "\n")


def finished(out: Path) -> dict[int, Finished]:
    """The done-markers in OUT, by batch number."""
    found = {}
    directory = out / PROGRESS
    for path in sorted(directory.glob("batch-*.json")) if directory.is_dir() else ():
        if not _MARKER.fullmatch(path.name):
            continue
        try:
            data = json.loads(read_text(path))
            found[data["batch"]] = Finished(int(data["batch"]), list(data["files"]), dict(data["counts"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise ToolkitError(f"{path}: damaged done-marker; delete it (its batch is then done again)") from None
    return found


def clear_unfinished(out: Path) -> dict[int, Finished]:
    """Before a (re)run: the batches that are done; parts of any other batch and temp files deleted.

    A marked batch with a file missing (deleted by hand) loses its marker and is done again.
    """
    done = finished(out)
    for number, batch in list(done.items()):
        if not all((out / rel).is_file() for rel in batch.files):
            _marker(out, number).unlink()
            del done[number]
    for root in [out / spec.name for spec in CONFIGS] + [out / PROGRESS]:
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if not path.is_file():
                continue
            part = _PART.fullmatch(path.name)
            if (path.name.startswith(".") and path.name.endswith(".tmp")) or (part and int(part.group(1)) not in done):
                path.unlink()
    return done


_WHAT = {"input": "input (files, sizes or modification times)", "columns": "column mapping",
         "extractor": "extractor version", "layers": "claim and stance rules' version", "model": "--model",
         "targets": "--targets", "partition_by": "--partition-by", "batch_size": "--batch-size",
         "schema_version": "schema version"}


def prepare(out: Path, key: dict, overwrite: bool) -> dict | None:
    """The run record of an earlier run of the same key (a resume), None for a fresh start; a different run in
    OUT is refused (or removed with ``overwrite``). Nothing is written here."""
    if out.exists() and not out.is_dir():
        raise ToolkitError(f"--out {out}: is a file; give a directory (new or empty) for the predicted dataset")
    if not out.is_dir() or not any(out.iterdir()):
        return None
    record_path = out / PROGRESS / RUN_RECORD
    if not record_path.is_file():
        raise ToolkitError(f"--out {out}: not empty and not the output of `annotate extract --input`; give a new or "
                           "empty directory")
    try:
        record = json.loads(read_text(record_path))
        earlier = record["key"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise ToolkitError(f"{record_path}: damaged run record; run again with --overwrite (the run restarts)"
                           ) from None
    if overwrite:
        remove_run(out)
        return None
    if earlier == key:
        return record
    differs = [_WHAT.get(k, k) for k in sorted(set(key) | set(earlier)) if key.get(k) != earlier.get(k)]
    raise ToolkitError(f"--out {out} holds a run with another {', '.join(differs)}; give a new --out, or --overwrite "
                       "to replace that run")


def remove_run(out: Path) -> None:
    """An earlier run's files (only those: anything else in OUT stays)."""
    for name in [spec.name for spec in CONFIGS] + [PROGRESS]:
        if (out / name).is_dir():
            shutil.rmtree(out / name)
    for name in (CARD, MANIFEST):
        (out / name).unlink(missing_ok=True)


def start(out: Path, key: dict, articles: int, batches: int) -> None:
    """The run record, written before the first batch (so a rerun can recognise the run)."""
    record = {"key": key, "articles": articles, "batches": batches}
    write_atomically(out / PROGRESS / RUN_RECORD, json.dumps(record, indent=1) + "\n", make_parents=True)


def totals(done: dict[int, Finished]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for batch in done.values():
        for name, n in batch.counts.items():
            counts[name] = counts.get(name, 0) + n
    return counts


def card(key: dict, counts: dict[str, int]) -> str:
    """README.md: the ``configs`` and typed features that ``datasets`` reads, and what the predictions are."""
    card_data = DatasetCardData(pretty_name=f"Predictions of {key['extractor']}",
                                tags=["news", "quotation-attribution", "predictions"])
    MetadataConfigs({name: {"data_files": [{"split": SPLIT, "path": glob}]}
                     for name, glob in data_files(key["partition_by"]).items()}).to_dataset_card_data(card_data)
    DatasetInfosDict({spec.name: DatasetInfo(features=spec.features) for spec in CONFIGS}
                     ).to_dataset_card_data(card_data)
    partitioned = (f"partitioned by `{key['partition_by']}` in hive-style folders (`{key['partition_by']}=VALUE`, "
                   f"percent-encoded; `{HIVE_NULL}` for a null value)" if key["partition_by"] else "not partitioned")
    return (f"---\n{card_data.to_yaml()}\n---\n\n# Predictions of {key['extractor']}\n\n"
            f"{counts.get('articles', 0)} articles of `{key['input']['path']}` with the predictions of "
            f"`{key['extractor']}` (claims and stances by the rules {key['layers']}): "
            f"{counts.get('quotes', 0)} quotes, {counts.get('claims', 0)} claims, {counts.get('stances', 0)} stances. "
            "Two configs in the published dataset's row codec: `articles` (one row per article) and `annotations` "
            f"(one predicted document per article, origin `prediction`), {partitioned}, in part files of "
            f"{key['batch_size']} articles at most. `manifest.json` records the input and the options.\n\n"
            "```python\nfrom datasets import load_dataset\n"
            'predictions = load_dataset("path/to/this/folder", "annotations", split="train")\n```\n')


def finish(out: Path, key: dict, batches: int, done: dict[int, Finished]) -> dict[str, int]:
    """The card and the manifest, once every batch is done; the totals."""
    counts = totals(done)
    write_atomically(out / CARD, card(key, counts))
    manifest = {**key, "null_partition": HIVE_NULL, "batches": batches, "counts": counts,
                "configs": data_files(key["partition_by"])}
    write_atomically(out / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return counts
