"""Offline checks of docker-compose.yml, the Dockerfile and .dockerignore.

Neither this machine nor CI has a Docker engine, so the compose file is validated against the
official Compose Specification JSON Schema, vendored in deploy/compose-spec.schema.json (from
github.com/compose-spec/compose-spec, schema/compose-spec.json), plus the properties the stack
relies on: references between services, the worker's wiring, pinned images.
"""

from __future__ import annotations

import copy
import json
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = ROOT / "deploy" / "compose-spec.schema.json"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)  # the spec declares draft-07


def _schema_errors(document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in _validator().iter_errors(document)
    ]


def _env(service: dict[str, Any]) -> dict[str, str]:
    """`environment` as a dict, whether written as a mapping or as a list of KEY=VAL."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {key: "" if value is None else str(value) for key, value in raw.items()}


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    """`depends_on` as {service: condition}; the short list form means service_started."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return dict.fromkeys(raw, "service_started")
    return {name: spec["condition"] for name, spec in raw.items()}


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    return instructions


# --- the schema itself -------------------------------------------------------------------------


def test_vendored_schema_is_the_compose_specification() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["title"] == "Compose Specification"
    assert {"service", "healthcheck", "deployment", "volume"} <= schema["definitions"].keys()


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    errors = _schema_errors(_compose())
    assert not errors, "docker-compose.yml violates the Compose Specification:\n" + "\n".join(errors)


def _unknown_service_key(doc: dict[str, Any]) -> None:
    doc["services"]["worker"]["replicas"] = 3  # belongs under deploy:, not on the service


def _ports_not_a_list(doc: dict[str, Any]) -> None:
    doc["services"]["temporal-ui"]["ports"] = "abc"


def _bad_depends_on_condition(doc: dict[str, Any]) -> None:
    doc["services"]["worker"]["depends_on"]["temporal"]["condition"] = "service_ready"


def _unknown_top_level_key(doc: dict[str, Any]) -> None:
    doc["service"] = doc.pop("services")


@pytest.mark.parametrize(
    "break_it",
    [_unknown_service_key, _ports_not_a_list, _bad_depends_on_condition, _unknown_top_level_key],
)
def test_schema_validation_rejects_broken_variants(break_it: Any) -> None:
    broken = copy.deepcopy(_compose())
    break_it(broken)
    assert _schema_errors(broken), f"{break_it.__name__} was accepted by the schema"


# --- references between services ---------------------------------------------------------------


def test_every_dependency_exists_and_health_conditions_have_healthchecks() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for dependency, condition in _depends_on(service).items():
            assert dependency in services, f"{name} depends on undefined service {dependency!r}"
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], (
                    f"{name} waits for {dependency} to be healthy, but it has no healthcheck"
                )


def test_databases_have_healthchecks_and_named_volumes() -> None:
    compose = _compose()
    services, volumes = compose["services"], compose.get("volumes") or {}
    for name in ("postgresql", "appeals-db"):
        service = services[name]
        assert service["image"] == "postgres:16"
        assert "healthcheck" in service
        mounts = [v.split(":", 1) for v in service["volumes"]]
        assert any(source in volumes and target == "/var/lib/postgresql/data" for source, target in mounts), (
            f"{name} does not keep its data in a named volume"
        )
    assert _env(services["appeals-db"])["POSTGRES_DB"] == "appeals"


def test_images_are_pinned() -> None:
    for name, service in _compose()["services"].items():
        if "build" in service:
            continue
        image = service["image"]
        _, _, tag = image.rpartition(":")
        assert "/" not in tag and tag and tag != "latest", f"{name}: pin a version, not {image}"


# --- Temporal ----------------------------------------------------------------------------------


def test_temporal_server_runs_on_postgres_with_the_dynamic_config() -> None:
    services = _compose()["services"]
    temporal = services["temporal"]
    assert temporal["image"].startswith("temporalio/auto-setup:")
    env = _env(temporal)
    assert env["DB"] == "postgres12"
    assert services[env["POSTGRES_SEEDS"]]["image"].startswith("postgres:")
    assert env.get("DEFAULT_NAMESPACE", "default") == "default"

    mounted = {}
    for volume in temporal["volumes"]:
        source, target, *_ = volume.split(":")
        mounted[target] = ROOT / source
    config_target = "/etc/temporal/" + env["DYNAMIC_CONFIG_FILE_PATH"]
    assert config_target in mounted, "DYNAMIC_CONFIG_FILE_PATH does not point at the mounted file"
    dynamic_config = yaml.safe_load(mounted[config_target].read_text(encoding="utf-8"))
    assert isinstance(dynamic_config, dict) and dynamic_config
    for key, entries in dynamic_config.items():
        assert isinstance(entries, list) and all("value" in e for e in entries), key


def test_temporal_ui_points_at_the_server() -> None:
    services = _compose()["services"]
    ui = services["temporal-ui"]
    assert ui["image"].startswith("temporalio/ui:")
    host, _, port = _env(ui)["TEMPORAL_ADDRESS"].partition(":")
    assert host in services and services[host]["image"].startswith("temporalio/")
    assert port == "7233"
    assert any(str(p).endswith("8080:8080") for p in ui["ports"])


# --- nothing published beyond this machine; the codec server -----------------------------------


def _published(service: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    """(host ip, host port, container port) of each `ports` entry, short or long syntax."""
    published = []
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            published.append((entry.get("host_ip"), str(entry.get("published", "")), str(entry["target"])))
            continue
        parts = str(entry).rsplit(":", 2)
        host_ip = parts[0] if len(parts) == 3 else None
        published.append((host_ip, parts[-2] if len(parts) >= 2 else "", parts[-1]))
    return published


def test_every_published_port_binds_localhost_only():
    services = _compose()["services"]
    for name, service in services.items():
        for host_ip, host_port, _ in _published(service):
            assert host_ip == "127.0.0.1", f"{name} publishes {host_port} on all interfaces"
    published = {name: _published(service) for name, service in services.items() if service.get("ports")}
    assert published == {
        "temporal": [("127.0.0.1", "7233", "7233")],
        "temporal-ui": [("127.0.0.1", "8080", "8080")],
        "codec-server": [("127.0.0.1", "8081", "8081")],
    }


def _secret_files(compose: dict[str, Any], service: dict[str, Any]) -> dict[str, Path]:
    """Where each secret a service reads is mounted (/run/secrets/<name>), and its host file."""
    files = {}
    for secret in service.get("secrets") or []:
        name = secret if isinstance(secret, str) else secret["source"]
        target = name if isinstance(secret, str) else secret.get("target", name)
        files[f"/run/secrets/{target}"] = ROOT / compose["secrets"][name]["file"]
    return files


def test_the_codec_server_runs_with_keys_and_credentials_from_secrets():
    compose = _compose()
    services = compose["services"]
    codec = services["codec-server"]
    assert codec["build"] == services["worker"]["build"] and codec["image"] == services["worker"]["image"]
    command = codec["command"]
    assert (shlex.split(command) if isinstance(command, str) else command) == ["python", "codec_server.py"]
    env = _env(codec)
    [(_, host_port, container_port)] = _published(codec)
    assert env["APPEALS_CODEC_PORT"] == container_port
    # CORS answers the UI's origin only: the one its published port gives the browser.
    [(_, ui_port, _)] = _published(services["temporal-ui"])
    assert env["APPEALS_CODEC_CORS_ORIGINS"] == f"http://localhost:{ui_port}"
    files = _secret_files(compose, codec)
    assert env["APPEALS_CODEC_KEYS_FILE"] in files and env["APPEALS_CODEC_TOKENS_FILE"] in files
    assert "APPEALS_CODEC_KEYS" not in env and "APPEALS_CODEC_TOKENS" not in env, "no secret inline"
    assert codec["healthcheck"]["test"][-1].endswith(f"{container_port}/healthz')")

    # The UI decodes through it, sending the browser's session cookie.
    ui = _env(services["temporal-ui"])
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == f"http://localhost:{host_port}"
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"


def test_workers_and_the_codec_server_share_the_payload_keys():
    compose = _compose()
    services = compose["services"]
    worker, codec = services["worker"], services["codec-server"]
    worker_keys = _secret_files(compose, worker)[_env(worker)["APPEALS_CODEC_KEYS_FILE"]]
    codec_keys = _secret_files(compose, codec)[_env(codec)["APPEALS_CODEC_KEYS_FILE"]]
    assert worker_keys == codec_keys
    assert "appeals-codec-tokens" not in (worker.get("secrets") or []), "workers never need the codec credentials"


def test_secret_files_stay_out_of_the_repository_and_the_image():
    compose = _compose()
    secrets_dir = ROOT / "deploy" / "secrets"
    for name, secret in compose["secrets"].items():
        path = (ROOT / secret["file"]).resolve()
        assert path.parent == secrets_dir, f"{name}: keep secret files in deploy/secrets/"
    ignored = (secrets_dir / ".gitignore").read_text().split()
    assert "*" in ignored and "!.gitignore" in ignored
    tracked = subprocess.run(
        ["git", "ls-files", "deploy/secrets"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    assert tracked in ([], ["deploy/secrets/.gitignore"]), f"secrets committed: {tracked}"
    copied = [args for keyword, args in _dockerfile_instructions() if keyword == "COPY"]
    assert not any("deploy" in args for args in copied)


# --- the worker --------------------------------------------------------------------------------


def test_worker_is_built_from_the_repository_dockerfile() -> None:
    worker = _compose()["services"]["worker"]
    build = worker["build"]
    context = build if isinstance(build, str) else build["context"]
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (ROOT / context).resolve() == ROOT
    assert (ROOT / context / dockerfile).resolve() == DOCKERFILE
    assert DOCKERFILE.is_file()
    command = worker.get("command")
    command = shlex.split(command) if isinstance(command, str) else command
    assert command == ["python", "worker.py"]


def test_worker_environment_points_at_services_in_this_file() -> None:
    services = _compose()["services"]
    worker = services["worker"]
    env = _env(worker)

    temporal_host, _, temporal_port = env["TEMPORAL_ADDRESS"].partition(":")
    assert temporal_host in services and temporal_port == "7233"
    assert services[temporal_host]["image"].startswith("temporalio/auto-setup:")
    assert env["TEMPORAL_NAMESPACE"] == _env(services[temporal_host]).get("DEFAULT_NAMESPACE", "default")
    assert env["APPEALS_TASK_QUEUE"] == "appeals"
    assert env["APPEALS_NOTIFIER"] == "log"
    assert env["APPEALS_METRICS_PORT"] == "9464"

    url = urlsplit(env["APPEALS_DATABASE_URL"])
    assert url.scheme in {"postgresql", "postgres"}
    assert url.hostname in services, f"database host {url.hostname!r} is not a service"
    db_env = _env(services[url.hostname])
    assert (url.username, url.password, url.path.lstrip("/")) == (
        db_env["POSTGRES_USER"],
        db_env["POSTGRES_PASSWORD"],
        db_env["POSTGRES_DB"],
    )
    assert _depends_on(worker) == {
        temporal_host: "service_healthy",
        url.hostname: "service_healthy",
    }


def test_worker_scales_horizontally() -> None:
    worker = _compose()["services"]["worker"]
    assert int(worker["deploy"]["replicas"]) >= 2
    # A fixed container name or host port would make a second replica fail to start.
    assert "container_name" not in worker
    assert "ports" not in worker


# --- Dockerfile and .dockerignore --------------------------------------------------------------


def test_dockerfile_runs_the_worker_as_a_non_root_user() -> None:
    instructions = _dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    assert instructions[0] == ("FROM", "python:3.11-slim")
    cmds = [args for keyword, args in instructions if keyword == "CMD"]
    assert cmds and json.loads(cmds[-1]) == ["python", "worker.py"]
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert keywords.index("USER") < keywords.index("CMD")
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    assert any("pip install --no-cache-dir ." in run for run in runs)
    assert not any("[embedded]" in run for run in runs), "the image must not pull the embedded extra"


def test_dockerfile_copies_everything_the_package_build_needs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = project["tool"]["setuptools"]
    needed = {"pyproject.toml", project["project"]["readme"], "config"}
    needed |= set(setuptools.get("packages", []))
    needed |= {f"{module}.py" for module in setuptools.get("py-modules", [])}

    copied: set[str] = set()
    for keyword, args in _dockerfile_instructions():
        if keyword == "COPY":
            *sources, _destination = args.split()
            copied |= {s.rstrip("/") for s in sources if not s.startswith("--")}
    assert needed <= copied, f"Dockerfile does not COPY {sorted(needed - copied)}"

    ignored = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text().splitlines()}
    assert not needed & ignored, f".dockerignore excludes {sorted(needed & ignored)}"


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    for entry in (".venv", ".appeals-data", ".git", ".pytest_cache"):
        assert entry in ignored, entry
    assert {"__pycache__", "**/__pycache__"} & ignored
