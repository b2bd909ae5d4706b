"""Tools the program may take from the build image: a full toolchain image (node, python,
golang, rust, ruby: buildpack-deps with curl, wget, git, ssh, procps, ...) has them, and the
-slim, distroless or alpine runtime does not. ``HEALTHCHECK CMD curl ...`` on ``node:20`` works
because the image ships curl; on ``node:20-slim`` the container turns unhealthy.
"""

from __future__ import annotations

import posixpath
import re

from msdfix.ecosystems.go import unseen_go_modules
from msdfix.ecosystems.images import BUILDPACK_TOOLS, TOOL_PACKAGES, family_of
from msdfix.model.base_images import library_name
from msdfix.model.context import Unreadable
from msdfix.model.native_loads import SUFFIXES, compiled_copy, native_need, provided_names
from msdfix.model.program_calls import CALLED, MAX_SCANNED, TOO_MANY, tar_tool
from msdfix.model.stages import Stage
from msdfix.shell.classify import program_args
from msdfix.shell.commands import commands_run
from msdfix.shell.entry import opaque_program
from msdfix.syntax.values import instruction_values
from msdfix.transforms.build_paths import copies_go_work
from msdfix.transforms.split_stages.build_stage import Analysis, Plan
from msdfix.transforms.split_stages.runtime_packages import tool_run

FULL_IMAGES = frozenset({"node", "python", "golang", "rust", "ruby", "buildpack-deps"})

# Programs of the build image a distroless runtime lacks (it has no shell and no coreutils).
NO_DISTROLESS = (
    "sh", "bash", "perl", "openssl", "python3", "python", "env", "awk", "sed", "grep", "tar",
    "gzip", "jq",
)  # fmt: skip
# The build image's own toolchain, which a split's runtime never has (dropping it is the point):
# a program that runs it (a gofmt service, ``exec.Command("go", "vet")``) needs the full image.
# ``go`` is too common a word for the argv-list search: only an exec call counts for it.
TOOLCHAIN = {
    "golang": ("gofmt",),
    "rust": ("cargo", "rustc", "rustup", "rustfmt", "rustdoc"),
}
_RUNS_GO = re.compile(
    r"""\bexec\.(?:Command\(|CommandContext\([^,()\n]*,)[ \t]*"go"[ \t]*[,)]"""
    r"""|\bLookPath\([ \t]*"go"[ \t]*\)"""
)
_USER_LOOKUP = re.compile(
    r"\buser\.(?:Lookup|LookupGroup|LookupId|LookupGroupId)\("  # Go
    r"|\bgetpw(?:nam|uid)\b|\bgetgr(?:nam|gid)\b|User::from_name|get_user_by_name|\bPrivDrop\b"
)
# One of these is in every _USER_LOOKUP match (lines without any skip the slow regex).
_USER_NEEDLES = ("user.", "getpw", "getgr", "User::from_name", "get_user_by_name", "PrivDrop")
_SOURCES = {"go": "*.go", "rust": "*.rs"}


def _runs_go(a: Analysis) -> str | None:
    """A Go source (not a test) that runs the go command: ``exec.Command("go", "vet")``."""
    for rel in a.ctx.glob("*.go") if a.ctx.present and a.eco == "go" else []:
        if rel.startswith("vendor/") or rel.endswith("_test.go"):
            continue
        if a.ctx.may_match(rel, _RUNS_GO, ('"go"',)):  # (or cannot be read: unknown)
            return rel
    return None


def _looks_up_users(a: Analysis) -> str | None:
    """A Go or Rust source that looks up users by name or id (distroless knows root, nobody
    and nonroot only): ``user.Lookup``, ``getpwnam``, ``User::from_name``, privdrop."""
    pattern = _SOURCES.get(a.eco)
    for rel in a.ctx.glob(pattern) if a.ctx.present and pattern else []:
        if not rel.startswith("vendor/") and a.ctx.may_match(rel, _USER_LOOKUP, _USER_NEEDLES):
            return rel
    return None


def healthcheck(stage: Stage) -> tuple[bool, list[str]]:
    """(shell form?, programs) of the stage's HEALTHCHECK CMD (the last one counts)."""
    checks = stage.of("healthcheck")
    if not checks:
        return False, []
    _, values, is_json = instruction_values(checks[-1])
    if len(values) < 2 or values[0].upper() != "CMD":
        return False, []
    if is_json:
        return False, [values[1].rsplit("/", 1)[-1]]
    return True, [program_args(c)[0] for c in commands_run(values[1])]


def _start_tool(start: list[list[str]], missing: list[str]) -> str | None:
    """The first of ``missing`` the start commands run: a program, or ``xz``/``bzip2`` that
    a ``tar -J``/``-j`` runs."""
    filters = tuple(t for t in ("xz", "bzip2") if t in missing)
    for argv in start:
        program = posixpath.basename(argv[0]) if argv else ""
        tool = program if program in missing else tar_tool(" ".join(argv), filters)
        if tool:
            return tool
    return None


def _copied_compiled(a: Analysis) -> str | None:
    """A compiled file of the build context that the stage copies (a committed ``.node``
    addon linking libldap ran on node:18 and failed on node:18-slim): its libraries are
    unknown."""
    for ins in a.stage.of("copy", "add"):
        if ins.flag("from") is not None:
            continue
        sources = [w.strip("/") for w in ins.args.split()[:-1] if not w.startswith("--")]
        path = compiled_copy(a.ctx, sources)
        if path is not None:
            return f"line {ins.start_line} copies compiled code ({path}) that may link a library"
    return None


