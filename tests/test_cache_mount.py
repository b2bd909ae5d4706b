"""cache-mount: fixtures for every package manager, no-op rules, and targeted checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixture_cases import cases, check_case
from msdfix.engine import Settings, rewrite
from msdfix.model import BuildContext

CASES = cases("cache-mount")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fixture(case) -> None:
    check_case(case)


def test_fixtures_cover_before_after_and_noop() -> None:
    changed = [c for c in CASES if c.expected is not None]
    unchanged = [c for c in CASES if c.expected is None]
    assert len(changed) >= 25 and len(unchanged) >= 10


def _run(text: str, unsafe: bool = False) -> str:
    return rewrite(
        text, None, BuildContext(None), Settings(frozenset({"cache-mount"}), unsafe=unsafe)
    ).output


def _fixes(text: str) -> list[str]:
    result = rewrite(text, None, BuildContext(None), Settings(frozenset({"cache-mount"})))
    return [f.message for f in result.applied + result.suggestions]


@pytest.mark.parametrize("alias", ["clean-install", "isntall-clean", "in", "inst"])
def test_npm_command_aliases_get_the_npm_cache(alias: str) -> None:
    """npm's own aliases of ``ci`` and ``install`` download as they do: one list of them
    serves the cache and the install readers (``npm clean-install`` had no mount)."""
    out = _run(f"FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm {alias}\n")
    assert f"RUN --mount=type=cache,target=/root/.npm npm {alias}\n" in out, out


def test_apt_keeps_debs_on_the_mount_without_touching_apt_configuration() -> None:
    clean = " && rm -rf /var/lib/apt/lists/*"
    out = _run(f"FROM debian:12\nRUN apt-get update && apt-get install -y curl{clean}\n")
    assert "docker-clean" not in out and "keep-cache" not in out
    assert "apt-get -o Dir::Cache::Archives=/var/cache/apt/debs install -y curl" in out
    assert "target=/var/lib/apt/lists," in out and "target=/var/lib/apt," not in out
    out = _run("FROM debian:12\nRUN apt update && apt install -y curl\n")
    assert "APT::Keep-Downloaded-Packages=true" in out  # apt (not apt-get) deletes them by default


def test_apt_update_hidden_in_sh_c_leaves_lists_to_the_install() -> None:
    """Issue 9, reproduction 1: the install finds the lists an unclassified refresh left."""
    text = 'FROM debian:bookworm\nRUN sh -c "apt-get update"\nRUN apt-get install -y --no-install-recommends jq\n'
    out = _run(text)
    assert "/var/lib/apt/lists" not in out
    assert 'RUN sh -c "apt-get update"\n' in out


def test_lists_are_not_mounted_when_a_later_run_installs_from_them() -> None:
    """Issue 9, reproduction 2: later RUNs (one inside bash -c) install without refreshing."""
    text = (
        "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y --no-install-recommends jq\n"
        'RUN bash -c "apt-get install -y --no-install-recommends file"\n'
    )
    out = _run(text)
    assert "/var/lib/apt/lists" not in out
    assert "RUN apt-get update\n" in out
    assert 'RUN bash -c "apt-get install' in out  # cannot keep its .debs: left alone
    assert any("line 3 may install without refreshing" in m for m in _fixes(text))


def test_a_build_script_named_like_a_system_tool_is_unknown() -> None:
    """``scripts/install`` is the build's own script, not install(1): it may apt-get install."""
    for script in ("scripts/install", "bin/sort"):
        text = f"FROM debian:bookworm\nCOPY . .\nRUN apt-get update && apt-get install -y jq\nRUN {script}\n"
        assert "/var/lib/apt/lists" not in _run(text), script
    text = (
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y jq"
        " && rm -rf /var/lib/apt/lists/*\nRUN /usr/bin/install -d /x\n"
    )
    assert "target=/var/lib/apt/lists" in _run(text)  # the system tool, by its absolute path


def test_sudo_under_a_non_root_user_keeps_the_image_configuration() -> None:
    """Issue 9, reproduction 3: nothing root-only is inserted, docker-clean stays on."""
    text = (
        "FROM debian:bookworm\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends sudo && rm -rf /var/lib/apt/lists/* \\\n"
        '    && useradd -m dev && echo "dev ALL=(ALL) NOPASSWD:ALL" > /etc/sudoers.d/dev\n'
        "USER dev\nRUN sudo apt-get update && sudo apt-get install -y --no-install-recommends jq"
        " && sudo rm -rf /var/lib/apt/lists/*\n"
    )
    out = _run(text)
    assert "docker-clean" not in out
    assert "sudo apt-get -o Dir::Cache::Archives=/var/cache/apt/debs install" in out
    assert out.count("target=/var/lib/apt/lists") == 2


def test_lists_in_a_parent_stage_read_by_a_child_stage_stay_in_the_image() -> None:
    text = "FROM debian:12 AS base\nRUN apt-get update\nFROM base\nRUN apt-get install -y curl\n"
    out = _run(text)
    assert out.startswith("FROM debian:12 AS base\nRUN apt-get update\n")


def test_cleanup_is_kept_when_an_earlier_step_may_have_filled_the_directory() -> None:
    text = (
        "FROM debian:12\nCOPY setup.sh /\nRUN /setup.sh\n"
        "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
    )
    out = _run(text)
    assert "rm -rf /var/lib/apt/lists/*" in out and "target=/var/lib/apt/lists" not in out
    assert any("may hold files from line 3" in m for m in _fixes(text))


def test_unknown_base_image_user_is_unknown() -> None:
    text = "FROM registry.example.com/team/python-base:1\nRUN pip install flask\n"
    assert _run(text) == text
    assert any("this RUN's user, who is unknown" in m for m in _fixes(text))
    assert "target=/root/.cache/pip" in _run("FROM python:3.12\nRUN pip install flask\n")


def test_root_with_any_group_is_root() -> None:
    for user in ("root:0", "0:staff", "root"):
        out = _run(f"FROM python:3.12\nUSER app\nUSER {user}\nRUN pip install flask\n")
        assert "target=/root/.cache/pip" in out, user


def test_apk_gets_no_mount() -> None:
    text = "FROM alpine:3.19\nRUN apk add --no-cache curl\n"
    assert _run(text) == text
    assert any("/etc/apk/cache" in m for m in _fixes(text))


def test_gopath_with_several_entries_uses_the_first() -> None:
    out = _run("FROM golang:1.22\nENV GOPATH=/go:/other\nRUN go build ./...\n")
    assert "target=/go/pkg/mod" in out and "/other" not in out.split("ENV")[1].split("\n", 1)[1]


def test_poetry_virtualenvs_stay_in_the_image() -> None:
    out = _run("FROM python:3.12\nRUN pip install poetry && poetry install\n", unsafe=True)
    assert "target=/root/.cache/pypoetry/cache" in out
    assert "target=/root/.cache/pypoetry," not in out and "target=/root/.cache/pypoetry " not in out


def test_deleting_a_parent_of_the_cache_declines_the_mount() -> None:
    text = "FROM python:3.12\nRUN pip install flask && rm -rf /root/.cache\n"
    assert _run(text) == text
    assert any("which would contain the mount" in m for m in _fixes(text))


def test_a_cache_dir_with_a_comma_is_not_mounted() -> None:
    text = "FROM python:3.12\nENV PIP_CACHE_DIR=/tmp/a,b\nRUN pip install flask\n"
    assert _run(text) == text


def test_only_the_mounted_path_leaves_a_shared_rm() -> None:
    out = _run(
        "FROM debian:12\nRUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/* /tmp/*\n"
    )
    assert "rm -rf /tmp/*" in out and "lists/*" not in out.split("\n", 2)[2]


def test_a_later_offline_install_needs_the_cache_in_the_image() -> None:
    text = "FROM node:18\nRUN npm ci\nRUN npm install --offline left-pad\n"
    out = _run(text)
    assert "RUN npm ci\n" in out
    assert any("read offline by line 3" in m for m in _fixes(text))


@pytest.mark.parametrize("network", ["none", '"none"'])
def test_a_run_without_network_reads_its_cache_from_the_image(network: str) -> None:
    """``RUN --network=none``: the install can only read what the image holds (built with
    ``docker build --network none``: npm install fell back to the image's /root/.npm, and
    failed with EAI_AGAIN on an empty cache mount, or after the earlier RUN's mount kept the
    cache out of the image)."""
    text = f"FROM node:18\nRUN npm ci\nRUN --network={network} npm install\n"
    assert _run(text) == text
    messages = _fixes(text)
    assert any("read offline by line 3" in m for m in messages)
    assert any("npm runs offline here (RUN --network=none)" in m for m in messages)


@pytest.mark.parametrize(
    "run",
    [
        "WORKDIR /root/.npm\nRUN npm install ms@2.1.3",
        "WORKDIR /root/.npm/app\nRUN npm install ms@2.1.3",
    ],
)
def test_a_run_working_inside_the_cache_folder_gets_no_mount(run: str) -> None:
    """The install writes its node_modules where it runs: on the mount it left the image
    without them (built: ``require("ms")`` failed in the rewritten image)."""
    text = f"FROM node:18\n{run}\n"
    assert _run(text) == text
    assert any("on the mount of /root/.npm" in m for m in _fixes(text))


def test_a_run_with_network_keeps_its_cache_mount() -> None:
    text = "FROM node:18\nRUN npm ci\nRUN --network=default npm install\n"
    assert "RUN --network=default --mount=type=cache,target=/root/.npm npm install" in _run(text)


def test_a_cache_switched_off_where_msdfix_cannot_edit_gets_no_mount() -> None:
    text = 'FROM python:3.12\nRUN ["pip", "install", "--no-cache-dir", "flask"]\n'
    assert _run(text) == text


def test_yarn_plug_n_play_cache_is_not_mounted(tmp_path) -> None:
    (tmp_path / ".yarnrc.yml").write_text("yarnPath: .yarn/releases/yarn-4.1.0.cjs\n")
    (tmp_path / "package.json").write_text('{"name": "app"}\n')  # else not the context
    text = "FROM node:20\nCOPY . .\nRUN yarn install --immutable\n"
    settings = Settings(frozenset({"cache-mount"}))
    result = rewrite(text, None, BuildContext(tmp_path), settings)
    assert not result.changed
    assert any("Plug'n'Play" in f.message for f in result.suggestions)
    (tmp_path / ".yarnrc.yml").write_text("nodeLinker: node-modules\n")
    assert (
        "target=/root/.yarn/berry/cache"
        in rewrite(text, None, BuildContext(tmp_path), settings).output
    )


@pytest.mark.parametrize(
    ("env", "mounted"),
    [
        ("ENV YARN_NODE_LINKER=pnp\n", False),
        ("ARG YARN_NODE_LINKER\n", False),
        ("ARG YARN_NODE_LINKER=node-modules\n", False),  # --build-arg may say pnp
        ("ENV YARN_NODE_LINKER=node-modules\n", True),
        ("RUN yarn config set nodeLinker pnp\n", False),
        ("RUN echo 'nodeLinker: pnp' >> .yarnrc.yml\n", False),
        ("RUN yarn config set enableTelemetry 0\n", True),
        ("", True),
    ],
)
def test_a_yarn_linker_set_by_the_environment_overrides_the_yarnrc(
    tmp_path: Path, env: str, mounted: bool
) -> None:
    """YARN_NODE_LINKER and a RUN setting nodeLinker override .yarnrc.yml's: built with yarn
    4.5.0, ``ENV YARN_NODE_LINKER=pnp``, ``yarn config set nodeLinker pnp`` and ``echo
    "nodeLinker: pnp" >> .yarnrc.yml`` over ``nodeLinker: node-modules`` installed
    Plug'n'Play, and the mounted rewrite failed at run time ("Required package missing from
    disk")."""
    (tmp_path / ".yarnrc.yml").write_text("nodeLinker: node-modules\n")
    (tmp_path / "package.json").write_text('{"name": "app", "packageManager": "yarn@4.5.0"}')
    text = f"FROM node:18\n{env}COPY . .\nRUN yarn install --immutable\n"
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"cache-mount"})))
    assert ("target=/root/.yarn/berry/cache" in result.output) is mounted
    assert any("may make yarn Plug'n'Play" in f.message for f in result.suggestions) is not (
        mounted
    )


@pytest.mark.parametrize(
    "switch, kept",
    [
        ("corepack enable && corepack prepare yarn@4.1.1 --activate", True),
        ("corepack enable && corepack prepare --activate yarn@stable", True),
        ("yarn set version berry", True),
        ("corepack enable && corepack install -g yarn@$YARN_VERSION", True),
        ("corepack enable && corepack prepare yarn@1.22.19 --activate", False),
        ("yarn policies set-version 1.22.19", False),
        ("corepack enable", False),
    ],
)
def test_yarn_made_berry_by_the_dockerfile_keeps_its_cache_clean(switch: str, kept: bool) -> None:
    """Built for real: ``corepack prepare yarn@4.1.1 --activate && yarn config set nodeLinker
    node-modules && yarn install && yarn cache clean`` on node:18-slim; read as yarn 1, its
    ``yarn cache clean`` was dropped for a mount of yarn 1's cache, and yarn 4's global cache
    stayed in the image (290,999,596 -> 292,570,660 bytes). Also from an earlier RUN."""
    head = "FROM node:18-slim\nARG YARN_VERSION\n"
    result = _rewrite(f"{head}RUN {switch} && yarn install && yarn cache clean\n")
    if not kept:
        assert "target=/usr/local/share/.cache/yarn" in result.output, result.output
        return
    later = _rewrite(f"{head}RUN {switch}\nRUN yarn install && yarn cache clean\n")
    for each in (result, later):
        assert not each.changed, each.output
        assert any("whose linker and cache folder" in m for m in _messages(each))


@pytest.mark.parametrize(
    "env, target",
    [
        ("ENV PNPM_HOME=/pnpm\nENV PATH=$PNPM_HOME:$PATH\n", "/pnpm/store"),
        ("ENV XDG_DATA_HOME=/data\n", "/data/pnpm/store"),
        ("ENV PNPM_HOME=/pnpm npm_config_store_dir=/cache/pnpm\n", "/cache/pnpm"),
        ("", "/root/.local/share/pnpm/store"),
    ],
)
def test_pnpm_store_follows_pnpm_home(env: str, target: str) -> None:
    """Built for real: with ``ENV PNPM_HOME=/pnpm`` (pnpm's Docker guide) pnpm keeps its store
    in /pnpm/store; the mount went to ~/.local/share/pnpm/store and the dropped ``pnpm store
    prune`` left the pruned dev packages in /pnpm/store (728,865,265 -> 755,653,480 bytes)."""
    text = f"FROM node:18\n{env}RUN npm i -g pnpm@8\nWORKDIR /app\nCOPY . .\n"
    text += "RUN pnpm install --frozen-lockfile && pnpm prune --prod && pnpm store prune\n"
    out = _rewrite(text, unsafe=True).output
    assert f"--mount=type=cache,target={target} pnpm install" in out, out


@pytest.mark.parametrize(
    "env, install, target",
    [
        ("ENV XDG_CACHE_HOME=/var/cache/app\n", "yarn install --frozen-lockfile", "/var/cache/app/yarn"),
        ("ENV XDG_CACHE_HOME=/x YARN_CACHE_FOLDER=/yc\n", "yarn install --frozen-lockfile", "/yc"),
        ("", "yarn install --frozen-lockfile", "/usr/local/share/.cache/yarn"),
        ("ENV XDG_DATA_HOME=/data\n", "yarn install --immutable", "/data/yarn/berry/cache"),
    ],
)  # fmt: skip
def test_yarn_cache_follows_the_xdg_folders(
    tmp_path: Path, env: str, install: str, target: str
) -> None:
    """Built for real: yarn 1 caches in $XDG_CACHE_HOME/yarn (`yarn cache dir`); the mount went
    to /usr/local/share/.cache/yarn and the dropped ``yarn cache clean`` left the real cache
    in the image (293,484,598 -> 299,657,263 bytes). yarn 4's global folder is
    $XDG_DATA_HOME/yarn/berry (`yarn config get globalFolder`)."""
    (tmp_path / "package.json").write_text('{"name": "app"}\n')
    if "immutable" in install:
        (tmp_path / ".yarnrc.yml").write_text("nodeLinker: node-modules\n")
    text = f"FROM node:18-slim\n{env}WORKDIR /app\nCOPY . .\nRUN {install} && yarn cache clean\n"
    out = _rewrite(text, tmp_path).output
    assert f"--mount=type=cache,target={target}" in out, out


@pytest.mark.parametrize(
    "run",
    [
        "yarn install --frozen-lockfile --cache-folder /tmp/yc && yarn cache clean --cache-folder /tmp/yc",
        "npm ci --cache /tmp/nc && npm cache clean --force --cache /tmp/nc",
        "npm ci --cache=/tmp/nc && npm cache clean --force --cache=/tmp/nc",
    ],
)  # fmt: skip
def test_a_cache_option_on_the_command_line_moves_the_cache(run: str) -> None:
    """Built for real: ``yarn install --cache-folder /tmp/yarn-cache && yarn cache clean
    --cache-folder /tmp/yarn-cache`` got a mount of yarn's default cache and lost its cleanup,
    so /tmp/yarn-cache stayed in the image (293,484,554 -> 299,655,497 bytes)."""
    out = _run(f"FROM node:18-slim\nWORKDIR /app\nCOPY . .\nRUN {run}\n")
    assert "cache clean" in out and "/usr/local/share/.cache/yarn" not in out, out
    assert "target=/root/.npm" not in out, out


def test_never_adds_syntax_directive() -> None:
    assert "# syntax" not in _run("FROM python:3.12\nRUN pip install flask\n")


def test_cleanup_kept_when_it_is_about_the_image() -> None:
    out = _run(
        "FROM debian:12\nRUN apt-get update && apt-get install -y gcc && rm -rf /tmp/build\n"
    )
    assert "rm -rf /tmp/build" in out


def test_cleanup_next_to_a_comment_line_is_kept() -> None:
    text = "FROM node:18\nRUN npm ci \\\n# keep the image small\n && npm cache clean --force\n"
    out = _run(text)
    assert "# keep the image small" in out and "npm cache clean" in out


def test_non_root_numeric_user_without_home_is_left_alone() -> None:
    text = "FROM python:3.12\nUSER 1000\nRUN pip install flask\n"
    assert _run(text) == text


def test_user_root_again_uses_root_home() -> None:
    text = "FROM python:3.12\nUSER app\nUSER root\nRUN pip install flask\n"
    assert "target=/root/.cache/pip" in _run(text)


def test_go_without_golang_image_uses_home_gopath() -> None:
    out = _run("FROM debian:12\nENV CGO_ENABLED=0\nRUN go build ./...\n")
    assert "target=/root/go/pkg/mod" in out and "target=/root/.cache/go-build" in out


def test_cargo_home_from_env() -> None:
    text = (
        'FROM debian:12\nENV CARGO_HOME=/opt/cargo\nRUN cargo fetch\nRUN cargo build\nCMD ["app"]\n'
    )
    out = _run(text)
    assert "target=/opt/cargo/registry" in out and "target=/opt/cargo/git/db" in out


def test_maven_repo_local_flag_wins() -> None:
    out = _run("FROM maven:3.9\nRUN mvn -Dmaven.repo.local=/m2 package\n")
    assert "target=/m2," in out


def test_sudo_and_env_prefixes_are_seen_through() -> None:
    out = _run("FROM ubuntu:22.04\nRUN sudo apt-get install -y vim\n")
    assert "target=/var/cache/apt" in out


def test_removing_the_last_command_takes_its_continuation_along() -> None:
    """Regression: `make\\` + `&& rm -rf lists` left a dangling backslash that swallowed the next line."""
    text = "FROM debian:12\nRUN apt-get update\\\n && apt-get install -y make\\\n && rm -rf /var/lib/apt/lists/*\nWORKDIR /opt\n"
    out = _run(text)
    assert out.endswith(
        "apt-get -o Dir::Cache::Archives=/var/cache/apt/debs install -y make\nWORKDIR /opt\n"
    )


@pytest.mark.parametrize("flag", ["--no-cache-dir", "--no-cache", "--no-ca"])
def test_pip_abbreviations_of_no_cache_dir_are_dropped(flag: str) -> None:
    """pip takes any unambiguous prefix of a long option: ``--no-cache`` switches the cache
    off as ``--no-cache-dir`` does, so the mount would cache nothing if it stayed."""
    out = _run(f"FROM python:3.12\nRUN pip install {flag} flask\n")
    assert "--mount=type=cache,target=/root/.cache/pip" in out
    assert out.endswith("pip install flask\n")


def test_pip_options_that_only_start_like_no_cache_stay() -> None:
    out = _run("FROM python:3.12\nRUN pip install --no-compile --no-cache-dir flask\n")
    assert out.endswith("pip install --no-compile flask\n")


def test_removing_a_flag_keeps_the_line_layout() -> None:
    text = "FROM python:3.12\nRUN pip install \\\n    --no-cache-dir flask\n"
    assert _run(text).endswith("pip install \\\n    flask\n")


@pytest.mark.parametrize(
    "copy, context_file, mounted",
    [
        ("COPY --from=build /root/.cache/pip /root/.cache/pip", None, False),  # into it
        ("COPY wheels /root/.cache/pip/wheels", None, False),  # below it
        ("COPY requirements.txt .", None, True),  # a file lands at /requirements.txt
        ("COPY . .", None, False),  # the whole context at /: unknown without it
        ("COPY . .", "app.py", True),  # the context shows no root/.cache
        ("COPY . .", "root/.cache/pip/http/x", False),  # the context has the path
        ("ADD rootfs.tar.gz /", "rootfs.tar.gz", False),  # unpacked: anything may land
        ("COPY --from=build /root /root", None, False),  # another stage's directory
        ("ADD https://example.com/x.tar.gz /root/", None, True),  # a download: one file
        ("ADD https://example.com/pip /root/.cache/", None, False),  # ... named like the cache
        ("ADD https://github.com/a/b.git /root/", None, False),  # a git tree: any path
    ],
)
def test_no_mount_over_files_an_earlier_copy_put_there(
    tmp_path, copy: str, context_file: str | None, mounted: bool
) -> None:
    """A mount hides what the image has at its target from the RUN: a directory an earlier
    COPY/ADD may have filled gets no mount (``pip install --no-index --find-links`` of copied
    wheels failed on the empty mount), and a copy that cannot reach it changes nothing."""
    text = (
        "FROM python:3.12 AS build\nRUN echo\nFROM python:3.12\nWORKDIR /\n"
        f"{copy}\nRUN pip install -r requirements.txt\n"
    )
    context = BuildContext(None)
    if context_file is not None:
        (tmp_path / context_file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / context_file).write_text("x\n")
        (tmp_path / "requirements.txt").write_text("six\n")
        context = BuildContext(tmp_path)
    result = rewrite(text, None, context, Settings(frozenset({"cache-mount"})))
    assert ("target=/root/.cache/pip" in result.output) is mounted
    if not mounted:
        reason = (  # unpacked at /, it may bring /etc/pip.conf: that reason comes first
            "line 5 unpacks an archive that may hold a configuration of pip"
            if copy.startswith("ADD rootfs")
            else "/root/.cache/pip holds files from line 5"
        )
        assert any(reason in f.message for f in result.suggestions)


