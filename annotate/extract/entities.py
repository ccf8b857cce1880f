"""Entity ids and types from a speaker's words: shared by the baseline and the importers.

The type is guessed from words that make it obvious (a title or a pronoun: person; an
institution word: organization); anything else stays "other" for an annotator to decide.
"""

from __future__ import annotations

import re

from schemas import EntityType, entity_id_for

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


COUNTRY_WORDS = frozenset(
    """russia ukraine china france britain germany iran israel japan india canada mexico syria turkey
    moscow kyiv kiev beijing paris london berlin tehran jerusalem tokyo washington us u.s. usa uk u.k.
    pyongyang seoul""".split()
)
GROUP_WORDS = frozenset(
    """officials sources analysts experts critics aides advisers advisors observers economists lawmakers
    legislators diplomats investigators prosecutors authorities supporters opponents residents witnesses
    voters democrats republicans researchers scientists activists protesters doctors lawyers""".split()
)


def guess_entity_type(text: str) -> EntityType:
    """PERSON, ORGANIZATION, COUNTRY or GROUP when the words make it obvious, else OTHER.

    Several names joined by "and", or a plural like "officials", are a group; a lone country or
    capital ("Moscow") is a country, as the guidelines have it.
    """
    words = [w.lower().strip("'’") for w in _WORD.findall(text)]
    if "and" in words or any(w in GROUP_WORDS for w in words[-1:]):
        return EntityType.GROUP
    if any(w in PERSON_WORDS for w in words):
        return EntityType.PERSON
    if any(w in ORGANIZATION_WORDS for w in words):
        return EntityType.ORGANIZATION
    if [w for w in words if w != "the"] and all(w in COUNTRY_WORDS for w in words if w != "the"):
        return EntityType.COUNTRY
    return EntityType.OTHER


def slugify(text: str, fallback: str = "entity", limit: int = 120) -> str:
    """``schemas.entity_id_for`` (``"Vladimir Putin"`` -> ``"vladimir-putin"``), shortened to ``limit``
    characters, with ``fallback`` for a text that has no letters or digits ("—")."""
    try:
        return entity_id_for(text)[:limit].strip("-")
    except ValueError:
        return fallback
