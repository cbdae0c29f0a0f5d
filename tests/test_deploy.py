"""deploy/: the Dockerfile's order and user, .dockerignore, and compose's start-up contract.

There is no Docker engine where these tests run, so the images are not built here: the
files are parsed and checked for the properties a working deployment depends on.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.settings import HttpSettings

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def first(pred: Any) -> int:
    for i, (keyword, args) in enumerate(instructions()):
        if pred(keyword, args):
            return i
    raise AssertionError("instruction not found")


def test_dockerfile_installs_dependencies_before_copying_code() -> None:
    copy_manifest = first(lambda k, a: k == "COPY" and "pyproject.toml" in a)
    install_deps = first(lambda k, a: k == "RUN" and "-c constraints.txt" in a)
    copy_code = first(lambda k, a: k == "COPY" and a.split()[0] == "bot")
    install_code = first(lambda k, a: k == "RUN" and "--no-deps ." in a)
    assert copy_manifest < install_deps < copy_code < install_code
    manifest_sources = instructions()[copy_manifest][1].split()[:-1]
    assert set(manifest_sources) == {"pyproject.toml", "constraints.txt"}


def test_dockerfile_runs_as_a_user_checks_healthz_and_never_ingests_on_start() -> None:
    steps = instructions()
    user = first(lambda k, a: k == "USER")
    cmd = first(lambda k, a: k == "CMD")
    assert steps[user][1] not in ("root", "0") and user < cmd
    (health,) = [a for k, a in steps if k == "HEALTHCHECK"]
    assert "/healthz" in health and "CMD" in health
    command = json.loads(steps[cmd][1])
    assert command[:2] == ["careerbot", "serve"] and "ingest" not in " ".join(command)
    assert not any(k == "COPY" and ".env" in a.split() for k, a in steps)
    port = HttpSettings().port
    assert any(k == "EXPOSE" and a == str(port) for k, a in steps)
    assert f"CAREERBOT_HTTP__PORT={port}" in " ".join(a for k, a in steps if k == "ENV")


def test_dockerignore_keeps_secrets_and_caches_out_but_not_what_the_image_copies() -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in (".venv", ".env", ".git", ".careerbot", "**/__pycache__", ".mypy_cache"):
        assert needed in patterns, needed
    copied = {
        source
        for keyword, args in instructions()
        if keyword == "COPY"
        for source in args.split()[:-1]
    }
    assert copied and not copied & set(patterns), copied & set(patterns)
    assert "deploy" not in patterns  # the Dockerfile itself lives there


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yml").read_text())
    return loaded


def test_compose_waits_for_healthy_services_and_a_finished_ingest(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "chroma", "ingest", "careerbot"}
    for name in ("postgres", "chroma", "careerbot"):
        assert services[name]["healthcheck"]["test"], name
    bot = services["careerbot"]
    assert bot["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "chroma": {"condition": "service_healthy"},
        "ingest": {"condition": "service_completed_successfully"},
    }
    assert "ingest" not in bot["command"]
    ingest = services["ingest"]
    assert ingest["command"] == ["careerbot", "ingest"] and ingest["restart"] == "no"
    assert {d["condition"] for d in ingest["depends_on"].values()} == {"service_healthy"}


def test_compose_takes_secrets_from_env_and_can_scale_the_bot(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        assert "container_name" not in service, name  # would collide on --scale
        for key, value in (service.get("environment") or {}).items():
            value = str(value)
            if "PASSWORD" in key:
                pytest.fail(f"{name}: {key} set under environment:, put it in .env")
            # Interpolations (${VAR}, ${VAR:-default}) come from .env; anything else is literal.
            plain = re.sub(r"\$\{[^}]*\}", "VAR", value)
            password = re.search(r"://[^:/@]+:([^@]+)@", plain)
            if password:
                assert password.group(1) == "VAR", f"{name}: literal password in {key}"
    bot = services["careerbot"]
    assert "ports" not in bot  # a fixed host port would stop a second replica
    assert bot["env_file"] == "../.env" and services["postgres"]["env_file"] == "../.env"
    assert bot["environment"]["CAREERBOT_CHROMA__MODE"] == "http"
    assert bot["environment"]["CAREERBOT_DATABASE_URL"].startswith("postgresql+psycopg://")
    for name, service in services.items():
        image = service.get("image", "")
        if "build" not in service:
            assert ":" in image and not image.endswith(":latest"), f"{name}: unpinned image"


def test_every_extra_the_image_installs_is_pinned_in_constraints(compose: dict[str, Any]) -> None:
    extras = compose["services"]["careerbot"]["build"]["args"]["EXTRAS"].split(",")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pinned = {
        canonicalize_name(line.split("==")[0])
        for line in (REPO / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    for extra in extras:
        for requirement in project["optional-dependencies"][extra]:
            name = canonicalize_name(Requirement(requirement).name)
            assert name in pinned, f"extra {extra}: {name} is not pinned in constraints.txt"
    (default,) = [a for k, a in instructions() if k == "ARG" and a.startswith("EXTRAS=")]
    assert default.split("=", 1)[1].strip('"').split(",") == extras
