"""package.json scripts: the programs that run them, which one a command runs, hooks."""

from __future__ import annotations

import posixpath

from msdfix.ecosystems.base import positionals
from msdfix.ecosystems.node.managers import MANAGERS
from msdfix.model.context import BuildContext

# Programs that run package.json scripts (``npm run build``, ``yarn build``), each with the
# subcommands it runs itself even when a script has that name.
SCRIPT_RUNNERS: dict[str, frozenset[str]] = {
    "npm": frozenset(),
    "yarn": frozenset(),
    "yarnpkg": frozenset(),
    "pnpm": frozenset(),
    "bun": frozenset(
        "install i add remove rm update outdated link unlink pm x build test init create upgrade "
        "exec publish patch why audit info".split()
    ),
}


def _runner_value_options(program: str) -> frozenset[str]:
    """The options of a script runner that take the next word as their value (``--prefix``,
    ``--loglevel``, ``--cwd``, ``--filter``), from its package managers' ``value_options``."""
    name = "yarn" if program == "yarnpkg" else program
    return frozenset(o for m in MANAGERS if name in m.programs for o in m.value_options)


# Options that make a runner run the script of another package.json (npm's --prefix and
# --workspace, yarn's and bun's --cwd, pnpm's --dir and --filter).
PACKAGE_DIR_OPTIONS = frozenset(
    "--prefix -C --workspace -w --cwd --dir --filter -F".split()
)  # fmt: skip


def other_package(argv: list[str]) -> str | None:
    """The option and value with which a runner call runs the script of another package
    (``npm --prefix server start`` -> ``--prefix server``), whose package.json msdfix does
    not read for it; None for the context's own (no such option, or ``.``)."""
    program = posixpath.basename(argv[0]) if argv else ""
    options = _runner_value_options(program) & PACKAGE_DIR_OPTIONS
    for i, arg in enumerate(argv[1:], 1):
        option, eq, value = arg.partition("=")
        if option not in options:
            continue
        value = value if eq else (argv[i + 1] if i + 1 < len(argv) else "")
        if value.rstrip("/") not in ("", "."):
            return f"{option} {value}"
    return None


def script_name(argv: list[str]) -> str | None:
    """The package.json script a runner call names (``npm run build`` -> build), or None. An
    option's value is no script: ``npm --loglevel warn start`` runs start (built: read as a
    script ``warn``, the start script's dev dependency went unseen and the split's runtime
    failed with ``nodemon: not found``)."""
    program = posixpath.basename(argv[0]) if argv else ""
    builtins = SCRIPT_RUNNERS.get(program)
    words = positionals(argv[1:], _runner_value_options(program))
    if builtins is None or not words:
        return None
    if words[0] in ("run", "run-script"):
        return words[1] if len(words) > 1 else words[0]
    return None if words[0] in builtins else words[0]


# Runners that run a dependency's program (node_modules/.bin) when a name is neither one of
# their commands nor a script: yarn ("yarn run <bin>", and `yarn <bin>` as its shorthand),
# pnpm ("the exec part is optional when the command is not in conflict with a builtin pnpm
# command": `pnpm jest`) and bun (`bun run <bin>`); npm only runs scripts. Their commands
# (yarn 1 and 2+, pnpm, bun), from each CLI's documented command list.
_RUNNER_COMMANDS: dict[str, frozenset[str]] = {
    "yarn": frozenset(
        """access add audit autoclean bin cache check config constraints create dedupe dlx
        exec explain generate-lock-entry global help import info init install licenses link
        list login logout node npm outdated owner pack patch patch-commit plugin policies
        publish rebuild remove run search set stage tag team test unlink unplug up upgrade
        upgrade-interactive version versions why workspace workspaces""".split()
    ),
    "pnpm": frozenset(
        """add approve-builds audit bin c cache config create dedupe deploy dlx doctor env exec
        fetch i ignored-builds import init install install-test it licenses link list ls
        outdated pack patch patch-commit patch-remove prune publish rb rebuild recursive remove
        rm root run server setup start store test un uninstall unlink up update why""".split()
    ),
    "bun": frozenset(
        """add build create exec i init install link outdated patch pm publish remove rm run
        test unlink update upgrade why x""".split()
    ),
}
_RUNNER_COMMANDS["yarnpkg"] = _RUNNER_COMMANDS["yarn"]


def runner_program(argv: list[str], package: dict[str, object]) -> list[str] | None:
    """The dependency program a runner call runs, with its arguments, when it names neither
    one of the runner's commands nor a script (``yarn sequelize db:migrate`` -> ``sequelize
    db:migrate``; ``yarn run knex``), or None."""
    commands = _RUNNER_COMMANDS.get(posixpath.basename(argv[0])) if argv else None
    name = script_name(argv)
    scripts = package.get("scripts")
    if commands is None or name is None or name in commands or name not in argv:
        return None
    if isinstance(scripts, dict) and name in scripts:
        return None
    return argv[argv.index(name) :]


def script_bodies(argv: list[str], package: dict[str, object]) -> list[str]:
    """The package.json scripts a runner call runs, in order: ``preX``, ``X`` and ``postX``,
    as npm and yarn 1 run them (``npm start`` runs prestart, start, poststart); [] when it
    names no script."""
    scripts = package.get("scripts")
    name = script_name(argv) or ("start" if argv[1:2] == ["start"] else None)
    if name is None or not isinstance(scripts, dict):
        return []
    hooks = (scripts.get(f"pre{name}"), scripts.get(name), scripts.get(f"post{name}"))
    return [body for body in hooks if isinstance(body, str)]


# npm lifecycle scripts that run on a plain ``npm install`` / ``npm ci`` of the project.
NPM_LIFECYCLE = (
    "preinstall",
    "install",
    "postinstall",
    "prepare",
    "prepublish",
    "preprepare",
    "postprepare",
)


def lifecycle_hooks(package: dict[str, object], context: BuildContext, rel: str) -> list[str]:
    """The lifecycle scripts an install of the project in ``rel`` runs: package.json's, and
    npm's default ``install: node-gyp rebuild`` when the project has a binding.gyp and no
    install or preinstall script of its own (it writes ``build/`` next to package.json)."""
    scripts = package.get("scripts")
    scripts = scripts if isinstance(scripts, dict) else {}
    hooks = [s for s in NPM_LIFECYCLE if s in scripts]
    gyp = posixpath.join(rel, "binding.gyp") if rel not in ("", ".") else "binding.gyp"
    if "install" not in scripts and "preinstall" not in scripts and context.exists(gyp):
        hooks.append("npm's default install script (node-gyp rebuild of binding.gyp)")
    return hooks
