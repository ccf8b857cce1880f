"""Spans: half-open ``[start, end)`` Unicode code-point offsets plus the text they cover.

This is the only span convention in the toolkit. A span is checked on its own when built
(``end - start == len(text)``) and against its article wherever one is at hand
(``article_text[start:end] == text``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Span(BaseModel):
    """A contiguous stretch of article text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: int = Field(ge=0, description="First code point, inclusive.")
    end: int = Field(gt=0, description="Code point after the last, exclusive.")
    text: str = Field(min_length=1, description="Exactly article_text[start:end].")

    @model_validator(mode="after")
    def _length_matches(self) -> Span:
        if self.end <= self.start:
            raise ValueError(f"span [{self.start}, {self.end}) is empty or reversed: end must be > start")
        if self.end - self.start != len(self.text):
            raise ValueError(
                f"span [{self.start}, {self.end}) covers {self.end - self.start} code points "
                f"but its text has {len(self.text)}: offsets must be Unicode code points"
            )
        return self

    def check_in(self, article_text: str, where: str) -> None:
        """Raise ``ValueError`` naming ``where`` unless this span lies on ``article_text``."""
        if self.end > len(article_text):
            raise ValueError(
                f"{where}: span [{self.start}, {self.end}) ends past the article's "
                f"{len(article_text)} code points"
            )
        covered = article_text[self.start : self.end]
        if covered != self.text:
            raise ValueError(
                f"{where}: span [{self.start}, {self.end}) says {self.text!r} "
                f"but the article has {covered!r} there"
            )

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end

    @classmethod
    def of(cls, article_text: str, start: int, end: int) -> Span:
        """The span of ``article_text[start:end]``."""
        return cls(start=start, end=end, text=article_text[start:end])
