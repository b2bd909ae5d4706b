"""slim-base: run the final stage on a smaller variant of the same base image.

What it does
    Rewrites the image reference of the final stage's FROM (only that text: ``--platform``,
    ``AS name`` and comments stay) to a smaller variant of the same family and version, from the
    knowledge table in ``msdfix.ecosystems.images``: ``node:18`` -> ``node:18-slim``,
    ``python:3.12-bookworm`` -> ``python:3.12-slim-bookworm``, ``ruby:3.3`` -> ``ruby:3.3-slim``,
    ``debian:bookworm`` -> ``debian:bookworm-slim``, ``eclipse-temurin:17-jdk`` ->
    ``eclipse-temurin:17-jre``, ``nginx:1.25`` -> ``nginx:1.25-alpine``, and a final stage that only
    copies a Go binary and runs it in exec form -> ``gcr.io/distroless/static-debian12`` (tagged
    as split-stages does: ``:nonroot`` plus ``WORKDIR /`` for a program that runs as nonroot,
    else ``:debug`` plus ``ENTRYPOINT []``, so user, working directory and entrypoint stay).
    When it leaves a final stage alone for a reason worth knowing, it says why.
Why
    The runtime image is what you ship, pull and scan: ``node:18`` is about 1 GB with compilers,
    git and -dev libraries the program never uses at run time; ``node:18-slim`` is about 200 MB.
Example
    ``FROM node:18 AS runtime`` becomes ``FROM node:18-slim AS runtime``.
Fix safety
    Safe: full -> -slim of the same version and Debian release (node, python, ruby, debian) when
    no RUN/CMD/ENTRYPOINT/HEALTHCHECK of the stage uses a tool only the full image has (gcc, make,
    git, curl, wget, ps, ...) unless the stage apt-get installs it, and dependency installs in the
    stage cannot compile (npm lockfile without install scripts or native modules, requirements
    files without packages that need system libraries; debian's -slim has the full tag's
    packages, so there an install compiles alike); eclipse-temurin JDK -> JRE of the same
    major and OS when no JDK tool (javac, jar, jlink, jcmd, ...) runs; nginx -> nginx:<v>-alpine
    when the stage only copies static files.
    Unsafe (reason shown): dependencies that cannot be seen or run install scripts, artefacts
    copied from a stage built on a full image, scripts msdfix cannot read; openjdk:17+ ->
    eclipse-temurin:<major>-jre (vendor change); nginx alpine with RUN, HEALTHCHECK or custom
    config (busybox, musl resolver); node -> node:<v>-alpine (musl), offered only when the
    lockfile shows no native modules, no apt-get, no bash and nothing is copied from a glibc
    stage; a Go binary -> distroless/static (safe only when built with CGO_ENABLED=0 and the Go
    sources never import os/exec).
    Display-only: a digest-pinned base (the new digest is unknown).
    Left alone, with the reason: tools missing from -slim, packages that compile against system
    libraries, bundle install of gems with C extensions, untagged bases (msdfix never writes
    ``latest``), bases from ARG variables, build images (golang, rust, maven, gradle) as the
    runtime, apt-get blocking alpine, anything running a shell blocking distroless. Left alone
    silently: final stages built FROM another stage, Windows images, already small variants,
    images from other registries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from msdfix.document import Document
from msdfix.ecosystems.images import (
    DISTROLESS_FROM,
    DISTROLESS_STATIC,
    Target,
    alpine_target,
    family_of,
    is_small,
    jre_target,
    slim_target,
)
from msdfix.fixes import Applicability, Edit, Finding
from msdfix.model import Stage
from msdfix.model.image import elsewhere, uncached
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values
from msdfix.transforms.base import Transform, register
from msdfix.transforms.slim_base.distroless import distroless_candidate
from msdfix.transforms.slim_base.variants import Candidate, Planner, lookup_name


def _image_word(ins: Instruction) -> tuple[str, int, int] | None:
    """The image reference as written in FROM, with its physical span (None when split)."""
    start = ins.args_start
    match = re.match(r"\S+", ins.logical[start:])
    if match is None:
        return None
    word = match.group(0)
    if not ins.is_contiguous(start, start + len(word)):
        return None
    return word, ins.physical(start), ins.physical(start + len(word) - 1) + 1


def _retag(word: str, target: Target) -> str:
    rest = word.partition("@")[0]
    colon = rest.rfind(":")
    repo = rest[:colon] if colon > rest.rfind("/") else rest
    if target.repository == DISTROLESS_STATIC:
        return f"{DISTROLESS_STATIC}:{target.tag}"
    if target.repository:
        repo = repo[: repo.rfind("/") + 1] + target.repository
    return f"{repo}:{target.tag}"


@register
class SlimBase(Transform):
    id = "slim-base"
    title = "Run the final stage on a smaller variant of its base image"
    order = 40

    def check(self, doc: Document) -> Iterable[Finding]:
        if doc.is_windows:
            return
        stage = doc.model.final
        if stage is None or stage.parent is not None:
            return
        yield from self._check(doc, stage)

    def _explain(self, doc: Document, ins: Instruction, message: str) -> Finding:
        return doc.note(self.id, ins, f"left base unchanged: {message}")

    def _check(self, doc: Document, stage: Stage) -> Iterator[Finding]:
        ins = stage.from_
        image = stage.image
        values = instruction_values(ins)[1]
        word = values[0] if values else ""
        name = lookup_name(image)
        if not image.on_hub and not name.startswith("gcr.io/distroless/"):
            return
        family = family_of(name)
        if family is None:
            return
        if "$" in word:
            if family.role != "minimal":
                yield self._explain(
                    doc,
                    ins,
                    f"the base `{word}` comes from a variable; change the ARG default instead",
                )
            return
        spot = _image_word(ins)
        if spot is None or spot[0] != word:
            return
        if image.tag is None:
            if family.role != "minimal":
                why = "has no tag (implicitly latest): pin a version; msdfix never writes latest"
                yield self._explain(doc, ins, f"`{word}` {why}")
            return
        planner = Planner(doc, stage, family, image.tag)
        candidates = self._candidates(doc, stage, planner)
        if image.digest:
            offer = next((c for c in candidates if not c.blocked), None)
            if offer is not None:
                new = _retag(word, offer.target)
                message = (
                    f"`{word}` could be `{new}`; the digest is pinned and msdfix cannot know "
                    f"the new one: pin the digest of `{new}` yourself"
                )
                edits = [Edit(spot[1], spot[2], new)]
                yield doc.fix(self.id, ins, message, edits, Applicability.DISPLAY_ONLY)
            return
        if family.role == "build" and not any(
            c.target.kind == "distroless" and not c.blocked for c in candidates
        ):
            yield self._explain(doc, ins, f"{image.name} is {family.note}")
        for cand in candidates:
            if cand.blocked:
                # An already-small base that cannot go further to musl needs no explanation.
                if not (cand.target.kind == "alpine" and is_small(image.tag)):
                    yield self._explain(
                        doc, ins, f"not `{_retag(word, cand.target)}`: {cand.blocked}"
                    )
                continue
            new = _retag(word, cand.target)
            message = f"`{word}` -> `{new}`"
            applicability = Applicability.SAFE
            # the tag may be missing from a cache of Hub, or the image from the registry
            missing = uncached(image, new) or elsewhere(image, new)
            unsafe = cand.unsafe + ([missing] if missing else [])
            if unsafe:
                message += f" (unsafe: {'; '.join(dict.fromkeys(unsafe))})"
                applicability = Applicability.UNSAFE
            edits = [Edit(spot[1], spot[2], new)]
            if cand.head:
                nl = doc.newline
                text = "".join(line + nl for line in cand.head)
                end = ins.end
                edits.append(Edit(end, end, text if doc.text[end - 1 : end] == "\n" else nl + text))
            yield doc.fix(self.id, ins, message, edits, applicability)

    def _candidates(self, doc: Document, stage: Stage, planner: Planner) -> list[Candidate]:
        family, tag = planner.family, planner.tag
        found: list[Candidate] = []
        if family.name in DISTROLESS_FROM:
            distroless = distroless_candidate(doc, stage, planner)
            if distroless is not None:
                found.append(distroless)
        if "windows" in tag or "nanoserver" in tag:
            return []
        alpine = alpine_target(family.name, tag) if family.alpine != "never" else None
        if alpine is not None:
            cand = planner.alpine(alpine)
            if cand is not None:
                found.append(cand)
        if is_small(tag):
            return found
        jre = jre_target(family.name, tag)
        slim = slim_target(family.name, tag)
        if jre is not None:
            found.append(planner.jre(jre))
        elif slim is not None:
            found.append(planner.slim(slim))
        return found