@pytest.mark.parametrize(
    "evidence, root",
    [
        ("RUN apt-get update && apt-get install -y git", True),
        ("RUN DEBIAN_FRONTEND=noninteractive apt-get install -y git && echo ok", True),
        ("RUN useradd -m app", True),
        ('RUN ["apk", "add", "git"]', True),
        ("RUN apt-get install -y git || true", False),  # its failure is forgiven
        ("RUN apt-get install -y git; echo done", False),  # the status is echo's
        ("RUN sudo apt-get install -y git", False),  # sudo: any user
        ("RUN apt-get install -s git", False),  # a simulation writes nothing
        ("RUN if true; then apt-get install -y git; fi", False),  # nested
        ("RUN apt-get download git", False),  # any user may download
        ("RUN apk add --root=/tmp/r git", False),  # into a root directory a user may own
        ("RUN apt-get install -y git\nUSER $APP", False),  # a later USER resets it
    ],
)
def test_a_command_only_root_can_run_shows_an_unknown_base_images_user(
    evidence: str, root: bool
) -> None:
    """The base image's user is unknown, so a user's cache is too; a command whose failure
    fails its RUN and that only root can run (a system install, ``useradd``) shows the RUN
    and those after it run as root, as the original builds. (The cache directory is set in
    the Dockerfile: the unknown image could set HOME or PIP_CACHE_DIR.)"""
    text = f"FROM acme/base:1\nENV PIP_CACHE_DIR=/var/cache/pip\n{evidence}\nRUN pip install six\n"
    mounted = "target=/var/cache/pip" in _run(text)
    assert mounted is root
    if not root:
        assert any(
            "a cache mount belongs to root, and this RUN's user is unknown" in m
            for m in _fixes(text)
        )


@pytest.mark.parametrize(
    "base, user",
    [("acme/base:1", "USER root\n"), ("jupyter/base-notebook", "USER root\n"), ("acme/b", "")],
)
def test_an_images_unknown_environment_may_move_a_users_cache(base: str, user: str) -> None:
    """An image msdfix does not know, or one that starts as another user, may set HOME or
    PIP_CACHE_DIR (jupyter's images keep HOME=/home/jovyan after ``USER root``): root's pip
    cache is not known to be /root/.cache/pip, and dropping ``--no-cache-dir`` could leave
    the cache in the image. apt's cache is a fixed path: it is still mounted."""
    text = (
        f"FROM {base}\n{user}RUN apt-get update && apt-get install -y git\n"
        "RUN pip install --no-cache-dir six\n"
    )
    out = _run(text)
    assert "target=/var/cache/apt" in out
    assert "pip install --no-cache-dir six" in out
    assert any(
        f"pip: its cache depends on HOME, PIP_CACHE_DIR, XDG_CACHE_HOME, which base image {base} may set"
        in m
        for m in _fixes(text)
    ), _fixes(text)


def test_a_known_root_images_environment_is_known() -> None:
    """Official images that start as root set neither HOME nor a pip variable."""
    out = _run("FROM python:3.12\nRUN pip install --no-cache-dir six\n")
    assert (
        "RUN --mount=type=cache,target=/root/.cache/pip \\\n    --mount=type=tmpfs,target=/root/.cache/pip/wheels \\\n    pip install six"
        in out
    )


@pytest.mark.parametrize(
    "cleanup, reason",
    [
        ("rm -rf $POETRY_CACHE_DIR", "the RUN deletes /tmp/pc, which would contain the mount"),
        ("rm -rf ${POETRY_CACHE_DIR}/*", "the RUN deletes /tmp/pc, which would contain the mount"),
        ("rm -rf $UNSET", "the RUN deletes $UNSET, a path msdfix cannot resolve"),
    ],
)
def test_an_rm_of_a_variable_is_read_as_the_path_it_names(cleanup: str, reason: str) -> None:
    """``rm -rf $POETRY_CACHE_DIR`` with the cache mounted below it fails the build
    ("Device or resource busy"): the variable is expanded, and one msdfix cannot expand may
    name the mount, so nothing is mounted."""
    text = (
        "FROM python:3.12\nENV POETRY_CACHE_DIR=/tmp/pc\nARG UNSET\nWORKDIR /app\n"
        f"RUN poetry install --no-root && {cleanup}\n"
    )
    assert "--mount" not in _run(text)
    assert any(reason in m for m in _fixes(text)), _fixes(text)


@pytest.mark.parametrize(
    "text, target",
    [
        ("ENV XDG_CACHE_HOME=/tmp/.cache\nRUN pip install flask\n", "/tmp/.cache/pip"),
        ("RUN HOME=/tmp pip install flask\n", "/tmp/.cache/pip"),
        ("ENV XDG_CACHE_HOME=/x\nRUN CGO_ENABLED=0 go build ./...\n", "/x/go-build"),
    ],
)
def test_the_cache_follows_xdg_cache_home_and_an_inline_home(text: str, target: str) -> None:
    """pip, uv, poetry, pipenv, pdm and go keep ``~/.cache/<tool>`` under XDG_CACHE_HOME;
    ``HOME=/tmp pip ...`` moves ``~``. A mount at /root/.cache would miss the cache and,
    with ``--no-cache-dir`` dropped, leave it in the image."""
    base = "golang:1.22" if "go build" in text else "python:3.12"
    assert f"target={target}" in _run(f"FROM {base}\n{text}")


@pytest.mark.parametrize(
    "later",
    [
        "RUN timeout 600 apt-get install -y jq",  # a wrapper with an argument of its own
        'RUN apt-get satisfy -y "jq (>= 1.6)"',  # any apt subcommand but a few reads the lists
        "RUN nice -n 10 apt-get install -y jq",
    ],
)
def test_a_later_install_that_reads_the_lists_keeps_them_in_the_image(later: str) -> None:
    """Built for real by the exploration: with the lists mounted, the later install failed with
    "Unable to locate package"."""
    text = f"FROM debian:12\nRUN apt-get update && apt-get install -y curl\n{later}\n"
    assert "target=/var/lib/apt/lists" not in _run(text)
    assert any("/var/lib/apt/lists stays in the image: RUN at line 3" in m for m in _fixes(text))


@pytest.mark.parametrize(
    "reads",
    [
        "dpkg -i /var/cache/apt/archives/*.deb",
        'for deb in /var/cache/apt/archives/*.deb; do dpkg-deb -x "$deb" /rootfs; done',
        "dpkg-deb -x $(ls /var/cache/apt/archives/jq_*.deb) /rootfs",
        "D=/var/cache/apt/archives && cp $D/*.deb /debs/",
    ],
)
def test_a_run_that_reads_the_apt_archives_keeps_them(reads: str) -> None:
    """``--download-only`` then a read of /var/cache/apt/archives/*.deb, in a command, a loop,
    a substitution or a variable: moving the .debs to the mount's directory made dpkg find
    none (built for real: "failed to read archive")."""
    text = (
        f"FROM debian:12\nRUN apt-get update && apt-get install -y --download-only jq && {reads}\n"
    )
    out = _run(text)
    assert "Dir::Cache::Archives" not in out and "target=/var/cache/apt," not in out
    assert any("the RUN reads /var/cache/apt, where the .debs" in m for m in _fixes(text))


@pytest.mark.parametrize(
    "offline", ["RUN GOPROXY=off go build .", "ENV GOPROXY=off\nRUN go build ."]
)
def test_goproxy_off_reads_the_module_store_offline(offline: str) -> None:
    text = f'FROM golang:1.22\nWORKDIR /app\nCOPY go.mod ./\nRUN go mod download\nCOPY . .\n{offline}\nCMD ["app"]\n'
    out = _run(text)
    assert "target=/go/pkg/mod" not in out
    assert any("/go/pkg/mod is read offline by line" in m for m in _fixes(text))


def test_a_command_run_as_another_user_gets_no_mount() -> None:
    """``sudo -u app pip ...`` caches in app's home, not root's."""
    text = "FROM python:3.12\nRUN sudo -u app pip install --no-cache-dir flask\n"
    assert _run(text) == text
    assert any("pip: runs as another user" in m for m in _fixes(text))


def test_only_a_wrappers_own_options_choose_its_user() -> None:
    """``sudo pip install --user flask`` runs pip as root: ``--user`` is pip's option, not
    sudo's, so root's cache is the one to mount."""
    text = "FROM python:3.12\nRUN sudo pip install --user --no-cache-dir flask\n"
    assert "target=/root/.cache/pip" in _run(text)
    assert not any("runs as another user" in m for m in _fixes(text))


def test_apt_at_container_start_keeps_the_lists(tmp_path: Path) -> None:
    """An entrypoint script that runs ``apt-get install $EXTRA_PACKAGES`` needs the lists in
    the image (a real build's container failed with "Unable to locate package")."""
    (tmp_path / "entrypoint.sh").write_text('#!/bin/sh\napt-get install -y $EXTRA\nexec "$@"\n')
    text = (
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"
        'COPY entrypoint.sh /entrypoint.sh\nENTRYPOINT ["/entrypoint.sh"]\nCMD ["sh"]\n'
    )
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"cache-mount"})))
    assert "--mount" not in result.output
    assert any("apt runs at container start" in f.message for f in result.suggestions)


@pytest.mark.parametrize(
    "text, mounted",
    [
        ("FROM debian:12\nRUN apt-get update && apt-get install -y jq\n", False),
        ("FROM debian:12\nRUN apt-get update && apt-get install -y jq && rm -rf /var/lib/apt/lists/*\n", True),
        ("FROM debian:12 AS build\nRUN apt-get update && apt-get install -y jq\nFROM scratch\nCOPY --from=build /usr/bin/jq /jq\n", True),
        ("FROM debian:12\nRUN apt-get update && apt-get install -y jq\nONBUILD RUN apt-get install -y curl\n", False),
    ],
)  # fmt: skip
def test_lists_the_final_image_keeps_stay_in_it(text: str, mounted: bool) -> None:
    """The original leaves its apt lists in the final image: containers (an entrypoint's
    ``apt-get install``) and images built FROM it (ONBUILD, a CI base image) may install without
    refreshing, so the lists stay; a build stage's, or lists the RUN deletes, are mounted."""
    assert ("target=/var/lib/apt/lists" in _run(text)) is mounted


def test_find_exec_is_a_command_msdfix_does_not_read() -> None:
    """``find /tmp/debs -exec apt-get install {} +`` installs from the lists: they stay."""
    text = (
        "FROM debian:12 AS build\nRUN apt-get update && apt-get install -y curl\n"
        "RUN find /tmp/debs -name '*.deb' -exec apt-get install -y {} +\n"
        "FROM scratch\nCOPY --from=build /usr/bin/curl /curl\n"
    )
    assert "target=/var/lib/apt/lists" not in _run(text)
    assert "target=/var/lib/apt/lists" in _run(text.replace(" -exec apt-get install -y {} +", ""))


def test_a_cache_directory_set_in_the_tools_configuration_is_unknown() -> None:
    """``npm config set cache /var/cache/npm``: a /root/.npm mount with ``npm cache clean``
    dropped left 1.4 MB of cache in a real image."""
    text = (
        "FROM node:20\nRUN npm config set cache /var/cache/npm --global\n"
        "RUN npm install -g cowsay && npm cache clean --force\n"
    )
    assert _run(text) == text
    assert any("RUN at line 2 configures where it caches" in m for m in _fixes(text))


PIP_CONF = (
    "FROM python:3.12-slim\nCOPY {src} /etc/pip.conf\nWORKDIR /app\nCOPY requirements.txt .\n"
    "RUN pip install --no-cache-dir -r requirements.txt\n"
)


@pytest.mark.parametrize(
    "files, src, mounted",
    [
        ({"pip.conf": "[global]\ncache-dir = /var/cache/pip\n"}, "pip.conf", False),
        ({"conf/pip.conf": "[global]\ncache_dir=/var/cache/pip\n"}, "conf/", False),
        ({"pip.conf": "[global]\ntimeout = 60\n"}, "pip.conf", True),  # the cache stays put
    ],
)
def test_a_copied_configuration_that_moves_the_cache_declines(
    tmp_path: Path, files: dict[str, str], src: str, mounted: bool
) -> None:
    """``COPY pip.conf /etc/pip.conf`` with ``cache-dir``: built for real, the mount at
    /root/.cache/pip (with ``--no-cache-dir`` dropped) left pip's cache in /var/cache/pip of
    the image."""
    for rel, text in {**files, "requirements.txt": "flask\n"}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    text = PIP_CONF.format(src=src)
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"cache-mount"})))
    assert ("--mount=type=cache" in result.output) is mounted
    if not mounted:
        messages = [f.message for f in result.suggestions]
        assert any("line 2 copies a configuration of pip" in m for m in messages), messages


@pytest.mark.parametrize(
    "text",
    [
        "FROM python:3.12\nCOPY pip.conf /etc/pip.conf\nRUN pip install flask\n",  # unreadable
        "FROM python:3.12\nENV PIP_CONFIG_FILE=/etc/custom.cfg\nRUN pip install flask\n",
        "FROM golang:1.22\nRUN go env -w GOMODCACHE=/srv/mod\nRUN go mod download\n",
        "FROM node:20\nRUN pnpm config set store-dir /srv/store\nRUN pnpm install\n",
        "FROM python:3.12\nRUN printf '[global]\\ncache-dir=/x\\n' > /etc/pip.conf\nRUN pip install flask\n",
    ],
)
def test_a_configuration_msdfix_cannot_read_declines(text: str) -> None:
    assert _run(text) == text


@pytest.mark.parametrize(
    "cleanup, lists_mounted",
    [
        ("apt-get clean", False),  # empties the archives only: the image keeps its lists
        ("apt-get clean && rm -rf /var/lib/apt/lists/*", True),
    ],
)
def test_apt_get_clean_is_no_list_cleanup(cleanup: str, lists_mounted: bool) -> None:
    """Built for real: with the lists mounted after `apt-get clean`, the image had none and a
    later `apt-get install` found no package."""
    out = _run(
        "FROM debian:12-slim\n"
        f"RUN apt-get update && apt-get install -y --no-install-recommends curl && {cleanup}\n"
        'CMD ["curl", "--version"]\n'
    )
    assert "target=/var/cache/apt," in out and "apt-get clean" not in out
    assert ("target=/var/lib/apt/lists" in out) is lists_mounted


def test_the_wheels_pip_builds_are_not_shared_between_builds() -> None:
    """pip keys a wheel it built from an sdist by the sdist alone: a uWSGI wheel built before
    libpcre2-dev was installed came back from the shared cache (built for real: routing
    lost). Its wheels/ folder gets a tmpfs of its own; downloads stay shared."""
    text = "FROM python:3.12\nRUN pip install --no-cache-dir uwsgi==2.0.28\n"
    result = rewrite(text, None, BuildContext(None), Settings(frozenset({"cache-mount"})))
    assert (
        "RUN --mount=type=cache,target=/root/.cache/pip \\\n"
        "    --mount=type=tmpfs,target=/root/.cache/pip/wheels \\\n"
        "    pip install uwsgi==2.0.28\n"
    ) in result.output
    assert "/root/.cache/pip/wheels stays per build (tmpfs)" in result.applied[0].message


@pytest.mark.parametrize(
    "install, safe",
    [
        ("uv pip install --system -r requirements.txt", False),  # an sdist may be built
        ("uv pip install --system --only-binary :all: -r requirements.txt", True),
        ("uv pip install --system --no-build -r requirements.txt", True),
    ],
)
def test_a_uv_cache_is_safe_only_where_nothing_is_built(
    tmp_path: Path, install: str, safe: bool
) -> None:
    """uv keeps the wheels it builds in its cache (versioned folders a tmpfs cannot name)."""
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    text = f"FROM python:3.12-slim\nCOPY requirements.txt .\nRUN {install}\n"
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"cache-mount"})))
    assert result.changed is safe, [f.message for f in result.suggestions]
    if not safe:
        assert any("uv keeps the wheels it builds" in f.message for f in result.suggestions)


@pytest.mark.parametrize(
    "run",
    [
        "gosu app pip install --user flask",
        "su-exec app pip install --user flask",
        "runuser -u app -- pip install --user flask",
        "setpriv --reuid=app --regid=app --init-groups pip install --user flask",
        "chroot --userspec=app / pip install --user flask",
        "doas -u app pip install --user flask",
    ],
)
def test_a_user_switching_wrapper_gets_no_mount(run: str) -> None:
    """The mount would be root's cache while the tool writes the other user's HOME."""
    out = _run(f"FROM python:3.12\nRUN useradd -m app\nRUN {run}\n")
    assert "--mount" not in out


def _rewrite(text: str, ctx: Path | None = None, unsafe: bool = False):
    settings = Settings(frozenset({"cache-mount"}), unsafe=unsafe)
    return rewrite(text, None, BuildContext(ctx), settings)


def _messages(result) -> list[str]:
    return [f.message for f in result.applied + result.suggestions]


POETRY_UWSGI = (
    "FROM python:3.12\nENV POETRY_VIRTUALENVS_CREATE=false\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends libpcre2-dev\n"
    "RUN pip install --no-cache-dir poetry==1.8.5\nWORKDIR /app\n"
    "COPY pyproject.toml poetry.lock ./\nRUN poetry install --only main --no-root\n"
)
WHEEL = "flask-3.0.3-py3-none-any.whl"
SDIST = "uwsgi-2.0.28.tar.gz"


@pytest.mark.parametrize(
    "files, safe",
    [
        ([SDIST], False),  # built here: the wheel poetry builds lands in artifacts/
        ([WHEEL], True),
        (None, False),  # no lock file: unknown is not "no sdist"
    ],
)
def test_poetry_artifacts_are_shared_only_where_nothing_is_built(
    tmp_path: Path, files: list[str] | None, safe: bool
) -> None:
    """poetry keeps the wheels it builds from sdists in artifacts/, in the same hashed dirs
    as the archives it downloads: a uWSGI wheel built without PCRE came back after
    libpcre2-dev was added (built for real: routing lost)."""
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\nname = 'app'\n")
    if files is not None:
        lines = "".join(f'    {{file = "{f}", hash = "sha256:0"}},\n' for f in files)
        (tmp_path / "poetry.lock").write_text(
            f'[[package]]\nname = "pkg"\nversion = "1"\nfiles = [\n{lines}]\n'
        )
    result = _rewrite(POETRY_UWSGI, tmp_path)
    poetry = [m for m in _messages(result) if "poetry" in m]
    assert ("target=/root/.cache/pypoetry/artifacts" in result.output) is safe, poetry
    if not safe:
        assert any("poetry keeps the wheels it builds from source" in m for m in poetry)
        out = _rewrite(POETRY_UWSGI, tmp_path, unsafe=True).output
        assert "target=/root/.cache/pypoetry/artifacts" in out  # offered, marked unsafe


def test_poetry_no_binary_builds_what_the_lock_lists_as_wheels(tmp_path: Path) -> None:
    """``installer.no-binary`` builds packages from sdists although wheels exist."""
    (tmp_path / "pyproject.toml").write_text("[tool.poetry]\nname = 'app'\n")
    (tmp_path / "poetry.lock").write_text(
        f'[[package]]\nname = "flask"\nversion = "3"\nfiles = [{{file = "{WHEEL}"}}]\n'
    )
    text = POETRY_UWSGI.replace("RUN poetry", "RUN POETRY_INSTALLER_NO_BINARY=:all: poetry")
    assert "pypoetry/artifacts" not in _rewrite(text, tmp_path).output
    (tmp_path / "poetry.toml").write_text('[installer]\nno-binary = [":all:"]\n')
    assert "pypoetry/artifacts" not in _rewrite(POETRY_UWSGI, tmp_path).output


def test_pipenv_caches_keep_the_wheels_pip_builds_per_build() -> None:
    """pipenv runs pip with PIP_CACHE_DIR set to its own cache: pip's layout, pip's built
    wheels in wheels/ under both caches."""
    result = _rewrite("FROM python:3.12\nRUN pip install pipenv && pipenv install --system\n")
    for cache in ("/root/.cache/pipenv", "/root/.cache/pip"):
        assert f"--mount=type=tmpfs,target={cache}/wheels" in result.output
        assert f"{cache}/wheels stays per build (tmpfs)" in result.applied[0].message


def test_pdm_wheels_holding_only_builds_are_not_mounted() -> None:
    """pdm's wheels/ holds nothing but the wheels it built from sdists: sharing it shares
    builds and caches no download."""
    out = _run("FROM python:3.12\nRUN pip install pdm && pdm install\n")
    assert "target=/root/.cache/pdm/http" in out and "pdm/wheels" not in out


PNPM = (
    "FROM node:18\nENV npm_config_build_from_source=true npm_config_sqlite=/usr\n"
    "WORKDIR /app\nCOPY package.json pnpm-lock.yaml ./\nRUN {install}\n"
)
PNPM_LOCK = "lockfileVersion: '{version}'\n\npackages:\n\n  /sqlite3@5.1.7:\n{entry}\n"


@pytest.mark.parametrize(
    "version, entry, install, safe",
    [
        ("6.0", "    resolution: {integrity: sha512-x}\n    requiresBuild: true\n", "", False),
        ("6.0", "    resolution: {integrity: sha512-x}\n    dev: false\n", "", True),
        ("5.4", "    resolution: {integrity: sha512-x}\n", "", True),
        ("6.0", "    resolution: {tarball: https://codeload.github.com/a/b}\n", "", False),
        ("9.0", "    resolution: {integrity: sha512-x}\n", "", False),  # v9: no requiresBuild
        ("6.0", "    resolution: {integrity: sha512-x}\n", "pnpm install", False),  # not frozen
        ("6.0", "    resolution: {integrity: sha512-x}\n", "pnpm add sqlite3", False),
        ("9.0", "    resolution: {integrity: sha512-x}\n", "pnpm fetch", True),  # no scripts
        (None, "", "", False),  # no build context
    ],
)
def test_the_pnpm_store_is_shared_only_where_no_install_script_runs(
    tmp_path: Path, version: str | None, entry: str, install: str, safe: bool
) -> None:
    """pnpm keeps what install scripts build in its store (side-effects-cache, on by default),
    keyed without build variables or system libraries: node-sqlite3 came back with its
    bundled SQLite instead of the system one the Dockerfile asked for (built for real)."""
    (tmp_path / "package.json").write_text('{"dependencies": {"sqlite3": "5.1.7"}}')
    if version is not None:
        (tmp_path / "pnpm-lock.yaml").write_text(PNPM_LOCK.format(version=version, entry=entry))
    text = PNPM.format(install=install or "pnpm install --frozen-lockfile --prod")
    result = _rewrite(text, tmp_path if version is not None else None)
    assert ("pnpm/store" in result.output) is safe, _messages(result)
    if not safe:
        assert any("no package runs an install script" in m for m in _messages(result))


