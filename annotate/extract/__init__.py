"""Rule-based baseline extractor of quotes, cues and speakers, and the claim and stance rules that complete
any quote-level document (no model download)."""

from annotate.extract.baseline import BASELINE_VERSION, extract
from annotate.extract.layers import with_claims_and_stances

__all__ = ["BASELINE_VERSION", "extract", "with_claims_and_stances"]
