"""What the start commands run: node scripts, package scripts, npx programs, preloads."""

from __future__ import annotations

import posixpath

from msdfix.ecosystems.base import positionals
from msdfix.ecosystems.node.installs import PROJECT_INSTALLS
from msdfix.ecosystems.node.local_packages import local_dependency, patched_dependencies
from msdfix.ecosystems.node.scripts import other_package, runner_program, script_bodies
from msdfix.model.context import BuildContext
from msdfix.model.paths import within
from msdfix.shell.classify import program_args, start_install
from msdfix.shell.commands import parse_commands
from msdfix.shell.entry import context_script, entry_command
from msdfix.transforms.build_paths import resolve
from msdfix.transforms.split_stages import frontend
from msdfix.transforms.split_stages.build_stage import Analysis, Call, Plan
from msdfix.transforms.split_stages.node.app_files import package_dir
from msdfix.transforms.split_stages.node.global_installs import project_installs

# node options whose value is the next word (not the script).
_NODE_VALUE_OPTIONS = frozenset(
    "-r --require --import --loader --experimental-loader --env-file --conditions -C "
    "--input-type --title".split()
)


def _node_script(args: list[str]) -> str | None:
    """The script file of node's arguments (the first word that is not an option)."""
    return next(iter(positionals(args, _NODE_VALUE_OPTIONS)), None)


def entry_outside(a: Analysis, plan: Plan) -> str | None:
    """The script a ``node`` start command runs when the runtime does not copy it: a build
    step wrote it elsewhere (``pnpm deploy /prod/api``, ``esbuild --outfile=/srv/x.js``), or
    the build's output is not where msdfix looked (``"start": "node build/index.js"`` after
    ``tsc -b tsconfig.build.json``). A package.json script runs in the package's folder."""
    own = [list(argv) for argv in (a.entry.commands if a.entry else [])]
    scripts = _package_scripts(a, own)
    runs: list[tuple[list[str], str | None]] = [(argv, a.final_dir) for argv in own]
    runs += [(argv, folder) for argv, folder in scripts if (argv, folder) not in runs]
    listed = {tuple(argv) for argv, _ in runs}
    runs += [(w, None) for w in (a.start or []) if tuple(w) not in listed]
    for argv, folder in runs:
        if not argv or posixpath.basename(argv[0]) != "node" or {"-e", "--eval", "-p"} & set(argv):
            continue
        script = _node_script(argv[1:])
        if script is None or "$" in script or (folder is None and not script.startswith("/")):
            continue
        path = resolve(script, folder or a.final_dir)
        if path == resolve(".", folder or a.final_dir):
            continue  # node .: package.json's main, which msdfix does not follow
        copied = [*plan.copies, *plan.moves.values()]
        paths = [path] + [path + ext for ext in (".js", ".cjs", ".mjs", ".json")]  # node server
        if not any(within(p, c) for p in paths for c in copied) and not path.startswith("/usr/"):
            return f"the start command runs {path}, which the runtime would not have"
    return None


def _package_scripts(a: Analysis, own: list[list[str]]) -> list[tuple[list[str], str]]:
    """The commands of the package.json scripts the entry command runs (``npm start``, with
    their hooks and the scripts they run in turn), each with the app folder they run in;
    none from a script that changes folder (``cd``)."""
    installs = project_installs(a)
    if not installs or not a.ctx.present:
        return []
    app = installs[0].cwd
    rel = package_dir(a, app)
    package = frontend.package_json(a.ctx, rel) if rel is not None else None
    if package is None:
        return []
    found: list[tuple[list[str], str]] = []
    todo = [argv for argv in own if argv and argv[0] in PROJECT_INSTALLS]
    seen = 0
    while todo and seen < 40:
        argv, seen = todo.pop(), seen + 1
        for body in script_bodies(argv, package):
            commands = [c.argv for c in parse_commands(body) if c.argv]
            if any(c[0] == "cd" for c in commands):
                continue
            for command in commands:
                if command[0] in PROJECT_INSTALLS:
                    todo.append(command)
                else:
                    found.append((command, app))
    return found


# node's options whose value is a module it loads before the program.
PRELOAD_FLAGS = ("-r", "--require", "--import", "--loader", "--experimental-loader")


