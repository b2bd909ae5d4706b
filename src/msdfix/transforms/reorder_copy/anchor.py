"""Which RUN after a whole-tree COPY installs dependencies, and what reads the copied tree."""

from __future__ import annotations

import posixpath
import re

from msdfix.document import Document
from msdfix.ecosystems.base import Ecosystem, positionals
from msdfix.ecosystems.node.config_paths import (
    COPIED_CONFIG,
    NODE_CACHE_ENV,
    NODE_CACHE_KEYS,
    NODE_PATH_KEYS,
    NPM_CONFIG_FILE_ENV,
    NPM_PATH_ENV,
    YARN_CONFIG_FILE_ENV,
    YARN_PATH_ENV,
    node_options_files,
    path_options,
)
from msdfix.ecosystems.python import PIP
from msdfix.ecosystems.python.requirements import (
    PIP_CONFIG_LOCATION,
    UV_CACHE_ENV,
    UV_CACHE_OPTIONS,
    is_local,
    local_location,
    pip_config_locations,
    uv_local_location,
)
from msdfix.ecosystems.registry import BY_ID, INSTALL_SUBCOMMANDS
from msdfix.model import Stage
from msdfix.model.args import expand
from msdfix.model.copies import copy_destination, copy_sources
from msdfix.model.paths import within
from msdfix.model.users import is_root
from msdfix.shell.classify import env_assignments, exports, program_args
from msdfix.shell.commands import Command
from msdfix.shell.script import RunScript, run_script
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values, unquote
from msdfix.transforms.reorder_copy.model import (
    DIR_OPTS,
    INDEX_OPTS,
    MANAGER_ECO,
    PATH_TOOLS,
    PIP_PATH_OPTS,
    PIP_VALUE_OPTS,
    SYSTEM,
    UNKNOWN,
    VALUE_OPTS,
    VERSION_ARGS,
    Reads,
    Skip,
    Source,
    Use,
    join_path,
    manager_of,
)


def find_anchor(
    doc: Document, stage: Stage, source: Source, later: list[Instruction], workdirs: dict[int, str]
) -> tuple[Instruction | None, list[Use], RunScript | None, Instruction | None]:
    """The first RUN after the copy that installs (or builds) from the copied tree."""
    blocker: Instruction | None = None
    selfish: str | None = None
    reading: str | None = None
    for ins in later:
        if ins.cmd != "run":
            if ins.cmd in ("copy", "add") and touches(doc, stage, source, ins, workdirs[id(ins)]):
                blocker = blocker or ins
            continue
        script = run_script(ins, doc.text)
        if script is None:
            blocker = blocker or ins
            continue
        scope = {k: v for k, v in doc.model.stage_scope(stage, ins).items() if v is not None}
        by_arg = frozenset(k for k, v in doc.model.fixed_scope(stage, ins).items() if v is None)
        declared = exports(script.text)  # `export BUNDLE_GEMFILE=x && bundle install`
        uses: list[Use] = []
        readers = False
        for command in script.commands:
            exported = {name: value for at, name, value in declared if at < command.start}
            dotenv = _pipenv_dotenv(doc, command, source, workdirs[id(ins)], scope)
            dotenv |= _sourced_copy(doc, stage, script, command, ins)
            kind = classify_use(
                command,
                source,
                workdirs[id(ins)],
                {**scope, **dotenv, **exported},
                by_arg - exported.keys() - dotenv.keys(),
            )
            if isinstance(kind, Use) and (config := user_config(doc, kind, source, scope)):
                kind = Reads(config)
            if isinstance(kind, Use) and (config := copied_config(doc, stage, kind, source, ins)):
                kind = Reads(config)
            if isinstance(kind, Use) and (cache := _cache_in_tree(doc, kind, source, scope)):
                kind = Reads(cache)
            if isinstance(kind, Use):
                uses.append(kind)
            elif kind != "harmless":
                readers = True
                if kind == "self" and selfish is None and blocker is None:
                    selfish = (
                        f"`{' '.join(command.argv)}` (line {ins.start_line}) installs the "
                        "project itself"
                    )
                if isinstance(kind, Reads) and reading is None and blocker is None:
                    said = (
                        f"installs into {kind.what}, inside the copied files, where the "
                        "full COPY after it would land on what it installed"
                        if kind.writes
                        else f"reads {kind.what} from the copied files"
                    )
                    reading = (
                        f"`{' '.join(command.argv)}` (line {ins.start_line}) {said}, so it "
                        "cannot move before the COPY"
                    )
        if uses:
            return ins, uses, script, blocker
        if "$(" in ins.logical or "`" in ins.logical:
            readers = True  # ``x=$(cat VERSION)``: a command msdfix does not see
        if readers:
            blocker = blocker or ins
    if selfish and not _installs_before(doc, stage, source.ins):
        raise Skip(
            f"{selfish}, which needs the sources: copy and install the dependencies first by hand"
        )
    if reading:
        raise Skip(reading)
    return None, [], None, None


