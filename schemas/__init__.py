"""Label models for news attribution: quotes, speakers, stances and claims."""

from schemas.errors import ToolkitError
from schemas.labels import CheckWorthy, EntityType, Polarity, QuoteKind, Role
from schemas.models import (
    AnnotatedDocument,
    Article,
    Claim,
    Entity,
    Mention,
    Provenance,
    Quote,
    Stance,
    Target,
    TargetInventory,
    entity_id_for,
    sha256_of,
)
from schemas.spans import Span
from schemas.version import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION", "AnnotatedDocument", "Article", "CheckWorthy", "Claim", "Entity", "EntityType",
    "Mention", "Polarity", "Provenance", "Quote", "QuoteKind", "Role", "Span", "Stance", "Target",
    "TargetInventory", "ToolkitError", "entity_id_for", "sha256_of",
]