def preloaded(argv: list[str]) -> list[str]:
    """The packages ``node`` loads by name before the program (``-r dotenv/config``,
    ``--import=tsx``); paths (``./tracing.js``) are sources, not packages."""
    if not argv or posixpath.basename(argv[0]) not in ("node", "nodejs"):
        return []
    found = []
    for i, word in enumerate(argv[1:], 1):
        flag, eq, value = word.partition("=")
        if flag not in PRELOAD_FLAGS:
            continue
        value = value if eq else (argv[i + 1] if i + 1 < len(argv) else "")
        if value and not value.startswith((".", "/", "file:", "data:", "node:")):
            found.append(value)
    return found


def local_specifier(ctx: BuildContext, rel: str, package: dict[str, object]) -> str | None:
    """A dependency installed from the app's own files (a path, a tarball, ``file:``, a
    patch), or patched dependencies (pnpm, bun): the manifests alone do not install it."""
    patched = patched_dependencies(ctx, rel, package)
    if patched is not None:
        return f"patched dependencies ({patched}: patch files)"
    local = local_dependency(package)
    return f"{local[0]}@{local[1]}" if local else None


def runs_package(call: Call, package: dict[str, object]) -> bool:
    """``npx X``, ``npm exec``, ``yarn dlx``, ``yarn X`` where no script is named X: a
    package's program, which may write node_modules; ``npm rebuild bcrypt`` builds one (after
    ``npm ci --ignore-scripts``)."""
    if call.program == "npx" or call.sub in ("exec", "x", "dlx", "rebuild", "rb"):
        return True
    return runner_program([call.program, *call.args], package) is not None


# Programs of a package.json script that write into node_modules (patch-package patches
# dependencies in place; node-gyp and npm rebuild build their addons).
MODULE_WRITERS = frozenset({"patch-package", "node-gyp", "node-pre-gyp", "prebuild-install"})


def script_writes_modules(script: str, package: dict[str, object]) -> str | None:
    """The program of a package.json script that writes into node_modules, if any, also
    where a runner starts it (``npx patch-package``, ``yarn patch-package``)."""
    for command in parse_commands(script):
        program, args = _package_program(*program_args(command), package)
        if (
            program in MODULE_WRITERS
            or program in ("npm", "pnpm", "yarn")
            and args[:1]
            in (
                ["rebuild"],
                ["rb"],
            )
        ):
            return program
    return None


def _package_program(
    program: str, args: list[str], package: dict[str, object]
) -> tuple[str, list[str]]:
    """The dependency program a runner call starts (``npx X``, ``npm exec X``, ``yarn dlx X``,
    ``yarn X`` where no script is named X) with its arguments; else the call itself."""
    words = [program, *args]
    if program == "npx" or program in PROJECT_INSTALLS and args[:1] in (["exec"], ["x"], ["dlx"]):
        rest = args if program == "npx" else args[1:]
        words = [w for w in rest if not w.startswith("-")][:1] + rest[1:]
    else:
        words = runner_program(words, package) or words
    return (words[0], words[1:]) if words else (program, args)


# Programs a start command runs that no dev dependency provides.
START_PROGRAMS = frozenset(
    """node npm npx yarn pnpm corepack sh bash exec env cd echo printf set export true false test
    [ sleep cat mkdir rm cp mv ln touch chmod chown wait exit trap ulimit umask tini dumb-init
    su-exec gosu""".split()
)


def start_commands_of(a: Analysis, package: dict[str, object]) -> list[list[str]]:
    """The entry command's commands (its scripts' too), package.json scripts it runs expanded
    with their pre/post hooks (nested ones too)."""
    words: list[list[str]] = []
    todo = [list(argv) for argv in (a.entry.commands if a.entry else [])]
    command = entry_command(a.stage)
    for script in command.scripts if command else []:  # ENTRYPOINT ["docker-entrypoint.sh"]
        text = context_script(a.ctx, script) or ""
        todo += [c.argv for c in parse_commands(text) if c.argv]
    options = a.scope().get("NODE_OPTIONS")  # preloads into every node process: -r dotenv/config
    if options:
        todo.append(["node", *options.split()])
    seen = 0
    while todo and seen < 40:
        argv, seen = todo.pop(), seen + 1
        if argv and argv[0] in PROJECT_INSTALLS and other_package(argv):
            words.append(argv)  # another package's script (--prefix, --filter): not read
            continue
        if argv and argv[0] in PROJECT_INSTALLS:
            for body in script_bodies(argv, package):  # npm runs prestart before start
                todo += [c.argv for c in parse_commands(body) if c.argv]
            program = runner_program(argv, package)  # yarn sequelize db:migrate
            if program:
                todo.append(program)
            if not start_install(argv):  # a script's `npm ci` installs at start: kept
                continue
        words.append(argv[1:] if argv and argv[0] == "npx" else argv)
    return [w for w in words if w]
