"""JavaScript frontends: which package.json script a call runs, where a build writes, what serves it.

Read from the build context only (package.json scripts, vite/webpack configs); every answer is
``None`` when it cannot be told for sure.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from msdfix.ecosystems import programs
from msdfix.ecosystems.base import option, positionals
from msdfix.ecosystems.node.scripts import SCRIPT_RUNNERS, script_bodies, script_name
from msdfix.files import decimal
from msdfix.model.context import BuildContext, Unreadable
from msdfix.shell.commands import Command, parse_commands
from msdfix.syntax.values import unquote

BUNDLER_DEFAULTS = {"vite": "dist", "parcel": "dist", "webpack": "dist", "vue-cli-service": "dist"}
# Compilers that write into a folder option, else beside a file option: (folders, files).
_BABEL_OUT = (("-d", "--out-dir"), ("-o", "--out-file"))
OUT_OPTIONS = {"esbuild": (("--outdir",), ("--outfile",)), "babel": _BABEL_OUT, "swc": _BABEL_OUT}
# Build-script commands that build nothing: harmless programs but those that change where or
# how the next command builds (cd, export, set, env), file moves and node's helpers.
HARMLESS = (programs.HARMLESS - {"cd", "export", "set", "env"}) | {
    "mkdir", "cp", "mv", "rm", "rimraf", "cross-env",
}  # fmt: skip
RUNNERS = SCRIPT_RUNNERS
STATIC_SERVERS = {"serve", "http-server", "sirv"}


def package_json(context: BuildContext, rel_dir: str) -> dict[str, Any] | None:
    """package.json of a context directory ('' is the root), or None."""
    data = context.read_json(posixpath.join(rel_dir, "package.json") if rel_dir else "package.json")
    if not isinstance(data, dict) or any(
        not isinstance(data.get(key, {}), dict) for key in OBJECTS
    ):  # npm refuses such a file too
        return None
    return data


# package.json fields that must be objects ("scripts": 5 is unreadable).
OBJECTS = ("scripts", "dependencies", "devDependencies", "optionalDependencies", "peerDependencies")


def script_of(argv: list[str], package: dict[str, Any]) -> str | None:
    """The package.json script an ``npm run X``/``yarn X``/``pnpm X``/``npm start`` call runs,
    with the ``preX`` and ``postX`` hooks npm and yarn 1 run around it (``"prebuild": "node
    gen.js"`` writes files the build's output does not name)."""
    name = script_name(argv)
    scripts = package.get("scripts") or {}
    if name is None or not isinstance(scripts, dict) or not isinstance(scripts.get(name), str):
        return None
    return " && ".join(script_bodies(argv, package))


def is_build(argv: list[str], package: dict[str, Any] | None) -> bool:
    """True for ``npm run build``-like calls (a script whose name starts with build)."""
    words = [w for w in argv[1:] if not w.startswith("-")]
    if not words:
        return False
    name = words[1] if words[0] in ("run", "run-script") and len(words) > 1 else words[0]
    return name.startswith("build") and (package is None or name in (package.get("scripts") or {}))


def _commands(script: str) -> list[list[str]]:
    return [c.argv for c in parse_commands(script) if c.argv]


def build_script(argv: list[str], package: dict[str, Any]) -> str | None:
    """The script a runner call builds with, as ``script_of``, with the words the call passes
    it appended to the script (npm after ``--``, yarn and pnpm after the name): ``npm run
    build -- --outDir static`` runs ``vite build --outDir static``. None when npm is given
    options of its own after the name (they configure npm, not the script)."""
    name = script_name(argv)
    words = argv[1:]
    if name is None or name not in words:
        return script_of(argv, package)
    extra = words[words.index(name) + 1 :]
    if not extra:
        return script_of(argv, package)
    if extra[0] == "--":
        extra = extra[1:]
    elif posixpath.basename(argv[0]) == "npm":
        return None
    scripts = package.get("scripts") or {}
    main = scripts.get(name) if isinstance(scripts, dict) else None
    if not isinstance(main, str):
        return None
    main = " ".join([main, *(shlex.quote(word) for word in extra)])
    hooks = (scripts.get(f"pre{name}"), main, scripts.get(f"post{name}"))
    return " && ".join(h for h in hooks if isinstance(h, str))


# Commands that write the path they name last (cp SRC DEST), and those that create every
# path they name (mkdir, touch).
_COPIERS = frozenset({"cp", "mv", "ln", "install", "rsync"})
_CREATORS = frozenset({"mkdir", "touch"})
_REDIRECT = re.compile(r"^\s*(?:\d*|&)>{1,2}\|?\s*(?P<target>[^&\s].*)$")


def _written(cmd: Command) -> tuple[list[str], list[str]] | None:
    """(paths a build-script command writes, paths it moves away), from its redirects and,
    for file commands, its operands; None when a path is a variable (it may be anything)."""
    writes: list[str] = []
    for raw in cmd.redirects:
        match = _REDIRECT.match(raw)
        if match and match.group("target").strip() not in (
            "/dev/null",
            "/dev/stdout",
            "/dev/stderr",
        ):
            writes.append(unquote(match.group("target").strip()))
    program = posixpath.basename(cmd.argv[0])
    operands = [a for a in cmd.argv[1:] if not a.startswith("-")]
    moved: list[str] = []
    if program in _COPIERS and operands:
        target = option(cmd.argv, "-t", "--target-directory")
        writes.append(target or operands[-1])
        if program == "mv":
            moved = operands if target else operands[:-1]
    elif program in _CREATORS:
        writes += operands
    if any("$" in w or "`" in w for w in writes + moved):
        return None
    return writes, moved


def _inside(path: str, out: str) -> bool:
    """``path`` (relative to the app, or absolute: written elsewhere) lies in ``out``."""
    if path.startswith("/"):
        return True  # outside the app: what writes_outside weighs, not an output of the app
    path = posixpath.normpath(path)
    return path == out or path.startswith(out + "/")


@dataclass
class _Writes:
    """What a build script writes: its tools' output folders (``found``), other paths it
    writes (``writes``: cp/mv destinations, redirects), paths it moves away (``moved``), and
    every change in order (``events``: ``("+", path)`` written, ``("-", path)`` removed)."""

    found: set[str] = field(default_factory=set)
    writes: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)

    def add(self, out: str) -> None:
        self.found.add(out)
        self.events.append(("+", out))