# User-level configuration files a tool reads under HOME or XDG_CONFIG_HOME; npm's and
# yarn's (~/.npmrc, ~/.yarnrc) come along with the manifests when the tree lands at HOME.
_USER_CONFIGS = {
    "pip": ("{xdg}/pip/pip.conf", "{home}/.pip/pip.conf"),
    "pipenv": ("{xdg}/pip/pip.conf", "{home}/.pip/pip.conf"),
    "uv": ("{xdg}/uv/uv.toml",),
}


def user_config(doc: Document, use: Use, source: Source, scope: dict[str, str]) -> str | None:
    """The tool's user configuration file when the copied tree brings it (``WORKDIR /root``
    + ``COPY . .`` with ``.config/pip/pip.conf``; ``ENV HOME=/app``): the install reads it,
    so it cannot move before the COPY."""
    manager = manager_of(program_args(use.command)[0])
    patterns = _USER_CONFIGS.get(str(manager), ())
    home = use.command.assignments.get("HOME") or scope.get("HOME") or "/root"
    xdg = scope.get("XDG_CONFIG_HOME") or posixpath.join(home, ".config")
    for pattern in patterns:
        path = posixpath.normpath(pattern.format(home=expand(home, scope), xdg=expand(xdg, scope)))
        if "$" in path or not within(path, source.dest):
            continue
        rel = posixpath.relpath(path, source.dest)
        if doc.context.exists(posixpath.normpath(posixpath.join(source.src, rel))):
            return f"{path} ({manager}'s user configuration)"
    return None


_CONFIG_LINE = re.compile(rf"(?:{PIP_CONFIG_LOCATION.pattern})\s*[=:]")
# The tools whose configuration an install reads: pip's (pip, and pipenv through pip) and
# the node managers' (.npmrc, .yarnrc: ``yarn config set`` writes ~/.yarnrc).
_CONFIG_FAMILY = {
    "pip": "pip", "pipenv": "pip", "uv": "uv", "npm": "node", "yarn": "node", "pnpm": "node",
}  # fmt: skip
# The configuration files of each family that a COPY/ADD may bring to where the tool reads
# them (/etc/pip.conf, ~/.config/pip/pip.conf; uv's /etc/uv/uv.toml, ~/.config/uv/uv.toml;
# npm's ~/.npmrc, /usr/local/etc/npmrc or $NPM_CONFIG_USERCONFIG, yarn's ~/.yarnrc).
_COPIED_CONFIGS = {
    "pip": ("pip.conf", "pip.ini"),
    "uv": ("uv.toml",),
    "node": (".npmrc", "npmrc", ".yarnrc", "yarnrc", ".yarnrc.yml", "yarnrc.yml"),
}
# Node settings naming a file or folder an install reads (COPIED_CONFIG's, in
# ecosystems.node.config_paths).
_NODE_PATH_KEYS = frozenset(NODE_PATH_KEYS + NODE_CACHE_KEYS)


def copied_config(
    doc: Document, stage: Stage, use: Use, source: Source, run: Instruction
) -> str | None:
    """A path of the copied tree that the install's configuration names, set before it
    moves: a RUN writes it (``pip config set global.find-links /app/wheels``, ``yarn config
    set yarn-offline-mirror /app/mirror``), or a COPY/ADD brings a pip.conf naming it from
    the build context (``COPY pip.conf /etc/pip.conf`` with ``find-links = /app/wheels``).
    The tools read these settings like their command-line options, so the install cannot
    move before the COPY. A pip.conf copied anywhere counts, as one msdfix cannot read does."""
    family = _CONFIG_FAMILY.get(str(manager_of(program_args(use.command)[0])))
    if family is None:
        return None
    for st in stage.lineage:
        for ins in st.of("run"):
            if st is not stage or ins.start <= run.start:
                written = _config_written(doc, ins, source, family)
                if written is not None:
                    return written
        for ins in st.of("copy", "add") if family in _COPIED_CONFIGS else []:
            if ins is source.ins or ins.flag("from") or (st is stage and ins.start > run.start):
                continue
            copied = _copied_config(doc, st, ins, source, family)
            if copied is not None:
                return copied
    return None


