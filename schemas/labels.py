"""Closed label sets. Their order is the ClassLabel order of the published dataset."""

from enum import StrEnum


class QuoteKind(StrEnum):
    DIRECT = "direct"
    INDIRECT = "indirect"
    MIXED = "mixed"


class Polarity(StrEnum):
    FAVOR = "favor"
    AGAINST = "against"
    NEUTRAL = "neutral"


class EntityType(StrEnum):
    PERSON = "person"
    ORGANIZATION = "organization"
    COUNTRY = "country"
    GROUP = "group"
    OTHER = "other"


class CheckWorthy(StrEnum):
    YES = "yes"
    NO = "no"


class Role(StrEnum):
    """Token roles of the PolNeAR scheme, used for token-level agreement."""

    NONE = "none"
    CONTENT = "content"
    CUE = "cue"
    SOURCE = "source"
