"""split-stages: a single stage that builds from source becomes a build stage and a runtime stage.

What it does
    Names the original stage ``build`` (its text is kept, ``AS build`` is appended to its FROM)
    and appends a ``runtime`` stage on the smallest base that still runs the program, with only
    the artefact and the files the program reads copied over (``COPY --from=build``) at the same
    paths. ARG/ENV/WORKDIR/USER/SHELL are repeated in the runtime stage; EXPOSE/LABEL/VOLUME/
    HEALTHCHECK/STOPSIGNAL/ENTRYPOINT/CMD move there with their comments, so the final image's
    configuration is byte-identical. Per ecosystem:

    - Go: ``go build -o X`` -> the binary on ``gcr.io/distroless/static-debian12``;
      ``CGO_ENABLED=0`` is added only when the context shows no cgo (no ``import "C"``, no cgo
      module in go.mod); cgo or unknown -> ``distroless/base-debian12`` (glibc); a shell-form
      CMD or user setup -> ``debian:<release>-slim`` (``alpine`` for alpine builds).
    - Rust: ``cargo build --release`` -> ``target/release/<bin>`` on
      ``gcr.io/distroless/cc-debian12`` (glibc, libgcc, libssl3, CA certificates) for an exec-form
      entry built on Debian 12 or older; otherwise ``debian:<release>-slim`` plus the libraries
      Cargo.lock crates link (``openssl-sys`` -> ``libssl3``).
    - Java: Maven/Gradle -> the jar the CMD runs (``-jar``, checked against pom.xml) or the
      ``installDist`` tree, on the JRE of the same vendor and major (``eclipse-temurin:17-jre``).
    - .NET: ``dotnet publish -o X`` -> X on ``mcr.microsoft.com/dotnet/aspnet`` (``runtime`` for
      console projects) of the same version.
    - Rust ``cargo install --path X``: the binary in ``$CARGO_HOME/bin`` (``/usr/local/cargo``;
      name from Cargo.toml) is copied to ``/usr/local/bin``, so a bare-name CMD still finds it.
    - Node (backends and static frontends alike, same server and port): the app on
      ``node:<tag>-slim``. Production dependencies come from a ``prod-deps`` stage that installs
      from the manifests alone (``npm ci --omit=dev``, ``yarn install --production``, yarn 4
      ``workspaces focus --all --production``, ``pnpm install --prod``, with the original
      install's flags), so source edits never re-run it; the runtime copies its
      ``node_modules`` and the app's files from the build stage without the build's
      ``node_modules`` (the top-level entries the context and the known build outputs give, or
      an ``app-files`` stage that deletes ``node_modules`` when the outputs are unknown). When the
      build deletes ``node_modules`` itself, none come back. A site served by a static file
      server (``serve``/``http-server``/``sirv``) ships the served directory, package.json and
      the production dependencies only. Global npm installs carry ``/usr/local`` when the entry
      may run them. A static frontend is also offered on ``nginx:1.25-alpine`` (unsafe).
    - Several apps: a frontend built with npm/yarn/pnpm in its own directory next to a Go (or
      other) backend, or in a subdirectory of a Node backend, gets a ``frontend`` stage
      (BuildKit builds it in parallel) on ``node:<major>-slim`` (the major of the build image's
      distribution ``nodejs`` package; the same image for Node) copying only that directory.
      Its output (from the build script: vite/webpack config, esbuild/parcel flags,
      react-scripts; or the ``//go:embed`` directory) is copied into the build stage where its
      RUNs were, and to the runtime unless Go embeds it. One package.json for client and server
      (a Node app whose server serves its own bundle) is one app: one build stage.
    - Python: ``/usr/local`` (interpreter + pip installs) or the virtualenv, and the app, on
      ``python:<tag>-slim``; ``-dev`` packages and compilers stay in the build stage, their
      runtime libraries are installed instead (``libpq-dev`` -> ``libpq5``).
    - Context COPYs after the build's last RUN (usually the sources) move verbatim to the
      runtime (Python; Node when the app directory is copied whole), so a source edit leaves
      the build stage cached and BuildKit need not re-checksum what the runtime copies from it.

    Test runners and linters (``pytest``, ``ruff check``, ``go test``, ``npm test`` ...: see
    ``shell/checks.py``) write nothing the runtime needs: they stay in the build stage,
    so the build still fails when they fail (``test-stage`` can move them to a ``test``
    stage, unsafe). OS packages that are not build tools are installed again in the runtime stage with the
    runtime's own package manager (apk on alpine, apt-get on Debian; ``-dev`` packages mapped
    to their libraries per manager, e.g. ``libpq-dev`` -> ``libpq5`` / ``libpq``); tools a
    program may run (curl, git, openssh-client, ...) are kept unless the copied sources,
    scripts and commands show that nothing runs them. RUNs that only create users/directories
    or set permissions are repeated there, after the copies of the files they touch. The
    runtime repeats the build stage's ``--platform``; distroless runtimes get a tag (below).
Why
    A single stage ships the compiler, the package caches and the sources: typically 1 GB where
    20-150 MB would do.
Example
    ``FROM golang:1.22`` ... ``RUN go build -o /app/server .`` ... ``CMD ["/app/server"]``
    becomes ``FROM golang:1.22 AS build`` ... ``RUN CGO_ENABLED=0 go build -o /app/server .``
    and ``FROM gcr.io/distroless/static-debian12 AS runtime`` /
    ``COPY --from=build /app/server /app/server`` / ``CMD ["/app/server"]``.
Fix safety
    Runtime image rules: ``--platform=X`` of the build stage is repeated on every new stage,
    except ``$BUILDPLATFORM`` when Go cross-compiles (``GOOS``/``GOARCH`` from
    ``$TARGETOS``/``$TARGETARCH`` declared with ARG, cgo off): then the runtime is the target
    platform. Distroless images have no version tags and hadolint flags untagged or ``:latest``
    ones (DL3006/DL3007): a program that runs as ``nonroot``/65532 gets ``:nonroot`` (the same
    user; ``WORKDIR /`` repeated when none is set), any other gets ``:debug`` (root like
    ``:latest``, plus busybox) with ``ENTRYPOINT []`` so its ``/busybox/sh`` entrypoint does not
    wrap the command. A digest-pinned build image makes the split display-only (the runtime
    image's digest is unknown, as in slim-base). The runtime never copies ``/`` or another
    whole system directory. Dual-use tools (curl, git, ...) without a build context are kept
    on a runtime with a package manager, or make a distroless split unsafe.
    Safe when the artefact and everything the program needs are known: Go (static binary
    proven by the context or ``CGO_ENABLED=0``; unknown cgo uses a glibc base), Rust with a
    Cargo.lock, Java with a ``-jar``/installDist entry on a JRE of the same vendor, .NET,
    Node (production dependencies from the lock file of the manager in use; dev dependencies
    are kept, with the reason, without a lock file, with workspaces, install lifecycle scripts,
    yarn Plug'n'Play, or a start command that uses a dev dependency), and Python with evidence
    that every package installs from a wheel (a lock file listing wheels, ``--only-binary
    :all:``, or packaging tools only; the runtime libraries of known source-built packages
    come from a mapping table); a frontend stage on the Node major of the distribution's ``nodejs`` package
    the stage installed (the same image for Node backends). Unsafe (offered with
    ``--unsafe-fixes``): Rust without a build context and Python without that wheel evidence
    (shared libraries unknown),
    builds that run the app's own scripts (``python x.py``, ``node x.js``) that may write files
    outside the copied paths, a frontend whose Node major is a guess (release unknown), and
    nginx for a static frontend (a separate fix, yielded first so it wins when unsafe fixes are
    on: it changes CMD, EXPOSE, WORKDIR and ENV and declares them in its own
    ``changes_config``; the safe split keeps the same server and port). Not split (the reason
    is shown): unknown build commands or downloads, ``cargo install`` of a crate (not the copied
    sources), ``-dev`` packages without a known runtime library, packages of another package manager than
    the runtime's, a runtime that would copy a whole system directory, users created by build RUNs,
    ENV reading the build image's variables, a CMD that does not run the artefact, an artefact
    whose name cannot be found, a frontend whose output directory cannot be told, that shares
    the backend's directory or whose RUN also builds the backend, ONBUILD (its triggers belong
    to the final image). Never touched: multi-stage files, Windows images, ``FROM scratch``,
    bases that are not a known toolchain image.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from msdfix.document import Document
from msdfix.ecosystems.accounts import (
    ACCOUNT_MAKERS,
    account_change,
    created_account,
    image_account,
    made_name,
    ubuntu_accounts_differ,
    uid_change,
)
from msdfix.ecosystems.node.managers import NPM_EXEC
from msdfix.ecosystems.os import APT, package_manager
from msdfix.ecosystems.registry import ecosystem_of
from msdfix.ecosystems.runtime_users import ACCOUNT_EDITS
from msdfix.fixes import Applicability, Edit, Finding, apply_edits
from msdfix.model import Stage
from msdfix.model.args import expand
from msdfix.model.paths import within
from msdfix.model.users import effective_user, is_root
from msdfix.shell.classify import program_args, start_install
from msdfix.shell.entry import toolbox
from msdfix.shell.script import run_script
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values
from msdfix.transforms.base import Transform, register
from msdfix.transforms.build_paths import mkdir_args, resolve
from msdfix.transforms.split_stages.build_stage import (
    ALPINE_SETUP,
    DEBIAN_SETUP,
    ECO_TOOLS,
    MOVE,
    REPEAT,
    SETUP,
    Analysis,
    Decline,
    NotABuild,
    Plan,
    alias_edits,
    build_alias,
    copy_line,
    final_user,
    keyword,
    runtime_alias,
)
from msdfix.transforms.split_stages.compose import compose_override
from msdfix.transforms.split_stages.frontend_stage import (
    NGINX_CONFIG,
    apply_frontend,
    nginx_runtime,
    plan_frontend,
)
from msdfix.transforms.split_stages.go import plan_go
from msdfix.transforms.split_stages.image_tools import check_image_tools
from msdfix.transforms.split_stages.jvm import plan_dotnet, plan_java
from msdfix.transforms.split_stages.node import plan_node
from msdfix.transforms.split_stages.node.deps_stage import APP_FILES, BUILD_ALIAS
from msdfix.transforms.split_stages.node.global_installs import GLOBAL_DIRS
from msdfix.transforms.split_stages.node.removals import no_deleted_copies
from msdfix.transforms.split_stages.outside_writes import check_writes_outside_copies
from msdfix.transforms.split_stages.ownership import (
    OWNERSHIP,
    account_runs,
    all_folders_set,
    carried_folder_runs,
    chown_made_dirs,
    copied_dir_modes,
    copied_files,
    copy_owner,
    first_maker,
    folder_runs,
    gives_files_away,
    late_folder_runs,
    late_owners_exist,
    note_folder_runs,
    remade_by_copy,
    repeated_late,
    runtime_has_group,
    runtime_has_user,
    setgid_named_copies,
    workdir_over_made,
)
from msdfix.transforms.split_stages.python import plan_python
from msdfix.transforms.split_stages.runtime_image import (
    default_workdir,
    pinned,
    registry_runtime,
    runtime_platform,
    tag_distroless,
)
from msdfix.transforms.split_stages.runtime_packages import add_runtime_packages, build_only_run
from msdfix.transforms.split_stages.rust import plan_rust

PLANNERS = {
    "go": plan_go,
    "rust": plan_rust,
    "java": plan_java,
    "dotnet": plan_dotnet,
    "node": plan_node,
    "python": plan_python,
}


# ---------------------------------------------------------------- common checks and rendering


def _start_install(a: Analysis, plan: Plan) -> str | None:
    """``npm ci`` (or another install that reads a package cache) run by the start command;
    ``npx X`` and ``npm exec X`` of a program in ``plan.local_bins`` read none."""
    argvs = [*(a.entry.commands if a.entry else []), *a.start]
    return next(
        (f for argv in argvs if not _local_run(argv, plan) and (f := start_install(argv))), None
    )


def _local_run(argv: list[str], plan: Plan) -> bool:
    """``npx X ...``, ``npm exec X ...`` or ``npm exec -- X ...`` (``npm x``: NPM_EXEC; no
    option of their own) where X is a program of ``plan.local_bins``."""
    npm_exec = argv[:1] == ["npm"] and argv[1:2] != [] and argv[1] in NPM_EXEC
    words = argv[1:] if argv[:1] == ["npx"] else argv[2:] if npm_exec else []
    words = words[1:] if words[:1] == ["--"] and argv[0] == "npm" else words
    return bool(words) and words[0] in plan.local_bins


def _common_checks(a: Analysis, plan: Plan) -> None:
    for ins, program in a.unknown:
        if id(ins) in a.mixed:
            raise Decline(
                f"RUN at line {ins.start_line} runs `{program}` together with other build "
                "steps: the frontend build cannot get its own stage"
            )
        raise Decline(
            f"RUN at line {ins.start_line} runs `{program}`, "
            "which may create files the runtime needs"
        )
    add_runtime_packages(a, plan)
    from_base = sorted(n for n in a.removed if n not in a.packages)
    if from_base and plan.unsafe is None:
        plan.unsafe = (
            f"the build removes {' '.join(from_base)}, which it did not install: the runtime "
            "stage starts from a fresh base image and keeps them if the base has them"
        )
    installer = _start_install(a, plan)
    if installer and plan.unsafe is None:
        plan.unsafe = (
            f"the start command runs `{installer}`, which reads the package cache the build "
            "image carries; the runtime stage has none (an offline start fails)"
        )
    if toolbox(a.entry) and plan.unsafe is None:
        plan.unsafe = (
            "the image sets no CMD/ENTRYPOINT"
            if a.entry is None
            else f"the image starts `{a.entry.argv[0]}`"
        ) + ": its users may rely on tools of the build image"
    if a.scripts and plan.unsafe is None:
        first = a.scripts[0]
        plan.unsafe = (
            f"RUN at line {first.ins.start_line} runs `{first.program} {first.args[0]}`, "
            "which may write files outside the copied paths"
        )
    allowed = ALPINE_SETUP if plan.apk else DEBIAN_SETUP if not plan.same_family else SETUP
    for ins in a.setup_runs:
        script = run_script(ins, a.doc.text)
        programs = {program_args(c)[0] for c in script.commands} if script else set()
        if not plan.shell or not programs & SETUP <= allowed:
            raise Decline(f"RUN at line {ins.start_line} cannot be repeated on {plan.runtime}")
        base = a.stage.lineage[0].image.raw
        if programs & ACCOUNT_MAKERS and plan.unsafe is None:
            if differ := ubuntu_accounts_differ(base, plan.runtime):
                plan.unsafe = (
                    f"RUN at line {ins.start_line} adds an account again on {plan.runtime}: "
                    f"{differ} (a useradd -u 1000 fails there, a free id is another)"
                )
    user = final_user(a)
    if not is_root(user) and not re.fullmatch(r"[0-9]+(:[0-9]+)?", user) and "$" not in user:
        if not runtime_has_user(a, plan, user, a.setup_runs):
            raise Decline(_unknown_user(a, plan, user))
        if plan.unsafe is None:
            plan.unsafe = _runtime_only_user(a, plan, user)
    elif "$" in user:
        raise Decline("USER is set from a variable")
    elif not is_root(user) and (edit := _build_account_edit(a)) is not None:
        raise Decline(
            f"USER {user} may name an account that RUN at line {edit.start_line} adds or "
            "changes together with build steps; the runtime stage would not have it"
        )
    elif not is_root(user) and plan.unsafe is None:
        base, uid = a.stage.lineage[0].image.raw, user.split(":")[0]
        if moved := uid_change(base, plan.runtime, uid):
            plan.unsafe = f"USER {user} would run with another group or HOME: {moved}"
    defined = set(a.scope()) | {"PATH", "HOME", "HOSTNAME"}
    if not plan.same_family:
        for ins in a.stage.instructions:
            if ins.cmd in REPEAT | MOVE:
                for var in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", ins.args):
                    if var not in defined:
                        raise Decline(
                            f"{ins.keyword} at line {ins.start_line} "
                            f"reads ${var} from the build image"
                        )
    for path in [*plan.copies, *plan.moves.values()]:
        if path in WHOLE_SYSTEM:
            raise Decline(f"the runtime would need all of {path} from the build image")
        variable = re.search(r"\$\{?\w+\}?", path)
        if variable:  # a build argument's default: --build-arg would move the files
            raise Decline(
                f"the paths it would copy depend on {variable.group(0)}, which a build "
                "argument may change"
            )
    anchor = _anchor(a)
    _no_mkdir_of_copies(a, plan, anchor)
    late_owners_exist(a, plan, anchor)
    builder = [
        i.args.strip() for i in a.stage.of("user") if anchor is not None and i.start < anchor.start
    ]
    if builder and not is_root(builder[-1]) and plan.same_family:
        plan.chown = builder[-1]  # files the build created belong to this user
    folders = folder_runs(a, plan, anchor)
    after = late_folder_runs(a, plan, anchor)
    note_folder_runs(a, plan, folders, after)
    carried: set[int] = set()  # (asked only of a chown: `gives_files_away`)
    repeated: set[int] = set()
    if any(re.search(r"\bchown\b", i.args) for i in a.setup_runs):
        order = _ordered_setup(a, plan, anchor)
        carried = carried_folder_runs(a, plan, anchor, {k for k, v in order.items() if not v})
        repeated = {k for k, v in order.items() if v}
    given = gives_files_away(a, {*folders, *after, *repeated_late(a, anchor), *carried})
    owned = bool(builder and not is_root(builder[-1]) or given)
    owned = owned and not all_folders_set(a, plan, folders, anchor)
    if owned and not is_root(user) and plan.unsafe is None:
        plan.unsafe = _owners_reason(a, user, given, repeated)
    _top_metadata(a, plan, anchor)
    chown_made_dirs(a, plan)
    setgid_named_copies(a, plan, [i for i in a.setup_runs if anchor and i.start < anchor.start])
    if plan.unsafe is None and any(not is_root(u.args.strip()) for u in a.stage.of("user")):
        workdir_over_made(a, plan, anchor, {*_repeated_before_copies(a, plan), *folders})
    _home_dirs(a, plan)
    check_image_tools(a, plan)
    if plan.unsafe is None:
        plan.unsafe = build_only_run(a, plan.packages)
    check_writes_outside_copies(a, plan)
    _volume_before_writes(a, plan)
    _copied_links(a, plan)
    copied_dir_modes(a, plan)
    if plan.unsafe is None:
        cmd = None if a.stage.of("entrypoint") else a.entry
        plan.unsafe = compose_override(a.ctx, cmd, plan.shell)


def _top_metadata(a: Analysis, plan: Plan, anchor: Instruction | None) -> None:
    """A build RUN that sets the owner or mode of a copied directory itself, or of a folder
    above one, makes the split unsafe: ``COPY --from`` carries what is inside, but the
    runtime's copy of that directory belongs to root with mode 755 (built: after ``RUN chown
    app:app /app`` the original's /app belonged to app, the runtime's to root, whether its
    WORKDIR or the COPY made it). A RUN the runtime repeats after the copies sets it again,
    unless it is recursive: then it would also change the files the build made later; one
    after the last build step changes the same files (built: `RUN chown -R node:node /app`
    after `npm ci && npm run build`, the split's /app tree had the original's owners). A
    context file ``COPY --from`` names keeps its owner and mode (built: an entrypoint script
    given mode 755, a file with mode 4755, one with mode 600 owned by node). ``mkdir -m``
    sets a mode too, and repeated after the copies leaves the folder there as it is (built:
    ``RUN mkdir -p -m 777 /app`` before ``WORKDIR /app``, left out of the runtime: /app 777
    in the original, 755 in the split, where node's writes there failed EACCES). Not a folder
    a later context COPY brings anew, with the context's owner and mode, which
    ``copied_dir_modes`` weighs (built: ``mkdir -p /app/uploads && chgrp node /app/uploads &&
    chmod 2775 /app/uploads``, then ``COPY . .`` with an uploads/ of mode 755: root's 755 in
    the original and in the prod-deps split)."""
    if plan.unsafe is not None:
        return
    files = copied_files(a)
    copied = [plan.moves.get(p, p) for p in plan.copies if p != "/"]
    late = _ordered_setup(a, plan, anchor)
    # repeated after the copies and after every build step (sets it again, over the same
    # files), or a folder RUN the runtime repeats where it sets the same owners
    skipped = {*repeated_late(a, anchor), *folder_runs(a, plan, anchor)}
    skipped |= set(late_folder_runs(a, plan, anchor))
    for ins in a.stage.of("run"):
        script = run_script(ins, a.doc.text) if id(ins) not in skipped else None
        for command in script.commands if script else []:
            program, args = program_args(command)
            made, moded = mkdir_args(args) if program == "mkdir" else ([], False)
            if program not in OWNERSHIP and not moded:
                continue
            recursive = any(_has_flag(x, "R", "--recursive") for x in args)
            if late.get(id(ins)) and not recursive and not moded:
                continue  # (`mkdir -p -m` leaves the mode of a folder that exists)
            cwd = resolve(command.cwd, a.dirs[id(ins)]) if command.cwd else a.dirs[id(ins)]
            words = made if moded else [x for x in args if not x.startswith("-")]
            for path in (resolve(x, cwd) for x in words):
                if path in files or not any(within(c, path) for c in copied):
                    continue
                if a.ctx.present and remade_by_copy(a, ins, path) is not None:
                    continue  # (the build's folder has the context's owner and mode)
                plan.unsafe = f"RUN at line {ins.start_line} sets the owner or mode of {path}, " + (
                    "which COPY --from does not carry, and `mkdir -p` repeated after the "
                    "copies leaves as it finds it"
                    if moded
                    else "and repeated after the copies it would change the files the build "
                    "made later too"
                    if late.get(id(ins))
                    else "which COPY --from does not carry: the runtime's copy belongs to root "
                    "with mode 755"
                )
                return


def _home_dirs(a: Analysis, plan: Plan) -> None:
    """A ``useradd``/``adduser`` whose home is a copied directory or a folder above one
    (``useradd -m -d /app appuser``) makes it that user's, with the skeleton's dotfiles; the
    runtime's copy belongs to root, and a useradd repeated after the copies finds the home
    there and neither takes it over nor copies the skeleton (built: the original's /app was
    appuser's with .bashrc, .profile and .bash_logout, the split's root's without them). A
    home msdfix cannot tell counts. A setup RUN the runtime repeats in its place, before the
    copies, makes the home there as in the build (built: ``useradd -m -u 1200 app``, ``USER
    app``, ``WORKDIR /home/app/web`` or ``/home/app``, ``COPY --chown=app . .``: the same
    listing, skeleton files and writes), unless a COPY or a RUN it does not repeat made the
    home first in the build, where useradd takes no folder that exists (built: ``COPY
    package*.json /home/app/`` or ``mkdir -p /home/app/web`` before ``useradd -m app``:
    /home/app root's without .bashrc in the original, app's with it in the split)."""
    if plan.unsafe is not None:
        return
    copied = [plan.moves.get(p, p) for p in plan.copies if p != "/"]
    before: set[int] | None = None  # (worked out for a RUN that makes a home only)
    for ins in a.stage.of("run"):
        script = run_script(ins, a.doc.text)
        for command in script.commands if script else []:
            program, args = program_args(command)
            if program not in ("useradd", "adduser") or not _makes_home(a, program, args):
                continue
            before = _repeated_before_copies(a, plan) if before is None else before
            account = created_account(program, args)
            home = account.home if account is not None else None
            if id(ins) in before:
                maker = first_maker(a, ins, home, before) if home else None
                if maker is None or account is None:
                    break
                plan.unsafe = (
                    f"RUN at line {ins.start_line} makes {home} the home of {account.name} "
                    f"in the runtime, where {maker.keyword} at line {maker.start_line} made "
                    "that folder first in the build (useradd then leaves it as it was: not "
                    "that user's, without the skeleton files)"
                )
                return
            if home is None or any(within(c, home) for c in copied):
                plan.unsafe = (
                    f"RUN at line {ins.start_line} makes "
                    + (f"{home} the home of {account.name}" if account and home else "a home")
                    + " (owned by that user, with its skeleton files), which COPY --from "
                    "does not carry: the runtime's copy belongs to root"
                )
                return


def _repeated_before_copies(a: Analysis, plan: Plan) -> set[int]:
    """``id(ins)`` of the setup RUNs the runtime repeats in their place before its copies:
    before the anchor, touching no copied path, and after no RUN that waits for the copies."""
    anchor = _anchor(a)
    late = _ordered_setup(a, plan, anchor)
    found: set[int] = set()
    for ins in a.setup_runs:
        if anchor is None or ins.start > anchor.start or late.get(id(ins)):
            break
        found |= set() if id(ins) in late else {id(ins)}
    return found


def _makes_home(a: Analysis, program: str, args: list[str]) -> bool:
    """Whether the command may create the user's home: ``useradd -M`` never does, and
    without ``-m`` only where login.defs sets CREATE_HOME (Debian's and Ubuntu's do not:
    useradd(8), "no home directories are created"); adduser creates it unless told not to."""
    if program == "adduser":
        return not any(x in ("--no-create-home", "-H") for x in args)
    if any(x in ("-M", "--no-create-home") for x in args):
        return False
    short = any(x.startswith("-") and not x.startswith("--") and "m" in x for x in args)
    return short or "--create-home" in args or package_manager(a.stage.image.raw) != APT


def _copied_links(a: Analysis, plan: Plan) -> None:
    """A context symlink that the build's COPY brings in with its folder, and the runtime
    copies by name, makes the split unsafe: ``COPY --from`` follows a source that is a link,
    so the runtime gets a copy of the target's files, or nothing of a link to a directory
    the walk did not enter (built: ``public -> assets`` was missing from the runtime, and
    the app's read of public/ failed with ENOENT)."""
    if plan.unsafe is not None or not a.ctx.present:
        return
    copied = [plan.moves.get(p, p) for p in plan.copies if p != "/"]
    folders = {posixpath.dirname(c) for c in copied}
    for copy in a.copies:
        sources = set(copy.rels(a.ctx))
        files = [(rel, dest, False) for rel, dest in copy.context_files(a.ctx)]
        for rel, dest, folder in [*files, *((r, d, True) for r, d in copy.dir_links(a.ctx))]:
            target = a.ctx.link_target(rel)
            if target is None or rel in sources:
                continue
            if dest in copied:
                why = "copies by name: COPY --from would copy what it points to, not the link"
            elif folder and not any(within(dest, c) for c in copied):
                if not any(within(dest, f) for f in folders):
                    continue
                why = "does not copy (the folders it copies are named one by one)"
            else:
                continue
            plan.unsafe = (
                f"{dest} is a symlink in the build context (to {target}), which the runtime {why}"
            )
            return


def _volume_before_writes(a: Analysis, plan: Plan) -> None:
    """A VOLUME followed by a RUN, over a path the runtime copies, makes the split unsafe: the
    legacy builder (``DOCKER_BUILDKIT=0``) drops what a RUN writes under a volume declared
    before it (BuildKit keeps it), and the split's runtime gets those files by COPY, which
    both keep (built on the legacy builder: ``VOLUME /app`` before ``RUN npm ci``, the
    original's app failed "Cannot find module 'ms'", the split's answered)."""
    copied = [plan.moves.get(p, p) for p in plan.copies]
    runs = a.stage.of("run")
    for vol in a.stage.of("volume"):
        run = next((r for r in runs if r.start > vol.start), None)
        if run is None:
            continue
        scope = a.model.fixed_scope(a.stage, vol)
        for raw in instruction_values(vol)[1]:
            path = posixpath.normpath(expand(raw, scope))
            if any(within(c, path) or within(path, c) for c in copied) and plan.unsafe is None:
                plan.unsafe = (
                    f"VOLUME {path} (line {vol.start_line}) comes before RUN at line "
                    f"{run.start_line}: the legacy builder drops a RUN's writes under a volume "
                    "(BuildKit keeps them), and the split's COPY keeps them on both"
                )
                return


WHOLE_SYSTEM = frozenset(
    {"/", "/usr", "/etc", "/var", "/lib", "/lib64", "/bin", "/sbin", "/usr/lib"}
)


def _ordered_setup(a: Analysis, plan: Plan, anchor: Instruction | None) -> dict[int, bool]:
    """Setup RUNs before the anchor that touch copied paths -> whether they are still needed.

    Needed ones (they also create users or touch other paths) go after the copies; RUNs that
    only chmod/chown/mkdir/touch/ln inside copied paths are left out: ``COPY --from`` carries
    their modes, owners and links (repeating ``chown -R`` would change the build's files too).
    A root ``mkdir`` without a mode of the folders above the copies is left out as well:
    ``COPY --from`` makes them root's with mode 755, as mkdir does under Docker's umask 022
    (``RUN mkdir /app`` before ``ADD . /app`` had declined the split).
    """
    found: dict[int, bool] = {}
    if anchor is None:
        return found
    copied = [plan.moves.get(p, p) for p in plan.copies if p != "/"]
    folders = folder_runs(a, plan, anchor)
    for ins in a.setup_runs:
        if ins.start > anchor.start or id(ins) in folders:
            continue  # (a RUN of `folder_runs` is repeated in its place, before the copies)
        script = run_script(ins, a.doc.text)
        touches, other = False, False
        for command in script.commands if script else []:
            cwd = resolve(command.cwd, a.dirs[id(ins)]) if command.cwd else a.dirs[id(ins)]
            program, args = program_args(command)
            words = [x for x in args if not x.startswith("-")]
            paths = [resolve(x, cwd) for x in words if "/" in x or "." in x]
            inside = [p for p in paths if any(within(p, c) for c in copied)]
            if inside or any(within(c, p) for p in paths for c in copied):
                touches = True
            if program == "mkdir" and _makes_folders_above(a, ins, args, cwd, copied):
                continue
            if program not in CARRIED or not paths or len(inside) != len(paths):
                other = True
        if touches:
            found[id(ins)] = other
    return found


CARRIED = frozenset({"chmod", "chown", "chgrp", "mkdir", "touch", "ln"})


def _makes_folders_above(
    a: Analysis, ins: Instruction, args: list[str], cwd: str, copied: list[str]
) -> bool:
    """Whether a ``mkdir`` gives no mode, runs as root and makes copied paths or the folders
    above them only: the runtime's ``COPY --from`` makes those the same (root's, 755)."""
    words, mode = mkdir_args(args)
    if mode or not words:
        return False
    if not is_root(effective_user(a.stage, ins)):
        return False
    paths = [resolve(w, cwd) for w in words]
    return all(any(within(p, c) or within(c, p) for c in copied) for p in paths)


def _no_mkdir_of_copies(a: Analysis, plan: Plan, anchor: Instruction | None) -> None:
    """Decline when a RUN repeated after the copies repeats a step that fails or does more
    the second time on a copied path: ``mkdir`` without ``-p``, ``ln`` without ``-f`` and
    ``-n``, ``mv``, ``rm`` without ``-f``. The build stage ran it already, and its result is
    what the runtime copies."""
    late = _ordered_setup(a, plan, anchor)
    copied = [plan.moves.get(p, p) for p in plan.copies if p != "/"]
    for ins in a.setup_runs:
        after = anchor is None or ins.start > anchor.start or late.get(id(ins))
        script = run_script(ins, a.doc.text) if after else None
        for command in script.commands if script else []:
            program, args = program_args(command)
            if program not in ONCE or _idempotent(program, args):
                continue
            cwd = resolve(command.cwd, a.dirs[id(ins)]) if command.cwd else a.dirs[id(ins)]
            words = [x for x in args if not x.startswith("-")]
            if program == "ln":  # only the link it creates: the last word, or one in cwd
                words = words[-1:] if len(words) > 1 else [posixpath.basename(w) for w in words]
            for path in (resolve(x, cwd) for x in words):
                if any(within(c, path) or within(path, c) for c in copied):
                    raise Decline(
                        f"RUN at line {ins.start_line} runs `{program}` on {path} again after "
                        "the runtime copies it from the build stage, where that RUN ran already"
                    )


# Programs that fail when run twice on the same path, and the flags that make them idempotent.
ONCE = {"mkdir": ("p", "--parents"), "ln": ("f", "--force"), "mv": (), "rm": ("f", "--force")}


def _idempotent(program: str, args: list[str]) -> bool:
    """Whether a program of ONCE run again on the same path leaves it as it was: with its
    flag, and ``ln -f`` also with ``-n`` or ``-T``: over a link to a directory it makes a
    link inside that directory (built: ``ln -sf /data /app/storage`` repeated after the
    copies added /data/data, a link to /data, that the original lacks)."""
    forced = any(_has_flag(x, *ONCE[program]) for x in args)
    if program != "ln":
        return forced
    kept = ("n", "--no-dereference"), ("T", "--no-target-directory")
    return forced and any(_has_flag(x, *flag) for x in args for flag in kept)


def _has_flag(arg: str, short: str = "", long: str = "") -> bool:
    """``arg`` is ``long``, or a group of short flags that contains ``short`` (``-pv``)."""
    if arg.startswith("--"):
        return bool(long) and arg == long
    return bool(short) and arg.startswith("-") and short in arg[1:]


def _build_account_edit(a: Analysis) -> Instruction | None:
    """The first RUN of the stage's lineage that adds or changes an account and that the
    runtime stage does not repeat (a numeric USER may name the uid it gives: built, `npm ci
    && useradd -m -u 1001 app` with USER 1001 ran in the split as gid 0 with HOME /)."""
    repeated = a.setup_ids
    runs = [i for st in a.stage.lineage for i in st.of("run") if id(i) not in repeated]
    return next((i for i in runs if ACCOUNT_EDITS.search(i.args)), None)


def _unknown_user(a: Analysis, plan: Plan, user: str) -> str:
    """Why the runtime stage would not have the final USER ``user`` (NAME or NAME:GROUP): a
    RUN the runtime does not repeat creates or changes it (naming it as a word, ``mkdir
    /app``, does not), or both images ship it, unlike (alpine's nobody has HOME /,
    distroless's /nonexistent: built, ``docker run --user nobody``), or its group is one of
    these."""
    name, _, group = user.partition(":")
    repeated = a.setup_ids
    if not runtime_has_group(a, plan, group, a.setup_runs):
        made = any(_creates(a, i, group) for i in account_runs(a, group) if id(i) not in repeated)
        return f"USER {user}: the group {group} " + (
            "is created together with build steps; the runtime stage would not have it"
            if made
            else f"is not one msdfix knows {plan.runtime} to have"
        )
    runs = account_runs(a, name)
    built = [i for i in runs if id(i) not in repeated]
    if any(_creates(a, i, name) or ACCOUNT_EDITS.search(i.args) for i in built):
        return (
            f"USER {name} is created together with build steps; the runtime stage would not have it"
        )
    if unread := next((i for i in runs if ACCOUNT_EDITS.search(i.args)), None):
        return (
            f"USER {name} may be an account RUN at line {unread.start_line} creates in a way "
            "msdfix cannot read"
        )
    base = a.stage.lineage[0].image.raw
    both = image_account(base, name) and image_account(plan.runtime, name)
    if both and (reason := account_change(base, plan.runtime, name)):
        return f"USER {user}: {reason}"
    return f"USER {user} is not an account msdfix knows {plan.runtime} to have"


def _runtime_only_user(a: Analysis, plan: Plan, user: str) -> str | None:
    """Why the final USER ``user``, an account the runtime image ships that no build RUN
    makes, is not proven the original's: the build image is not known to ship it alike
    (built: golang with ``USER nonroot:nonroot`` did not start, "unable to find user nonroot",
    the split on distroless ran as 65532)."""
    name = user.split(":")[0]
    if image_account(plan.runtime, name) is None:
        return None
    if any(_creates(a, i, name) for i in account_runs(a, name)):
        return None
    reason = account_change(a.stage.lineage[0].image.raw, plan.runtime, name)
    return f"USER {user}: {reason}; the original may not start as it" if reason else None


def _creates(a: Analysis, ins: Instruction, name: str) -> bool:
    """Whether a command of the RUN creates the user or group ``name`` (``made_name``)."""
    script = run_script(ins, a.doc.text)
    commands = script.commands if script else []
    return any(made_name(*program_args(c), c.redirects) == name for c in commands)


def _anchor(a: Analysis) -> Instruction | None:
    """The last instruction that builds (after it, the artefacts exist)."""
    last = None
    for ins in a.stage.instructions:
        if ins.cmd in ("run", "copy", "add") and id(ins) not in a.setup_ids:
            last = ins
    return last


def _render(a: Analysis, plan: Plan, alias: str) -> list[Edit]:
    doc, nl = a.doc, a.doc.newline
    text = doc.text
    edits = list(plan.build_edits)
    edits += alias_edits(doc, a.stage)
    if plan.head:
        edits.append(Edit(plan.head_at, plan.head_at, plan.head))
    out: list[str] = []
    stages = [s.replace(BUILD_ALIAS, alias) + nl for s in plan.stages]
    platform = runtime_platform(a)
    flag = f"--platform={platform} " if platform else ""
    name = runtime_alias(a.stage)
    out.append(f"{keyword(doc, 'FROM')} {flag}{plan.runtime} {keyword(doc, 'AS')} {name}{nl}")
    out += [line + nl for line in plan.head_lines]
    upgrade = a.upgrades and package_manager(plan.runtime) is not None
    if plan.packages or upgrade:
        names = " ".join(plan.packages)
        if plan.apk:
            run = " && ".join(
                (["apk upgrade --no-cache"] if upgrade else [])
                + ([f"apk add --no-cache {names}"] if names else [])
            )
        else:  # recommended packages as the build's install had them (imagemagick: ghostscript)
            quiet = "" if a.recommends else "--no-install-recommends "
            run = " && ".join(
                ["apt-get update"]
                + (["apt-get upgrade -y"] if upgrade else [])
                + ([f"apt-get install -y {quiet}{names}"] if names else [])
                + (["rm -rf /var/lib/apt/lists/*"] if a.clears_lists else [])
            )  # the lists stay where the original kept them: a container may install
        out.append(f"{keyword(doc, 'RUN')} {run}{nl}")
    start = len(out)
    anchor = _anchor(a)
    late = _ordered_setup(a, plan, anchor)
    copies = _copy_block(a, plan, alias, _runs_around_copies(a, anchor, late))
    if anchor is None:
        out.append(copies)
    deferred: list[str] = []
    tail: list[str] = []  # plan.from_context, after the copies like in the build
    from_context = {id(i) for i in plan.from_context}
    copied = anchor is None
    for ins in a.stage.instructions:
        chunk = text[ins.comment_start : ins.end]
        if not chunk.endswith(("\n", "\r")):
            chunk += nl
        blank = text.endswith((nl + nl, "\n\n"), 0, ins.comment_start)
        if blank and len(out) > start and (ins.cmd in MOVE | REPEAT or id(ins) in a.setup_ids):
            chunk = nl + chunk  # keep the blank line that separated it
        if ins.cmd in MOVE:
            edits.append(Edit(ins.comment_start, ins.end, ""))
            out.append(chunk)
        elif id(ins) in from_context:
            edits.append(Edit(ins.comment_start, ins.end, ""))
            tail.append(chunk.lstrip("\r\n"))
        elif id(ins) in late:
            if late[id(ins)]:
                deferred.append(chunk.lstrip("\r\n"))
        elif ins.cmd in REPEAT or id(ins) in a.setup_ids:
            # after a RUN that waits for the copies, the rest waits too: a later USER, WORKDIR
            # or RUN may depend on it (the user it creates), so the order stays the build's
            (deferred if deferred and not copied else out).append(chunk)
        if ins is anchor:
            out.append(copies)
            out += deferred + tail
            copied = True
    build = apply_edits(text, edits).rstrip(" \t")
    lead = (
        "" if build.endswith((nl + nl, "\n\n")) else nl if build.endswith(("\n", "\r")) else nl + nl
    )
    head = lead + "".join(stages)
    edits.append(Edit(len(text), len(text), head + "".join(out).replace(nl + nl + nl, nl + nl)))
    return edits


def _owners_reason(a: Analysis, user: str, given: str | None, repeated: set[int]) -> str:
    """Why the split may change what ``user`` can write. A chown in a setup RUN the runtime
    repeats after its copies (it also makes accounts) gives that user the files the build
    made as root (built: dependencies/collector-js-lerna, ``useradd app && chown -R app
    /usr/src/collector`` before ``yarn install``: node_modules and the sources were root's in
    the original, app's in the split)."""
    again = [i for i in a.setup_runs if id(i) in repeated and re.search(r"\bchown\b", i.args)]
    if again:
        return (
            f"the program runs as {user}, and the runtime repeats RUN at line "
            f"{again[0].start_line} after its COPY --from: its chown gives what the build "
            "made there as root (installed packages, later copies) to that owner, so the "
            "program may write files it could not"
        )
    return (
        f"the program runs as {user} and the build gives it files or directories"
        + (f" ({given})" if given else "")
        + "; the runtime's WORKDIR and the directories COPY --from creates belong to "
        "root, so it may not write where it could"
    )


def _copy_block(
    a: Analysis, plan: Plan, alias: str, runs: tuple[list[Instruction], list[Instruction]]
) -> str:
    """The runtime's COPY --from lines, what changes least first (so a source edit leaves the
    earlier layers cached): other stages and dependency directories, context files (grouped by
    directory), artefacts, context directories; ``runs``: the setup RUNs repeated before and
    after them (``_runs_around_copies``)."""
    doc, nl = a.doc, a.doc.newline
    files: set[str] = set()
    under: set[str] = set()
    if a.ctx.present:
        for path in plan.copies:  # (without listing every file a COPY brings in)
            lands = [copy.lands(a.ctx, path) for copy in a.copies]
            files.update([path] if any(on for on, _ in lands) else [])
            under.update([path] if any(below for _, below in lands) else [])

    def rank(path: str) -> int:
        if plan.sources.get(path, alias) != alias or path in plan.stable:
            return 0
        if path in files and path not in plan.moves:
            return 1
        return 3 if path in under or not a.ctx.present else 2

    lines: list[str] = []
    ordered = sorted(plan.copies, key=rank)
    grouped: dict[str, list[str]] = {}
    for path in ordered:
        if rank(path) == 1 and not any(ch.isspace() for ch in path):
            grouped.setdefault(posixpath.dirname(path), []).append(path)
    # The build user's files get its owner back; context files keep theirs (COPY --from keeps
    # owners, and COPY gives root what it copies without --chown). Without a context, which
    # paths hold context files is unknown: every path gets it, as before. The node image's
    # global folders are root's: COPY --from carries the owners of what a global install added
    # (built: --chown=node gave /usr/local/bin/node and npm to the app's user).
    chown = plan.chown
    for parent, group in grouped.items():
        if len(group) == 1:
            lines.append(copy_line(doc, alias, group[0], group[0], None))
        else:
            flags = f" --from={alias}"
            target = parent.rstrip("/") + "/"
            lines.append(f"{keyword(doc, 'COPY')}{flags} {' '.join(group)} {target}")
    done = {p for group in grouped.values() for p in group}
    position = 0
    for path in ordered:
        if path in done:
            continue
        source = plan.sources.get(path, alias)
        held = path in under and a.ctx.present or path in GLOBAL_DIRS
        owner = plan.owners.get(path, None if held else chown) if source == alias else None
        owner = copy_owner(a, plan, owner, plan.moves.get(path, path), runs)
        line = copy_line(doc, source, path, plan.moves.get(path, path), owner)
        if rank(path) == 0:
            lines.insert(position, line)
            position += 1
        else:
            lines.append(line)
    return "".join(line + nl for line in lines)


def _runs_around_copies(
    a: Analysis, anchor: Instruction | None, late: dict[int, bool]
) -> tuple[list[Instruction], list[Instruction]]:
    """The setup RUNs the runtime repeats before its copies and after them, as ``_render``
    lays them out (``anchor`` and ``late``, ``_ordered_setup``'s answer, are its): from the
    first RUN that waits for the copies on, every RUN comes after."""
    early: list[Instruction] = []
    for ins in a.setup_runs:
        if anchor is None or ins.start > anchor.start or late.get(id(ins)):
            break
        early += [] if id(ins) in late else [ins]
    kept = {id(i) for i in early} | {k for k, v in late.items() if not v}  # (left out)
    return early, [i for i in a.setup_runs if id(i) not in kept]


def _message(a: Analysis, plan: Plan) -> str:
    what = ", ".join(plan.copies)
    text = f"split into {build_alias(a.stage)} + {runtime_alias(a.stage)} on {plan.runtime}, copying {what}"
    if plan.packages:
        text += f"; runtime packages: {' '.join(plan.packages)}"
    if plan.notes:
        text += "; " + "; ".join(plan.notes)
    if plan.display_only:
        text += f" (display-only: {plan.display_only})"
    elif plan.unsafe:
        text += f" (unsafe: {plan.unsafe})"
    return text


def _no_onbuild(doc: Document) -> None:
    """Decline an image made for child builds: its ONBUILD triggers belong to the image the
    build ends in (built: a split that left ONBUILD in the build stage gave a runtime image
    with no trigger, and a child image FROM it lacked the file the trigger writes)."""
    onbuild = next((i for i in doc.dockerfile.instructions if i.cmd == "onbuild"), None)
    if onbuild is not None:
        raise Decline(
            f"ONBUILD (line {onbuild.start_line}) makes the image a base for other builds: "
            "its triggers and what they read would have to move to the runtime stage"
        )


@register
class SplitStages(Transform):
    id = "split-stages"
    title = "Split a single-stage build into build and runtime stages"
    order = 10

    def check(self, doc: Document) -> Iterable[Finding]:
        stages = doc.model.stages
        if len(stages) != 1 or doc.is_windows:
            return
        stage = stages[0]
        ecosystem = ecosystem_of(stage.image.full_name)
        if ecosystem is None or stage.image.name == "scratch" or not stage.instructions:
            return
        try:
            if doc.ends_in_continuation:
                raise Decline(
                    "the last line ends with a line continuation: a stage added after it would join its RUN"
                )
            _no_onbuild(doc)
            if "$" in stage.from_.args and ecosystem not in ("go", "rust"):
                raise Decline("the base image is chosen by a build argument")
            alias_edits(doc, stage)  # the build stage can be named
            analysis = Analysis(doc, stage, ecosystem)
            front = plan_frontend(analysis)
            plan = PLANNERS[ecosystem](analysis)
            no_deleted_copies(analysis, plan)
            tag_distroless(analysis, plan)
            default_workdir(analysis, plan)
            _common_checks(analysis, plan)
            pinned(analysis, plan)
            registry_runtime(analysis, plan)
            remaining = {p for p in analysis.packages if p not in analysis.removed}
            if (
                plan.runtime == stage.image.raw
                and front is None
                and _relayers_only(plan)
                and remaining <= set(plan.packages)
            ):
                raise Decline(
                    f"the runtime would be {plan.runtime} with the same files"
                    + (" (the build removes its build packages itself)" if analysis.removed else "")
                )
            if plan.runtime == stage.image.raw and GLOBAL_DIRS[1] in plan.copies:
                raise Decline(
                    f"the runtime would be {plan.runtime}, the build's own image, and copying "
                    f"{GLOBAL_DIRS[1]} back for the global install would add its node again"
                )
            if front is not None:
                apply_frontend(analysis, plan, front)
            alias = build_alias(stage)
            edits = _render(analysis, plan, alias)
            nginx = (
                nginx_runtime(analysis, alias) if ecosystem == "node" and front is None else None
            )
        except NotABuild:
            return
        except Decline as exc:
            if _builds_something(doc, stage, ecosystem):
                yield doc.note(self.id, stage.from_, f"not split: {exc}")
            return
        if nginx is not None:
            yield doc.fix(
                self.id, stage.from_, nginx[1], nginx[0], Applicability.UNSAFE,
                changes_config=NGINX_CONFIG,
            )  # fmt: skip  # first: with --unsafe-fixes it wins over the safe split below
        applicability = (
            Applicability.DISPLAY_ONLY
            if plan.display_only
            else Applicability.UNSAFE
            if plan.unsafe
            else Applicability.SAFE
        )
        yield doc.fix(
            self.id,
            stage.from_,
            _message(analysis, plan),
            edits,
            applicability,
        )


def _relayers_only(plan: Plan) -> bool:
    """True when the stages the split adds only lay the build's own files out again (an
    app-files stage: the app without node_modules, copied after it), so a runtime on the build's
    own image holds the same files. Such a split copies /usr/local/bin back over the image's own
    node and npm (built for real: a Vite SPA served by a global `serve` on node:20, 899 ->
    963 MB, same answer; with a prod-deps stage too, 753 -> 817 MB, so a global install on the
    build's own image declines the split as well)."""
    return all(stage.splitlines()[0].split()[-1] == APP_FILES for stage in plan.stages)


def _builds_something(doc: Document, stage: Stage, ecosystem: str) -> bool:
    """True when a RUN of the stage calls the ecosystem's build tool (worth an explanation)."""
    tools = ECO_TOOLS[ecosystem] - {"cp", "mv", "node", "python", "python3", "java"}
    for ins in stage.of("run"):
        script = run_script(ins, doc.text)
        for command in script.commands if script else []:
            if posixpath.basename(program_args(command)[0]) in tools:
                return True
    return False
