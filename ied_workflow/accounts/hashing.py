"""Password and token hashing, apart from SQL.

Passwords are chosen by people and can be guessed, so they get a slow, salted argon2
hash. A token is 32 random bytes shown once; nobody can guess 256 bits, so its SHA-256
is as safe to store as an argon2 hash would be, and being unsalted and fast it lets each
request find its token through a unique index in one lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache
from typing import TYPE_CHECKING

from ied_workflow.errors import ValidationError

if TYPE_CHECKING:
    from pwdlib import PasswordHash

TOKEN_PREFIX = "iedw_"  # recognisable in a leaked log or a secret scanner
PASSWORD_MIN, PASSWORD_MAX = 8, 1024
# Verified when the email is unknown, so a wrong email costs as long as a wrong password.
NOBODY = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$" + "A" * 43


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    from pwdlib import PasswordHash  # argon2 loads only where a password is hashed

    return PasswordHash.recommended()  # argon2id with pwdlib's current parameters


def hash_password(password: str) -> str:
    """An argon2 hash of a password of sensible length (slow on purpose)."""
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValidationError(f"a password needs {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` matches the stored argon2 hash."""
    return bool(_hasher().verify(password, password_hash))


def password_matches(password: str, stored: str | None) -> bool:
    """One argon2 verification whatever is stored (NOBODY when nothing), so timing tells nothing."""
    if not 0 < len(password) <= PASSWORD_MAX:
        return False
    try:
        return verify_password(password, stored or NOBODY) and stored is not None
    except Exception:  # a malformed stored hash is a refusal, not a crash
        return False


def new_token() -> str:
    """A fresh bearer token: shown once, stored only as `token_hash`."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The stored form of a token: hex SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()
