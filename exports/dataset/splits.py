"""Train / validation / test by story: articles about one event never straddle two splits.

Each story is placed by a hash of its id, so the assignment is deterministic, independent of input
order, and (with enough stories) stable across releases: a story's split depends only on its own hash,
so adding stories does not move the others. Hash buckets: test below 0.1, validation below 0.2, else train.

With few stories the buckets can leave a split empty (or train empty), so the splits that make sense
for the number of stories are filled by rank of the same hash instead: 1 story -> train; 2 -> train and
test; 3 or more -> all three, validation and test ~10% each but at least one story. That fallback may
move stories when stories are added, which the release diff then lists as changed items.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

SPLITS = ("train", "validation", "test")
SHARE = 0.1  # of stories, for validation and for test each


def story_key(article_id: str, story: str | None) -> str:
    """The unit of splitting: the article's story, or the article itself when it has none."""
    return f"story:{story}" if story is not None else f"article:{article_id}"


def _unit(key: str) -> float:
    """A uniform number in [0, 1) from the key's SHA-256: the seed of the key's placement."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") / 2**64


def _wanted(n: int) -> tuple[str, ...]:
    return () if n == 0 else ("train",) if n == 1 else ("train", "test") if n == 2 else SPLITS


def _by_bucket(units: dict[str, float]) -> dict[str, str]:
    return {k: "test" if u < SHARE else "validation" if u < 2 * SHARE else "train" for k, u in units.items()}


def _by_rank(units: dict[str, float], wanted: tuple[str, ...]) -> dict[str, str]:
    ordered = sorted(units, key=lambda k: (units[k], k))
    quota = max(1, round(SHARE * len(ordered)))
    n_test = quota if "test" in wanted else 0
    n_validation = quota if "validation" in wanted else 0
    return {k: "test" if i < n_test else "validation" if i < n_test + n_validation else "train"
            for i, k in enumerate(ordered)}


def assign_splits(story_keys: Iterable[str]) -> dict[str, str]:
    """Split name for each distinct story key."""
    units = {k: _unit(k) for k in set(story_keys)}
    wanted = _wanted(len(units))
    placed = _by_bucket(units)
    if set(placed.values()) == set(wanted):
        return placed
    return _by_rank(units, wanted)