def _scan(
    context: BuildContext, rel_dir: str, script: str, package: dict[str, Any], depth: int, env: str
) -> _Writes | None:
    """What ``script`` writes, None when a command may write anything (a program msdfix does
    not know, a path in a variable). ``env`` is the text that may set the build's variables
    besides the script (the stage's ENV/ARG names, the RUN line): ``ENV BUILD_PATH=www``
    moves Create React App's output."""
    w = _Writes()
    for cmd in parse_commands(script):
        argv = cmd.argv
        if not argv:
            continue
        written = _written(cmd)
        if written is None:
            return None
        w.writes += written[0]
        w.moved += written[1]
        w.events += [("-", m) for m in written[1]]
        if posixpath.basename(argv[0]) in ("rm", "rimraf"):
            w.events += [("-", a) for a in argv[1:] if not a.startswith("-")]
        w.events += [("+", path) for path in written[0]]
        while argv and argv[0] in ("npx", "cross-env", "env"):
            argv = [a for a in argv[1:] if not a.startswith("-") and "=" not in a]
        if not argv:
            continue
        program = posixpath.basename(argv[0])
        if program in RUNNERS and depth < 3:
            nested = build_script(argv, package)
            if nested is None:
                return None
            sub = _scan(context, rel_dir, nested, package, depth + 1, env)
            if sub is None:
                return None
            w.found |= sub.found
            w.writes += sub.writes
            w.moved += sub.moved
            w.events += sub.events
        elif program in OUT_OPTIONS:  # esbuild --outdir dist, babel src -d dist, swc -o x.js
            dir_options, file_options = OUT_OPTIONS[program]
            out = option(argv, *dir_options)
            outfile = option(argv, *file_options)
            if out is None and outfile is not None:
                out = posixpath.dirname(outfile)
            if not out:
                return None
            w.add(out)
        elif program in ("vite", "parcel", "webpack", "vue-cli-service"):
            if program == "vite" and "build" not in argv[1:2]:
                return None
            if program == "vite" and _vite_root(argv[2:]):
                return None  # vite build web: the output is web/dist, its config web/'s
            out = option(argv, "--outDir", "--out-dir", "--dist-dir", "--output-path", "--dest")
            if out is None and _config_file(argv):
                return None  # webpack --config webpack.prod.js: msdfix reads only the default
            if out is None:
                out = _config_out(context, rel_dir, program)
            if out is None:
                return None
            w.add(out)
        elif program == "react-scripts" and argv[1:2] == ["build"]:
            if _sets_build_path(context, rel_dir, script + "\n" + env):
                return None  # BUILD_PATH=www (the script, or a .env file CRA reads)
            w.add("build")
        elif program == "ng" and argv[1:2] == ["build"]:
            out = option(argv, "--output-path") or _angular_out(context, rel_dir, argv)
            if out is None:
                return None
            w.add(out)
        elif program == "next" and argv[1:2] in (["build"], ["export"]):
            out = _next_out(context, rel_dir, argv)
            if out is None:
                return None
            if out:
                w.add(out)
        elif program == "nuxt" and argv[1:2] == ["generate"]:
            out = _nuxt_out(context, rel_dir, package)
            if out is None:
                return None
            w.add(out)
        elif program == "node" and len(argv) == 2 and argv[1].endswith((".js", ".mjs", ".cjs")):
            out = _script_out(context, rel_dir, argv[1])
            if out is None:
                return None
            w.add(out)
        elif program in ("tsc", "vue-tsc"):
            emitted = _tsc_out(context, rel_dir, argv)
            if emitted is None:
                return None
            if emitted:
                w.add(emitted)
        elif program not in HARMLESS:
            return None
    return w


