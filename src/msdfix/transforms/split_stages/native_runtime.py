"""Compiled binaries (Go, Rust): the entry must run an artefact; the glibc of the build image."""

from __future__ import annotations

import posixpath
import re

from msdfix.ecosystems.go import golang_release
from msdfix.ecosystems.os import DEBIAN_SLIM, STANDARD_PATH, debian_codename
from msdfix.ecosystems.rust import glibc_at_most_bookworm
from msdfix.model.context import Unreadable
from msdfix.model.program_calls import source_text
from msdfix.transforms.split_stages.build_stage import (
    HARMLESS,
    Analysis,
    Decline,
    Plan,
)


def check_entry_runs(a: Analysis, artefacts: list[str]) -> dict[str, str]:
    """The entry command must run an artefact; returns artefacts moved onto the runtime PATH."""
    if a.entry is None:
        raise Decline("no CMD or ENTRYPOINT says which binary runs")
    moves: dict[str, str] = {}
    for argv in a.entry.commands:
        path = a.entry_path(argv[0]) if argv else None
        if path is None:
            raise Decline("the CMD/ENTRYPOINT program name uses a variable")
        if path.startswith("/"):
            ok = path in artefacts
        else:
            found = [p for p in artefacts if posixpath.basename(p) == path]
            ok = len(found) == 1
            if ok and posixpath.dirname(found[0]) not in STANDARD_PATH:
                named = next((i for i in a.stage.instructions if found[0] in i.logical), None)
                if named is not None:  # HEALTHCHECK CMD /usr/local/cargo/bin/relay
                    raise Decline(
                        f"line {named.start_line} names {found[0]}, which the runtime would "
                        f"have at /usr/local/bin/{path}"
                    )
                moves[found[0]] = "/usr/local/bin/" + path
        if not ok and not (a.entry.shell and argv[0] in HARMLESS):
            raise Decline(f"the CMD/ENTRYPOINT runs `{argv[0]}`, which is not the built binary")
    return moves


def release(a: Analysis) -> str | None:
    """The Debian release the build image is on (its glibc), or None when unknown."""
    tag = a.stage.image.tag
    if a.eco == "go":
        return golang_release(tag)
    codename = debian_codename(tag)
    if codename or a.eco != "rust":
        return codename
    if glibc_at_most_bookworm(tag):
        return "bookworm"
    return "trixie" if re.match(r"^\d+\.\d+", tag or "") else None


def debian_runtime(a: Analysis) -> str:
    return DEBIAN_SLIM.format(codename=release(a) or "bookworm")


def glibc_risk(a: Analysis, plan: Plan) -> None:
    """A dynamically linked binary needs a runtime with the build image's glibc or newer."""
    found = release(a)
    if found == "trixie" and plan.runtime.startswith("gcr.io/distroless/"):
        plan.runtime = plan.runtime.replace("-debian12", "-debian13")
    if found is None and plan.unsafe is None:
        plan.unsafe = (
            f"the Debian release of {a.stage.image.raw} is unknown: the binary may need a "
            f"newer glibc than {plan.runtime} has"
        )


# Libraries every glibc runtime has (distroless/base and cc included): linking them is safe.
GLIBC_LIBRARIES = frozenset({"c", "m", "pthread", "dl", "rt", "resolv", "util", "gcc_s"})
_CGO_LINK = re.compile(r"(?m)^[^\S\n]*#cgo\b([^:\n]*):(.*)$")
_RUST_LINK = re.compile(r"#\[link\(([^)\n]*)\)|rustc-link-lib=(?:([a-z-]+)=)?([\w.+-]+)")


def linked_libraries(a: Analysis) -> list[str]:
    """System libraries the sources link by name (``#cgo LDFLAGS: -lcrypt``, ``#cgo
    pkg-config: x``, Rust's ``#[link(name = ...)]`` and build scripts' ``rustc-link-lib``),
    beyond glibc's own: the runtime image may not have them. Sources are read up to 8 MiB
    (``source_text``); Unreadable for one msdfix cannot read."""
    found: list[str] = []
    pattern = "*.go" if a.eco == "go" else "*.rs"
    for rel in a.ctx.glob(pattern):
        text = source_text(a.ctx, rel)
        if a.eco == "go":
            for directive, value in _CGO_LINK.findall(text):
                words = value.split()
                if directive.split()[-1:] == ["pkg-config"]:
                    found += [w for w in words if not w.startswith("-")]
                found += [w[2:] for w in words if w.startswith("-l") and len(w) > 2]
        else:
            for m in _RUST_LINK.finditer(text):
                attribute, kind, name = m.groups()
                if attribute is not None:
                    named = re.search(r'\bname\s*=\s*"([^"]+)"', attribute)
                    kind = "static" if re.search(r'\bkind\s*=\s*"static"', attribute) else None
                    name = named.group(1) if named else None
                if name and kind != "static":  # a static library is inside the binary
                    found.append(name)
    return [n for n in dict.fromkeys(found) if n not in GLIBC_LIBRARIES]


def check_linked_libraries(a: Analysis, plan: Plan) -> None:
    """A binary linked against a library glibc does not bring makes the split unsafe."""
    try:
        libraries = linked_libraries(a) if a.ctx.present else []
    except Unreadable as exc:  # unread is not "links none"
        if plan.unsafe is None:
            plan.unsafe = f"{exc}, so which libraries the sources link is unknown"
        return
    if libraries and plan.unsafe is None:
        names = ", ".join(f"lib{n}" for n in libraries[:3])
        plan.unsafe = f"the sources link {names}, which {plan.runtime} may lack"
