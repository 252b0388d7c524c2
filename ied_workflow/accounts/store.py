"""Account rows with SQLAlchemy Core; no rules live here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, Select, bindparam, select, update

from ied_workflow.accounts.records import ApiToken, Credentials, User
from ied_workflow.db import tables as t
from ied_workflow.db.dialects import upsert_insert
from ied_workflow.db.unit_of_work import FirstRead, UnitOfWork
from ied_workflow.domain import Role

u, k = t.users.c, t.api_tokens.c
# Every API request and every console page reads one of these as its first statement.
_TOKEN_OWNER = FirstRead.of(
    select(u.email, u.role, k.id)
    .select_from(t.api_tokens.join(t.users, u.id == k.user_id))
    .where(k.token_hash == bindparam("token_hash"), k.revoked_at.is_(None), ~u.disabled)
)
_SESSION_USER = FirstRead.of(
    select(u.email, u.role).where(u.id == bindparam("user_id"), ~u.disabled)
)


def token_owner(uow: UnitOfWork, token_hash: str) -> tuple[str, str, int] | None:
    """(email, role, token id) of a live token of an enabled user; brings the clock."""
    row = _TOKEN_OWNER.first(uow, {"token_hash": token_hash})
    return None if row is None else (row[0], row[1], row[2])


def session_user(uow: UnitOfWork, user_id: int) -> tuple[str, str] | None:
    """(email, role) of an enabled user; brings the clock."""
    row = _SESSION_USER.first(uow, {"user_id": user_id})
    return None if row is None else (row[0], row[1])


def credentials(conn: Connection, email: str) -> Credentials | None:
    row = conn.execute(select(t.users).where(u.email == email)).one_or_none()
    if row is None:
        return None
    values = row._mapping
    return Credentials(
        values["id"], values["email"], Role(values["role"]), values["password_hash"],
        bool(values["disabled"]),
    )  # fmt: skip


def insert_user(conn: Connection, values: dict[str, Any]) -> User | None:
    """The new user; None when the email is taken."""
    statement = upsert_insert(conn, t.users).values(values).on_conflict_do_nothing()
    row = conn.execute(statement.returning(*t.users.c)).one_or_none()
    return None if row is None else _user(row._mapping)


def users(conn: Connection) -> list[User]:
    return [_user(row._mapping) for row in conn.execute(select(t.users).order_by(u.email))]


def user_by_email(conn: Connection, email: str) -> User | None:
    row = conn.execute(select(t.users).where(u.email == email)).one_or_none()
    return None if row is None else _user(row._mapping)


def disable_user(conn: Connection, email: str) -> User | None:
    changed = conn.execute(
        update(t.users).where(u.email == email).values(disabled=True).returning(*t.users.c)
    ).one_or_none()
    return None if changed is None else _user(changed._mapping)


def insert_token(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(t.api_tokens.insert().values(values).returning(k.id)).scalar_one())


def tokens(conn: Connection) -> list[ApiToken]:
    query = _tokens_with_email().order_by(k.id)
    return [ApiToken(**row._mapping) for row in conn.execute(query)]


def revoke_token(conn: Connection, token_id: int, at: Any) -> ApiToken | None:
    """Revoke once (a second revoke keeps the first time); None when no such token."""
    conn.execute(
        update(t.api_tokens).where(k.id == token_id, k.revoked_at.is_(None)).values(revoked_at=at)
    )
    row = conn.execute(_tokens_with_email().where(k.id == token_id)).one_or_none()
    return None if row is None else ApiToken(**row._mapping)


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
