"""Canonical speakers for PolNeAR source mentions (RULES.md, "Speakers").

PolNeAR marks a source as a span ("Trump", "the Republican nominee", "He"); the BRAT reader makes one
entity per distinct source text per article, so "Trump" and "Mr. Trump" differ and "he" is one entity
in every article. Linking statements across articles needs one id per person, so each source mention
is resolved, in this order:

1. ``speakers.json`` overrides (article, mention id) -> speaker or null: the annotator's corrections.
2. a name: the mention's head (the text before its first comma or parenthesis, and after its last
   possessive, so "Hillary Clinton's campaign manager Robby Mook" is Mook) ends in a known speaker's
   surname, with only titles and descriptions before it ("Republican nominee Donald Trump", "Mr. Trump")
   and no other person's first name ("Ivanka Trump" is not Donald Trump); or the whole head is one of
   the speaker's role descriptions ("the Republican nominee"). An article can rebind a bare surname
   (``speakers.json`` "surnames": in the Bill Clinton article "Clinton" is Bill Clinton).
3. a relative pronoun ("who"): the person named right before it ("Donald Trump, who").
4. he/she (him, his, her...): the nearest preceding anchor of a compatible gender. Anchors are the
   article's resolved source mentions (unknown people count as either gender), then the known
   speakers' names in its running text; a name inside a quote's content (a person talked about, not
   the one who goes on speaking) is taken only when no other anchor precedes.
5. I/we inside another quote's content: that quote's speaker (a speaker quoting themself).
Anything else (they, it, groups, organisations, first person outside a quote, unknown names) gets an
article-local id ``<slug>@<article>``: never the same entity as anything in another article.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from annotate.extract.entities import guess_entity_type, slugify
from schemas import AnnotatedDocument, Entity, EntityType, Mention, Quote, ToolkitError
from schemas.files import read_text

OVERRIDES = Path(__file__).with_name("speakers.json")

MALE, FEMALE = "m", "f"
PRONOUN_GENDER = {"he": MALE, "him": MALE, "his": MALE, "himself": MALE,
                  "she": FEMALE, "her": FEMALE, "hers": FEMALE, "herself": FEMALE}
FIRST_PERSON = frozenset("i me my myself we us our ourselves".split())
RELATIVE = frozenset("who whom whose".split())
OTHER_PRONOUNS = frozenset("they them their it its which that this these those you your one".split())
# Words that may stand before a name in a head without making it someone else ("Sen.", "nominee").
TITLES = frozenset("""mr mrs ms dr sen senator rep gov governor president vice former secretary speaker leader
    candidate nominee rival democrat republican gop democratic presidential vice-presidential the then
    current retired lt gen general house senate majority minority white press spokesman spokeswoman
    host conservative liberal talk radio state of new jersey york massachusetts vermont indiana virginia
    interim chairwoman chairman dnc rnc libertarian green party u.s us first lady campaign manager
    communications communication director aide adviser advisor strategist chief staff""".split())
# Known speakers' surnames may describe someone else ("Trump campaign spokesman Jason Miller").
_MODIFIERS = frozenset({"trump", "clinton", "obama"})
# People the shared type guesser leaves as "other" (it knows titles, not kinship or plain nouns).
PERSON_NOUNS = frozenset("""father mother son daughter wife husband brother sister man woman boy girl doctor
    physician nurse officer mom dad friend""".split())
_WORDS = re.compile(r"[A-Za-z][A-Za-z.'’-]*")
_POSSESSIVE = re.compile(r"['’]s?\s+(?=\S)")


@dataclass(frozen=True)
class Speaker:
    """A person who may be canonicalised: ``first`` names that may precede the surname, ``roles`` that
    name the person alone (full match on the lower-cased head)."""

    id: str
    name: str
    gender: str | None  # None: an organisation, never the antecedent of he or she
    surname: str
    first: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    @property
    def type(self) -> EntityType:
        return EntityType.PERSON if self.gender else EntityType.ORGANIZATION


SPEAKERS = (
    Speaker("donald-trump", "Donald Trump", MALE, "trump", ("donald", "donald j."),
            (r"the (republican|gop)( presidential)? (nominee|candidate)", r"the new york businessman",
             r"the republican")),
    Speaker("hillary-clinton", "Hillary Clinton", FEMALE, "clinton", ("hillary", "hillary rodham"),
            (r"the democratic( presidential)? (nominee|candidate)", r"the former secretary of state",
             r"the former secretary of state and current democratic presidential nominee",
             r"the former first lady and u\.s\. senator")),
    Speaker("barack-obama", "Barack Obama", MALE, "obama", ("barack",), (r"the president",)),
    Speaker("mike-pence", "Mike Pence", MALE, "pence", ("mike",)),
    Speaker("tim-kaine", "Tim Kaine", MALE, "kaine", ("tim",)),
    Speaker("bernie-sanders", "Bernie Sanders", MALE, "sanders", ("bernie",)),
    Speaker("bill-clinton", "Bill Clinton", MALE, "clinton", ("bill",)),
    Speaker("melania-trump", "Melania Trump", FEMALE, "trump", ("melania",)),
    Speaker("ivanka-trump", "Ivanka Trump", FEMALE, "trump", ("ivanka",)),
    Speaker("ivana-trump", "Ivana Trump", FEMALE, "trump", ("ivana",)),
    Speaker("josh-earnest", "Josh Earnest", MALE, "earnest", ("josh",)),
    Speaker("robby-mook", "Robby Mook", MALE, "mook", ("robby",)),
    Speaker("lindsey-graham", "Lindsey Graham", MALE, "graham", ("lindsey",)),
    Speaker("ted-cruz", "Ted Cruz", MALE, "cruz", ("ted",)),
    Speaker("paul-ryan", "Paul Ryan", MALE, "ryan", ("paul", "paul d.")),
    Speaker("mitch-mcconnell", "Mitch McConnell", MALE, "mcconnell", ("mitch",)),
    Speaker("harry-reid", "Harry Reid", MALE, "reid", ("harry",)),
    Speaker("elizabeth-warren", "Elizabeth Warren", FEMALE, "warren", ("elizabeth",)),
    Speaker("michael-flynn", "Michael Flynn", MALE, "flynn", ("michael",)),
    Speaker("chris-christie", "Chris Christie", MALE, "christie", ("chris",)),
    Speaker("brian-fallon", "Brian Fallon", MALE, "fallon", ("brian",)),
    Speaker("jason-miller", "Jason Miller", MALE, "miller", ("jason",)),
    Speaker("jill-stein", "Jill Stein", FEMALE, "stein", ("jill",)),
    Speaker("david-axelrod", "David Axelrod", MALE, "axelrod", ("david",)),
    Speaker("howard-dean", "Howard Dean", MALE, "dean", ("howard",)),
    Speaker("rush-limbaugh", "Rush Limbaugh", MALE, "limbaugh", ("rush",)),
    Speaker("lester-holt", "Lester Holt", MALE, "holt", ("lester",)),
    Speaker("matt-lauer", "Matt Lauer", MALE, "lauer", ("matt",)),
    Speaker("mehmet-oz", "Mehmet Oz", MALE, "oz", ("mehmet", "dr.")),
    Speaker("the-new-york-times", "The New York Times", None, "times", (),
            (r"(the |a )?new york times", r"the times")),
)
BY_ID = {s.id: s for s in SPEAKERS}


@dataclass(frozen=True)
class Resolution:
    """Where one source mention's speaker came from: ``how`` is override, name, relative, pronoun,
    first-person or local (``speaker`` is then the article-local id)."""

    speaker: str
    how: str

    @property
    def canonical(self) -> bool:
        return self.speaker in BY_ID


@dataclass(frozen=True)
class Overrides:
    mentions: dict[str, dict[str, str | None]]  # article id -> mention id -> speaker id (None: nobody known)
    surnames: dict[str, dict[str, str]]  # article id -> bare surname -> speaker id

    @classmethod
    def read(cls, path: Path = OVERRIDES) -> Overrides:
        data = json.loads(read_text(path))
        for article, table in data["mentions"].items():
            for mention, entry in table.items():
                if entry["speaker"] is not None and entry["speaker"] not in BY_ID:
                    raise ToolkitError(f"{path}: {article} {mention}: unknown speaker {entry['speaker']!r}; "
                                       "add it to SPEAKERS in speakers.py or fix the id")
        return cls(mentions={a: {m: e["speaker"] for m, e in t.items()} for a, t in data["mentions"].items()},
                   surnames=data["surnames"])


def head_of(text: str) -> str:
    """The words that name the source: before the first comma or parenthesis, after the last possessive."""
    head = re.split(r"[,(]", " ".join(text.split()), maxsplit=1)[0].strip()
    parts = _POSSESSIVE.split(head)
    head = parts[-1].strip() if len(parts) > 1 and parts[-1].strip() else head
    return re.sub(r"['’]s?$", "", head)  # "Donald Trump's [claim that ...]": the possessor speaks


def by_name(head: str, surnames: dict[str, str]) -> Speaker | None:
    """The known speaker the head names, by rule 2 of the module docstring."""
    low = head.lower().strip(" .")
    for s in SPEAKERS:
        if any(re.fullmatch(role, low) for role in s.roles):
            return s
    words = [w.strip(".'’").lower() for w in _WORDS.findall(head)]
    if not words or " and " in f" {low} ":
        return None
    surname = words[-1]
    if surname in surnames and len(words) == 1 + sum(w in TITLES for w in words[:-1]):
        return BY_ID[surnames[surname]]
    for s in SPEAKERS:
        if s.surname != surname:
            continue
        before = words[:-1]
        for first in sorted(s.first, key=len, reverse=True):
            fw = [w.strip(".") for w in first.split()]
            if before[-len(fw):] == fw:
                before = before[:-len(fw)]
                break
        else:
            if before and before[-1] not in TITLES:
                continue  # another first name: "Ivanka Trump", "Bill Clinton" are not this speaker
        if all(w in TITLES or w in _MODIFIERS for w in before):
            return s
    return None


def _may_be_person(head: str) -> bool:
    """An unknown source that could be "he" or "she" later: a title ("the mayor") or a proper name at its
    end ("Kevin Sullivan"), not a group, an organisation or a thing ("a Donald Trump tweet")."""
    words = head.split()
    kind = guess_entity_type(head)
    if kind is EntityType.PERSON or (words and words[-1].lower().strip(".,") in PERSON_NOUNS):
        return True
    return kind is EntityType.OTHER and bool(words) and words[-1][:1].isupper()


def _pronoun(head: str) -> str | None:
    low = head.lower().strip(" .")
    if low in PRONOUN_GENDER or low in FIRST_PERSON or low in RELATIVE or low in OTHER_PRONOUNS:
        return low
    return None


@dataclass(frozen=True)
class _Anchor:
    start: int
    end: int
    speaker: str
    gender: str | None  # None: a person of unknown gender
    in_content: bool = False  # a name inside a quote's content: the person talked about


def _text_anchors(doc: AnnotatedDocument, surnames: dict[str, str]) -> list[_Anchor]:
    """Known people named anywhere in the text, marked when the name lies inside a quote's content."""
    text = doc.article.text
    inside = [(f.start, f.end) for q in doc.quotes for f in q.content]
    names = "|".join(sorted({re.escape(s.surname.capitalize()) for s in SPEAKERS if s.gender} | {"McConnell"}))
    anchors = []
    for m in re.finditer(rf"(?:\b[A-Z][\w.]*\s+){{0,3}}\b({names})\b", text):
        speaker = by_name(m.group(0), surnames)
        if speaker is None:  # "Ivanka Trump" resolves; "Senator X Trump" would not: try the surname alone
            speaker = by_name(m.group(1), surnames)
        if speaker is not None and speaker.gender:
            in_content = any(s <= m.start(1) < e for s, e in inside)  # a few dozen spans: a scan is clear
            anchors.append(_Anchor(m.start(1), m.end(1), speaker.id, speaker.gender, in_content))
    return anchors


