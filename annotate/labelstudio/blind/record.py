"""What ``blind.json`` remembers: the mode, N, each annotator's desk, and which articles went to whom.

Its presence in the state directory is what puts the toolkit in blind mode; without it the one shared project of
``annotate init`` is used (``annotation_mode`` says which, for the pull report and the dataset card).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from schemas import ToolkitError
from schemas.files import read_model, write_atomically
from schemas.paths import state_dir

BLIND_FILE = "blind.json"
DESKS_DIR = "desks"

AnnotationMode = Literal["blind", "shared"]


class Desk(BaseModel):
    """One annotator's own server (its home holds ``server.json`` and credentials) and their project on it."""

    email: str
    home: Path
    user_id: int | None = None
    project_id: int | None = None
    joined_at: datetime
    removed_at: datetime | None = None
    # At removal their export is kept here, so what they submitted is still pulled after their server is gone.
    archive: Path | None = None
    submitted: list[str] = Field(default_factory=list)  # at removal: the articles they had submitted


    @property
    def active(self) -> bool:
        return self.removed_at is None


class BlindRecord(BaseModel):
    wanted: int = Field(ge=1)  # annotators per article (N of `annotate init --maximum-annotations`)
    title: str
    label_config: str  # what `annotate init` made, for desks added later
    instructions: str | None = None
    desks: dict[str, Desk] = Field(default_factory=dict)  # by email, in the order they joined
    routes: dict[str, list[str]] = Field(default_factory=dict)  # article id -> emails, in the order routed
    texts: dict[str, str] = Field(default_factory=dict)  # article id -> sha256 of the text routed

    def active_desks(self) -> list[Desk]:
        return [d for d in self.desks.values() if d.active]

    def desk(self, email: str) -> Desk:
        found = self.desks.get(email)
        if found is None:
            known = ", ".join(self.desks) or "none yet"
            raise ToolkitError(f"{email} has no desk (annotators: {known}); add them with `annotate annotators add`")
        return found


def desk_name(email: str) -> str:
    """The file-system name of ``email``'s desk (its home, its folder in a pull)."""
    return re.sub(r"[^a-z0-9]+", "-", email.lower()).strip("-")


def record_path() -> Path:
    return state_dir() / BLIND_FILE


def desks_root() -> Path:
    return state_dir() / DESKS_DIR


def read_blind() -> BlindRecord | None:
    """The blind-mode record, or None in shared mode."""
    path = record_path()
    if not path.exists():
        return None
    return read_model(path, BlindRecord, "restore it from a backup, or remove it to leave blind mode")


def write_blind(record: BlindRecord) -> None:
    write_atomically(record_path(), record.model_dump_json(indent=2) + "\n", make_parents=True)


def annotation_mode() -> AnnotationMode:
    return "blind" if record_path().exists() else "shared"
