"""Entity ids and types from a speaker's words: shared by the baseline and the importers.

The type is guessed from words that make it obvious (a title or a pronoun: person; an
institution word: organization); anything else stays "other" for an annotator to decide.
"""

from __future__ import annotations

import re
import unicodedata

from schemas import EntityType

PERSON_WORDS = frozenset(
    "he she him her i mr mr. mrs mrs. ms ms. dr dr. sen sen. senator rep rep. representative gov gov. governor "
    "president vice-president candidate nominee spokesman spokeswoman spokesperson chairman chairwoman chair "
    "secretary minister leader chief director ceo founder adviser advisor aide official lawyer attorney judge "
    "mayor ambassador general gen. prime king queen pope host anchor reporter analyst professor economist "
    "manager strategist pollster strategist deputy commissioner speaker".split()
)
ORGANIZATION_WORDS = frozenset(
    "party committee campaign department ministry agency council commission institute university association "
    "foundation kremlin pentagon congress senate house court administration government company corporation "
    "inc inc. corp corp. group reuters ap afp cnn nbc abc cbs msnbc fox post times journal news newspaper "
    "network bureau office organization union alliance nato un eu fbi cia police army military "
    "coalition center centre".split()
)
_WORD = re.compile(r"[\w.'’-]+")


def guess_entity_type(text: str) -> EntityType:
    """PERSON or ORGANIZATION when a word makes it obvious, else OTHER."""
    words = [w.lower().strip("'’") for w in _WORD.findall(text)]
    if any(w in PERSON_WORDS for w in words):
        return EntityType.PERSON
    if any(w in ORGANIZATION_WORDS for w in words):
        return EntityType.ORGANIZATION
    return EntityType.OTHER


def slugify(text: str, fallback: str = "entity", limit: int = 80) -> str:
    """A lowercase ASCII id (``"Vladimir Putin"`` -> ``"vladimir-putin"``) valid as a schema ``Id``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:limit].strip("-")
    return slug or fallback
