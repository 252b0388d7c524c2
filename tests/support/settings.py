"""Settings for a test, and the same settings as IED_* variables for a subprocess."""

from __future__ import annotations

import json
from datetime import time
from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from config.settings import Settings


class _GivenSettings(Settings):
    """Settings from the given values alone: not this process's environment, no .env file."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def build_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings from these values and the defaults only: IED_* variables of the test
    process and a .env file are ignored, so a developer's shell cannot change a test."""
    return _GivenSettings.model_validate({"database_url": database_url, **overrides})


def settings_environ(settings: Settings) -> dict[str, str]:
    """Every setting as the IED_* variable a subprocess reads it from (unset when None),
    so that a product process started with them has exactly `settings`."""
    env = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is not None:
            env[f"IED_{name.upper()}"] = _as_variable(value)
    return env


def _as_variable(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)  # the CommaList settings
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)