def output_dir(
    context: BuildContext,
    rel_dir: str,
    script: str,
    package: dict[str, Any],
    depth: int = 0,
    env: str = "",
) -> str | None:
    """Directory (relative to the app) a build script writes its output to, or None.

    Every path a command of the script writes must lie in that directory: a redirect
    (``date > BUILD_TIME``), a copy's destination (``cp a.json settings.json``) or a move
    (``mv dist static`` moves the output away) makes it unknown otherwise. A config that cannot be read makes it unknown too (a 1 MiB
    vite config read as none gave vite's default dist, which the build did not write)."""
    try:
        w = _scan(context, rel_dir, script, package, depth, env)
    except Unreadable:
        return None
    if w is None or len(w.found) != 1:
        return None
    out = posixpath.normpath(next(iter(w.found)))
    if out.startswith("..") or out == "." or out.startswith("/"):
        return None
    if not all(_inside(p, out) for p in w.writes) or any(_inside(out, m) for m in w.moved):
        return None
    return out


def output_paths(
    context: BuildContext, rel_dir: str, script: str, package: dict[str, Any], env: str = ""
) -> tuple[set[str], set[str]] | None:
    """(every path in the app, relative to it, a build script leaves written; every path it
    leaves removed), replayed in order: ``mv dist static`` writes static, removes dist;
    ``rm -rf dist && tsc`` writes dist. Paths outside the app are left out. None: unknown
    (a config that cannot be read among them)."""
    try:
        w = _scan(context, rel_dir, script, package, 0, env)
    except Unreadable:
        return None
    if w is None:
        return None
    paths: set[str] = set()
    gone: set[str] = set()
    for sign, raw in w.events:
        if raw.startswith("/"):
            continue
        path = posixpath.normpath(raw)
        if path.startswith("..") or path == ".":
            return None
        if sign == "+":
            paths.add(path)
            gone = {g for g in gone if not _inside(g, path)}
        else:
            paths = {p for p in paths if not _inside(p, path)}
            gone.add(path)
    return paths, gone


