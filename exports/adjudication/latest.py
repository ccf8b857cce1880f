"""The record of the last adjudication (``state_dir()/adjudication.json``): where it wrote the gold."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from exports.adjudication.report import _Record
from schemas import ToolkitError
from schemas.files import read_model
from schemas.paths import state_dir

LATEST_FILE = "adjudication.json"


class LatestAdjudication(_Record):
    """``state_dir()/adjudication.json``: where the last adjudication wrote its files."""

    gold: str
    conflicts: str
    created_at: datetime



def latest_adjudication() -> Path:
    """The gold JSONL the last ``annotate adjudicate`` wrote (recorded in ``state_dir()/adjudication.json``)."""
    path = state_dir() / LATEST_FILE
    if not path.exists():
        raise ToolkitError(f"no adjudication recorded in {path}; run `annotate adjudicate --out GOLD.jsonl` first, "
                           "or give the gold files")
    record = read_model(path, LatestAdjudication, "run `annotate adjudicate` again to rewrite it")
    gold = Path(record.gold)
    if not gold.is_file():
        raise ToolkitError(f"the last adjudication's gold {gold} (recorded in {path}) is gone; run `annotate "
                           "adjudicate` again or give the gold files")
    return gold
