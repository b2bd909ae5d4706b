"""Dependencies slim-base cannot see in a RUN: installed when the container starts, or
copied in already built (a CI-built ``vendor/bundle``, a gem image, an archive)."""

from __future__ import annotations

import re

from msdfix.document import Document
from msdfix.model import Stage
from msdfix.model.native_loads import compiled_copy
from msdfix.shell.classify import start_install as started
from msdfix.shell.commands import parse_commands
from msdfix.shell.entry import context_script, entry, entry_command, with_start_scripts

_ARCHIVE = re.compile(r"\.(?:tar|tgz|tbz2?|txz|tar\.(?:gz|bz2|xz|zst))$")


def start_install(doc: Document, stage: Stage) -> str | None:
    """The install (``bundle install``) the container runs when it starts, in its CMD,
    ENTRYPOINT or a context script they run; None when there is none."""
    found = entry(stage)
    if found is None:
        return None
    argvs = list(found.commands)
    command = entry_command(stage)
    for script in command.scripts if command is not None else []:
        text = context_script(doc.context, script)
        argvs += [c.argv for c in parse_commands(text)] if text is not None else []
    argvs = with_start_scripts(doc.context, argvs)  # npm start: "npm ci && node ."
    return next((install for argv in argvs if (install := started(argv))), None)


def copied_native(doc: Document, stage: Stage) -> str | None:
    """Why the stage may hold compiled packages no RUN of it installed: a COPY --from an
    image (not a stage), an archive ADD unpacks, or compiled files in the build context."""
    for ins in stage.of("copy", "add"):
        source = ins.flag("from")
        if source is not None and source.value:
            if doc.model.stage(source.value) is None:
                return f"line {ins.start_line} copies files from the image {source.value}"
            continue
        if ins.cmd == "add" and any(_ARCHIVE.search(w) for w in ins.args.split()[:-1]):
            return f"line {ins.start_line} unpacks an archive msdfix does not read"
        sources = [w.strip("/") for w in ins.args.split()[:-1] if not w.startswith("--")]
        path = compiled_copy(doc.context, sources)
        if path is not None:
            return f"line {ins.start_line} copies compiled code ({path})"
    return None