# vite build's options that take a value (``--ssr [entry]``, ``--sourcemap [output]``: a word
# after them that is not an option is theirs); any other word is the project root.
_VITE_VALUES = frozenset(
    "--outDir --base --mode -m --config -c --logLevel -l --assetsDir --assetsInlineLimit "
    "--filter -f --target --minify --sourcemap --manifest --ssrManifest --ssr --debug -d".split()
)


def _vite_root(args: list[str]) -> str | None:
    """The project root ``vite build [root]`` names, or None."""
    skip = False
    for word in args:
        if skip:
            skip = False
            if not word.startswith("-"):
                continue
        if word.startswith("-"):
            skip = "=" not in word and word in _VITE_VALUES
            continue
        return word
    return None


# JSONC tokens: a string (kept), a // comment, a /* */ comment. An unterminated string or /*
# comment matches to the end ("open") once; when it had to close, each one was scanned to the
# end and failed, then scanned again from every later start (quadratic).
_STRING = r'"(?:\\.|[^"\\])*(?:"|(?P<open_string>\\?\Z))'
_LINE_COMMENT = r"//[^\n]*"
_BLOCK_COMMENT = r"/\*.*?(?:\*/|(?P<open_comment>\Z))"


def _uncomment(text: str, strings: bool = True, comments: bool = True) -> str:
    """``text`` without comments, strings kept, in linear time. Once a string (or ``/*``
    comment) does not close, no later one can: what follows its opening is stripped the same
    way, without strings (or ``/*`` comments)."""
    alternatives = [_STRING] if strings else []
    alternatives += [_LINE_COMMENT, _BLOCK_COMMENT] if comments else [_LINE_COMMENT]

    def keep(match: re.Match[str]) -> str:
        token, found = match.group(), match.groupdict()
        if found.get("open_string") is not None:
            return '"' + _uncomment(token[1:], False, comments)
        if found.get("open_comment") is not None:
            return "/*" + _uncomment(token[2:], strings, False)
        return token if token.startswith('"') else ""

    return re.sub("|".join(alternatives), keep, text, flags=re.S)


# JavaScript's tokens that hide a `//` or `/*`: strings in each quote (an unterminated one
# runs to the end of its line, a template to the end of the text: linear time) and comments.
_JS_TOKENS = re.compile(
    r"""'(?:\\.|[^'\\\n])*'?|"(?:\\.|[^"\\\n])*"?|`(?:\\.|[^`\\])*`?"""
    r"""|//[^\n]*|/\*.*?(?:\*/|\Z)""",
    re.S,
)


def _js_code(text: str) -> str:
    """A JavaScript/TypeScript file's text without its comments (strings kept): a commented-out
    ``// outDir: 'build'`` configures nothing (built for real: the frontend stage's copy of
    web/build failed, vite had written web/dist)."""
    return _JS_TOKENS.sub(lambda m: "" if m.group().startswith("/") else m.group(), text)


def _read_js(context: BuildContext, rel: str) -> str | None:
    """The code of a JavaScript file of the context, comments left out; None when absent,
    Unreadable when present but unreadable (the public functions' answer is then None)."""
    text = context.read_known(rel)
    return None if text is None else _js_code(text)


def _json(context: BuildContext, rel: str) -> Any:
    text = context.read_known(rel)  # (Unreadable: see _read_js)
    if text is None:
        return None
    text = _uncomment(text)
    try:
        return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))
    except (ValueError, RecursionError):  # RecursionError: nested too deep
        return None


def _at(table: object, *keys: str) -> object:
    """``table[k1][k2]...``, None where a level is missing or not an object (angular.json
    written by hand: ``"architect": 5`` was an internal error)."""
    for key in keys:
        table = table.get(key) if isinstance(table, dict) else None
    return table


