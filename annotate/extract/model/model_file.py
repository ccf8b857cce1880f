"""The model file: a zip archive of ``model.json`` (what the model is) and ``tagger.crfsuite``.

Not a pickle: loading a model someone sent you reads JSON and CRFsuite's own binary format
(weights and label names, no code), so it cannot run anything. ``model.json`` records the
format, the toolkit and feature versions it was trained with, the labels, the training data's
fingerprint and the trainer's settings, and the sha256 of the tagger bytes. ``read_model``
refuses, with one line each, a file that is not such an archive, one that is damaged (the sha256
differs, a member is missing, CRFsuite cannot open it), a newer format, and a model whose features
differ from the ones this toolkit computes (it would tag with garbage).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from annotate.extract.model.features import FEATURES_VERSION
from schemas import ToolkitError
from schemas.errors import first_error
from schemas.files import write_atomically

MODEL_FORMAT = "news-attribution-quote-tagger"
FORMAT_VERSION = 1
INFO_MEMBER, TAGGER_MEMBER = "model.json", "tagger.crfsuite"


class TrainingData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fingerprint: str = Field(description="sha256 over the training documents' JSON lines, sorted.")
    source: str = Field(description="The gold file or release folder named at training, as given.")
    documents: int
    articles: int
    quotes: int
    sequences: int
    tokens: int


class Trainer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    algorithm: str
    params: dict[str, float | int | str]
    seconds: float


class ModelInfo(BaseModel):
    """What ``model.json`` holds."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["news-attribution-quote-tagger"] = MODEL_FORMAT
    format_version: int = FORMAT_VERSION
    toolkit_version: str
    features_version: str = FEATURES_VERSION
    labels: list[str]
    trained_on: TrainingData
    trainer: Trainer
    created_at: datetime
    tagger_sha256: str

    @property
    def version(self) -> str:
        """A short name for provenance: ``crf-<fingerprint of training data and tagger>``."""
        return f"crf-{self.tagger_sha256[:12]}"


def write_model(path: Path, info: ModelInfo, tagger: bytes) -> None:
    """The archive, written all or nothing."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(INFO_MEMBER, info.model_dump_json(indent=2) + "\n")
        archive.writestr(TAGGER_MEMBER, tagger)
    write_atomically(path, buffer.getvalue())


def read_model(path: Path) -> tuple[ModelInfo, bytes]:
    """``model.json`` and the tagger bytes, checked (see the module docstring)."""
    fix = "train a new one with `annotate train --gold GOLD --out MODEL`"
    if not path.is_file():
        raise ToolkitError(f"{path}: no such model file; {fix}")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = {INFO_MEMBER, TAGGER_MEMBER} - names
            if missing:
                raise ToolkitError(f"{path}: damaged model file: {', '.join(sorted(missing))} missing; {fix}")
            raw_info = archive.read(INFO_MEMBER)
            tagger = archive.read(TAGGER_MEMBER)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as e:
        raise ToolkitError(f"{path}: not a model file written by `annotate train` ({e}); {fix}") from None
    try:
        data = json.loads(raw_info)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ToolkitError(f"{path}: damaged model file: {INFO_MEMBER} is not JSON; {fix}") from None
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise ToolkitError(f"{path}: not a quote-tagger model (format {data.get('format')!r}); {fix}"
                           if isinstance(data, dict) else f"{path}: damaged model file; {fix}")
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ToolkitError(f"{path}: model format {version!r} is newer than this toolkit reads ({FORMAT_VERSION}); "
                           f"upgrade the toolkit (it was written by {data.get('toolkit_version')!r}) or retrain")
    if data.get("features_version") != FEATURES_VERSION:
        raise ToolkitError(
            f"{path}: the model was trained on features version {data.get('features_version')!r} (toolkit "
            f"{data.get('toolkit_version')!r}) but this toolkit computes version {FEATURES_VERSION}; {fix}")
    try:
        info = ModelInfo.model_validate(data)
    except ValidationError as e:
        raise ToolkitError(f"{path}: damaged model file: {INFO_MEMBER}: {first_error(e)}; {fix}") from None
    if hashlib.sha256(tagger).hexdigest() != info.tagger_sha256:
        raise ToolkitError(f"{path}: damaged model file: the tagger's sha256 differs from the one recorded; {fix}")
    return info, tagger
