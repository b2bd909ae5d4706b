"""Settings, variables and options that make an install read a file or folder of the context."""

from __future__ import annotations

import posixpath
import re

from msdfix.model.context import BuildContext, Unreadable
from msdfix.model.paths import within

# Variables that name a configuration file an install reads (npm honours both spellings).
NPM_CONFIG_FILE_ENV = (
    "NPM_CONFIG_USERCONFIG", "npm_config_userconfig", "NPM_CONFIG_GLOBALCONFIG",
    "npm_config_globalconfig",
)  # fmt: skip
YARN_CONFIG_FILE_ENV = ("YARN_RC_FILENAME",)
# Variables naming a folder or file an install reads: npm's (and pnpm's) cache, store and CA
# file (npm reads npm_config_* in any case), yarn's cache folder and offline mirror (yarn 1
# reads YARN_<KEY> as the key, Berry YARN_CACHE_FOLDER).
NPM_PATH_ENV = ("NPM_CONFIG_CAFILE", "npm_config_cafile")
YARN_PATH_ENV = ("YARN_YARN_OFFLINE_MIRROR", "YARN_CAFILE")
# Variables naming the download cache (NODE_CACHE_KEYS'): the folder counts when the build
# context holds it (an empty one the install only fills reads nothing).
NODE_CACHE_ENV = (
    "NPM_CONFIG_CACHE", "npm_config_cache", "NPM_CONFIG_STORE_DIR", "npm_config_store_dir",
    "YARN_CACHE_FOLDER",
)  # fmt: skip
# node options that load a file before the program runs: with NODE_OPTIONS they apply to npm,
# yarn, pnpm and every install script, which then read that file from the image.
_NODE_LOADS = ("--require", "-r", "--import", "--loader", "--experimental-loader", "--env-file")


def node_options_files(value: str) -> list[str]:
    """The paths a NODE_OPTIONS value makes node load (``--require ./tracing.js``,
    ``--env-file=.env``); module names (``--require dd-trace/init``) are not paths."""
    words, found = value.split(), []
    for i, word in enumerate(words):
        option, eq, arg = word.partition("=")
        if option not in _NODE_LOADS:
            continue
        path = arg if eq else (words[i + 1] if i + 1 < len(words) else "")
        path = path.strip("\"'")
        if path.startswith(("/", "./", "../")) or option == "--env-file" and path:
            found.append(path)
    return found


# Settings of .yarnrc/.npmrc/.yarnrc.yml naming a file or folder an install reads: an offline
# mirror, yarn's own release, a CA file, another configuration.
NODE_PATH_KEYS = (
    "yarn-offline-mirror", "offline-mirror", "yarnPath", "cafile", "userconfig", "globalconfig",
)  # fmt: skip
# The download cache an offline install resolves from (npm's ``cache``, yarn 1's
# ``cache-folder``, Berry's ``cacheFolder``, pnpm's ``store-dir``): a user or global
# configuration, variable or option naming a folder of the copied tree that the build context
# holds reads the tree (a project's relative cache is project_cache's).
NODE_CACHE_KEYS = ("cache", "cache-folder", "cacheFolder", "store-dir")


def _setting_pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    """A ``key=value``, ``key: value`` or ``key value`` line of these keys."""
    names = "|".join(keys)
    return re.compile(rf"(?m)^[ \t]*({names})(?:[ \t]*[:=][ \t]*|[ \t]+)[\"']?([^\"'\s]+)")


def path_options(
    args: list[str], keys: tuple[str, ...] = NODE_PATH_KEYS + NODE_CACHE_KEYS
) -> list[tuple[str, str]]:
    """(option, value) of each command-line option naming a path setting (``--cache
    /app/npm-cache``, ``--cache-folder=./ycache``): npm, yarn and pnpm take every setting as
    an option. ``keys``: the settings asked about (uv's ``cache-dir``)."""
    names = {f"--{k}" for k in keys}
    found = []
    for at, arg in enumerate(args):
        option, eq, value = arg.partition("=")
        if option in names and (eq or at + 1 < len(args)):
            found.append((option, value if eq else args[at + 1]))
    return found


def path_settings(scope: dict[str, str | None], args: list[str]) -> list[tuple[str, str, bool]]:
    """(``VAR=``/``--option ``, value, names the download cache) of each variable of the
    install's scope and each option of its arguments that names a path an install reads."""
    found = [(f"{o} ", v, o[2:] in NODE_CACHE_KEYS) for o, v in path_options(args)]
    for var in NPM_PATH_ENV + YARN_PATH_ENV + NODE_CACHE_ENV:
        value = scope.get(var)
        found += [(f"{var}=", value, var in NODE_CACHE_ENV)] if value else []
    return found


# Settings of .yarnrc/.npmrc/.yarnrc.yml that make an install read files of the project.
LOCAL_CONFIG = _setting_pattern(NODE_PATH_KEYS)
# The same in a configuration a COPY/ADD brings to the user's or the system's place.
COPIED_CONFIG = _setting_pattern(NODE_PATH_KEYS + NODE_CACHE_KEYS)


def local_package_config(ctx: BuildContext, base: str, dest: str | None = None) -> str | None:
    """A package-manager setting naming a path in the project (an offline mirror, yarn's
    own release): the manifests alone do not install. ``dest`` is where the project lands in
    the image: an absolute path (or ``file:`` URL) below it names the project too
    (``yarn-offline-mirror "/app/offline"``); without it, any absolute path may."""
    for name in (".yarnrc", ".npmrc", ".yarnrc.yml"):
        try:
            text = ctx.read_known(posixpath.join(base, name)) or ""
        except Unreadable as exc:  # unread is not "names no path"
            return f"{exc} (it may name a path in the project)"
        for key, value in LOCAL_CONFIG.findall(text):
            path = re.sub(r"^file:(//)?", "", value)
            if path.startswith("/"):
                if dest is None or within(posixpath.normpath(path), dest):
                    return f"{name} sets {key} to {value}"
                continue
            inside = posixpath.normpath(value).startswith(".yarn/")  # copied with the manifests
            if not inside and not value.startswith(("http:", "https:", "~", "$")):
                return f"{name} sets {key} to {value}"
    return _pnpmfile_loads(ctx, base)


# A pnpmfile's require/import of a relative path, a computed one, or a file it reads.
_PNPMFILE_LOADS = re.compile(
    r"""\b(?:require|import)\s*\(\s*(?:["'`](\.{1,2}/[^"'`]*)|[^"'`\s)])"""
    r"""|\bfrom\s+["'](\.{1,2}/[^"']*)["']|\b(readFileSync|readFile|readdirSync)\b"""
)


def _pnpmfile_loads(ctx: BuildContext, base: str) -> str | None:
    """pnpm runs ``.pnpmfile.cjs`` (code, not settings) during the install: a relative
    ``require("./tools/hooks")`` (or a computed one, or a file read) needs more of the tree
    than the manifests."""
    for name in (".pnpmfile.cjs", ".pnpmfile.mjs", "pnpmfile.js"):
        try:
            found = _PNPMFILE_LOADS.search(ctx.read_known(posixpath.join(base, name)) or "")
        except Unreadable as exc:  # unread is not "loads nothing"
            return f"{exc} (pnpm runs it, and it may load files of the project)"
        if found is not None:
            what = found.group(1) or found.group(2) or found.group(3) or "a computed path"
            return f"{name} loads {what} from the project"
    return None