def _copied_config(
    doc: Document, stage: Stage, ins: Instruction, source: Source, family: str
) -> str | None:
    """A path of the copied tree named by a pip.conf/pip.ini (for uv, a local location
    named by a uv.toml; for the node managers, an .npmrc/.yarnrc's path setting) that the
    COPY/ADD brings from the build context."""
    ctx = doc.context
    names = _COPIED_CONFIGS[family]
    sources = copy_sources(stage, ins, doc.model)
    for rel in [r for n in names for r in ctx.glob(f"*{n}")]:
        if posixpath.basename(rel) not in names or not any(s.copies(rel) for s in sources):
            continue
        text = ctx.read_text(rel)
        if text is None:
            return f"{rel} (configuration msdfix cannot read)"
        if family == "uv":
            named = uv_local_location(text, rel)  # "<file> sets <key> to <location>"
            if named is not None:
                return f"{named.rpartition(' to ')[2]} (set by {rel}, uv's configuration)"
            continue
        if family == "node":
            named = _node_config_named(doc, text, source)
            if named is not None:
                return f"{named} (named by {rel}, a configuration of the node managers)"
            continue
        paths = pip_config_locations(text)
        if paths is None:
            return f"{rel} (pip's configuration, which msdfix cannot read)"
        inside = next((p for p in paths if not outside(p, source)), None)
        if inside is not None:
            return f"{inside} (named by {rel}, pip's configuration)"
    return None


def _node_config_named(doc: Document, text: str, source: Source) -> str | None:
    """A path of the copied tree that a copied .npmrc/.yarnrc/.yarnrc.yml sets (``cafile=``,
    ``yarn-offline-mirror``, or a ``cache=`` folder the context holds): the managers read it
    as they read the options."""
    for key, value in COPIED_CONFIG.findall(text):
        path = _config_path("node", key, value)
        if path is None or outside(path, source):
            continue
        if key not in NODE_CACHE_KEYS or _tree_holds(doc, source, path, source.dest):
            return path
    return None


# The download caches an install may resolve from alone (offline): their variables and options.
_CACHE_SETTINGS = {
    "npm": (NODE_CACHE_ENV, NODE_CACHE_KEYS),
    "yarn": (NODE_CACHE_ENV, NODE_CACHE_KEYS),
    "pnpm": (NODE_CACHE_ENV, NODE_CACHE_KEYS),
    "uv": (UV_CACHE_ENV, tuple(o[2:] for o in UV_CACHE_OPTIONS)),
}


def _cache_in_tree(doc: Document, use: Use, source: Source, scope: dict[str, str]) -> str | None:
    """``VAR=folder`` or ``--option folder`` when npm/yarn/pnpm's or uv's download cache is
    a folder of the copied tree that the build context holds (a cache the repository keeps for
    offline installs): the moved install would find it empty."""
    settings = _CACHE_SETTINGS.get(str(manager_of(program_args(use.command)[0])))
    if settings is None:
        return None
    variables, keys = settings
    assigned = {**env_assignments(use.command), **use.command.assignments}
    # relative: project_cache's
    named = [(f"{o} ", v) for o, v in path_options(use.args, keys) if v.startswith("/")]
    for var in variables:
        set_to = assigned.get(var) or scope.get(var)
        named += [(f"{var}=", set_to)] if set_to else []
    for name, value in named:
        path = expand(value, scope)
        if (
            "$" not in path
            and not path.startswith("~")
            and _tree_holds(doc, source, path, use.dest)
        ):
            return f"{name}{value} (a package cache the build context holds)"
    return None


def _tree_holds(doc: Document, source: Source, path: str, cwd: str) -> bool:
    """The build context holds files at ``path`` (absolute, or relative to ``cwd``) of the
    tree the COPY brings."""
    full = posixpath.normpath(posixpath.join(cwd, path))
    if not within(full, source.dest):
        return False
    rel = posixpath.normpath(posixpath.join(source.src, posixpath.relpath(full, source.dest)))
    # exists: the walk behind holds leaves out node_modules, which yarn 1's cache holds
    return doc.context.holds(rel) or doc.context.exists(rel)


def _config_written(doc: Document, ins: Instruction, source: Source, family: str) -> str | None:
    """A path of the copied tree that a RUN writes into the tools' configuration (``pip
    config set KEY VALUE``, ``yarn config set KEY VALUE``, ``npm config set KEY=VALUE``), or
    the RUN's own text when it prints a location into a pip.conf."""
    script = run_script(ins, doc.text)
    for command in script.commands if script is not None else []:
        program, args = program_args(command)
        if _CONFIG_FAMILY.get(str(manager_of(program))) != family or args[:1] != ["config"]:
            continue
        words = positionals(args[1:], frozenset({"--editor", "--location"}))
        if len(words) == 2 and "=" in words[1]:
            words = [words[0], *words[1].split("=", 1)]
        if len(words) < 3 or words[0] != "set":
            continue
        path = _config_path(family, words[1], words[2])
        if path is not None and not outside(path, source):
            return f"{path} (set by `{program} config set` on line {ins.start_line})"
    text = ins.logical
    pip_conf = any(n in text for n in _COPIED_CONFIGS["pip"]) and _CONFIG_LINE.search(text)
    if family == "pip" and pip_conf:
        return f"a location line {ins.start_line} writes into pip's configuration"
    return None