def _angular_out(context: BuildContext, rel_dir: str, argv: list[str]) -> str | None:
    """outputPath of the project ``ng build`` builds (angular.json); the application builder
    (Angular 17+) writes the browser files to ``<outputPath>/browser``."""
    config = _json(context, posixpath.join(rel_dir, "angular.json"))
    if not isinstance(config, dict) or not isinstance(config.get("projects"), dict):
        return None
    projects = config["projects"]
    names = [a for a in argv[2:] if not a.startswith("-")]
    name = next((n for n in names if n in projects), config.get("defaultProject"))
    if name is None and len(projects) == 1:
        name = next(iter(projects))
    build = _at(projects.get(name) if isinstance(name, str) else None, "architect", "build")
    out = _at(build, "options", "outputPath")
    if isinstance(out, dict):
        base, browser = out.get("base"), out.get("browser", "browser")
        if not isinstance(base, str) or not isinstance(browser, str):
            return None
        return posixpath.join(base, browser) if browser else base
    if not isinstance(out, str):
        return None
    return posixpath.join(out, "browser") if "application" in str(_at(build, "builder")) else out


def _next_out(context: BuildContext, rel_dir: str, argv: list[str]) -> str | None:
    """``out`` for a static export (``output: 'export'`` or ``next export``); '' when
    ``next build`` writes its server build to .next (inside the app, no output to copy)."""
    if argv[1] == "export":
        return option(argv, "-o", "--outdir") or "out"
    for ext in ("js", "mjs", "ts", "cjs"):
        text = _read_js(context, posixpath.join(rel_dir, f"next.config.{ext}"))
        if text is None:
            continue
        if re.search(r"\boutput\s*:\s*['\"]export['\"]", text):
            dist = re.search(r"\bdistDir\s*:\s*['\"]([^'\"]+)['\"]", text)
            return dist.group(1) if dist else "out"
        return None
    return None


def _nuxt_out(context: BuildContext, rel_dir: str, package: dict[str, Any]) -> str | None:
    """.output/public, where Nuxt 3 and later generate; None for Nuxt 2 (its ``generate.dir``
    defaults to dist), an unknown version, or a nuxt.config that may move the output (nitro's
    ``output``, ``generate``)."""
    specs = [package.get(k) for k in ("dependencies", "devDependencies")]
    spec = next((t.get("nuxt") for t in specs if isinstance(t, dict) and t.get("nuxt")), None)
    major = re.match(r"^[\^~>=v ]*(\d+)", spec) if isinstance(spec, str) else None
    if major is None or decimal(major.group(1)) < 3:
        return None
    for name in _config_files(context, rel_dir, "nuxt"):
        if re.search(r"\b(?:output|generate|publicDir)\s*:", _read_js(context, name) or ""):
            return None
    return ".output/public"


OUT_KEYS = r"(?:outdir|outDir|outputDir|outputPath|outfile|distDir|dest)"
# A build script's own file writes (node's fs, fs-extra, shelljs): the files it makes.
_FS_WRITES = re.compile(
    r"\b(?P<name>writeFile|appendFile|copyFile|cp|rename|mkdir|mkdtemp|symlink|link"
    r"|createWriteStream|outputFile|outputJson|writeJson|copy|move|ensureDir|ensureFile|mkdirp"
    r"|touch)(?:Sync)?\s*\((?P<args>[^()]*)"
)
# ... of which the path written is the second argument (source, destination).
_FS_TWO_PATHS = frozenset({"copyFile", "cp", "rename", "symlink", "link", "copy", "move"})


