"""Whether one RUN may share Go's build cache: ``go help cache`` says it "does not detect
changes to C libraries imported with cgo", so an object compiled against another build's C
headers comes back (built for real: a vendor SDK header installed from a build argument).

The module cache stays shared (go.sum verifies every download); the build cache is mounted
only where cgo is off or compiles nothing but the standard library against the base image's
libc. Leaving the build cache out keeps the fix safe and keeps the downloads, which is most
of what the mount saves; an unsafe mount would be worth less.
"""

from __future__ import annotations

import re

from msdfix.document import Document
from msdfix.ecosystems.go import cgo_free, golang_cgo_auto
from msdfix.model import Stage
from msdfix.model.paths import within
from msdfix.shell.classify import ToolCall
from msdfix.syntax import Instruction
from msdfix.transforms.cache_mount.history import History
from msdfix.transforms.cache_mount.steps import Step

# OS packages known not to bring a C compiler along (anything else may: ``rust`` pulls gcc).
NO_COMPILER = frozenset(
    "git ca-certificates tzdata curl wget bash make openssh-client upx jq zip unzip tar xz "
    "git-lfs".split()
)
# Programs that put files where msdfix does not follow them (a toolchain unpacked into PATH).
FILE_PLACERS = frozenset(
    "tar unzip 7z cp mv ln install rsync dpkg rpm curl wget gunzip xz unxz bzip2 bunzip2 zstd "
    "unzstd".split()
)
# Where a copied file may become a compiler on PATH.
_PATH_ROOTS = ("/usr", "/bin", "/sbin", "/lib", "/opt", "/go/bin")

REASON = (
    "Go's build cache misses changes to the C headers and libraries cgo compiles against, "
    "and nothing shows cgo is off (CGO_ENABLED=0) or unused"
)


def cgo_unproven(
    doc: Document,
    history: History,
    stage: Stage,
    ins: Instruction,
    call: ToolCall,
    steps: list[Step],
) -> bool:
    """True unless the RUN's ``call`` compiles no cgo of the build's own: it compiles nothing
    (``go mod``), CGO_ENABLED=0 (not from a build argument), the context shows no cgo, or
    the image has no C compiler (then Go 1.20+ turns cgo off itself)."""
    args = call.args
    sub = call.subcommand
    if sub == "mod" or sub == "list" and "-m" in args:
        return False
    fixed = doc.model.fixed_scope(stage, ins)
    if "CGO_ENABLED" in call.command.assignments:
        return call.command.assignments["CGO_ENABLED"] != "0"
    if "CGO_ENABLED" in fixed:
        return fixed["CGO_ENABLED"] != "0"  # None: a build argument may set it
    if cgo_free(doc.context, args, fixed.get("GOFLAGS") or ""):
        return False
    # golang:*-alpine (Go 1.20+) has no C compiler, unless something before the call in the
    # stage's lineage may have added one (or named one in CC)
    image = stage.root_image
    tag = image.tag or ""
    if image.full_name != "golang" or "alpine" not in tag:
        return True
    if not golang_cgo_auto(tag, stage.root.from_.args):
        return True
    if "CC" in call.command.assignments or "CC" in doc.model.stage_scope(stage, ins):
        return True
    workdirs, _ = doc.model.workdirs(stage)
    for st in stage.lineage:
        for other in st.instructions:
            if other is ins:
                break
            if other.cmd in ("copy", "add") and _may_copy_compiler(
                history, st, other, workdirs.get(id(other), "/")
            ):
                return True
            if other.cmd == "run":
                found = history.steps(other)
                if found is None or any(_may_add_compiler(s) for s in found):
                    return True
    for step in steps:  # the RUN's own commands before the call
        if step.command is call.command:
            break
        if _may_add_compiler(step):
            return True
    return False


def _may_add_compiler(step: Step) -> bool:
    """A command msdfix cannot read or that places files, or a system package install beyond
    ``NO_COMPILER``."""
    if step.unknown or step.program in FILE_PLACERS:
        return True
    call = step.call
    if call is None or not call.manager.system:
        return False
    names = [a for a in step.args if not a.startswith("-")][1:]
    return any(re.split(r"[=<>~]", n)[0] not in NO_COMPILER for n in names)


def _may_copy_compiler(history: History, stage: Stage, ins: Instruction, workdir: str) -> bool:
    """A COPY/ADD from elsewhere than the context, or into a directory a PATH may search."""
    if ins.cmd == "add" or ins.flag("from") is not None:
        return True
    dest = history.destination(stage, ins, workdir)
    return dest is None or dest == "/" or any(within(dest, r) for r in _PATH_ROOTS)