def _config_path(family: str, key: str, value: str) -> str | None:
    """The local path a configuration setting names (None: a URL, or no path setting)."""
    if family == "pip":
        name = key.rpartition(".")[2]
        return local_location(value) if PIP_CONFIG_LOCATION.fullmatch(name) else None
    if key not in _NODE_PATH_KEYS or value.startswith(("http:", "https:", "~", "$")):
        return None
    return re.sub(r"^file:(//)?", "", value)


def _installs_before(doc: Document, stage: Stage, copy: Instruction) -> bool:
    """True when a RUN before ``copy`` already runs a language package manager."""
    for ins in stage.instructions:
        if ins is copy:
            break
        script = run_script(ins, doc.text) if ins.cmd == "run" else None
        for command in script.commands if script else []:
            if MANAGER_ECO.get(str(manager_of(program_args(command)[0]))) is not None:
                return True
    return False


def touches(doc: Document, stage: Stage, source: Source, ins: Instruction, workdir: str) -> bool:
    """True when a COPY/ADD between writes into (or over) the copied tree."""
    try:
        _, values, _ = instruction_values(ins)
    except Exception:
        return True
    if not values:
        return True
    dest = unquote(expand(values[-1], doc.model.fixed_scope(stage, ins)), ins.escape)
    if "$" in dest:
        return True
    target = join_path(workdir, dest)
    return within(target, source.dest) or within(source.dest, target)


def cwd_of(command: Command, workdir: str, scope: dict[str, str]) -> str | None:
    if command.cwd is None:
        return workdir
    cwd = expand(command.cwd, scope)
    if "$" in cwd or cwd.startswith(("~", "-")):
        return None
    return join_path(workdir, cwd)


def classify_use(
    command: Command,
    source: Source,
    workdir: str,
    scope: dict[str, str],
    by_arg: frozenset[str] = frozenset(),
) -> Use | Reads | str:
    """'harmless', 'reader', 'self' (installs the project), a Use for commands that read
    dependency manifests, or Reads for an install that reads other copied files. ``by_arg``:
    the variables a build argument may set."""
    program, args = program_args(command)
    if not program or program == "cd":
        return "harmless"
    for redirect in command.redirects:
        bare = redirect.strip().lstrip("0123456789")
        if bare.startswith(("<<", "<&", "<(")):
            continue  # a here-document or here-string, a descriptor, a process
        target = re.sub(r"^&?[<>]+\|?\s*", "", bare)
        if target.startswith("&"):
            continue
        if not outside(expand(target, scope), source):
            return "reader"  # writes into the tree, or reads from it (``< Aptfile``)
    if any("$(" in w or "`" in w for w in [*command.argv, *command.assignments.values()]):
        return "reader"  # a command substitution runs a command msdfix does not classify
    if args and all(a in VERSION_ARGS for a in args):
        return "harmless"
    if program in SYSTEM:
        named = next((a for a in args if _names_tree(a, source, scope)), None)
        return "harmless" if named is None else "reader"
    if program in PATH_TOOLS:
        if program == "curl":
            return (
                "reader"
                if any(a.startswith(("-o", "-O", "--output", "--remote")) for a in args)
                else "harmless"
            )
        if program == "wget":
            return (
                "harmless"
                if any(a in ("-qO-", "-O-") for a in args) or "-O -" in " ".join(args)
                else "reader"
            )
        paths = [a for a in args if not a.startswith("-")]
        if program in ("chown", "chgrp", "chmod") and paths:
            paths = paths[1:]
        return "harmless" if all(outside(expand(p, scope), source) for p in paths) else "reader"
    manager = manager_of(program)
    if manager is None:
        return "reader"
    cwd = cwd_of(command, workdir, scope)
    if cwd is None:
        return "reader"
    env = _reads_through_env(manager, command, source, scope, by_arg)
    if env is not None:
        return Reads(env)
    return _classify_tool(manager, program, args, command, source, cwd)


