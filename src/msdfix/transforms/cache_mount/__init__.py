"""cache-mount: give package-manager RUNs a BuildKit cache mount.

What it does
    Adds ``--mount=type=cache,target=<dir>`` to each RUN that downloads packages with
    apt-get/apt/aptitude, dnf/yum/microdnf, pip/uv/poetry/pipenv, npm/yarn/pnpm, go, mvn,
    gradle, cargo, bundle/gem, composer or dotnet, with the cache directory the tool really uses
    for the user and environment at that point (USER, HOME, PIP_CACHE_DIR, GOPATH, CARGO_HOME,
    ...), and removes what the mount makes pointless: ``--no-cache-dir``, ``npm cache clean``,
    ``apt-get clean``, ``rm -rf /var/lib/apt/lists/*``. apt keeps its ``.deb`` files in
    ``/var/cache/apt/debs`` on the mount (``-o Dir::Cache::Archives=...`` on the install
    command), out of reach of the official images' ``docker-clean`` hook, so the image's apt
    configuration is not touched.
Why
    When the install layer has to rerun, packages come from the local cache instead of the
    network, and the caches never end up in the image.
Example
    ``RUN pip install --no-cache-dir -r requirements.txt`` becomes
    ``RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt``.
Fix safety
    BuildKit's rule for cache mounts: a build must work with any contents of the cache
    directory, empty included (CI restores layers, never cache mounts). So a directory is
    mounted only where nothing reads it from the image afterwards: apt's lists
    (``/var/lib/apt/lists``) only in a RUN that refreshes them first, and only when no later
    RUN of the stage, or of a stage built FROM it, may install without refreshing (in the final
    image, only where the RUN deletes them itself: containers and images built FROM it may
    install without refreshing); never
    ``/var/lib/apt`` itself (apt records auto-installed packages there). A cleanup is dropped
    only when the directory cannot hold files from an earlier step (or from a base image msdfix
    does not know), because the mount would hide those files from it. Safe otherwise: a cache
    mount only changes where downloads are kept, and BuildKit (Docker 23+, buildx,
    Podman/Buildah) supports it without a ``# syntax=`` line. Unsafe (with the reason shown)
    when the cache is the dependency store (Go modules, Maven, Gradle, Cargo, NuGet) and a
    later step runs a program msdfix cannot see into, and for dnf/yum/microdnf unless the
    install runs with ``--refresh``: their cache holds the repository metadata, which they
    trust until it expires (hours to days, per repository), and Fedora's and RHEL's mirrors
    drop the package versions old metadata names, so a mount filled by an earlier build can
    break the next one with 404s (a fresh image always fetches fresh metadata). Left alone,
    with the reason: apk (it keeps no packages unless ``/etc/apk/cache`` is set up),
    commands msdfix cannot classify where they decide, users or homes it cannot know (an
    unknown base image's user is unknown), yarn Plug'n'Play caches, Windows images, targets
    already mounted, and a store that a step reads offline (``mvn -o``, ``cargo --offline``,
    ``dotnet publish --no-restore``), in that step and in the steps that fill it before, and
    installs that symlink packages into the cache (uv ``--link-mode symlink``, bun
    ``--backend symlink``): on a mount the links would point nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from msdfix.document import Document
from msdfix.ecosystems.node.yarn import plug_n_play, yarn_berry, yarn_classic_spec
from msdfix.ecosystems.registry import MANAGERS
from msdfix.fixes import Applicability, Edit, Finding
from msdfix.model import Stage
from msdfix.shell.classify import program_args
from msdfix.shell.commands import parse_commands
from msdfix.shell.entry import context_script, entry, entry_command, with_start_scripts
from msdfix.syntax import Instruction
from msdfix.syntax.pragmas import ignored_here
from msdfix.transforms.base import Transform, register
from msdfix.transforms.cache_mount.history import History
from msdfix.transforms.cache_mount.plan import plan_run
from msdfix.transforms.cache_mount.render import Plan, flags_text, message

_PROGRAM_WORDS = {p.lstrip("./") for m in MANAGERS for p in m.programs}
# A RUN may name a package manager when its text contains one of these words; a word that
# contains another (``apt-get``, ``cargo``) adds nothing to the search, so it is left out.
_MANAGER_WORDS = re.compile(
    "|".join(
        re.escape(w)
        for w in sorted(_PROGRAM_WORDS)
        if not any(o in w for o in _PROGRAM_WORDS - {w})
    )
)


def _yarn(doc: Document) -> tuple[bool, str | None]:
    """(yarn berry?, why its cache cannot be mounted or None)."""
    if not yarn_berry(doc.context, "", doc.context.read_json("package.json")):
        return False, None
    if plug_n_play(doc.context.read_text(".yarnrc.yml")):
        return True, "yarn Plug'n'Play loads packages from its cache at run time"
    return True, None


def _switched_berry(history: History, ins: Instruction, berry: bool) -> str | None:
    """Why yarn's cache is left alone where the Dockerfile, not the project, makes ``yarn``
    yarn Berry (``corepack prepare yarn@4.1.1 --activate``, ``yarn set version stable``):
    its linker and cache folder are set where msdfix does not look (a bare yarn 4 runs
    Plug'n'Play from its global cache), and its ``yarn cache clean`` empties that cache
    (dropped as yarn 1's, it left yarn 4's cache in the image). None: not switched."""
    switch = None if berry else history.yarn_switch(ins)
    if switch is None or yarn_classic_spec(switch[1]):
        return None
    line, spec = switch[0].start_line, switch[1] or "corepack's default"
    return (
        f"line {line} makes yarn {spec}, whose linker and cache folder the project does not "
        "show (yarn Berry's Plug'n'Play loads packages from its cache at run time)"
    )


def _own_line(doc: Document, ins: Instruction, at: int) -> str | None:
    """The indentation of the RUN's command when it starts a continuation line after the
    RUN's flags (docker init's layout: one ``--mount`` per line); None otherwise."""
    start = max(doc.text.rfind("\n", 0, at), doc.text.rfind("\r", 0, at)) + 1
    indent = doc.text[start:at]
    if start <= ins.start or indent.strip() or not ins.flags:
        return None
    return indent


def _argvs(instructions: Iterable[Instruction]) -> list[list[str]]:
    """argv of the commands of CMD/ENTRYPOINT instructions."""
    found: list[list[str]] = []
    for ins in instructions:
        argv = ins.json_args()
        shell = argv is not None and len(argv) >= 3 and argv[1] == "-c"
        if shell and argv is not None and argv[0].rsplit("/", 1)[-1] in ("sh", "bash", "ash"):
            found += [[program_args(c)[0], *program_args(c)[1]] for c in parse_commands(argv[2])]
        elif argv is not None:
            found.append([a.rsplit("/", 1)[-1] if not a.startswith("./") else a for a in argv])
        else:
            found += [[program_args(c)[0], *program_args(c)[1]] for c in parse_commands(ins.args)]
    return found


def _start_argvs(stage: Stage) -> list[list[str]]:
    """argv of the commands the stage's container starts. An exec-form ENTRYPOINT runs with
    the CMD as its arguments (``ENTRYPOINT ["yarn"]`` + ``CMD ["start"]`` is ``yarn start``,
    not a bare ``yarn``, which installs); the CMD counts on its own too, since an entrypoint
    script passes it on (``exec "$@"``)."""
    entrypoint, cmd = stage.entry()
    if entrypoint is not None and cmd is not None and entrypoint.json_args():
        joined = entry(stage)
        return [*(joined.commands if joined else []), *_argvs([cmd])]
    return _argvs(i for i in (entrypoint, cmd) if i is not None)


def _runtime_prefixes(doc: Document) -> list[list[str]]:
    """argv of the final stage's start commands."""
    final = doc.model.final
    if final is None:
        return []
    found = _start_argvs(final)
    command = entry_command(final)
    for script in command.scripts if command else []:  # docker-entrypoint.sh: apt-get install
        text = context_script(doc.context, script)
        found += [[program_args(c)[0], *program_args(c)[1]] for c in parse_commands(text or "")]
    return with_start_scripts(doc.context, found)