def _script_out(context: BuildContext, rel_dir: str, script: str) -> str | None:
    """The one output directory a build script names (``outdir: 'dist'``, ``path.resolve(
    __dirname, 'public')``), relative to the app; None when it names none or several."""
    text = _read_js(context, posixpath.normpath(posixpath.join(rel_dir, script)))
    if text is None:
        return None
    found = set()
    literal = r"""['"]([^'"$`{}]+)['"]"""
    for key, value in re.findall(rf"\b({OUT_KEYS})\s*:\s*{literal}", text):
        found.add(posixpath.dirname(value) if key == "outfile" else value)
    here = posixpath.dirname(script)
    for value in re.findall(
        rf"\b{OUT_KEYS}\s*:\s*path\.(?:resolve|join)\(\s*__dirname\s*,\s*{literal}", text
    ):
        found.add(posixpath.normpath(posixpath.join(here, value)))
    if len(found) != 1:
        return None
    out = posixpath.normpath(found.pop())
    if out.startswith(("/", "..")) or out == ".":
        return None
    return out if _fs_writes_inside(text, out) else None


def _fs_writes_inside(text: str, out: str) -> bool:
    """Every file a build script writes itself (``writeFileSync('manifest.json', ...)``,
    ``cpSync('index.html', 'dist/index.html')``) names a literal path inside ``out``."""
    for match in _FS_WRITES.finditer(text):
        args = [a.strip() for a in match.group("args").split(",")]
        index = 1 if match.group("name") in _FS_TWO_PATHS else 0
        dest = re.fullmatch(r"""['"]([^'"$`{}]+)['"]""", args[index]) if len(args) > index else None
        if dest is None or not _inside(dest.group(1), out) or dest.group(1).startswith("/"):
            return False
    return True


def _tsc_out(context: BuildContext, rel_dir: str, argv: list[str]) -> str | None:
    """outDir of the tsconfig ``tsc`` compiles ('' when it emits nothing), None when the config
    cannot be read, extends another one, or emits beside the sources (no outDir: a top-level
    ``config.ts`` becomes a top-level ``config.js``) or into other projects.

    ``tsc -b``/``--build`` builds the projects it names as words (tsconfig.json when none)
    and the projects they reference; ``-p``/``--project`` names one."""
    if "--noEmit" in argv:
        return ""
    out = option(argv, "--outDir")
    if out:
        return out
    build = "-b" in argv or "--build" in argv
    words = positionals(argv[1:], _TSC_VALUES)
    if len(words) > 1 or words and not build:
        return None  # several projects, or files compiled beside themselves (tsc src/x.ts)
    projects = words
    project = (projects[0] if projects else None) or option(argv, "-p", "--project")
    return _project_out(context, rel_dir, project or "tsconfig.json", build)


# tsc options that take a value (the next word is not a file or project).
_TSC_VALUES = frozenset(
    "-p --project --outDir --rootDir --target -t --module -m --lib --jsx --outFile "
    "--declarationDir --tsBuildInfoFile --moduleResolution --baseUrl --types --typeRoots "
    "--sourceRoot --mapRoot --newLine --locale --generateTrace".split()
)


def _project_out(context: BuildContext, rel_dir: str, project: str, build: bool) -> str | None:
    """What ``_tsc_out`` says of one tsconfig (its references too when ``build``)."""
    if not project.endswith(".json"):
        project = posixpath.join(project, "tsconfig.json")
    path = posixpath.normpath(posixpath.join(rel_dir, project))
    config = _json(context, path)
    options = _compiler_options(context, path)
    if not isinstance(config, dict) or options is None:
        return None
    references = config.get("references") or [] if build else []
    if not isinstance(references, list):
        return None
    for ref in references:  # tsc -b builds them first: each must emit nothing
        ref_path = ref.get("path") if isinstance(ref, dict) else None
        if not isinstance(ref_path, str):
            return None
        folder = posixpath.dirname(path)
        if _project_out(context, "", posixpath.join(folder, ref_path), False) != "":
            return None
    if options.get("noEmit"):
        return ""
    out = options.get("outDir")
    if isinstance(out, str) and out and not options.get("outFile"):
        return out
    if config.get("files") == [] and (references or not build):
        return ""  # a solution file: compiles nothing itself
    return None


