"""The toolkit's one error type for problems a user can cause.

The CLI turns a ``ToolkitError`` into one line on stderr and a non-zero exit; anything else
is a bug and keeps its traceback.
"""


class ToolkitError(Exception):
    """A problem with the user's input or environment: what went wrong, where, how to fix it."""
