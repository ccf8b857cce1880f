"""The record of the last adjudication (``state_dir()/adjudication.json``): where it wrote the gold."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from exports.adjudication.report import _Record
from schemas import ToolkitError
from schemas.errors import first_error
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
    try:
        record = LatestAdjudication.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as e:
        raise ToolkitError(f"{path}: {first_error(e)}; run `annotate adjudicate` again to rewrite it") from None
    gold = Path(record.gold)
    if not gold.is_file():
        raise ToolkitError(f"the last adjudication's gold {gold} (recorded in {path}) is gone; run `annotate "
                           "adjudicate` again or give the gold files")
    return gold
