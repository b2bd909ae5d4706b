"""Which packages the app's sources import at run time, and whether any is a dev dependency."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from msdfix.model.context import Unreadable
from msdfix.model.paths import within
from msdfix.model.program_calls import source_text
from msdfix.transforms.build_paths import resolve
from msdfix.transforms.split_stages.build_stage import Analysis

# Packages whose client code is generated into node_modules by a build step (prisma generate).
GENERATES_INTO_MODULES = ("@prisma/client", "prisma", "@graphql-codegen/cli", "typechain")
SOURCE_FILE = re.compile(r"\.(?:[cm]?js|jsx|ts|tsx|mts|cts)$")
# Tests and type declarations: never loaded by the running app.
_TESTS = (
    r"(?:^|/)(?:tests?|__tests__|__mocks__|spec|e2e|cypress)/|\.(?:test|spec|stories|d)\."
    r"[cm]?[jt]sx?$"
)
TESTS = re.compile(_TESTS)
# Tests, tool configuration, build scripts: not loaded by the running app unless it says so.
NOT_RUNTIME = re.compile(
    _TESTS + r"|(?:^|/)scripts/|(?:^|/)[^/]*\.config\.[cm]?[jt]s$|(?:^|/)\.[^/]+$"
    r"|(?:^|/)(?:build|gulpfile|gruntfile|rollup|esbuild|webpack|babel|jest|karma)\b[^/]*$"
)
# require()/import() of a computed path: it may load any copied file.
COMPUTED_IMPORT = re.compile(r"\b(?:require|import)[ \t]*\([ \t]*(?:[^\s\"'`)]|`[^`\n]*\$\{)")
IMPORT = re.compile(
    # [ \t], not \s: from every line start \s* ran over all the blank lines below (quadratic)
    # require.resolve / import.meta.resolve find a package's files by name: they throw too
    r"""(?:\brequire(?:\.resolve)?[ \t]*\([ \t]*|\bimport(?:\.meta\.resolve)?[ \t]*\([ \t]*"""
    r"""|\bfrom[ \t]+|^[ \t]*import[ \t]+)["']([^"'./\n][^"'\n]*)["']""",
    re.MULTILINE,
)
# A path into node_modules loaded by path: code a build step generated there.
# A package's files named by path: ``'/node_modules/bootstrap/dist'``, ``'node_modules',
# 'htmx.org'`` (path.join's words).
MODULES_FILE = re.compile(r"""node_modules["'`]?(?:[ \t]*,[ \t]*["'`]|/)(@?[\w.-]+(?:/[\w.-]+)?)""")
MODULES_PATH = re.compile(r"""["'`]((?:\.{1,2}/)+node_modules/[^"'`\n]*)["'`]""")
MAX_IMPORT_SCAN = 2000


def package_name(word: str) -> str:
    """``dotenv/config`` -> ``dotenv``; ``@scope/pkg/sub`` -> ``@scope/pkg``."""
    parts = word.split("/")
    return "/".join(parts[:2]) if word.startswith("@") else parts[0]


def imported(
    a: Analysis,
    app: str,
    dev: set[str],
    absent: Callable[[str], str | None],
    starts: list[list[str]],
    main: object,
) -> str | None:
    """Why a copied source the app may load needs what a separate production install lacks:
    it imports a dev dependency, or loads code a build step generated in node_modules.

    Tests, tool configuration and build scripts are skipped, unless the start command runs
    them (``node scripts/server.js``), the program it runs loads them (``next start`` loads
    ``next.config.js``), or a loaded file requires them by path (``./app.config``)."""
    files = {
        dest: rel
        for copy in a.copies
        for rel, dest in copy.context_files(a.ctx)
        if within(dest, app) and "node_modules/" not in rel
    }
    programs = {posixpath.basename(argv[0]) for argv in starts}
    named = [*(w for argv in starts for w in argv[1:]), *([main] if isinstance(main, str) else [])]
    todo = [
        dest
        for dest, rel in files.items()
        if SOURCE_FILE.search(rel) and (not NOT_RUNTIME.search(rel) or _loaded_by(rel, programs))
    ]
    todo += [d for d in (_module(resolve(w, a.final_dir), files) for w in named) if d]
    todo = list(dict.fromkeys(todo))
    linked = _linked_dev_dependency(a, files, dev)
    if linked:
        return linked
    seen = set(todo)
    computed = False  # a computed require() seen: every source was queued
    for dest in todo:  # grows while it runs: the files the scanned ones require
        if len(seen) > MAX_IMPORT_SCAN:
            return f"the app has over {MAX_IMPORT_SCAN} sources, too many to check for dev dependencies"
        rel = files[dest]
        try:
            text = source_text(a.ctx, rel)
        except Unreadable as exc:  # unread is not "imports none"
            return f"{exc}, so whether it imports a dev dependency is unknown"
        generated = MODULES_PATH.search(text)  # require('./node_modules/.generated')
        if generated:
            return f"{rel} loads {generated.group(1)}, which a separate install would not create"
        for match in IMPORT.finditer(text):
            line_start = text.rfind("\n", 0, match.start()) + 1
            if text.startswith("import type", line_start):
                continue
            name = package_name(match.group(1))
            if name in dev and not name.startswith("@types/"):
                return f"{rel} imports dev dependency {name}"
            why = absent(name) if name not in dev else None
            if why is not None:
                return f"{rel} imports {name}, {why}"
        for match in MODULES_FILE.finditer(text) if "node_modules" in text else ():
            if package_name(match.group(1)) in dev:  # express.static('node_modules/bootstrap')
                return f"{rel} reads files of dev dependency {package_name(match.group(1))}"
        for match in NAMED.finditer(text):  # pino({transport: {target: 'pino-pretty'}})
            if match.group(1) in dev and not match.group(1).startswith("@types/"):
                return f"{rel} names dev dependency {match.group(1)}, which a library may load"
        found_files = [
            _module(resolve(m.group(1), posixpath.dirname(dest)), files)
            for m in RELATIVE_IMPORT.finditer(text)
        ]
        if not computed and COMPUTED_IMPORT.search(text):  # require(path.join(cwd, 'x.js'))
            computed = True  # may load any file: all of them, once
            found_files += [
                d for d, r in files.items() if SOURCE_FILE.search(r) and not TESTS.search(r)
            ]
        for found in found_files:
            if found and found not in seen:
                seen.add(found)
                todo.append(found)
    return None


def _linked_dev_dependency(a: Analysis, files: dict[str, str], dev: set[str]) -> str | None:
    """A copied symlink into a dev dependency's files (``public/vendor/bootstrap ->
    ../../node_modules/bootstrap/dist``): COPY keeps the link, and a production install
    leaves it pointing nowhere (the page's CSS answered 404)."""
    for dest, rel in files.items():
        target = a.ctx.link_target(rel)
        if target is None:
            continue
        path = posixpath.normpath(posixpath.join(posixpath.dirname(dest), target))
        if "node_modules/" in path + "/":
            name = package_name(path.split("node_modules/", 1)[1])
            if name in dev:
                return f"{rel} links to {target}, files of dev dependency {name}"
    return None


def _loaded_by(rel: str, programs: set[str]) -> bool:
    """True for ``X.config.js`` when the start command runs X (next, nuxt, vite, astro)."""
    name = posixpath.basename(rel)
    return name.split(".config.")[0] in programs if ".config." in name else False


def _module(path: str, files: dict[str, str]) -> str | None:
    """The copied source file a ``require(path)`` loads: the path itself, with an extension,
    or its folder's index file (Node's resolution)."""
    for candidate in (path, *(path + ext for ext in MODULE_SUFFIXES)):
        if candidate in files and SOURCE_FILE.search(candidate):
            return candidate
    return None


MODULE_SUFFIXES = tuple(
    f"{stem}.{ext}" for stem in ("", "/index") for ext in "js cjs mjs ts tsx jsx mts cts".split()
)
# A string that is exactly a package name: libraries load plugins and transports by name.
NAMED = re.compile(r"""["'`](@?[\w.-]+(?:/[\w.-]+)?)["'`]""")
RELATIVE_IMPORT = re.compile(
    r"""(?:\brequire[ \t]*\([ \t]*|\bimport[ \t]*\([ \t]*|\bfrom[ \t]+|^[ \t]*import[ \t]+)"""
    r"""["'](\.{1,2}/[^"'\n]*)["']""",
    re.MULTILINE,
)