GO_CGO = (
    "FROM {image}\nARG EDITION=community\nWORKDIR /src\n{setup}COPY . .\n"
    "RUN go build -o /usr/local/bin/licsrv .\n"
)
CGO_MAIN = 'package main\n\n// #include <acme/edition.h>\nimport "C"\n\nfunc main() {}\n'
PLAIN_MAIN = 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println() }\n'


@pytest.mark.parametrize(
    "image, setup, main, gomod, build_cache",
    [
        ("golang:1.22", 'RUN /tmp/install-sdk.sh "$EDITION"\n', CGO_MAIN, "", False),
        ("golang:1.22", "", None, "", False),  # no build context: cgo unknown
        ("golang:1.22", "ENV CGO_ENABLED=0\n", None, "", True),
        ("golang:1.22", "ARG CGO_ENABLED=0\n", None, "", False),  # --build-arg may set 1
        ("golang:1.22", "", PLAIN_MAIN, "", True),  # the context shows no cgo
        ("golang:1.22", "", PLAIN_MAIN, "require github.com/mattn/go-sqlite3 v1.14.22\n", False),
        ("golang:1.22-alpine", "", None, "", True),  # no C compiler: Go turns cgo off
        ("golang:1.22-alpine", "RUN apk add --no-cache git\n", None, "", True),
        ("golang:1.22-alpine", "RUN apk add --no-cache gcc musl-dev\n", None, "", False),
        ("golang:1.22-alpine", "RUN ./install-toolchain.sh\n", None, "", False),
        (
            "golang:1.22-alpine",
            "RUN wget -qO- https://x/cc.tgz | tar -xz -C /usr\n",
            None,
            "",
            False,
        ),
        ("golang:1.22-alpine", "COPY --from=tonistiigi/xx /usr/bin/ /usr/bin/\n", None, "", False),
        ("golang:1.19-alpine", "", None, "", False),  # before Go 1.20 cgo stays on
        ("golang:alpine3.10", "", None, "", False),  # the last Go built on Alpine 3.10: 1.13
        ("golang:1-alpine3.15", "", None, "", False),  # 1.19, the last on Alpine 3.15
        ("golang:alpine3.19", "", None, "", True),
    ],
)
def test_the_go_build_cache_is_shared_only_without_cgo(
    tmp_path: Path, image: str, setup: str, main: str | None, gomod: str, build_cache: bool
) -> None:
    """``go help cache``: the build cache "does not detect changes to C libraries imported
    with cgo": a binary built against another build's C header came back (built for real).
    The module cache stays shared (go.sum verifies downloads); the build cache only where
    cgo is off or compiles nothing of the build's own."""
    if main is not None:
        (tmp_path / "main.go").write_text(main)
        (tmp_path / "go.mod").write_text(f"module example.com/app\n\ngo 1.22\n{gomod}")
    text = GO_CGO.format(image=image, setup=setup)
    result = _rewrite(text, tmp_path if main is not None else None)
    assert "target=/go/pkg/mod" in result.output, _messages(result)
    assert ("target=/root/.cache/go-build" in result.output) is build_cache, _messages(result)
    if not build_cache:
        assert any(
            "/root/.cache/go-build is not mounted: Go's build cache misses changes to the C" in m
            for m in _messages(result)
        )


def test_a_go_version_from_a_build_argument_keeps_cgo_possible() -> None:
    """``golang:${GO_VERSION}-alpine``: the default names Go 1.22, but ``--build-arg
    GO_VERSION=1.19`` builds with a Go that keeps cgo on without a C compiler."""
    text = "ARG GO_VERSION=1.22\n" + GO_CGO.format(image="golang:${GO_VERSION}-alpine", setup="")
    result = _rewrite(text, None)
    assert "target=/go/pkg/mod" in result.output, _messages(result)
    assert "target=/root/.cache/go-build" not in result.output, _messages(result)


def test_go_mod_download_compiles_nothing_and_keeps_both_mounts() -> None:
    out = _run(
        "FROM golang:1.22\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\n"
        'COPY . .\nRUN go build -o /app .\nCMD ["/app"]\n'
    )
    assert out.count("target=/go/pkg/mod") == 2 and "target=/root/.cache/go-build" in out


def test_a_store_no_later_run_reads_stays_for_the_container() -> None:
    """A development image: ``go mod download`` and a start command that runs ``go build``
    (as air does; ``reload`` is no name msdfix knows). With the store mounted the image held
    no module, and the start's build failed offline (built for real); a later RUN that builds
    gets the mount."""
    text = 'FROM golang:1.22\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCMD ["reload"]\n'
    assert "target=/go/pkg/mod" not in _run(text)
    assert any("no later RUN reads what `go mod download` downloads" in m for m in _fixes(text))
    built = text.replace('CMD ["reload"]', 'COPY . .\nRUN go build -o /app .\nCMD ["/app"]')
    assert "target=/go/pkg/mod" in _run(built)


def test_go_sources_in_a_directory_msdfix_does_not_list_are_unknown(tmp_path: Path) -> None:
    """The context walk skips node_modules, target, .venv ...: Go files there are unseen."""
    (tmp_path / "go.mod").write_text("module example.com/app\n\ngo 1.22\n")
    (tmp_path / "main.go").write_text(PLAIN_MAIN)
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "c.go").write_text(CGO_MAIN)
    out = _rewrite(GO_CGO.format(image="golang:1.22", setup=""), tmp_path).output
    assert "target=/go/pkg/mod" in out and "go-build" not in out


@pytest.mark.parametrize(
    "arg", ["ARG PIP_CACHE_DIR=/opt/pipcache", "ARG XDG_CACHE_HOME=/opt/cache", "ARG HOME=/srv/build", "ARG PIP_CACHE_DIR"]
)  # fmt: skip
def test_a_cache_directory_a_build_argument_sets_is_unknown(arg: str) -> None:
    """``--build-arg PIP_CACHE_DIR=/x`` moves pip's cache: a mount at the ARG's default would
    leave it in the image, with --no-cache-dir dropped."""
    text = f"FROM python:3.12\n{arg}\nRUN pip install --no-cache-dir flask\n"
    assert _run(text) == text
    name = arg.split()[1].split("=")[0]
    assert any(f"depends on {name}, which a build argument sets" in m for m in _fixes(text))


@pytest.mark.parametrize(
    "reader",
    [
        # each failed for real (round 8): the later stage read the store the mount emptied
        "FROM golang:1.22\nRUN --mount=type=bind,from=modules,source=/go/pkg/mod,target=/go/pkg/mod GOPROXY=off go build ./...\n",
        "FROM golang:1.22\nCOPY --from=0 /go/pkg/mod /go/pkg/mod\nRUN GOPROXY=off go build ./...\n",
    ],
)  # fmt: skip
def test_a_store_another_stage_reads_stays_in_the_image(reader: str) -> None:
    text = f"FROM golang:1.22 AS modules\nCOPY go.mod go.sum ./\nRUN go mod download\n{reader}"
    assert "target=/go/pkg/mod go mod download" not in _run(text)
    assert any("/go/pkg/mod is used by line" in m for m in _fixes(text))


def test_an_exec_form_run_naming_the_cache_with_json_escapes_reads_it() -> None:
    """JSON lets ``\\/`` spell ``/``: ``RUN ["sh", "-c", "ls \\/root\\/.cache\\/pip"]`` lists
    the folder a mount would empty (its guard tested ``RUN [``'s first word, never ``[``)."""
    text = (
        "FROM python:3.11\nRUN pip install flask\n"
        'RUN ["sh", "-c", "ls \\/root\\/.cache\\/pip > \\/cached.txt"]\n'
    )
    assert "\\/root" in text and "/root/.cache/pip" not in text
    assert "--mount" not in _run(text)
    assert any("/root/.cache/pip is used by line 3" in m for m in _fixes(text))


def test_go_test_results_are_not_shared() -> None:
    """A mistyped ``--build-arg TZ`` passed the test gate as "(cached)" from an earlier build."""
    text = (
        "FROM golang:1.22\nENV CGO_ENABLED=0\nCOPY . .\nRUN go test ./... && go build -o /app .\n"
    )
    out = _run(text)
    assert "go-build" not in out
    assert any("keeps `go test` results" in m for m in _fixes(text))
    counted = text.replace("go test ./...", "go test -count=1 ./...")
    assert "target=/root/.cache/go-build" in _run(counted)


def test_an_image_that_starts_nothing_keeps_its_store() -> None:
    """A dependency image (no CMD) that other images build FROM offline: its module store
    came out empty."""
    text = "FROM golang:1.22\nCOPY go.mod go.sum ./\nRUN go mod download\n"
    assert "target=/go/pkg/mod" not in _run(text)
    built = text + 'COPY . .\nRUN go build -o /app .\nCMD ["/app"]\n'
    assert "target=/go/pkg/mod" in _run(built)


def test_a_last_cleanup_after_a_semicolon_stays_without_set_e() -> None:
    """``...; [ -n "$X" ] && apt-get install $X ; rm -rf /var/lib/apt/lists/*``: the rm made
    the RUN exit 0; without it the failed test ended the build (built for real)."""
    run = (
        "RUN apt-get update && apt-get install -y jq"
        ' ; [ -n "$X" ] && apt-get install -y $X ; rm -rf /var/lib/apt/lists/*\n'
    )
    out = _run(f"FROM debian:12\nARG X\n{run}")
    assert "rm -rf /var/lib/apt/lists/*" in out
    assert "rm -rf" not in _run(f"FROM debian:12\nARG X\n{run.replace('RUN ', 'RUN set -e; ')}")


@pytest.mark.parametrize(
    "run",
    [
        "export XDG_CACHE_HOME=/opt/xdg && pip install --no-cache-dir flask",
        "env PIP_CACHE_DIR=/opt/pip pip install --no-cache-dir flask",
        "set -a && . ./build.env && pip install --no-cache-dir flask",
    ],
)
def test_a_cache_variable_the_run_sets_itself_is_unknown(run: str) -> None:
    """The mount at /root/.cache/pip went unused while pip's cache landed in the image."""
    text = f"FROM python:3.12\nRUN {run}\n"
    assert _run(text) == text
    assert any("what the RUN sets itself" in m for m in _fixes(text))


def test_a_quoted_env_name_is_the_variable() -> None:
    """``ENV "XDG_CACHE_HOME"=/opt/xdg`` sets XDG_CACHE_HOME (BuildKit unquotes the name)."""
    out = _run('FROM python:3.12\nENV "XDG_CACHE_HOME"=/opt/xdg\nRUN pip install flask\n')
    assert "target=/opt/xdg/pip" in out


def test_a_stage_built_from_the_run_that_starts_the_tool_keeps_its_cache() -> None:
    """``docker build --target dev`` makes an image whose ``go run`` reads the modules the
    build stage downloaded: on a mount they would be downloaded again at every start."""
    text = (
        "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\n"
        "COPY . .\nRUN CGO_ENABLED=0 go build -o /app .\n\n"
        'FROM build AS dev\nCMD ["go", "run", "."]\n\n'
        'FROM gcr.io/distroless/static-debian12\nCOPY --from=build /app /app\nCMD ["/app"]\n'
    )
    assert _run(text) == text
    assert any("go runs at container start" in m for m in _fixes(text))
    without_dev = text.replace('FROM build AS dev\nCMD ["go", "run", "."]\n\n', "")
    assert "--mount=type=cache,target=/go/pkg/mod" in _run(without_dev)


@pytest.mark.parametrize(
    "head, wheelhouse",
    [
        ("", "/root/.cache/pip/wheelhouse"),
        ("ENV WHEELHOUSE=/root/.cache/pip/wheelhouse\n", "$WHEELHOUSE"),
        ("ENV PIP_FIND_LINKS=/root/.cache/pip/wheelhouse\n", ""),  # pip reads the variable
    ],
)
def test_files_a_run_leaves_in_the_cache_directory_for_a_later_run_get_no_mount(
    head: str, wheelhouse: str
) -> None:
    """``pip download -d /root/.cache/pip/wheelhouse`` then, after ``COPY . .``, ``pip install
    --no-index --find-links`` there: a mount on the install hid the wheels (the cold build
    failed), and through ``$WHEELHOUSE`` both RUNs were mounted, so a source edit with the
    cache mounts empty (CI) failed with "No matching distribution" (both built for real)."""
    links = f"--find-links {wheelhouse}" if wheelhouse else ""
    text = (
        f"FROM python:3.12\n{head}WORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip download --no-cache-dir -d /root/.cache/pip/wheelhouse -r requirements.txt\n"
        "COPY . .\n"
        f"RUN pip install --no-cache-dir --no-index {links} -r requirements.txt\n"
        'CMD ["python", "app.py"]\n'
    )
    assert "--mount=type=cache" not in _run(text)


def test_composer_mounts_the_cache_it_really_uses() -> None:
    """Composer as root caches in ~/.composer/cache unless an XDG_* variable is set or
    /etc/xdg exists (debian and the php images have neither): with only ~/.cache/composer
    mounted and `composer clear-cache` dropped, a real image kept the download cache."""
    text = (
        "FROM debian:bookworm\nWORKDIR /app\nCOPY composer.json composer.lock ./\n"
        "RUN composer install --no-dev && composer clear-cache\n"
    )
    out = _run(text)
    assert "target=/root/.composer/cache" in out
    assert "target=/root/.cache/composer" in out
    assert "clear-cache" not in out
    home = "FROM debian:bookworm\nENV COMPOSER_HOME=/opt/composer\nRUN composer install\n"
    assert _run(home).count("--mount=type=cache,target=/opt/composer/cache ") == 1


@pytest.mark.parametrize(
    "text, target",
    [
        # bash expands braces: /var/{lib/apt,cache/apt}/ deletes the apt mount point
        (
            'FROM debian:bookworm\nSHELL ["/bin/bash", "-c"]\nRUN apt-get update && apt-get '
            "install -y jq && apt-get clean && rm -rf /var/{lib/apt,cache/apt}/\n",
            "/var/cache/apt",
        ),
        (
            'FROM debian:sid\nSHELL ["/bin/bash", "-c"]\nRUN apt-get update && apt-get install '
            "-y libexif-dev && rm -rf /tmp/* /var/{tmp,cache}/* /var/lib/{apt,dpkg}/\n",
            "/var/cache/apt",
        ),
        # a glob in any component may match the mount point or a directory above it
        ("FROM python:3.12\nRUN pip install six && rm -rf /root/.c*\n", "/root/.cache/pip"),
        ("FROM python:3.12\nRUN pip install six && rm -rf /root/.[a-z]*\n", "/root/.cache/pip"),
        ("FROM python:3.12\nRUN pip install six && rm -rf /root/.cache/pi*\n", "/root/.cache/pip"),
        (
            "FROM debian:bookworm\nRUN apt-get update && apt-get install -y jq && rm -rf "
            "/var/*/apt\n",
            "/var/cache/apt",
        ),
        # a relative operand is read from WORKDIR and each cd
        ("FROM node:20\nWORKDIR /root\nRUN npm install -g ms && rm -rf .cache .npm/x\n", ""),
        (
            "FROM python:3.12\nENV PIP_CACHE_DIR=/tmp/pip-cache\n"
            "RUN cd /tmp && pip install six && rm -rf ./*\n",
            "/tmp/pip-cache",
        ),
        # find deletes directories too, the mount point included
        (
            "FROM debian:bookworm\nRUN apt-get update && apt-get install -y jq "
            "&& find /var/cache -mindepth 1 -delete\n",
            "/var/cache/apt",
        ),
        (
            "FROM node:20\nRUN npm install -g ms && find /root -depth -mindepth 1 "
            "-exec rm -rf {} +\n",
            "/root/.npm",
        ),
        # xargs rm deletes the words it reads
        ("FROM node:20\nRUN npm install -g ms && find / -name x | xargs rm -rf\n", "/root/.npm"),
    ],
)
def test_a_deletion_that_reaches_the_mount_point_declines_the_mount(text: str, target: str) -> None:
    """Built for real (round 11, bulk): each RUN kept its ``rm``/``find`` next to a mount it
    deletes, and failed with "Device or resource busy" where the original built."""
    out = _run(text)
    if target:
        assert f"target={target}" not in out, out
    else:  # `.cache` is outside the npm mount and stays; `.npm/x`, inside it, goes
        assert "--mount=type=cache,target=/root/.npm npm install -g ms && rm -rf .cache\n" in out


@pytest.mark.parametrize(
    "clean",
    [
        "find /root/.cache/pip -mindepth 1 -delete",
        "find /root/.cache/pip/ -mindepth 1 -exec rm -rf {} +",
        "rm -rf /root/.cache/pip/whe*",
    ],
)
def test_a_deletion_that_reaches_the_wheels_tmpfs_declines_the_pip_mount(clean: str) -> None:
    """Built for real (round 17): ``find /root/.cache/pip -mindepth 1 -delete`` keeps the
    cache's mount point but not pip's ``wheels/`` tmpfs below it: the rewrite failed with
    "cannot delete '/root/.cache/pip/wheels': Device or resource busy"."""
    text = f"FROM python:3.12\nRUN pip install docopt && {clean}\n"
    assert "--mount" not in _run(text)
    assert any("/root/.cache/pip/wheels too" in m or "matches" in m for m in _fixes(text))


def test_a_find_from_the_root_names_the_root_in_its_reason() -> None:
    """``find / ... -delete`` is reported as deleting under ``/`` (it printed an empty path)."""
    text = 'FROM python:3.12\nRUN pip install six && find / -path "*/.cache/*" -delete\n'
    assert any("everything under / with find" in m for m in _fixes(text))


@pytest.mark.parametrize(
    ("clean", "mounted"),
    [
        ('find / -name "*.pyc" -or -name "*.pyo" -delete', True),
        ('find / -name "*.pyc" -delete', True),
        ("find /root -name '*.log' -o -type f -exec rm -f {} +", True),
        ('find / -iname "*.PYC" -delete', True),
        ('find / -name ".cache" -exec rm -rf {} +', False),  # a directory above the mount
        ('find / -name "p*" -delete', False),  # pip
        ('find / -iname "WHEELS" -delete', False),  # the tmpfs below it
        ('find / \\( -name "*.pyc" -o -name "*.pyo" \\) -delete', False),  # not read
        ('find / -name "*.pyc" -o -delete', False),  # the second branch deletes anything
        ('find / -delete -name "*.pyc"', False),  # the test after the action filters nothing
    ],
)
def test_a_find_that_deletes_only_other_names_keeps_the_pip_mount(
    clean: str, mounted: bool
) -> None:
    """``find / -name '*.pyc' -or -name '*.pyo' -delete`` deletes only entries of those names
    (-delete binds to the last test), never the mount points ``/root/.cache/pip`` and its
    ``wheels/`` tmpfs: the mount was declined as "deletes everything under / with find" (a
    bulk file; built for real with the mount). A name that a directory on the way has, or an
    expression msdfix does not read, still declines."""
    text = f"FROM python:3.12\nRUN pip install six && {clean}\n"
    assert ("--mount=type=cache,target=/root/.cache/pip" in _run(text)) is mounted


@pytest.mark.parametrize(
    ("text", "target"),
    [
        (
            "FROM rust:1.75\nWORKDIR /src\nCOPY . .\nRUN cargo build --release\n",
            "/usr/local/cargo/registry",
        ),
        (
            "FROM rust:1.75\nWORKDIR /src\nCOPY . .\nRUN cargo build --release\n",
            "/usr/local/cargo/git/db",
        ),
        ("FROM gradle:8-jdk17\nWORKDIR /src\nCOPY . .\nRUN gradle build\n", "/root/.gradle/caches"),
        (
            "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /src\nCOPY . .\n"
            'RUN dotnet publish -c Release -o /app\nENTRYPOINT ["dotnet", "/app/app.dll"]\n',
            "/root/.nuget/packages",
        ),
    ],
)
def test_a_cache_whose_lock_is_outside_the_mount_is_locked(text: str, target: str) -> None:
    """Builds sharing a cache mount exclude each other only through locks on that mount:
    cargo locks ``$CARGO_HOME/.package-cache`` (outside the registry mount; the rust image
    creates it there), NuGet a file in its temp folder, and Gradle's owner of a lock answers
    release requests over UDP on loopback, which each BuildKit RUN has its own of (measured:
    every RUN sees its own ``lo``). ``sharing=locked`` makes concurrent builds wait instead."""
    assert f"--mount=type=cache,target={target},sharing=locked" in _run(text)


def test_go_clean_cache_stays_where_only_the_module_store_is_mounted() -> None:
    """Built for real (round 17): ``go build && go clean -cache`` with only /go/pkg/mod mounted
    (cgo not ruled out) lost its ``go clean -cache``, as if it emptied the module store: the
    build cache stayed in the image (1.6 MB for a one-file cgo program, 12 KB before)."""
    text = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go build -o /app . && go clean -cache\n"
    out = _run(text)
    assert (
        "RUN --mount=type=cache,target=/go/pkg/mod go build -o /app . && go clean -cache\n" in out
    )


def test_a_clean_command_that_also_empties_an_unmounted_cache_declines_the_mount() -> None:
    """``go clean -cache -modcache`` kept next to a /go/pkg/mod mount fails ("unlinkat
    /go/pkg/mod: device or resource busy", built for real); dropped, it leaves the build
    cache in the image. With the build cache not mounted, the RUN gets no mount."""
    text = (
        "FROM golang:1.22\nWORKDIR /src\nCOPY . .\n"
        "RUN go build -o /app . && go clean -cache -modcache\n"
    )
    assert "--mount" not in _run(text)
    assert any("also empties /root/.cache/go-build" in m for m in _fixes(text))
    both = text.replace("RUN go build", "RUN CGO_ENABLED=0 go build")
    assert "CGO_ENABLED=0 go build -o /app .\n" in _run(both)  # both mounted: the clean goes


def test_every_call_of_the_tool_counts_for_what_it_builds_into_the_cache() -> None:
    """Only the RUN's first uv call was read for builds from source: ``uv pip install
    --no-build setuptools && uv pip install -r requirements.txt`` got a safe mount, though the
    second call builds sdists into the shared cache (keyed without the build's environment)."""
    text = (
        "FROM python:3.12\nRUN pip install uv\nCOPY requirements.txt .\n"
        "RUN uv pip install --system --no-build setuptools "
        "&& uv pip install --system -r requirements.txt\n"
    )
    assert "target=/root/.cache/uv" not in _run(text)
    assert "target=/root/.cache/uv" in _run(text.replace("-r req", "--no-build -r req"))


def test_a_relative_cleanup_of_the_cache_is_dropped_like_an_absolute_one() -> None:
    """``WORKDIR /root`` + ``rm -rf .npm`` deletes the npm cache: with the mount, it goes."""
    out = _run("FROM node:20\nWORKDIR /root\nRUN npm install -g ms && rm -rf .npm\n")
    assert "RUN --mount=type=cache,target=/root/.npm npm install -g ms\n" in out