# Environment variables that make pip or uv read files (wheel directories, indexes, constraints,
# config); pipenv runs pip in its environment.
PATH_ENV = {
    "pip": (
        "PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT",
        "PIP_REQUIREMENT", "PIP_CONFIG_FILE", "PIP_TARGET", "PIP_CERT", "PIP_CLIENT_CERT",
        "PIP_SRC",
    ),
    "uv": (
        "UV_FIND_LINKS", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX",
        "UV_CONSTRAINT", "UV_OVERRIDE", "UV_CONFIG_FILE", "UV_BUILD_CONSTRAINT", "UV_PROJECT",
        "UV_WORKING_DIRECTORY", "UV_ENV_FILE", "SSL_CLIENT_CERT",
    ),
    "pipenv": ("PIPENV_PIPFILE",),
    "npm": NPM_CONFIG_FILE_ENV + NPM_PATH_ENV,
    "yarn": YARN_CONFIG_FILE_ENV + YARN_PATH_ENV,
    # npm, yarn and pnpm are node programs: NODE_OPTIONS=--require ./tracing.js loads a file
    "node": ("NODE_OPTIONS",),
    "pdm": ("PDM_PROJECT",),
    # the manifest (BUNDLE_GEMFILE, COMPOSER) or package folder they install from or into
    "bundler": ("BUNDLE_GEMFILE", "BUNDLE_CACHE_PATH"),
    "composer": ("COMPOSER", "COMPOSER_VENDOR_DIR"),
    # Go: a file:// module proxy, an alternate go.mod (-modfile), the go env file
    "go": ("GOPROXY", "GOFLAGS", "GOENV"),
    # the certificates and credentials every HTTPS download of pip, uv and pipenv reads
    "tls": ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "NETRC"),
}  # fmt: skip
ENV_USERS = {
    "pip": ("pip", "tls"), "uv": ("uv", "pip", "tls"), "pipenv": ("pipenv", "pip", "tls"),
    "pdm": ("pdm", "tls"), "poetry": ("tls",), "npm": ("npm", "node"), "pnpm": ("npm", "node"),
    "yarn": ("npm", "yarn", "node"), "go": ("go",), "bundler": ("bundler",),
    "composer": ("composer",),
}  # fmt: skip
# Index options and variables whose value may name the index: ``name=url`` (uv).
NAMED_INDEX = {"--index", "--default-index", "UV_INDEX", "UV_DEFAULT_INDEX"}


def read_location(option: str, value: str) -> str | None:
    """The path an index, find-links or file option (or variable) ``option`` reads, or None
    when ``value`` is a remote URL."""
    if option in NAMED_INDEX:
        value = re.sub(r"^[\w.-]+=(?=\S)", "", value)
    return local_location(value)


def _reads_through_env(
    manager: str,
    command: Command,
    source: Source,
    scope: dict[str, str],
    by_arg: frozenset[str] = frozenset(),
) -> str | None:
    """``VAR=value`` when pip/uv read a path of the copied tree named by an environment
    variable (``PIP_FIND_LINKS=/app/wheels``, ``PIP_EXTRA_INDEX_URL=file:///app/simple``): the
    install cannot move before the copy. The command's own ``VAR=x``/``env VAR=x`` count; a
    variable a build argument may set (``ENV BUNDLE_GEMFILE=/app/${GEMFILE}``) is unknown
    when it names a file (or its default is a local path)."""
    assigned = {**env_assignments(command), **command.assignments}
    for var in [v for m in ENV_USERS.get(manager, ()) for v in PATH_ENV[m]]:
        value = assigned.get(var) or scope.get(var) or ""
        if var in by_arg and var not in assigned and _names_file(var, value):
            return f"{var} (a build argument may set it)"
        for part in _env_parts(var, value):
            path = read_location(var, expand(part, scope))
            if path is not None and not outside(path, source):
                return f"{var}={part}"
    return None


# Variables that name an index, a proxy, options or credentials rather than a project file: a
# build argument setting them (``ARG PIP_INDEX_URL``) names a file only when its default does.
_NOT_FILE = re.compile(r"INDEX|URL|PROXY|FLAGS|OPTIONS|CERT|CA_BUNDLE|NETRC")


def _names_file(var: str, value: str) -> bool:
    """``var`` (which a build argument may set) may name a file or folder of the project."""
    return not _NOT_FILE.search(var) or any(
        read_location(var, p) is not None for p in _env_parts(var, value)
    )


_DEFAULT_MANIFEST = {"BUNDLE_GEMFILE": "Gemfile", "COMPOSER": "composer.json"}
# `bundle config set [--local] KEY VALUE` keys that name a file or folder of the project.
_BUNDLE_PATH_KEYS = frozenset({"cache_path", "gemfile", "BUNDLE_CACHE_PATH", "BUNDLE_GEMFILE"})


def _env_parts(var: str, value: str) -> list[str]:
    """The locations a variable's value lists: Go's GOPROXY is a ``,``/``|`` list where only
    ``file:`` entries are paths (``direct``, ``off`` are keywords), GOFLAGS names a path only
    in ``-modfile=``, GOENV is a file (or ``off``); the other tools' values are
    space-separated locations."""
    if var == "GOPROXY":
        return [p for p in re.split(r"[,|]", value) if p.startswith("file:")]
    if var == "GOFLAGS":
        return [p.split("=", 1)[1] for p in value.split() if p.startswith("-modfile=")]
    if var in _DEFAULT_MANIFEST:  # naming the default manifest changes nothing
        return [] if posixpath.basename(value) in ("", _DEFAULT_MANIFEST[var]) else [value]
    if var == "GOENV":
        return [] if value in ("", "off") else [value]
    if var == "NODE_OPTIONS":
        return node_options_files(value)
    return value.split()


_DOTENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_]\w*)\s*=\s*(.*?)\s*$")
_PATH_VARS = frozenset(v for m in ENV_USERS["pipenv"] for v in PATH_ENV[m])


def _sourced_copy(
    doc: Document, stage: Stage, script: RunScript, command: Command, run: Instruction
) -> dict[str, str]:
    """The variables that a file the RUN sources before ``command`` (``. /etc/build.env``)
    sets, where an earlier COPY/ADD of one file brought it from the build context: the
    shell runs it, so ``PIP_FIND_LINKS=/app/wheels`` there reaches the install."""
    pairs: dict[str, str] = {}
    for earlier in script.commands:
        argv = earlier.argv
        if earlier.start >= command.start or len(argv) < 2 or argv[0] not in (".", "source"):
            continue
        text = _copied_file(doc, stage, argv[1], run)
        for line in (text or "").splitlines():
            found = _DOTENV_LINE.match(line)
            if found is not None:
                pairs[found.group(1)] = found.group(2).strip("\"'")
    return pairs


def _copied_file(doc: Document, stage: Stage, path: str, run: Instruction) -> str | None:
    """The text of the context file that a one-source COPY/ADD before ``run`` puts at
    ``path`` in the image, or None."""
    for st in stage.lineage:
        for ins in st.of("copy", "add"):
            if ins.flag("from") or (st is stage and ins.start > run.start):
                continue
            values = instruction_values(ins)[1]
            if len(values) != 2 or "$" in values[0] or "://" in values[0]:
                continue
            dest = copy_destination(doc.model, st, ins)
            if dest.endswith("/"):
                dest = posixpath.join(dest, posixpath.basename(values[0]))
            if posixpath.normpath(dest) == posixpath.normpath(path):
                return doc.context.read_text(posixpath.normpath(values[0]))
    return None


def _pipenv_dotenv(
    doc: Document, command: Command, source: Source, workdir: str, scope: dict[str, str]
) -> dict[str, str]:
    """The variables pipenv loads from the project's ``.env`` (or PIPENV_DOTENV_LOCATION)
    before it runs pip, with relative paths made absolute against the project: a value
    such as ``PIP_FIND_LINKS=./wheels`` (or ``/app/wheels``) names the copied tree."""
    if manager_of(program_args(command)[0]) != "pipenv":
        return {}
    if str(scope.get("PIPENV_DONT_LOAD_ENV", "")).strip().lower() in ("1", "true", "yes", "on"):
        return {}
    cwd = cwd_of(command, workdir, scope)
    project = project_of(source, cwd) if cwd is not None else None
    name = scope.get("PIPENV_DOTENV_LOCATION") or ".env"
    if cwd is None or project is None or name.startswith(("/", "~", "$")):
        return {}
    pairs: dict[str, str] = {}
    for line in (doc.context.read_text(posixpath.join(project, name)) or "").splitlines():
        found = _DOTENV_LINE.match(line)
        if found is None or found.group(1) not in _PATH_VARS:
            continue
        words = found.group(2).strip("\"'").split()
        pairs[found.group(1)] = " ".join(
            w if w.startswith(("/", "~", "$")) or "://" in w else join_path(cwd, w) for w in words
        )
    return pairs


# Files a system package manager installs from the disk (``apt-get install ./x.deb``).
_PACKAGE_FILE = re.compile(r"\.(?:deb|rpm|apk|gem)$")


# A ``NAME=`` prefix of a configuration setting (``Dir::Cache::Archives=``, ``pkg=``): the
# path it may name is the value after it.
_SETTING = re.compile(r"[A-Za-z_][\w:.+-]*=")


def _names_tree(arg: str, source: Source, scope: dict[str, str]) -> bool:
    """An argument (or an option's ``=value``) that may name a path of the copied tree: a
    path not shown to be outside it, or a package file (``./vendor/x.deb``, ``x.rpm``)."""
    value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
    setting = _SETTING.match(value)  # apt's ``-o Dir::Cache::Archives=/var/cache/apt/debs``
    if setting:
        value = value[setting.end() :]
    if "://" in value or value.startswith("-"):
        return False
    if not ("/" in value or value.startswith("~") or _PACKAGE_FILE.search(value)):
        return False
    return not outside(expand(value, scope), source)


def outside(path: str, source: Source) -> bool:
    """True for an absolute path that is neither inside nor above the copied tree."""
    if not path.startswith("/") or "$" in path:
        return False
    clean = posixpath.normpath(re.split(r"[*?\[]", path)[0] or "/")
    return not (within(clean, source.dest) or within(source.dest, clean))


def project_of(source: Source, cwd: str) -> str | None:
    if not within(cwd, source.dest):
        return None
    rel = posixpath.relpath(cwd, source.dest)
    return posixpath.normpath(posixpath.join(source.src, rel))


