"""Where the repository's own data lives (seeds, target inventory) and where state is kept."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS_DIR = REPO_ROOT / "seeds"
SEED_TARGETS = SEEDS_DIR / "targets.json"
GUIDELINES = REPO_ROOT / "guidelines.md"  # the one source of label definitions and of the instructions


def state_dir() -> Path:
    """Per-user state (server data, credentials, pulls): outside the repository by default."""
    root = os.environ.get("ANNOTATE_HOME") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "news-attribution"
    )
    return Path(root)
