"""A rendering's fidelity class, computed from the words of a statement's renderings.

The rules, in the order they are tried (``guidelines.md``, "Statements", says the same):

- an indirect or mixed rendering is a ``paraphrase`` (its words are the outlet's, at least in part);
- a direct rendering with the same words as another direct rendering of the statement, case and
  punctuation aside (``words_of``), is ``verbatim``;
- a direct rendering whose words are a contiguous run inside a longer direct rendering is an ``excerpt``;
- any other direct rendering is a ``variant``: the speaker's words as this outlet (or its translator)
  gave them, matched by no other direct rendering word for word; a statement's only direct
  rendering is a variant too, since nothing says its words are the ones spoken.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.quote_mentions import QuoteMention
from schemas.statements import Fidelity, StatementDocument


def fidelity_classes(renderings: Sequence[QuoteMention]) -> dict[str, Fidelity]:
    """The fidelity class of each rendering of one statement, by ``QuoteMention.key``."""
    direct = [(m.key, m.words) for m in renderings if m.is_direct]
    out: dict[str, Fidelity] = {}
    for m in renderings:
        if not m.is_direct:
            out[m.key] = Fidelity.PARAPHRASE
            continue
        words = m.words
        others = [w for key, w in direct if key != m.key]
        if words in others:
            out[m.key] = Fidelity.VERBATIM
        elif any(len(w) > len(words) and _contains_run(w, words) for w in others):
            out[m.key] = Fidelity.EXCERPT
        else:
            out[m.key] = Fidelity.VARIANT
    return out


def with_fidelity(document: StatementDocument, mentions: dict[str, QuoteMention]) -> StatementDocument:
    """The document with every rendering's fidelity computed (``mentions`` by key must hold them all;
    ``schemas.statements.check_against_quotes`` checks that first)."""
    statements = []
    for s in document.statements:
        classes = fidelity_classes([mentions[r.key] for r in s.renderings])
        renderings = [r.model_copy(update={"fidelity": classes[r.key]}) for r in s.renderings]
        statements.append(s.model_copy(update={"renderings": renderings}))
    return document.model_copy(update={"statements": statements})


def _contains_run(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    """Whether ``shorter`` occurs as a contiguous run of words in ``longer`` (an empty run never does)."""
    n = len(shorter)
    return n > 0 and any(longer[i:i + n] == shorter for i in range(len(longer) - n + 1))
