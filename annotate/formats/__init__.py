"""Foreign annotation formats, each in its own module, both directions: BRAT standoff, Citron JSON, and the
hand-authoring format of the recorded seed annotations."""