def resolve_document(doc: AnnotatedDocument, overrides: Overrides) -> dict[str, Resolution]:
    """Mention id -> resolution, for every source mention of the document (module docstring)."""
    article = doc.article.id
    surnames = overrides.surnames.get(article, {})
    fixed = overrides.mentions.get(article, {})
    unknown = set(fixed) - {m.id for m in doc.mentions}
    if unknown:
        raise ToolkitError(f"{OVERRIDES}: {article} has no source mention {sorted(unknown)[0]}; "
                           "the corpus changed or the override is stale")
    text = doc.article.text
    mentions = sorted(doc.mentions, key=lambda m: m.span.start)
    out: dict[str, Resolution] = {}
    anchors = _text_anchors(doc, surnames)
    for m in mentions:  # names first: pronoun resolution needs every named source as an anchor
        head = head_of(m.span.text)
        if m.id in fixed:
            out[m.id] = Resolution(fixed[m.id] or _local(m, article), "override")
        elif _pronoun(head) is None:
            speaker = by_name(head, surnames)
            if speaker is not None:
                out[m.id] = Resolution(speaker.id, "name")
                if speaker.gender:  # an organisation is never "he" or "she"
                    anchors.append(_Anchor(m.span.start, m.span.end, speaker.id, speaker.gender))
            else:
                out[m.id] = Resolution(_local(m, article), "local")
                if _may_be_person(head):
                    anchors.append(_Anchor(m.span.start, m.span.end, out[m.id].speaker, None))
    anchors.sort(key=lambda a: a.start)
    starts = [a.start for a in anchors]
    for m in mentions:
        if m.id in out:
            continue
        pronoun = _pronoun(head_of(m.span.text))
        found: _Anchor | None = None
        how = "pronoun"
        if pronoun in RELATIVE:
            how = "relative"
            i = bisect_left(starts, m.span.start) - 1
            if i >= 0 and re.fullmatch(r"[\s,—–-]*", text[anchors[i].end:m.span.start]):
                found = anchors[i]  # "Donald Trump, who said": the name right before it
        elif pronoun in PRONOUN_GENDER:
            before = anchors[:bisect_left(starts, m.span.start)]
            fits = [a for a in before if a.gender in (PRONOUN_GENDER[pronoun], None)]
            # Outside quoted content first; a name inside content only when nobody else precedes.
            found = next((a for a in reversed(fits) if not a.in_content), fits[-1] if fits else None)
        out[m.id] = Resolution(found.speaker, how) if found else Resolution(_local(m, article), "local")
        if found:  # a resolved pronoun anchors the next one ("He added ... he said")
            k = bisect_left(starts, m.span.start)
            starts.insert(k, m.span.start)
            anchors.insert(k, _Anchor(m.span.start, m.span.end, found.speaker, found.gender))
    _first_person(doc, mentions, out, fixed)
    return out