def _classify_tool(
    manager: str, program: str, args: list[str], command: Command, source: Source, cwd: str
) -> Use | Reads | str:
    eco = MANAGER_ECO.get(manager)
    positional = [a for a in args if not a.startswith("-")]
    sub = positional[0] if positional else ""
    if manager == "uv" and sub == "pip":
        return _classify_pip(PIP, args[args.index("pip") + 1 :], command, source, cwd)
    if manager == "pip":
        return _classify_pip(PIP, args, command, source, cwd)
    if eco is None:
        system = manager in ("apt", "apk", "dnf", "yum", "gem")
        return (
            "harmless" if system and not any(_names_tree(a, source, {}) for a in args) else "reader"
        )
    tool = BY_ID[manager]
    global_ = sub in tool.global_markers or any(
        m in args for m in tool.global_markers if m.startswith("-")
    )
    if any(a in DIR_OPTS or a.split("=")[0] in DIR_OPTS for a in args) and manager not in (
        "nuget",
    ):
        if not global_:
            return "reader"
    project = project_of(source, cwd)
    if tool.inert_subcommands:
        if manager == "bundler" and sub == "config" and _BUNDLE_PATH_KEYS & set(positional):
            return "reader"  # the install then reads that file or folder of the tree
        if global_ or sub in tool.inert_subcommands:
            return "harmless"
        if sub in tool.tidy_subcommands:
            return "harmless" if project is not None else "reader"
        if sub in INSTALL_SUBCOMMANDS[manager] and _positional(args) == ([sub] if sub else []):
            if (named := _node_option_path(manager, args, source)) is not None:
                return Reads(named)
            return Use(eco, command, args, project, cwd) if project is not None else "harmless"
        return "reader"
    if manager == "uv":
        if sub == "sync" and any(
            a in ("--no-install-project", "--no-install-workspace", "--only-deps") for a in args
        ):
            return Use(eco, command, args, project, cwd) if project is not None else "harmless"
        if sub in ("tool", "python", "venv", "cache"):
            return "harmless"
        return "self" if sub == "sync" and project is not None else "reader"
    if manager == "go":
        if positional[:2] in (["mod", "download"], ["mod", "verify"]) or sub == "env":
            if sub == "env":
                return "harmless"
            return Use(eco, command, args, project, cwd) if project is not None else "harmless"
        if sub == "install" and positional[1:] and all("@" in p for p in positional[1:]):
            return "harmless"
        if sub in eco.build_subcommands and project is not None:
            return Use(eco, command, args, project, cwd, build=True)
        return "reader"
    if manager == "cargo":
        if sub == "install" and "--path" not in args and positional[1:]:
            return "harmless"
        if sub == "fetch" and project is not None:
            return Use(eco, command, args, project, cwd)
        if sub in eco.build_subcommands and project is not None:
            return Use(eco, command, args, project, cwd, build=True)
        return "reader"
    if manager == "maven":
        if any(p.startswith("dependency:") for p in positional) and all(
            p.startswith("dependency:") for p in positional
        ):
            return Use(eco, command, args, project, cwd) if project is not None else "reader"
        if any(p in eco.build_subcommands for p in positional) and project is not None:
            return Use(eco, command, args, project, cwd, build=True)
        return "reader"
    if manager == "gradle":
        if positional == ["dependencies"] and project is not None:
            return Use(eco, command, args, project, cwd)
        if (
            any(p.split(":")[-1] in eco.build_subcommands for p in positional)
            and project is not None
        ):
            return Use(eco, command, args, project, cwd, build=True)
        return "reader"
    if manager == "nuget":
        if sub == "tool" and global_:
            return "harmless"
        if sub == "restore" and project is not None and len(positional) <= 2:
            target = positional[1] if len(positional) == 2 else None
            if target is not None and (target.startswith("/") or ".." in target or "$" in target):
                return "reader"
            return Use(eco, command, args, project, cwd)
        return "reader"
    return "reader"


def _node_option_path(manager: str, args: list[str], source: Source) -> str | None:
    """``--cache /app/npm-cache`` when an npm/yarn/pnpm option names a path of the copied
    tree (a cache, offline mirror or CA file the install reads)."""
    if manager not in ("npm", "yarn", "pnpm"):
        return None
    for option, value in path_options(args):
        if option[2:] in NODE_CACHE_KEYS:
            continue  # _cache_in_tree's: only a folder the context holds
        path = _config_path("node", option[2:], value)
        if path is not None and not outside(path, source):
            return f"{option} {value}"
    return None


def _positional(args: list[str]) -> list[str]:
    return positionals(args, VALUE_OPTS)


