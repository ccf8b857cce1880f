"""What people give adjudication: the majority rule, and the decisions file that settles conflicts."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas import ToolkitError
from schemas.errors import first_error
from schemas.files import read_text


@dataclass(frozen=True)
class MajorityRule:
    """How many of an article's annotators must agree: a count, a fraction, or (default) more than half."""

    count: int | None = None
    fraction: Fraction | None = None

    def needed(self, annotators: int) -> int:
        if self.count is not None:
            return self.count
        if self.fraction is not None:
            return max(1, math.ceil(self.fraction * annotators))
        return annotators // 2 + 1

    def describe(self) -> str:
        if self.count is not None:
            return f"at least {self.count} annotator{'s' if self.count > 1 else ''}"
        if self.fraction is not None:
            return f"at least {self.fraction} of each article's annotators"
        return "more than half of each article's annotators"


def parse_majority(text: str | None) -> MajorityRule:
    """``None`` (more than half), a count (``2``) or a fraction (``0.5``, ``2/3``)."""
    if text is None:
        return MajorityRule()
    hint = "give a count of annotators (e.g. 2) or a fraction of them (e.g. 0.5 or 2/3)"
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise ToolkitError(f"--majority {text!r}: not a number; {hint}") from None
    if "." in text or "/" in text:
        if not 0 < value <= 1:
            raise ToolkitError(f"--majority {text!r}: a fraction must be above 0 and at most 1; {hint}")
        return MajorityRule(fraction=value)
    if value < 1:
        raise ToolkitError(f"--majority {text!r}: a count must be 1 or more; {hint}")
    return MajorityRule(count=int(value))


# --- decisions ------------------------------------------------------------------------------------------------


class Decision(BaseModel):
    """What a person decided for one conflict: exactly one of ``accept``, ``reject``, ``value``; and why."""

    model_config = ConfigDict(extra="forbid")

    accept: str | None = Field(default=None, description="Annotator whose version to take.")
    unit: str | None = Field(default=None, description="With accept: which of the annotator's units, when the "
                                                      "conflict holds several of theirs.")
    reject: bool = Field(default=False, description="Leave the unit out of the gold (ground truth: ignore the marks).")
    value: str | None = Field(default=None, description="The attribute's value (attribute conflicts only).")
    reason: str = Field(min_length=1, description="Why; recorded in the conflicts file.")

    @model_validator(mode="after")
    def _one_action(self) -> Decision:
        actions = [name for name, given in (("accept", self.accept is not None), ("reject", self.reject),
                                            ("value", self.value is not None)) if given]
        if len(actions) != 1:
            raise ValueError(f"give exactly one of accept, reject, value (got {', '.join(actions) or 'none'})")
        if self.unit is not None and self.accept is None:
            raise ValueError("unit goes with accept only")
        if not self.reason.strip():
            raise ValueError("reason is blank; say why")
        return self


@dataclass(frozen=True)
class Decisions:
    source: str  # the decisions file, for messages
    by_id: dict[str, Decision] = field(default_factory=dict)
    sha256: str | None = None


def load_decisions(path: Path) -> Decisions:
    """A JSON or YAML (``.yaml``/``.yml``) mapping ``conflict id -> decision``."""
    text = read_text(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise ToolkitError(f"{path}{line}: invalid YAML ({getattr(e, 'problem', None) or e}); "
                               "write `conflict id: {accept|reject|value: ..., reason: ...}`") from None
    else:
        try:
            data = json.loads(text) if text.strip() else None
        except json.JSONDecodeError as e:
            raise ToolkitError(f"{path}:{e.lineno}: invalid JSON ({e.msg}); write "
                               '{"<conflict id>": {"accept": "<annotator>", "reason": "..."}}') from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ToolkitError(f"{path}: expected a mapping of conflict id to decision, found {type(data).__name__}")
    decisions = {}
    for conflict_id, entry in data.items():
        try:
            decisions[str(conflict_id)] = Decision.model_validate(entry)
        except ValidationError as e:
            raise ToolkitError(f"{path}: conflict {conflict_id!r}: {first_error(e)}; a decision is accept: <annotator> "
                               "(+ unit: <id>), reject: true or value: <value>, with reason: <why>") from None
    return Decisions(str(path), decisions, hashlib.sha256(text.encode("utf-8")).hexdigest())

