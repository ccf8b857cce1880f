"""A development set of cross-article statement clusters over PolNeAR ``dev`` (see RULES.md)."""
