"""The statement decisions file: ``conflict id -> {accept | statements, reason}`` (JSON)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas import ToolkitError
from schemas.errors import first_error
from schemas.files import read_text

SHAPE = '{"<story>/<speaker>/<first rendering>": {"accept": "<annotator>" or "statements": [["<key>", ...]], ' \
        '"reason": "..."}}'


class StatementDecision(BaseModel):
    """One conflict settled: one annotator's grouping of it, or the grouping itself; and why."""

    model_config = ConfigDict(extra="forbid")

    accept: str | None = Field(default=None, description="Annotator whose grouping of the conflict to take.")
    statements: list[list[str]] | None = Field(default=None, description="The conflict's renderings, grouped.")
    reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_action(self) -> StatementDecision:
        if (self.accept is None) == (self.statements is None):
            raise ValueError("give exactly one of accept and statements")
        if not self.reason.strip():
            raise ValueError("reason is blank; say why")
        if self.statements is not None and any(not group for group in self.statements):
            raise ValueError("statements holds an empty group; every statement has a rendering")
        return self


@dataclass(frozen=True)
class StatementDecisions:
    source: str
    by_id: dict[str, StatementDecision] = field(default_factory=dict)
    sha256: str | None = None

    def get(self, conflict_id: str) -> StatementDecision | None:
        return self.by_id.get(conflict_id)

    def ids(self) -> list[str]:
        return list(self.by_id)


def load_statement_decisions(path: Path) -> StatementDecisions:
    text = read_text(path)
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as e:
        raise ToolkitError(f"{path}:{e.lineno}: invalid JSON ({e.msg}); write {SHAPE}") from None
    if not isinstance(data, dict):
        raise ToolkitError(f"{path}: expected a mapping of conflict id to decision, found {type(data).__name__}; "
                           f"write {SHAPE}")
    decisions = {}
    for conflict_id, entry in data.items():
        try:
            decisions[str(conflict_id)] = StatementDecision.model_validate(entry)
        except ValidationError as e:
            raise ToolkitError(f"{path}: conflict {conflict_id!r}: {first_error(e)}; write {SHAPE}") from None
    return StatementDecisions(str(path), decisions, hashlib.sha256(text.encode("utf-8")).hexdigest())