def _compiler_options(context: BuildContext, path: str, depth: int = 0) -> dict[str, Any] | None:
    """compilerOptions of the tsconfig at context path ``path`` with those of the configs it
    ``extends`` by relative path (``"./tsconfig.json"``, NestJS's tsconfig.build.json) under
    them; an outDir a base sets is made relative to ``path``'s folder, as tsc resolves it
    from the base's. None when unreadable or extending a package (its options are unseen)."""
    config = _json(context, path)
    if not isinstance(config, dict) or depth > 5:
        return None
    own = config.get("compilerOptions") or {}
    bases = config.get("extends", [])
    bases = [bases] if isinstance(bases, str) else bases
    if not isinstance(own, dict) or not isinstance(bases, list):
        return None
    merged: dict[str, Any] = {}
    folder = posixpath.dirname(path)
    for base in bases:
        if not isinstance(base, str) or not base.startswith("."):
            return None
        base_path = posixpath.normpath(posixpath.join(folder, base))
        if not base_path.endswith(".json"):
            base_path += ".json"
        inherited = _compiler_options(context, base_path, depth + 1)
        if inherited is None:
            return None
        out = inherited.get("outDir")
        if isinstance(out, str) and out:
            base_folder = posixpath.dirname(base_path)
            inherited["outDir"] = posixpath.relpath(posixpath.join(base_folder, out), folder or ".")
        merged.update(inherited)
    merged.update(own)
    return merged


def _config_file(argv: list[str]) -> bool:
    """The command names its own configuration file (``--config x.js``, ``-c x.js``)."""
    return any(a in ("-c", "--config") or a.startswith("--config=") for a in argv[1:])


def _config_files(context: BuildContext, rel_dir: str, tool: str) -> list[str]:
    """The ``<tool>.config.*`` files of the app directory."""
    names = [f"{tool}.config.{ext}" for ext in ("js", "mjs", "cjs", "ts", "mts")]
    paths = [posixpath.join(rel_dir, n) if rel_dir else n for n in names]
    return [p for p in paths if context.exists(p)]


def _sets_build_path(context: BuildContext, rel_dir: str, script: str) -> bool:
    """Create React App's output folder is moved by BUILD_PATH (script, the environment the
    caller adds to it, or .env files)."""
    names = (".env", ".env.production", ".env.local", ".env.production.local")
    texts = [script]
    for name in names:
        try:
            texts.append(context.read_known(posixpath.join(rel_dir, name)) or "")
        except Unreadable:  # a .env file msdfix cannot read may set it
            return True
    return any("BUILD_PATH" in text for text in texts)


# Plugins and settings that choose the output folder themselves: SvelteKit's adapter writes
# build/, Parcel's package.json "targets" their distDir, vue-cli its outputDir.
_FRAMEWORK_OUTPUT = re.compile(r"@sveltejs/kit|@remix-run|astro|@analogjs|vike|qwik|solid-start")


