"""What a fetch step added for a build command (``go mod download``, ``cargo fetch``, ...) must
carry over from the build's RUN, and when it cannot: the added step runs in a RUN of its own,
before the sources, so it has only the stage's ENV/ARG, not the RUN's mounts, setup commands
or inline variables (a private ``GOPROXY=...`` passed inline fetched from the public proxy and
failed, built for real)."""

from __future__ import annotations

import re

from msdfix.shell.script import RunScript
from msdfix.syntax import Instruction
from msdfix.transforms.reorder_copy.model import Use

# Commands that configure the tools of the commands after them in the same shell: exported
# variables, sourced files, git's URL rewrites and credentials.
SETUP_PROGRAMS = frozenset({"export", "source", ".", "eval", "set", "declare", "typeset", "git"})
# Mounts that hold no inputs: a build's caches. Any other mount (bind, secret, ssh) may be how
# the build reaches its dependencies (a proxy dump, a .netrc, an ssh agent).
_INPUTLESS_MOUNTS = frozenset({"cache", "tmpfs"})
# Variables that only steer compiling, never what is downloaded: not carried to the fetch.
COMPILE_ONLY = frozenset({
    "CGO_ENABLED", "GOOS", "GOARCH", "GOARM", "GOAMD64", "GO386", "CC", "CXX", "CGO_CFLAGS",
    "CGO_CPPFLAGS", "CGO_CXXFLAGS", "CGO_LDFLAGS", "RUSTFLAGS", "RUSTDOCFLAGS",
})  # fmt: skip
# An inline value written back as it is: no quotes, spaces, command substitutions or globs.
_PLAIN_VALUE = re.compile(r"^[\w@%+=:,./~${}-]*$")


def mount_type(spec: str) -> str:
    """The ``type=`` of a ``--mount`` value (BuildKit's default is a bind mount)."""
    for option in spec.split(","):
        key, _, value = option.partition("=")
        if key.strip().lower() == "type":
            return value.strip().lower()
    return "bind"


def fetch_blocker(anchor: Instruction, script: RunScript, use: Use) -> str | None:
    """Why a fetch step added before the sources would not download what ``use`` (a build
    command of ``anchor``) downloads, or None when it runs the same way."""
    for flag in anchor.flags_named("mount"):
        if mount_type(flag.value or "") not in _INPUTLESS_MOUNTS:
            return f"its RUN has `--mount={flag.value}`, which an added fetch step would not have"
    for flag in anchor.flags_named("network"):
        return f"its RUN has `--network={flag.value}`, which an added fetch step would not have"
    tool = use.command.name
    for command in script.commands:
        if command is use.command:
            break
        if command.words and (command.name in SETUP_PROGRAMS or command.name == tool):
            return (
                f"`{' '.join(command.argv)}` runs before it in the same RUN and an added fetch "
                "step would not run it"
            )
    for name, value in _carried(use).items():
        if not _PLAIN_VALUE.match(value):
            return f"its inline `{name}=...` cannot be carried over to an added fetch step"
    return None


def assignments_prefix(use: Use) -> str:
    """The build command's inline variables (``GOPROXY=... CGO_ENABLED=0 ``) for the fetch."""
    return "".join(f"{name}={value} " for name, value in _carried(use).items())


def _carried(use: Use) -> dict[str, str]:
    return {k: v for k, v in use.command.assignments.items() if k not in COMPILE_ONLY}
