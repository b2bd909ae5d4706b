"""slim-base: the system CA certificates a -slim variant does not carry.

node's -slim images purge ca-certificates after downloading node (``apt-mark auto '.*'``,
``apt-get purge --auto-remove``); the full image (buildpack-deps) keeps it. node verifies TLS
with its own roots, but the system's TLS clients read ``/etc/ssl/certs``: on node:18-slim
(emulated as the official one, built for real) ``RUN update-ca-certificates`` failed with exit
127, and curl installed ``--no-install-recommends`` (ca-certificates is only its
recommendation) failed at start: "error setting certificate file:
/etc/ssl/certs/ca-certificates.crt". (``update-ca-certificates`` itself is one of node's
full-only tools.)
"""

from __future__ import annotations

import posixpath

from msdfix.ecosystems.os import APT_PROGRAMS, CA_BRINGING, CA_RECOMMENDING, CA_STORE_PATHS
from msdfix.model import Stage
from msdfix.syntax.values import env_pairs, instruction_values
from msdfix.transforms.slim_base.facts import Facts, skips_recommends

# Commands that name a store path without reading it: cleanups, mkdir, echo's text.
_NOT_READING = frozenset({"rm", "rmdir", "mkdir", "echo", "printf", ":"})
_END = 10**9  # a line after every instruction of the file


def _brought(facts: Facts, line: int) -> bool:
    """An apt install at or before ``line`` brings ca-certificates (itself or a dependant)."""
    return any(at <= line and names & CA_BRINGING for at, names in facts.apt.items())


def _copied(stage: Stage, line: int) -> bool:
    """A COPY/ADD before ``line`` puts files into the CA store (``COPY --from=certs
    /etc/ssl/certs/ /etc/ssl/certs/``)."""
    for ins in stage.of("copy", "add"):
        values = instruction_values(ins)[1]
        if ins.start_line < line and values and CA_STORE_PATHS.search(values[-1]):
            return True
    return False


def ca_store_reason(stage: Stage, facts: Facts, new: str) -> tuple[str | None, str | None]:
    """(why the stage needs the CA store ``new`` lacks, why it may need it), each or None:
    a RUN, CMD, ENTRYPOINT or HEALTHCHECK naming the store; an ENV naming it, or a TLS
    client installed without its recommended ca-certificates."""
    for use in facts.uses:
        line = use.ins.start_line
        if posixpath.basename(use.program) in _NOT_READING or _brought(facts, line):
            continue
        found = next((m for a in use.args if (m := CA_STORE_PATHS.search(a))), None)
        if found and not _copied(stage, line):
            return (
                f"{use.ins.keyword.upper()} at line {line} reads {found.group(1)}, and {new} "
                "has no CA certificates (its image purges ca-certificates)"
            ), None
    anywhere = _brought(facts, _END)  # an install of the stage at any line brings the store
    for ins in stage.of("env"):
        for name, value in env_pairs(ins):
            found = CA_STORE_PATHS.search(value)
            if found and not anywhere and not _copied(stage, _END):
                return None, (
                    f"ENV {name} at line {ins.start_line} names {found.group(1)}, and {new} has "
                    "no CA certificates (its image purges ca-certificates)"
                )
    for use in facts.uses:
        if posixpath.basename(use.program) not in APT_PROGRAMS or "install" not in use.args:
            continue
        clients = sorted(facts.apt.get(use.ins.start_line, set()) & CA_RECOMMENDING)
        if clients and not anywhere and skips_recommends(stage, use):
            return None, (
                f"line {use.ins.start_line} installs {clients[0]} without its recommended "
                f"ca-certificates: {new} has none (the full image has), so its TLS connections "
                "would fail"
            )
    return None, None
