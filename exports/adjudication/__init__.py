"""Adjudication: one gold document per article from its annotators' documents.

Modules: ``groups`` (units grouped across annotators), ``decisions`` (the majority rule and the decisions
file), ``rules`` (building the gold), ``report`` (the conflicts file), ``run`` (reading and writing files),
``latest`` (the record of the last run), ``review`` (review tasks in Label Studio).

Per article:

- An annotation marked as ground truth in Label Studio wins, whole. Two marked is a conflict;
  the article then has no gold until a decision picks one (or rejects both marks: majority vote).
- Otherwise the units of each layer are grouped across annotators with the comparison core
  (``exports.compare``: ``extract_units``, then ``align`` one-to-one for every pair of the
  article's annotators; units joined by alignments form a group). A group that enough annotators
  marked (``MajorityRule``) is accepted, each attribute taking the value enough of them gave.
- What falls short is a ``Conflict``: a unit too few annotators marked, or one annotator marked
  twice within a group; an attribute without a majority value. The unit stays out of the gold
  until a decisions file settles it: accept one annotator's version, reject, or give a value,
  always with a reason. Decisions are applied on every run, so adjudication is reproducible
  (same inputs and decisions, same gold bytes).

Units and the attributes voted on (values are strings; ``"none"`` means "the annotator gave none"):

- quote: ``span`` (content fragments ``s-e+s-e``), ``kind``, ``cue`` (``s-e``), ``speaker``
  (entity id), ``stance`` (``target:polarity``; the holder is the quote's speaker, as in Label Studio);
- mention: ``span``, ``entity``;
- claim: ``span``, ``check_worthy``, ``claimant`` (entity id);
- stances without evidence quotes (not possible in Label Studio, possible in other sources) are
  voted on by (holder, target, polarity).

Gold items get fresh ids in text order (``m1``, ``q1``, ``c1``; stances ``holder:target:polarity``)
and ``supported_by``: the annotators who marked the unit (whose unit is in its group). A
ground-truth document keeps its own ids. Entities are those the accepted units refer to, each
with the name/type/Wikidata most of the article's annotators gave it.

Outputs: ``GOLD.jsonl`` and the sidecar ``<stem>.conflicts.json`` (``AdjudicationReport``: inputs
with their hashes, the rule, per-article outcome, every conflict with its versions and, when
decided, the decision and its reason). The path of the last gold is recorded in
``state_dir()/adjudication.json`` (``latest_adjudication``).
"""
