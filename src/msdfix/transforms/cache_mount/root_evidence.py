"""Evidence that a RUN of an unknown base image's user runs as root.

When the base image is unknown and no USER was set, the user is unknown. But some commands
fail for any other user: installing with the system package manager (``apt-get install``,
``apk add``, ``dnf install``) and adding users (``useradd``) write files only root may write.
When such a command's failure fails its RUN, and the original builds, the RUN ran as root, and
so does every later RUN until the next USER.
"""

from __future__ import annotations

from msdfix.ecosystems.os import APT_PROGRAMS
from msdfix.shell.commands import Command
from msdfix.shell.script import RunScript

# Programs and the subcommands that need root ("" : any arguments).
_ROOT_ONLY = {
    **dict.fromkeys(
        APT_PROGRAMS,
        {"install", "update", "upgrade", "dist-upgrade", "full-upgrade", "remove", "purge"},
    ),
    "apk": {"add", "del", "update", "upgrade"},
    **dict.fromkeys(("dnf", "yum", "microdnf"), {"install", "update", "upgrade", "remove"}),
    **dict.fromkeys(("useradd", "groupadd", "adduser", "addgroup"), {""}),
}
# Options under which those commands write nothing (or only print), or write into another
# root directory a user may own (``apk add --root``, ``dnf --installroot``).
_HARMLESS = {
    "-s", "--simulate", "--just-print", "--dry-run", "--recon", "--no-act", "-h", "--help",
    "--print-uris", "--download-only", "--assumeno", "--version", "-V", "-p", "--root",
    "--installroot",
}  # fmt: skip


def runs_as_root(script: RunScript) -> bool:
    """True when a command of the script needs root and its failure fails the RUN: it is
    not nested, and every command after it follows ``&&`` (the script's status is then its)."""
    commands = script.commands
    return any(
        not command.nested
        and _needs_root(command)
        and all(not later.nested and later.op_before == "&&" for later in commands[index + 1 :])
        for index, command in enumerate(commands)
    )


def _needs_root(command: Command) -> bool:
    """The command itself (not under sudo) writes where only root may."""
    wanted = _ROOT_ONLY.get(command.name)
    if wanted is None or any(a.split("=", 1)[0] in _HARMLESS for a in command.argv):
        return False
    if "" in wanted:
        return True
    subcommand = next((a for a in command.argv[1:] if not a.startswith("-")), "")
    return subcommand in wanted
