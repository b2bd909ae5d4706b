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
from msdfix.ecosystems.python.requirements import pip_config_sets_cache
from msdfix.model import Stage
from msdfix.model.copies import copy_destination, copy_sources
from msdfix.model.paths import within
from msdfix.shell.classify import program_args
from msdfix.shell.commands import Command
from msdfix.shell.script import run_script
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values


def copies_into_config_dir(
    doc: Document, stage: Stage, ins: Instruction, manager: PackageManager, depth: int = 0
) -> bool:
    """True when the COPY/ADD puts a context file in one of ``manager.config_dests``
    (``COPY 99cache /etc/apt/apt.conf.d/``, ``COPY apt/ /etc/apt/``, ``COPY rootfs/ /``)
    that sets what ``manager.config_keys`` names, or one msdfix cannot read; or copies there
    from another stage that writes or brings such a file, or from an image."""
    if not manager.config_dests or ins.cmd not in ("copy", "add"):
        return False
    values = instruction_values(ins)[1]
    if len(values) < 2:
        return False
    landing = _landing(doc, stage, ins, manager)
    if landing is None:
        return False
    source = ins.flag("from")
    if source is not None:
        return _from_elsewhere(doc, source.value or "", manager, depth)
    sources = copy_sources(stage, ins, doc.model)
    into, exact = landing
    if (into or not exact) and _inline_or_remote(ins, manager, len(values) - 1 - len(sources)):
        return True  # one file, named by the destination or the URL: it lands only there
    if not sources:
        return False
    if not exact:
        return True
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
        if text is None or sets_cache_config(manager, text):
            return True
    return False


def sets_cache_config(manager: PackageManager, text: str) -> bool:
    """Whether a configuration file of the tool sets what ``manager.config_keys`` names, as
    the tool reads it where msdfix knows how (pip.conf: ``pip_config_sets_cache``)."""
    if re.search(manager.config_keys, text) is None:
        return False
    return pip_config_sets_cache(text) if manager.id == "pip" else True


def _inline_or_remote(ins: Instruction, manager: PackageManager, skipped: int) -> bool:
    """Sources that are no context files (``copy_sources`` skips them): a heredoc, read for
    the tool's keys, or a URL, whose file msdfix cannot read."""
    if skipped <= 0:
        return False
    inline = [h for h in ins.heredocs if re.search(manager.config_keys, h.content)]
    return bool(inline) or skipped > len(ins.heredocs)


def _landing(
    doc: Document, stage: Stage, ins: Instruction, manager: PackageManager
) -> tuple[bool, bool] | None:
    """Whether the COPY lands in (True) or above (False) a configuration directory, and
    whether its destination is known (False: a variable may lead there); None: elsewhere."""
    dest = copy_destination(doc.model, stage, ins)
    if "$" in dest:  # it starts with the text before its first variable
        stem = dest[: dest.index("$")]
        if any(
            d.startswith(stem) or within(posixpath.dirname(stem), d) for d in manager.config_dests
        ):
            return False, False
        return None
    dest = posixpath.normpath(dest)
    if any(within(dest, d) for d in manager.config_dests):
        return True, True
    if any(within(d, dest) for d in manager.config_dests):
        return False, True
    return None


def _from_elsewhere(doc: Document, name: str, manager: PackageManager, depth: int) -> bool:
    """A ``COPY --from`` into the tool's configuration: from an image (msdfix does not read
    its files) or from a stage whose lineage writes (``echo 'Dir::Cache ...' >
    /etc/apt/apt.conf.d/99c``) or brings such a file."""
    other = doc.model.stage(name)
    if other is None or depth > 8:
        return True
    for st in other.lineage:
        for ins in st.instructions:
            if ins.cmd == "run" and writes_config(ins, manager):
                return True
            if copies_into_config_dir(doc, st, ins, manager, depth + 1):
                return True
    return False


def writes_config(ins: Instruction, manager: PackageManager) -> bool:
    """A RUN that writes a cache setting into one of the tool's configuration files
    (``printf '[global]\\ncache-dir = /x' > /etc/pip.conf``), or brings a file there whose
    text it does not show (``mv /tmp/99cache /etc/apt/apt.conf.d/``, ``curl -o
    /etc/pip.conf URL``): what that file sets is unknown, not absent."""
    text = ins.logical
    if not manager.config_keys or not any(name in text for name in manager.config_files):
        return False
    if re.search(manager.config_keys, text) is not None:
        return True
    script = run_script(ins)
    if script is None:
        return True
    if re.search(manager.config_keys, _printed(script.commands)) is not None:
        return True
    before: Command | None = None
    for command in script.commands:
        if _brings_unseen(command, before, manager):
            return True
        before = command
    return False


# Commands that name a configuration file without writing into it what the RUN's text does
# not show: readers, removers, mode changes; echo/printf and a sed script show their text.
_SHOWN = frozenset(
    {"rm", "cat", "grep", "ls", "head", "tail", "test", "[", "chmod", "chown", "echo",
     "printf", "sed", "stat", "diff", "apt-config", "true"}
)  # fmt: skip


def _printed(commands: list[Command]) -> str:
    """What the RUN's echo and printf commands print, a word a line and ``\\n`` a line
    break: a key they write into a configuration file starts a line there (``echo
    prefer-offline=true >> ~/.npmrc``), where a key read from the RUN's whole text does not."""
    words = [
        word.replace("\\n", "\n")
        for command in commands
        if program_args(command)[0] in ("echo", "printf")
        for word in program_args(command)[1]
    ]
    return "\n".join(words)


def _names_config(words: list[str], manager: PackageManager) -> bool:
    """A word names one of the tool's configuration files: one it reads only in its home
    folder (composer's config.json) counts where a word of the command names that folder or a
    variable (``cp config.json /root/.composer/``), not as a project's file (``cp
    app/config.example.json app/config.json``)."""
    names = manager.config_files
    named = [w for w in words if any(n in w for n in names)]
    if any(any(n in w for n in names if n not in manager.home_config_files) for w in named):
        return True
    return bool(named) and any(
        "$" in w or set(w.split("/")) & set(manager.config_homes) for w in words
    )


def _brings_unseen(command: Command, before: Command | None, manager: PackageManager) -> bool:
    """The command names a configuration file in its words or redirects and may fill it with
    text the RUN does not show: a copy, move, link or download, or a redirect of another
    command's output; ``tee`` writes what the command before it in the pipe prints."""
    words = command.argv + command.redirects
    names = manager.config_files
    if not _names_config(words, manager):
        return False
    program, _ = program_args(command)
    if program == "tee":
        fed_by = program_args(before)[0] if before is not None else ""
        return command.op_before != "|" or fed_by not in ("echo", "printf")
    if program == "cat" and any(name in r for r in command.redirects for name in names):
        return True  # cat FILE > config: the copied file is not shown
    return program not in _SHOWN
