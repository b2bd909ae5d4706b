"""reorder-copy: copy dependency manifests and install before copying the rest of the sources.

What it does
    When a stage copies its whole source tree (``COPY . .``, ``COPY . /app``, ``ADD . ...``,
    ``COPY src/ ...``) before a dependency install (``npm ci``, ``yarn``, ``pnpm install``,
    ``pip install -r``, ``poetry install --no-root``, ``uv sync --no-install-project``,
    ``pipenv install``, ``go mod download``, ``bundle install``, ``composer install``,
    ``dotnet restore``), it inserts a COPY of just the manifests and lock files that exist in the
    build context (honouring ``.dockerignore``), keeps the install after it and moves the full
    COPY to right after the install. Commands of the install RUN that need the sources (``npm
    run build``) move into a new RUN after the full COPY. ``composer install`` gets
    ``--no-scripts --no-autoloader`` and a ``composer dump-autoload`` after the full COPY. When
    there is no install step but a build (``go build``, ``cargo build``, ``mvn package``,
    ``gradle build``), the offline fetch (``go mod download``, ``cargo fetch``, ``mvn
    dependency:go-offline``, ``gradle dependencies``) is added after the manifest COPY.
    The install (or fetch) reads its manifests from bind mounts instead of a COPY, so the
    image holds them once: read-only where it never writes them (pip's requirements files,
    ``npm ci``, ``pipenv sync``, yarn 1's, pnpm's and bun's ``--frozen-lockfile``, ``uv sync
    --locked``/``--frozen``, ``composer install``, ``pdm install --frozen-lockfile``),
    read-write where it rewrites them in place (``npm install``, yarn 1, ``uv sync``,
    ``poetry install``, ``pdm install``, ``go mod download``, ``bundle install``, ``cargo
    fetch``: BuildKit discards the writes, as the full COPY would overwrite
    them). Not under corepack for yarn and pnpm: its
    shims may pin ``packageManager`` into package.json.
Why
    Docker reuses a layer only while everything copied before it is unchanged. With the whole
    source copied first, every source edit reruns the dependency install; with the manifests
    first, the install layer stays cached until a manifest changes.
Example
    ``COPY . .`` / ``RUN npm install`` becomes
    ``COPY package.json package-lock.json ./`` / ``RUN npm install`` / ``COPY . .``;
    ``COPY . .`` / ``RUN pip install -r requirements.txt`` becomes
    ``RUN --mount=type=bind,source=requirements.txt,target=/app/requirements.txt pip install
    -r requirements.txt`` / ``COPY . .``.
Fix safety
    Safe when the build context shows the install reads only the manifests. Unsafe (applied with
    ``--unsafe-fixes``): copied manifests where the install RUN empties its download cache
    or cache-mount gives it no safe mount of that cache (the image holds them twice and
    nothing offsets it), or bun's or pnpm's (they hard-link node_modules
    to their cache), or Yarn Berry's where its cache stays in the image (Plug'n'Play,
    ``enableGlobalCache: false``), or a copied Yarn Berry ``.yarn/`` (its release), npm lifecycle scripts (preinstall/install/postinstall/prepare) that may
    read sources, Composer install scripts, an added ``mvn dependency:go-offline`` in the final
    stage, Gradle (build scripts may read other files), and every ecosystem when there is no
    build context (manifests are then copied by glob, and what they name is unknown).
    Left unchanged, with the reason: workspaces and monorepos, local path dependencies (``file:``,
    ``-e .``, ``path =``, ``replace => ./``), installs of the project itself (``pip install .``,
    ``poetry install`` without ``--no-root``), install outputs such as ``node_modules`` present in
    the context and not in ``.dockerignore``, and any instruction between the COPY and the
    install that reads or writes the copied tree.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from msdfix.document import Document
from msdfix.fixes import Applicability, Edit, Finding
from msdfix.model import Stage
from msdfix.model.base_images import ROOT
from msdfix.model.users import effective_user
from msdfix.syntax import Instruction
from msdfix.syntax.pragmas import ignored_here
from msdfix.transforms.base import Transform, register
from msdfix.transforms.cache_mount import safe_cached
from msdfix.transforms.reorder_copy.anchor import check_between, find_anchor, has_fetch
from msdfix.transforms.reorder_copy.edits import (
    after_install,
    bind_flags,
    copy_lines,
    emptied_cache,
    empty_lock,
    fetch_text,
    header_cache,
    kept_berry_cache,
    linked_cache,
)
from msdfix.transforms.reorder_copy.fetch_env import fetch_blocker
from msdfix.transforms.reorder_copy.model import (
    KEEP_FLAGS,
    Plan,
    Skip,
    Source,
    Use,
    copied_just_before,
    whole_tree_copy,
    workdirs_of,
)
from msdfix.transforms.reorder_copy.plan import plan_manifests


def _user(stage: Stage, ins: Instruction) -> str | None:
    """The USER ``ins`` runs as; an unknown base image's own user counts as root (most are),
    a USER the file sets from a variable stays unknown (None)."""
    user = effective_user(stage, ins)
    if user is None and not any(
        other.cmd == "user" and (st is not stage or other.start < ins.start)
        for st in stage.lineage
        for other in st.instructions
    ):
        return ROOT
    return user


def _known_flags(copy: Instruction, where: str, anchor: Instruction) -> None:
    """Skip a COPY with a flag the manifests' COPY could not simply repeat (``--exclude``,
    ``--parents``: newer frontends only; Docker 20.10's answered "Unknown flag", so they
    could not be built here), saying which."""
    other = [f"--{f.name}" for f in copy.flags if f.name not in KEEP_FLAGS]
    if other:
        raise Skip(f"{where} has {', '.join(other)}, which reorder-copy does not carry", anchor)


@register
class ReorderCopy(Transform):
    id = "reorder-copy"
    title = "Copy dependency manifests and install before copying the sources"
    order = 20

    def check(self, doc: Document) -> Iterable[Finding]:
        if doc.is_windows:
            return
        for stage in doc.model.stages:
            workdirs = workdirs_of(doc, stage)
            for index, ins in enumerate(stage.instructions):
                source = whole_tree_copy(doc, stage, ins, workdirs[id(ins)])
                if source is None:
                    continue
                chosen = stage.variable_lineage
                if chosen is not None:
                    yield doc.note(
                        self.id,
                        ins,
                        f"`{chosen.from_.logical.strip()}` (line {chosen.from_.start_line}) may "
                        "name another stage under --build-arg: the WORKDIR, USER and ENV the "
                        "install runs with are unknown",
                    )
                    break
                try:
                    fix = self._fix(doc, stage, index, source, workdirs)
                except Skip as skip:
                    if skip.reason:
                        yield doc.note(self.id, skip.at or ins, skip.reason)
                    continue
                if fix is not None:
                    yield fix
                    break

    def _fix(
        self, doc: Document, stage: Stage, index: int, source: Source, workdirs: dict[int, str]
    ) -> Finding | None:
        copy = source.ins
        later = stage.instructions[index + 1 :]
        anchor, uses, script, blocker = find_anchor(doc, stage, source, later, workdirs)
        if anchor is None or script is None:
            return None
        where = f"`{copy.logical.strip()}` (line {copy.start_line})"
        _known_flags(copy, where, anchor)
        if blocker is not None:
            raise Skip(
                f"{where} comes before the dependency install, but line {blocker.start_line} "
                f"uses the copied files in between",
                anchor,
            )
        if ignored_here(doc.dockerfile, anchor, self.id):
            return None
        if doc.ends_in_continuation:
            raise Skip(
                "the last line ends with a line continuation: a COPY moved after it would "
                "join its RUN",
                anchor,
            )
        between = later[: later.index(anchor)]
        for pos, ins in enumerate(between):
            after = workdirs[id((*between, anchor)[pos + 1])]
            check_between(source, ins, _user(stage, ins), after)
        build = all(u.build for u in uses)
        if build:
            uses = uses[:1]
            if has_fetch(doc, stage, copy, uses[0]):
                return None
        else:
            uses = [u for u in uses if not u.build]
        plan = Plan()
        for use in uses:
            plan_manifests(doc, stage, source, use, plan, anchor)
        if not plan.manifests or any(p.rstrip("/") == source.src for p, _ in plan.manifests):
            return None
        workdir = workdirs[id(anchor)]
        scope = {k: v for k, v in doc.model.stage_scope(stage, anchor).items() if v is not None}
        present = copied_just_before(doc, stage, index, plan, workdirs)
        lines = "" if present is not None else copy_lines(doc, source, plan, workdir)
        eco_names = "/".join(dict.fromkeys(u.eco.id for u in uses))
        files = ", ".join(
            dict.fromkeys(
                posixpath.basename(p.rstrip("/")) + ("/" if p.endswith("/") else "")
                for p, _ in plan.manifests
            )
        )
        block = doc.text[copy.comment_start : copy.end]
        if not block.endswith("\n"):
            block += doc.newline
        nl = doc.newline
        edits: list[Edit] = []
        adjacent = not between and not doc.text[copy.end : anchor.comment_start].strip()
        if build:
            use = uses[0]
            lacking = fetch_blocker(anchor, script, use)
            if lacking is not None:
                raise Skip(f"`{' '.join(use.command.argv)}`: {lacking}", anchor)
            fetch = fetch_text(use, workdir)
            binds = None if present else bind_flags(doc, stage, anchor, source, plan, uses)
            if binds is not None:
                lines = ""  # the fetch reads the manifests from bind mounts
            new = lines + f"{anchor.keyword} {binds or ''}{fetch}{nl}"
            if adjacent:
                edits.append(Edit(copy.comment_start, copy.comment_start, new))
            else:
                edits += [
                    Edit(copy.comment_start, copy.end, ""),
                    Edit(anchor.comment_start, anchor.comment_start, new + block),
                ]
            what = f"run `{fetch}`" if present else f"copy {files} and run `{fetch}`"
            if binds is not None:
                what = f"run `{fetch}` with {files} mounted (the image holds one copy)"
            message = f"{what} before {where}, so the dependency layer stays cached"
            if lines and doc.model.ships(stage):  # the fetch shares the build's user and cache
                _doubled(doc, anchor, plan, uses, files)
        else:
            after, split_edits = after_install(
                doc, anchor, script, uses, workdir, source, scope, doc.model.ships(stage)
            )
            at = anchor.physical(anchor.args_start)
            binds = None if present else bind_flags(doc, stage, anchor, source, plan, uses)
            if binds is not None and not any(e.start <= at < e.end for e in split_edits):
                lines = ""  # the install reads the manifests from bind mounts
                edits.append(Edit(at, at, binds))
            if adjacent:
                edits.append(Edit(copy.comment_start, copy.end, lines))
            else:
                edits += [
                    Edit(copy.comment_start, copy.end, ""),
                    Edit(anchor.comment_start, anchor.comment_start, lines),
                ]
            edits += split_edits
            end = anchor.end
            prefix = "" if doc.text[end - 1 : end] == "\n" else nl
            edits.append(Edit(end, end, prefix + block + after))
            message = (
                f"install {eco_names} dependencies from {files} before {where}, so source "
                "edits keep the install layer cached"
            )
            if binds is not None and not lines:
                message += f" ({files} mounted for the install, so the image holds one copy)"
            elif lines and doc.model.ships(stage):
                _doubled(doc, anchor, plan, uses, files)
        if plan.notes:
            message += "; " + "; ".join(plan.notes)
        applicability = Applicability.SAFE
        if plan.unsafe:
            applicability = Applicability.UNSAFE
            message += " (unsafe: " + "; ".join(plan.unsafe) + ")"
        return doc.fix(self.id, anchor, message, edits, applicability)


def _doubled(doc: Document, anchor: Instruction, plan: Plan, uses: list[Use], files: str) -> None:
    """Make the move unsafe where the image would hold the copied manifests twice and no
    cache mount takes a download cache of the install (or fetch) RUN ``anchor`` out of the
    image to offset that: the rewrite would be larger."""
    twice = f"the image would hold {files} twice (copied for the install, then with the sources)"
    emptied = emptied_cache(doc.written(anchor), uses)
    uncached = _uncached(doc, plan, uses)
    if uncached:
        plan.unsafe.append(
            f"the image would hold {', '.join(uncached)} twice (copied for the install, then "
            "with the sources), and no cache mount takes what it holds out of the image: the "
            "rewrite is larger by its size"
        )
    elif emptied is not None:
        plan.unsafe.append(
            f"{twice}, and `{emptied}` leaves no download cache in the original image for the "
            "cache mount to save: the rewrite is larger"
        )
    elif (linked := linked_cache(doc, anchor, uses)) is not None:
        plan.unsafe.append(
            f"{twice}, and {linked} hard-links the installed files to its download cache, so "
            "the cache costs the original image nothing for the cache mount to save: the "
            "rewrite is larger"
        )
    elif (empty := empty_lock(doc, uses)) is not None:
        plan.unsafe.append(
            f"{twice}, and {empty}, so the install downloads nothing for the cache mount to "
            "take out of the image: the rewrite is larger"
        )
    elif (kept := kept_berry_cache(doc, anchor, uses)) is not None:
        plan.unsafe.append(
            f"{twice}, and {kept}, so no cache mount takes it out of the image to offset the "
            "copy: the rewrite is larger"
        )
    elif (bare := _unmounted(doc, anchor, uses)) is not None:
        plan.unsafe.append(
            f"{twice}, and no safe cache mount takes {bare}'s download cache of line "
            f"{anchor.start_line} out of the image (cache-mount leaves the RUN alone or rates "
            "its mount unsafe), so nothing offsets the copy: the rewrite is larger"
        )
    elif (guarded := header_cache(uses)) is not None:
        plan.unsafe.append(
            f"{twice}, and {guarded} keeps a download in its cache only where the index's "
            "HTTP caching headers allow it (PyPI's do; a mirror or proxy the build reaches "
            "may send none), so the cache mount may have nothing to save: the rewrite may "
            "be larger"
        )


def _unmounted(doc: Document, anchor: Instruction, uses: list[Use]) -> str | None:
    """The manager of ``uses`` whose download cache cache-mount's safe fix of the install RUN
    ``anchor`` leaves in the image (it declines the RUN, rates its mount unsafe, or the
    builder lacks RUN --mount), or None: the copied manifests' second copy is then offset by
    nothing."""
    mounted = safe_cached(doc, anchor)
    ids = dict.fromkeys(m for u in uses for m in u.eco.managers)
    if any(m in mounted for m in ids):
        return None
    return next(iter(ids), None)


def _uncached(doc: Document, plan: Plan, uses: list[Use]) -> list[str]:
    """The copied manifest folders (``.yarn/``) that hold files of the context (not all
    in .dockerignore), which no cache mount offsets."""
    names = {n for u in uses for n in u.eco.uncached}
    return [
        p
        for p, _ in plan.manifests
        if posixpath.basename(p.rstrip("/")) + "/" in names and doc.context.holds(p.rstrip("/"))
    ]
