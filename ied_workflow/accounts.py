"""Who may call the HTTP API: users, their roles and passwords, and API tokens.

Use cases on the unit of work, like `service.py`. Passwords are chosen by people and
can be guessed, so they get a slow, salted argon2 hash. A token is 32 random bytes
shown once; nobody can guess 256 bits, so its SHA-256 is as safe to store as an
argon2 hash would be, and being unsalted and fast it lets each request find its token
through a unique index in one lookup instead of running argon2 against every row.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from pwdlib import PasswordHash
from sqlalchemy import Connection, RowMapping, Select, bindparam, func, select, update

from ied_workflow import tables as t
from ied_workflow import validation as v
from ied_workflow.cursor_sql import CursorStatement
from ied_workflow.domain import Role
from ied_workflow.errors import (
    AccountDisabled,
    DuplicateUser,
    NotFound,
    PermissionDenied,
    Unauthenticated,
    ValidationError,
)
from ied_workflow.repository import upsert_insert
from ied_workflow.unit_of_work import UnitOfWork

TOKEN_PREFIX = "iedw_"  # recognisable in a leaked log or a secret scanner
TOKEN_MAX = 200  # longer bearer values are refused before hashing
PASSWORD_MIN, PASSWORD_MAX = 8, 1024
NAME_MAX = 100
RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
u, k = t.users.c, t.api_tokens.c
# Every API request reads it: on the driver's cursor (cursor_sql), not `Connection.execute`.
_TOKEN_OWNER_QUERY = (
    select(u.email, u.role, k.id)
    .select_from(t.api_tokens.join(t.users, u.id == k.user_id))
    .where(k.token_hash == bindparam("token_hash"), k.revoked_at.is_(None), ~u.disabled)
)
# Every console page reads its session's user, the same way.
_SESSION_USER_QUERY = select(u.email, u.role).where(u.id == bindparam("user_id"), ~u.disabled)


@dataclass(frozen=True, slots=True)
class _CallerRead:
    """A request's first statement, which reads the call's clock too when it is
    PostgreSQL's (`uow.now_in_sql`): no `SELECT now()` of its own."""

    plain: CursorStatement
    with_now: CursorStatement

    @classmethod
    def of(cls, query: Select[Any]) -> _CallerRead:
        clocked = query.add_columns(func.now().label("database_now"))
        return cls(CursorStatement(query), CursorStatement(clocked))

    def first(self, uow: UnitOfWork, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """The query's row (without the clock), None when none."""
        if not uow.now_in_sql:
            return self.plain.first(uow.conn, params)
        row = self.with_now.first(uow.conn, params)
        if row is None:
            return None
        uow.read_now(row[-1])
        return row[:-1]


_TOKEN_OWNER = _CallerRead.of(_TOKEN_OWNER_QUERY)
_SESSION_USER = _CallerRead.of(_SESSION_USER_QUERY)


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


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()  # argon2id with pwdlib's current parameters


def hash_password(password: str) -> str:
    """An argon2 hash of a password of sensible length (slow on purpose: ~50 ms)."""
    if not isinstance(password, str) or not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValidationError(f"a password needs {PASSWORD_MIN} to {PASSWORD_MAX} characters")
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether `password` matches the stored argon2 hash."""
    return bool(_hasher().verify(password, password_hash))


# Verified when the email is unknown, so a wrong email costs as long as a wrong password.
_NOBODY = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$" + "A" * 43


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a password sign-in compares: read in a transaction, checked after it."""

    user_id: int
    email: str
    role: Role
    password_hash: str | None
    disabled: bool


def credentials(uow: UnitOfWork, email: str) -> Credentials | None:
    """The sign-in record of `email`, or None when there is no such user."""
    try:
        email = account_email(email)
    except ValidationError:
        return None
    row = uow.conn.execute(select(t.users).where(u.email == email)).one_or_none()
    if row is None:
        return None
    values = row._mapping
    return Credentials(
        values["id"], values["email"], Role(values["role"]), values["password_hash"],
        bool(values["disabled"]),
    )  # fmt: skip


def sign_in(found: Credentials | None, password: str) -> Principal:
    """The user this email and password speak for; one refusal for every reason.

    A missing user, a user without a password, a disabled one and a wrong password all
    raise the same Unauthenticated after one argon2 verification, so neither the answer
    nor its timing says which part was wrong.
    """
    stored = found.password_hash if found and found.password_hash else _NOBODY
    matches = 0 < len(password) <= PASSWORD_MAX and _verifies(password, stored)
    if found is None or found.password_hash is None or found.disabled or not matches:
        raise Unauthenticated("the email or password is not right")
    return Principal(email=found.email, role=found.role, user_id=found.user_id)


def _verifies(password: str, stored: str) -> bool:
    try:
        return verify_password(password, stored)
    except Exception:  # a malformed stored hash is a refusal, not a crash
        return False


def session_user(uow: UnitOfWork, user_id: int) -> Principal:
    """The user a console session names, read afresh: a disabled user is out at once."""
    row = _SESSION_USER.first(uow, {"user_id": user_id})  # the page's clock comes with it
    if row is None:
        raise Unauthenticated("the session has ended; sign in again")
    email, role = row
    return Principal(email=email, role=Role(role), user_id=user_id)


def token_hash(token: str) -> str:
    """The stored form of a token: hex SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def account_email(email: str) -> str:
    """A user's email, lowercased whole: one person, one account, however they type it."""
    return v.email(email).lower()


def add_user(uow: UnitOfWork, email: str, *, role: str, password_hash: str | None) -> User:
    """Create a user; a second user with the same email is refused."""
    values = {
        "email": account_email(email),
        "role": v.enum_value(Role, role, "role").value,
        "password_hash": password_hash,
        "disabled": False,
        "created_at": uow.now,
    }
    statement = upsert_insert(uow.conn, t.users).values(values).on_conflict_do_nothing()
    row = uow.conn.execute(statement.returning(*t.users.c)).one_or_none()
    if row is None:
        raise DuplicateUser(f"user {values['email']} already exists")
    return _user(row._mapping)


def users(uow: UnitOfWork) -> list[User]:
    """Every user, by email."""
    return [_user(row._mapping) for row in uow.conn.execute(select(t.users).order_by(u.email))]


def disable_user(uow: UnitOfWork, email: str) -> User:
    """Refuse the user's tokens from their next request on (the rows stay, for the record)."""
    email = account_email(email)
    changed = uow.conn.execute(
        update(t.users).where(u.email == email).values(disabled=True).returning(*t.users.c)
    ).one_or_none()
    if changed is None:
        raise NotFound(f"user {email} not found")
    return _user(changed._mapping)


def create_token(uow: UnitOfWork, email: str, *, name: str | None = None) -> NewToken:
    """Make a token for an enabled user; the caller shows it once."""
    name = v.text(name, "token name", max_length=NAME_MAX)
    user = _user_by_email(uow.conn, account_email(email))
    if user.disabled:
        raise AccountDisabled(f"user {user.email} is disabled")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    values = {"user_id": user.id, "name": name, "token_hash": token_hash(token)}
    statement = t.api_tokens.insert().values(created_at=uow.now, **values).returning(k.id)
    return NewToken(id=int(uow.conn.execute(statement).scalar_one()), token=token)


def tokens(uow: UnitOfWork) -> list[ApiToken]:
    """Every token ever made, oldest first, with its user's email."""
    query = _tokens_with_email().order_by(k.id)
    return [ApiToken(**row._mapping) for row in uow.conn.execute(query)]


def revoke_token(uow: UnitOfWork, token_id: int) -> ApiToken:
    """Refuse the token from its next request on; revoking twice keeps the first time."""
    token_id = v.positive_id(token_id, "token id")
    uow.conn.execute(
        update(t.api_tokens)
        .where(k.id == token_id, k.revoked_at.is_(None))
        .values(revoked_at=uow.now)
    )
    row = uow.conn.execute(_tokens_with_email().where(k.id == token_id)).one_or_none()
    if row is None:
        raise NotFound(f"token {token_id} not found")
    return ApiToken(**row._mapping)


def authenticate(uow: UnitOfWork, token: str) -> Principal:
    """The user a bearer token speaks for, read afresh on every request."""
    if not token or len(token) > TOKEN_MAX or not token.isascii():
        raise Unauthenticated("the bearer token is not valid")
    row = _TOKEN_OWNER.first(uow, {"token_hash": token_hash(token)})  # and the call's clock
    if row is None:  # unknown, revoked and disabled look alike to the caller
        raise Unauthenticated("the bearer token is not valid")
    email, role, token_id = row
    return Principal(email=email, role=Role(role), token_id=token_id)


def _user_by_email(conn: Connection, email: str) -> User:
    row = conn.execute(select(t.users).where(u.email == email)).one_or_none()
    if row is None:
        raise NotFound(f"user {email} not found")
    return _user(row._mapping)


def _user(row: RowMapping) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        role=Role(row["role"]),
        disabled=bool(row["disabled"]),
        has_password=row["password_hash"] is not None,
        created_at=row["created_at"],
    )


def _tokens_with_email() -> Select[Any]:
    return select(k.id, u.email.label("user_email"), k.name, k.created_at, k.revoked_at).join(
        t.users, u.id == k.user_id
    )
