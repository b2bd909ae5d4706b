"""Docker helpers for msdfix tests.

Plain module (no package-relative imports) so it imports both as ``tests.support.docker`` and
as ``support.docker``.

Tests that need a daemon call :func:`require_docker` (and :func:`require_images` for the
stand-in base images); both skip with a clear reason instead of passing silently.

Start a private daemon and the offline stand-in images with::

    eval "$(tests/support/dockerd.sh start)"
    tests/support/standins.sh node:18 python:3.12-slim

If ``DOCKER_HOST`` is unset and the default socket is missing, the socket of
``tests/support/dockerd.sh`` (``$MSDFIX_DOCKER_DIR/docker.sock``, default
``/tmp/msdfix-docker/docker.sock``) is used automatically.

Environment knobs: ``MSDFIX_DOCKER_CLI`` (client binary), ``MSDFIX_DOCKER_NETWORK`` (e.g.
``host``; passed as ``--network`` to ``docker build`` and ``docker run`` when set).
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUPPORT_DIR = Path(__file__).resolve().parent
DOCKERD_SH = SUPPORT_DIR / "dockerd.sh"
STANDINS_SH = SUPPORT_DIR / "standins.sh"
START_HINT = f'eval "$({DOCKERD_SH.relative_to(SUPPORT_DIR.parent.parent)} start)"'
DEFAULT_DOCKER_DIR = "/tmp/msdfix-docker"


RUN_ID = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
_SERIAL = itertools.count(1)


def unique_tag(name: str, variant: str = "latest") -> str:
    """``msdfix-test/NAME:VARIANT-<run id>-<n>``: never shared by two runs or two tests.

    Tests on one daemon (two CI runs, two helpers) must not build, inspect or remove each
    other's images; a fixed tag once vanished between ``docker run`` and ``docker inspect``.
    """
    repo = "".join(c if c.isalnum() or c in "._-/" else "-" for c in name.lower()).strip("-/.")
    return f"msdfix-test/{repo or 'image'}:{variant}-{RUN_ID}-{next(_SERIAL)}"


def docker_cli() -> str | None:
    """Path of the docker client: $MSDFIX_DOCKER_CLI, else /usr/bin/docker, else PATH."""
    override = os.environ.get("MSDFIX_DOCKER_CLI")
    if override:
        return override
    if os.access("/usr/bin/docker", os.X_OK):
        return "/usr/bin/docker"
    return shutil.which("docker")


def docker_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for docker commands: BuildKit on, DOCKER_HOST guessed when unset."""
    env = dict(os.environ)
    env["DOCKER_BUILDKIT"] = "1"
    if not env.get("DOCKER_HOST") and not os.path.exists("/var/run/docker.sock"):
        sock = Path(os.environ.get("MSDFIX_DOCKER_DIR", DEFAULT_DOCKER_DIR)) / "docker.sock"
        if sock.exists():
            env["DOCKER_HOST"] = f"unix://{sock}"
    if extra:
        env.update(extra)
    return env


def network_args() -> list[str]:
    """``--network X`` when MSDFIX_DOCKER_NETWORK is set (not needed on this machine)."""
    net = os.environ.get("MSDFIX_DOCKER_NETWORK")
    return ["--network", net] if net else []


