"""The one atomic file write, and the one strict text read, that every module uses.

A reader never sees half a file: content goes to a temporary file beside the target, is flushed
to disk, and is renamed over the target; on any error the temporary file is removed and the
target is left as it was. Text is written without newline translation ("\\n" stays "\\n").
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from schemas.errors import ToolkitError, first_error

M = TypeVar("M", bound=BaseModel)


def read_text(path: Path) -> str:
    """The file's text, decoded strictly as UTF-8 and never newline-translated (offsets refer to it)."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ToolkitError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise ToolkitError(f"{path}: is a directory; give a file") from None
    except UnicodeDecodeError as e:
        raise ToolkitError(f"{path}: not UTF-8 at byte {e.start}; convert the file to UTF-8") from None


def read_model(path: Path, model: type[M], remedy: str) -> M:
    """The JSON record in ``path`` as ``model``: one reader for every record file the toolkit writes
    (server state, project, releases, reports). Invalid content is a ``ToolkitError`` ending in ``remedy``."""
    text = read_text(path)
    try:
        return model.model_validate_json(text)
    except ValidationError as e:
        raise ToolkitError(f"{path}: {first_error(e)}; {remedy}") from None


def iter_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, line) of the non-blank lines, one at a time, so a file of any size is never held whole.

    Lines end at "\\n" only: JSON writers leave U+2028 and U+0085 unescaped inside strings, and
    ``str.splitlines`` would break a line there. Decoding is strict UTF-8; an error names the byte.
    """
    offset = 0  # bytes before the current line, for the position of a decoding error
    try:
        with open(path, "rb") as f:
            for lineno, raw in enumerate(f, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise ToolkitError(f"{path}: not UTF-8 at byte {offset + e.start}; convert the file to UTF-8"
                                       ) from None
                offset += len(raw)
                if line.strip():
                    yield lineno, line
    except FileNotFoundError:
        raise ToolkitError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise ToolkitError(f"{path}: is a directory; give a file") from None


def write_atomically(
    path: Path,
    content: str | bytes | Iterable[str],
    *,
    private: bool = False,
    make_parents: bool = False,
) -> None:
    """Write ``content`` (text, bytes, or text chunks streamed one by one) to ``path``, all or nothing.

    ``private``: the file is 0600 from its first byte (secrets), and new parent directories 0700.
    ``make_parents``: create missing parent directories; otherwise a missing one is a ``ToolkitError``.
    Other files get the usual mode (0666 less the umask), as a plain ``open`` would give them.
    """
    path = Path(path)
    if path.is_dir():
        raise ToolkitError(f"{path}: is a directory; give a file name inside it instead")
    if make_parents:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
    elif not path.parent.is_dir():
        raise ToolkitError(f"{path}: directory {path.parent} does not exist; create it or choose another path")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    try:
        if not private:
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            if isinstance(content, bytes):
                f.write(content)
            elif isinstance(content, str):
                f.write(content.encode("utf-8"))
            else:
                for chunk in content:
                    f.write(chunk.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def _umask() -> int:
    # os.umask can only be read by setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sync_directory(directory: Path) -> None:
    # Makes the rename itself durable; some file systems refuse fsync on a directory, which is harmless.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
