"""The Python API's account calls: users, tokens and who a request speaks for."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ied_workflow.accounts import hashing, use_cases
from ied_workflow.accounts.records import ApiToken, NewToken, Principal, User
from ied_workflow.domain import Role
from ied_workflow.workflow.base import WorkflowBase

R = TypeVar("R")


class AccountCalls(WorkflowBase):
    """Accounts: who may call the HTTP API and sign in to the console."""

    def add_user(self, email: str, *, role: str, password: str | None = None) -> User:
        """Create a user; the password (if any) is hashed before the transaction opens."""
        hashed = None if password is None else hashing.hash_password(password)
        return self.run(lambda uow: use_cases.add_user(uow, email, role=role, password_hash=hashed))

    def users(self) -> list[User]:
        return self.run(use_cases.users)

    def disable_user(self, email: str) -> User:
        return self.run(lambda uow: use_cases.disable_user(uow, email))

    def create_token(self, email: str, *, name: str | None = None) -> NewToken:
        return self.run(lambda uow: use_cases.create_token(uow, email, name=name))

    def tokens(self) -> list[ApiToken]:
        return self.run(use_cases.tokens)

    def revoke_token(self, token_id: int) -> ApiToken:
        return self.run(lambda uow: use_cases.revoke_token(uow, token_id))

    def sign_in(self, email: str, password: str) -> Principal:
        """The user an email and password speak for (argon2 runs after the transaction)."""
        found = self.run(lambda uow: use_cases.credentials(uow, email))
        return use_cases.sign_in(found, password)

    def session_user(self, user_id: int) -> Principal:
        """The enabled user a console session names; raises Unauthenticated otherwise."""
        return self.run(lambda uow: use_cases.session_user(uow, user_id))

    def authenticate(self, token: str) -> Principal:
        """The user a bearer token speaks for; raises Unauthenticated otherwise."""
        return self.run(lambda uow: use_cases.authenticate(uow, token))

    def acting(self, token: str, needed: Role, action: Callable[[Principal], R]) -> R:
        """Check a bearer token and its role, then run `action` in the same unit of work.

        The `Workflow` calls `action` makes join that transaction (`WorkflowBase.together`):
        the token is still read on every request, and a refused caller changes nothing.
        """
        return self.together(lambda uow: action(use_cases.authenticate(uow, token).allowed(needed)))
