"""Node.js: npm, yarn (v1 and berry) and pnpm, their caches and manifests, and the Node major a
frontend stage needs.

Data, not code. Caches: npm (``~/.npm``, ``npm_config_cache``), yarn v1
(``/usr/local/share/.cache/yarn`` for root, ``YARN_CACHE_FOLDER``), yarn berry
(``~/.yarn/berry/cache``), pnpm (``~/.local/share/pnpm/store``).
"""

from __future__ import annotations

import re

from msdfix.ecosystems.base import CacheDir, Ecosystem, PackageManager
from msdfix.ecosystems.go import golang_release
from msdfix.ecosystems.os import alpine_version, debian_codename

MANAGERS: tuple[PackageManager, ...] = (
    PackageManager(
        "npm",
        ("npm",),
        ("install", "ci", "i", "add", "update", "isntall", "install-clean", "ic"),
        (
            CacheDir(
                "~/.npm",
                (
                    ("npm_config_cache", ""),
                    ("NPM_CONFIG_CACHE", ""),
                ),
            ),
        ),
        clean_commands=(("npm", "cache", "clean"),),
        offline_flags=("--offline",),
        value_options=("--prefix", "-C", "--workspace", "-w"),
    ),
    PackageManager(
        "yarn",
        ("yarn",),
        ("", "install", "add", "upgrade", "global"),
        (CacheDir("/usr/local/share/.cache/yarn", (("YARN_CACHE_FOLDER", ""),), locked=True),),
        clean_commands=(("yarn", "cache", "clean"),),
        offline_flags=("--offline",),
        value_options=("--cwd",),
    ),
    PackageManager(
        "yarn-berry",
        ("yarn",),
        ("", "install", "add", "up", "dlx"),
        (CacheDir("~/.yarn/berry/cache", (("YARN_GLOBAL_FOLDER", "/cache"),)),),
        clean_commands=(("yarn", "cache", "clean"),),
        value_options=("--cwd",),
    ),
    PackageManager(
        "pnpm",
        ("pnpm",),
        ("install", "i", "add", "fetch", "update", "up"),
        (
            CacheDir(
                "~/.local/share/pnpm/store",
                (
                    ("npm_config_store_dir", ""),
                    ("PNPM_STORE_DIR", ""),
                ),
            ),
        ),
        clean_commands=(("pnpm", "store", "prune"),),
        offline_flags=("--offline",),
        value_options=("-C", "--dir", "--filter", "-F"),
    ),
)


NPM = Ecosystem(
    "npm",
    ("npm",),
    ("package.json", "package-lock.json", "npm-shrinkwrap.json", ".npmrc"),
    guess=("package*.json", ".npmrc*"),
    outputs=("node_modules",),
)
YARN = Ecosystem(
    "yarn",
    ("yarn", "yarn-berry"),
    ("package.json", "yarn.lock", ".yarnrc", ".yarnrc.yml", ".npmrc", ".yarn/"),
    guess=("package.json", "yarn.lock*", ".yarnrc*", ".npmrc*"),
    outputs=("node_modules", ".pnp.cjs", ".pnp.loader.mjs"),
)
PNPM = Ecosystem(
    "pnpm",
    ("pnpm",),
    ("package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml", ".npmrc", ".pnpmfile.cjs"),
    guess=("package.json", "pnpm-lock.yaml*", ".npmrc*"),
    outputs=("node_modules",),
)
MANIFESTS: tuple[Ecosystem, ...] = (
    NPM,
    YARN,
    PNPM,
)


INSTALL_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "npm": ("ci", "install", "i", "install-clean", "ic"),
    "yarn": ("", "install"),
    "yarn-berry": ("", "install"),
    "pnpm": ("install", "i", "fetch"),
}


# npm lifecycle scripts that run on a plain ``npm install`` / ``npm ci`` of the project.
NPM_LIFECYCLE = (
    "preinstall",
    "install",
    "postinstall",
    "prepare",
    "prepublish",
    "preprepare",
    "postprepare",
)


# Toolchain images (Docker Hub name or registry/name) of this ecosystem.
TOOLCHAIN_IMAGES: tuple[str, ...] = ("node",)


# ---------------------------------------------------------------- frontends and static servers

# Programs of a JavaScript frontend build run inside another ecosystem's stage.
FRONTEND_TOOLS = frozenset({"npm", "npx", "yarn", "yarnpkg", "pnpm", "corepack"})
# OS packages that only provide the frontend toolchain (not needed once it has its own stage).
FRONTEND_PACKAGES = frozenset({"nodejs", "npm", "yarn", "yarnpkg", "node-gyp"})
# Major version of the distribution's ``nodejs`` package.
DEBIAN_NODEJS = {"buster": "10", "bullseye": "12", "bookworm": "18", "trixie": "20"}
ALPINE_NODEJS = {"3.16": "16", "3.17": "18", "3.18": "18", "3.19": "20", "3.20": "20", "3.21": "22"}
DEFAULT_NODE_MAJOR = "18"

NGINX_RUNTIME = "nginx:1.25-alpine"
NGINX_HTML = "/usr/share/nginx/html"
NGINX_PORT = "80"


def frontend_node(tag: str | None, ecosystem: str) -> tuple[str, str | None]:
    """(node image with the Node major the stage's OS packages install, where it comes from).

    The second item names the distribution release whose ``nodejs`` package has that major
    (``Debian bookworm``); None when the release is unknown and the default major is a guess.
    """
    alpine = alpine_version(tag)
    if alpine is not None:
        major = ALPINE_NODEJS.get(alpine)
        exact = bool(major) and re.search(r"alpine3\.\d+", tag or "") is not None
        return f"node:{major or DEFAULT_NODE_MAJOR}-alpine", f"Alpine {alpine}" if exact else None
    release = golang_release(tag) if ecosystem == "go" else debian_codename(tag)
    major = DEBIAN_NODEJS.get(release or "")
    return f"node:{major or DEFAULT_NODE_MAJOR}-slim", f"Debian {release}" if major else None


# Programs that run this ecosystem's applications (the first word of an entry command).
ENTRY_PROGRAMS: tuple[str, ...] = (
    "node",
    "npm",
    "yarn",
    "pnpm",
    "npx",
    "bun",
    "ts-node",
    "tsx",
    "deno",
)
# Images whose containers run this ecosystem's programs, besides the toolchain images.
RUNTIME_IMAGES: tuple[str, ...] = ("oven/bun",)
