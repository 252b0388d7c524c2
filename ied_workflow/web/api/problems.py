"""RFC 9457 problem details: every error the API answers, and nothing more.

Each error class of `ied_workflow.errors` maps to one status and one problem type,
so a client can branch on `type` (which rule refused) instead of parsing `detail`.
No stack trace, SQL or exception text from a library ever reaches a response.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from ied_workflow import errors as e

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:ied-workflow:problem:"  # stable across deployments, unlike a URL
log = logging.getLogger(__name__)

# First match wins: subclasses before their bases.
KINDS: list[tuple[type[Exception], int, str, str]] = [
    (e.Unauthenticated, 401, "unauthenticated", "Authentication required"),
    (e.PermissionDenied, 403, "forbidden", "Not allowed for this role"),
    (e.NotFound, 404, "not-found", "Not found"),
    (e.VersionMismatch, 412, "version-mismatch", "The follow-up has changed"),
    (e.TransitionNotAllowed, 409, "transition-not-allowed", "Transition not allowed"),
    (e.GuardFailed, 409, "guard-failed", "A precondition of the contract is not met"),
    (e.DuplicateFollowUp, 409, "duplicate-follow-up", "The lead already has its follow-up"),
    (e.LeadNotEligible, 409, "lead-not-eligible", "The lead may not have a follow-up"),
    (e.RuleViolation, 409, "rule-violation", "Refused by a rule"),
    (e.ConcurrentModification, 409, "concurrent-modification", "Changed concurrently; retry"),
    (e.ValidationError, 422, "invalid-input", "Invalid input"),
]


class FieldProblem(BaseModel):
    """One invalid field of a 422: where, and what is wrong (never the value sent)."""

    location: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem; the extensions appear only where they apply."""

    model_config = ConfigDict(extra="forbid")

    type: str
    title: str
    status: int
    detail: str
    followUpId: int | None = None
    currentVersion: int | None = None
    errors: list[FieldProblem] | None = None  # 422 from request validation


def problem_type(slug: str) -> str:
    return TYPE_BASE + slug


def response(
    status: int,
    slug: str | None,
    detail: str,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem+json response; `slug` None is RFC 9457's about:blank (plain HTTP status)."""
    body = Problem(
        type="about:blank" if slug is None else problem_type(slug),
        title=title or HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        **extensions,
    )
    content = body.model_dump(exclude_none=True, mode="json")
    return JSONResponse(content, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def from_error(error: e.IedWorkflowError) -> JSONResponse:
    """The problem for one of our errors; the message is already one safe line."""
    for kind, status, slug, title in KINDS:
        if isinstance(error, kind):
            return response(status, slug, str(error), title=title, **_extensions(error))
    log.error("unmapped error %s: %s", type(error).__name__, error)
    return response(500, "internal-error", "the server could not complete the request")


def _extensions(error: e.IedWorkflowError) -> dict[str, Any]:
    if isinstance(error, e.Unauthenticated):
        return {"headers": {"WWW-Authenticate": 'Bearer realm="ied-workflow"'}}
    if isinstance(error, e.DuplicateFollowUp):
        return {"followUpId": error.follow_up_id}
    if isinstance(error, e.VersionMismatch):
        version = error.current_version
        return {"currentVersion": version, "headers": {"ETag": f'"{version}"'}}
    return {}


async def _ours(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, e.IedWorkflowError)
    return from_error(error)


async def _invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    fields = [_field(item) for item in error.errors()]
    detail = "; ".join(f"{f.location}: {f.message}" for f in fields[:3])
    return response(422, "invalid-input", detail or "invalid input", errors=fields)


def _field(item: Any) -> FieldProblem:
    location = ".".join(str(part) for part in item.get("loc", ()))
    return FieldProblem(location=location, message=str(item.get("msg", "invalid")))


async def _http(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own refusals (no such route, method not allowed, body too large)."""
    assert isinstance(error, HTTPException)
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    slug = "body-too-large" if error.status_code == 413 else None
    return response(error.status_code, slug, detail, headers=error.headers)


async def _database(request: Request, error: Exception) -> JSONResponse:
    """The database did not answer: say so, log the cause, show no SQL."""
    log.warning("database unavailable: %s", str(getattr(error, "orig", error)).splitlines()[0])
    return response(503, "database-unavailable", "the database is not answering; retry later")


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return response(500, "internal-error", "the server could not complete the request")


def install(app: FastAPI) -> None:
    """Answer every error as problem+json."""
    app.add_exception_handler(e.IedWorkflowError, _ours)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(Exception, _unexpected)
