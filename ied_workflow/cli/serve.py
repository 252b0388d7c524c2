"""`ied-workflow serve`: the HTTP API on uvicorn."""

from __future__ import annotations

from typing import Any

import typer

from config import logs
from config.settings import Settings, get_settings
from ied_workflow.db import engines
from ied_workflow.errors import ValidationError


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes."),
) -> None:
    """Run the HTTP API (/api/v1, /healthz, /readyz, /metrics); needs IED_SECRET_KEY."""
    settings = get_settings()
    secret = settings.secret_key
    if secret is None or not secret.get_secret_value().strip():
        raise ValidationError("IED_SECRET_KEY is not set: `serve` needs a long random secret")
    engines.require_database(settings.database_url)
    import uvicorn  # only this command needs the web stack loaded

    uvicorn.run(
        "ied_workflow.web.app:served_app",
        host=host,
        port=port,
        workers=workers,
        **uvicorn_options(settings),
    )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How `serve` runs uvicorn, beyond the app, the address and the workers; the
    benchmarks' least app (`benchmarks/least_app.py`) is served the same way."""
    return {
        "factory": True,  # each worker process builds its own app, engine and metrics
        "proxy_headers": True,
        "server_header": False,
        "log_config": logs.dict_config(settings),  # IED_LOG_LEVEL / IED_LOG_FORMAT, no secrets
    }
