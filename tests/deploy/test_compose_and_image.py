"""deploy/compose.yaml and deploy/Dockerfile, checked without a Docker engine: the compose file
against the Compose Specification's JSON schema (vendored by `check-jsonschema`, nothing is
downloaded) plus the wiring a schema cannot see; the Dockerfile parsed by `dockerfile-parse`."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from dockerfile_parse import DockerfileParser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def compose_schema() -> dict[str, Any]:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(vendored.read_text())


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(compose_schema())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    assert schema_errors(compose) == []


def test_a_broken_compose_file_is_refused(compose: dict[str, Any]) -> None:
    compose["services"]["worker"]["depends_on"]["migrate"]["condition"] = "service_finished"
    compose["services"]["web"]["ports"] = [{"published": "8000", "targt": 8000}]
    assert len(schema_errors(compose)) >= 2


def test_compose_runs_the_whole_stack_in_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "temporal", "temporal-ui", "migrate", "worker", "web"}
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown service {dependency}"
    # Temporal's published images, persisting to PostgreSQL, pinned.
    assert re.fullmatch(r"temporalio/auto-setup:\d+\.\d+\.\d+", services["temporal"]["image"])
    assert services["temporal"]["environment"]["DB"] == "postgres12"
    assert re.fullmatch(r"temporalio/ui:\d+\.\d+\.\d+", services["temporal-ui"]["image"])
    # One image, three commands; the app waits for a finished migration and a healthy Temporal.
    assert services["migrate"]["command"] == ["db", "upgrade"] and services["migrate"]["restart"] == "no"
    for name in ("worker", "web"):
        assert services[name]["command"] == [name]
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["temporal"]["condition"] == "service_healthy"
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"])
        env = services[name]["environment"]
        assert env["LEARNINGDAY_TEMPORAL_ADDRESS"] == "temporal:7233"
        assert env["LEARNINGDAY_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert services[name]["env_file"] == [{"path": ".env", "required": False}]
    assert all("healthcheck" in services[name] for name in ("postgres", "temporal"))


def test_compose_policy_default_exists(compose: dict[str, Any]) -> None:
    (mount,) = compose["services"]["worker"]["volumes"]
    default = re.search(r":-([^}]+)}", mount).group(1)  # type: ignore[union-attr]
    assert (DEPLOY / default).resolve().is_file()


@pytest.fixture
def dockerfile() -> DockerfileParser:
    parser = DockerfileParser(path=str(DEPLOY / "Dockerfile"))
    return parser


def test_image_builds_from_a_pinned_base_and_runs_unprivileged(dockerfile: DockerfileParser) -> None:
    bases = [i["value"].split()[0] for i in dockerfile.structure if i["instruction"] == "FROM"]
    assert bases and all(re.fullmatch(r"python:3\.11\.\d+-slim-\w+", b) for b in bases), bases
    users = [i["value"] for i in dockerfile.structure if i["instruction"] == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_image_has_web_by_default_and_worker_as_a_command(dockerfile: DockerfileParser) -> None:
    last = {i["instruction"]: i["value"] for i in dockerfile.structure}
    assert json.loads(last["ENTRYPOINT"]) == ["learningday"]
    assert json.loads(last["CMD"]) == ["web"]
    assert "'.[postgres]'" in last["RUN"] or any(".[postgres]" in i["value"] for i in dockerfile.structure)


def test_image_copies_only_what_exists(dockerfile: DockerfileParser) -> None:
    for instruction in dockerfile.structure:
        if instruction["instruction"] == "COPY" and "--from" not in instruction["value"]:
            *sources, _ = instruction["value"].split()
            for source in sources:
                assert (ROOT / source).exists(), f"Dockerfile line {instruction['startline'] + 1}: {source} is missing"
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert ".env" in ignored and ".venv" in ignored and ".git" in ignored
