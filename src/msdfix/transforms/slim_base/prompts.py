"""apt installs that cannot answer apt's prompt.

``apt-get install curl`` without ``-y`` passes on the full image only because curl is already
there: apt asks nothing when it has nothing to install. On a smaller variant that lacks one of
the packages, apt asks "Do you want to continue? [Y/n]", reads no answer and aborts the build
(built for real: ``node:18`` -> ``node:18-slim`` and ``python:3.11`` -> ``python:3.11-slim``).
"""

from __future__ import annotations

import re

from msdfix.document import Document
from msdfix.ecosystems.os import APT_PROGRAMS
from msdfix.transforms.slim_base.facts import Facts, Use

_YES_LONG = {"--yes", "--assume-yes", "--force-yes", "--quiet=2", "-q=2"}
_ASSUME_YES = re.compile(r"assume-yes", re.IGNORECASE)
_YES_PIPE = re.compile(r"\byes\b[^|&;]*\|")


def _answers(args: list[str]) -> bool:
    """``-y``/``--yes``/``--assume-yes``, or ``-qq`` (quiet level 2 implies -y)."""
    for arg in args:
        if arg in _YES_LONG or _ASSUME_YES.search(arg):
            return True
        if arg.startswith("-") and not arg.startswith("--"):
            letters = arg[1:]
            if "y" in letters or letters.count("q") >= 2:
                return True
    return False


def prompting_install(doc: Document, facts: Facts) -> Use | None:
    """The first apt install of the stage that would stop at apt's prompt; None when every
    install answers it, or the Dockerfile sets ``APT::Get::Assume-Yes`` somewhere."""
    if _ASSUME_YES.search(doc.text):
        return None
    for use in facts.uses:
        if use.program.rsplit("/", 1)[-1] not in APT_PROGRAMS or "install" not in use.args:
            continue
        if _answers(use.args) or _YES_PIPE.search(use.ins.logical):
            continue
        return use
    return None
