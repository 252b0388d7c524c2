"""The Python API's account calls: users, tokens and who a request speaks for."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ied_workflow import accounts
from ied_workflow.domain import Role
from ied_workflow.facade import Facade

R = TypeVar("R")


class AccountCalls(Facade):
    """Accounts: who may call the HTTP API and sign in to the console."""

    def add_user(self, email: str, *, role: str, password: str | None = None) -> accounts.User:
        """Create a user; the password (if any) is hashed before the transaction opens."""
        hashed = None if password is None else accounts.hash_password(password)
        return self.run(lambda uow: accounts.add_user(uow, email, role=role, password_hash=hashed))

    def users(self) -> list[accounts.User]:
        return self.run(accounts.users)

    def disable_user(self, email: str) -> accounts.User:
        return self.run(lambda uow: accounts.disable_user(uow, email))

    def create_token(self, email: str, *, name: str | None = None) -> accounts.NewToken:
        return self.run(lambda uow: accounts.create_token(uow, email, name=name))

    def tokens(self) -> list[accounts.ApiToken]:
        return self.run(accounts.tokens)

    def revoke_token(self, token_id: int) -> accounts.ApiToken:
        return self.run(lambda uow: accounts.revoke_token(uow, token_id))

    def sign_in(self, email: str, password: str) -> accounts.Principal:
        """The user an email and password speak for (argon2 runs after the transaction)."""
        found = self.run(lambda uow: accounts.credentials(uow, email))
        return accounts.sign_in(found, password)

    def session_user(self, user_id: int) -> accounts.Principal:
        """The enabled user a console session names; raises Unauthenticated otherwise."""
        return self.run(lambda uow: accounts.session_user(uow, user_id))

    def authenticate(self, token: str) -> accounts.Principal:
        """The user a bearer token speaks for; raises Unauthenticated otherwise."""
        return self.run(lambda uow: accounts.authenticate(uow, token))

    def acting(self, token: str, needed: Role, action: Callable[[accounts.Principal], R]) -> R:
        """Check a bearer token and its role, then run `action` in the same unit of work.

        The `Workflow` calls `action` makes join that transaction (`Facade.together`):
        the token is still read on every request, and a refused caller changes nothing.
        """
        return self.together(lambda uow: action(accounts.authenticate(uow, token).allowed(needed)))