class _StartCommands:
    """argv of the start commands of the images built on each stage: the final image's
    (``final``) when it is one of them, and those of every other stage built FROM it that the
    Dockerfile gives a CMD/ENTRYPOINT (``FROM build AS dev`` + ``CMD ["go", "run", "."]``:
    ``docker build --target dev`` makes it an image that runs go when it starts).

    Which stages are built on which is indexed once per file and each stage's answer kept: a
    walk over every stage and its lineage per RUN was quadratic in the number of stages.
    """

    def __init__(self, doc: Document, final: list[list[str]]) -> None:
        self.doc, self.final = doc, final
        self.built_on: dict[int, list[Stage]] = {}
        for target in doc.model.stages:
            for stage in target.ancestry:
                self.built_on.setdefault(id(stage), []).append(target)
        self.found: dict[int, list[list[str]]] = {}

    def of(self, stage: Stage) -> list[list[str]]:
        """The start commands of the images built on ``stage``, in stage order."""
        if id(stage) not in self.found:
            argvs: list[list[str]] = []
            for target in self.built_on.get(id(stage), []):
                if target is self.doc.model.final:
                    argvs += self.final
                else:
                    argvs += with_start_scripts(self.doc.context, _start_argvs(target))
            self.found[id(stage)] = argvs
        return self.found[id(stage)]


