"""apt and dpkg commands that act on the packages the full image ships.

``apt-get purge -y wget curl`` on python:3.12 removes what buildpack-deps installed; -slim has
neither, and without package lists apt does not know the names: "E: Unable to locate package
wget" (built for real, as were ``apt-get remove git openssh-client`` on node:20-slim,
``apt-mark hold libpq-dev``, and ``apt-get install gcc libpq-dev`` with no ``apt-get update``
before it, which passed on the full image only because both packages were there).
"""

from __future__ import annotations

import posixpath

from msdfix.ecosystems.base import positionals
from msdfix.ecosystems.os import APT_PROGRAMS
from msdfix.transforms.slim_base.facts import Facts, Use

_APT_VALUES = frozenset({"-o", "-c", "-t", "-a", "--option", "--config-file", "--target-release"})
_REMOVE = frozenset({"remove", "purge", "autopurge", "autoremove"})
_MARK = frozenset({"hold", "unhold", "manual", "auto", "markauto", "unmarkauto"})
_DPKG = frozenset({"-r", "--remove", "-P", "--purge", "-s", "--status", "-L", "--listfiles"})
_DPKG_QUERY = frozenset({"-W", "--show", "-s", "--status", "-L", "--listfiles"})


def _package(word: str) -> str:
    return word.split("=", 1)[0].split(":", 1)[0]


def _every_package(word: str) -> bool:
    """A pattern every package name matches (``apt-mark auto '.*'``, the official images'
    form): it names what is installed, which -slim has too, so apt always finds some."""
    return word.strip("^$") in (".*", ".+", "*", "?*")


def unrefreshed_install(use: Use) -> bool:
    """True when ``use`` is an apt install (``base_package_use`` names one only before any
    ``apt-get update``), not a removal, mark or query of an installed package."""
    words = positionals(use.args, _APT_VALUES)
    apt = posixpath.basename(use.program) in APT_PROGRAMS
    return apt and words[:1] in (["install"], ["reinstall"])


def base_package_use(facts: Facts) -> tuple[Use, str] | None:
    """The first build command that needs a package only the full image may have installed,
    and that package: a removal, a mark or a dpkg query of a package the stage did not
    install itself, or an apt install before any ``apt-get update`` of the stage."""
    refreshed = False
    for use in facts.uses:
        if use.ins.cmd != "run":
            continue
        program = posixpath.basename(use.program)
        words = positionals(use.args, _APT_VALUES)
        named: list[str] = []
        if program in APT_PROGRAMS and words:
            sub, names = words[0], words[1:]
            if sub == "update":
                refreshed = True
            elif sub in _REMOVE or (sub in ("install", "reinstall") and not refreshed):
                named = [n for n in names if "/" not in n and not n.endswith(".deb")]
        elif program == "apt-mark" and words and words[0] in _MARK:
            named = words[1:]
        elif program == "dpkg" and any(a in _DPKG for a in use.args):
            named = words
        elif program == "dpkg-query" and any(a in _DPKG_QUERY for a in use.args):
            named = words
        line = use.ins.start_line
        installs = program in APT_PROGRAMS and words[:1] in (["install"], ["reinstall"])
        mine = {  # what the stage installed before (its own RUN too, for a removal)
            p
            for at, names in facts.apt.items()
            if at < line or (at == line and not installs)
            for p in names
        }
        named = [
            n for n in named if _package(n) not in mine and "$" not in n and not _every_package(n)
        ]
        if named:
            return use, named[0]
    return None
