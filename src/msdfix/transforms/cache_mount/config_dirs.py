"""COPYs that bring a tool's configuration into a directory where any file name counts.

apt reads every file of ``/etc/apt/apt.conf.d``, whatever its name; one that moves apt's
directories (``Dir::Cache "/cache/apt";``) leaves the ``/var/cache/apt`` mount unused, and
``-o Dir::Cache::Archives=/var/cache/apt/debs`` then fails on an empty mount: apt creates a
missing ``partial/`` only below ``Dir::Cache`` ("Archives directory
/var/cache/apt/debs/partial is missing", built for real).
"""

from __future__ import annotations

import posixpath
import re

from msdfix.document import Document
from msdfix.ecosystems.base import PackageManager
from msdfix.model import Stage
from msdfix.model.copies import copy_destination, copy_sources
from msdfix.model.paths import within
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values


def copies_into_config_dir(
    doc: Document, stage: Stage, ins: Instruction, manager: PackageManager
) -> bool:
    """True when the COPY/ADD puts a context file in one of ``manager.config_dests``
    (``COPY 99cache /etc/apt/apt.conf.d/``, ``COPY apt/ /etc/apt/``, ``COPY rootfs/ /``)
    that sets what ``manager.config_keys`` names, or one msdfix cannot read."""
    if not manager.config_dests or ins.cmd not in ("copy", "add"):
        return False
    sources = copy_sources(stage, ins, doc.model)
    values = instruction_values(ins)[1]
    if not sources or len(values) < 2:
        return False
    dest = copy_destination(doc.model, stage, ins)
    if "$" in dest:  # it starts with the text before its first variable
        stem = dest[: dest.index("$")]
        return any(
            d.startswith(stem) or within(posixpath.dirname(stem), d) for d in manager.config_dests
        )
    dest = posixpath.normpath(dest)
    into = any(within(dest, d) for d in manager.config_dests)
    above = any(within(d, dest) for d in manager.config_dests)
    if not into and not above:
        return False
    ctx = doc.context
    names = {posixpath.basename(d) for d in manager.config_dests}
    if not ctx.present:  # only what the sources say: `COPY setup.sh /` lands elsewhere
        return into or any(
            s.unknown or names.intersection((s.pattern or "").split("/")) for s in sources
        )
    for rel in ctx.files:
        if not any(s.copies(rel) for s in sources):
            continue
        if not into and not names.intersection(rel.split("/")):
            continue  # lands elsewhere below the destination
        text = ctx.read_text(rel)
        if text is None or re.search(manager.config_keys, text):
            return True
    return False
