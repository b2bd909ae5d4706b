"""Test runners and linters: commands that only check the sources (facts, no decisions).

``check_of(argv, scripts)`` says what one command is: a ``Check`` (it runs tests or linters and
writes nothing the build uses, or it installs only such tools), ``None`` (not a check), or a
string: it looks like a check but msdfix cannot tell (an npm script it cannot read, a Maven
phase that also packages). Tools that fix files (``eslint --fix``, ``ruff format``, ``black``
without ``--check``) change the sources the build uses: they are not checks.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from msdfix.ecosystems.base import positionals
from msdfix.shell.commands import parse_commands

# Programs whose every call runs tests or linters (``python -m X`` is seen as ``X``).
ALWAYS = frozenset({
    "pytest", "py.test", "jest", "mocha", "ava", "karma", "flake8", "pylint", "mypy", "pyflakes",
    "pycodestyle", "pydocstyle", "bandit", "eslint", "stylelint", "staticcheck", "golint",
    "hadolint", "shellcheck", "tslint", "jasmine",
})  # fmt: skip
# Program -> subcommands that check (the first word that is not an option).
SUBCOMMANDS: dict[str, frozenset[str]] = {
    "go": frozenset({"test", "vet"}),
    "cargo": frozenset({"test", "clippy"}),
    "ruff": frozenset({"check"}),
    "golangci-lint": frozenset({"run"}),
    "dotnet": frozenset({"test"}),
    "vitest": frozenset({"run", ""}),
    "tox": frozenset({""}),
    "ng": frozenset({"test", "lint"}),
    "react-scripts": frozenset({"test"}),
    "next": frozenset({"lint"}),
}
# Program -> options that make it only report (without them it rewrites files).
REPORT_ONLY: dict[str, frozenset[str]] = {
    "black": frozenset({"--check"}),
    "isort": frozenset({"--check", "--check-only", "-c"}),
    "prettier": frozenset({"--check", "-c"}),
    "tsc": frozenset({"--noEmit"}),
    "gofmt": frozenset({"-l"}),
}
DASH_V = frozenset(
    {"eslint", "stylelint", "prettier", "tsc", "jest", "mocha", "tslint"}
)  # -v: version
FIXING = frozenset({"--fix", "--fix-only", "--write", "-w", "--fix-dry-run"})
# Build tools: goals/tasks that only compile and test; any other goal builds or publishes.
MAVEN_TEST = frozenset({"test", "test-compile", "compile", "validate", "clean"})
MAVEN_VALUES = frozenset({
    "-f", "--file", "-s", "--settings", "-gs", "-P", "--activate-profiles", "-pl", "--projects",
    "-rf", "-T", "--threads", "-l", "--log-file", "-t", "-b", "--builder",
})  # fmt: skip
GRADLE_TEST = frozenset({"test", "check", "clean", "lint"})
GRADLE_VALUES = frozenset({"-x", "--exclude-task", "-p", "--project-dir", "-b", "--build-file"})
GRADLE = frozenset({"gradle", "gradlew", "./gradlew"})
MAVEN = frozenset({"mvn", "mvnw", "./mvnw"})
# Wrappers inside npm scripts that run the command after them (coverage, env).
SCRIPT_WRAPPERS = frozenset({"cross-env", "nyc", "c8", "dotenv"})
HARMLESS = frozenset({"cd", "echo", "printf", "true", "pwd", "ls", "env", "set"})
# PyPI packages that are only test runners or linters (and their plugins, by prefix).
TEST_PACKAGES = frozenset({
    "pytest", "pytest-cov", "pytest-mock", "pytest-asyncio", "pytest-xdist", "coverage", "ruff",
    "flake8", "pylint", "mypy", "black", "isort", "pyflakes", "pycodestyle", "pydocstyle", "bandit",
    "tox", "nox", "mock", "hypothesis",
})  # fmt: skip
TEST_PREFIXES = ("pytest-", "flake8-", "types-")
PIP = re.compile(r"^pip[0-9.]*$")
SCRIPT_NAME = re.compile(r"^(test|lint|tests|typecheck|type-check)([:_-].*)?$")
NPM_RUNNERS = frozenset({"npm", "yarn", "yarnpkg", "pnpm"})


@dataclass(frozen=True)
class Check:
    """A command that only checks: ``kind`` is test, lint or install (of such tools only)."""

    kind: str
    name: str  # how the report names it (``npm test``, ``pytest``)


Scripts = Callable[[], dict[str, Any] | None]  # package.json "scripts" (None: unreadable)
# Every program ``check_of`` can answer anything but None for, as words of a script's text:
# a script that names none of them runs no check (a cheap filter before parsing it).
PROGRAMS = frozenset(
    ALWAYS
    | SUBCOMMANDS.keys()
    | REPORT_ONLY.keys()
    | MAVEN
    | GRADLE
    | NPM_RUNNERS
    | {"node", "npx"}
)
_ALTERNATIVES = "|".join(sorted({re.escape(p.removeprefix("./")) for p in PROGRAMS}))
_NAMED = re.compile(rf"\bpip|\b(?:{_ALTERNATIVES})\b")


@lru_cache(maxsize=1024)  # each pass asks again about the same RUNs
def may_run_checks(text: str) -> bool:
    """False when no command of the script ``text`` can be a check (``check_of`` says None)."""
    return _NAMED.search(text) is not None


def check_of(argv: list[str], scripts: Scripts, depth: int = 0) -> Check | str | None:
    """What ``argv`` (program first, wrappers removed) is; see the module docstring."""
    if not argv:
        return None
    program, args = posixpath.basename(argv[0]), argv[1:]
    if argv[0].startswith("./"):
        program = argv[0]
    words = [a for a in args if not a.startswith("-")]
    sub = words[0] if words else ""
    if FIXING & set(args) or any(a.startswith("--fix=") for a in args):
        return None
    if {"--version", "-V", "--help", "-h"} & set(args) or (program in DASH_V and "-v" in args):
        return None  # reports the tool, checks nothing
    if program in ALWAYS:
        return Check("lint" if program not in ("pytest", "py.test", "jest", "mocha") else "test",
                     program)  # fmt: skip
    if program in SUBCOMMANDS and sub in SUBCOMMANDS[program]:
        if program == "go" and ({"-c", "-o"} & set(args)):
            return None  # writes a test binary
        return Check("test" if "test" in sub or program in ("tox", "vitest") else "lint",
                     f"{program} {sub}".strip())  # fmt: skip
    if program == "cargo" and sub == "fmt" and "--check" in args:
        return Check("lint", "cargo fmt --check")
    if program == "ruff" and sub == "format" and "--check" in args:
        return Check("lint", "ruff format --check")
    if program in REPORT_ONLY and REPORT_ONLY[program] & set(args):
        return Check("lint", program)
    if program == "node" and "--test" in args:
        return Check("test", "node --test")
    if program in MAVEN or program in GRADLE:
        return _build_tool(program, args)
    if PIP.match(program) and sub == "install":
        return _pip_install(args)
    if program in NPM_RUNNERS:
        return _npm(program, args, scripts, depth)
    if program == "npx" and words:
        return check_of(words, scripts, depth)
    return None


def _build_tool(program: str, args: list[str]) -> Check | str | None:
    maven = program in MAVEN
    goals = positionals(args, MAVEN_VALUES if maven else GRADLE_VALUES)
    allowed = MAVEN_TEST if maven else GRADLE_TEST
    if "test" in goals or "check" in goals:
        if set(goals) <= allowed:
            return Check("test", f"{'mvn' if maven else 'gradle'} {' '.join(goals)}")
        return None  # tests as part of a build (mvn package, gradle build)
    if maven and "verify" in goals:
        return "`mvn verify` also packages the project: the build may use what it writes"
    return None


def _pip_install(args: list[str]) -> Check | None:
    names = []
    for arg in args[args.index("install") + 1 :]:
        if arg.startswith("-"):
            if arg not in ("-q", "--quiet", "-U", "--upgrade", "--no-cache-dir", "--user"):
                return None  # -r, -e, -c, --target ...: more than the named tools
            continue
        names.append(re.split(r"[\[=<>~!;]", arg)[0].lower().replace("_", "-"))
    if names and all(n in TEST_PACKAGES or n.startswith(TEST_PREFIXES) for n in names):
        return Check("install", "pip install " + " ".join(names))
    return None


def _npm(program: str, args: list[str], scripts: Scripts, depth: int) -> Check | str | None:
    words = [a for a in args if not a.startswith("-")]
    if not words:
        return None
    sub = words[0]
    if program == "npm" and sub in ("test", "t", "tst"):
        name = "test"
    elif sub in ("run", "run-script") and len(words) > 1:
        name = words[1]
    elif program != "npm" and sub not in ("install", "add", "ci", "exec", "dlx"):
        name = sub  # yarn X / pnpm X run the script X
    else:
        return None
    if not SCRIPT_NAME.match(name):
        return None
    call = f"{program} {'run ' if sub in ('run', 'run-script') else ''}{name}"
    table = scripts()
    if table is None:
        return f"cannot read package.json: what `{call}` runs is unknown"
    if not isinstance(table.get(name), str):
        return f"package.json has no `{name}` script for `{call}`"
    if depth > 3:
        return f"`{call}` runs scripts nested too deep to follow"
    for hook in ("pre" + name, name, "post" + name):
        body = table.get(hook)
        if not isinstance(body, str):
            continue
        for command in parse_commands(body):
            argv = command.argv
            while argv and posixpath.basename(argv[0]) in SCRIPT_WRAPPERS:
                argv = argv[1:]
                while argv and (argv[0].startswith("-") or "=" in argv[0]):
                    argv = argv[1:]
            if not argv or posixpath.basename(argv[0]) in HARMLESS:
                continue
            found = check_of(argv, scripts, depth + 1)
            if isinstance(found, str):
                return found
            if found is None or found.kind == "install":
                return f"`{call}` runs `{body}`, which msdfix does not know as a test or linter"
    return Check("test" if name.startswith("test") else "lint", call)
