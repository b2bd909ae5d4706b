"""Every ecosystem's tables together, in the order msdfix consults them.

Adding a package manager or an ecosystem means adding its entries to its ecosystem module;
this module only lists the modules, and finds the workspace roots their installs share.
"""

from __future__ import annotations

import posixpath

from msdfix.ecosystems import dotnet, go, java, node, os, php, python, ruby, rust
from msdfix.ecosystems.base import Ecosystem, PackageManager, positionals
from msdfix.model.context import BuildContext

MANAGERS: tuple[PackageManager, ...] = (
    *os.MANAGERS,
    *python.MANAGERS,
    *node.MANAGERS,
    *go.MANAGERS,
    *java.MANAGERS,
    *rust.MANAGERS,
    *ruby.MANAGERS,
    *php.MANAGERS,
    *dotnet.MANAGERS,
)

BY_ID = {m.id: m for m in MANAGERS}


ECOSYSTEMS: tuple[Ecosystem, ...] = (
    *node.MANIFESTS,
    *python.MANIFESTS,
    *go.MANIFESTS,
    *java.MANIFESTS,
    *rust.MANIFESTS,
    *ruby.MANIFESTS,
    *php.MANIFESTS,
    *dotnet.MANIFESTS,
)


# Dependency-install subcommands (the first non-option argument) per package-manager id.
INSTALL_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    **node.INSTALL_SUBCOMMANDS,
    **python.INSTALL_SUBCOMMANDS,
    **go.INSTALL_SUBCOMMANDS,
    **ruby.INSTALL_SUBCOMMANDS,
    **php.INSTALL_SUBCOMMANDS,
    **dotnet.INSTALL_SUBCOMMANDS,
}


# Files whose presence marks a monorepo: every member's manifest must come first.
MONOREPO_MARKERS = (
    "lerna.json",
    "nx.json",
    "turbo.json",
    "rush.json",
    "pnpm-workspace.yaml",
    "go.work",
)


def workspace_root_above(
    ctx: BuildContext, base: str, markers: tuple[str, ...] = MONOREPO_MARKERS
) -> str | None:
    """A package.json with ``workspaces`` or a monorepo marker in a folder above the project
    ``base`` (``cd apps/web && npm ci`` installs the whole workspace from the root's
    package.json and lock: moved before the copy, it found neither), or None."""
    folder = posixpath.normpath(base) if base else "."
    while folder not in (".", "") and not folder.startswith(".."):
        folder = posixpath.dirname(folder) or "."
        path = posixpath.join(folder, "package.json") if folder != "." else "package.json"
        package = ctx.read_json(path)
        if isinstance(package, dict) and package.get("workspaces"):
            return path
        for marker in markers:
            marker_path = posixpath.join(folder, marker) if folder != "." else marker
            if ctx.exists(marker_path):
                return marker_path
    return None


# Toolchain images (Docker Hub name or registry/name) -> ecosystem id.
TOOLCHAIN_IMAGES: dict[str, str] = {
    image: ecosystem
    for ecosystem, images in (
        ("go", go.TOOLCHAIN_IMAGES),
        ("rust", rust.TOOLCHAIN_IMAGES),
        ("node", node.TOOLCHAIN_IMAGES),
        ("python", python.TOOLCHAIN_IMAGES),
        ("java", java.TOOLCHAIN_IMAGES),
        ("dotnet", dotnet.TOOLCHAIN_IMAGES),
    )
    for image in images
}


# Images of ecosystems that the toolchain table does not name (ruby, php, openjdk, oven/bun).
RUNTIME_IMAGES: dict[str, str] = {
    image: ecosystem
    for ecosystem, images in (
        ("ruby", ruby.RUNTIME_IMAGES),
        ("php", php.RUNTIME_IMAGES),
        ("java", java.RUNTIME_IMAGES),
        ("node", node.RUNTIME_IMAGES),
    )
    for image in images
}

# Program an entry command starts -> the ecosystem of the application it runs.
ENTRY_PROGRAMS: dict[str, str] = {
    program: ecosystem
    for ecosystem, programs in (
        ("python", python.ENTRY_PROGRAMS),
        ("node", node.ENTRY_PROGRAMS),
        ("java", java.ENTRY_PROGRAMS),
        ("ruby", ruby.ENTRY_PROGRAMS),
        ("php", php.ENTRY_PROGRAMS),
        ("dotnet", dotnet.ENTRY_PROGRAMS),
    )
    for program in programs
}

