"""What an account is: users, tokens as listed, and the caller a request speaks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ied_workflow.domain import Role
from ied_workflow.errors import PermissionDenied

RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class User:
    """An API user; the password hash never leaves this module."""

    id: int
    email: str
    role: Role
    disabled: bool
    has_password: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A token as `tokens list` shows it: never the token itself."""

    id: int
    user_email: str
    name: str | None
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just made: `token` is shown this once and stored only as a hash."""

    id: int
    token: str


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller of one request: the actor of whatever it changes."""

    email: str
    role: Role
    token_id: int | None = None  # None when signed in to the console with a password
    user_id: int | None = None

    def may(self, needed: Role) -> bool:
        """Whether this caller's role includes `needed`'s rights."""
        return RANK[self.role] >= RANK[needed]

    def allowed(self, needed: Role) -> Principal:
        """This caller, if its role includes `needed`'s rights; else PermissionDenied (403)."""
        if not self.may(needed):
            raise PermissionDenied(f"role {self.role} may not do this; it needs {needed}")
        return self


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a password sign-in compares: read in a transaction, checked after it."""

    user_id: int
    email: str
    role: Role
    password_hash: str | None
    disabled: bool
