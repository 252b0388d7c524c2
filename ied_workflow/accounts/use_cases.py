"""Who may call the HTTP API and sign in to the console: users, roles, tokens.

Use cases on the unit of work, like `follow_ups.use_cases`; SQL lives in `store`,
hashing in `hashing`.
"""

from __future__ import annotations

from ied_workflow import validation as v
from ied_workflow.accounts import hashing, store
from ied_workflow.accounts.records import ApiToken, Credentials, NewToken, Principal, User
from ied_workflow.db.unit_of_work import UnitOfWork
from ied_workflow.domain import Role
from ied_workflow.errors import (
    AccountDisabled,
    DuplicateUser,
    NotFound,
    Unauthenticated,
    ValidationError,
)

TOKEN_MAX = 200  # longer bearer values are refused before hashing
NAME_MAX = 100


def account_email(email: str) -> str:
    """A user's email, lowercased whole: one person, one account, however they type it."""
    return v.email(email).lower()


def credentials(uow: UnitOfWork, email: str) -> Credentials | None:
    """The sign-in record of `email`, or None when there is no such user."""
    try:
        email = account_email(email)
    except ValidationError:
        return None
    return store.credentials(uow.conn, email)


def sign_in(found: Credentials | None, password: str) -> Principal:
    """The user this email and password speak for; one refusal for every reason.

    A missing user, a user without a password, a disabled one and a wrong password all
    raise the same Unauthenticated after one argon2 verification, so neither the answer
    nor its timing says which part was wrong.
    """
    matches = hashing.password_matches(password, found.password_hash if found else None)
    if found is None or found.disabled or not matches:
        raise Unauthenticated("the email or password is not right")
    return Principal(email=found.email, role=found.role, user_id=found.user_id)


def session_user(uow: UnitOfWork, user_id: int) -> Principal:
    """The user a console session names, read afresh: a disabled user is out at once."""
    found = store.session_user(uow, user_id)  # the page's clock comes with it
    if found is None:
        raise Unauthenticated("the session has ended; sign in again")
    email, role = found
    return Principal(email=email, role=Role(role), user_id=user_id)


def authenticate(uow: UnitOfWork, token: str) -> Principal:
    """The user a bearer token speaks for, read afresh on every request."""
    if not token or len(token) > TOKEN_MAX or not token.isascii():
        raise Unauthenticated("the bearer token is not valid")
    found = store.token_owner(uow, hashing.token_hash(token))  # and the call's clock
    if found is None:  # unknown, revoked and disabled look alike to the caller
        raise Unauthenticated("the bearer token is not valid")
    email, role, token_id = found
    return Principal(email=email, role=Role(role), token_id=token_id)


def add_user(uow: UnitOfWork, email: str, *, role: str, password_hash: str | None) -> User:
    """Create a user; a second user with the same email is refused."""
    values = {
        "email": account_email(email),
        "role": v.enum_value(Role, role, "role").value,
        "password_hash": password_hash,
        "disabled": False,
        "created_at": uow.now,
    }
    user = store.insert_user(uow.conn, values)
    if user is None:
        raise DuplicateUser(f"user {values['email']} already exists")
    return user


def users(uow: UnitOfWork) -> list[User]:
    """Every user, by email."""
    return store.users(uow.conn)


def disable_user(uow: UnitOfWork, email: str) -> User:
    """Refuse the user's tokens from their next request on (the rows stay, for the record)."""
    email = account_email(email)
    user = store.disable_user(uow.conn, email)
    if user is None:
        raise NotFound(f"user {email} not found")
    return user


def create_token(uow: UnitOfWork, email: str, *, name: str | None = None) -> NewToken:
    """Make a token for an enabled user; the caller shows it once."""
    name = v.text(name, "token name", max_length=NAME_MAX)
    email = account_email(email)
    user = store.user_by_email(uow.conn, email)
    if user is None:
        raise NotFound(f"user {email} not found")
    if user.disabled:
        raise AccountDisabled(f"user {user.email} is disabled")
    token = hashing.new_token()
    values = {"user_id": user.id, "name": name, "token_hash": hashing.token_hash(token)}
    return NewToken(id=store.insert_token(uow.conn, {"created_at": uow.now, **values}), token=token)


def tokens(uow: UnitOfWork) -> list[ApiToken]:
    """Every token ever made, oldest first, with its user's email."""
    return store.tokens(uow.conn)


def revoke_token(uow: UnitOfWork, token_id: int) -> ApiToken:
    """Refuse the token from its next request on; revoking twice keeps the first time."""
    token_id = v.positive_id(token_id, "token id")
    token = store.revoke_token(uow.conn, token_id, uow.now)
    if token is None:
        raise NotFound(f"token {token_id} not found")
    return token
