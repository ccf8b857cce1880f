"""Speaker mentions: the noun phrase next to a cue, and which entity it refers to.

A mention is the minimal noun phrase that names the speaker, title included ("Russian President
Vladimir Putin", "the Russian leader", "He", "a source"). Coreference is a heuristic:
- a full name is its own entity, named without its title ("Vladimir Putin");
- a lone surname ("Putin") is the earlier entity whose name ends with it;
- "he"/"she", and "the <...> leader/president/..." descriptions, are the person named or
  referred to at the start of one of the last sentences (a subject), else the last person named,
  outside quotation marks (see ``EntityBook``);
- anything else ("a source", "the Kremlin") is an entity of its own, one per distinct text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from annotate.extract.cues import PASSIVE_BEFORE, TRAILING_ADVERBIAL
from annotate.extract.entities import guess_entity_type, slugify
from schemas import Entity, EntityType

PRONOUNS = frozenset("he she they it we i".split())
PERSON_PRONOUNS = frozenset("he she".split())
DETERMINERS = frozenset("the a an another one two three four several many some most other his her their its our "
                        "both".split())
CONNECTORS = frozenset("of for and von der de del la le van bin al el da di du".split())
# Capitalised words that start sentences or clauses but never a speaker's name.
NOT_NAMES = frozenset(
    """but and or so yet however then meanwhile still now later also in on at when while after before as if
    though although because since until speaking asked told this that these those it there here what which who
    why how where instead indeed still moreover furthermore thus hence finally first second last yes no well
    earlier today yesterday tonight during despite amid under over with without from into by""".split()
)
# Lowercase heads that name speakers without a determiner or capital ("officials said").
BARE_SPEAKERS = frozenset(
    """officials sources analysts experts critics aides advisers advisors observers economists lawmakers
    legislators diplomats investigators prosecutors authorities supporters opponents residents witnesses
    voters democrats republicans polls pollsters researchers scientists activists protesters police
    officers doctors lawyers reports""".split()
)
# Lowercase words that may sit inside a speaker phrase ("Kremlin spokesperson Dmitry Peskov").
TITLE_WORDS = frozenset(
    """president vice-president presidential vice senator sen. governor gov. representative rep. secretary minister
    spokesman spokeswoman spokesperson chairman chairwoman chair chief leader director official officials
    nominee candidate adviser advisor aide manager strategist founder ceo commissioner ambassador general
    prime mayor judge attorney lawyer analyst professor economist host anchor source sources
    campaign deputy press former senior top then-candidate running mate republican democratic democrat
    party committee""".split()
)
# Person titles stripped from a name: everything up to the last of them goes ("Kremlin spokesperson").
NAME_TITLES = frozenset(
    """president vice-president senator sen. sen governor gov. gov representative rep. rep secretary minister
    chancellor spokesman spokeswoman spokesperson chairman chairwoman chair chief leader director nominee
    candidate adviser advisor aide manager strategist founder ceo commissioner ambassador general gen. mayor
    judge attorney lawyer analyst professor economist host anchor mr. mrs. ms. dr. mr mrs ms dr sir dame
    lord lady king queen prince pope rev. speaker justice""".split()
)
DESCRIPTION_HEADS = frozenset(
    """leader president dictator candidate nominee senator governor minister chancellor spokesman spokeswoman
    spokesperson secretary premier official businessman billionaire mogul congressman congresswoman
    lawmaker director chairman chief""".split()
)
_TOKEN = re.compile(r"\([^()\s]{1,12}\)|[^\s,;:()“”\"‘?!]+")
_TITLED_NAME = re.compile(
    r"((?:\b[A-Z][\w.-]*\s+){0,2})\b(?:President|Prime Minister|Chancellor|Senator|Sen\.|Governor|Gov\.|Rep\.|"
    r"Secretary|Minister|Mayor|spokesman|spokeswoman|spokesperson|chief|leader|Mr\.|Mrs\.|Ms\.|Dr\.|Sir|nominee|candidate)\s+"
    r"((?:[A-Z][\w’'-]+\s+){0,3}[A-Z][\w’'-]+)"
)


@dataclass(frozen=True)
class Phrase:
    """A speaker phrase found in the text: ``[start, end)`` and how it refers."""

    start: int
    end: int
    text: str
    kind: str  # "name", "pronoun", "description" or "other"


def _tokens(text: str, lo: int, hi: int) -> list[tuple[int, int, str]]:
    return [(lo + m.start(), lo + m.end(), m.group()) for m in _TOKEN.finditer(text[lo:hi])]


def strip_adverbials_end(text: str, lo: int, hi: int) -> int:
    """``hi`` moved left past trailing adverbials ("on Friday", "also", "in a statement")."""
    chunk = text[lo:hi].rstrip()
    while (m := TRAILING_ADVERBIAL.search(chunk)) is not None and m.start() > 0:
        chunk = chunk[: m.start()].rstrip()
    return lo + len(chunk)


def _capitalised(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit() or (word.startswith("(") and len(word) > 2)


def phrase_before(text: str, lo: int, hi: int) -> Phrase | None:
    """The speaker phrase ending at ``hi`` (adverbials skipped), not reaching left of ``lo``."""
    hi = strip_adverbials_end(text, lo, hi)
    if text[lo:hi].endswith(","):
        return _appositive(text, lo, hi - 1)
    tokens = _tokens(text, lo, hi)
    if not tokens or tokens[-1][1] != hi:
        return None
    head = tokens[-1][2]
    if head.lower() in PASSIVE_BEFORE:
        return None
    if head.lower() in PRONOUNS:
        return _phrase(text, tokens[-1][0], hi, "pronoun")
    if not _word_like(head):
        return None
    first = len(tokens) - 1
    named = _capitalised(head) and head.lower() not in NOT_NAMES
    if named:
        while first > 0 and len(tokens) - first < 9:
            word = tokens[first - 1][2]
            if text[tokens[first - 1][1] : tokens[first][0]].strip():
                break  # punctuation between words ends the name
            if _capitalised(word) and word.lower() not in NOT_NAMES or word.lower() in TITLE_WORDS | CONNECTORS:
                first -= 1
            elif word.lower() == "the" and first > 1 and tokens[first - 2][2].lower() == "of":
                first -= 1  # "Mr. Morgan of the Sierra Club"
            else:
                break
        while tokens[first][2].lower() in CONNECTORS | {"the"} and first < len(tokens) - 1:
            first += 1
    elif head.lower() not in BARE_SPEAKERS | TITLE_WORDS and not _after_determiner(tokens):
        return None
    # A determiner, with up to two modifiers before the phrase ("the former", "a senior campaign").
    for back in (1, 2, 3):
        if first - back < 0:
            break
        word = tokens[first - back][2]
        if text[tokens[first - back][1] : tokens[first - back + 1][0]].strip():
            break  # punctuation: the phrase cannot reach over it
        if word.lower() in DETERMINERS:
            first -= back
            break
        if word.lower() in NOT_NAMES | PASSIVE_BEFORE | CONNECTORS or not word.isalpha() or word.lower() in _FUNCTION:
            break
    start = tokens[first][0]
    if tokens[first][2].lower() in DETERMINERS:
        kind = "description" if head.lower() in DESCRIPTION_HEADS and tokens[first][2].lower() == "the" else "other"
        if any(_capitalised(t[2]) and t[2].lower() not in NOT_NAMES | DETERMINERS for t in tokens[first + 1 :]) \
                and _capitalised(head):
            kind = "name"
        return _phrase(text, start, hi, kind)
    if not named:
        return _phrase(text, start, hi, "other")
    return _phrase(text, start, hi, "name")


def _appositive(text: str, lo: int, comma: int) -> Phrase | None:
    """A speaker set off by commas: "Rendell, a Clinton surrogate," or "one of the attorneys, Justin Bamberg,"."""
    previous = text.rfind(",", lo, comma)
    if previous == -1 or len(text[previous + 1 : comma].split()) > 10:
        return None
    inner = phrase_before(text, previous + 1, comma)
    if inner is not None and inner.kind == "name" and not text[previous + 1 : inner.start].strip():
        return inner  # the name is the aside: "the family's attorney, Justin Bamberg,"
    outer = phrase_before(text, lo, previous)  # the aside describes the name: "Mr. King, 82,"
    return outer if outer is not None and outer.kind in ("name", "other") else None


_FUNCTION = frozenset(
    """that which who whom whose to from by with in on at for of as is was were are be been has have had will would
    can could should may might must not no than then so if when while because said says told""".split()
)


def _after_determiner(tokens: list[tuple[int, int, str]]) -> bool:
    """A lowercase head is a speaker only with a determiner at most three words before it."""
    for back in (2, 3, 4):
        if len(tokens) >= back:
            word = tokens[-back][2].lower()
            if word in DETERMINERS:
                return all(t[2].lower() not in _FUNCTION for t in tokens[-back + 1 :])
            if word in _FUNCTION:
                return False
    return False


def _word_like(word: str) -> bool:
    return any(c.isalpha() for c in word) and word.lower() not in _FUNCTION


def phrase_after(text: str, lo: int, hi: int) -> Phrase | None:
    """The speaker phrase starting at ``lo`` ("said Putin", "said the official"), up to ``hi``."""
    tokens = _tokens(text, lo, hi)
    if not tokens or text[lo : tokens[0][0]].strip():
        return None
    word = tokens[0][2]
    if word.lower() in PRONOUNS:
        return _phrase(text, tokens[0][0], tokens[0][1], "pronoun")
    last = 0
    if word.lower() in DETERMINERS:
        while last + 1 < len(tokens) and last < 5 and tokens[last + 1][2].lower() not in _FUNCTION:
            last += 1
            if text[tokens[last][1] : tokens[last][1] + 1] in ",.;:":
                break
        if last == 0:
            return None
        head = tokens[last][2].lower()
        kind = "description" if head in DESCRIPTION_HEADS and word.lower() == "the" else "other"
        return _phrase(text, tokens[0][0], tokens[last][1], kind)
    if not _capitalised(word) or word.lower() in NOT_NAMES:
        return None
    while last + 1 < len(tokens) and last < 7:
        nxt = tokens[last + 1][2]
        if text[tokens[last][1] : tokens[last + 1][0]].strip():
            break  # punctuation between words ends the name
        if _capitalised(nxt) and nxt.lower() not in NOT_NAMES or nxt.lower() in TITLE_WORDS | CONNECTORS:
            last += 1
        else:
            break
    while tokens[last][2].lower() in CONNECTORS:
        last -= 1
    return _phrase(text, tokens[0][0], tokens[last][1], "name")


def _phrase(text: str, start: int, end: int, kind: str) -> Phrase:
    while end > start and text[end - 1] in ".’'" and not _abbreviation(text[start:end]):
        end -= 1
    return Phrase(start=start, end=end, text=text[start:end], kind=kind)


def _abbreviation(phrase: str) -> bool:
    last = phrase.split()[-1] if phrase.split() else ""
    return bool(re.fullmatch(r"(?:[A-Z]\.)+|(?:Jr|Sr|Inc|Corp|Co|Ltd|St)\.", last))


def name_of(phrase: str) -> str:
    """The name in a titled phrase: ``"Russian President Vladimir Putin"`` -> ``"Vladimir Putin"``."""
    words = [w for w in phrase.split() if not (w.startswith("(") and w.endswith(")"))]
    cut = 0
    for n, w in enumerate(words[:-1]):
        if w.lower().strip(",") in NAME_TITLES:
            cut = n + 1
    words = words[cut:]
    while words and words[0].lower() in DETERMINERS | CONNECTORS:
        words = words[1:]
    return " ".join(words) or phrase


@dataclass
class EntityBook:
    """The entities of one document, and where each is referred to outside quotation marks.

    Antecedents of "he"/"she" and of "the Russian leader": a person named (or already referred
    to) at the start of one of the last two sentences, the subject being the likeliest referent;
    failing that, the person referred to last. A description's nationality word must not clash
    with the titles seen with the person ("the Russian leader" is not "Ukrainian President X").
    """

    text: str
    quoted: list[bool]
    sentences: list[tuple[int, int]]
    entities: dict[str, Entity] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    titles: dict[str, set[str]] = field(default_factory=dict)
    referred: list[tuple[int, str]] = field(default_factory=list)  # (position, entity id) of resolved mentions

    def __post_init__(self) -> None:
        for m in _TITLED_NAME.finditer(self.text):
            entity_id = self._named(name_of(m.group(2)), EntityType.PERSON)
            self.titles.setdefault(entity_id, set()).update(w.lower() for w in (m.group(1) or "").split())

    def resolve(self, phrase: Phrase) -> str | None:
        """The entity id a phrase refers to, or None when a pronoun has no antecedent."""
        if phrase.kind in ("pronoun", "description"):
            person = phrase.kind == "description" or phrase.text.lower() in PERSON_PRONOUNS
            wanted = EntityType.PERSON if person else EntityType.ORGANIZATION
            found = self._antecedent(phrase, wanted)
            if found is None and phrase.kind == "description":
                found = self._other(phrase.text)
        elif phrase.kind == "name":
            type_ = guess_entity_type(phrase.text)
            if type_ is EntityType.OTHER:
                type_ = EntityType.PERSON  # a named speaker of a reporting verb is most often a person
            found = self._named(name_of(phrase.text), type_)
        else:
            found = self._other(phrase.text)
        if found is not None:
            self.used.add(found)
            self.referred.append((phrase.start, found))
        return found

    def _named(self, name: str, type_: EntityType) -> str:
        name = re.sub(r"[’']s$", "", name)
        if len(name.split()) == 1:
            for entity in reversed(list(self.entities.values())):
                if entity.name.split()[-1].lower() == name.lower():
                    return entity.id
            full = self._full_name(name)
            if full is not None:
                name = full
        entity_id = slugify(name)
        if entity_id not in self.entities:
            self.entities[entity_id] = Entity(id=entity_id, name=name, type=type_)
        return entity_id

    def _full_name(self, surname: str) -> str | None:
        """The first "First Last" in the text that ends with ``surname``, titles dropped."""
        pattern = rf"\b((?:[A-Z][\w’'.-]*\s+){{1,3}}){re.escape(surname)}\b"
        for m in re.finditer(pattern, self.text):
            words = [w for w in m.group(1).split() if w.lower() not in NOT_NAMES | DETERMINERS]
            full = name_of(" ".join(words + [surname]))
            if len(full.split()) > 1:
                return full
        return None

    def _other(self, phrase_text: str) -> str:
        entity_id = slugify(phrase_text)
        if entity_id not in self.entities:
            self.entities[entity_id] = Entity(id=entity_id, name=phrase_text, type=guess_entity_type(phrase_text))
        return entity_id

    def _occurrences(self, before: int, wanted: EntityType) -> list[tuple[int, str]]:
        """Where entities of type ``wanted`` are referred to before ``before``, outside quotes."""
        hits = [(pos, eid) for pos, eid in self.referred if pos < before and self.entities[eid].type is wanted]
        for entity in self.entities.values():
            if entity.type is wanted:
                surname = re.escape(entity.name.split()[-1])
                hits += [(m.start(), entity.id) for m in re.finditer(rf"\b{surname}\b", self.text[:before])
                         if not self.quoted[m.start()]]
        return sorted(hits)

    def _antecedent(self, phrase: Phrase, wanted: EntityType) -> str | None:
        hits = self._occurrences(phrase.start, wanted)
        nationality = {w.lower() for w in phrase.text.split()[1:-1] if w[:1].isupper()}
        if nationality:
            hits = [(pos, eid) for pos, eid in hits if not self._clashes(eid, nationality)]
        if not hits:
            return None
        recent = [s for s in self.sentences if s[0] < phrase.start][-3:]
        subjects = [(pos, eid) for pos, eid in hits
                    if any(lo <= pos < hi and self._starts(lo, pos) for lo, hi in recent)]
        return (subjects or hits)[-1][1]

    def _clashes(self, entity_id: str, nationality: set[str]) -> bool:
        capitalised = {w for w in self.titles.get(entity_id, set()) if w not in NAME_TITLES}
        return bool(capitalised) and not capitalised & nationality

    def _starts(self, lo: int, pos: int) -> bool:
        """Whether ``pos`` is in the phrase a sentence starts with (its subject, most likely)."""
        before = self.text[lo:pos].split()
        return len(before) <= 5 and all(w[:1].isupper() or w.lower() in TITLE_WORDS | DETERMINERS for w in before)

    def mentioned_entities(self) -> list[Entity]:
        return [e for e in self.entities.values() if e.id in self.used]
