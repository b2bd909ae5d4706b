"""What a build RUN writes outside the files the runtime stage copies (scratch folders, files a
copied source names), which a runtime started from a fresh base image would lack."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from msdfix.model.args import expand
from msdfix.model.context import Unreadable
from msdfix.model.paths import within
from msdfix.model.program_calls import MAX_SCANNED, source_text
from msdfix.shell.classify import program_args
from msdfix.shell.script import run_script
from msdfix.transforms.build_paths import mkdir_args, resolve, written_words
from msdfix.transforms.split_stages.build_stage import Analysis, Plan, is_source
from msdfix.transforms.split_stages.ownership import OWNERSHIP

SCRATCH_DIRS = ("/tmp", "/var/tmp", "/dev", "/proc")
TEMP_DIRS = ("/tmp/", "/var/tmp/")  # (below them: the folders themselves are the base's)


def check_writes_outside_copies(a: Analysis, plan: Plan) -> None:
    """A build RUN that writes a file outside what the runtime copies (``printf ... >
    /etc/app.conf``, ``mkdir /data``) makes the split unsafe: the runtime starts from a fresh
    base image without it. RUNs the runtime repeats write it again."""
    copied = [plan.moves.get(p, p) for p in plan.copies]
    repeated = a.setup_ids
    kept = _kept_scratch(a)
    named = _source_namer(a)
    for ins in a.stage.of("run"):
        script = run_script(ins, a.doc.text) if id(ins) not in repeated else None
        scope = a.model.fixed_scope(a.stage, ins)
        for command in script.commands if script else []:
            cwd = resolve(command.cwd, a.dirs[id(ins)]) if command.cwd else a.dirs[id(ins)]
            for target in written_words(command):
                word = expand(target, scope)  # `mv /tmp/node_modules $APP` (ENV APP=/app)
                path = resolve(word, cwd) if "$" not in word else None
                if path is not None and path.startswith(SCRATCH_DIRS) and not _kept(path, kept):
                    if not path.startswith(TEMP_DIRS) or not named(path):
                        continue
                if path is None or not any(within(path, c) for c in copied):
                    if plan.unsafe is None:
                        plan.unsafe = f"RUN at line {ins.start_line} writes " + (
                            f"{target}, a path msdfix cannot work out"
                            if path is None
                            else f"{path}, which the runtime does not copy"
                        )
                    return


def _kept_scratch(a: Analysis) -> set[str]:
    """Paths below /tmp or /var/tmp that the build keeps for the program: given an owner or
    mode by a RUN (``mkdir -p /tmp/data && chmod 777 /tmp/data``, ``mkdir -m 777
    /tmp/data``), or named by an ENV, CMD, ENTRYPOINT, VOLUME or WORKDIR. A RUN that makes
    one is not scratch work: the runtime's fresh /tmp lacks it (built: the app's write into
    /tmp/data failed with ENOENT, after ``chmod 777`` and after ``mkdir --mode=777``)."""
    kept: set[str] = set()
    for ins in a.stage.of("run"):
        script = run_script(ins, a.doc.text)
        for command in script.commands if script else []:
            program, args = program_args(command)
            paths, mode = mkdir_args(args) if program == "mkdir" else ([], False)
            if program in OWNERSHIP or mode:
                cwd = resolve(command.cwd, a.dirs[id(ins)]) if command.cwd else a.dirs[id(ins)]
                words = paths if mode else [x for x in args[1:] if not x.startswith("-")]
                kept.update(resolve(x, cwd) for x in words)
    for ins in a.stage.of("env", "cmd", "entrypoint", "volume", "workdir"):
        kept.update(re.findall(r"(?<![\w.$])/[\w.@%+/-]+", ins.args))
    return {posixpath.normpath(p) for p in kept if p.startswith(TEMP_DIRS)}


def _source_namer(a: Analysis) -> Callable[[str], bool]:
    """Whether a source the build copies names a path (``open("/tmp/prom/x")`` names
    /tmp/prom): the program uses it, so the directory a RUN made there is not scratch work
    (built: ``mkdir -p /tmp/prom`` beside pip install, a Flask app writing /tmp/prom/x got
    FileNotFoundError in the split only). Configuration files count as sources (built:
    package.json's ``"start": "node index.js /tmp/uploads"``, ENOENT in the split only). All
    are named when the sources are too many or one cannot be read; none without a build
    context (no evidence either way: scratch)."""
    texts: list[str] = []
    unknown = done = False

    def read() -> None:
        nonlocal unknown, done
        done = True
        files = {rel for c in a.copies for rel in c.copied(a.ctx, "path-namer", _may_name_paths)}
        unknown = len(files) > MAX_SCANNED
        for rel in sorted(files) if not unknown else ():
            try:
                texts.append(source_text(a.ctx, rel))
            except Unreadable:
                unknown = True

    def named(path: str) -> bool:
        if not a.ctx.present:
            return False
        if not done:
            read()
        pattern = re.compile(re.escape(path) + r"(?![\w.-])")
        return unknown or any(path in t and pattern.search(t) for t in texts)

    return named


# Configuration files a program reads paths from, besides its sources; lock files name none.
CONFIG_SUFFIXES = (".json", ".cfg", ".properties", ".xml", ".env")
LOCK_FILES = ("package-lock.json", "npm-shrinkwrap.json", "composer.lock")


def _may_name_paths(rel: str) -> bool:
    """A copied file whose text may name a path the program uses: a source, or a
    configuration file (``.env*`` included) other than a lock file."""
    base = posixpath.basename(rel)
    if base in LOCK_FILES:
        return False
    return is_source(rel) or rel.endswith(CONFIG_SUFFIXES) or base.startswith(".env")


def _kept(path: str, kept: set[str]) -> bool:
    return any(within(path, k) or within(k, path) for k in kept)