@pytest.mark.parametrize(
    "text",
    [
        "FROM python:3.12\nENV PIP_CACHE_DIR=/opt/app/cache\nRUN mkdir /opt/app && pip install six\n",
        "FROM python:3.12\nENV HOME=/home/app\nRUN useradd -m -d /home/app app && pip install six\n",
        "FROM python:3.12\nENV HOME=/home/app\nRUN useradd -m app && pip install six\n",
        "FROM python:3.12\nENV PIP_CACHE_DIR=/src/.pc\nRUN git clone https://x/y.git /src "
        "&& pip install /src\n",
    ],
)
def test_a_run_that_creates_a_parent_of_the_mount_gets_none(text: str) -> None:
    """BuildKit creates the mount's parents before the RUN: ``mkdir /opt/app`` failed with
    "File exists", and ``useradd -m`` left a root-owned home its user could not write
    (built for real, round 11)."""
    assert "--mount=type=cache" not in _run(text)
    assert any("which BuildKit creates first for the mount" in m for m in _fixes(text)), _fixes(
        text
    )


@pytest.mark.parametrize(
    "offline",
    [
        "npm ci --offline=true",
        "npm_config_offline=true npm ci",
        "NPM_CONFIG_OFFLINE=true npm ci",
        "npm config set offline true && npm ci",
        # round 26, built (npm 10.8.2): nopt reads these as --offline, ENOTCACHED on an empty mount
        "npm ci --no-offline false",
        "npm ci --no-offline=false",
        "npm ci --offline=0",
        "npm ci --offline=no",
        "npm ci --offline=False",
    ],
)
def test_every_spelling_of_npms_offline_mode_reads_the_images_cache(offline: str) -> None:
    """``RUN npm cache add ms@2.1.3`` then ``npm ci --offline=true``: the mount hid the cache
    the image holds and npm failed with ENOTCACHED on a cold build (built for real, round 11);
    ``--offline`` alone was the only spelling read."""
    text = (
        "FROM node:20\nRUN npm cache add ms@2.1.3\nWORKDIR /app\nCOPY package*.json ./\n"
        f"RUN {offline}\n"
    )
    assert "--mount=type=cache" not in _run(text)


def test_npm_offline_false_is_online() -> None:
    out = _run("FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci --offline=false\n")
    assert "--mount=type=cache,target=/root/.npm" in out


def test_a_run_that_reads_the_cache_directory_by_name_gets_no_mount() -> None:
    """``pip download -d /root/.cache/pip six`` then ``pip install --no-index --find-links
    /root/.cache/pip six``: the mount on the install hid the downloads ("No matching
    distribution found", built for real, round 11); the tool's own cache option is no read."""
    text = (
        "FROM python:3.11\nRUN pip download -d /root/.cache/pip six==1.16.0\n"
        "RUN pip install --no-index --find-links /root/.cache/pip six==1.16.0\n"
    )
    assert "--mount=type=cache" not in _run(text)
    own = "FROM python:3.11\nRUN pip install --cache-dir /root/.cache/pip six\n"
    assert "--mount=type=cache,target=/root/.cache/pip" in _run(own)


def test_relative_paths_start_at_a_known_images_default_workdir() -> None:
    """``rm package.deb`` in debian's default directory (/) names /package.deb, not an
    unknown path: the mount stays."""
    out = _run(
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y ./x.deb wget "
        "&& rm package.deb\n"
    )
    assert "--mount=type=cache,target=/var/cache/apt" in out
    home = "FROM python:3.12\nRUN useradd -m -u 1000 $NAME && pip install six\n"
    assert "--mount=type=cache,target=/root/.cache/pip" in _run(home)  # /home/... holds no mount


@pytest.mark.parametrize(
    "cleanup, mounted",
    [
        ("rm -rf ruby.tar.xz build/", True),  # no mount's path ends in these
        ("mkdir build", True),
        ("rm -rf cache", False),  # may be /var/cache, above the apt mount
        ("rm -rf ./apt", False),
        ("mkdir cache", False),
    ],
)
def test_a_relative_path_in_an_unknown_directory_declines_only_a_mount_it_may_reach(
    cleanup: str, mounted: bool
) -> None:
    """From an unknown directory (WORKDIR from a build argument) a relative literal path can
    be a mount point or a directory above one only if such a path ends with its parts: round
    11's rule had declined every mount of 9 corpus files for ``rm ruby.tar.xz``."""
    text = (
        "FROM debian:bookworm\nARG DIR=/src\nWORKDIR $DIR\n"
        f"RUN apt-get update && apt-get install -y curl && {cleanup}\n"
    )
    assert ("--mount=type=cache,target=/var/cache/apt" in _run(text)) is mounted


def test_git_clone_options_with_values_are_not_its_destination() -> None:
    """``git clone -b $BRANCH $URL /srv/src``: the destination is /srv/src, not the ``$URL``
    word after the branch's value (read as a directory msdfix cannot resolve)."""
    text = (
        "FROM debian:bookworm\nARG BRANCH=main URL=https://example.com/x.git\n"
        "RUN apt-get update && apt-get install -y git && git clone -b $BRANCH $URL /srv/src\n"
    )
    assert "--mount=type=cache,target=/var/cache/apt" in _run(text)


# Round 13 (non-root users), each built for real: a root RUN's mount leaves its target and the
# parents BuildKit creates root-owned (0755) in the image, whatever the RUN does to them.
_XDG_TMP = """FROM python:3.12-slim
ENV XDG_CACHE_HOME=/tmp/.cache
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app.py .
{later}
CMD ["python", "app.py"]
"""


def test_a_root_mount_where_a_later_user_writes_is_unsafe() -> None:
    # u02: the original leaves no /tmp/.cache; user 1001 could no longer create
    # /tmp/.cache/myapp ("Permission denied")
    text = _XDG_TMP.format(later="USER 1001")
    assert "--mount" not in _run(text)
    assert any("USER 1001 (line 7) runs as another user" in m for m in _fixes(text))


def test_a_root_mount_with_no_later_user_stays_safe() -> None:
    assert "--mount=type=cache,target=/tmp/.cache/pip" in _run(_XDG_TMP.format(later=""))


def test_a_root_mount_under_roots_home_stays_safe_before_a_user() -> None:
    text = "FROM python:3.12-slim\nRUN pip install --no-cache-dir six\nUSER nobody\n"
    assert "--mount=type=cache,target=/root/.cache/pip" in _run(text)


def test_the_future_users_home_made_before_useradd_is_unsafe() -> None:
    # u03: the mount made /home/app before `useradd -m`, which left it root's
    text = (
        "FROM python:3.12\nENV HOME=/home/app\nRUN pip install --no-cache-dir six\n"
        'RUN useradd -m -d /home/app app\nUSER app\nCMD ["python"]\n'
    )
    assert "--mount" not in _run(text)


def test_an_entrypoint_that_switches_user_counts_as_a_later_user(tmp_path: Path) -> None:
    # u30: no USER; the entrypoint drops to app with gosu, whose ~/.cache became root's
    (tmp_path / "entrypoint.sh").write_text('#!/bin/sh\nexec gosu app "$@"\n')
    (tmp_path / "app.py").write_text("")
    text = (
        "FROM python:3.12-slim\nRUN useradd -m app\nENV HOME=/home/app\nWORKDIR /app\n"
        "RUN pip install --no-cache-dir six\nCOPY . .\n"
        'ENTRYPOINT ["/app/entrypoint.sh"]\nCMD ["python", "app.py"]\n'
    )
    settings = Settings(frozenset({"cache-mount"}))
    result = rewrite(text, None, BuildContext(tmp_path), settings)
    assert "--mount" not in result.output
    assert any("gosu" in f.message for f in result.suggestions)


def test_a_chown_in_the_mounted_run_counts_like_a_dropped_flag() -> None:
    # u41: `chown -R tool /home/tool` reached the mounted gem cache, not the image's
    # GEM_HOME/cache, so tool's `gem install` failed with EACCES
    text = (
        "FROM debian:12\nRUN useradd -m -u 1001 tool\nENV GEM_HOME=/opt/gems HOME=/home/tool\n"
        "RUN gem install --local /tmp/x.gem && chown -R tool /opt/gems\nUSER tool\n"
    )
    assert "--mount" not in _run(text)
    other = text.replace("chown -R tool /opt/gems", "chown tool /srv/data")
    assert "--mount=type=cache,target=/opt/gems/cache" in _run(other)
    # in the later user's home the mount points are root's where the original may have none
    # (pip as root disables its cache under a directory root does not own)
    assert "--mount" not in _run(other.replace("/opt/gems", "/home/tool/.gems"))


def test_pips_abbreviated_no_cache_flag_counts() -> None:
    text = "FROM python:3.12\nENV HOME=/home/app\nRUN pip install --no-cache six\nUSER app\n"
    assert "--mount" not in _run(text)


def test_a_store_a_later_user_reads_is_not_mounted() -> None:
    # u22: builder's `go build` read root's module store; with the mount it found an empty
    # root-owned /go/pkg/mod ("mkdir /go/pkg/mod/cache: permission denied"): build failed
    text = (
        "FROM golang:1.22\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\nCOPY . .\n"
        "RUN useradd -u 10001 -m builder && chown -R builder /src\nUSER builder\n"
        'RUN go build -o /src/app .\nCMD ["/src/app"]\n'
    )
    out = _run(text)
    assert "target=/go/pkg/mod" not in out
    assert any("/go/pkg/mod is read by line 8" in m for m in _fixes(text))
    as_root = text.replace("USER builder\n", "")
    assert "target=/go/pkg/mod" in _run(as_root)


def _mounted(text: str, context: Path | None = None) -> list[str]:
    result = rewrite(text, None, BuildContext(context), Settings(frozenset({"cache-mount"})))
    return [line for line in result.output.splitlines() if "type=cache" in line]


def test_a_store_filled_through_a_bind_mount_stays_for_later_steps_without_it() -> None:
    """The download reaches a proxy dump only its RUN mounts: with the layers cached and the
    mount empty, the later ``go build`` found no proxy (built for real)."""
    text = (
        "FROM golang:1.22 AS build\n"
        "ENV GOPROXY=file:///goproxy GOFLAGS=-mod=mod\n"
        "WORKDIR /src\n"
        "COPY go.mod ./\n"
        "RUN --mount=type=bind,source=goproxy,target=/goproxy go mod download\n"
        "COPY . .\n"
        "RUN go build -o /out/app .\n"
        "FROM gcr.io/distroless/static-debian12\n"
        "COPY --from=build /out/app /app\n"
    )
    assert not any("/go/pkg/mod" in line for line in _mounted(text))
    messages = " ".join(_fixes(text))
    assert "which line 7 does not have" in messages
    assert "holds what line 5 downloaded through" in messages


def test_a_cache_filled_with_a_secret_stays_for_a_later_install_without_it() -> None:
    text = (
        "FROM node:20 AS build\n"
        "WORKDIR /app\n"
        "COPY package.json package-lock.json ./\n"
        "RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci\n"
        "COPY . .\n"
        "RUN npm run build && npm ci --omit=dev\n"
    )
    assert _mounted(text) == []


def test_later_steps_with_the_same_secret_share_the_mount() -> None:
    secret = "--mount=type=secret,id=npmrc,target=/root/.npmrc"
    text = (
        "FROM node:20 AS build\n"
        "WORKDIR /app\n"
        f"RUN {secret} npm ci\n"
        f"RUN {secret} npm ci --omit=dev\n"
    )
    assert len(_mounted(text)) == 2


def test_manifests_bind_mounted_from_the_context_give_no_access(tmp_path: Path) -> None:
    """docker init's form: go.mod and go.sum are bind-mounted for the download, and the build
    has them from the COPY: nothing only the download RUN can reach."""
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.22\n")
    (tmp_path / "go.sum").write_text("")
    text = (
        "FROM golang:1.22 AS build\n"
        "WORKDIR /src\n"
        "RUN --mount=type=bind,source=go.sum,target=go.sum \\\n"
        "    --mount=type=bind,source=go.mod,target=go.mod \\\n"
        "    go mod download\n"
        "COPY . .\n"
        "RUN go build -o /out/app .\n"
        "FROM gcr.io/distroless/static-debian12\n"
        "COPY --from=build /out/app /app\n"
    )
    assert sum("/go/pkg/mod" in line for line in _mounted(text, tmp_path)) == 2


def test_a_target_stage_with_a_cmd_of_its_own_keeps_the_apt_lists_of_its_lineage() -> None:
    """``FROM toolchain AS dev`` + ``CMD ["bash"]`` is an image (``--target dev``): built for
    real, the rewrite's dev image had no lists and ``apt-get install less`` found nothing."""
    text = (
        "FROM debian:12 AS toolchain\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev\n"
        "FROM toolchain AS dev\n"
        "WORKDIR /work\n"
        'CMD ["bash"]\n'
        "FROM toolchain AS build\n"
        "COPY hello.c .\n"
        "RUN gcc -O2 -o hello hello.c\n"
        "FROM debian:12-slim\n"
        "COPY --from=build /hello /usr/local/bin/hello\n"
        'CMD ["hello"]\n'
    )
    out = _run(text)
    assert "target=/var/cache/apt" in out
    assert "target=/var/lib/apt/lists" not in out
    without_dev = text.replace('FROM toolchain AS dev\nWORKDIR /work\nCMD ["bash"]\n', "")
    assert "target=/var/lib/apt/lists" in _run(without_dev)


@pytest.mark.parametrize(
    "home, mounted",
    [
        ("ENV HOME=/home/app\n", False),  # pip's cache lands in app's home: root-owned there
        ("", True),  # root's own /root/.cache/pip: nothing of app's
    ],
)
def test_a_root_run_caching_in_the_home_of_the_later_user_is_unsafe(
    home: str, mounted: bool
) -> None:
    """Built for real: the mount left /home/app/.cache and /home/app/.cache/pip root-owned in
    the image (pip as root had written no cache there), and the app, run as app, failed with
    "PermissionError: [Errno 13] Permission denied: '/home/app/.cache/myapp'"."""
    text = (
        "FROM python:3.12-slim\nRUN useradd -m -d /home/app app\n"
        f"{home}WORKDIR /home/app\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY app.py .\nUSER app\n"
        'CMD ["python", "app.py"]\n'
    )
    assert ("--mount=type=cache" in _run(text)) is mounted
    if not mounted:
        assert any("inside the home of app" in m for m in _fixes(text))


@pytest.mark.parametrize(
    "start, tool",
    [
        ("CMD npm ci && node index.js", "npm"),
        ('CMD ["npx", "serve", "dist"]', "npm"),
        ('CMD ["sh", "-c", "yarn install && yarn start"]', "yarn"),
        ("CMD pip install -r requirements.txt && python app.py", "pip"),
        ("CMD bundle install && ruby app.rb", "bundler"),
        ('CMD ["composer", "install"]', "composer"),
        # round 15: the start-install reading slim-base and the split share (a bare yarn,
        # options before the subcommand, a shell string inside the shell string)
        ('CMD ["sh", "-c", "yarn && yarn start"]', "yarn"),
        ("CMD npm --silent ci && node index.js", "npm"),
        ("CMD sh -c 'exec pip install -r requirements.txt' && python app.py", "pip"),
    ],
)
def test_an_install_at_container_start_keeps_its_cache_in_the_image(start: str, tool: str) -> None:
    """Built for real: ``CMD npm ci && node index.js`` started offline from the npm cache the
    original image carried; with /root/.npm on a mount it failed (EAI_AGAIN
    registry.npmjs.org). go, cargo, mvn and apt already counted; npm, yarn, pnpm, pip did not."""
    install = {
        "npm": "npm ci",
        "yarn": "yarn install",
        "pip": "pip install -r requirements.txt",
        "bundler": "bundle install",  # the same start-install list slim-base and the split read
        "composer": "composer install",
    }
    base = {"bundler": "ruby:3.3", "composer": "composer:2"}.get(tool, "node:20")
    text = f"FROM {base}\nWORKDIR /app\nCOPY . .\nRUN {install[tool]}\n{start}\n"
    assert _run(text) == text
    assert any(f"{tool} runs at container start" in m for m in _fixes(text))
    assert "--mount=type=cache" in _run(text.replace(start, 'CMD ["node", "index.js"]'))


# ---- round 14 (Ruby and PHP apps, built for real)


def test_bundle_cache_later_reads_the_gem_cache_offline() -> None:
    """`bundle cache --no-install` after `bundle install`: with the layers cached and the
    mounts empty (CI), it found no .gem ("Missing gem file 'mustermann-3.0.0.gem'", built for
    real); `bundle install --local` reads the same cache."""
    text = (
        "FROM ruby:3.3\nWORKDIR /app\nCOPY Gemfile Gemfile.lock ./\nRUN bundle install\n"
        "COPY . .\nRUN bundle cache --no-install\n"
    )
    assert "--mount=type=cache" not in _run(text)
    local = "FROM ruby:3.3\nWORKDIR /app\nCOPY . .\nRUN bundle install --local\n"
    assert "--mount=type=cache" not in _run(local)


def test_gem_cache_mount_is_locked() -> None:
    """RubyGems writes a .gem in place and reads it back: three parallel stages sharing the
    mount failed with Gem::Package::FormatError, and passed with sharing=locked (built for
    real)."""
    out = _run("FROM ruby:3.3\nRUN gem install rake\n")
    assert "--mount=type=cache,target=/usr/local/bundle/cache,sharing=locked gem install" in out
    out = _run("FROM ruby:3.3\nWORKDIR /app\nCOPY . .\nRUN bundle install\n")
    assert "target=/usr/local/bundle/cache,sharing=locked bundle install" in out


@pytest.mark.parametrize(
    "text",
    [
        "FROM composer:2\nRUN COMPOSER_CACHE_DIR=/dev/null composer install\n",
        "FROM php:8.3-cli\nENV COMPOSER_CACHE_DIR=/dev/null\nRUN composer install\n",
        "FROM python:3.12\nRUN PIP_CACHE_DIR=/dev/null pip install six\n",
        "FROM ruby:3.3\nENV GEM_HOME=/dev/null\nRUN gem install rake\n",
    ],
)
def test_a_cache_directory_of_dev_null_is_no_cache(text: str) -> None:
    """`COMPOSER_CACHE_DIR=/dev/null` keeps the cache out of the image; a mount on /dev/null
    kept the RUN's container from starting ("open /dev/null: is a directory", built for
    real)."""
    out = _run(text)
    assert "target=/dev" not in out
    assert any("caches nothing" in m for m in _fixes(text))


# --- hostile sizes: linear time (round 14) ---


@pytest.mark.parametrize(
    "text",
    [
        # every RUN asked about every earlier RUN (a download through a mount it lacks)
        "FROM python:3.11\n" + "".join(f"RUN pip install p{i}\n" for i in range(2000)),
        # every stage's RUN walked every stage and its lineage (images built on the stage)
        "".join(f"FROM python:3.11 AS s{i}\nRUN pip install p{i}\n" for i in range(4000)),
        # every tool call searched the whole RUN for ``NAME=``
        "FROM python:3.11\nRUN " + " | \\\n    ".join(["pip install x"] * 6000) + "\n",
    ],
    ids=["runs", "stages", "calls"],
)
def test_many_runs_stages_or_calls_take_linear_time(text: str) -> None:
    """Each took minutes (quadratic); now a few seconds, far inside the deadline."""
    from support.deadline import deadline

    with deadline(30, cpu=True):  # (CPU time: wall-clock failed at load 15)
        result = rewrite(
            text, "Dockerfile", BuildContext(None), Settings(select=frozenset({"cache-mount"}))
        )
    assert result.changed


@pytest.mark.parametrize(
    "text",
    [
        # every RUN walked every earlier instruction for one that sets the tool's cache in its
        # configuration, and for the SHELL it runs under, and listed its stage's USERs (for a
        # home a later user owns): minutes of CPU; 12,000 with only the USERs listed, 21 s
        "FROM python:3.11\n"
        + "".join(f"RUN pip install p{i} && rm -rf /root/.cache/pip\n" for i in range(16_000)),
        # each apt install's edit scanned the RUN's continuation lines for its offset: 30,000
        # took about 45 s of CPU
        "FROM debian\nRUN apt-get update && case $x in \\\n"
        + "".join(f"  a{i}) apt-get install -y p{i} ;; \\\n" for i in range(30_000))
        + "  esac\n",
    ],
    ids=["configured", "edits"],
)
def test_many_runs_or_edits_take_linear_time(text: str) -> None:
    """Quadratic until round 24 (each about 7-12 s of CPU now, inside the deadline)."""
    from support.deadline import deadline

    with deadline(25, cpu=True):
        result = rewrite(
            text, "Dockerfile", BuildContext(None), Settings(select=frozenset({"cache-mount"}))
        )
    assert result.changed


@pytest.mark.parametrize(
    ("npmrc", "mounts"),
    [
        ("\n" * 300_000 + "registry=https://r.example/\n", True),
        ("registry=https://r.example/\noffline\n", False),  # a key alone is true
    ],
    ids=["blank-lines", "bare-offline"],
)
def test_an_npmrc_is_read_a_line_at_a_time(tmp_path: Path, npmrc: str, mounts: bool) -> None:
    """``^\\s*(?:cache|offline)`` backtracked over every blank line after each line start: an
    ``.npmrc`` of 500,000 blank lines took hours. npm's ini reads one line at a time, and a
    key without ``=`` (``offline``) sets it to true, which an npm cache mount cannot serve."""
    from support.deadline import deadline

    (tmp_path / ".npmrc").write_text(npmrc)
    (tmp_path / "package.json").write_text('{"name": "x"}')
    text = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
    with deadline(20, cpu=True):
        result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"cache-mount"})))
    assert ("type=cache" in result.output) is mounts


def test_a_run_that_assigns_the_cache_variable_itself_is_still_seen() -> None:
    """The names a RUN assigns are read once per RUN; ``$PIP_CACHE_DIR=`` assigns nothing and
    ``XPIP_CACHE_DIR=`` is another name."""
    from msdfix.transforms.cache_mount.targets import _assigns

    text = "export PIP_CACHE_DIR=/x; echo $HOME=1 XPIP_CACHE_DIR=2 A=B=3 a_1="
    assigned = {"PIP_CACHE_DIR", "XPIP_CACHE_DIR", "A", "B", "a_1"}
    for name in [*assigned, "HOME", "CACHE_DIR", "X", "a"]:
        assert _assigns(text, name) == (name in assigned), name
    out = rewrite(
        "FROM python:3.11\nRUN export PIP_CACHE_DIR=/opt/pip && pip install flask\n",
        "Dockerfile", BuildContext(None), Settings(select=frozenset({"cache-mount"})),
    )  # fmt: skip
    assert not out.changed


