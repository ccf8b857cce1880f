"""What goes wrong talking to Label Studio: SDK and HTTP errors as one-line ``ToolkitError``s, and retries.

``translated_errors`` is the one place SDK and HTTP errors become ``ToolkitError``; messages never
contain the token (it is scrubbed even from server replies). ``retrying`` runs raw SDK calls again
while they fail for a transient reason (``RetryPolicy``), then words what is left the same way.
The SDK itself is called only in ``client.py``; here only its exception types are named.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from annotate.labelstudio import server
from annotate.labelstudio.connection import ENV_TOKEN, ENV_URL
from annotate.labelstudio.credentials import redact
from schemas import ToolkitError

T = TypeVar("T")


class NotFoundError(ToolkitError):
    """The server answered 404: the project, task or user does not exist (or the URL is not Label Studio)."""


@contextmanager
def translated_errors(what: str, url: str, token: str | None) -> Iterator[None]:
    """The one place SDK and HTTP errors become ToolkitError (with the token scrubbed)."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    try:
        yield
    except ApiError as e:
        error = NotFoundError if e.status_code == 404 else ToolkitError
        raise error(_scrub(_api_message(e, what, url), token)) from None
    except httpx.ConnectError as e:
        raise ToolkitError(
            _scrub(f"cannot reach Label Studio at {url} while {what} ({e}); start it with `annotate server start` "
                   f"or check {ENV_URL}", token)
        ) from None
    except httpx.TimeoutException:
        raise ToolkitError(f"Label Studio at {url} timed out while {what}; retry, or use smaller batches") from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as e:
        raise ToolkitError(_scrub(f"Label Studio URL {url!r} is not usable ({e}); e.g. http://127.0.0.1:8080",
                                  token)) from None
    except httpx.HTTPError as e:
        message = f"HTTP error talking to {url} while {what}: {type(e).__name__}: {e}"
        raise ToolkitError(_scrub(message, token)) from None


def _scrub(message: str, token: str | None) -> str:
    message = " ".join(message.split())  # one line, whatever the server sent
    return message.replace(token, redact(token)) if token else message


def _api_message(e: Any, what: str, url: str) -> str:
    code = e.status_code
    if code in (401, 403):
        return (
            f"Label Studio at {url} refused the API token ({code}) while {what}; check {ENV_TOKEN} or the "
            "credentials file, and that legacy tokens are enabled for the organization"
        )
    if code == 404:
        return f"not found at {url} while {what} (404); is this a Label Studio {_expected()} server, and the id right?"
    return f"Label Studio at {url} answered {code} while {what}: {_reason(e.body)}"


def _expected() -> str:
    return server.LABEL_STUDIO_VERSION


def _reason(body: Any) -> str:
    """The server's own explanation, from the shapes Label Studio uses for errors."""
    if isinstance(body, dict):
        details = body.get("validation_errors") or body.get("detail") or body
        if isinstance(details, dict):
            return "; ".join(f"{k}: {_flatten(v)}" for k, v in details.items())
        return _flatten(details)
    text = _flatten(body)
    return text[:500] + ("…" if len(text) > 500 else "")


def _flatten(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(_flatten(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# ---------------------------------------------------------------- retries (pulls)


class RetryPolicy(BaseModel):
    """How hard a pull tries when Label Studio is down or slow. Each step (listing the task ids,
    exporting one batch, connecting) is retried on its own: at most ``retries`` times, waiting
    ``first_wait`` seconds and doubling, and no retry starts after ``retry_for`` seconds."""

    model_config = ConfigDict(frozen=True)

    retries: int = Field(default=5, ge=0)
    first_wait: float = Field(default=1.0, ge=0)
    retry_for: float = Field(default=120.0, ge=0)
    timeout: float = Field(default=300.0, gt=0, description="Seconds a request may stay silent before it fails.")


class TransientFailure(Exception):
    """A failure the server's answer revealed (not an SDK error) that is worth another try; the message
    reads after "Label Studio at <url>", e.g. "sent an export cut short"."""


def to_stderr(line: str) -> None:
    """Where retries are reported by default: one line each."""
    print(line, file=sys.stderr, flush=True)


def translate(what: str, url: str, token: str | None, error: Exception) -> ToolkitError:
    """``error`` (raised while ``what``) as the one-line ``ToolkitError`` that ``translated_errors`` words."""
    if isinstance(error, ToolkitError):
        return error
    if isinstance(error, TransientFailure):
        return ToolkitError(f"Label Studio at {url} {error} while {what}")
    try:
        with translated_errors(what, url, token):
            raise error
    except ToolkitError as translated:
        return translated
    raise AssertionError("unreachable")  # translated_errors translates every exception it is given or re-raises it


def retrying(
    what: str, url: str, token: str | None, policy: RetryPolicy, say: Callable[[str], None], action: Callable[[], T]
) -> T:
    """``action()`` (raw SDK calls), retried with exponential backoff while it fails for a transient
    reason; any failure that is left becomes a ``ToolkitError`` (``translate``)."""
    started = time.monotonic()
    for attempt in itertools.count(1):
        try:
            return action()
        except Exception as e:
            if not _transient(e):
                raise translate(what, url, token, e) from None
            wait = policy.first_wait * 2 ** (attempt - 1)
            elapsed = time.monotonic() - started
            if attempt > policy.retries or elapsed + wait > policy.retry_for:
                raise ToolkitError(
                    f"{translate(what, url, token, e)} (gave up after {attempt} attempts in {elapsed:.0f} s; "
                    "raise --retries/--retry-for or pull again later; nothing was written)"
                ) from None
            say(f"pull: Label Studio at {url} failed while {what} ({_retry_reason(e)}); "
                f"retry {attempt}/{policy.retries} in {wait:.1f} s")
            time.sleep(wait)
    raise AssertionError("unreachable")


def _transient(error: BaseException) -> bool:
    """Worth retrying: the server is down, slow, restarting or overloaded; not a refusal of the request."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    if isinstance(error, TransientFailure):
        return True
    if isinstance(error, httpx.UnsupportedProtocol):
        return False
    if isinstance(error, httpx.TransportError):  # refused, reset, timed out, body cut short
        return True
    return isinstance(error, ApiError) and (error.status_code in (408, 429) or (error.status_code or 0) >= 500)


def _retry_reason(error: Exception) -> str:
    status = getattr(error, "status_code", None)
    if isinstance(error, TransientFailure):
        text = str(error)
    else:
        text = f"HTTP {status}" if status else f"{type(error).__name__}: {error}".rstrip(": ")
    return " ".join(text.split())[:200]
