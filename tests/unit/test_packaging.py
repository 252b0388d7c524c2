"""The compose stack and the image hold together: checked from the files, no engine.

scripts/check-compose (run by .ci/run) checks that compose itself accepts the file.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from config.celery_app import WORKER_OPTIONS

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = ("migrate", "worker", "beat", "web")


def compose() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return services


def test_the_app_services_share_one_image_and_the_env_file() -> None:
    services = compose()
    assert {services[name]["image"] for name in APP_SERVICES} == {"ied-workflow:local"}
    assert all(services[name]["env_file"] == ["compose.env"] for name in APP_SERVICES)
    assert (ROOT / "compose.env").exists()
    assert "PASSWORD" not in (ROOT / "compose.env").read_text().replace("postgres:postgres", "")


def test_each_service_waits_for_what_it_needs_and_no_more() -> None:
    services = compose()
    assert set(services["migrate"]["depends_on"]) == {"postgres"}
    for name in ("worker", "beat"):
        assert {"postgres", "redis", "migrate"} <= set(services[name]["depends_on"])
    assert set(services["web"]["depends_on"]) == {"postgres", "migrate"}


def test_worker_and_beat_have_healthchecks() -> None:
    services = compose()
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])
    assert services["beat"]["healthcheck"]["test"][-3:] == ["-m", "workers.health", "beat"]


def test_the_worker_runs_with_the_options_the_app_gives_reasons_for() -> None:
    # Given the worker options config/celery_app.py explains (no gossip, mingle, heartbeat)
    # Then the compose worker and the README's command carry each, as the tests' workers do
    command = compose()["worker"]["command"]
    assert set(WORKER_OPTIONS) <= set(command)
    readme = (ROOT / "README.md").read_text()
    started = [line for line in readme.splitlines() if "celery -A workers worker" in line]
    assert started and all(option in started[0] for option in WORKER_OPTIONS)


def test_every_image_is_pinned() -> None:
    for name, service in compose().items():
        if name not in APP_SERVICES:
            assert re.fullmatch(r"[\w./-]+:[\w.-]+", service["image"]), name
            assert not service["image"].endswith(":latest"), name


def test_the_dockerfile_installs_pinned_dependencies_and_checks_health() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -c constraints.txt ." in dockerfile
    assert "HEALTHCHECK" in dockerfile and "--help" not in dockerfile
    assert "-c constraints.txt" in (ROOT / "scripts/test").read_text()


def test_constraints_pin_every_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    names = {re.split(r"[\[<>=!~ ]", spec, maxsplit=1)[0].lower() for spec in wanted}
    pinned = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    assert names <= pinned, names - pinned