@pytest.mark.parametrize(
    ("name", "config", "run"),
    [
        (".npmrc", "cache=/opt/npmc\n", "npm ci && npm cache clean --force"),
        (
            "uv.toml",
            'cache-dir = "/opt/uvc"\n',
            "uv pip install --system --only-binary :all: -r requirements.txt && uv cache clean",
        ),
    ],
)
def test_a_configuration_the_run_mounts_makes_the_cache_unknown(tmp_path, name, config, run):
    """reorder-copy bind-mounts the project's .npmrc/uv.toml into the install: the cache went
    to /opt/npmc, neither mounted nor cleaned any more (built: 7 MB left in the image)."""
    (tmp_path / name).write_text(config)
    (tmp_path / "package.json").write_text('{"name": "x", "dependencies": {"ms": "^2.1.3"}}')
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3, "packages": {}}')
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    base = "node:20" if name == ".npmrc" else "python:3.12"
    text = f"FROM {base}\nWORKDIR /app\nCOPY . .\nRUN {run}\n"
    settings = Settings(frozenset({"reorder-copy", "cache-mount"}))
    out = rewrite(text, None, BuildContext(tmp_path), settings).output
    assert f"source={name}" in out  # reorder-copy mounted it
    assert "type=cache" not in out and "clean" in out


@pytest.mark.parametrize(
    ("add", "mounts"),
    [
        ("ADD vendor.tar.gz ./", False),  # the project's folder: an .npmrc there configures npm
        ("ADD site.tgz /", False),
        ("ADD conf.tar /root/", False),
        ("ADD conf.tar $DEST", False),  # anywhere
        ("ADD tools.tgz /opt/", True),  # no configuration npm reads lies there
        ("ADD https://example.com/site.tgz ./", True),  # a URL is not unpacked
        # BuildKit expands the ARG first (built: tools.tgz held etc/npmrc with cache=, the
        # clean was dropped and /opt/npm-cache stayed in the image, 5,829,261 bytes larger)
        ("ADD $PKG /usr/local/", False),
        ("ADD $SRC /usr/local/", False),  # a variable without a value may name one
        ("ADD $URL ./", True),
    ],
)
def test_an_archive_add_may_bring_the_tools_configuration(tmp_path, add, mounts):
    """Docker unpacks a local archive that ADD names, and msdfix cannot list its files: one may
    be an ``.npmrc`` with ``cache=`` where npm reads it, so the mount would miss the cache and
    the clean-up after the install would leave it in the image, as the context's own
    ``.npmrc`` did (built)."""
    for name in ("vendor.tar.gz", "site.tgz", "conf.tar", "tools.tgz"):
        (tmp_path / name).write_bytes(b"\x1f\x8b")
    (tmp_path / "package.json").write_text('{"name": "x"}')
    args = "ARG DEST\nARG PKG=tools.tgz\nARG SRC\nARG URL=https://example.com/site.tgz\n"
    text = f"FROM node:20\n{args}WORKDIR /app\n{add}\nCOPY . .\nRUN npm ci\n"
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"cache-mount"})))
    assert ("type=cache" in result.output) is mounts
    if not mounts:
        assert any("unpacks an archive" in f.message for f in result.suggestions)


def test_mounts_follow_flags_that_stand_one_per_line() -> None:
    """docker init's layout: the RUN's flags one per line, the command on its own line. The new
    mount is one more such line, not a flag glued to the command."""
    text = (
        "FROM golang:1.22\nWORKDIR /src\n"
        "RUN --mount=type=cache,target=/go/pkg/mod/ \\\n"
        "    --mount=type=bind,source=go.mod,target=go.mod \\\n"
        "    go mod download -x\n"
    )
    assert _run(text).endswith(
        "    --mount=type=bind,source=go.mod,target=go.mod \\\n"
        "    --mount=type=cache,target=/root/.cache/go-build \\\n"
        "    go mod download -x\n"
    )
    inline = "FROM golang:1.22\nRUN --mount=type=cache,target=/go/pkg/mod/ go mod download\n"
    assert "/go/pkg/mod/ --mount=type=cache,target=/root/.cache/go-build go mod" in _run(inline)


def test_a_stage_a_build_argument_may_put_under_a_later_install_keeps_its_apt_lists() -> None:
    """``FROM base-${ENV} AS final`` + ``apt-get install`` without a refresh: built for real
    with ``--build-arg ENV=dev``, the rewrite had mounted base-dev's lists ("Package 'less'
    has no installation candidate")."""
    text = (
        "ARG ENV=prod\n"
        "FROM node:20 AS base-prod\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends tini\n"
        "FROM node:20 AS base-dev\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends tini procps\n"
        "FROM base-${ENV} AS final\n"
        "RUN apt-get install -y --no-install-recommends less\n"
        'CMD ["node", "server.js"]\n'
    )
    assert "target=/var/lib/apt/lists" not in _run(text)


def test_a_leaf_stage_without_a_cmd_of_its_own_keeps_its_apt_lists() -> None:
    """A stage no other stage uses is built only with ``--target`` (a devcontainer): built
    for real, the rewrite's image had no lists and ``apt-get install less`` failed."""
    text = (
        "FROM python:3.12 AS devcontainer\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends git\n"
        "FROM python:3.12 AS prod\n"
        'CMD ["python", "app.py"]\n'
    )
    out = _run(text)
    assert "target=/var/cache/apt" in out
    assert "target=/var/lib/apt/lists" not in out


@pytest.mark.parametrize("download", ["--download-only", "-d"])
def test_apt_download_only_after_an_update_keeps_the_debs_for_a_later_offline_install(
    download: str,
) -> None:
    """``apt-get update && apt-get install --download-only`` then ``apt-get install
    --no-download``: the download was looked for in the RUN's first apt call only (the
    update), so both RUNs moved the .debs onto the mount; with the first RUN cached and the
    mount empty the second failed "Unable to fetch some archives" (built for real)."""
    text = (
        f"FROM debian:12\nRUN apt-get update && apt-get install -y {download} jq\n"
        "COPY app /app\nRUN apt-get install -y --no-download jq && rm -rf /var/lib/apt/lists/*\n"
    )
    out = _run(text)
    assert "Dir::Cache::Archives" not in out and "target=/var/cache/apt," not in out
    messages = _fixes(text)
    assert any("downloads .debs for a later step" in m for m in messages)
    assert any("apt runs offline here" in m for m in messages)


APT_INSTALL = "RUN apt-get update && apt-get install -y xz-utils && rm -rf /var/lib/apt/lists/*\n"


@pytest.mark.parametrize(
    ("setup", "files"),
    [
        ("COPY 99cache /etc/apt/apt.conf.d/99cache\n", {"99cache": 'Dir::Cache "/cache/apt";\n'}),
        ("COPY apt/ /etc/apt/\n", {"apt/apt.conf.d/10dirs": 'Dir { Cache "/cache/apt"; };\n'}),
        ("COPY rootfs/ /\n", {"rootfs/etc/apt/apt.conf.d/01": 'Dir::State::Lists "/l";\n'}),
        ("RUN echo 'Dir::Cache \"/cache/apt\";' > /etc/apt/apt.conf.d/99cache\n", {}),
        ("ENV APT_CONFIG=/etc/apt/custom.conf\n", {}),
        # round 16: apt.conf(5), "the names of the configuration items are not case-sensitive"
        ("COPY 99cache /etc/apt/apt.conf.d/99cache\n", {"99cache": 'dir::cache "/tmp/c";\n'}),
        ("RUN echo 'DIR::STATE \"/tmp/s\";' > /etc/apt/apt.conf.d/99state\n", {}),
        # a heredoc is read as a context file is; a URL's file is unknown
        ('COPY <<EOF /etc/apt/apt.conf.d/99c\nDir::Cache "/tmp/c";\nEOF\n', {}),
        ("ADD https://example.com/99cache /etc/apt/apt.conf.d/99cache\n", {}),
        # round 17: a RUN that moves, copies or downloads a file there brings unknown text
        ("COPY 99cache /tmp/99cache\nRUN mv /tmp/99cache /etc/apt/apt.conf.d/\n", {}),
        ("RUN cp /x /etc/apt/apt.conf.d/99x\n", {}),
        ("RUN curl -fsSo /etc/apt/apt.conf.d/99c https://example.com/c\n", {}),
        ("RUN cat /x | tee /etc/apt/apt.conf.d/99x\n", {}),
        ("RUN cat /x > /etc/apt/apt.conf.d/99x\n", {}),
    ],
)
def test_apt_configuration_that_moves_its_directories_gets_no_mount(
    tmp_path: Path, setup: str, files: dict[str, str]
) -> None:
    """With ``Dir::Cache`` moved by a file in /etc/apt/apt.conf.d, the inserted ``-o
    Dir::Cache::Archives=/var/cache/apt/debs`` failed on an empty mount ("Archives directory
    /var/cache/apt/debs/partial is missing", built for real): apt creates ``partial/`` only
    below its Dir::Cache."""
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    (tmp_path / "x").write_text("x\n")
    text = f"FROM debian:12\nCOPY x /x\n{setup}{APT_INSTALL}"
    settings = Settings(frozenset({"cache-mount"}))
    result = rewrite(text, None, BuildContext(tmp_path), settings)
    assert result.output == text
    assert any("apt: " in f.message for f in result.applied + result.suggestions)


@pytest.mark.parametrize(
    "setup",
    [
        "RUN echo 'APT::Default-Release \"stable\";' | tee -a /etc/apt/apt.conf.d/00local\n",
        "RUN printf 'Acquire::Retries \"3\";' > /etc/apt/apt.conf.d/80retries\n",
        "RUN rm -f /etc/apt/apt.conf.d/docker-clean && cat /etc/apt/apt.conf.d/*\n",
    ],
)
def test_a_run_that_shows_what_it_writes_into_apt_configuration_keeps_the_mount(
    setup: str,
) -> None:
    """echo/printf (also through ``tee``) show their text, which moves no directory; rm and
    cat only remove or read."""
    text = f"FROM debian:12\n{setup}{APT_INSTALL}"
    result = rewrite(text, None, BuildContext(None), Settings(frozenset({"cache-mount"})))
    assert "target=/var/cache/apt," in result.output


COMPOSER_INSTALL = "FROM composer:2\nWORKDIR /app\nCOPY . .\n{setup}RUN composer install --no-dev\n"
POETRY_INSTALL = "FROM python:3.12\nWORKDIR /app\nCOPY . .\n{setup}RUN poetry install\n"


@pytest.mark.parametrize(
    ("template", "setup"),
    [
        (COMPOSER_INSTALL, "RUN cp app/config.example.json app/config.json\n"),
        (COMPOSER_INSTALL, "RUN mv /app/config.dist.json /app/config/config.json\n"),
        (POETRY_INSTALL, "RUN cp settings/config.example.toml settings/config.toml\n"),
    ],
)
def test_a_project_file_named_like_a_tools_home_configuration_keeps_the_mount(
    template: str, setup: str
) -> None:
    """composer reads config.json, poetry and pdm config.toml only in their home folders
    (COMPOSER_HOME, ~/.config/pypoetry): the round-17 rule for files a RUN brings unseen took
    the app's own config.json for composer's ("composer: RUN at line 4 configures where it
    caches") and dropped a safe mount."""
    result = rewrite(
        template.format(setup=setup),
        None,
        BuildContext(None),
        Settings(frozenset({"cache-mount"}), unsafe=True),
    )
    assert "--mount=type=cache" in result.output
    assert not any("configures where it caches" in f.message for f in result.suggestions)


@pytest.mark.parametrize(
    ("template", "setup"),
    [
        (COMPOSER_INSTALL, "RUN cp config.json /root/.composer/\n"),
        (COMPOSER_INSTALL, "RUN cp conf/c.json $COMPOSER_HOME/config.json\n"),
        (COMPOSER_INSTALL, "RUN curl -o /tmp/config.json https://example.com/c\n"),
        (POETRY_INSTALL, "RUN cp c.toml /root/.config/pypoetry/config.toml\n"),
        (POETRY_INSTALL, "RUN cp poetry.example.toml poetry.toml\n"),
    ],
)
def test_a_file_brought_into_a_tools_home_configuration_still_declines(
    template: str, setup: str
) -> None:
    """The home folder (or a variable that may be it) makes it the tool's configuration, and
    poetry.toml is poetry's in any project folder."""
    result = rewrite(
        template.format(setup=setup),
        None,
        BuildContext(None),
        Settings(frozenset({"cache-mount"}), unsafe=True),
    )
    assert any("configures where it caches" in f.message for f in result.suggestions)


def test_apt_configuration_that_keeps_the_default_directories_still_gets_the_mount(
    tmp_path: Path,
) -> None:
    """Sources, pins and ``Dir::Cache::pkgcache ""`` (docker-clean's own line) move nothing."""
    (tmp_path / "apt" / "apt.conf.d").mkdir(parents=True)
    (tmp_path / "apt" / "apt.conf.d" / "no-cache").write_text('Dir::Cache::pkgcache "";\n')
    (tmp_path / "apt" / "sources.list").write_text(
        "deb http://deb.debian.org/debian bookworm main\n"
    )
    text = f"FROM debian:12\nCOPY apt/ /etc/apt/\n{APT_INSTALL}"
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"cache-mount"})))
    assert "target=/var/cache/apt," in result.output


@pytest.mark.parametrize(
    "run",
    [
        "chroot /rootfs apt-get update && chroot /rootfs apt-get install -y jq"
        " && chroot /rootfs apt-get clean && rm -rf /rootfs/var/lib/apt/lists/*",
        "apt-get -o Dir=/rootfs update && apt-get -o Dir=/rootfs install -y jq"
        " && apt-get -o Dir=/rootfs clean",
    ],
)
def test_apt_on_another_root_is_not_the_containers_apt(run: str) -> None:
    """``chroot /rootfs apt-get install`` got ``-o Dir::Cache::Archives`` (inside the chroot)
    and lost its ``chroot /rootfs apt-get clean``: the debootstrapped root kept its .debs and
    pkgcache.bin, 117 MB -> 228 MB (built for real)."""
    text = f"FROM debian:12 AS rootfs\nRUN debootstrap bookworm /rootfs\nRUN {run}\n"
    text += 'FROM scratch\nCOPY --from=rootfs /rootfs/ /\nCMD ["jq"]\n'
    assert _run(text) == text


def test_a_cleanup_under_sudo_goes_whole() -> None:
    """``sudo rm -rf /var/lib/apt/lists/*`` became ``sudo rm -rf``: the wrapper's words were
    read as rm's operands (``rm`` a path outside the mount), so only the path went."""
    text = (
        "FROM debian:12\nRUN apt-get update && apt-get install -y sudo && rm -rf /var/lib/apt/lists/*\n"
        "RUN sudo apt-get update && sudo apt-get install -y make && sudo rm -rf /var/lib/apt/lists/*\n"
    )
    out = _run(text)
    assert "sudo rm" not in out and "target=/var/lib/apt/lists," in out


def test_apt_named_by_its_path_keeps_its_debs_on_the_mount() -> None:
    """``/usr/bin/apt-get install`` got the mount and the note "keep .debs on the mount"
    but no ``-o Dir::Cache::Archives`` (docker-clean then deleted them: nothing cached)."""
    text = "FROM debian:12\nRUN /usr/bin/apt-get update && /usr/bin/apt-get install -y jq\n"
    assert "/usr/bin/apt-get -o Dir::Cache::Archives=/var/cache/apt/debs install" in _run(text)


@pytest.mark.parametrize(
    ("copy", "mounted"),
    [
        ("COPY x /etc/php/${PHP_VERSION}/cli/conf.d/x\n", True),  # below /etc/php whatever it is
        ("COPY x /home/${USER_NAME}/x\n", True),
        ("COPY x /pkg-${PHP_VERSION}.deb\n", True),  # a name at the root that starts so
        ("COPY x /etc/apt/apt.conf.d/${WHERE}\n", False),
        ("COPY x /${WHERE}\n", False),  # anywhere: /etc/apt too
        ("COPY x ${WHERE}/x\n", False),
        ("COPY x /etc/${WHERE}/x\n", False),
    ],
)
def test_a_copy_destination_with_a_variable_reaches_only_below_its_fixed_folder(
    copy: str, mounted: bool
) -> None:
    """A build argument picks where the file lands, but below the folder written before the
    variable: `/etc/php/${V}/...` or `/pkg-${V}.deb` cannot be apt's configuration, `/${X}` can
    (7 corpus files had lost their apt mount to such destinations)."""
    text = f"FROM debian:12\nARG PHP_VERSION=8.2\nARG USER_NAME=app\nARG WHERE\n{copy}{APT_INSTALL}"
    result = rewrite(text, None, BuildContext(None), Settings(frozenset({"cache-mount"})))
    assert ("target=/var/cache/apt," in result.output) is mounted


@pytest.mark.parametrize(
    ("base", "fetch", "start"),
    [
        ("golang:1.19", "go mod download", "go build -o /tmp/server ."),  # built for real
        ("golang:1.19", "go mod download", "go vet ./..."),
        ("rust:1.75", "cargo fetch", "cargo build --release"),
        ("mcr.microsoft.com/dotnet/sdk:8.0", "dotnet restore", "dotnet build -c Release"),
    ],
)
def test_a_start_script_that_builds_keeps_the_dependency_store(
    tmp_path: Path, base: str, fetch: str, start: str
) -> None:
    """A dev image's entrypoint that compiles the sources when the container starts reads the
    modules the build downloaded: with the store on a mount, ``go build`` at start failed
    offline ("dial tcp: lookup proxy.golang.org: no such host"), where the original image
    carried the modules (built for real)."""
    (tmp_path / "start.sh").write_text(f'#!/bin/sh\nset -e\n{start}\nexec /tmp/server "$@"\n')
    text = (
        f"FROM {base}\nWORKDIR /app\nCOPY . .\nRUN {fetch}\n"
        'COPY start.sh ./\nENTRYPOINT ["./start.sh"]\n'
    )
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"cache-mount"})))
    assert "--mount" not in result.output, result.output
    assert any("runs at container start" in f.message for f in result.suggestions)


@pytest.mark.parametrize(
    ("start", "mounted"),
    [
        ('ENTRYPOINT ["yarn"]\nCMD ["start"]\n', True),
        ('ENTRYPOINT ["yarn"]\nCMD ["test:integration"]\n', True),
        ('ENTRYPOINT ["yarn"]\n', False),
        ('ENTRYPOINT ["yarn"]\nCMD ["install"]\n', False),
        ('ENTRYPOINT ["/entrypoint.sh"]\nCMD ["yarn"]\n', False),
    ],
)
def test_an_exec_entrypoint_runs_with_the_cmd_as_its_arguments(start: str, mounted: bool) -> None:
    """``ENTRYPOINT ["yarn"]`` + ``CMD ["start"]`` starts ``yarn start``, which installs
    nothing: the ENTRYPOINT was read alone, as a bare ``yarn`` (an install), and the yarn
    mount was lost (2 of 20,000 bulk files). The CMD still counts on its own, for an
    entrypoint script that runs it (``exec "$@"``)."""
    text = f"FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install\n{start}"
    assert ("--mount=type=cache" in _run(text)) is mounted


@pytest.mark.parametrize("option", ["-o dir::cache=/tmp/c", "-o DIR::CACHE=/tmp/c"])
def test_apt_options_name_its_directories_in_any_case(option: str) -> None:
    """apt's option names are not case-sensitive: ``-o dir::cache=/tmp/c`` moves the cache as
    ``-o Dir::Cache=`` does, so no ``-o Dir::Cache::Archives`` goes next to it (its
    ``partial/`` is created only below Dir::Cache: built for real, the rewrite of a
    lower-case ``dir::cache`` configuration failed on the empty mount)."""
    text = f"FROM debian:12\nRUN apt-get update && apt-get install -y {option} jq\n"
    assert "Dir::Cache::Archives" not in _run(text)


@pytest.mark.parametrize(
    ("before", "mounted"),
    [
        (
            "FROM debian:12 AS conf\nRUN echo 'Dir::Cache \"/tmp/c\";' > /etc/apt/apt.conf.d/99c\n",
            False,
        ),
        (
            "FROM debian:12 AS conf\nRUN echo 'APT::Install-Recommends \"0\";' > /etc/apt/apt.conf.d/99c\n",
            True,
        ),
        ("", False),  # --from=conf names an image then: its files are unknown
    ],
)
def test_apt_configuration_copied_from_another_stage_or_image(before: str, mounted: bool) -> None:
    """``COPY --from=conf /etc/apt/apt.conf.d/99c ...`` brings what that stage wrote: with
    ``Dir::Cache "/tmp/c";`` the inserted ``-o Dir::Cache::Archives`` failed on the empty
    mount ("Archives directory /var/cache/apt/debs/partial is missing", built for real);
    only context files and RUNs of the stage's own lineage were read."""
    text = (
        f"{before}FROM debian:12\n"
        "COPY --from=conf /etc/apt/apt.conf.d/99c /etc/apt/apt.conf.d/99c\n"
        "RUN apt-get update && apt-get install -y jq && rm -rf /var/lib/apt/lists/*\n"
    )
    assert ("--mount=type=cache,target=/var/cache/apt" in _run(text)) is mounted


def test_a_url_added_above_apts_configuration_lands_beside_it() -> None:
    """``ADD https://.../wait-for-it.sh /`` writes one file, named by the URL, at /: it
    cannot be apt's configuration (a corpus file kept its apt mount)."""
    text = (
        "FROM debian:12\nADD https://example.com/wait-for-it.sh /\n"
        "RUN apt-get update && apt-get install -y jq && rm -rf /var/lib/apt/lists/*\n"
    )
    assert "--mount=type=cache,target=/var/cache/apt" in _run(text)


@pytest.mark.parametrize(
    "run",
    [
        "export APT_CONFIG=/etc/apt/custom.conf && apt-get update && apt-get install -y jq",
        "APT_CONFIG=/etc/apt/custom.conf apt-get update && apt-get install -y jq",
        "apt-get update && env APT_CONFIG=/etc/apt/custom.conf apt-get install -y jq",
        "apt-get update && apt-get install -y -c /etc/apt/custom.conf jq",
        "apt-get update && apt-get install -y --config-file=/etc/apt/custom.conf jq",
    ],
)
def test_apt_pointed_at_a_configuration_file_in_the_run_gets_no_mount(run: str) -> None:
    """``APT_CONFIG`` counted only as an ENV/ARG of the stage: exported in the RUN (or set on
    the command, or ``-c FILE``) it named a file with ``Dir::Cache "/tmp/apt-cache";``, and
    the inserted ``-o Dir::Cache::Archives`` failed on the empty mount (built for real)."""
    text = f"FROM debian:12\nCOPY custom.conf /etc/apt/custom.conf\nRUN {run}\n"
    assert _run(text) == text
    assert any("names a configuration file of apt" in m for m in _fixes(text))


