"""A quote tagger trained from the gold: a CRF over token features (``python-crfsuite``).

``train_model`` learns content, cue and source tokens from any gold documents; ``QuoteModel``
loads the model file (``model_file``: a zip of JSON and CRFsuite's binary, never a pickle) and
extracts documents like the baseline does. Stances and claims are not predicted here.
"""