def _config_out(context: BuildContext, rel_dir: str, tool: str) -> str | None:
    """outDir of vite.config.* / output.path of webpack.config.*; the default when unset
    (None where a framework plugin or another setting chooses it)."""
    package = context.read_known(posixpath.join(rel_dir, "package.json")) or ""
    if tool == "parcel" and '"targets"' in package:
        return None
    if tool == "vue-cli-service" and (
        context.exists(posixpath.join(rel_dir, "vue.config.js")) or '"vue"' in package
    ):
        return None
    if tool == "vite" and (
        _FRAMEWORK_OUTPUT.search(package)
        or context.exists(posixpath.join(rel_dir, "svelte.config.js"))
    ):
        return None
    if tool not in ("vite", "webpack"):
        return BUNDLER_DEFAULTS[tool]
    key = {"vite": r"outDir", "webpack": r"path"}[tool]
    for ext in ("js", "mjs", "cjs", "ts", "mts"):
        rel = posixpath.join(rel_dir, f"{tool}.config.{ext}") if rel_dir else f"{tool}.config.{ext}"
        text = _read_js(context, rel)
        if text is None:
            continue
        if tool == "vite" and re.search(r"\broot\s*:", text):
            return None  # output relative to another root
        if tool == "webpack":  # output.path, not a plugin's or resolve's path
            blocks = _webpack_outputs(text)
            if blocks is None or len(blocks) > 1:
                return None
            text = "\n".join(blocks)
            if len(re.findall(r"\bpath\s*:", text)) > 1:
                return None
            # one line may hold the whole object: output: { path: resolve(...), filename }
            found = re.search(
                r"""\bpath\s*:\s*(?:['"]([^'"$`]+)['"]|path\.(?:resolve|join)\(\s*__dirname"""
                r"""\s*,\s*['"]([^'"$`]+)['"]\s*\))\s*(?:[,}]|$)""",
                text,
            )
            if found:
                return found.group(1) or found.group(2)
        match = re.search(rf"\b{key}\s*:\s*(.+)", text)
        if match is None:
            return BUNDLER_DEFAULTS[tool]
        value = match.group(1)
        # "\s*(?:,\s*)?", not "\s*,?\s*": two runs of spaces side by side split a long run in
        # every way before failing (quadratic)
        literal = re.fullmatch(r"""\s*['"]([^'"$`]+)['"]\s*(?:,\s*)?(//.*)?""", value)
        if literal:
            return literal.group(1)
        resolved = re.fullmatch(
            r"""\s*path\.(?:resolve|join)\(\s*__dirname\s*,\s*['"]([^'"$`]+)['"]\s*\)\s*(?:,\s*)?""",
            value,
        )
        return resolved.group(1) if resolved else None
    return BUNDLER_DEFAULTS[tool]


def _webpack_outputs(text: str) -> list[str] | None:
    """The text of each ``output: { ... }`` object of a webpack config; None when one is not
    an object literal (``output: outputFor(env)``)."""
    blocks = []
    for match in re.finditer(r"\boutput\s*:\s*", text):
        start = match.end()
        if text[start : start + 1] != "{":
            return None
        depth = 0
        for end in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                blocks.append(text[start + 1 : end])
                break
        else:
            return None
    return blocks


def static_server(
    argv: list[str], context: BuildContext, rel_dir: str, package: dict[str, Any] | None
) -> tuple[str, str] | None:
    """(directory relative to the app, server) when the entry command only serves static files."""
    command = argv
    label = " ".join(argv)
    if argv and posixpath.basename(argv[0]) in RUNNERS:
        if package is None:
            return None
        script = script_of(argv, package)
        commands = _commands(script) if script else []
        if len(commands) != 1:
            return None
        command = commands[0]
        label = f"{' '.join(argv)} ({script})"
    while command and command[0] in ("npx", "exec"):
        command = [a for a in command[1:] if not a.startswith("-")]
    if not command:
        return None
    program = posixpath.basename(command[0])
    if program == "vite" and command[1:2] == ["preview"]:
        if _config_file(command) or _config_files(context, rel_dir, "vite"):
            return None  # its host, port, headers and proxy come from the config
        try:
            out = _config_out(context, rel_dir, "vite")
        except Unreadable:
            return None
        return (out, label) if out else None
    if program not in STATIC_SERVERS:
        return None
    skip_values = {"-l", "--listen", "-p", "--port", "-a", "--address", "--host", "-c", "--config"}
    positional = positionals(command[1:], skip_values)
    if program == "sirv" and positional[:1] == ["start"]:
        positional = positional[1:]
    if len(positional) != 1:
        return None
    out = posixpath.normpath(positional[0])
    if out == "." or out.startswith(("..", "/")):
        return None
    if program == "serve" and not _serve_config_inside(command, out):
        return None
    return out, label


def _serve_config_inside(argv: list[str], out: str) -> bool:
    """serve's ``-c``/``--config`` file, which it resolves against the served directory, lies
    in it (built for real: ``serve -s dist -c ../serve.json`` in a runtime that ships only
    dist stopped with "Could not read configuration from file /app/serve.json")."""
    config = option(argv, "-c", "--config")
    if config is None:
        return True
    return not config.startswith("/") and _inside(posixpath.join(out, config), out)