def go_module_roots(a: Analysis) -> list[str]:
    """The context folders of the go.mod files the stage copies from the context
    (``COPY backend/go.mod backend/go.sum ./``: backend): those landing where a go command
    runs, else all of them, else the context's own folder. A monorepo's service module is
    read where the build takes it from."""
    found = [
        (posixpath.dirname(rel), posixpath.dirname(dest))
        for copy in a.copies
        for rel, dest in copy.context_files(a.ctx)
        if posixpath.basename(rel) == "go.mod" and "vendor/" not in rel
    ]
    cwds = {c.cwd for c in a.calls if c.program == "go"}
    used = [rel for rel, dest in found if dest in cwds] or [rel for rel, _ in found]
    return list(dict.fromkeys(used)) or [""]


def _go_build_text(a: Analysis) -> str:
    """The RUN, ENV and ARG lines of the build stage and those it is built from (their go
    flags: ``GOFLAGS=-mod=mod``)."""
    return "\n".join(i.args for s in a.stage.lineage for i in s.of("run", "env", "arg"))


def check_image_tools(a: Analysis, plan: Plan) -> None:
    """Make the split unsafe when the program may run a tool only the build image has."""
    image = a.stage.image
    tag = (image.tag or "").lower()
    if library_name(image) not in FULL_IMAGES or "slim" in tag or "alpine" in tag:
        return
    if plan.unsafe is not None or plan.runtime == image.raw:
        return
    installed = set(a.packages) | set(plan.packages)
    # The family's own list where it has one: node's full image also has python3, which
    # node:*-slim lacks (slim-base reads the same list).
    family = family_of(library_name(image) or "")
    tools = family.full_only_tools if family and family.full_only_tools else BUILDPACK_TOOLS
    missing = [t for t in sorted(tools) if not TOOL_PACKAGES.get(t, {t}) & installed]
    missing += TOOLCHAIN.get(library_name(image) or "", ())
    distroless = plan.runtime.startswith("gcr.io/distroless/")
    if distroless:  # no shell, no coreutils, no system users
        missing += [t for t in NO_DISTROLESS if t not in missing]
        users = _looks_up_users(a)
        if users:
            plan.unsafe = f"{users} looks up system users, which {plan.runtime} does not have"
            return
        cwds = {c.cwd for c in a.calls if c.program == "go"}
        work = copies_go_work(a.model, a.stage, a.ctx, cwds) if a.eco == "go" else None
        unseen = (
            [
                m
                for root in go_module_roots(a)
                for m in unseen_go_modules(a.ctx, root, _go_build_text(a), work)
            ]
            if a.eco == "go"
            else []
        )
        if unseen:
            more = f" and {len(unseen) - 1} more" if len(unseen) > 1 else ""
            plan.unsafe = (
                f"go.mod requires {unseen[0]}{more}, whose code is not in the build context "
                f"(not vendored): it may run a program {image.raw} has and {plan.runtime} lacks"
            )
            return
    copies = [i.args for i in a.stage.of("copy", "add")]
    patterns = SUFFIXES.get(a.eco)
    native = native_need(a.ctx, provided_names(installed, copies), patterns) if patterns else None
    native = native or (_copied_compiled(a) if patterns else None)
    if native is not None:
        what = "a source may load a system library" if native == TOO_MANY else native
        plan.unsafe = f"{what}, which {image.raw} may have and {plan.runtime} lacks"
        return
    go = _runs_go(a) if library_name(image) == "golang" else None
    if go is not None:
        plan.unsafe = f"{go} runs `go`, which {image.raw} has and {plan.runtime} lacks"
        return
    entry = _start_tool([*a.start, *(a.entry.substituted if a.entry else [])], missing)
    check = next((p for p in healthcheck(a.stage)[1] if p in missing), None)
    if entry or check:
        who, found = ("the start command", entry) if entry else ("the HEALTHCHECK", check)
    else:
        called = tuple(t for t in missing if t in CALLED or distroless and t in NO_DISTROLESS)
        try:
            who, found = "the program may", tool_run(a, called, tuple(missing))
        except Unreadable as exc:  # unread is not "runs none"
            plan.unsafe = f"{exc}, so which tools it runs is unknown: {plan.runtime} lacks some"
            return
    opaque = opaque_program(a.start, a.ctx) if a.eco in ("python", "node") else None
    if not found and "git" in missing and a.ctx.repositories and a.git_dependency():
        plan.unsafe = (  # git-last-commit, sentry-sdk's release: `git rev-parse HEAD`
            f"a dependency may run `git` on the copied repository, which {image.raw} has and "
            f"{plan.runtime} lacks"
        )
    elif not found and opaque:
        plan.unsafe = (
            f"the start command runs `{opaque}`, a program whose own code msdfix does not "
            f"read: it may run a tool {image.raw} has and {plan.runtime} lacks (git, curl, ssh)"
        )
    elif found == TOO_MANY:
        plan.unsafe = (
            f"the context has more sources than msdfix reads ({MAX_SCANNED}): one may run a "
            f"tool {image.raw} has and {plan.runtime} lacks"
        )
    elif found and found != "?":
        verb = "run" if who.endswith("may") else "runs"
        plan.unsafe = f"{who} {verb} `{found}`, which {image.raw} has and {plan.runtime} lacks"
