"""The toolkit's one error type for problems a user can cause.

The CLI turns a ``ToolkitError`` into one line on stderr and a non-zero exit; anything else
is a bug and keeps its traceback.
"""

from pydantic import ValidationError


class ToolkitError(Exception):
    """A problem with the user's input or environment: what went wrong, where, how to fix it."""


def first_error(e: ValidationError) -> str:
    """One line from a pydantic error: the field path and the message."""
    err = e.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg
