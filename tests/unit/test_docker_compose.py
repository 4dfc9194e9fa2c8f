"""The deployment files agree with the code: every compose command parses with the real `eddy` CLI.

No Docker engine runs here, so the checks are static but strict: each Eddy
service's effective argv (the image's ENTRYPOINT plus its `command:`) goes
through `build_parser()`, the addresses the services give each other point
at real services and ports, and the Dockerfile copies only files that exist
and everything the package needs.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shlex
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from eddy.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]


def _dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def _context(service: dict[str, Any]) -> Path:
    return (DOCKER / service["build"]["context"]).resolve()


def _dockerfile(service: dict[str, Any]) -> Path:
    return _context(service) / service["build"]["dockerfile"]


EDDY_SERVICES = {name: s for name, s in SERVICES.items() if "build" in s}
DOCKERFILE = _dockerfile(next(iter(EDDY_SERVICES.values())))
INSTRUCTIONS = _dockerfile_instructions(DOCKERFILE)


def _entrypoint() -> list[str]:
    entrypoints = [json.loads(args) for word, args in INSTRUCTIONS if word == "ENTRYPOINT"]
    assert entrypoints, "the Dockerfile has no ENTRYPOINT"
    return list(entrypoints[-1])


def _argv(service: dict[str, Any]) -> list[str]:
    """What the container runs: the entrypoint (the service's override, else the image's) and the command."""
    return _words(service.get("entrypoint", _entrypoint())) + _words(service.get("command", []))


def _words(value: str | list[str]) -> list[str]:
    return shlex.split(value) if isinstance(value, str) else list(value)


def _parse(name: str) -> argparse.Namespace:
    argv = _argv(SERVICES[name])
    assert argv[0] == "eddy", f"{name} runs {argv[0]!r}, not eddy"
    try:
        return build_parser().parse_args(argv[1:])
    except SystemExit as exc:  # argparse reports bad flags by exiting
        raise AssertionError(f"`{shlex.join(argv)}` of service {name} does not parse: exit {exc.code}") from exc


def _by_role(role: str) -> dict[str, argparse.Namespace]:
    return {name: args for name in EDDY_SERVICES if (args := _parse(name)).command == role}


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


def _service_with_image(prefix: str) -> str:
    names = [n for n, s in SERVICES.items() if str(s.get("image", "")).split("/")[-1].startswith(prefix)]
    assert len(names) == 1, f"expected one {prefix} service, found {names}"
    return names[0]


def _meta() -> str:
    (name,) = _by_role("meta")
    return name


@pytest.mark.parametrize("name", sorted(EDDY_SERVICES))
def test_every_eddy_command_parses_with_the_real_cli(name: str) -> None:
    args = _parse(name)
    assert args.command in {"meta", "compute", "frontend", "compactor"}


def test_the_cluster_has_its_roles() -> None:
    roles = Counter(_parse(name).command for name in EDDY_SERVICES)
    assert roles == {"meta": 1, "frontend": 1, "compute": 2, "compactor": 1}
    assert set(_by_role("compute")) == {"compute-1", "compute-2"}


def test_every_meta_address_points_at_the_meta_service() -> None:
    meta = _meta()
    host, port = _host_port(_parse(meta).listen)
    assert host == "0.0.0.0", "meta must listen on all interfaces to be reachable from other containers"
    others = [name for name in EDDY_SERVICES if name != meta]
    assert others
    for name in others:
        url = urlsplit(_parse(name).meta)
        assert (url.scheme, url.hostname, url.port) == ("http", meta, port), f"{name}: --meta {url.geturl()}"


def test_meta_keeps_its_state_in_the_postgres_service() -> None:
    meta, postgres = _meta(), _service_with_image("postgres")
    env = SERVICES[postgres]["environment"]
    url = urlsplit(_parse(meta).meta_store)
    assert url.scheme in {"postgresql", "postgres"}
    assert (url.hostname, url.port or 5432) == (postgres, 5432)
    assert (url.username, url.password, url.path.lstrip("/")) == (
        env["POSTGRES_USER"], env["POSTGRES_PASSWORD"], env["POSTGRES_DB"])
    assert SERVICES[meta]["depends_on"][postgres] == {"condition": "service_healthy"}


def test_state_lives_in_a_bucket_of_the_minio_service() -> None:
    minio, meta = _service_with_image("minio"), _meta()
    args = _parse(meta)
    store = urlsplit(args.object_store)
    assert store.scheme == "s3" and store.hostname and store.path.strip("/")
    endpoint = urlsplit(args.s3_endpoint)
    assert (endpoint.scheme, endpoint.hostname, endpoint.port) == ("http", minio, 9000)
    assert ":9000" in _argv(SERVICES[minio])  # the port it serves S3 on
    # A one-shot mc service creates that bucket before meta starts.
    init = next(n for n, s in SERVICES.items() if "/mc:" in str(s.get("image", "")))
    assert _argv(SERVICES[init])[-1] == f"minio/{store.hostname}"
    assert "mb" in _argv(SERVICES[init])
    assert SERVICES[meta]["depends_on"][init] == {"condition": "service_completed_successfully"}
    mc_host = urlsplit(SERVICES[init]["environment"]["MC_HOST_minio"])
    root = SERVICES[minio]["environment"]
    assert (mc_host.hostname, mc_host.port) == (minio, 9000)
    assert (mc_host.username, mc_host.password) == (root["MINIO_ROOT_USER"], root["MINIO_ROOT_PASSWORD"])


@pytest.mark.parametrize("name", sorted(EDDY_SERVICES))
def test_every_eddy_service_has_the_s3_credentials(name: str) -> None:
    root = SERVICES[_service_with_image("minio")]["environment"]
    env = SERVICES[name]["environment"]
    assert env["AWS_ACCESS_KEY_ID"] == root["MINIO_ROOT_USER"]
    assert env["AWS_SECRET_ACCESS_KEY"] == root["MINIO_ROOT_PASSWORD"]
    assert env["AWS_REGION"]


def test_each_compute_node_advertises_its_own_service() -> None:
    for name, args in _by_role("compute").items():
        host, port = _host_port(args.listen)
        assert host == "0.0.0.0"
        assert args.advertise == f"{name}:{port}"


def test_the_frontend_publishes_the_postgres_port() -> None:
    (name, args), = _by_role("frontend").items()
    host, port = _host_port(args.listen)
    assert (host, port) == ("0.0.0.0", 4566)
    assert f"{port}:{port}" in SERVICES[name]["ports"]


def test_servers_have_healthchecks_on_their_ports_and_wait_for_meta() -> None:
    listeners = {name: _host_port(args.listen)[1] for name in EDDY_SERVICES
                 if (args := _parse(name)).command in {"meta", "compute", "frontend"}}
    for name, port in listeners.items():
        probe = " ".join(SERVICES[name]["healthcheck"]["test"])
        assert f"'127.0.0.1', {port})" in probe, f"{name}'s healthcheck does not probe port {port}"
    meta = _meta()
    for name in set(EDDY_SERVICES) - {meta}:
        assert SERVICES[name]["depends_on"][meta] == {"condition": "service_healthy"}
    for name in (_service_with_image("postgres"), _service_with_image("minio")):
        assert SERVICES[name]["healthcheck"]["test"]


def test_the_dockerfile_copies_existing_files_and_everything_the_package_needs() -> None:
    context = _context(next(iter(EDDY_SERVICES.values())))
    assert context == ROOT and DOCKERFILE.is_file()
    assert [args for word, args in INSTRUCTIONS if word == "FROM"] == ["python:3.11-slim"]
    ignored = [p for p in (DOCKERFILE.parent / f"{DOCKERFILE.name}.dockerignore").read_text().splitlines()
               if p and not p.startswith("#")]
    copied: set[str] = set()
    for word, args in INSTRUCTIONS:
        if word in {"COPY", "ADD"}:
            *sources, _dest = args.split()
            for src in sources:
                assert (context / src).exists(), f"COPY {src}: no such file in the build context"
                assert not any(fnmatch.fnmatch(src, pat) for pat in ignored), f"COPY {src} is dockerignored"
                copied.add(src.rstrip("/"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages | {"pyproject.toml", project["project"]["readme"]} <= copied
    assert project["project"]["scripts"]["eddy"] == "eddy.cli:main"
    assert _entrypoint() == ["eddy"]
    users = [args for word, args in INSTRUCTIONS if word == "USER"]
    assert users and users[-1] not in {"root", "0"}