def _classify_pip(
    eco: Ecosystem, args: list[str], command: Command, source: Source, cwd: str
) -> Use | Reads | str:
    if not args or args[0] not in ("install", "sync"):
        return (
            "harmless"
            if args and args[0] in ("config", "cache", "list", "freeze", "--version")
            else "reader"
        )
    files: list[str] = []
    local = False
    reads: str | None = None
    target: str | None = None
    i = 1
    while i < len(args):
        arg = args[i]
        value = args[i + 1] if i + 1 < len(args) else ""
        name, eq, inline = arg.partition("=")
        if "$" in arg and not arg.startswith("-"):
            # ``pip install -r requirements.txt $EXTRA``: a build argument may make it
            # ``-r requirements-dev.txt`` or ``-e .``, files that only the COPY brings
            return Reads(f"`{arg}` (a build argument may make it name files)")
        if arg in ("-r", "--requirement", "-c", "--constraint") or (
            eq and name in ("--requirement", "--constraint")
        ):
            files.append(inline if eq else value)
            i += 1 if eq else 2
            continue
        if re.match(r"^-[rc][^-]", arg):
            files.append(arg[2:])
        elif arg in ("-e", "--editable"):
            local = local or (is_local(value) and not outside(value, source))
            i += 1
        elif name in INDEX_OPTS:  # an index or wheel folder: a path (file: URL) of the tree?
            location = inline if eq else value
            path = read_location(name, location)
            full = join_path(cwd, path or "")
            if path is not None and ("$" in path or not outside(full, source)) and reads is None:
                reads = f"{name} {location}"
            i += 0 if eq else 1
        elif name in PIP_PATH_OPTS:  # a target in the tree: the full COPY lands on it
            path = inline if eq else value
            lands = within(join_path(cwd, path), source.dest)
            if lands or is_local(path) and not path.startswith("/"):
                target = target or f"{path} ({name})"
            i += 0 if eq else 1
        elif arg in PIP_VALUE_OPTS:
            i += 1
        elif not arg.startswith("-") and not (args[0] == "sync" and arg.endswith((".txt", ".in"))):
            local = local or (is_local(arg) and not outside(arg, source))
        elif args[0] == "sync" and not arg.startswith("-"):
            files.append(arg)
        i += 1
    if local:
        return "self" if within(cwd, source.dest) else "reader"
    if target is not None:
        return Reads(target, writes=True)
    if reads is not None:
        return Reads(reads)
    paths = [join_path(cwd, f) for f in files if "$" not in f]
    if len(paths) != len(files):
        return "reader"
    inside = [p for p in paths if within(p, source.dest)]
    if not inside:
        return "harmless"
    project = project_of(source, cwd)
    use = Use(eco, command, args, project or source.src, cwd)
    use.files = [
        posixpath.normpath(posixpath.join(source.src, posixpath.relpath(p, source.dest)))
        for p in inside
    ]
    return use


def check_between(source: Source, ins: Instruction, user: str | None, after: str) -> None:
    """Raise Skip when the full COPY cannot move past ``ins`` (run as ``user``, None when
    unknown; ``after`` is the workdir once it ran)."""
    line = f"line {ins.start_line}"
    if ins.cmd == "workdir" and source.relative:
        raise Skip(
            f"the COPY at line {source.ins.start_line} has a relative destination and WORKDIR "
            f"changes at {line}"
        )
    chown = source.ins.flag("chown")
    owner = (chown.value or "").split(":")[0] if chown is not None else None
    if ins.cmd == "workdir" and not is_root(user) and owner != (user or "").split(":")[0]:
        # BuildKit creates a missing WORKDIR owned by the USER: moved below it, the COPY no
        # longer makes that directory root's first (built for real: user app could write
        # its code directory, where the original's was root:root 0755)
        if UNKNOWN in after or within(after, source.dest) or within(source.dest, after):
            raise Skip(
                f"WORKDIR at {line} runs as {'user ' + user if user else 'an unknown user'} "
                f"and may create {after} for it, where the COPY at line "
                f"{source.ins.start_line} makes it {'root' if owner is None else owner}'s first"
            )
    if ins.cmd in ("env", "arg") and source.dollar:
        raise Skip(
            f"the COPY at line {source.ins.start_line} uses variables that {ins.keyword} at "
            f"{line} may change"
        )
    if ins.cmd == "volume":
        raise Skip(f"VOLUME at {line} comes between the COPY and the install")


def has_fetch(doc: Document, stage: Stage, copy: Instruction, use: Use) -> bool:
    """True when a RUN before the full COPY already fetches this ecosystem's dependencies."""
    for ins in stage.instructions:
        if ins is copy:
            return False
        script = run_script(ins, doc.text) if ins.cmd == "run" else None
        for command in script.commands if script else []:
            program, args = program_args(command)
            manager = manager_of(program)
            if manager not in use.eco.managers:
                continue
            found = {
                "go": args[:2] == ["mod", "download"],
                "cargo": "fetch" in args,
                "gradle": "dependencies" in args,
                "maven": any(a.startswith("dependency:") for a in args),
            }.get(str(manager), True)
            if found:
                return True
    return False


# ---------------------------------------------------------------- manifests and hazards
