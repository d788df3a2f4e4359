"""Password hashing (argon2) and the rules a new password must follow."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from overture.errors import InvalidInput, Problem

MIN_LENGTH = 10
MAX_LENGTH = 256

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the email is unknown, so that a wrong email takes as long as a wrong password."""
    return _hasher.hash("overture-dummy-password")


def check_new_password(password: str, field: str = "password") -> None:
    """Raises InvalidInput when the password is too short or too long."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            "The password is too short.",
            [Problem(field, f"Use at least {MIN_LENGTH} characters.")],
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput("The password is too long.", [Problem(field, f"Use at most {MAX_LENGTH} characters.")])


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; always spends the time of one verification."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
