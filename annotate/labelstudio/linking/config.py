"""The labeling config of the statement-linking project, and the names its tasks and results use.

One task per (story, speaker): the speaker's renderings (``schemas.quote_mentions.QuoteMention``,
one gold quote each) are the items of a ``<List>``, and a ``<Ranker>`` with buckets "Statement 1"
... "Statement K" holds the grouping (``schemas.statements.Statement``: one bucket, one statement).
The baseline linker's statements arrive as a prediction that fills the buckets, so the annotator
only drags the misplaced renderings; the renderings a prediction leaves out stay in the list's
own column, "Unsorted", which every rendering must leave (``decode`` rejects the ones left there).

Why this UI and not the others Label Studio offers (checked on Label Studio 1.23.2):
- One decision per group, not per pair: n renderings of a speaker are one screen with n cards,
  where pairwise same/different tasks with two ``<Text>`` are n(n-1)/2 screens (27 Putin quotes
  in the seed story: 351 pairs) and their answers can contradict each other (A=B, B=C, A!=C),
  which a clustering then has to repair; a bucket is transitive by construction.
- The prediction pre-fills the buckets: an exported ``ranker`` result in a prediction is shown
  as the annotation's starting grouping (``tests/test_linking_browser.py`` checks it), so a
  correct baseline costs a glance and one Submit, and a wrong one a drag per misplaced card.
- Dragging works with the mouse (react-beautiful-dnd, also in headless Chromium: the browser
  test drags a card with mouse down/move/up and pulls the change back), between buckets laid
  out in a wrapping grid (the ``<Style>`` below), so 24 buckets are six rows of four.
- Per-paragraph choices (one ``<Choices>`` per rendering naming its statement) would need a
  fixed statement vocabulary per task and a click per rendering even when the baseline is right,
  and show no group at a glance; the ranker shows each statement's renderings side by side.
- No bucket is the ``default``: with one, an untouched task would submit "all one statement";
  with the unsorted column, an untouched card is reported, never guessed.
Limits: a bucket has no text box, so the gloss is derived (``decode``), and the Ranker has no
per-item flag, so ``Rendering.changes_meaning`` is not asked here. The bucket count is fixed
by the config: a task whose prediction needs more buckets than the project has is refused at
preload, naming the count to give ``init``. Label Studio calls the unsorted column ``_`` and
documents that name as internal; ``decode`` reads it and nothing else outside the buckets.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree

from schemas import ToolkitError

LIST = "renderings"  # the <List> of a task's renderings (its items: ITEM_FIELDS)
RANKER = "statements"  # the <Ranker>: one bucket per statement
RESULT_TYPE = "ranker"
UNSORTED = "_"  # Label Studio's key for the list's own column when no bucket is the default
UNSORTED_TITLE = "Unsorted (drag each card into a statement)"
ITEMS = "items"  # task data key of the list
HEADING = "heading"  # task data key of the line above the board
ITEM_FIELDS = ("id", "title", "html")  # id: QuoteMention.key; title: outlet and kind; html: sentence, quote marked

# The seed story's largest group, Putin's 27 quotes, is 10 statements in both seed annotations and 20
# predicted ones from the baseline linker: 20 + SPARE_BUCKETS fit.
DEFAULT_BUCKETS = 24
SPARE_BUCKETS = 3  # empty buckets a task should offer beyond its predicted statements, for splits
MAX_BUCKETS = 200

_BUCKET = re.compile(r"^statement_([1-9][0-9]*)$")


def bucket_name(n: int) -> str:
    """The name of bucket ``n`` (1-based): the key of its renderings in a ranker result."""
    return f"statement_{n}"


def bucket_number(name: str) -> int | None:
    """``n`` for ``bucket_name(n)``; None for any other name (``UNSORTED`` included)."""
    m = _BUCKET.match(name)
    return int(m[1]) if m else None


def bucket_title(n: int) -> str:
    return f"Statement {n}"


# Four buckets a row at any width; the unsorted column first. Label Studio escapes ">" in a
# <Style>'s text, so the board is found by its CSS-module class prefix instead of a child selector.
_STYLE = """  <Style>
    [class^=board--] { flex-wrap: wrap; gap: 8px; justify-content: flex-start; }
    .htx-ranker-column { flex: 0 0 calc(25% - 8px); margin: 0 !important; min-height: 90px; }
    .htx-ranker-item { font-size: 13px; line-height: 1.35; }
    .htx-ranker-item [class*=typography] { font-size: 13px; line-height: 1.3; overflow-wrap: anywhere; }
    .htx-ranker-item mark { background: #ffe08a; padding: 0 2px; }
    .htx-ranker-item p:last-child { font-size: 0.75em; opacity: 0.6; }
  </Style>
"""


def generate_linking_config(buckets: int = DEFAULT_BUCKETS) -> str:
    """The labeling config XML with ``buckets`` statement buckets (``bucket_name(1..buckets)``)."""
    if not 1 <= buckets <= MAX_BUCKETS:
        raise ToolkitError(f"--buckets {buckets}: give 1 to {MAX_BUCKETS} statement buckets")
    rows = "".join(f'\n    <Bucket name="{bucket_name(n)}" title="{bucket_title(n)}"/>' for n in range(1, buckets + 1))
    return (
        "<View>\n"
        f'  <Header value="${HEADING}" size="4"/>\n'
        '  <Header value="Each card is one quote of this speaker. Put the cards that render the same statement '
        '(one utterance on one occasion) into one bucket, each other statement into its own." size="6"/>\n'
        + _STYLE
        + f'  <List name="{LIST}" value="${ITEMS}" title="{UNSORTED_TITLE}"/>\n'
        f'  <Ranker name="{RANKER}" toName="{LIST}">{rows}\n  </Ranker>\n'
        "</View>\n"
    )


def bucket_count(label_config: str) -> int:
    """How many statement buckets a (project's) linking config has; ``ToolkitError`` if it is none."""
    try:
        root = ElementTree.fromstring(label_config)
    except ElementTree.ParseError as e:
        raise ToolkitError(f"the project's labeling config is not XML ({e}); run `annotate statements init`"
                           ) from None
    rankers = [r for r in root.iter("Ranker") if r.get("name") == RANKER]
    if len(rankers) != 1:
        raise ToolkitError(f"the project's labeling config has no <Ranker name={RANKER!r}>: is it the statement "
                           "linking project? run `annotate statements init`")
    numbers = sorted(n for b in rankers[0].iter("Bucket") if (n := bucket_number(b.get("name", ""))) is not None)
    if not numbers or numbers != list(range(1, len(numbers) + 1)):
        raise ToolkitError(f"the project's statement buckets are {numbers}, not 1..K; run `annotate statements init`")
    return len(numbers)
