"""Any quote-level document completed with the claim and stance layers.

The quote extractors (the rule-based baseline, a trained quote model) predict quotes, cues and
speakers; ``with_claims_and_stances`` adds what the rules of ``annotate.extract.claims`` and
``annotate.extract.stances`` find in them, so every extractor's predictions carry all four layers.
"""

from __future__ import annotations

from annotate.extract.claims import detect_claims
from annotate.extract.sentences import sentence_spans
from annotate.extract.stances import detect_stances
from schemas import AnnotatedDocument, TargetInventory

# The claim and stance rules' own version, to change whenever their output does. Nothing records it yet:
# predictions carry the quote extractor's version only (``BASELINE_VERSION`` or the model's).
LAYERS_VERSION = "0.1.1"


def with_claims_and_stances(doc: AnnotatedDocument, targets: TargetInventory | None) -> AnnotatedDocument:
    """``doc`` with its claims and stances replaced by the rules' (stances only with a target inventory).

    Entities should be final first (``EntityInventory.canonical``): stance ids are made of holder ids,
    so two entities merged afterwards could give two stances one id.
    """
    sentences = sentence_spans(doc.article.text)
    stances = detect_stances(doc, targets, sentences) if targets is not None else []
    data = doc.model_dump()
    data["claims"] = [c.model_dump() for c in detect_claims(doc, sentences)]
    data["stances"] = [s.model_dump() for s in stances]
    return AnnotatedDocument.model_validate(data, context={"targets": targets} if targets is not None else None)
