"""Reporting cues: the verbs and phrases that introduce what someone said or thinks.

``SPEECH_VERBS`` introduce a report with or without "that" ("Putin said Russia would...").
``THAT_VERBS`` are too often used otherwise ("he found a way", "polls show a lead"), so they
count as cues only when "that" follows. ``PARTICIPLES`` continue an attribution already made in
the sentence (", adding that ..."). Forms are listed, not derived, so a reader sees exactly what
matches.
"""

from __future__ import annotations

import re

SPEECH_VERBS = frozenset(
    """said says say told tells added adds warned warns claimed claims asserted asserts argued argues noted notes
    stated explained explains insisted insists wrote writes tweeted tweets declared declares stressed
    stresses emphasized emphasised contended contends maintained maintains acknowledged acknowledges admitted
    admits conceded concedes complained complains countered replied responded predicted predicts alleged alleges
    cautioned reiterated reiterates recalled recalls remarked observed announced announces""".split()
)
# Verbs that introduce speech only right next to a quotation (", he continued"; "asked about ...").
DIRECT_ONLY_VERBS = frozenset("continued asked asks wondered joked quipped shouted yelled exclaimed".split())
THAT_VERBS = frozenset(
    """believes believed believe think thinks thought suggested suggests reported reports confirmed confirms
    revealed reveals denied denies agreed agrees feared fears worried worries hoped hopes expects expected
    estimated concluded concludes indicated indicates signaled signalled signals found finds showed shows
    insisted promised promises vowed vows pledged pledges charged testified testifies assured assures
    acknowledged guaranteed knows knew learned learnt understands realized realised announced
    implied implies hinted hints speculated speculates mentioned mentions disclosed discloses""".split()
)
# Verbs that attribute a quoted label ("called the senator a “nasty guy”"): cues only when a quotation follows.
LABEL_VERBS = frozenset("called calls described describes dubbed labeled labelled termed branded".split())
PARTICIPLES = frozenset(
    """saying adding noting arguing claiming asserting warning insisting explaining suggesting stressing
    telling writing declaring acknowledging admitting emphasizing emphasising predicting caveating
    insisting cautioning conceding contending maintaining""".split()
)
ALL_VERBS = SPEECH_VERBS | THAT_VERBS | DIRECT_ONLY_VERBS | LABEL_VERBS
# A be-verb or "to" before the cue makes it passive or infinitive ("he was told", "is said to").
PASSIVE_BEFORE = frozenset("was were is are be been being am to".split())

ACCORDING_TO = re.compile(r"\b[Aa]ccording to\b")
# Case-insensitive for headlines ("..., Former White House Doctor Says"); callers compare in lower case.
# Hyphens bound words too: "so-called" is no cue.
CUE_WORD = re.compile(
    r"(?<![\w-])(?:" + "|".join(sorted(ALL_VERBS | PARTICIPLES, key=len, reverse=True)) + r")(?![\w-])", re.IGNORECASE
)

WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_DAY = r"(?:" + "|".join(WEEKDAYS) + r")(?:\s+(?:morning|afternoon|evening|night))?"
_VENUE = (
    r"statement|interview|speech|press conference|news conference|rally|e-?mail|tweet|post|letter|op-ed|"
    r"appearance|briefing|report|event|conversation|call|debate|video|message|memo|town hall|hearing|forum|"
    r"radio interview|television interview|phone interview|phone call|address|remarks|broadcast|podcast|"
    r"blog post|filing|news release|press release|note|column|editorial|book|documentary|ad|advertisement"
)
# Adverbials that may stand between a cue and its content, or between a speaker and the cue.
ADVERBIAL = re.compile(
    r"(?:\s*,)?\s+(?:"
    rf"(?:on|last|this|early|late|earlier)\s+{_DAY}|{_DAY}|"
    r"(?:last|this|next|earlier this|later that)\s+(?:week|month|year|weekend|summer|spring|fall|winter)|"
    r"in\s+(?:(?:January|February|March|April|May|June|July|August|September|October|November|December)\s+)?"
    r"(?:19|20)\d\d|"
    r"(?:earlier|later|previously|recently|repeatedly|also|again|once|publicly|privately|then|now|often|"
    r"reportedly|flatly|simply|bluntly|further|quickly|firmly|separately|frequently|yesterday|today|tonight|"
    r"ago|specifically|explicitly|openly|directly|falsely|angrily|confidently|correctly|"
    r"(?!(?:family|ally|rally|belly|bully|assembly|supply|reply|only|early|italy|july)\b)[a-z]{3,}ly|"
    r"has|have|had|has\s+long|had\s+long|has\s+also|had\s+also|would|will|did|does|do)|"
    rf"(?:in|during|at|on|via|through|after|before|with)\s+(?:a|an|the|his|her|their|its|this|that|one)\s+"
    rf"(?:[\w’'-]+\s+){{0,4}}?(?:{_VENUE})(?:\s+(?:with|on|to|at|for|in)\s+(?:the\s+)?"
    r"(?:[A-Z][\w’'.&-]*\s*){1,4})?|"
    r"(?:on|in|to)\s+(?:Twitter|Facebook|Instagram|CNN|MSNBC|NBC|ABC|CBS|PBS|NPR|Fox(?:\s+News)?|"
    r"(?:the\s+)?[A-Z][\w’'.&-]*(?:\s+[A-Z][\w’'.&-]*){0,3})|"
    r"(?:to|in\s+front\s+of|before)\s+(?:reporters|journalists|supporters|the\s+crowd|a\s+crowd(?:\s+of\s+\w+)?|"
    r"an?\s+audience|the\s+audience)|"
    r"according\s+to\s+(?:the\s+)?[A-Z][\w’'.&-]*(?:\s+[A-Z][\w’'.&-]*){0,3}\s*,"
    r")(?=[\s,:;.]|$)"
)
TRAILING_ADVERBIAL = re.compile(r"(?:" + ADVERBIAL.pattern + r")\s*,?\s*$")
LEADING_ADVERBIALS = re.compile(r"(?:" + ADVERBIAL.pattern + r")+")