def test_a_mount_whose_target_names_an_env_value_is_read_through_it(tmp_path: Path) -> None:
    """BuildKit expands ENV and ARG values in ``--mount`` options: ``target=$POETRY_CACHE_DIR``
    already holds poetry's cache, so no mount goes below it (two nested mounts were added)."""
    (tmp_path / "pyproject.toml").write_text('[tool.poetry]\nname = "x"\nversion = "0.1.0"\n')
    (tmp_path / "poetry.lock").write_text("# lock\n")
    text = (
        "FROM python:3.12\nENV POETRY_CACHE_DIR=/tmp/poetry_cache\nWORKDIR /app\n"
        "COPY pyproject.toml poetry.lock ./\n"
        "RUN --mount=type=cache,target=$POETRY_CACHE_DIR poetry install --no-root\n"
    )
    settings = Settings(frozenset({"cache-mount"}))
    assert rewrite(text, None, BuildContext(tmp_path), settings).output == text
    elsewhere = text.replace("$POETRY_CACHE_DIR poetry", "/elsewhere poetry")
    result = rewrite(elsewhere, None, BuildContext(tmp_path), settings)
    assert "target=/tmp/poetry_cache/cache" in result.output


# ---- round 17 (the sixteenth round's merges, built for real)


@pytest.mark.parametrize(
    "start",
    ['ENTRYPOINT ["npm"]\nCMD ["start"]\n', 'CMD ["npm", "start"]\n', "CMD npm run serve\n"],
)
def test_an_install_a_start_script_runs_keeps_its_cache_in_the_image(
    tmp_path: Path, start: str
) -> None:
    """A package.json script the container starts that installs (``"start": "npm ci && node
    server.js"``) reads the npm cache at start: built for real, the original started offline
    from the cache it carried and the mounted cache's image failed (EAI_AGAIN
    registry.npmjs.org). slim-base reads it as the start install it is too."""
    (tmp_path / "package.json").write_text(
        '{"name": "web", "scripts": {"start": "npm ci && node server.js", '
        '"serve": "npm run start"}, "dependencies": {"ms": "2.1.3"}}\n'
    )
    text = f"FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n{start}"
    select = Settings(frozenset({"cache-mount"}))
    result = rewrite(text, None, BuildContext(tmp_path), select)
    assert result.output == text
    assert any("npm runs at container start" in f.message for f in result.suggestions)
    slim = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"slim-base"})))
    assert "FROM node:20\n" in slim.output
    assert any("runs `npm ci` when it starts" in f.message for f in slim.suggestions)
    (tmp_path / "package.json").write_text('{"name": "web", "scripts": {"start": "node ."}}\n')
    assert "--mount=type=cache" in rewrite(text, None, BuildContext(tmp_path), select).output


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        ("npm ci --cache .npm-cache", "npm: its cache directory `.npm-cache` is relative"),
        ("npm ci --cache=$HOME/.npm-c", "npm: its cache directory `$HOME/.npm-c` comes from"),
        ("pip install --cache-dir $X flask", "pip: its cache directory `$X` comes from a"),
        ("pip install --cache-dir=pc flask", "pip: its cache directory `pc` is relative"),
    ],
)
def test_a_relative_or_variable_cache_option_is_declined_with_a_reason(
    run: str, reason: str
) -> None:
    """A cache directory the command line names relative to the RUN's directory or through a
    variable the shell expands gets no mount, and the summary says why (it said nothing)."""
    text = f"FROM python:3.12\nARG X=/tmp/pc\nWORKDIR /app\nRUN {run}\n"
    if run.startswith("npm"):
        text = text.replace("python:3.12", "node:18")
    result = rewrite(text, None, BuildContext(None), Settings(frozenset(["cache-mount"])))
    assert result.output == text
    assert any(reason in f.message for f in result.suggestions), result.suggestions


@pytest.mark.parametrize(
    "clean",
    [
        "RUN rm -rf /var/lib/apt/lists/*",
        "RUN rm -rf /var/lib/apt/lists",
        "RUN apt-get clean && rm -rf /var/lib/apt/lists/*",
        "RUN echo done; rm -rf /var/lib/apt/lists/* /tmp/*",
        "RUN echo a && rm -rf /var/lib/apt/lists/* | cat",
    ],
)
def test_a_clean_that_always_runs_ends_the_search_for_later_readers(clean: str) -> None:
    """Built for real: after ``rm -rf /var/lib/apt/lists/*`` a later script cannot read the
    lists the install left, so the mount is as safe as without it (the original's image
    with a later `apt-get install` from setup.sh and the rewrite's failed alike)."""
    text = (
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"
        f"{clean}\nRUN sh /setup.sh\n"
    )
    assert "target=/var/lib/apt/lists," in _run(text)


@pytest.mark.parametrize(
    "clean",
    [
        "RUN true || rm -rf /var/lib/apt/lists/*",
        "RUN test -f /x && rm -rf /var/lib/apt/lists/*; echo done",
        "RUN test -f /x && rm -rf /var/lib/apt/lists/* || true",
        "RUN rm -rf /var/lib/apt/lists/* & echo started",
        "RUN if [ -f /x ]; then rm -rf /var/lib/apt/lists/*; fi",
        'RUN sh -c "test -f /x && rm -rf /var/lib/apt/lists/*"',
        "RUN exit 0; rm -rf /var/lib/apt/lists/*",
        "RUN rm -rf $LISTS/*",
        "RUN sh /other.sh && rm -rf /var/lib/apt/lists/*",
    ],
)
def test_a_clean_that_may_not_run_first_leaves_the_lists_to_later_readers(clean: str) -> None:
    text = (
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"
        f"{clean}\nRUN sh /setup.sh\n"
    )
    assert "target=/var/lib/apt/lists," not in _run(text)
    assert any("/var/lib/apt/lists stays in the image: RUN at line" in m for m in _fixes(text))


@pytest.mark.parametrize(
    "reader",
    [
        "RUN test -n \"$(apt-cache search --names-only '^jq$')\"",
        "RUN V=`apt-cache policy jq`; echo $V > /v",
        "RUN cat <(apt-cache policy jq) > /v",
        "RUN X=$(apt-cache policy jq); rm -rf /var/lib/apt/lists/*",
        "RUN sh -c 'test -n \"$(apt-cache search jq)\"'",  # a sh -c script's own
        'RUN sh -c "echo \\$(apt-cache policy jq) > /v"',
    ],
)
def test_a_substitution_that_reads_the_lists_is_a_later_reader(reader: str) -> None:
    """Built for real: ``test -n "$(apt-cache search --names-only '^jq$')"`` after an
    install whose lists a still later RUN deletes built in the original and failed with exit
    code 1 in the rewrite that had mounted the lists (the command in ``$(...)`` is no step)."""
    text = (
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"
        f"{reader}\nRUN rm -rf /var/lib/apt/lists/*\n"
    )
    assert "target=/var/lib/apt/lists," not in _run(text)
    assert any("/var/lib/apt/lists stays in the image: RUN at line 3" in m for m in _fixes(text))


def test_a_substitution_after_the_clean_or_the_refresh_reads_no_image_lists() -> None:
    """``$(apt-cache ...)`` after the RUN's own clean or refresh reads none of the lists an
    earlier RUN left: the mount stays."""
    for later in (
        "RUN rm -rf /var/lib/apt/lists/* && echo $(apt-cache policy jq) > /v",
        "RUN echo $(date) > /v\nRUN rm -rf /var/lib/apt/lists/*",
    ):
        text = f"FROM debian:12\nRUN apt-get update && apt-get install -y curl\n{later}\n"
        assert "target=/var/lib/apt/lists," in _run(text)


def test_a_clean_in_another_stage_leaves_the_lists_to_this_stage_readers() -> None:
    text = (
        "FROM debian:12 AS base\nRUN apt-get update && apt-get install -y curl\n"
        "FROM base AS tidy\nRUN rm -rf /var/lib/apt/lists/*\n"
        "FROM base\nRUN sh /setup.sh\n"
    )
    assert "target=/var/lib/apt/lists," not in _run(text)
    assert any("/var/lib/apt/lists stays in the image: RUN at line 6" in m for m in _fixes(text))


def test_a_later_clean_in_the_final_stage_leaves_no_lists_for_images_built_from_it() -> None:
    """The final image's lists are deleted by a later RUN: nothing built FROM it finds them."""
    text = "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nRUN rm -rf /var/lib/apt/lists/*\n"
    assert "target=/var/lib/apt/lists," in _run(text)
    kept = "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nRUN true || rm -rf /var/lib/apt/lists/*\n"
    assert "target=/var/lib/apt/lists," not in _run(kept)


@pytest.mark.parametrize(
    "later, owner",
    [
        ('FROM base\nUSER app\nCMD ["python", "app.py"]\n', "app"),  # a stage FROM it
        ('USER ${APP_USER}\nCMD ["python", "app.py"]\n', "${APP_USER} (app)"),  # a variable
        (
            'ENTRYPOINT ["runuser", "-u", "app", "--"]\nCMD ["python", "app.py"]\n',
            "the user of the start command (`runuser -u app`)",
        ),
    ],
)
def test_a_root_run_caching_in_the_home_of_any_later_user_is_unsafe(later: str, owner: str) -> None:
    """Built for real, each: pip as root with HOME=/home/app caches nothing in app's home, and
    the mount left /home/app/.cache root-owned; the app, run as app, failed with
    "PermissionError: [Errno 13] Permission denied: '/home/app/.cache/app'"."""
    text = (
        "FROM python:3.11-slim AS base\nARG APP_USER=app\nRUN useradd -m app\n"
        f"ENV HOME=/home/app\nRUN pip install six\nWORKDIR /home/app\n{later}"
    )
    assert "--mount=type=cache" not in _run(text)
    assert any(f"inside the home of {owner}, whom" in m for m in _fixes(text))
    assert "--mount=type=cache,target=/home/app/.cache/pip" in _run(text, unsafe=True)


@pytest.mark.parametrize(
    "gives, where",
    [
        ("RUN useradd -m -u 1001 app && mkdir /srv/app && chown app /srv/app\n", "RUN at line 2"),
        ("RUN useradd -m -u 1001 app\nCOPY --chown=app data.txt /srv/app/\n", "COPY at line 3"),
        (
            "RUN useradd -m -u 1001 app\nUSER app\nWORKDIR /srv/app\nUSER root\n",
            "WORKDIR at line 4",
        ),
        ("RUN useradd -m app && chown -R app:app $APP_DIR\n", "RUN at line 2"),
        ("RUN useradd -m -d /srv/app -u 1001 app\n", "RUN at line 2"),  # its home
        # getopt's glued forms (built: msdfix read /home/app, mounted, and the app failed)
        ("RUN useradd -md/srv/app -u 1001 app\n", "RUN at line 2"),
        ("RUN useradd --home=/srv/app app\n", "RUN at line 2"),
        ("RUN useradd app && install -d -o app -m 0755 /srv/app\n", "RUN at line 2"),
    ],
)
def test_pip_as_root_under_a_directory_another_user_may_own_is_unsafe(
    gives: str, where: str
) -> None:
    """Built for real (chown and COPY --chown): pip as root keeps no cache where the first
    directory of its path that exists is not root's, so the original left no /srv/app/.cache;
    the mount left it root-owned and the app, run as app, failed with "PermissionError:
    [Errno 13] Permission denied: '/srv/app/.cache/x'"."""
    text = (
        f"FROM python:3.11-slim\n{gives}ENV XDG_CACHE_HOME=/srv/app/.cache\n"
        'RUN pip install six\nUSER app\nCMD ["python", "app.py"]\n'
    )
    assert "--mount=type=cache" not in _run(text)
    assert any(
        f"when the first of them that exists is not root's, and {where} may give" in m
        for m in _fixes(text)
    )


def test_pip_as_root_under_directories_root_keeps_stays_safe() -> None:
    """A chown to root, or of another directory, leaves pip's cache path root's: the mount
    is as safe as before."""
    for gives in (
        "RUN useradd -m app && chown root /srv\n",
        "RUN useradd -m app && chown app /opt\n",
    ):
        text = (
            f"FROM python:3.11-slim\n{gives}ENV XDG_CACHE_HOME=/srv/app/.cache\n"
            'RUN pip install six\nUSER app\nCMD ["python", "app.py"]\n'
        )
        assert "--mount=type=cache,target=/srv/app/.cache/pip" in _run(text)


def test_a_clean_by_another_user_does_not_end_the_search_for_later_readers() -> None:
    """``rm -rf`` as a user other than root cannot delete root's lists, and ``; true`` hides it."""
    text = (
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nUSER 1000\n"
        "RUN rm -rf /var/lib/apt/lists/*; true\nUSER root\nRUN sh /setup.sh\n"
    )
    assert "target=/var/lib/apt/lists," not in _run(text)
    assert "target=/var/lib/apt/lists," in _run(text.replace("USER 1000\n", ""))


@pytest.mark.parametrize(
    "create, note",
    [
        ("useradd -m -u 1001 app", None),  # home and uid known: the (unsafe) mount gets uid=
        ("adduser -D -u 1001 app", None),
        ("useradd -m app", "pip: the uid of user app is unknown"),
        ("id app || useradd -m -u 1001 app", "pip: the home of user app is unknown"),
        ("useradd -m -u 1001 app && usermod -u 1002 app", "pip: the home of user app is unknown"),
    ],
)
def test_a_user_the_dockerfile_creates_has_the_home_and_uid_the_command_gives(
    create: str, note: str | None
) -> None:
    """useradd(8)/adduser(8): the home is /home/NAME unless the command says otherwise; the uid
    only where it gives one. A mount under a user other than root stays unsafe (BuildKit leaves
    its parents root's)."""
    text = (
        f"FROM python:3.11-slim\nRUN {create}\nUSER app\nWORKDIR /home/app\n"
        "RUN pip install --user six\n"
    )
    fixes = _fixes(text)
    if note is not None:
        assert any(note in m for m in fixes)
        return
    assert "--mount" not in _run(text)
    assert any("it runs as user app" in m for m in fixes)
    mounted = "--mount=type=cache,target=/home/app/.cache/pip,uid=1001,gid=1001"
    assert mounted in _run(text, unsafe=True)


def test_a_clean_of_the_runs_own_lists_mount_leaves_the_image_lists_to_later_readers() -> None:
    """The rm reaches the mounted cache, not the lists the install left in the image."""
    text = (
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"
        "RUN --mount=type=cache,target=/var/lib/apt/lists rm -rf /var/lib/apt/lists/*\n"
        "RUN sh /setup.sh\n"
    )
    assert "target=/var/lib/apt/lists," not in _run(text)


def test_a_root_run_caching_in_the_home_its_command_sets_for_a_later_user_is_unsafe() -> None:
    """``HOME=/home/app pip install`` as root, then a start command that runs as app: the mount
    left /home/app/.cache root-owned (pip as root had cached nothing there)."""
    text = (
        "FROM python:3.11-slim\nRUN useradd -m app\nRUN HOME=/home/app pip install six\n"
        'ENTRYPOINT ["runuser", "-u", "app", "--"]\nCMD ["python", "app.py"]\n'
    )
    assert "--mount=type=cache" not in _run(text)
    assert any("inside the home of the user of the start command" in m for m in _fixes(text))


@pytest.mark.parametrize(
    "later",
    ["USER ${APP_USER}\n", 'ENTRYPOINT ["runuser", "-u", "app", "--"]\n'],
)
def test_a_root_run_caching_under_home_for_a_user_msdfix_cannot_name_is_unsafe(later: str) -> None:
    """Built for real (``USER ${APP_USER}``): pip as root caches nothing where the first
    directory that exists is not root's (/home/app), and the mount left /home/app/.cache
    root-owned: "Permission denied: '/home/app/.cache/app'"."""
    text = (
        "FROM python:3.11-slim\nARG APP_USER=app\nRUN useradd -m ${APP_USER}\n"
        f"ENV XDG_CACHE_HOME=/home/app/.cache\nRUN pip install six\n{later}"
        'CMD ["python", "app.py"]\n'
    )
    assert "--mount=type=cache" not in _run(text)
    assert any("inside the home of" in m for m in _fixes(text))


@pytest.mark.parametrize(
    "command, note",
    [
        ("sudo pip install six", "pip: runs as root through sudo"),
        ("sudo -H npm install -g typescript", "npm: runs as root through sudo"),
        ("doas pip install six", "pip: runs as root through doas"),
        ("sudo -u app pip install six", "pip: runs as another user (sudo)"),
    ],
)
def test_a_command_sudo_runs_as_root_is_not_the_runs_users(command: str, note: str) -> None:
    """sudo(8) runs the command as root (``-u`` names another target), with HOME from its
    policy: root's with ``-H`` or Debian's env_reset, the caller's where the sudoers keep it.
    msdfix had mounted /home/app/.cache/pip with the reason "it runs as user app"; checked
    with debian:12's sudo 1.9.13 under USER app: id 0 and HOME=/root, with ``-E`` /home/app."""
    text = (
        "FROM python:3.11-slim\nRUN useradd -m -u 1001 app\nUSER app\nWORKDIR /home/app\n"
        f"RUN {command}\n"
    )
    assert any(note in m for m in _fixes(text)), _fixes(text)
    assert "--mount" not in _run(text, unsafe=True)


@pytest.mark.parametrize(
    "later, read",
    [
        ("apt-get update || true; apt-get install -y b && rm -rf /var/lib/apt/lists/*", True),
        ("apt-get update || echo failed; apt-get install -y b", True),
        ("apt-get update; apt-get install -y b && rm -rf /var/lib/apt/lists/*", True),
        ("apt-get update -o Acquire::Retries=3 || apt-get update; apt-get install -y b", True),
        ("apt-get update && apt-get install -y b && rm -rf /var/lib/apt/lists/*", False),
        # set -e ends the script where the refresh, a list of its own, fails
        ("set -ex; apt-get update; apt-get install -y b; rm -rf /var/lib/apt/lists/*", False),
        ("set -e; apt-get update || true; apt-get install -y b", True),
        # errexit with the refresh the last of its and-or list (sh(1)), or the shell's -e
        ("set -e && apt-get update; apt-get install -y b; rm -rf /var/lib/apt/lists/*", False),
        ("set -eux && apt-get update; apt-get install -y b; rm -rf /var/lib/apt/lists/*", False),
        (
            "set -o errexit; apt-get update; apt-get install -y b; rm -rf /var/lib/apt/lists/*",
            False,
        ),
        ("bash -ec 'apt-get update; apt-get install -y b' && rm -rf /var/lib/apt/lists", False),
        ("sh -e -c 'apt-get update; apt-get install -y b' && rm -rf /var/lib/apt/lists", False),
        # a failing cd skips the refresh and -e ignores it; set +e turns errexit off
        ("set -e; cd /tmp && apt-get update; apt-get install -y b", True),
        ("set -e; set +e; apt-get update; apt-get install -y b", True),
        ("set -- -e; apt-get update; apt-get install -y b", True),
        # a second refresh after the && chain
        (
            "apt-get update && apt-get install -y b; apt-get update && apt-get install -y c "
            "&& rm -rf /var/lib/apt/lists/*",
            False,
        ),
        (
            "apt-get update && apt-get upgrade -y && apt-get install -y b && rm -rf /var/lib/apt/lists/*",
            False,
        ),
    ],
)
def test_a_refresh_whose_failure_the_script_ignores_reads_the_image_lists(
    later: str, read: bool
) -> None:
    """apt-get update that fails ("Some index files failed to download. They have been
    ignored, or old ones used instead") exits 100; behind ``|| true`` or ``;`` the install
    still runs and reads the lists the image holds. Built (a local repository whose index the
    later RUN cannot fetch): the original installed from the earlier RUN's lists; the safe
    rewrite had moved them onto a mount and failed, "Unable to locate package hello-b"."""
    text = f"FROM debian:12-slim\nRUN apt-get update && apt-get install -y a\nRUN {later}\n"
    first = _run(text).split("\nRUN ")[1]
    assert ("target=/var/lib/apt/lists" not in first) is read, first
    if read:
        assert any("RUN at line 3 may install without refreshing it" in m for m in _fixes(text))


@pytest.mark.parametrize(
    "shell, read",
    [
        ('["/bin/bash", "-eo", "pipefail", "-c"]', False),
        ('["/bin/bash", "-e", "-c"]', False),
        ('["/bin/bash", "-o", "errexit", "-c"]', False),
        ('["/bin/bash", "-o", "pipefail", "-c"]', True),
    ],
)
def test_a_shell_started_with_errexit_stops_at_a_failed_refresh(shell: str, read: bool) -> None:
    """A SHELL with -e runs each shell-form RUN with errexit on: ``apt-get update;
    apt-get install`` ends where the refresh fails, so the lists are mounted and the trailing
    ``; rm -rf`` dropped (built, debian:12 with empty cache mounts: ``set -e && apt-get
    update; apt-get install hello`` and ``SHELL ["/bin/bash", "-eo", "pipefail", "-c"]``
    installed from the mounted lists; msdfix had left the lists unmounted)."""
    text = (
        f"FROM debian:12-slim\nRUN apt-get update && apt-get install -y a\nSHELL {shell}\n"
        "RUN apt-get update; apt-get install -y b; rm -rf /var/lib/apt/lists/*\n"
    )
    first = _run(text).split("\nRUN ")[1]
    assert ("target=/var/lib/apt/lists" not in first) is read, first
    last = _run(text).split("\nRUN ")[-1]
    assert ("target=/var/lib/apt/lists" in last) is not read, last


@pytest.mark.parametrize(
    "install, owner_check",
    [
        ("pipenv install --system --deploy", True),  # pip under PIP_CACHE_DIR
        ("uv pip install --system six", False),  # uv and PDM create their caches as root
        ("pdm install --no-self", False),
    ],
)
def test_pipenv_as_root_has_pips_owner_check(install: str, owner_check: bool) -> None:
    """pipenv runs pip with PIP_CACHE_DIR=PIPENV_CACHE_DIR, so pip's check_path_owner holds.
    Built (pipenv 2026.10.3, XDG_CACHE_HOME=/app/.cache, /app chowned to app): the original
    left no /app/.cache; the safe rewrite's mounts left it root-owned and the app, run as app,
    failed with "PermissionError: [Errno 13] Permission denied: '/app/.cache/x'". uv and
    PDM 2.29.4 as root created /app/.cache/uv and /app/.cache/pdm root-owned themselves."""
    text = (
        "FROM python:3.11-slim\nRUN useradd -m -u 1001 app\nWORKDIR /app\nRUN chown app /app\n"
        f"ENV XDG_CACHE_HOME=/app/.cache\nRUN {install}\nUSER app\n"
        'CMD ["python", "app.py"]\n'
    )
    skipped = any("keeps no cache when the first of them" in m for m in _fixes(text))
    assert skipped is owner_check, _fixes(text)


@pytest.mark.parametrize("setter", ["npm set", "npm c set", "npm config set"])
def test_npm_set_is_npm_config_set(setter: str) -> None:
    """``npm set`` and ``npm c set`` are aliases of ``npm config set`` (npm-config(1)); built:
    ``npm set cache /var/cache/npm --global`` then a /root/.npm mount with ``npm cache clean``
    dropped: the image grew from 709,231,188 to 710,753,773 bytes (2.7 MB of cache left)."""
    text = (
        f"FROM node:18\nRUN {setter} cache /var/cache/npm --global\n"
        "RUN npm install -g cowsay && npm cache clean --force\n"
    )
    assert _run(text) == text
    assert any("RUN at line 2 configures where it caches" in m for m in _fixes(text))
    other = text.replace("cache /var/cache/npm --global", "progress=false")
    assert "--mount=type=cache,target=/root/.npm" in _run(other)