def _images(doc: Document) -> list[Stage]:
    """The images the Dockerfile defines (``Model.images``): what their containers and child
    images may read stays in them as in the final image (built for real: a ``--target dev``
    image lost its apt lists, and ``apt-get install`` in it found no package)."""
    return doc.model.images()


def _planned(doc: Document) -> Iterator[tuple[Instruction, Plan, Finding | None]]:
    """Each package-manager RUN of ``doc`` with cache-mount's plan and the fix it makes of it
    (None: left alone); a planned RUN's mounts count for the RUNs after it."""
    candidates = [
        (stage, ins)
        for stage in doc.model.stages
        for ins in stage.of("run")
        if ins.heredocs or _MANAGER_WORDS.search(ins.logical)
    ]
    if not candidates:  # no RUN names a package manager: nothing to read or plan
        return
    berry, berry_blocker = _yarn(doc)
    history = History(doc, berry)
    starts = _StartCommands(doc, _runtime_prefixes(doc))
    final_chain = {id(s) for image in _images(doc) for s in image.ancestry}
    for stage, ins in candidates:
        script = history.script(ins)
        steps = history.steps(ins)
        if script is None or not steps or not any(s.call for s in steps):
            continue
        runtime = starts.of(stage)
        plan = plan_run(
            doc, history, stage, ins, script, steps, runtime, id(stage) in final_chain,
            berry_blocker or _switched_berry(history, ins, berry),
        )  # fmt: skip
        fix = CacheMount.make_fix(doc, ins, plan)
        if fix is not None:
            history.plan(ins, [m.target for m in plan.mounts])
        yield ins, plan, fix


def safe_cached(doc: Document, ins: Instruction) -> set[str]:
    """The package managers (ids) whose download caches cache-mount's safe fix of the RUN
    ``ins`` mounts, so they leave the image; empty where it leaves the RUN alone, rates its
    mounts unsafe, the builder lacks RUN --mount (``--ignore cache-mount``), cache-mount does
    not run (``--select``), or a pragma turns it off there."""
    if doc.is_windows or not doc.run_mounts or not doc.cache_mounting:
        return set()
    if ignored_here(doc.dockerfile, ins, CacheMount.id):
        return set()
    for planned, plan, fix in _planned(doc):
        if planned is ins:
            if fix is None or fix.fix is None or fix.fix.applicability is not Applicability.SAFE:
                return set()
            return {m.manager.id for m in plan.mounts}
    return set()


@register
class CacheMount(Transform):
    id = "cache-mount"
    title = "Cache package downloads with RUN --mount=type=cache"
    order = 30

    def check(self, doc: Document) -> Iterable[Finding]:
        if doc.is_windows:
            return
        for _, _, fix in _planned(doc):
            if fix is not None:
                yield fix

    @classmethod
    def make_fix(cls, doc: Document, ins: Instruction, plan: Plan) -> Finding | None:
        """The fix (or the note) for one planned RUN."""
        if not plan.mounts:
            if plan.notes:  # explain why this package-manager RUN is left alone
                return doc.note(cls.id, ins, "; ".join(plan.notes))
            return None
        at = ins.physical(ins.args_start)
        edits = [*plan.edits, Edit(at, at, flags_text(doc, plan.mounts, _own_line(doc, ins, at)))]
        applicability = Applicability.UNSAFE if plan.unsafe_reason else Applicability.SAFE
        return doc.fix(cls.id, ins, message(plan), edits, applicability)
