"""Issue 9's reproductions, built for real: each safe cache-mount rewrite must build whenever the
original builds, with ANY contents of the cache mounts, as CI does when it restores layers but
never cache mounts.

Without Docker only the static half runs (what the rewrite mounts and what it declines).
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from msdfix.engine import Settings, rewrite
from msdfix.model import BuildContext
from msdfix.syntax import Instruction
from msdfix.verify.differential import BUST_ARG, cache_mounted_runs, insert_bust

UPDATE_IN_SH_C = """\
FROM debian:bookworm
RUN sh -c "apt-get update"
RUN apt-get install -y --no-install-recommends jq
"""

INSTALL_IN_BASH_C = """\
FROM debian:bookworm
RUN apt-get update
RUN apt-get install -y --no-install-recommends jq
RUN bash -c "apt-get install -y --no-install-recommends file"
"""

SUDO_UNDER_USER = """\
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends sudo && rm -rf /var/lib/apt/lists/* \\
    && useradd -m dev && echo "dev ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/dev
USER dev
RUN sudo apt-get update && sudo apt-get install -y --no-install-recommends jq
"""

TARGET = re.compile(r"(?:^|,)target=([^,]+)")

REPRODUCTIONS = {
    "update-in-sh-c": UPDATE_IN_SH_C,
    "install-in-bash-c": INSTALL_IN_BASH_C,
    "sudo-under-user": SUDO_UNDER_USER,
}


def _safe_rewrite(text: str, tmp_path: Path) -> str:
    return rewrite(
        text, "Dockerfile", BuildContext(tmp_path), Settings(None, frozenset(), False)
    ).output


def _mounted_runs(text: str) -> list[tuple[Instruction, list[str]]]:
    """Every RUN with a cache mount, and its mount targets (the harness's own reading)."""
    return [
        (ins, [t for f in ins.flags if f.name == "mount" for t in TARGET.findall(f.value or "")])
        for _, ins in cache_mounted_runs(text)
    ]


@pytest.mark.parametrize("name", sorted(REPRODUCTIONS))
def test_lists_never_mounted_where_a_later_run_may_need_them(name: str, tmp_path: Path) -> None:
    """/var/lib/apt/lists is mounted only in a RUN that refreshes it and when no later RUN may
    install from it: every later RUN that runs apt-get install also runs apt-get update."""
    out = _safe_rewrite(REPRODUCTIONS[name], tmp_path)
    for ins, targets in _mounted_runs(out):
        if "/var/lib/apt/lists" not in targets:
            continue
        later = out[ins.end :]
        installs = re.findall(r"apt-get[^\n&;]*install", later)
        updates = re.findall(r"apt-get[^\n&;]*update", later)
        assert len(updates) >= len(installs), f"{name}: lists mounted at line {ins.start_line}"


def test_unrecognised_refresh_keeps_lists_in_the_image(tmp_path: Path) -> None:
    """`sh -c "apt-get update"` refreshes lists in a form msdfix reads: the install RUN after it
    must not hide them behind a mount."""
    out = _safe_rewrite(UPDATE_IN_SH_C, tmp_path)
    assert all("/var/lib/apt/lists" not in t for _, t in _mounted_runs(out))


def test_docker_clean_is_never_removed(tmp_path: Path) -> None:
    for text in REPRODUCTIONS.values():
        out = _safe_rewrite(text, tmp_path)
        assert "docker-clean" not in out


# --- real builds --------------------------------------------------------------------------


def _build(docker_mod, context: Path, text: str, name: str, **kw):  # type: ignore[no-untyped-def]
    dockerfile = context / f"{name}.Dockerfile"
    dockerfile.write_text(text)
    return docker_mod.build(context, dockerfile, docker_mod.unique_tag("issue9", name), **kw)


def _empty_cache_mounts(docker_mod) -> None:  # type: ignore[no-untyped-def]
    docker_mod.docker("builder", "prune", "-f", "--filter", "type=exec.cachemount", timeout=300)


@pytest.mark.parametrize("name", sorted(REPRODUCTIONS))
def test_reproduction_builds_with_any_cache_mount_contents(name: str, tmp_path: Path) -> None:
    """The original builds; its safe rewrite builds from empty mounts and, after a warm build,
    with emptied mounts and the layers before each mounted RUN taken from the layer cache."""
    docker_mod = pytest.importorskip("support.docker")
    docker_mod.require_images("debian:bookworm", "debian:bookworm-slim")
    original = REPRODUCTIONS[name]
    out = _safe_rewrite(original, tmp_path)
    assert out != original
    tags: list[str] = []
    try:
        _empty_cache_mounts(docker_mod)
        before = _build(docker_mod, tmp_path, original, "original")
        tags.append(before.tag)
        assert before.ok, before.tail()

        _empty_cache_mounts(docker_mod)
        after = _build(docker_mod, tmp_path, out, "rewrite")
        tags.append(after.tag)
        assert after.ok, after.tail()

        for ins, _ in _mounted_runs(out):
            _empty_cache_mounts(docker_mod)
            busted = _build(
                docker_mod,
                tmp_path,
                insert_bust(out, ins.start_line),
                f"bust{ins.start_line}",
                build_args={BUST_ARG: uuid.uuid4().hex},
            )
            tags.append(busted.tag)
            assert busted.ok, (
                f"mounted RUN at line {ins.start_line} needs the mount's contents:\n{busted.tail()}"
            )

        size_before, size_after = (
            docker_mod.image_size(before.tag),
            docker_mod.image_size(after.tag),
        )
        assert size_after <= size_before * 1.01, (size_before, size_after)
        assert docker_mod.image_config(after.tag) == docker_mod.image_config(before.tag)
        # The final image keeps the package manager's configuration the original had.
        probe = "ls /etc/apt/apt.conf.d/ | sort"
        listed = [
            docker_mod.run(tag, probe, entrypoint="").stdout for tag in (before.tag, after.tag)
        ]
        assert listed[0] == listed[1]
        # And what the original installed is there.
        assert docker_mod.run(after.tag, "command -v jq", entrypoint="").returncode == 0
    finally:
        docker_mod.remove_image(*tags)


def _mount_breaks_it(tmp_path: Path, original: str, mounted: str, name: str, image: str):  # type: ignore[no-untyped-def]
    """Build ``original`` (it must build) and ``mounted``, the same with the mount msdfix
    declines (it must not); the mounted build's result, for its output."""
    docker_mod = pytest.importorskip("support.docker")
    docker_mod.require_images(image)
    tags: list[str] = []
    try:
        before = _build(docker_mod, tmp_path, original, f"{name}-original")
        tags.append(before.tag)
        assert before.ok, before.tail()
        after = _build(docker_mod, tmp_path, mounted, f"{name}-mounted")
        tags.append(after.tag)
        assert not after.ok, after.tail()
        return after
    finally:
        docker_mod.remove_image(*tags)


def _mount(target: str) -> str:
    """A cache mount of its own (a unique id: it starts empty)."""
    return f"RUN --mount=type=cache,target={target},id={uuid.uuid4().hex} "


UV_SYMLINK = """\
FROM python:3.12-slim
RUN pip install --no-cache-dir uv
ENV UV_LINK_MODE=symlink
RUN uv pip install --system-certs --system --break-system-packages six
RUN python -c "import six"
"""


def test_uv_symlink_mode_gets_no_mount_because_a_mount_breaks_it(tmp_path: Path) -> None:
    """msdfix leaves uv's symlink mode alone; built for real, the mount it declines makes the
    next RUN fail (the installed package is a link into a cache that is not in the image)."""
    out = _safe_rewrite(UV_SYMLINK, tmp_path)
    assert "\nRUN uv pip install --system-certs" in out  # pip's own RUN gets its mount
    mounted = UV_SYMLINK.replace("RUN uv pip", _mount("/root/.cache/uv") + "uv pip")
    after = _mount_breaks_it(tmp_path, UV_SYMLINK, mounted, "uv", "python:3.12-slim")
    assert "No module named 'six'" in after.output, after.tail()


NPM_AS_NEW_USER = """\
FROM node:20
RUN useradd -m app
USER app
ENV npm_config_cache=/tmp/npmcache
WORKDIR /home/app
RUN npm install --no-audit --no-fund is-number@7.0.0
"""


def test_no_mount_for_a_user_whose_uid_is_unknown(tmp_path: Path) -> None:
    """A cache mount is created owned by root (mode 0755) unless ``uid=`` says otherwise. For a
    user msdfix cannot give the uid of (``useradd`` picks it), the mount is declined with that
    reason; built for real, the mount makes npm fail where the original creates the directory
    itself. (msdfix mounted it as a safe fix until this round.)"""
    result = rewrite(NPM_AS_NEW_USER, "Dockerfile", BuildContext(tmp_path), Settings())
    assert "--mount=type=cache" not in result.output
    assert any("the uid of user app is unknown" in f.message for f in result.suggestions)
    mounted = NPM_AS_NEW_USER.replace("RUN npm", _mount("/tmp/npmcache") + "npm")
    _mount_breaks_it(tmp_path, NPM_AS_NEW_USER, mounted, "npm-user", "node:20")


COPIED_WHEELS = """\
FROM python:3.12 AS wheels
RUN pip download --no-cache-dir --dest /root/.cache/pip six==1.16.0
FROM python:3.12
COPY --from=wheels /root/.cache/pip /root/.cache/pip
RUN pip install --no-index --find-links /root/.cache/pip six==1.16.0
"""


def test_no_mount_over_a_directory_an_earlier_copy_filled(tmp_path: Path) -> None:
    """The mount hides what an earlier COPY put at its target from the RUN: msdfix leaves that
    RUN alone; built for real, the mount makes the offline install fail."""
    result = rewrite(COPIED_WHEELS, "Dockerfile", BuildContext(tmp_path), Settings())
    assert "--mount=type=cache" not in result.output.splitlines()[-1]
    lines = COPIED_WHEELS.splitlines(keepends=True)
    lines[-1] = lines[-1].replace("RUN pip", _mount("/root/.cache/pip") + "pip")
    _mount_breaks_it(tmp_path, COPIED_WHEELS, "".join(lines), "wheels", "python:3.12")


def test_unknown_base_image_shown_to_run_as_root_builds_with_its_mounts(tmp_path: Path) -> None:
    """An image msdfix does not know: its user is unknown, until ``useradd`` (which only root
    can run) shows the RUN runs as root. The pip mount that gives (its directory set in the
    Dockerfile) is built for real: from empty mounts, and rebuilt from the mounted RUN with
    emptied mounts, the package is there."""
    docker_mod = pytest.importorskip("support.docker")
    docker_mod.require_images("python:3.12-slim")
    base = docker_mod.unique_tag("issue9", "unknown-base")
    text = (
        f"FROM {base}\nENV PIP_CACHE_DIR=/var/cache/pip\nRUN useradd -m app\n"
        'RUN pip install six==1.16.0\nRUN python -c "import six"\nUSER app\n'
    )
    out = _safe_rewrite(text, tmp_path)
    assert (
        "RUN --mount=type=cache,target=/var/cache/pip \\\n    --mount=type=tmpfs,target=/var/cache/pip/wheels \\\n    pip install"
        in out
    ), out
    tags = [base]
    try:
        made = _build(docker_mod, tmp_path, "FROM python:3.12-slim\n", "unknown-base-image")
        tags.append(made.tag)
        assert made.ok, made.tail()
        docker_mod.docker("tag", made.tag, base, check=True)
        _empty_cache_mounts(docker_mod)
        for name, dockerfile in (("unknown-original", text), ("unknown-rewrite", out)):
            built = _build(docker_mod, tmp_path, dockerfile, name)
            tags.append(built.tag)
            assert built.ok, built.tail()
        _empty_cache_mounts(docker_mod)
        busted = _build(
            docker_mod, tmp_path, insert_bust(out, 4), "unknown-bust",
            build_args={BUST_ARG: uuid.uuid4().hex},
        )  # fmt: skip
        tags.append(busted.tag)
        assert busted.ok, busted.tail()
    finally:
        docker_mod.remove_image(*tags)


def test_an_unknown_images_home_would_keep_the_cache_in_the_image(tmp_path: Path) -> None:
    """An image msdfix does not know sets HOME (as jupyter's do), and a RUN as root installs
    with ``--no-cache-dir``. The mount a /root home would give, with the flag dropped, builds
    but leaves pip's cache in the image under that HOME (here the wheel pip builds from
    docopt's sdist), so msdfix declines it."""
    docker_mod = pytest.importorskip("support.docker")
    docker_mod.require_images("python:3.12-slim")
    base = docker_mod.unique_tag("issue9", "home-base")
    text = f"FROM {base}\nUSER root\nRUN pip install --no-cache-dir docopt==0.6.2\n"
    assert _safe_rewrite(text, tmp_path) == text
    mounted = text.replace(
        "RUN pip install --no-cache-dir", _mount("/root/.cache/pip") + "pip install"
    )
    tags = [base]
    try:
        made = _build(
            docker_mod, tmp_path, "FROM python:3.12-slim\nENV HOME=/opt/home\n", "home-base"
        )
        tags.append(made.tag)
        assert made.ok, made.tail()
        docker_mod.docker("tag", made.tag, base, check=True)
        for name, dockerfile, cached in (
            ("home-original", text, False),
            ("home-mounted", mounted, True),
        ):
            built = _build(docker_mod, tmp_path, dockerfile, name)
            tags.append(built.tag)
            assert built.ok, built.tail()
            found = docker_mod.docker("run", "--rm", built.tag, "ls", "/opt/home/.cache/pip")
            assert (found.returncode == 0) is cached, found.stderr
    finally:
        docker_mod.remove_image(*tags)


def test_cli_reports_why_lists_stay(tmp_path: Path) -> None:
    """Every declined case says why, in one line of the summary."""
    proc = subprocess.run(
        [sys.executable, "-m", "msdfix", "-"],
        input=INSTALL_IN_BASH_C,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr  # stdin: the rewrite goes to stdout
    why = [line for line in proc.stderr.splitlines() if "/var/lib/apt/lists" in line]
    assert why and "left unchanged" in why[0] and "line 3" in why[0], proc.stderr


RM_VARIABLE = """\
FROM debian:bookworm-slim
ENV CACHE=/tmp/toolcache
RUN mkdir -p $CACHE/cache && touch $CACHE/cache/x && rm -rf $CACHE
"""


def test_an_rm_of_a_variable_above_the_mount_fails_the_mounted_build(tmp_path: Path) -> None:
    """``rm -rf $POETRY_CACHE_DIR`` (the common poetry recipe) with the cache mounted below
    that directory: the original builds, the mounted RUN fails ("Device or resource busy"),
    so msdfix reads the variable and declines such a mount."""
    mounted = RM_VARIABLE.replace("RUN mkdir", _mount("/tmp/toolcache/cache") + "mkdir")
    after = _mount_breaks_it(tmp_path, RM_VARIABLE, mounted, "rm-variable", "debian:bookworm-slim")
    assert "busy" in after.tail().lower() or "cannot remove" in after.tail().lower()
