"""Statements across outlets: candidate pairs of quotes (``candidates``) and the baseline linker (``linker``)."""

from annotate.extract.statements.candidates import (
    DEFAULT_SETTINGS,
    METHODS,
    Block,
    BlockCandidates,
    CandidatePair,
    CandidateSettings,
    Method,
    block_candidates,
    blocks_of,
    candidate_pairs,
)
from annotate.extract.statements.linker import (
    DEFAULT_THRESHOLD,
    LINKER_NAME,
    LINKER_VERSION,
    LinkedStatement,
    link_documents,
    link_mentions,
)

__all__ = [
    "DEFAULT_SETTINGS", "DEFAULT_THRESHOLD", "LINKER_NAME", "LINKER_VERSION", "METHODS", "Block", "BlockCandidates",
    "CandidatePair", "CandidateSettings", "LinkedStatement", "Method", "block_candidates", "blocks_of",
    "candidate_pairs", "link_documents", "link_mentions",
]
