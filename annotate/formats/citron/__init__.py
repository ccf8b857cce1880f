"""Citron's JSON quote format (github.com/bbc/citron, ``docs/data_format.md``), in both directions:
``reader`` (Citron -> documents, with the file loading), ``writer`` (documents -> Citron, with the file
writing), and ``wire`` (the format's models, which both use).

The format, one object per document::

    {"text": "...",
     "quotes": [{"cue": SPAN, "sources": [SPAN, ...], "contents": [SPAN, ...],
                 "coreferences": [SPAN, ...],            # optional
                 "confidence": 0.93, "id": "q1"}],        # optional
     "coreference_groups": [[SPAN, SPAN, ...], ...]}      # optional
    SPAN = {"start": int, "end": int, "text": str}

Offsets are Unicode code points (Python ``str`` indices) with an exclusive end: Citron's own
reader maps ``start`` and ``end - 1`` through spaCy's ``token.idx``, which is a ``str`` index.
Two fields beyond Citron's are read and written so a document survives the trip: ``id`` (the
article id) and ``annotator``; Citron ignores keys it does not know.

What ``citron-extract`` and the REST API print is *not* this format: it has no text, its
``start``/``end`` are spaCy token indices (``Span.start``), and it swaps ``sources`` and
``coreferences`` when a coreference was resolved. It is refused with a message saying so.

Canonical form: a document exactly as ``reader.citron_to_documents`` builds it; for those, and for
the Citron objects ``writer.documents_to_citron`` writes, a round trip changes nothing.
"""