def test_a_gem_directory_no_variable_names_is_declined_for_that_reason() -> None:
    """RubyGems caches in $GEM_HOME/cache, whatever the user's home: Debian's ruby package
    sets no GEM_HOME (its gem directory depends on the Ruby version), so the reason names the
    variable, not root's home."""
    text = (
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y ruby && gem install sass\n"
    )
    messages = " ".join(_fixes(text))
    assert "gem: it caches in $GEM_HOME/cache, and no ENV or base image sets GEM_HOME" in messages
    assert "home of user" not in messages
    unknown = " ".join(_fixes("FROM someone/rubyish\nRUN gem install sass\n"))
    assert "gem: its cache depends on GEM_HOME, which base image someone/rubyish may set" in unknown


@pytest.mark.parametrize(
    ("user", "reason"),
    [
        ("node", "this RUN runs as node"),
        ("1000", "this RUN runs as 1000"),
        ("${U}", "this RUN's user is unknown"),
    ],
)
def test_yarn_as_another_user_than_root_is_declined_with_a_reason(user: str, reason: str) -> None:
    """yarn 1 caches in /usr/local/share/.cache/yarn as root only (its home is /usr/local/share
    for root, ~ for others): the RUN was left alone with no reason printed."""
    text = f"FROM node:18\nARG U=node\nWORKDIR /app\nUSER {user}\nRUN yarn install\n"
    assert _run(text) == text
    assert f"yarn: /usr/local/share/.cache/yarn is root's cache, and {reason}" in " ".join(
        _fixes(text)
    )


@pytest.mark.parametrize(("extra", "safe"), [("", True), (', "psycopg2==2.9.10"', False)])
def test_a_uv_lock_the_sync_replaces_proves_no_wheels(
    tmp_path: Path, extra: str, safe: bool
) -> None:
    """uv.lock lists six's wheel alone; pyproject.toml adding psycopg2 makes a plain ``uv
    sync`` lock again and build psycopg2 from its sdist (built with uv 0.13.9), a wheel uv
    keeps in its cache: the stale lock is no evidence that nothing is built."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "pg-app"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
        f'dependencies = ["six>=1.10"{extra}]\n'
    )
    (tmp_path / "uv.lock").write_text(
        'version = 1\nrevision = 3\nrequires-python = ">=3.9"\n\n[[package]]\n'
        'name = "pg-app"\nversion = "0.1.0"\nsource = { virtual = "." }\n\n'
        '[package.metadata]\nrequires-dist = [{ name = "six", specifier = ">=1.10" }]\n\n'
        '[[package]]\nname = "six"\nversion = "1.17.0"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
        'wheels = [{ url = "https://files.pythonhosted.org/six-1.17.0-py2.py3-none-any.whl" }]\n'
    )
    text = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN uv sync --no-install-project\n"
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"cache-mount"})))
    assert result.changed is safe, [f.message for f in result.suggestions]
    if not safe:
        assert any("uv keeps the wheels it builds" in f.message for f in result.suggestions)


@pytest.mark.parametrize(
    ("install", "env"),
    [
        ("npm install --prefer-offline", ""),
        ("npm i --no-save --prefer-offline=true", ""),
        ("npm install", "ENV npm_config_prefer_offline=true\n"),
        ("yarn install --prefer-offline", ""),
        ("yarn install --frozen-lockfile --prefer-offline", ""),
    ],
)
def test_a_prefer_offline_install_gets_an_unsafe_mount(install: str, env: str) -> None:
    """``--prefer-offline`` resolves version ranges from what the cache holds: built for real,
    npm with a month-old packument on the mount installed is-number 6.0.0 and yarn 1 with
    another project's downloads 6.0.0, where the original installed 7.0.0 (yarn exits 0
    with --frozen-lockfile and no yarn.lock, so that flag pins nothing by itself)."""
    text = f"FROM node:18\nWORKDIR /app\nCOPY package.json ./\n{env}RUN {install}\n"
    assert "--mount=type=cache" not in _run(text)
    assert "--mount=type=cache" in _run(text, unsafe=True)
    assert any("--prefer-offline resolves version ranges" in m for m in _fixes(text))


# A yarn 1 lock of chalk ^4 with supports-color 7.1.0 under ``^7.1.0`` (7.2.0 the newest), as
# yarn 1.22.22 wrote it, cut to the entries the test reads (the integrities left out).
_CHALK_LOCK = """\
# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


chalk@^4.0.0:
  version "4.1.2"
  dependencies:
    supports-color "^7.1.0"

has-flag@^4.0.0:
  version "4.0.0"

supports-color@^7.1.0:
  version "7.1.0"
  dependencies:
    has-flag "^4.0.0"
"""
_CHALK = '{"name": "app", "dependencies": {"chalk": "^4.0.0"}}'


def _yarn_project(tmp_path: Path, lock: str, package: str = _CHALK) -> BuildContext:
    (tmp_path / "package.json").write_text(package)
    (tmp_path / "yarn.lock").write_text(lock)
    return BuildContext(tmp_path)


@pytest.mark.parametrize(
    "install",
    [
        "RUN yarn install --frozen-lockfile --prefer-offline",
        "RUN yarn --prefer-offline --frozen-lockfile --production",
        "RUN echo start && yarn install --frozen-lockfile --prefer-offline",
    ],
)
def test_a_frozen_yarn_install_of_a_lock_that_pins_every_package_keeps_its_safe_mount(
    tmp_path: Path, install: str
) -> None:
    """yarn 1 takes each version from a lock that pins every pattern, whatever the cache
    holds: built for real, ``--frozen-lockfile --prefer-offline`` with another project's
    supports-color 7.2.0 on the mount installed the lock's 7.1.0, is-number's 6.0.0 under
    7.0.0 cached and 7.0.0 under 6.0.0 cached, as the original (same yarn.lock)."""
    ctx = _yarn_project(tmp_path, _CHALK_LOCK)
    text = f"FROM node:18\nWORKDIR /app\nCOPY package.json yarn.lock ./\n{install}\n"
    result = rewrite(text, None, ctx, Settings(frozenset({"cache-mount"})))
    assert "target=/usr/local/share/.cache/yarn" in result.output
    assert not result.suggestions, [f.message for f in result.suggestions]


@pytest.mark.parametrize(
    ("lock", "package", "copy", "install"),
    [
        (_CHALK_LOCK.replace('has-flag@^4.0.0:\n  version "4.0.0"\n\n', ""), _CHALK, "COPY package.json yarn.lock ./",
         "RUN yarn install --frozen-lockfile --prefer-offline"),  # an unlocked pattern
        (_CHALK_LOCK, '{"dependencies": {"chalk": "^4.0.0"}, "resolutions": {"x": "1"}}',
         "COPY package.json yarn.lock ./", "RUN yarn install --frozen-lockfile --prefer-offline"),
        (_CHALK_LOCK, _CHALK, "COPY package.json yarn.lock ./",
         "RUN yarn install --prefer-offline"),  # not frozen
        (_CHALK_LOCK, _CHALK, "COPY package.json ./",
         "RUN yarn install --frozen-lockfile --prefer-offline"),  # the lock is not copied
        (_CHALK_LOCK, _CHALK, "COPY package.json yarn.lock ./\nRUN rm -f yarn.lock",
         "RUN yarn install --frozen-lockfile --prefer-offline"),  # a RUN between
        (_CHALK_LOCK, _CHALK, "COPY package.json yarn.lock ./",
         "RUN cp /tmp/other.lock yarn.lock && yarn install --frozen-lockfile --prefer-offline"),
        (_CHALK_LOCK, _CHALK, "COPY package.json yarn.lock ./",
         "RUN cd /srv && yarn install --frozen-lockfile --prefer-offline"),  # another folder
        (_CHALK_LOCK + '\n"local@file:./local":\n  version "1.0.0"\n',
         '{"dependencies": {"chalk": "^4.0.0", "local": "file:./local"}}',  # built: the
         "COPY package.json yarn.lock ./",  # frozen install resolved local's new dependency,
         "RUN yarn install --frozen-lockfile --prefer-offline"),  # 6.0.0 from the mount
        (_CHALK_LOCK + '\n"local@./local":\n  version "1.0.0"\n',
         '{"dependencies": {"chalk": "^4.0.0", "local": "./local"}}',
         "COPY package.json yarn.lock ./", "RUN yarn install --frozen-lockfile --prefer-offline"),
        (_CHALK_LOCK, _CHALK,  # built: the rewrite installed the mount's 6.0.0, not 7.0.0
         "RUN echo '--install.no-lockfile true' > /root/.yarnrc\nCOPY package.json yarn.lock ./",
         "RUN yarn install --frozen-lockfile --prefer-offline"),
        (_CHALK_LOCK, _CHALK, "RUN yarn config set no-lockfile true\nCOPY package.json yarn.lock ./",
         "RUN yarn install --frozen-lockfile --prefer-offline"),
        (_CHALK_LOCK, _CHALK, "COPY package.json yarn.lock ./",
         "RUN yarn install --frozen-lockfile --no-lockfile --prefer-offline"),  # lock ignored
        (_CHALK_LOCK, _CHALK, "COPY package.json yarn.lock ./\nENV YARN_NO_LOCKFILE=true",
         "RUN yarn install --frozen-lockfile --prefer-offline"),
    ],
)  # fmt: skip
def test_a_yarn_install_preferring_the_cache_without_a_pinning_lock_stays_unsafe(
    tmp_path: Path, lock: str, package: str, copy: str, install: str
) -> None:
    """Without a copied yarn.lock that pins every package the install resolves ranges from
    the mount (built: no lock, is-number 6.0.0 on the mount, the original 7.0.0)."""
    ctx = _yarn_project(tmp_path, lock, package)
    text = f"FROM node:18\nWORKDIR /app\n{copy}\n{install}\n"
    result = rewrite(text, None, ctx, Settings(frozenset({"cache-mount"})))
    messages = [f.message for f in result.suggestions]
    assert any("--prefer-offline resolves version ranges" in m for m in messages), messages


def test_a_yarnrc_naming_the_lockfile_keeps_the_prefer_offline_mount_unsafe(
    tmp_path: Path,
) -> None:
    """``--install.no-lockfile true`` in .yarnrc makes yarn 1 ignore yarn.lock, so the lock
    pins nothing and the install resolves ranges from the mount."""
    ctx = _yarn_project(tmp_path, _CHALK_LOCK)
    (tmp_path / ".yarnrc").write_text("--install.no-lockfile true\n")
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package.json yarn.lock ./\n"
        "RUN yarn install --frozen-lockfile --prefer-offline\n"
    )
    result = rewrite(text, None, ctx, Settings(frozenset({"cache-mount"})))
    messages = [f.message for f in result.suggestions]
    assert any("--prefer-offline resolves version ranges" in m for m in messages), messages


@pytest.mark.parametrize(
    "install", ["npm ci --prefer-offline", "npm install --prefer-offline=false", "npm install"]
)
def test_a_locked_or_online_install_keeps_its_safe_mount(install: str) -> None:
    """``npm ci`` installs the lock file's exact versions and fails without one (built: with
    a month-old packument on the mount, ``npm ci --prefer-offline`` installed what the
    original did), and without the flag npm asks the registry."""
    text = f"FROM node:18\nWORKDIR /app\nCOPY package*.json ./\nRUN {install}\n"
    assert "--mount=type=cache,target=/root/.npm" in _run(text)
    assert not any("--prefer-offline resolves" in m for m in _fixes(text))


@pytest.mark.parametrize(
    ("name", "config", "install"),
    [
        (".npmrc", "prefer-offline=true\n", "npm install"),
        (".npmrc", "registry=https://registry.npmjs.org/\nprefer_offline\n", "npm install"),
        (".yarnrc", "--install.prefer-offline true\n", "yarn install"),
    ],
)
def test_a_copied_configuration_that_prefers_the_cache_keeps_the_mount_out(
    tmp_path: Path, name: str, config: str, install: str
) -> None:
    """A project's ``.npmrc`` with ``prefer-offline=true`` does what the flag does: built for
    real, with a month-old packument on the mount ``npm install`` installed is-number 6.0.0,
    the original 7.0.0."""
    (tmp_path / name).write_text(config)
    (tmp_path / "package.json").write_text('{"name": "x"}')
    text = f"FROM node:18\nWORKDIR /app\nCOPY package.json {name} ./\nRUN {install}\n"
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"cache-mount"})))
    assert "type=cache" not in result.output
    messages = [f.message for f in result.applied + result.suggestions]
    assert any("may set where or how it caches" in m for m in messages), messages


_PARTIAL_UPDATE = (
    'echo "deb http://deb.debian.org/debian bookworm-backports main" > '
    "/etc/apt/sources.list.d/bp.list && apt-get update -o Dir::Etc::sourcelist="
    "sources.list.d/bp.list -o Dir::Etc::sourceparts=- -o APT::Get::List-Cleanup=0"
)


@pytest.mark.parametrize("option", ["-o Dir::Etc::sourcelist=", "-oDir::Etc::SourceParts="])
def test_an_update_of_some_sources_reads_the_other_lists_from_the_image(option: str) -> None:
    """``apt-get update -o Dir::Etc::sourcelist=...`` refreshes one repository and keeps the
    other lists: built for real, with the first RUN from the layer cache and the lists
    mount emptied, the rewrite's ``apt-get install jq`` failed ("Package 'jq' has no
    installation candidate"), the original read the first RUN's lists from the image."""
    update = _PARTIAL_UPDATE.replace("-o Dir::Etc::sourcelist=", option)
    text = (
        "FROM debian:12\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl\n"
        f"RUN {update} && apt-get install -y --no-install-recommends jq "
        "&& rm -rf /var/lib/apt/lists/*\n"
    )
    out = _run(text)
    assert "target=/var/lib/apt/lists" not in out
    assert out.count("target=/var/cache/apt,") == 2
    # the update fetches no .debs: no Dir::Cache::Archives on it
    assert "apt-get update -o Dir::Etc" in out or "apt-get update -oDir::Etc" in out


def test_a_full_update_with_other_options_still_refreshes_the_lists() -> None:
    """Options that leave the sources alone keep the update a refresh of every list."""
    text = (
        "FROM debian:12\n"
        "RUN apt-get update -o Acquire::Retries=3 && apt-get install -y jq "
        "&& rm -rf /var/lib/apt/lists/*\n"
    )
    assert "target=/var/lib/apt/lists" in _run(text)


def test_poetry_caches_are_locked() -> None:
    """poetry before 1.3 wrote each archive in place, so a build sharing the mount read the
    half-written file ("Invalid hashes", poetry#5142; #6186 made the write atomic), and its
    metadata cache still writes in place: concurrent builds take turns."""
    out = _run("FROM python:3.12\nRUN pip install poetry==1.1.15 && poetry install\n", True)
    assert "target=/root/.cache/pypoetry/cache,sharing=locked" in out
    assert "target=/root/.cache/pypoetry/artifacts,sharing=locked" in out


@pytest.mark.parametrize("start", ['["air", "-c", ".air.toml"]', '["CompileDaemon"]', "fresh"])
def test_a_live_reload_tool_at_start_reads_the_go_caches(start: str) -> None:
    """air, CompileDaemon and fresh run ``go build`` when the container starts, as ``go run``
    does: the module store it reads stays in the image."""
    text = f"FROM golang:1.22\nRUN go install example.com/tool@v1.0.0\nCMD {start}\n"
    assert _run(text) == text
    assert any("go runs at container start" in m for m in _fixes(text))


@pytest.mark.parametrize(
    ("install", "env"),
    [
        ("npm install --cache-min 9999999", ""),
        ("npm i --cache-min=Infinity", ""),
        ("npm install", "ENV NPM_CONFIG_CACHE_MIN=9999999\n"),
        ("npm_config_cache_min=$MIN npm install", ""),
    ],
)
def test_a_cache_min_of_9999_or_more_is_prefer_offline(install: str, env: str) -> None:
    """npm reads ``--cache-min=9999`` or more as ``--prefer-offline`` (@npmcli/config):
    built for real, with a month-old packument on the mount ``--cache-min 9999999``,
    ``--cache-min=Infinity`` and ``NPM_CONFIG_CACHE_MIN=9999999`` installed is-number 6.0.0,
    the originals 7.0.0."""
    text = f"FROM node:18\nWORKDIR /app\nCOPY package.json ./\n{env}RUN {install}\n"
    assert "--mount=type=cache" not in _run(text)
    assert "--mount=type=cache" in _run(text, unsafe=True)
    assert any("--cache-min of 9999 or more" in m for m in _fixes(text)), _fixes(text)


@pytest.mark.parametrize("install", ["npm install --cache-min 10", "npm install --cache-min=x"])
def test_a_small_cache_min_keeps_the_safe_mount(install: str) -> None:
    """Below 9999 npm asks the registry as it does without the option."""
    text = f"FROM node:18\nWORKDIR /app\nCOPY package.json ./\nRUN {install}\n"
    assert "--mount=type=cache,target=/root/.npm" in _run(text)


def test_a_copied_npmrc_with_cache_min_keeps_the_mount_out(tmp_path: Path) -> None:
    """``cache-min=9999999`` in a copied ``.npmrc`` does what ``--cache-min`` does."""
    (tmp_path / ".npmrc").write_text("cache-min=9999999\n")
    (tmp_path / "package.json").write_text('{"name": "x"}')
    text = "FROM node:18\nWORKDIR /app\nCOPY package.json .npmrc ./\nRUN npm install\n"
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"cache-mount"})))
    assert "type=cache" not in result.output


@pytest.mark.parametrize(
    "write",
    [
        'echo "prefer-offline=true" >> /root/.npmrc',
        "printf 'registry=https://registry.npmjs.org/\\ncache-min=9999999\\n' > ~/.npmrc",
        "echo cache=/var/cache/npm > /usr/local/etc/npmrc",
    ],
)
def test_an_echoed_npm_setting_keeps_the_mount_out(write: str) -> None:
    """A RUN that echoes a cache setting into npm's configuration configures npm as ``npm
    config set`` does: built for real, after ``echo "prefer-offline=true" >> /root/.npmrc``
    the rewrite's ``npm install`` with a month-old packument on the mount installed
    is-number 6.0.0, the original 7.0.0."""
    text = f"FROM node:18\nRUN {write}\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\n"
    assert "type=cache" not in _run(text, unsafe=True)
    assert any("configures where it caches" in m for m in _fixes(text)), _fixes(text)


def test_an_echoed_registry_keeps_the_safe_mount() -> None:
    """Other settings echoed into ``.npmrc`` leave the cache alone."""
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package.json ./\n"
        'RUN echo "registry=https://registry.npmjs.org/" > .npmrc && npm install\n'
    )
    assert "--mount=type=cache,target=/root/.npm" in _run(text)


@pytest.mark.parametrize(
    ("image", "fetch", "setting", "use"),
    [
        ("golang:1.19", "go mod download", "go env -w GOPROXY=off", "go build -o /app ."),
        ("node:18", "npm install", "npm config set offline true", "npm install"),
    ],
)
def test_a_tool_set_offline_by_an_earlier_run_reads_the_image(
    image: str, fetch: str, setting: str, use: str
) -> None:
    """A RUN that sets the tool offline in its configuration makes every later call of it
    read the store from the image, as ``GOPROXY=off`` in the environment does: built, with
    the download RUN from the layer cache and the module mount emptied, the rewrite's ``go
    build`` failed ("module lookup disabled by GOPROXY=off"); the original built."""
    text = (
        f"FROM {image}\nWORKDIR /src\nCOPY . .\nRUN {fetch}\nRUN {setting}\nRUN {use}\n"
        'CMD ["/app"]\n'
    )
    assert "type=cache" not in _run(text, unsafe=True)
    assert any("is read offline by line 6" in m for m in _fixes(text)), _fixes(text)
    assert any("RUN at line 5 configures" in m for m in _fixes(text)), _fixes(text)


def test_a_go_proxy_set_by_go_env_keeps_the_mounts() -> None:
    """``go env -w GOPROXY=https://goproxy.cn,direct`` leaves Go online."""
    text = (
        "FROM golang:1.19\nWORKDIR /src\nCOPY . .\nRUN go env -w GOPROXY=https://goproxy.cn\n"
        "RUN CGO_ENABLED=0 go build -o /app .\n"
    )
    assert "--mount=type=cache,target=/go/pkg/mod" in _run(text)


@pytest.mark.parametrize(
    ("name", "config", "dest"),
    [
        ("settings.xml", "<settings><offline>true</offline></settings>\n", "/root/.m2/"),
        ("maven.config", "-B\n-o\n", ".mvn/"),
        ("maven.config", "--batch-mode --offline\n", ".mvn/"),
    ],
)
def test_a_copied_maven_configuration_that_goes_offline_keeps_the_mounts_out(
    tmp_path: Path, name: str, config: str, dest: str
) -> None:
    """settings.xml's ``<offline>true</offline>`` and .mvn/maven.config's ``-o`` make every
    later ``mvn`` read only the local repository, as ``mvn -o`` does: the fetch before it
    must leave the repository in the image (read from Maven's docs; Maven Central is not
    reachable from the builds here)."""
    (tmp_path / name).write_text(config)
    (tmp_path / "pom.xml").write_text("<project/>\n")
    text = (
        "FROM maven:3.9-eclipse-temurin-17\nWORKDIR /src\nCOPY pom.xml ./\n"
        f"RUN mvn dependency:go-offline\nCOPY {name} {dest}\nRUN mvn package\n"
        'CMD ["java", "-jar", "target/app.jar"]\n'
    )
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"cache-mount"})))
    assert "type=cache" not in result.output, result.output
    messages = [f.message for f in result.applied + result.suggestions]
    assert any("is read offline by line 6" in m for m in messages), messages


def test_a_copied_maven_configuration_without_offline_keeps_the_mounts(tmp_path: Path) -> None:
    """A maven.config of other options leaves Maven online."""
    (tmp_path / "maven.config").write_text("-B\n-T 1C\n")
    (tmp_path / "pom.xml").write_text("<project/>\n")
    text = (
        "FROM maven:3.9-eclipse-temurin-17\nWORKDIR /src\nCOPY pom.xml ./\n"
        "RUN mvn dependency:go-offline\nCOPY maven.config .mvn/\nRUN mvn package\n"
        'CMD ["java", "-jar", "target/app.jar"]\n'
    )
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"cache-mount"})))
    assert result.output.count("target=/root/.m2/repository") == 2, result.output


