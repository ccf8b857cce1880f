"""Annotator accounts people can log into.

Users created through the API have no password, so ``add_annotator`` creates the user through
the API (which also makes them a member of the organization) and then sets a password in the
local server's database (``set_password.set_user_password``). Generated passwords are stored in a
0600 file; the caller decides whether to print one.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from annotate.labelstudio import server
from annotate.labelstudio.client import StudioClient, UserInfo
from annotate.labelstudio.credentials import new_password, store_annotator_password
from annotate.labelstudio.set_password import set_user_password
from schemas import ToolkitError

# A plain shape check, enough to catch typos (the `email-validator` package is not a dependency);
# the server validates the address again when it creates the user.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PASSWORD_LENGTH = (8, 128)  # Label Studio's AUTH_PASSWORD_MIN_LENGTH / MAX_LENGTH


class AddedAnnotator(BaseModel):
    user: UserInfo
    password: str
    generated: bool
    password_file: Path | None  # only generated passwords are stored


def normalize_email(email: str) -> str:
    """Lower-case: Label Studio's login form lower-cases what people type before looking them up."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise ToolkitError(
            f"{email!r} is not an email address; annotators log in with their email, e.g. ann@example.org"
        )
    return email


def check_password(password: str) -> None:
    low, high = PASSWORD_LENGTH
    if not low <= len(password) <= high:
        raise ToolkitError(f"--password has {len(password)} characters; Label Studio needs {low}-{high}")


def local_data_dir() -> Path:
    """The local server's data directory: passwords can only be set where the database is."""
    status = server.status()
    if not status.running or status.state is None:
        raise ToolkitError(
            "setting a password needs the local server (`annotate server start`); on a remote Label Studio, "
            "invite annotators from Organization > Add People instead"
        )
    return status.state.data_dir


def add_annotator(
    client: StudioClient, email: str, data_dir: Path, password: str | None = None, reset_password: bool = False
) -> AddedAnnotator:
    """Create (or, with ``reset_password``, re-password) an annotator account on the local server."""
    email = normalize_email(email)
    generated = password is None
    password = password if password is not None else new_password()
    check_password(password)
    user = next((u for u in client.list_users() if u.email.lower() == email), None)
    if user is not None and not reset_password:
        raise ToolkitError(
            f"annotator {email} already exists (user {user.id}); pass --reset-password to give them a new password"
        )
    created = user is None
    if user is None:
        user = client.create_user(email=email, username=email.split("@")[0])
    try:
        set_user_password(data_dir, email, password)
    except ToolkitError as e:
        if created:
            raise ToolkitError(f"{e}; the account exists without a password: rerun with --reset-password") from None
        raise
    stored = store_annotator_password(email, password) if generated else None
    return AddedAnnotator(user=user, password=password, generated=generated, password_file=stored)


def list_annotators(client: StudioClient) -> list[UserInfo]:
    """Every user of the organization, admin included (the admin can annotate too)."""
    return sorted(client.list_users(), key=lambda u: u.id)