def docker(
    *args: str, timeout: float | None = 600, check: bool = False, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``docker ARGS`` and capture text output."""
    cli = docker_cli()
    if cli is None:
        raise FileNotFoundError("docker client not found")
    return subprocess.run(
        [cli, *args],
        capture_output=True,
        text=True,
        env=docker_env(),
        timeout=timeout,
        check=check,
        input=input,
    )


@functools.lru_cache(maxsize=1)
def unreachable_reason() -> str | None:
    """None when a daemon answers ``docker info``; otherwise a human-readable reason."""
    cli = docker_cli()
    if cli is None:
        return "docker client not installed (apt-get install docker.io)"
    try:
        proc = docker("info", "--format", "{{.ServerVersion}}", timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker info` failed: {exc}"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        host = docker_env().get("DOCKER_HOST", "default socket")
        return f"{last} (DOCKER_HOST={host}); start one with: {START_HINT}"
    return None


def daemon_reachable() -> bool:
    """True when a Docker daemon answers."""
    return unreachable_reason() is None


def require_docker() -> None:
    """Skip the calling test when no Docker daemon is reachable."""
    import pytest

    reason = unreachable_reason()
    if reason is not None:
        pytest.skip(f"no Docker daemon reachable: {reason}")


def have_image(tag: str) -> bool:
    """True when the image exists locally."""
    return docker("image", "inspect", tag, timeout=30).returncode == 0


def require_images(*tags: str) -> None:
    """require_docker(), then skip unless every tag exists locally (stand-ins)."""
    import pytest

    require_docker()
    missing = [t for t in tags if not have_image(t)]
    if missing:
        pytest.skip(
            f"base images missing: {' '.join(missing)}; build them with: "
            f"tests/support/standins.sh {' '.join(missing)}"
        )


@dataclass
class BuildResult:
    """Outcome of one ``docker build``."""

    tag: str
    returncode: int
    output: str
    seconds: float
    argv: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def build(
    context_dir: str | os.PathLike[str],
    dockerfile_path: str | os.PathLike[str] | None = None,
    tag: str | None = None,
    *,
    build_args: Mapping[str, str] | None = None,
    no_cache: bool = False,
    target: str | None = None,
    timeout: float = 1800,
) -> BuildResult:
    """``DOCKER_BUILDKIT=1 docker build`` with plain progress; never raises on build failure.

    Without ``tag`` the image gets a :func:`unique_tag` (see ``BuildResult.tag``).
    """
    tag = tag or unique_tag("image")
    argv = ["build", "--progress=plain", "-t", tag, *network_args()]
    if dockerfile_path is not None:
        argv += ["-f", os.fspath(dockerfile_path)]
    for key, value in (build_args or {}).items():
        argv += ["--build-arg", f"{key}={value}"]
    if no_cache:
        argv.append("--no-cache")
    if target:
        argv += ["--target", target]
    argv.append(os.fspath(context_dir))
    start = time.monotonic()
    try:
        proc = docker(*argv, timeout=timeout)
        code, out = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        code, out = 124, f"timeout after {timeout}s: {exc}"
    return BuildResult(tag, code, out, time.monotonic() - start, argv)


def inspect(tag: str) -> dict[str, Any]:
    """``docker image inspect`` of one image (first element)."""
    proc = docker("image", "inspect", tag, timeout=30, check=True)
    data: list[dict[str, Any]] = json.loads(proc.stdout)
    return data[0]


def image_size(tag: str) -> int:
    """Image size in bytes as reported by the daemon."""
    return int(inspect(tag)["Size"])


def layer_count(tag: str) -> int:
    """Number of filesystem layers of the image."""
    return len(inspect(tag).get("RootFS", {}).get("Layers", []))


def image_config(tag: str) -> dict[str, Any]:
    """The image's ``Config`` (Entrypoint, Cmd, Env, ...)."""
    return dict(inspect(tag).get("Config") or {})


def run(
    tag: str,
    cmd: str | Sequence[str] | None = None,
    *,
    entrypoint: str | None = None,
    timeout: float = 120,
    extra_args: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """``docker run --rm TAG CMD``; a string cmd runs via ``sh -c``."""
    argv = ["run", "--rm", *network_args(), *extra_args]
    if entrypoint is not None:
        argv += ["--entrypoint", entrypoint]
    argv.append(tag)
    if isinstance(cmd, str):
        argv += ["sh", "-c", cmd]
    elif cmd is not None:
        argv += list(cmd)
    return docker(*argv, timeout=timeout)


def remove_image(*tags: str) -> None:
    """Remove images, ignoring missing ones."""
    if tags:
        docker("image", "rm", "-f", *tags, timeout=120)