def test_a_file_proxy_in_the_module_cache_keeps_the_store_in_the_image() -> None:
    """``GOPROXY=file:///go/pkg/mod/cache/download`` makes ``go build`` read the module
    cache as its proxy: built, with the download RUN from the layer cache and the module
    mount emptied, the rewrite's ``go build`` failed ("reading file:///go/pkg/mod/cache/
    download/...zip: no such file or directory"); the original built."""
    text = (
        "FROM golang:1.19\nENV CGO_ENABLED=0\nWORKDIR /src\nCOPY go.mod go.sum ./\n"
        "RUN go mod download\nENV GOPROXY=file:///go/pkg/mod/cache/download\nCOPY . .\n"
        'RUN go build -o /app .\nCMD ["/app"]\n'
    )
    out = _run(text, unsafe=True)
    assert "target=/go/pkg/mod" not in out, out
    assert any("holds what line 5 put there" in m for m in _fixes(text)), _fixes(text)


@pytest.mark.parametrize(
    ("offline", "env"),
    [("uv pip install --offline", ""), ("uv pip install", "ENV UV_OFFLINE=1\n")],
)
def test_an_offline_uv_install_reads_the_cache_from_the_image(offline: str, env: str) -> None:
    """``uv pip install --offline`` (or ``UV_OFFLINE``) installs from uv's cache alone: built,
    with the first install from the layer cache and the uv mount emptied, the rewrite's
    offline install failed ("six was not found in the cache"); the original built."""
    text = (
        "FROM python:3.11\nRUN pip install uv\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN uv pip install --system -r requirements.txt\nCOPY . .\n"
        f"{env}RUN {offline} --system -r requirements.txt\n"
    )
    out = _run(text, unsafe=True)
    assert "target=/root/.cache/uv" not in out, out
    assert any("/root/.cache/uv is read offline" in m for m in _fixes(text)), _fixes(text)


def test_a_bun_install_that_prefers_the_cache_gets_an_unsafe_mount() -> None:
    """bun resolves from the manifests its cache holds with ``--prefer-offline``, "even
    with expired data" (bun's own tests; no bun image here to build with)."""
    text = "FROM oven/bun:1\nWORKDIR /app\nCOPY package.json ./\nRUN bun install --prefer-offline\n"
    assert "--mount=type=cache" not in _run(text)
    assert any("--prefer-offline resolves version ranges" in m for m in _fixes(text)), _fixes(text)


def test_an_offline_bun_install_reads_the_cache_from_the_image() -> None:
    """``bun install --offline`` installs from bun's cache alone, as npm's flag does."""
    text = (
        "FROM oven/bun:1\nWORKDIR /app\nCOPY package.json ./\nRUN bun install\n"
        "COPY . .\nRUN bun install --offline\n"
    )
    assert "type=cache" not in _run(text, unsafe=True)
    assert any("is read offline by line 6" in m for m in _fixes(text)), _fixes(text)


def test_composer_with_the_network_disabled_reads_the_cache_from_the_image() -> None:
    """``COMPOSER_DISABLE_NETWORK=1`` makes composer install from its cache alone (its docs):
    the install that fills the cache before it keeps the cache in the image."""
    text = (
        "FROM composer:2\nWORKDIR /app\nCOPY composer.json composer.lock ./\n"
        "RUN composer install --no-scripts\nCOPY . .\n"
        "RUN COMPOSER_DISABLE_NETWORK=1 composer install\n"
    )
    assert "type=cache" not in _run(text, unsafe=True)
    assert any("is read offline by line 6" in m for m in _fixes(text)), _fixes(text)


def test_an_echoed_offline_setting_makes_later_installs_read_the_image() -> None:
    """``echo offline=true >> ~/.npmrc`` sets npm offline as ``npm config set`` does: the
    install before it keeps its downloads in the image."""
    text = (
        "FROM node:18\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\n"
        "RUN echo offline=true >> /root/.npmrc\nRUN npm install\n"
    )
    assert "type=cache" not in _run(text, unsafe=True)
    assert any("is read offline by line 6" in m for m in _fixes(text)), _fixes(text)


def test_a_copied_apt_configuration_leaves_the_earlier_mount() -> None:
    """A copied apt configuration cannot make apt read only its cache (apt has no such
    setting msdfix reads), so the install before it keeps its mount."""
    text = (
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl "
        "&& rm -rf /var/lib/apt/lists/*\nCOPY sources.list /etc/apt/sources.list\n"
        "RUN apt-get update && apt-get install -y jq && rm -rf /var/lib/apt/lists/*\n"
    )
    before_copy = _run(text).split("COPY")[0]
    assert "target=/var/cache/apt," in before_copy, before_copy


@pytest.mark.parametrize(
    "setting",
    [
        "printf '[global]\\nno-index = true\\nfind-links = /root/.cache/pip/dl\\n' > /etc/pip.conf",
        "echo find_links=/root/.cache/pip/dl >> /root/.config/pip/pip.conf",
    ],
)
def test_a_find_links_setting_in_pips_configuration_keeps_the_cache(setting: str) -> None:
    """pip.conf's find-links may name a folder in the cache: built, with ``no-index`` and
    ``find-links = /root/.cache/pip/dl`` after ``pip download -d /root/.cache/pip/dl six``,
    the mounted ``pip install six`` found no six ("from versions: none"), the original
    installed 1.16.0."""
    text = (
        "FROM python:3.11\nRUN pip download -d /root/.cache/pip/dl six==1.16.0\n"
        f"RUN {setting}\nRUN pip install six\n"
    )
    assert _run(text) == text
    assert any("RUN at line 3 configures where it caches" in m for m in _fixes(text))


@pytest.mark.parametrize(
    "conf, mounted",
    [
        ("find-links = https://pypi.org/simple/six/", True),
        ("find-links =\n    https://a.example/links/\n    http://b.example/", True),
        ("find-links = /wheels", False),  # a local path may be in the cache (not built here)
        ("find-links = https://a.example/ /root/.cache/pip/dl", False),
        ("cache-dir = /var/cache/pip", False),
        ("find-links = [unreadable", False),
    ],
)
def test_a_copied_pip_conf_whose_find_links_are_urls_keeps_the_mount(
    tmp_path: Path, conf: str, mounted: bool
) -> None:
    """A copied pip.conf naming find-links declined the mount whatever it named. URLs are
    not in the cache: built, ``no-index`` and ``find-links = https://pypi.org/simple/six/``
    installed six 1.17.0 in the original and in the rewrite, its mount emptied or filled
    with six 1.16.0 (same size)."""
    (tmp_path / "pip.conf").write_text(f"[global]\nno-index = true\n{conf}\n")
    if "unreadable" in conf:
        (tmp_path / "pip.conf").write_text(f"no section\n{conf}\n")
    text = "FROM python:3.11\nCOPY pip.conf /etc/pip.conf\nRUN pip install six\n"
    result = _rewrite(text, tmp_path)
    assert ("--mount=type=cache,target=/root/.cache/pip" in result.output) is mounted
    if not mounted:
        assert any("copies a configuration of pip" in m for m in _messages(result))


PNPM_OFFLINE_LATER = (
    "FROM node:18\nRUN npm i -g pnpm@8.15.9\nWORKDIR /a\nCOPY package.json pnpm-lock.yaml ./\n"
    "RUN pnpm fetch\n{setting}\nWORKDIR /b\nCOPY package.json pnpm-lock.yaml ./\n"
    "RUN pnpm install\n"
)


@pytest.mark.parametrize(
    "setting", ["RUN echo offline=true >> /root/.npmrc", "ENV npm_config_offline=true"]
)
def test_pnpm_set_offline_by_npmrc_or_its_variable_reads_the_store_from_the_image(
    setting: str,
) -> None:
    """pnpm reads .npmrc's ``offline`` and ``npm_config_offline`` as npm does: built (pnpm
    8.15.9), with ``pnpm fetch``'s store on a mount, the later install in another folder
    failed, ERR_PNPM_NO_OFFLINE_TARBALL; the original installed is-number 7.0.0."""
    text = PNPM_OFFLINE_LATER.format(setting=setting)
    messages = _fixes(text)
    assert "target=/root/.local/share/pnpm/store" not in _run(text, unsafe=True)
    assert any("store is read offline by line 9" in m for m in messages), messages


@pytest.mark.parametrize(
    ("setting", "mounted"),
    [
        ("ENV YARN_ENABLE_NETWORK=0", False),
        ("ENV YARN_ENABLE_NETWORK=false", False),
        ("RUN echo 'enableNetwork: false' >> /root/.yarnrc.yml", False),
        ("RUN yarn config set -H enableNetwork false", False),
        ("RUN yarn config set -H enableTelemetry false", True),
        ("ENV YARN_ENABLE_OFFLINE_MODE=1", True),  # prefers the cache, fetches what it lacks
        ("ENV YARN_ENABLE_NETWORK=1", True),
    ],
)
def test_yarn_berry_without_network_reads_its_cache_from_the_image(
    tmp_path: Path, setting: str, mounted: bool
) -> None:
    """enableNetwork false makes yarn 4 fetch from its cache alone: built (yarn 4.5.0), with
    the first install's cache on an emptied mount, the later install in another folder under
    YARN_ENABLE_NETWORK=0, an echoed ``enableNetwork: false`` or ``yarn config set -H
    enableNetwork false`` failed ("has been blocked
    because of your configuration settings"); the originals installed is-number 7.0.0, and
    so did both under YARN_ENABLE_OFFLINE_MODE=1."""
    (tmp_path / ".yarnrc.yml").write_text("nodeLinker: node-modules\n")
    (tmp_path / "package.json").write_text('{"name": "app", "packageManager": "yarn@4.5.0"}')
    (tmp_path / "yarn.lock").write_text("")
    text = (
        "FROM node:18\nWORKDIR /a\nCOPY package.json yarn.lock .yarnrc.yml ./\n"
        f"RUN yarn install\n{setting}\nWORKDIR /b\nCOPY package.json yarn.lock .yarnrc.yml ./\n"
        "RUN yarn install\n"
    )
    result = _rewrite(text, tmp_path)
    first = result.output.splitlines()[3]
    assert ("target=/root/.yarn/berry/cache" in first) is mounted, result.output
    read = any("cache is read offline by line 8" in m for m in _messages(result))
    assert read is not mounted


@pytest.mark.parametrize(
    "setting",
    [
        "RUN mkdir -p .cargo && printf '[net]\\noffline = true\\n' > .cargo/config.toml",
        "RUN echo 'net.offline = true' >> /usr/local/cargo/config.toml",
        "COPY .cargo/config.toml .cargo/",
    ],
)
def test_cargo_set_offline_in_its_configuration_reads_the_registry_from_the_image(
    setting: str,
) -> None:
    """``[net] offline = true`` in a cargo configuration is ``--offline`` in a file (read from
    cargo's docs, not built: crates.io is not reachable here): the fetch keeps its registry
    in the image, and the offline build gets no mount; a copied configuration msdfix cannot
    read may set it."""
    text = (
        "FROM rust:1.63\nWORKDIR /app\nCOPY Cargo.toml Cargo.lock ./\n"
        f"RUN mkdir src && touch src/main.rs && cargo fetch\n{setting}\nCOPY src src\n"
        'RUN cargo build --release\nCMD ["/app/target/release/a"]\n'
    )
    assert _run(text, unsafe=True) == text
    messages = _fixes(text)
    assert any("registry is read offline by line 7" in m for m in messages), messages


def test_a_cargo_configuration_without_offline_keeps_the_mounts() -> None:
    """Other settings of a written cargo configuration leave the registry mounted."""
    text = (
        "FROM rust:1.63\nWORKDIR /app\nCOPY . .\n"
        "RUN mkdir -p .cargo && printf '[net]\\nretry = 5\\n' > .cargo/config.toml\n"
        'RUN cargo build --release\nCMD ["/app/target/release/a"]\n'
    )
    assert "target=/usr/local/cargo/registry" in _run(text)


@pytest.mark.parametrize(
    ("line", "mounted"),
    [
        ("--find-links /root/.cache/pip/dl", False),
        ("--no-index -f file:///root/.cache/pip/dl", False),
        ("--find-links /wheels", True),
        ("--find-links https://example.com/wheels", True),
    ],
)
def test_a_requirements_file_naming_a_folder_in_the_cache_keeps_it(
    tmp_path: Path, line: str, mounted: bool
) -> None:
    """pip reads a requirements file's option lines: built, with ``--no-index`` and
    ``--find-links /root/.cache/pip/dl`` in requirements.txt after ``pip download -d
    /root/.cache/pip/dl six``, the mounted ``pip install -r requirements.txt`` found no six
    ("from versions: none"), the original installed 1.16.0."""
    (tmp_path / "requirements.txt").write_text(f"--no-index\n{line}\nsix\n")
    text = (
        "FROM python:3.11\nRUN pip download -d /root/.cache/pip/dl six==1.16.0\n"
        "COPY requirements.txt .\nRUN pip install -r requirements.txt\n"
    )
    result = _rewrite(text, tmp_path)
    assert ("target=/root/.cache/pip" in result.output) is mounted, result.output
    if not mounted:
        assert any(f"by name (`{line}`)" in m for m in _messages(result)), _messages(result)


@pytest.mark.parametrize(
    ("env", "offline"),
    [
        ('ENV MAVEN_ARGS="-B -o"', True),
        ("ENV MAVEN_ARGS=--offline", True),
        ('ENV MAVEN_ARGS="-B -ntp"', False),
        ('ENV MAVEN_OPTS="-Xmx1g"', False),
    ],
)
def test_maven_args_with_offline_make_mvn_read_the_repository_from_the_image(
    env: str, offline: bool
) -> None:
    """mvn 3.9+ reads MAVEN_ARGS's words before its command line (read, not built: Maven
    Central is not reachable here): ``-o`` there is offline, as on the command line."""
    text = (
        "FROM maven:3.9-eclipse-temurin-17\nWORKDIR /app\nCOPY pom.xml .\n"
        f"RUN mvn -B dependency:go-offline\n{env}\nCOPY src src\nRUN mvn package\n"
        'CMD ["java", "-jar", "target/app.jar"]\n'
    )
    assert ("target=/root/.m2/repository" not in _run(text)) is offline
    assert any("is read offline by line 7" in m for m in _fixes(text)) is offline


def test_install_prefix_inside_the_cache_is_not_mounted() -> None:
    """Built: `npm install -g` with NPM_CONFIG_PREFIX=/root/.npm/global put cowsay on the
    mount, and the image's `cowsay` failed; a sibling prefix (/root/.npm-global) is no part
    of the cache."""
    text = (
        "FROM node:18\nENV NPM_CONFIG_PREFIX=/root/.npm/global\n"
        "ENV PATH=/root/.npm/global/bin:$PATH\nRUN npm install -g cowsay\n"
        'CMD ["cowsay", "hi"]\n'
    )
    assert "--mount" not in _run(text, unsafe=True)
    assert any("NPM_CONFIG_PREFIX=/root/.npm/global names a folder" in m for m in _fixes(text))
    sibling = text.replace("/root/.npm/global", "/root/.npm-global")
    assert "--mount=type=cache,target=/root/.npm " in _run(sibling)


def test_gobin_inside_the_build_cache_keeps_the_build_cache_out() -> None:
    """Built: `go install` with GOBIN=/root/.cache/go-build/bin left no `hello` in the image
    ("executable file not found in $PATH"); the module store is still mounted."""
    text = (
        "FROM golang:1.19\nENV GOBIN=/root/.cache/go-build/bin\n"
        "ENV PATH=/root/.cache/go-build/bin:$PATH\nWORKDIR /src\nCOPY . .\n"
        'RUN CGO_ENABLED=0 go install .\nCMD ["hello"]\n'
    )
    out = _run(text)
    assert "target=/go/pkg/mod" in out
    assert "target=/root/.cache/go-build" not in out


def test_a_user_base_inside_pips_cache_is_not_mounted() -> None:
    """Built: `pip install --user six` with PYTHONUSERBASE=/root/.cache/pip/local left six
    on the mount ("No module named 'six'" in the image, the original printed 1.17.0)."""
    text = (
        "FROM python:3.11\nENV PYTHONUSERBASE=/root/.cache/pip/local\n"
        'RUN pip install --user six\nCMD ["python", "-c", "import six"]\n'
    )
    assert "--mount" not in _run(text, unsafe=True)
    assert any("PYTHONUSERBASE=/root/.cache/pip/local names" in m for m in _fixes(text))


@pytest.mark.parametrize(
    "base, mounted",
    [
        ("mybase:1.0", False),  # no official image: built locally, may ship its apt lists
        ("r26-base", False),
        ("docker.io/library/mybase", False),
        ("python:3.11", True),  # official images clean their lists
        ("centos:7", True),  # an official image Docker Hub has since deprecated
        ("library/debian:12", True),
    ],
)
def test_a_base_without_namespace_is_official_only_when_docker_hub_lists_it(
    base: str, mounted: bool
) -> None:
    """Built for real: ``FROM r26-coverage-base:1.0``, a local image whose RUN left its apt lists,
    then ``apt-get update && apt-get install -y haproxy && rm -rf /var/lib/apt/lists/*``. The
    original image had no lists; the rewrite mounted them as for an official image, dropped the
    ``rm`` and kept the base's lists in the image. A name Docker Hub's library never held is
    no official image: its lists are not mounted where the RUN deletes them."""
    text = (
        f"FROM {base}\nRUN apt-get update && apt-get install -y --no-install-recommends haproxy"
        " && rm -rf /var/lib/apt/lists/*\n"
    )
    assert ("target=/var/lib/apt/lists," in _run(text)) is mounted
    if not mounted:
        assert any(
            "may hold files from the base image that this RUN deletes" in m for m in _fixes(text)
        )


def test_directories_with_one_reason_share_one_note() -> None:
    """Each directory's reason was its own note: "/var/cache/apt may hold files from the
    base image that this RUN deletes; /var/lib/apt/lists may hold files from the base image
    that this RUN deletes". One note names both, and says what a mount would do."""
    text = (
        "FROM acme/debian:12\nRUN apt-get update && apt-get install -y jq"
        " && apt-get clean && rm -rf /var/lib/apt/lists/*\n"
    )
    notes = "; ".join(_fixes(text))
    assert notes.count("may hold files from the base image") == 1, notes
    assert "/var/cache/apt, /var/lib/apt/lists may hold" in notes, notes
    assert "with a mount they would stay in the image" in notes, notes


def test_a_word_dropped_many_times_is_named_once_with_its_count() -> None:
    """17 ``--no-cache-dir`` in one RUN gave a note naming it 17 times."""
    pips = " && ".join(f"pip install --no-cache-dir p{i}" for i in range(3))
    notes = "; ".join(_fixes(f"FROM python:3.12\nRUN {pips}\n"))
    assert "dropped `--no-cache-dir` (3 times)" in notes, notes


def test_go_caches_of_an_unknown_image_share_one_note() -> None:
    """go's module and build caches each said "its cache depends on ..., which base image
    ... may set": one note names every variable once."""
    text = (
        "FROM acme/ubuntu:22.04\nRUN apt-get update && apt-get install -y git && go build ./...\n"
    )
    notes = _fixes(text)
    go = [m for m in "; ".join(notes).split("; ") if m.startswith("go: its cache depends on")]
    assert len(go) == 1 and "GOMODCACHE" in go[0] and "GOCACHE" in go[0], notes


def test_lists_an_unknown_command_may_refill_are_not_said_to_stay_as_in_the_original() -> None:
    """A tool image that empties the lists and then runs a setup script msdfix does not know
    (SmartHypercube/docker-base's debug image): the lists stay unmounted, but the original does
    not surely keep them, so the reason says the unknown command may fill them."""
    text = (
        "FROM debian:12\n"
        "RUN set -e; apt-get update; apt-get install -y curl; rm -rf /var/lib/apt/lists/*; "
        "runuser -l app -c 'curl -fsS https://example.com/setup.sh | bash'\n"
        'CMD ["bash"]\n'
    )
    assert "target=/var/lib/apt/lists" not in _run(text)
    messages = [m for m in _fixes(text) if "/var/lib/apt/lists" in m]
    assert any("a command msdfix does not know may fill it" in m for m in messages), messages
    assert not any("as in the original" in m for m in messages), messages


def test_lists_refreshed_last_are_said_to_stay_as_in_the_original() -> None:
    """``apt-get update`` with no cleanup after it: the original surely keeps the lists."""
    text = 'FROM debian:12\nRUN apt-get update && apt-get install -y curl\nCMD ["bash"]\n'
    assert any("stays in the image, as in the original" in m for m in _fixes(text))


def test_a_later_user_named_by_an_env_variable_is_named_by_its_value() -> None:
    """Round 27 (icra2018/logos: ``ENV NB_USER=jovyan``, ``HOME=/home/${NB_USER}``, pip as
    root, ``USER ${NB_USER}``): the unsafe reason said "inside the home of ${NB_USER}",
    naming no one; it gives the variable's declared value too."""
    text = (
        "FROM python:3.11-slim\nENV NB_USER=jovyan\nRUN useradd -m ${NB_USER}\n"
        "ENV HOME=/home/${NB_USER}\nRUN pip install six\nUSER ${NB_USER}\n"
        'CMD ["python", "app.py"]\n'
    )
    assert any("inside the home of ${NB_USER} (jovyan), whom" in m for m in _fixes(text))


def test_offline_reader_is_made_once_per_manager() -> None:
    """The manager reading only its offline settings (asked per later RUN of a tool) is made
    once per manager, with its offline keys as its configuration keys."""
    from msdfix.ecosystems.registry import MANAGERS
    from msdfix.transforms.cache_mount.plan import _offline_reader

    manager = next(m for m in MANAGERS if m.offline_config_keys)
    reader = _offline_reader(manager)
    assert reader is _offline_reader(manager) and reader is not manager
    assert reader.config_keys == manager.offline_config_keys and reader.id == manager.id


@pytest.mark.parametrize(
    ("trigger", "mounted"),
    [
        ("ONBUILD COPY . .\n", False),  # brings the child's .npmrc (offline=true)
        ("ONBUILD RUN npm config set cache /srv/npm\n", False),
        ("ONBUILD EXPOSE 3000\n", True),  # reads and writes nothing
        ("", True),
    ],
)
def test_an_onbuild_trigger_of_a_base_stage_may_configure_the_tool(
    tmp_path: Path, trigger: str, mounted: bool
) -> None:
    """Round 28, built: a base stage of the file with ``ONBUILD COPY . .`` and a context
    .npmrc saying ``offline=true``; the stage FROM it ran the trigger, and its ``npm ci`` read
    the cache the base filled (built, answered). The mount, safe, hid that cache: ENOTCACHED.
    A trigger runs in the stage built FROM its stage, not in its own."""
    (tmp_path / ".npmrc").write_text("offline=true\n")
    (tmp_path / "package.json").write_text('{"name": "a"}\n')
    text = (
        f"FROM node:18 AS base\nWORKDIR /app\nRUN npm cache add ms@2.1.3\n{trigger}\n"
        'FROM base\nRUN npm ci\nCMD ["node", "index.js"]\n'
    )
    result = rewrite(text, None, BuildContext(tmp_path), Settings(frozenset({"cache-mount"})))
    child = result.output.split("FROM base", 1)[1]
    assert ("--mount=type=cache" in child) is mounted, result.output
    if not mounted:
        assert any("ONBUILD trigger at line 4 runs in this stage" in m for m in _messages(result))
