"""Rule-based baseline extractor of quotes, cues and speakers (no model download)."""

from annotate.extract.baseline import BASELINE_VERSION, extract

__all__ = ["BASELINE_VERSION", "extract"]
