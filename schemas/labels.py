"""Closed label sets. Their order is the ClassLabel order of the published dataset."""

from enum import Enum


class QuoteKind(str, Enum):
    DIRECT = "direct"
    INDIRECT = "indirect"
    MIXED = "mixed"


class Polarity(str, Enum):
    FAVOR = "favor"
    AGAINST = "against"
    NEUTRAL = "neutral"


class EntityType(str, Enum):
    PERSON = "person"
    ORGANIZATION = "organization"
    COUNTRY = "country"
    GROUP = "group"
    OTHER = "other"


class CheckWorthy(str, Enum):
    YES = "yes"
    NO = "no"


class Role(str, Enum):
    """Token roles of the PolNeAR scheme, used for token-level agreement."""

    NONE = "none"
    CONTENT = "content"
    CUE = "cue"
    SOURCE = "source"
