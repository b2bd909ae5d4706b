"""Differential builds, the pure part: which Dockerfiles can build offline, their build context,
cache-busting variants of a rewrite, and which filesystem differences are expected.

``bench/differential.py`` builds originals and rewrites with these helpers (see
:mod:`msdfix.verify.diffbuild` for the Docker side).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from msdfix.ecosystems.registry import subcommand
from msdfix.model import build_model
from msdfix.model.image import parse_image
from msdfix.shell import Command, parse_commands, run_script
from msdfix.shell.classify import inline_script, program_args
from msdfix.syntax import Dockerfile, Instruction, ParseError, parse
from msdfix.syntax.values import instruction_values

BUST_ARG = "MSDFIX_BUST"
# Instructions that do not need anything the stand-ins lack.
PLAIN = frozenset(
    "from run copy add env arg label expose workdir user cmd entrypoint volume healthcheck "
    "stopsignal maintainer onbuild".split()
)
# Programs a selected RUN may call: the three package managers and inert file/user tools.
PROGRAMS = frozenset(
    """apt-get apt pip pip3 npm
    [ test true false : echo printf cd pwd set export unset umask exit mkdir rmdir rm cp mv ln
    chmod chown chgrp touch ls cat sed grep find id whoami env useradd groupadd usermod adduser
    addgroup locale-gen ldconfig update-ca-certificates apt-mark""".split()
)
PIP_SUBCOMMANDS = frozenset({"install", "uninstall", "list", "freeze", "config", "cache"})
NPM_SUBCOMMANDS = frozenset({"install", "i", "ci", "cache", "config", "set", "uninstall"})
# apt packages that make a build slow (rank them last, never exclude them).
HEAVY = re.compile(
    r"^(openjdk|default-j|texlive|libreoffice|chromium|firefox|build-essential|gcc|g\+\+|clang|"
    r"llvm|cuda|nvidia|qt|gnome|kde|xfce|mysql-server|mariadb-server|postgresql|mongo|ruby|"
    r"golang|rust|cargo|php|nodejs|maven|gradle|ghc|octave|r-base|mono|dotnet|wine|emacs|x11|"
    r"xvfb|libgl|xorg|python3?-(numpy|scipy|pandas|matplotlib)|gdal|libgdal|ffmpeg|imagemagick)"
)
# Python 2 packages are gone from Debian 12: an install of one can never build here.
GONE = re.compile(r"^python-(?!is-python3)|^python2|^libssl1\.0|^libpng12|^openjdk-[6-9]-")


@dataclass(frozen=True)
class Screen:
    """Whether a Dockerfile can build here (``reason`` says why not) and its rough cost."""

    reason: str = ""
    cost: int = 0
    manager_runs: int = 0  # RUNs that call apt, pip or npm

    @property
    def ok(self) -> bool:
        return not self.reason


def normalise_image(raw: str) -> str:
    """``library/python`` -> ``python:latest``; ``docker.io/library/node:18`` -> ``node:18``."""
    ref = parse_image(raw)
    name = ref.full_name
    return f"{name}:{ref.tag or 'latest'}"


def _commands(script: str, depth: int = 0) -> Iterable[Command]:
    for command in parse_commands(script):
        inner = inline_script(command) if depth < 3 else None
        if inner is not None:
            yield from _commands(inner, depth + 1)
        else:
            yield command


def _packages(args: list[str], start: int) -> list[str]:
    return [a for a in args[start:] if not a.startswith("-") and "=" not in a]


@dataclass
class _Tally:
    cost: int = 0
    commands: int = 0  # apt, pip and npm commands
    runs: int = 0  # RUNs with one of them


def _screen_command(command: Command, tally: _Tally) -> str:
    program, args = program_args(command)
    if program not in PROGRAMS:
        return f"runs {program or command.argv[:1]!r}"
    sub = subcommand(program, args)
    if program in ("apt-get", "apt", "pip", "pip3", "npm"):
        tally.commands += 1
    if program in ("apt-get", "apt"):
        # [a-xz]* up to the first y: "[a-z]*y[a-z]*" tried every y of a word and scanned on from
        # each (quadratic in a long word of them)
        yes = any(
            a in ("--yes", "--assume-yes") or re.fullmatch(r"-[a-xz]*y[a-z]*", a) for a in args
        )
        if sub == "install" and not yes:
            return "apt-get install without -y"
        if sub in ("upgrade", "dist-upgrade", "full-upgrade"):
            tally.cost += 20
        pkgs = _packages(args, args.index(sub) + 1) if sub == "install" else []
        if sub == "install" and any("=" in a and not a.startswith("-") for a in args):
            return "pins an apt package version"
        if any(GONE.match(p) for p in pkgs):
            return "installs a package Debian 12 no longer has"
        tally.cost += len(pkgs) + sum(15 for p in pkgs if HEAVY.match(p))
    elif program in ("pip", "pip3"):
        if sub not in PIP_SUBCOMMANDS:
            return f"pip {sub}"
        targets = [a for a in args[1:] if not a.startswith("-")]
        options = [a for a in args if a.startswith("-")]
        if any(t.startswith((".", "/")) or "://" in t or "git+" in t for t in targets):
            if not {"-r", "--requirement", "-c", "--constraint"} & set(options):
                return "pip installs a local path or URL"
        if any("==" in t for t in targets):
            tally.cost += 10  # old pins may compile from source
        tally.cost += 3 * len(targets)
    elif program == "npm":
        if sub not in NPM_SUBCOMMANDS:
            return f"npm {sub}"
        tally.cost += 3 + 3 * len([a for a in args[1:] if not a.startswith("-")])
    return ""


def _screen_run(ins: Instruction, text: str, tally: _Tally) -> str:
    if ins.flags:
        return "RUN with flags"
    script = run_script(ins, text)
    if script is None:
        return "RUN without a script"
    tally.cost += 2
    before = tally.commands
    commands = list(_commands(script.text)) if script.text else script.commands
    for command in (c for c in commands if c.argv):
        reason = _screen_command(command, tally)
        if reason:
            return reason
    tally.runs += tally.commands > before
    return ""


def _screen_copy(ins: Instruction, stages: set[str]) -> str:
    source = ins.flag("from")
    if source is not None and (source.value or "").lower() not in stages:
        return "COPY --from an image"
    if ins.heredocs:
        return "COPY heredoc"
    try:
        _, values, _ = instruction_values(ins)
    except ParseError:
        return "unparsable COPY"
    for src in values[:-1]:
        if "://" in src or "$" in src or ".." in src.split("/") or "[" in src:
            return f"{ins.cmd.upper()} source {src!r}"
    return ""


def screen(text: str, bases: frozenset[str]) -> Screen:
    """Can this Dockerfile build offline with the stand-in ``bases``? Cheaper = lower cost."""
    try:
        dockerfile = parse(text)
        model = build_model(dockerfile)
    except (ParseError, ValueError, RecursionError):
        return Screen("does not parse")
    if "syntax" in dockerfile.directives:
        return Screen("# syntax= directive (needs a registry)")
    if not model.stages:
        return Screen("no FROM")
    tally = _Tally()
    stages: set[str] = set()
    for stage in model.stages:
        raw = stage.from_.args.split()[0] if stage.from_.args.split() else ""
        if stage.from_.flags:
            return Screen("FROM with flags")
        if "$" in raw:
            return Screen("FROM with a variable")
        if raw.lower() not in stages and normalise_image(raw) not in bases:
            return Screen(f"base {raw} has no stand-in")
        stages |= {stage.name.lower(), str(stage.index)}
        for ins in stage.instructions:
            if ins.cmd not in PLAIN:
                return Screen(f"{ins.cmd.upper()} instruction")
            if ins.cmd == "run":
                reason = _screen_run(ins, text, tally)
            elif ins.cmd in ("copy", "add"):
                reason = _screen_copy(ins, stages)
            else:
                reason = ""
            if reason:
                return Screen(reason)
    if re.search(r"type=cache", text):
        return Screen("already has a cache mount")
    if not tally.commands:
        return Screen("no apt, pip or npm command")
    return Screen("", tally.cost + 5 * (len(model.stages) - 1), tally.runs)


# ---- build context ---------------------------------------------------------------------------

PACKAGE_JSON = {"name": "app", "version": "1.0.0", "private": True}
PACKAGE_LOCK = {
    "name": "app",
    "version": "1.0.0",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {"": {"name": "app", "version": "1.0.0"}},
}
_FILE_NAMES = frozenset(
    "Makefile Gemfile Procfile LICENSE Dockerfile Pipfile entrypoint docker-entrypoint "
    "start run VERSION".split()
)


def _content(name: str) -> str:
    if name == "package.json":
        return json.dumps(PACKAGE_JSON, indent=2) + "\n"
    if name in ("package-lock.json", "npm-shrinkwrap.json"):  # as npm writes it: npm keeps it
        return json.dumps(PACKAGE_LOCK, indent=2) + "\n"
    if name.endswith(".sh"):
        return "#!/bin/sh\n"
    return ""  # an empty requirements file is valid for pip


def _needed_files(dockerfile: Dockerfile) -> set[str]:
    """Manifests a RUN reads: pip -r files and npm's package.json (+ lock for npm ci)."""
    needed: set[str] = set()
    for ins in dockerfile.instructions:
        script = run_script(ins, dockerfile.text)
        for command in _commands(script.text) if script else ():
            program, args = program_args(command)
            for flag, value in zip(args, args[1:], strict=False):
                if program in ("pip", "pip3") and flag in ("-r", "--requirement", "-c"):
                    needed.add(value.rsplit("/", 1)[-1])
            if program == "npm" and any(a in ("install", "i", "ci") for a in args):
                needed |= {"package.json", "package-lock.json"}
    return needed


def make_context(text: str, root: Path) -> list[str]:
    """Write the smallest build context ``text`` needs into ``root``; return the paths made.

    COPY/ADD sources become empty files (a name with a dot or a known file name) or empty
    directories; wildcards match one file; every directory copied gets the manifests the
    RUNs read (pip ``-r`` files, ``package.json`` with a lock file).
    """
    dockerfile = parse(text)
    root.mkdir(parents=True, exist_ok=True)
    made: set[str] = set()
    dirs: set[str] = set()
    for ins in dockerfile.instructions:
        if ins.cmd not in ("copy", "add") or ins.flag("from") is not None:
            continue
        _, values, _ = instruction_values(ins)
        for src in values[:-1]:
            rel = src.lstrip("/").rstrip("/") if src.strip("/.") else "."
            rel = re.sub(r"^\./", "", rel).replace("*", "x").replace("?", "x")
            base = rel.rsplit("/", 1)[-1]
            is_file = not src.endswith("/") and rel != "." and ("." in base or base in _FILE_NAMES)
            path = root / rel
            if is_file:
                path.parent.mkdir(parents=True, exist_ok=True)
                if not path.exists():
                    path.write_text(_content(base))
                made.add(rel)
            else:
                path.mkdir(parents=True, exist_ok=True)
                dirs.add(rel)
    for rel in dirs:
        for name in _needed_files(dockerfile):
            path = root / rel / name
            if not path.exists():
                path.write_text(_content(name))
                made.add(str(Path(rel) / name))
    return sorted(made | dirs)


# ---- cache busting ---------------------------------------------------------------------------


def cache_mounted_runs(text: str) -> list[tuple[int, Instruction]]:
    """(stage index, RUN) for every RUN with a ``--mount=type=cache``, in file order."""
    model = build_model(parse(text))
    return [
        (stage.index, ins)
        for stage in model.stages
        for ins in stage.of("run")
        if any(f.name == "mount" and "type=cache" in (f.value or "") for f in ins.flags)
    ]


def bust_points(text: str) -> list[int]:
    """Line numbers (1-based) of the RUNs to rebuild with empty mounts and earlier layers cached.

    A cold build already runs the first mounted RUN with empty mounts; it is left out when every
    mounted RUN is in one stage (nothing else could have filled the mounts before it).
    """
    runs = cache_mounted_runs(text)
    if len({stage for stage, _ in runs}) == 1:
        runs = runs[1:]
    return [ins.start_line for _, ins in runs]


def _private(value: str, nonce: str) -> str:
    parts = value.split(",")
    keys = [p.partition("=")[0].strip().lower() for p in parts]
    if "id" in keys:
        i = keys.index("id")
        return ",".join(parts[:i] + [f"{parts[i]}-{nonce}"] + parts[i + 1 :])
    target = next(
        (
            p.partition("=")[2]
            for p, k in zip(parts, keys, strict=True)
            if k in ("target", "dst", "destination")
        ),
        "",
    )
    return f"{value},id={target}-{nonce}"


def private_mounts(text: str, nonce: Callable[[int], str]) -> str:
    """``text`` with every cache mount given an id of its own: ``id=<id or target>-<nonce>``.

    ``nonce(line)`` is called with each RUN's line. A cache mount is shared by every build on the
    daemon that uses its id (the target by default), so a fresh nonce means an empty mount that
    no concurrent build can fill; RUNs that share a mount in the file still share it (same
    nonce). The mounts, targets and options are otherwise unchanged.
    """
    edits = []
    for _, ins in cache_mounted_runs(text):
        for flag in ins.flags:
            if flag.name == "mount" and "type=cache" in (flag.value or ""):
                value = _private(flag.value or "", nonce(ins.start_line))
                edits.append((flag.start, flag.end, f"--mount={value}"))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def insert_bust(text: str, line: int) -> str:
    """``text`` with ``ARG MSDFIX_BUST`` on its own line before the instruction at ``line``."""
    dockerfile = parse(text)
    ins = next(i for i in dockerfile.instructions if i.start_line == line)
    at = text.rfind("\n", 0, ins.start) + 1
    return f"{text[:at]}ARG {BUST_ARG}{dockerfile.newline}{text[at:]}"


# ---- filesystem differences ------------------------------------------------------------------

# Paths a cache mount or a dropped cleanup may legitimately change: package indexes and
# download caches (apt's, and pip's and npm's under any home directory), logs, files that
# record timestamps, and keys generated at install time.
EXPECTED = re.compile(
    r"^(var/lib/apt/lists(/|$)|var/cache/apt(/|$)|var/log/|var/cache/debconf/|var/cache/ldconfig/"
    r"|var/lib/dpkg/[^/]*-old$|(.*/)?\.cache(/|$)|(.*/)?\.npm(/|$)|(.*/)?\.config/configstore(/|$)"
    r"|tmp/|etc/ssl/private/ssl-cert-snakeoil\.key$)"
)
APT_CONFIG = re.compile(r"^etc/apt/apt\.conf\.d/")
# What a Debian -slim base leaves out (debuerreotype-slimify's path-excludes), expected missing
# when the rewrite's image is slimmed and the original's is not: its marker file is new.
SLIM_MARKER = "etc/dpkg/dpkg.cfg.d/docker"
SLIMMED = re.compile(
    r"^usr/share/(doc|info|linda|lintian/overrides|locale|man|gnome/help|omf|doc/kde/HTML)/"
)

# path -> (type, size[, "uid:gid mode"]): directories compare by owner and mode alone
Listing = Mapping[str, tuple[str, int] | tuple[str, int, str]]


@dataclass(frozen=True)
class FsDiff:
    """Differences between two image filesystems, split by whether they are expected."""

    expected: list[str]
    apt_config: list[str]
    unexpected: list[str]

    def to_dict(self, limit: int = 20) -> dict[str, object]:
        return {
            "expected": len(self.expected),
            "apt_config": self.apt_config[:limit],
            "unexpected": self.unexpected[:limit],
            "unexpected_count": len(self.unexpected),
            "owner_mode": [u for u in self.unexpected if u.endswith(")")][:limit],
            "owner_mode_count": sum(u.endswith(")") for u in self.unexpected),
        }


def classify_fs(original: Listing, rewrite: Listing) -> FsDiff:
    """Paths only in one image (an empty directory too), or whose type, size, symlink target,
    owner or mode differs, sorted into the three kinds (docs, man pages and translations a
    -slim base leaves out are expected when only the rewrite's image is slimmed). A change of owner or mode alone is
    shown with both (``~ app (0:0 755 -> 1000:1000 755)``): ``COPY --from`` carries what is
    in a directory, not the directory's own owner and mode."""
    expected: list[str] = []
    apt_config: list[str] = []
    unexpected: list[str] = []
    slimmed = SLIM_MARKER in rewrite and SLIM_MARKER not in original
    for path in sorted(set(original) | set(rewrite)):
        a, b = original.get(path), rewrite.get(path)
        if a == b:
            continue
        what = "-" if b is None else "+" if a is None else "~"
        entry = f"{what} {path}"
        if a is not None and b is not None and a[:2] == b[:2]:
            entry += f" ({_meta(a)} -> {_meta(b)})"
        if EXPECTED.match(path) or (
            slimmed and (path == SLIM_MARKER or (b is None and SLIMMED.match(path)))
        ):
            expected.append(entry)
        elif APT_CONFIG.match(path):
            apt_config.append(entry)
        else:
            unexpected.append(entry)
    return FsDiff(expected, apt_config, unexpected)


def _meta(found: tuple[str, int] | tuple[str, int, str]) -> str:
    """The owner and mode of a listing entry (``?`` when the listing has none)."""
    return found[2] if len(found) > 2 else "?"
