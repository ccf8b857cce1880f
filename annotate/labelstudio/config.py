"""The Label Studio labeling config, generated from the label models.

The names below are the contract between the config, the preloader's predictions and the
export converter: change them here and everything that speaks Label Studio follows.

How the models map onto Label Studio regions:
- a ``Content`` region is one quote fragment; fragments of one quote are chained by
  ``continues`` relations; per-region choices give the quote kind and, optionally, a stance
  (target + polarity) that the quote evidences; when the text has no mention of the speaker, the
  speaker is picked from the story's entity list (``speaker_entity_id``) or, if not listed, named in
  the ``speaker_entity`` text box;
- a ``Cue`` region points at its quote with ``cue_of``;
- a ``Mention`` region's entity is picked from the story's entity list (``entity_id``: Label Studio's
  dynamic choices, read from the task's ``entities`` data, which shows "Vladimir Putin (person)" and
  records the entity id), so "Putin", "the Russian leader" and "He" all link to one entity. An entity
  not in the list is named in the ``entity`` text box (its canonical name), with an entity type and
  an optional Wikidata id; a quote points at its speaker with ``said_by``;
- a ``Claim`` region has a check-worthiness choice and points at its claimant with ``claimed_by``.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from schemas.labels import CheckWorthy, EntityType, Polarity, QuoteKind
from schemas.models import TargetInventory

TEXT = "text"
SPAN_LABELS = "span"
CONTENT, CUE, MENTION, CLAIM = "Content", "Cue", "Mention", "Claim"
LABEL_COLOURS = {CONTENT: "#4f8fe0", CUE: "#e0a94f", MENTION: "#59b36b", CLAIM: "#c75bd1"}

SAID_BY, CUE_OF, CONTINUES, CLAIMED_BY = "said_by", "cue_of", "continues", "claimed_by"
RELATIONS = (SAID_BY, CUE_OF, CONTINUES, CLAIMED_BY)

KIND = "kind"
STANCE_TARGET = "stance_target"
STANCE_POLARITY = "stance_polarity"
SPEAKER_ENTITY = "speaker_entity"
SPEAKER_CHOICE = "speaker_entity_id"
ENTITY = "entity"
ENTITY_CHOICE = "entity_id"
ENTITY_TYPE = "entity_type"
WIKIDATA = "wikidata"
CHECK_WORTHY = "check_worthy"

ENTITIES = "entities"  # task data: the story's entity list the two pickers show (a list, maybe empty)
TASK_DATA_KEYS = ("text", "article_id", "title", "outlet", "published", "url", "language", "story", "sha256",
                  ENTITIES)


def _choices(name: str, values: list[str], hint: str) -> str:
    options = "".join(f'\n      <Choice value={quoteattr(v)}/>' for v in values)
    return (
        f'    <Header value={quoteattr(hint)} size="6"/>\n'
        f'    <Choices name="{name}" toName="{TEXT}" perRegion="true" choice="single-radio">{options}\n'
        f"    </Choices>\n"
    )


def _text_box(name: str, hint: str) -> str:
    return (
        f'    <Header value={quoteattr(hint)} size="6"/>\n'
        f'    <TextArea name="{name}" toName="{TEXT}" perRegion="true" maxSubmissions="1" '
        f'editable="true" rows="1"/>\n'
    )


def _picker(name: str, hint: str) -> str:
    # Dynamic choices (value="$entities"): one option per task data entry; a drop-down keeps long lists short.
    return (
        f'    <Header value={quoteattr(hint)} size="6"/>\n'
        f'    <Choices name="{name}" toName="{TEXT}" perRegion="true" value="${ENTITIES}" choice="single" '
        f'layout="select"/>\n'
    )


def _when(label: str, body: str) -> str:
    return f'  <View visibleWhen="region-selected" whenLabelValue="{label}">\n{body}  </View>\n'


def generate_labeling_config(targets: TargetInventory) -> str:
    """The labeling config XML for a dataset with the given stance targets."""
    labels = "".join(
        # Explicit hotkeys 1-4, in the order guidelines.md section 8 tells annotators to press them.
        f'\n    <Label value="{name}" background="{colour}" hotkey="{n}"/>'
        for n, (name, colour) in enumerate(LABEL_COLOURS.items(), start=1)
    )
    relations = "".join(f'\n    <Relation value="{r}"/>' for r in RELATIONS)
    content = (
        _choices(KIND, [k.value for k in QuoteKind], "Quote kind")
        + _choices(STANCE_TARGET, targets.ids(), "Stance target (optional)")
        + _choices(STANCE_POLARITY, [p.value for p in Polarity], "Stance polarity (with a target)")
        + _picker(SPEAKER_CHOICE, "Speaker entity, only if no mention of the speaker is linked: pick it")
        + _text_box(SPEAKER_ENTITY, "... or, if it is not listed, type its canonical name")
    )
    mention = (
        _picker(ENTITY_CHOICE, "Entity (the same for every mention of it)")
        + _text_box(ENTITY, "New entity, not in the list: its canonical name")
        + _choices(ENTITY_TYPE, [t.value for t in EntityType], "Entity type (new entity; a listed one has its own)")
        + _text_box(WIKIDATA, "Wikidata id, e.g. Q7747 (new entity, optional)")
    )
    claim = _choices(CHECK_WORTHY, [c.value for c in CheckWorthy], "Check-worthy?")
    return (
        "<View>\n"
        f'  <Labels name="{SPAN_LABELS}" toName="{TEXT}">{labels}\n  </Labels>\n'
        f'  <Text name="{TEXT}" value="${TEXT}"/>\n'
        f"  <Relations>{relations}\n  </Relations>\n"
        + _when(CONTENT, content)
        + _when(MENTION, mention)
        + _when(CLAIM, claim)
        + "</View>\n"
    )
