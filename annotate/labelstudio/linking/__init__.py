"""The statement-linking Label Studio project: one task per (story, speaker), its renderings grouped
into statement buckets.

``config`` (the labeling config and why this UI), ``wire`` (its task data and ranker result),
``tasks`` (tasks and predictions from the gold), ``decode`` (an annotation to statements),
``export`` (a whole export to statement documents), ``project`` (init, preload, pull).
"""