# Package-manager program -> ecosystem id (``pip3`` -> python, ``bundle`` -> ruby).
MANAGER_PROGRAMS: dict[str, str] = {
    program: ecosystem
    for ecosystem, managers in (
        ("os", os.MANAGERS),
        ("python", python.MANAGERS),
        ("node", node.MANAGERS),
        ("go", go.MANAGERS),
        ("java", java.MANAGERS),
        ("rust", rust.MANAGERS),
        ("ruby", ruby.MANAGERS),
        ("php", php.MANAGERS),
        ("dotnet", dotnet.MANAGERS),
    )
    for manager in managers
    for program in manager.programs
}


# Package-manager program -> the options whose value is the next word, over its managers.
_VALUE_OPTIONS: dict[str, frozenset[str]] = {}
for _manager in MANAGERS:
    for _program in _manager.programs:
        _VALUE_OPTIONS[_program] = _VALUE_OPTIONS.get(_program, frozenset()) | set(
            _manager.value_options
        )


def positional_args(
    program: str, args: list[str], more: frozenset[str] | set[str] = frozenset()
) -> list[str]:
    """A package manager's arguments that are neither options nor options' values, in order
    (``apk --no-cache --virtual .deps add gcc`` -> ``add gcc``); ``more``: other options
    that take a value."""
    return positionals(args, _VALUE_OPTIONS.get(program, frozenset()) | more)


def subcommand(program: str, args: list[str]) -> str:
    """A package manager's subcommand (``pip --cache-dir /tmp install x`` -> ``install``);
    '' when none."""
    return next(iter(positional_args(program, args)), "")


def ecosystem_of(full_name: str) -> str | None:
    """The ecosystem of a toolchain image (``golang`` -> ``go``), or None."""
    return TOOLCHAIN_IMAGES.get(full_name.lower())


# Environment that official base images set, by image name (Docker Hub library images).
IMAGE_ENV: dict[str, dict[str, str]] = {
    "golang": {"GOPATH": "/go"},
    "rust": {"CARGO_HOME": "/usr/local/cargo"},
    "ruby": {"GEM_HOME": "/usr/local/bundle", "BUNDLE_PATH": "/usr/local/bundle"},
    "composer": {"COMPOSER_HOME": "/tmp"},
}

# Non-root users that official images create, by image name: user -> ("uid:gid", home).
IMAGE_USERS: dict[str, dict[str, tuple[str, str]]] = {
    "node": {"node": ("1000:1000", "/home/node"), "1000": ("1000:1000", "/home/node")},
    "gradle": {"gradle": ("1000:1000", "/home/gradle"), "1000": ("1000:1000", "/home/gradle")},
}

# Images whose default user is not root, so ``~`` is not /root (leave their stages alone).
NON_ROOT_IMAGES = (
    "jenkins/", "bitnami/", "circleci/", "cimg/", "gitpod/", "jupyter/", "selenium/",
    "sonarqube", "quay.io/jupyter/", "gcr.io/distroless/", "chainguard/", "cgr.dev/",
    "mcr.microsoft.com/devcontainers/", "mcr.microsoft.com/vscode/",
)  # fmt: skip


# Programs whose bare call installs (``yarn`` is ``yarn install``, ``bundle`` is ``bundle install``).
_BARE_INSTALL = {"yarn": "install", "bundle": "install", "bundler": "install"}


def runtime_install(argv: list[str]) -> str | None:
    """The install ``argv`` runs that reads a package cache (``npm ci``, ``bundle install``,
    ``npx``), as its manager's command prefix; None when it runs none."""
    if not argv:
        return None
    if len(argv) == 1 and argv[0] in _BARE_INSTALL:
        argv = [argv[0], _BARE_INSTALL[argv[0]]]
    for prefix in _RUNTIME_PREFIXES.get(argv[0], ()):
        if argv[: len(prefix)] == list(prefix):
            return " ".join(prefix)
    return None


def _runtime_prefixes() -> dict[str, list[tuple[str, ...]]]:
    """Every manager's start-install prefixes by their first word, in the managers' order."""
    found: dict[str, list[tuple[str, ...]]] = {}
    for manager in MANAGERS:
        for prefix in manager.runtime_users:
            found.setdefault(prefix[0], []).append(prefix)
    return found


_RUNTIME_PREFIXES = _runtime_prefixes()
