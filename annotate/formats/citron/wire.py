"""The models of Citron's JSON format, read by ``reader`` and written by ``writer``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

DEFAULT_ANNOTATOR = "citron"
FORMAT_DOC = "Citron's docs/data_format.md"


class _Wire(BaseModel):
    # Strict: a "12" or a true where an offset belongs is an error, not a silent conversion.
    # Unknown keys are kept so they can be reported rather than dropped silently.
    model_config = ConfigDict(strict=True, extra="allow")


class CitronSpan(_Wire):
    start: int
    end: int
    text: str


class CitronQuote(_Wire):
    id: Any = None  # str or int in the wild; checked by hand for a clearer message than a union error
    cue: CitronSpan
    sources: list[CitronSpan]
    coreferences: list[CitronSpan] | None = None
    contents: list[CitronSpan]
    confidence: Any = None  # a number, or a string like "0.9312" from the extractor; never imported


class CitronDocument(_Wire):
    id: str | None = None
    annotator: str | None = None
    text: str
    quotes: list[CitronQuote]
    coreference_groups: list[list[CitronSpan]] | None = None