def _first_person(doc: AnnotatedDocument, mentions: list[Mention], out: dict[str, Resolution],
                  fixed: dict[str, str | None]) -> None:
    """I/we inside another quote's content: that quote's speaker (two passes reach nested quotes)."""
    contents = [(f.start, f.end, q) for q in doc.quotes for f in q.content]
    for _ in range(2):
        for m in mentions:
            if m.id in fixed or _pronoun(head_of(m.span.text)) not in FIRST_PERSON:
                continue
            outer = next((q for s, e, q in contents if s <= m.span.start < e and q.speaker_mention_id != m.id), None)
            if outer is not None and outer.speaker_mention_id in out:
                res = out[outer.speaker_mention_id]
                if res.canonical:
                    out[m.id] = Resolution(res.speaker, "first-person")


def _local(m: Mention, article: str) -> str:
    return f"{slugify(m.span.text, limit=100)}@{article}"


def canonicalise(doc: AnnotatedDocument, overrides: Overrides) -> AnnotatedDocument:
    """The document with every source mention's entity replaced by its resolved speaker (known speakers
    keep their canonical id and name in every article; the others an article-local id)."""
    res = resolve_document(doc, overrides)
    entities: dict[str, Entity] = {}
    mentions = []
    for m in doc.mentions:
        r = res[m.id]
        if r.speaker not in entities:
            s = BY_ID.get(r.speaker)
            entities[r.speaker] = (Entity(id=s.id, name=s.name, type=s.type) if s else
                                   Entity(id=r.speaker, name=" ".join(m.span.text.split()),
                                          type=guess_entity_type(m.span.text)))
        mentions.append(m.model_copy(update={"entity_id": r.speaker}))
    quotes = [_requote(q, res) for q in doc.quotes]
    # Validated again as a whole: the mention and quote ids must still agree with the new entities.
    return AnnotatedDocument.model_validate({**doc.model_dump(), "quotes": [q.model_dump() for q in quotes],
                                             "entities": [e.model_dump() for e in entities.values()],
                                             "mentions": [m.model_dump() for m in mentions]})


def _requote(q: Quote, res: dict[str, Resolution]) -> Quote:
    speaker = res[q.speaker_mention_id].speaker if q.speaker_mention_id else None
    return q.model_copy(update={"speaker_entity_id": speaker})


def canonical_documents(documents: Iterable[AnnotatedDocument], overrides: Overrides | None = None
                        ) -> list[AnnotatedDocument]:
    overrides = overrides or Overrides.read()
    return [canonicalise(d, overrides) for d in documents]
