"""Thin wrappers around the docker CLI used by ``msdfix verify``.

Everything goes through the ``docker`` client binary (no SDK dependency). The client is chosen
so that BuildKit works: one with the buildx plugin (``docker buildx build --load``) is
preferred, else a client with built-in BuildKit (``DOCKER_BUILDKIT=1 docker build``, Docker
< 23), else plain ``docker build`` (legacy builder: ``RUN --mount`` will fail).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DOCKER_DIR = "/tmp/msdfix-docker"
START_HINT = (
    'start a daemon, e.g. `eval "$(tests/support/dockerd.sh start)"` in the msdfix repo, '
    "`sudo dockerd &`, or `sudo systemctl start docker`; or set DOCKER_HOST"
)

LineCallback = Callable[[str], None]


class DockerUnavailable(RuntimeError):
    """No usable docker client or no daemon answering."""


@dataclass
class Client:
    """A docker client binary and how it builds images."""

    path: str
    mode: str  # "buildx" | "buildkit" | "legacy"
    network: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    build_flags: tuple[str, ...] = ()  # --build-arg/--secret the user passed, for every build

    def run(
        self, *args: str, timeout: float | None = 600, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run ``docker ARGS`` capturing text output."""
        return subprocess.run(
            [self.path, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=check,
        )


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["DOCKER_BUILDKIT"] = "1"
    env.setdefault("BUILDKIT_PROGRESS", "plain")
    if not env.get("DOCKER_HOST") and not os.path.exists("/var/run/docker.sock"):
        sock = Path(env.get("MSDFIX_DOCKER_DIR", DEFAULT_DOCKER_DIR)) / "docker.sock"
        if sock.exists():
            env["DOCKER_HOST"] = f"unix://{sock}"
    return env


def _candidates(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    found: list[str] = []
    for c in (os.environ.get("MSDFIX_DOCKER_CLI"), shutil.which("docker"), "/usr/bin/docker"):
        if c and os.access(c, os.X_OK) and os.path.realpath(c) not in map(os.path.realpath, found):
            found.append(c)
    return found


def _client_major(path: str, env: dict[str, str]) -> int:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, env=env, timeout=20
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return 0
    m = re.search(r"version (\d+)\.", out)
    return int(m.group(1)) if m else 0


def _has_buildx(path: str, env: dict[str, str]) -> bool:
    try:
        return (
            subprocess.run(
                [path, "buildx", "version"], capture_output=True, env=env, timeout=20
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def detect_client(explicit: str | None = None, network: str | None = None) -> Client:
    """Pick a docker client that can talk to a daemon; raise DockerUnavailable otherwise."""
    env = _env()
    cands = _candidates(explicit)
    if not cands:
        raise DockerUnavailable(f"docker client not found; install docker and {START_HINT}")
    # Prefer buildx, then built-in BuildKit (client < 23), then whatever exists.
    ranked: list[tuple[int, str, str]] = []
    for c in cands:
        if _has_buildx(c, env):
            ranked.append((0, c, "buildx"))
        elif 0 < _client_major(c, env) < 23:
            ranked.append((1, c, "buildkit"))
        else:
            ranked.append((2, c, "legacy"))
    ranked.sort(key=lambda r: r[0])
    _, path, mode = ranked[0]
    client = Client(path, mode, network, env)
    try:
        proc = client.run("version", "--format", "{{.Server.Version}}", timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DockerUnavailable(f"`docker info` failed: {exc}; {START_HINT}") from exc
    if proc.returncode != 0 or not proc.stdout.strip():
        lines = proc.stderr.strip().splitlines() or ["no answer"]
        last = next((ln for ln in lines if "connect" in ln.lower()), lines[0])
        host = env.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        raise DockerUnavailable(f"no Docker daemon reachable at {host}: {last}; {START_HINT}")
    return client


@dataclass
class BuildOutcome:
    """Result of one image build."""

    ok: bool
    seconds: float
    log: str = ""

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.log.rstrip().splitlines()[-lines:])


def build(
    client: Client,
    context: Path,
    dockerfile: Path,
    tag: str,
    *,
    no_cache: bool = False,
    on_line: LineCallback | None = None,
    timeout: float = 3600,
    build_args: dict[str, str] | None = None,
) -> BuildOutcome:
    """Build ``dockerfile`` with ``context`` into ``tag``, streaming output lines to on_line."""
    if client.mode == "buildx":
        argv = [client.path, "buildx", "build", "--load"]
    else:
        argv = [client.path, "build"]
    if client.mode != "legacy":
        argv.append("--progress=plain")
    argv += ["-t", tag, "-f", str(dockerfile)]
    if no_cache:
        argv.append("--no-cache")
    argv += client.build_flags
    for key, value in (build_args or {}).items():
        argv += ["--build-arg", f"{key}={value}"]
    if client.network:
        argv += ["--network", client.network]
    argv.append(str(context))
    start = time.monotonic()
    lines: list[str] = []
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=client.env,
        errors="replace",
    )
    assert proc.stdout is not None
    watchdog = threading.Timer(timeout + 30, proc.kill)  # a build that stops printing
    watchdog.start()
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if on_line is not None:
                on_line(line.rstrip("\n"))
            if time.monotonic() - start > timeout:
                proc.kill()
                lines.append(f"msdfix verify: build timed out after {timeout:.0f}s")
                break
        code = proc.wait()
    except BaseException:
        proc.kill()
        raise
    finally:
        watchdog.cancel()
    return BuildOutcome(code == 0, time.monotonic() - start, "\n".join(lines))


def inspect_image(client: Client, tag: str) -> dict[str, Any]:
    """``docker image inspect TAG`` (first element). A daemon that stopped answering after
    the build (or a tag pruned from a shared daemon) is DockerUnavailable, not a bug of ours."""
    proc = client.run("image", "inspect", tag, timeout=60)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no answer"])[-1]
        raise DockerUnavailable(f"`docker image inspect {tag}` failed after its build: {last}")
    data: list[dict[str, Any]] = json.loads(proc.stdout)
    return data[0]


def image_id(client: Client, tag: str) -> str | None:
    """The image id a tag points to, or None when there is no such image."""
    proc = client.run("image", "inspect", "-f", "{{.Id}}", tag, timeout=60)
    return proc.stdout.strip() if proc.returncode == 0 else None


def remove_images(client: Client, tags: Sequence[str]) -> None:
    """Remove images, ignoring failures."""
    if tags:
        client.run("image", "rm", "-f", *tags, timeout=120)


def empty_cache_mounts(client: Client) -> str | None:
    """Prune BuildKit's cache mounts (``RUN --mount=type=cache``) and nothing else.

    Layer cache and images stay (the daemon may be shared). Returns None on success, else why
    it failed.
    """
    if client.mode == "legacy":
        return "the legacy builder has no cache mounts to empty"
    proc = client.run("builder", "prune", "-f", "--filter", "type=exec.cachemount", timeout=300)
    if proc.returncode != 0:
        return (proc.stderr.strip().splitlines() or ["docker builder prune failed"])[-1]
    return None


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback TCP ports that are free right now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class CheckOutcome:
    """Result of a smoke check."""

    ok: bool
    detail: str
    seconds: float = 0.0
    host_port: int | None = None  # --smoke-http: where the container was reached


def smoke_cmd(client: Client, tag: str, argv: Sequence[str], timeout: float = 120) -> CheckOutcome:
    """``docker run --rm TAG ARGV...`` (the image ENTRYPOINT applies); ok when exit code is 0."""
    name = container_name()
    cmd = ["run", "--rm", "--name", name]
    if client.network:
        cmd += ["--network", client.network]
    start = time.monotonic()
    try:
        proc = client.run(*cmd, tag, *argv, timeout=timeout)
    except subprocess.TimeoutExpired:
        return CheckOutcome(False, f"timed out after {timeout:.0f}s", time.monotonic() - start)
    finally:  # killing the client on a timeout, Ctrl-C or SIGTERM leaves the container running
        remove_container(client, name)
    out = (proc.stdout + proc.stderr).strip()
    tail = "\n".join(out.splitlines()[-10:])
    detail = f"exit {proc.returncode}" + (f": {tail}" if tail else "")
    return CheckOutcome(proc.returncode == 0, detail, time.monotonic() - start)


def parse_http_spec(spec: str) -> tuple[int, str]:
    """``PORT[:PATH]`` -> (port, path); path defaults to ``/``."""
    port_s, _, path = spec.partition(":")
    try:
        port = int(port_s)
    except ValueError:
        raise ValueError(f"invalid --smoke-http {spec!r}: expected PORT[:PATH]") from None
    if not 0 < port < 65536:
        raise ValueError(f"invalid --smoke-http port {port}")
    if not path:
        path = "/"
    if not path.startswith("/"):
        path = "/" + path
    return port, path


def container_name() -> str:
    """A name unique to one smoke container, so it is removed however its run ends."""
    return f"msdfix-verify-{uuid.uuid4().hex[:16]}"


def remove_container(client: Client, name: str) -> None:
    """``docker rm -f -v NAME``, ignoring failures (it may be gone already: ``--rm``). ``-v``
    removes the anonymous volumes of the image's VOLUME lines, which ``rm -f`` left behind."""
    client.run("rm", "-f", "-v", name, timeout=60)


def _start_published(
    client: Client, tag: str, port: int, host_port: int | None, name: str
) -> tuple[subprocess.CompletedProcess[str], int | None]:
    """``docker run -d --name NAME`` with the container port published on its own loopback
    host port. A run that fails to start leaves a created container: it is removed by name."""
    if client.network == "host":
        return client.run("run", "-d", "--name", name, "--network", "host", tag, timeout=60), port
    for attempt in range(3):
        chosen = host_port if host_port is not None and attempt == 0 else free_ports(1)[0]
        args = ["run", "-d", "--name", name, "-p", f"127.0.0.1:{chosen}:{port}"]
        if client.network:
            args += ["--network", client.network]
        proc = client.run(*args, tag, timeout=60)
        busy = "already allocated" in proc.stderr or "address already in use" in proc.stderr
        if proc.returncode == 0 or not busy:
            return proc, chosen
        remove_container(client, name)  # created, not started: free the name for a retry
    return proc, None


def _published_port(client: Client, cid: str, port: int) -> int | None:
    proc = client.run("port", cid, f"{port}/tcp", timeout=20)
    first = (proc.stdout.strip().splitlines() or [""])[0]
    match = re.search(r":(\d+)\s*$", first)
    return int(match.group(1)) if match else None


def health_argv(config: dict[str, Any]) -> list[str] | None:
    """The command Docker runs for the image's HEALTHCHECK (None: it has none)."""
    test = (config.get("Healthcheck") or {}).get("Test") or []
    if test[:1] == ["CMD-SHELL"]:
        return [*(config.get("Shell") or ["/bin/sh", "-c"]), " ".join(test[1:])]
    return list(test[1:]) if test[:1] == ["CMD"] and len(test) > 1 else None


def _unhealthy(client: Client, cid: str, argv: Sequence[str]) -> str | None:
    """Run the HEALTHCHECK command once in the container as Docker does; why it failed."""
    try:
        proc = client.run("exec", cid, *argv, timeout=30)
    except subprocess.TimeoutExpired:
        return "its HEALTHCHECK timed out after 30s"
    if proc.returncode == 0:
        return None
    out = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
    return f"its HEALTHCHECK failed (exit {proc.returncode})" + (f": {out}" if out else "")


def smoke_http(
    client: Client,
    tag: str,
    port: int,
    path: str = "/",
    timeout: float = 30,
    host_port: int | None = None,
    health: Sequence[str] | None = None,
) -> CheckOutcome:
    """Run TAG detached and poll until an HTTP 2xx answer and, when the image has a
    HEALTHCHECK (``health``, its command), until that command passes in the container too:
    a rewrite onto a base without the check's curl answered and was unhealthy forever.

    The container port is published on ``127.0.0.1:host_port`` (a free port when None; each
    image gets its own). With ``--network host`` the app listens on the host itself, so the
    port must be free before the container starts, or another server would answer for it.
    """
    start = time.monotonic()
    if client.network == "host" and _answers(port):
        return CheckOutcome(False, f"port {port} is already in use on the host (--network host)")
    name = container_name()
    last, what = "no answer", "no 2xx"
    try:
        proc, host_port = _start_published(client, tag, port, host_port, name)
        if proc.returncode != 0:
            return CheckOutcome(False, f"docker run failed: {proc.stderr.strip()[-500:]}")
        cid = proc.stdout.strip()
        if client.network != "host":
            host_port = _published_port(client, cid, port) or host_port
        while time.monotonic() - start < timeout:
            state = client.run(
                "inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", cid, timeout=20
            ).stdout.split()
            if state and state[0] == "false":
                logs = client.run("logs", "--tail", "20", cid, timeout=20)
                out = (logs.stdout + logs.stderr).strip()
                return CheckOutcome(
                    False,
                    f"container exited (code {state[1]}): {out[-800:]}",
                    time.monotonic() - start,
                    host_port,
                )
            url = f"http://127.0.0.1:{host_port}{path}"
            try:
                with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310
                    status = resp.status
                last = f"HTTP {status}"
                why = _unhealthy(client, cid, health) if health and status < 300 else None
                if 200 <= status < 300 and why is None:
                    detail = f"HTTP {status} from {path}" + (", HEALTHCHECK ok" if health else "")
                    return CheckOutcome(True, detail, time.monotonic() - start, host_port)
                if why is not None:
                    last, what = f"HTTP {status}, but {why}", "no healthy answer"
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                last = str(getattr(exc, "reason", exc))
            time.sleep(0.5)
        return CheckOutcome(
            False,
            f"{what} on port {port}{path} within {timeout:.0f}s ({last})",
            time.monotonic() - start,
            host_port,
        )
    finally:  # also a container that failed to start, or one a Ctrl-C or SIGTERM left
        remove_container(client, name)
