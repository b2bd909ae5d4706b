"""Which file ``msdfix verify`` edits before the warm rebuild, and why.

The edit stands for a developer changing the app: a source file in the app's language (from the
build images and the entry command) that the final image's build copies from the context, and
preferably the entry module (named by CMD/ENTRYPOINT or the npm start script, or holding
``package main``/``fn main``/``static void main``). Tests, coverage output, build and tool
configuration, docs, dependency manifests, lock files and vendored or generated files are never
chosen; build scripts run by a RUN and files in scripts/, public/, ... only when nothing else is
left. Ties go to shallow paths.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath

from msdfix.model.context import BuildContext
from msdfix.verify.context import COMMENT_STYLES
from msdfix.verify.sources import BuildSources, read_build

LANGUAGE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "python": (".py",),
    "node": (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".vue", ".svelte"),
    "go": (".go",),
    "rust": (".rs",),
    "java": (".java", ".kt", ".scala"),
    "dotnet": (".cs",),
    "ruby": (".rb", ".ru"),
    "php": (".php",),
}
ROLE_DIRS: dict[str, str] = {
    **dict.fromkeys(("test", "tests", "__tests__", "spec", "specs", "e2e", "testdata",
                     "__mocks__", "fixtures", "cypress", "playwright"), "test"),
    **dict.fromkeys(("coverage", "htmlcov", ".nyc_output", "lcov-report"), "coverage output"),
    **dict.fromkeys(("docs", "doc", "examples", "example", "samples", "benchmarks", "bench"),
                    "documentation or example"),
    **dict.fromkeys(("node_modules", "vendor", "bower_components", "site-packages", ".venv",
                     "venv", "dist", "build", "out", "target", ".next", ".nuxt",
                     "__pycache__"), "vendored or generated"),
}  # fmt: skip
TEST_NAME = re.compile(
    r"^test_.*\.py$|_test\.(?:py|go)$|\.(?:test|spec)\.[cm]?[jt]sx?$|^conftest\.py$"
    r"|Tests?\.(?:java|kt|cs)$|_spec\.rb$|^setupTests\.[jt]sx?$"
)
CONFIG_NAME = re.compile(
    r"\.config\.[cm]?[jt]s$|^\.[\w.-]*rc\.[cm]?js$|^(?:gulpfile|Gruntfile)\.[jt]s$"
    r"|^(?:jest|karma|babel|webpack|rollup|vite|vitest|tailwind|postcss|next|nuxt|svelte"
    r"|astro|playwright|cypress|eslint|prettier)[.-].*\.[cm]?[jt]s$"
    r"|^(?:setup|noxfile|fabfile|tasks|conftest|gunicorn\.conf|Rakefile)\.(?:py|rb)$"
    r"|\.min\.js$|\.d\.ts$|^Dockerfile|\.Dockerfile$"
)
MANIFEST_NAMES = frozenset(
    """package.json package-lock.json npm-shrinkwrap.json yarn.lock pnpm-lock.yaml
    pnpm-workspace.yaml bun.lockb .npmrc .yarnrc .yarnrc.yml requirements.txt constraints.txt
    pyproject.toml poetry.lock pdm.lock uv.lock Pipfile Pipfile.lock setup.py setup.cfg
    MANIFEST.in go.mod go.sum go.work go.work.sum Cargo.toml Cargo.lock pom.xml build.gradle
    build.gradle.kts settings.gradle settings.gradle.kts gradle.properties gradlew mvnw Gemfile
    Gemfile.lock composer.json composer.lock mix.exs mix.lock packages.lock.json global.json
    Makefile .dockerignore""".split()
)
MANIFEST_NAME = re.compile(
    r"^requirements.*\.txt$|\.(?:csproj|fsproj|sln|lock)$|^tsconfig.*\.json$"
)
LOW_PREFERENCE_DIRS = frozenset(
    ("scripts", "script", "tools", "bin", "migrations", "public", "static", "assets")
)
CONVENTIONAL_ENTRY = frozenset(
    ("main", "app", "server", "index", "wsgi", "asgi", "manage", "__main__", "run", "program",
     "application", "cli")
)  # fmt: skip
# [^\S\n]* after ^ (re.M), not \s*: from every line start \s* ran over all the blank lines
# below and back (quadratic in a run of them).
MAIN_MARKER = {
    ".go": re.compile(r"^package main\b", re.M),
    ".rs": re.compile(r"^[^\S\n]*(?:pub\s+)?(?:async\s+)?fn main\s*\(", re.M),
    ".java": re.compile(r"static\s+void\s+main\s*\("),
    ".kt": re.compile(r"^[^\S\n]*fun main\s*\(", re.M),
    ".cs": re.compile(r"static\s+(?:async\s+)?\S+\s+Main\s*\("),
}
_MODULE_ATTR = re.compile(r"^([A-Za-z_][\w.]*):[A-Za-z_][\w]*(?:\(.*\))?$")
# a dotted module name: gunicorn's ``app.wsgi`` (its ``application`` implied) names app/wsgi.py
_DOTTED_MODULE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
MAX_MARKER_READS = 300


@dataclass
class TouchChoice:
    """The chosen file (context-relative, or None) and a one-line explanation."""

    path: str | None
    reason: str


def role(rel: str) -> str | None:
    """Why a file is not an app source (test, coverage output, ...), or None when it may be."""
    parts = PurePosixPath(rel).parts
    name = parts[-1]
    for part in parts[:-1]:
        if part in ROLE_DIRS:
            return ROLE_DIRS[part]
        if part.startswith("."):
            return "tooling"
    if name in MANIFEST_NAMES or MANIFEST_NAME.search(name):
        return "dependency manifest or lock file"
    if TEST_NAME.search(name):
        return "test"
    if CONFIG_NAME.search(name):
        return "build or tool configuration"
    return None


def _entry_paths(words: list[str], context: BuildContext) -> list[str]:
    """Context paths the entry command names (files, ``-m`` modules, ``module:app``)."""
    flat: list[str] = []
    for word in words:
        flat += word.split() if " " in word else [word]
    if flat and posixpath.basename(flat[0]) in ("npm", "yarn", "pnpm", "bun"):
        script = flat[1] if len(flat) > 1 and flat[1] != "run" else (flat[2:3] or [""])[0]
        package = context.read_json("package.json")
        scripts = package.get("scripts") if isinstance(package, dict) else None
        command = scripts.get(script) if isinstance(scripts, dict) else None
        if isinstance(command, str):
            flat += command.split()
        elif script == "start":
            flat.append("server.js")  # npm's default start script: node server.js
        if isinstance(package, dict) and isinstance(package.get("main"), str):
            flat.append(package["main"])
    paths = []
    for i, word in enumerate(flat):
        word = word.strip("'\"")
        module = _MODULE_ATTR.match(word)
        if i > 0 and flat[i - 1] == "-m" or module:
            name = module.group(1) if module else word
            base = name.replace(".", "/")
            main = [base + "/__main__.py"] if not module else []
            paths += [base + ".py", *main, base + "/__init__.py"]
        elif not word.startswith("-") and ("/" in word or PurePosixPath(word).suffix):
            paths.append(posixpath.normpath(word.removeprefix("./")))
            if _DOTTED_MODULE.match(word):  # no such file is named: harmless
                paths.append(word.replace(".", "/") + ".py")
    return paths


def _names(rel: str, path: str) -> bool:
    """True when an entry path (relative or absolute in the image) is the context file."""
    return rel == path or path.endswith("/" + rel) or rel.endswith("/" + path.lstrip("/"))


class _MainReader:
    """Reads at most MAX_MARKER_READS files looking for ``package main`` and the like."""

    def __init__(self, context: BuildContext) -> None:
        self.context, self.reads = context, 0

    def __call__(self, rel: str) -> bool:
        marker = MAIN_MARKER.get(PurePosixPath(rel).suffix)
        if marker is None or self.reads >= MAX_MARKER_READS:
            return False
        self.reads += 1
        text = self.context.read_text(rel)
        return text is not None and marker.search(text) is not None


def choose_touch_file(context: BuildContext, dockerfile_text: str) -> TouchChoice:
    """Pick the source file to edit for the warm rebuild of ``dockerfile_text``."""
    facts = read_build(dockerfile_text)
    suffixes = [s for eco in facts.ecosystems for s in LANGUAGE_SUFFIXES.get(eco, ())]
    order = {suf: i for i, suf in enumerate([*suffixes, *COMMENT_STYLES])}
    entry = _entry_paths(facts.entry_words, context)
    has_main = _MainReader(context)
    skipped: Counter[str] = Counter()
    best: tuple[tuple[int, ...], int, str] | None = None
    for rel in context.first_files:
        suffix = PurePosixPath(rel).suffix
        if suffix not in COMMENT_STYLES or context.is_ignored(rel) or not facts.copied_by(rel):
            continue
        if context.root is not None and (context.root / rel).is_symlink():
            continue  # COPY copies the link, not its target
        why_not = role(rel)
        if why_not is not None:
            skipped[why_not] += 1
            continue
        key = (_rank(rel, suffixes, entry, facts, has_main), order[suffix], rel)
        best = key if best is None or key < best else best
    if best is None:
        what = f"no {'/'.join(facts.ecosystems) or 'source'} file"
        return TouchChoice(None, f"{what} that the final image's build copies{_skips(skipped)}")
    rank, _, rel = best
    source = facts.copied_by(rel)
    assert source is not None
    return TouchChoice(rel, _reason(rel, rank, facts, source.instruction, skipped))


def _rank(
    rel: str,
    suffixes: list[str],
    entry: list[str],
    facts: BuildSources,
    has_main: _MainReader,
) -> tuple[int, ...]:
    """(not the language, not the entry, which entry word, run by a RUN, in scripts/ etc.,
    depth): lower wins."""
    path = PurePosixPath(rel)
    lang = 0 if not suffixes or path.suffix in suffixes else 1
    named = [i for i, e in enumerate(entry) if _names(rel, e)]
    if named:
        kind = 0
    elif (
        path.stem.lower() in CONVENTIONAL_ENTRY
        or path.name == "config.ru"
        or (not lang and has_main(rel))
    ):
        kind = 1
    else:
        kind = 2
    script = 1 if rel in facts.run_words or path.name in facts.run_words else 0
    low = 1 if any(p in LOW_PREFERENCE_DIRS for p in path.parts[:-1]) else 0
    return lang, kind, named[0] if named else 0, script, low, len(path.parts)


def _reason(
    rel: str, rank: tuple[int, ...], facts: BuildSources, where: str, skipped: Counter[str]
) -> str:
    lang, kind, _, script, low, _ = rank
    language = "/".join(facts.ecosystems)
    what = f"a {language} source" if language and not lang else "a source file"
    if kind == 0:
        what += " named by the entry command"
    elif kind == 1:
        what += " that is the app's entry module by its name or content"
    if script:
        what += " (also run by a RUN: no other source qualifies)"
    elif low:
        what += " (no source outside scripts/public/static dirs qualifies)"
    return f"{rel}: {what}, copied by {where}{_skips(skipped)}"


def _skips(skipped: Counter[str]) -> str:
    if not skipped:
        return ""
    return "; not edited: " + ", ".join(f"{n} {kind}" for kind, n in sorted(skipped.items()))
