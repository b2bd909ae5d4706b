"""Owners and modes in split runtimes: which folder RUNs the runtime repeats (before or after
its copies), what ``COPY --chown`` gives away and ``COPY --from --chown`` carries, the accounts
a repeated chown needs, and the directories COPY --from makes anew."""

from __future__ import annotations

import posixpath
import re

from msdfix.ecosystems.accounts import (
    ACCOUNT_MAKERS,
    DISTROLESS_ACCOUNTS,
    LIBRARY_ACCOUNTS,
    ImageAccount,
    account_change,
    joined_groups,
    made_name,
)
from msdfix.ecosystems.images import DISTROLESS_GROUPS
from msdfix.ecosystems.runtime_users import (
    ACCOUNT_EDITS,
    DEBIAN_SYSTEM_GROUPS,
    debian_image,
)
from msdfix.model.args import expand
from msdfix.model.image import parse_image
from msdfix.model.paths import within
from msdfix.model.users import effective_user, is_root, owners
from msdfix.shell.classify import program_args
from msdfix.shell.script import run_script
from msdfix.syntax import Instruction
from msdfix.transforms.build_paths import SYSTEM_DIRS, mkdir_args, resolve, with_parents
from msdfix.transforms.split_stages.build_stage import (
    OS_MANAGERS,
    Analysis,
    Decline,
    Plan,
)

OWNERSHIP = frozenset({"chown", "chmod", "chgrp"})
# Non-root accounts (and their groups and HOMEs) an image prefix ships, from accounts.py's
# tables: distroless's nobody is left out (its HOME /nonexistent is no folder it has).
IMAGE_USERS: dict[str, dict[str, ImageAccount]] = {
    "node": LIBRARY_ACCOUNTS["node"],
    "gcr.io/distroless": {"nonroot": DISTROLESS_ACCOUNTS["nonroot"]},
}


def image_users(raw: str) -> dict[str, ImageAccount]:
    """The accounts of IMAGE_USERS the image ``raw`` ships, by its name as Docker reads it
    (``docker.io/library/node:18-slim`` is node's; ``nodered/node-red`` is not)."""
    full = parse_image(raw).full_name
    return next((v for k, v in IMAGE_USERS.items() if full == k or full.startswith(k + "/")), {})


FOLDER_SETUP = OWNERSHIP | {"mkdir"}
# Programs and files that add, change or remove a group (useradd -g only names one).
GROUP_EDITS = re.compile(r"\bgroup(?:add|mod|del)\b|\b(?:add|del)group\b|/etc/group")


def runtime_has_user(a: Analysis, plan: Plan, user: str, runs: list[Instruction]) -> bool:
    """Whether the runtime has the account ``user`` (NAME or NAME:GROUP, or ids): the
    runtime image ships it, one of ``runs`` (repeated there) creates it (a RUN naming it
    otherwise does not: built, ``mkdir -p /app`` repeated and ``npm ci && useradd app`` not,
    the split's ``USER app`` failed to start), the runtime image ships it and no RUN of the
    build makes or changes an account of that name (built: golang's ``useradd -m nonroot``
    made uid 1000, distroless's nonroot is 65532), or both images ship it alike. Its GROUP
    too (built: ``USER node:web`` after ``npm ci && groupadd -r web`` did not start, "unable
    to find group web")."""
    if re.fullmatch(r"[0-9]+(:[0-9]+)?", user):
        return True
    name, _, group = user.partition(":")
    known = name in image_users(plan.runtime)
    known = known and not any(ACCOUNT_EDITS.search(i.args) for i in account_runs(a, name))
    if (name in _accounts(a, runs) or known) and runtime_has_group(a, plan, group, runs):
        return True
    return _debian_system_user(a, plan, user)


def runtime_has_group(a: Analysis, plan: Plan, group: str, runs: list[Instruction]) -> bool:
    """Whether the runtime has the group ``group`` of a USER (none or a number needs no
    /etc/group entry): one of ``runs`` (repeated there) creates it, or the runtime image ships
    it (its Debian, distroless or official image's own account group) and no RUN adds,
    changes or removes a group of that name."""
    if not group or group.isdigit() or group in _accounts(a, runs):
        return True
    if any(GROUP_EDITS.search(i.args) for i in account_runs(a, group)):
        return False
    if plan.runtime.startswith("gcr.io/distroless/"):
        return group in DISTROLESS_GROUPS
    own = group in image_users(plan.runtime)
    return own or (debian_image(plan.runtime) and group in DEBIAN_SYSTEM_GROUPS)


def late_owners_exist(a: Analysis, plan: Plan, anchor: Instruction | None) -> None:
    """Decline when a RUN the runtime repeats after the last build step gives files to an
    account the runtime may lack: one only a build step created, which the runtime does
    not repeat (built: ``RUN npm ci && groupadd -r web && useradd -r -g web app``, then
    ``COPY . .`` and ``RUN chown -R app:web /app``: the split failed, "chown: invalid user:
    'app:web'"). The groups a useradd, usermod or adduser joins, in any RUN the runtime
    repeats (built: ``npm ci && groupadd -r web``, then ``useradd -r -g web app`` before or
    after the copies: "group 'web' does not exist")."""
    runs = a.setup_runs
    for n, ins in enumerate(runs):
        late = anchor is not None and ins.start > anchor.start
        script = run_script(ins, a.doc.text)
        made: set[str] = set()
        for command in script.commands if script else []:
            program, args = program_args(command)
            for group in joined_groups(program, args):
                lacking = (
                    group if "$" in group else _missing_owner(a, plan, f":{group}", runs[:n], made)
                )
                if lacking is not None:
                    raise Decline(
                        f"RUN at line {ins.start_line} puts a user in the group {lacking}, "
                        "which no RUN the runtime repeats creates and its image may lack"
                    )
            if program in ACCOUNT_MAKERS:
                made |= {name} if (name := made_name(program, args)) else set()
            words = [x for x in args if not x.startswith("-")]
            if not late or program not in ("chown", "chgrp") or not words:
                continue
            owner = words[0] if program == "chown" else f":{words[0]}"
            lacking = owner if "$" in owner else _missing_owner(a, plan, owner, runs[:n], made)
            if lacking is not None:
                raise Decline(
                    f"RUN at line {ins.start_line} gives files to {lacking}, an account no "
                    "RUN the runtime repeats creates and its image may lack"
                )


def folder_runs(a: Analysis, plan: Plan, anchor: Instruction | None) -> dict[int, set[str]]:
    """``id(ins)`` of each setup RUN before the anchor made only of mkdir, chown, chmod and
    chgrp of copied directories and folders inside them, that sets the owner or mode of a
    copied directory itself -> those directories. The runtime repeats it in its place,
    before the copies: the folders it makes and gives away are empty there, and ``COPY
    --from`` into a folder that exists keeps that folder's owner and mode while carrying
    what is inside (built: node's documented ``mkdir -p /home/node/app/node_modules &&
    chown -R node:node /home/node/app``, then ``USER node``, ``npm install`` and ``COPY
    --chown=node:node . .``: /home/node/app was root's in the split without it, node's
    with it, as in the original). A RUN after one that waits for the copies would go after
    them too, where a recursive chown would change the build's files: not counted. A
    ``mkdir -m`` sets the mode of a copied directory it makes (built: ``RUN mkdir -p -m 777
    /app``, left out, gave the split's /app mode 755, the original's 777)."""
    found: dict[int, set[str]] = {}
    if anchor is None:
        return found
    copied = [p for p in plan.copies if p != "/" and p not in plan.moves]
    earlier: list[Instruction] = []
    left_out: set[int] = set()  # (making only what COPY --from brings: not repeated)
    for ins in a.setup_runs:
        if ins.start > anchor.start:
            break
        dirs = _folder_setup(a, plan, ins, earlier, left_out=left_out)
        earlier.append(ins)
        left_out |= {id(ins)} if dirs == set() else set()
        if dirs is None:
            if any(within(p, c) or within(c, p) for p in _run_paths(a, ins) for c in copied):
                break  # (it waits for the copies, or is left out: later ones keep their rules)
            continue
        if dirs:
            found[id(ins)] = dirs
    return found


def setgid_named_copies(a: Analysis, plan: Plan, runs: list[Instruction]) -> None:
    """A setup RUN before the last build step (``runs``) that gives a folder the setgid bit
    (``chmod 2775``, ``g+s``) makes the folders the build creates in it take its group and
    that bit; the
    runtime's ``COPY --from`` naming such a folder makes it root's with mode 755: unsafe
    (built: ``mkdir -p /app && chgrp node /app && chmod 2775 /app``, then ``npm ci``:
    node_modules root:node 2755 in the original, root:root 755 in the prod-deps split)."""
    if plan.unsafe is not None:
        return
    files = copied_files(a)
    for ins in runs:
        script = run_script(ins, a.doc.text)
        for command in script.commands if script else []:
            program, args = program_args(command)
            if program != "chmod":
                continue
            words = [x for x in args if not x.startswith("-") or _sets_setgid(x)]
            if len(words) < 2 or not _sets_setgid(words[0]):
                continue
            cwd = resolve(command.cwd, a.dirs[id(ins)]) if command.cwd else a.dirs[id(ins)]
            for folder in (resolve(w, cwd) for w in words[1:]):
                named = [c for c in plan.copies if within(c, folder) and c != folder]
                hit = next((c for c in sorted(named) if c not in files), None)
                if hit is not None:
                    plan.unsafe = (
                        f"RUN at line {ins.start_line} gives {folder} the setgid bit, so the "
                        f"folders the build makes there take its group and that bit; COPY "
                        f"--from naming {hit} makes it root's with mode 755"
                    )
                    return


_OCTAL_SETGID = re.compile(r"0*[2367][0-7]{3}")
_SYMBOLIC_CLAUSE = re.compile(r"([ugoa]*)[+=]([rwxXst]*)")


def _sets_setgid(mode: str) -> bool:
    """Whether a chmod mode sets the setgid bit: octal with 2 in its special digit, or a
    clause ``g+s`` (``ug=rws``, ``u+x,g+s``; ``a+s`` and ``+s`` too). One pass over the
    clauses: the single regex it replaces (``[ugoa]*g[ugoa]*``) took quadratic time on a mode
    of thousands of letters (40,000: 8 s)."""
    if _OCTAL_SETGID.fullmatch(mode):
        return True
    for clause in mode.split(","):
        found = _SYMBOLIC_CLAUSE.match(clause)
        who = found.group(1) if found else ""
        if found and (not who or "g" in who or "a" in who) and "s" in found.group(2):
            return True
    return False


def carried_folder_runs(
    a: Analysis, plan: Plan, anchor: Instruction | None, left_out: set[int]
) -> set[int]:
    """``id(ins)`` of each setup RUN before the anchor that only makes and gives away
    folders below the directories the runtime copies from the build, none of those
    directories itself, or that the runtime leaves out (``left_out``) and only touches and
    gives away files there: ``COPY --from`` carries the owners and modes of what is inside
    what it names (built: ``RUN mkdir -p /app/uploads && chown node:node /app/uploads &&
    chmod 2775 /app/uploads`` before ``COPY . .``, and ``touch /app/logs/app.log && chown
    node:node /app/logs/app.log`` after it, then USER node, had been unsafe: uploads/ node's
    with mode 2775 and app.log node's in both, the same listing and writes). Not where
    another stage's copy holds the folder (prod-deps' node_modules)."""
    if anchor is None:
        return set()
    built = [p for p in plan.copies if p != "/" and p not in plan.moves and p not in plan.sources]
    found: set[int] = set()
    for n, ins in enumerate(a.setup_runs):
        if ins.start > anchor.start:
            continue
        folders = _folder_setup(a, plan, ins, a.setup_runs[:n]) == set()
        if not folders and (id(ins) not in left_out or not _files_only(a, ins)):
            continue
        if all(any(within(p, c) and p != c for c in built) for p in _set_paths(a, ins)):
            found.add(id(ins))
    return found


def _files_only(a: Analysis, ins: Instruction) -> bool:
    """Whether the RUN only makes folders and files and sets their owners and modes."""
    programs = _programs(a, ins)
    return bool(programs) and programs <= FOLDER_SETUP | {"touch"}


def _programs(a: Analysis, ins: Instruction) -> set[str]:
    """The programs the RUN's commands run (``?`` for a script msdfix cannot read)."""
    script = run_script(ins, a.doc.text)
    return {program_args(c)[0] for c in script.commands} if script else {"?"}


def _set_paths(a: Analysis, ins: Instruction) -> list[str]:
    """The paths a folder RUN's commands make (mkdir, touch) or set (chown, chmod, chgrp)."""
    script = run_script(ins, a.doc.text)
    scope = a.model.fixed_scope(a.stage, ins)
    found: list[str] = []
    for command in script.commands if script else []:
        program, args = program_args(command)
        words = [x for x in args if not x.startswith("-")]
        words = words[1:] if program in OWNERSHIP else words
        words = mkdir_args(args)[0] if program == "mkdir" else words
        cwd = resolve(command.cwd, a.dirs[id(ins)]) if command.cwd else a.dirs[id(ins)]
        found += [resolve(expand(x, scope), cwd) for x in words]
    return found


def late_folder_runs(a: Analysis, plan: Plan, anchor: Instruction | None) -> set[int]:
    """``id(ins)`` of each setup RUN after the anchor made only of mkdir, chown, chmod and
    chgrp within copied directories or the WORKDIRs that hold them: the runtime repeats it
    after the copies, on the files the build gave it, so what it names gets the same owner
    and mode (built: ``COPY . .``, then ``RUN chown -R app:app /app`` and ``USER app``, and
    a Python app's ``chmod +x`` and ``chown -R service-user:service-user /app``: /app and
    everything in it app's in the original and in the split, the same modes)."""
    if anchor is None:
        return set()
    runs = a.setup_runs
    return {
        id(ins)
        for n, ins in enumerate(runs)
        if ins.start > anchor.start and _folder_setup(a, plan, ins, runs[:n], True) is not None
    }


def _folder_setup(
    a: Analysis,
    plan: Plan,
    ins: Instruction,
    earlier: list[Instruction],
    above: bool = False,
    left_out: set[int] | None = None,
) -> set[str] | None:
    """The copied directories whose owner or mode the RUN sets, when it only makes and
    gives away folders within copied directories, or (``above``: after the copies) the
    stage's WORKDIRs that hold them, and there it may also create the accounts it names
    (None otherwise, or when a chown names an owner the runtime may lack: ``earlier`` are
    the setup RUNs before it, ``left_out`` those of them the runtime does not repeat, whose
    folders it lacks before its copies)."""
    script = run_script(ins, a.doc.text)
    if script is None or not script.commands:
        return None
    copied = [p for p in plan.copies if p != "/" and p not in plan.moves]
    workdirs = a.workdir_set
    scope = a.model.fixed_scope(a.stage, ins)  # (`chown -R node $APP_HOME`, ENV APP_HOME=..)
    dirs: set[str] = set()
    made: set[str] = set()
    folders = False
    # Before the copies only what a WORKDIR, an earlier folder RUN or this RUN's own mkdir
    # made exists (built: `COPY start.sh /opt`, then `RUN chmod +x /opt/start.sh`, repeated
    # before the copies, failed: no such file; `RUN mkdir -p /app/logs`, left out, then
    # `RUN chown node:node /app`: no such file); a file COPY --from names keeps its mode.
    existing: set[str] = set()
    if not above:  # (after the copies every copied path exists: nothing to work out)
        existing = existing.union(
            *(with_parents(a.dirs[id(i)]) for i in a.stage.of("workdir") if i.start < ins.start),
            *(_made_dirs(a, e) for e in earlier if id(e) not in (left_out or set())),
        )
    for command in script.commands:
        program, args = program_args(command)
        if above and program in ACCOUNT_MAKERS:
            name = made_name(program, args)
            if name is None:
                return None
            made.add(name)
            continue
        if program not in FOLDER_SETUP:
            return None
        words = [x for x in args if not x.startswith("-")]
        moded = False  # (`mkdir -m MODE` sets the mode of the folders it makes)
        if program == "mkdir":
            words, moded = mkdir_args(args)
        elif not words:
            return None
        else:
            owner, words = words[0], words[1:]
            known = program == "chmod" or _has_owner(a, plan, owner, earlier, made)
            if "$" in owner or not known:
                return None
        cwd = resolve(command.cwd, a.dirs[id(ins)]) if command.cwd else a.dirs[id(ins)]
        words = [expand(x, scope) for x in words]
        if any("$" in x for x in words):
            return None
        paths = [resolve(x, cwd) for x in words]
        if program == "mkdir":
            if moded and not above and _made_before(a, ins, earlier) & set(paths) & set(copied):
                return None  # (-m leaves a folder that exists as it is: not the runtime's)
            existing |= set().union(*(with_parents(p) for p in paths))
        elif not above and any(p not in existing for p in paths):
            return None
        held = [p for p in paths if above and p in workdirs and _holds(p, copied)]
        if not paths or not all(any(within(p, c) for c in copied) for p in paths if p not in held):
            return None
        dirs |= {p for p in paths if p in copied and (program != "mkdir" or moded)}
        folders = True
    remade = next((c for d in sorted(dirs) if not above and (c := remade_by_copy(a, ins, d))), None)
    if remade is not None:
        note = (
            f"RUN at line {ins.start_line} is not repeated: {remade.keyword} at line "
            f"{remade.start_line} copies a folder it sets anew, with the context's owner and mode"
        )
        plan.notes += [note] if note not in plan.notes else []
        return None
    return dirs if folders else None  # (a RUN of accounts alone is no folder RUN)


def _made_before(a: Analysis, ins: Instruction, earlier: list[Instruction]) -> set[str]:
    """The folders the context COPYs and the setup RUNs (``earlier``) before ``ins`` make,
    with those above them: ``mkdir -p -m 777 /app`` after ``COPY package*.json /app/`` or
    ``RUN mkdir -p /app/logs`` leaves /app 755, while the runtime, which repeats the RUN
    before its copies without what made /app first, would make it 777 (built: /app 755 in
    the original, 777 in the split, both ways)."""
    copies = [c for c in a.copies if c.ins.start < ins.start]
    return set().union(
        *(with_parents(c.dest if c.into_dir else posixpath.dirname(c.dest)) for c in copies),
        *(_made_dirs(a, e) for e in earlier),
    )


def remade_by_copy(a: Analysis, ins: Instruction, folder: str) -> Instruction | None:
    """The context COPY after the RUN, if one, that brings ``folder`` as a folder of what it copies
    (its destination is above it): Docker gives it the context's owner and mode then, so
    what the RUN set there is gone, while ``COPY --from`` naming it in the runtime keeps
    what a repeated RUN set (built: ``WORKDIR /app/data``, ``RUN chown node .``, then
    ``COPY . .`` into /app: /app/data root's in the original, node's in the split), with
    files or without. Without the build context every such COPY counts."""
    for copy in a.copies:
        if copy.ins.start < ins.start or not copy.into_dir or not within(folder, copy.dest):
            continue
        if folder == copy.dest.rstrip("/"):
            continue  # (a folder the COPY names keeps its owner and mode)
        if not a.ctx.present or any(dest == folder for _, dest in copy.dirs(a.ctx)):
            return copy.ins
    return None


def note_folder_runs(
    a: Analysis, plan: Plan, folders: dict[int, set[str]], after: set[int]
) -> None:
    """Say which RUNs the runtime repeats, before or after the copies, for the owners."""
    for ins in a.stage.of("run"):
        if id(ins) in folders:
            plan.notes.append(
                f"RUN at line {ins.start_line} is repeated before the copies, so "
                f"{', '.join(sorted(folders[id(ins)]))} gets the owner and mode it had in the "
                "build (COPY --from keeps those of a folder that exists)"
            )
    lines = [str(i.start_line) for i in a.setup_runs if id(i) in after]
    if lines:
        runs = f"RUN at line {lines[0]} is" if len(lines) == 1 else "RUNs at lines "
        runs += f"{', '.join(lines)} are" if len(lines) > 1 else ""
        plan.notes.append(f"{runs} repeated after the copies, on the files the build gave them")


def _has_owner(
    a: Analysis, plan: Plan, owner: str, earlier: list[Instruction], made: set[str]
) -> bool:
    """Whether the runtime has chown's OWNER (``node:node``, ``app:``, ``:staff``): ids, an
    account its image ships, or one a setup RUN before (``earlier``) or this one (``made``)
    creates."""
    return _missing_owner(a, plan, owner, earlier, made) is None


def _missing_owner(
    a: Analysis, plan: Plan, owner: str, earlier: list[Instruction], made: set[str]
) -> str | None:
    """The user or group of chown's OWNER the runtime may lack (``_has_owner``); root's
    user and group every image has, a group its image ships (``runtime_has_group``) too."""
    names = made | _accounts(a, earlier)
    user, _, group = owner.partition(":")
    if user and not is_root(user) and user not in names:
        if not runtime_has_user(a, plan, user, []):
            return user
    if group and not is_root(group) and group not in names:
        return None if runtime_has_group(a, plan, group, []) else group
    return None


def _accounts(a: Analysis, runs: list[Instruction]) -> set[str]:
    """The users and groups the RUNs create (by useradd, adduser, groupadd, addgroup)."""
    found: set[str] = set()
    for ins in runs:
        script = run_script(ins, a.doc.text)
        for command in script.commands if script else []:
            program, args = program_args(command)
            name = made_name(program, args, command.redirects)
            found |= {name} if name else set()
    return found


def _holds(folder: str, copied: list[str]) -> bool:
    """Whether the runtime copies something into ``folder`` (or below it)."""
    return any(within(c, folder) for c in copied)


def _run_paths(a: Analysis, ins: Instruction) -> list[str]:
    """The absolute paths the RUN's commands name (words with a slash or a dot)."""
    script = run_script(ins, a.doc.text)
    found: list[str] = []
    for command in script.commands if script else []:
        cwd = resolve(command.cwd, a.dirs[id(ins)]) if command.cwd else a.dirs[id(ins)]
        words = [x for x in program_args(command)[1] if not x.startswith("-")]
        found += [resolve(x, cwd) for x in words if "/" in x or "." in x]
    return found


def all_folders_set(
    a: Analysis, plan: Plan, folders: dict[int, set[str]], anchor: Instruction | None
) -> bool:
    """Whether a RUN the runtime repeats before the copies, or a WORKDIR it repeats under
    the same USER (``user_workdirs``), sets the owner and mode of every path it copies: none
    of them is a folder root makes there."""
    done: set[str] = set().union(*folders.values(), user_workdirs(a, anchor))
    return bool(done) and all(p in done for p in plan.copies)


def user_workdirs(a: Analysis, anchor: Instruction | None) -> set[str]:
    """The folders a WORKDIR makes while a USER other than root is in effect: BuildKit makes
    them that user's, and the runtime repeats the WORKDIR after the same USER (built: ``USER
    node``, ``WORKDIR /home/node/app``, ``npm ci`` and ``COPY --chown=node:node . .``: the
    folder node's in the original and in the split, the same listing and writes). Not one
    that existed before, one a RUN before may have made (only account and folder RUNs that
    name no path there, and package installs, are read as not), nor one a later COPY brings
    as a folder of what it copies. Only WORKDIRs before the anchor, which the runtime repeats
    before its copies."""
    before = _dirs_before(a)
    found: set[str] = set()
    for ins in a.stage.of("workdir"):
        path, user = a.dirs[id(ins)], effective_user(a.stage, ins)
        late = anchor is None or ins.start > anchor.start
        if late or path in before[id(ins)] or user is None or is_root(user):
            continue
        runs = [r for st in a.stage.lineage for r in st.of("run") if r.start < ins.start]
        if any(_may_make(a, r, path) for r in runs):
            continue
        if remade_by_copy(a, ins, path) is None:
            found.add(path)
    return found


def workdir_over_made(
    a: Analysis, plan: Plan, anchor: Instruction | None, repeated: set[int]
) -> None:
    """A WORKDIR under a non-root USER that the runtime repeats before its copies makes its
    folder that user's there; where a COPY, or a RUN naming the folder that the runtime does
    not repeat before it (``repeated``), made the folder first in the build, the build's is
    that one's (root's) and ``COPY --from`` keeps the runtime's owner: unsafe (built:
    ``COPY package*.json /app/`` or ``RUN mkdir -p /app``, then ``USER node`` and ``WORKDIR
    /app``: /app root's in the original and node's writes EACCES, node's in the split). Only
    WORKDIRs before the anchor, which the runtime repeats before its copies."""
    if plan.unsafe is not None or anchor is None:
        return
    image = _image_dirs(a)
    for ins in a.stage.of("workdir"):
        path, user = a.dirs[id(ins)], effective_user(a.stage, ins)
        if ins.start > anchor.start or user is None or is_root(user) or path in image:
            continue
        maker = first_maker(a, ins, path, repeated)
        if maker is not None:
            plan.unsafe = (
                f"WORKDIR at line {ins.start_line} makes {path} {user}'s in the runtime, where "
                f"{maker.keyword} at line {maker.start_line} made it first in the build (not "
                "that user's); COPY --from keeps the owner of a folder that exists"
            )
            return


def first_maker(
    a: Analysis, workdir: Instruction, folder: str, repeated: set[int]
) -> Instruction | None:
    """The first COPY, or RUN naming ``folder`` or a path in it that the runtime does not
    repeat in its place, before the WORKDIR: what made the folder in the build."""
    for ins in a.stage.instructions:
        if ins.start >= workdir.start:
            return None
        copy = next((c for c in a.copies if c.ins is ins), None)
        if copy is not None:
            dest = copy.dest if copy.into_dir else posixpath.dirname(copy.dest)
            if folder in with_parents(dest):
                return ins
        elif ins.cmd == "workdir" and folder in with_parents(a.dirs[id(ins)]):
            return None  # (repeated in its place: the same in both)
        elif ins.cmd == "run" and id(ins) not in repeated:
            named = [*_run_paths(a, ins), *_set_paths(a, ins), *_made_dirs(a, ins)]
            if any(within(p, folder) for p in named):
                return ins
    return None


def _may_make(a: Analysis, ins: Instruction, folder: str) -> bool:
    """Whether the RUN may make ``folder`` or something in it: all but a setup RUN naming no
    path there and a RUN of OS package installs alone."""
    if any(within(p, folder) for p in [*_run_paths(a, ins), *_set_paths(a, ins)]):
        return True
    return id(ins) not in a.setup_ids and not _programs(a, ins) <= OS_MANAGERS


# Directories of every Debian base image (the FHS ones besides SYSTEM_DIRS): a COPY into
# /srv/app creates /srv/app, not /srv.
BASE_DIRS = frozenset({
    "/srv", "/mnt", "/media", "/usr/src", "/usr/share", "/usr/local/src", "/usr/local/share",
    "/var/lib", "/var/cache", "/var/log", "/var/opt", "/var/tmp", "/run",
})  # fmt: skip


def copied_files(a: Analysis) -> set[str]:
    """Image paths of the context files the build's COPYs bring in (not directories)."""
    if not a.ctx.present:
        return set()
    return {dest for copy in a.copies for _, dest in copy.context_files(a.ctx)}


def _image_dirs(a: Analysis) -> set[str]:
    """The directories the stage's base image has: system folders, BASE_DIRS, its users'
    homes."""
    homes = {u.home for u in image_users(a.stage.image.raw).values()}
    return set(SYSTEM_DIRS) | BASE_DIRS | homes


def _dirs_before(a: Analysis) -> dict[int, frozenset[str]]:
    """``id(ins)`` of each context COPY and WORKDIR -> the directories known to exist when it
    runs: the base image's (system folders, BASE_DIRS, its users' homes), WORKDIRs,
    ``mkdir``s and earlier COPYs' destination folders."""
    known = _image_dirs(a)
    by_ins = {id(c.ins): c for c in a.copies}
    found: dict[int, frozenset[str]] = {}
    for ins in a.stage.instructions:
        copy = by_ins.get(id(ins))
        if copy is None:
            if ins.cmd == "workdir":
                found[id(ins)] = frozenset(known)
                known |= with_parents(a.dirs[id(ins)])
            known |= _made_dirs(a, ins) if ins.cmd == "run" else set()
            continue
        found[id(ins)] = frozenset(known)
        known |= with_parents(copy.dest if copy.into_dir else posixpath.dirname(copy.dest))
    return found


def chown_made_dirs(a: Analysis, plan: Plan) -> None:
    """A ``COPY --chown`` that creates its destination directory (no earlier WORKDIR, COPY
    or ``mkdir`` made it) gives that directory to the user; when it is a copied directory or
    one above, the split is unsafe: the runtime's copy of it belongs to root (built: COPY
    --chown=node:node into /app/ made /app node's, the runtime's was root's, and a program
    that drops to node by ``runuser`` could no longer write there: EACCES)."""
    if plan.unsafe is not None:
        return
    copied = [plan.moves.get(p, p) for p in plan.copies if p != "/"]
    before = _dirs_before(a)
    for copy in a.copies:
        folder = copy.dest if copy.into_dir else posixpath.dirname(copy.dest)
        flag = copy.ins.flag("chown")
        owner = flag.value if flag is not None else None
        made = sorted(with_parents(folder) - before[id(copy.ins)])
        hit = next((p for p in made if any(within(c, p) for c in copied)), None)
        if owner and not is_root(owner) and hit is not None:
            plan.unsafe = (
                f"{copy.ins.keyword} at line {copy.ins.start_line} creates {hit} owned by "
                f"{owner}, which COPY --from does not carry: the runtime's copy belongs to root"
            )
            return


def _made_dirs(a: Analysis, ins: Instruction) -> set[str]:
    """The directories ``mkdir`` makes in a RUN, with the folders above them."""
    script = run_script(ins, a.doc.text)
    found: set[str] = set()
    for command in script.commands if script else []:
        program, args = program_args(command)
        if program == "mkdir":
            cwd = resolve(command.cwd, a.dirs[id(ins)]) if command.cwd else a.dirs[id(ins)]
            for word in mkdir_args(args)[0]:
                found |= with_parents(resolve(word, cwd))
    return found


# The one bit umask 002 and 022 leave differently on a new directory (775 against 755).
UMASK_GROUP_WRITE = 0o020


def copied_dir_modes(a: Analysis, plan: Plan) -> None:
    """A context directory that ``COPY . .`` brings in with its mode (and with the owner
    ``--chown`` names), and the runtime copies by name, makes the split unsafe unless its
    mode is 755 and its owner root: the directory ``COPY --from`` creates is root's with
    mode 755 (built: uploads/ with mode 777 in the context, or brought by ``COPY
    --chown=node:node . .``, was writable by node in the original, EACCES in the split).
    ``COPY --chmod`` gives the folders it brings its own mode (built: ``COPY --chmod=777 .
    .``, logs/ 777 and writable by node in the original, 755 and EACCES in the prod-deps
    split). The group's write bit is left out: git records no directory modes, so a checkout's
    directories are 775 under umask 002 (Ubuntu's for users) and 755 under 022 (CI's, root's),
    and the same repository would split on one machine and not on the other; it matters only
    to a non-root program in group 0 (OpenShift's random user IDs), which README notes."""
    if plan.unsafe is not None or not a.ctx.present:
        return
    copied = {plan.moves.get(p, p) for p in plan.copies}
    before = _dirs_before(a)
    for copy in a.copies:
        flag = copy.ins.flag("chown")
        owner = flag.value if flag is not None and flag.value else None
        chmod = copy.ins.flag("chmod")
        for rel, dest in copy.dirs(a.ctx):
            mode = a.ctx.dir_mode(rel) if dest in copied else None
            if mode is None:
                continue
            if chmod is not None:  # (it gives the folders it brings its mode too)
                mode = _octal(chmod.value)
            given = owner is not None and not is_root(owner)
            uneven = _uneven_owner(a, dest, before) if given and dest in plan.copies else None
            if given and mode & ~UMASK_GROUP_WRITE == 0o755 and uneven is None:
                plan.owners[dest] = owner or ""
                continue
            if given:
                why = f"{copy.ins.keyword} at line {copy.ins.start_line} gives {rel} to {owner}"
                why += f", which COPY --from --chown would not carry ({uneven})" if uneven else ""
            elif chmod is not None and mode & ~UMASK_GROUP_WRITE != 0o755:
                why = f"{copy.ins.keyword} at line {copy.ins.start_line} gives {rel} mode "
                why += f"{chmod.value} (--chmod)"
            elif mode & ~UMASK_GROUP_WRITE != 0o755:
                why = f"{rel} has mode {mode:o} in the build context, which COPY keeps"
            else:
                continue
            plan.unsafe = (
                f"{why}; the runtime copies {dest} by name, and COPY --from makes it root's "
                "with mode 755"
            )
            return
    if plan.owners:
        carried = ", ".join(f"{d} to {o}" for d, o in sorted(plan.owners.items()))
        plan.notes.append(f"COPY --from --chown gives {carried}, as the build's COPY did")


def _octal(value: str | None) -> int:
    """The mode of ``COPY --chmod=VALUE`` (-1, no mode, for a symbolic or unread one)."""
    return int(value, 8) if value and re.fullmatch(r"[0-7]{1,4}", value) else -1


def _uneven_owner(a: Analysis, dest: str, before: dict[int, frozenset[str]]) -> str | None:
    """Why ``COPY --from --chown`` of the directory ``dest`` would not give its files the
    owners they had (None: it would): every COPY that brings files or folders there must
    name the same ``--chown``, the first must create ``dest``, and no RUN may come after it
    (it may make files there as root). A folder a WORKDIR or ``mkdir`` made before becomes
    the user's in the build (a COPY gives the folders it merges into its owner), but the
    runtime makes it again, and COPY --from --chown leaves the folder it names as it finds
    it (built: /app/public after ``RUN mkdir -p public`` was node's in the original, root's
    in the split)."""
    landing = [
        c
        for c in a.copies
        if c.lands(a.ctx, dest)[1] or any(within(d, dest) for _, d in c.dirs(a.ctx))
    ]
    if len({tuple(owners(c.ins)) for c in landing}) > 1:
        return "other COPYs bring files there with other owners"
    if dest in before[id(landing[0].ins)]:  # (the build's COPY gives it the owner)
        return f"{dest} is made before it, and COPY --from --chown keeps an existing folder's owner"
    late = next((r for r in a.stage.of("run") if r.start > landing[0].ins.start), None)
    if late is not None:
        return f"RUN at line {late.start_line} may make files there owned by root"
    return None


def gives_files_away(a: Analysis, folders: set[int]) -> str | None:
    """How the build gives files to a user other than root, if it does: a chown in a RUN
    (but the ``folders`` RUNs, which the runtime repeats where they set the same owners:
    ``folder_runs``, ``late_folder_runs``), or a COPY/ADD --chown without a build
    context. With a context, what --chown gives is followed folder by folder
    (``chown_made_dirs``, ``copied_dir_modes``): ``COPY --from`` keeps the owners of what
    it copies, and only the directories it names or creates are made anew (built: ``COPY
    --chown=node:node . .`` into a WORKDIR left /app root's, its files and folders node's)."""
    chowned = any(f.name == "chown" for ins in a.stage.of("copy", "add") for f in ins.flags)
    if chowned and not a.ctx.present:
        return "COPY --chown, without the build context to follow"
    runs = [ins for ins in a.stage.of("run") if id(ins) not in folders]
    run = next((ins for ins in runs if re.search(r"\bchown\b", ins.args)), None)
    if run is None:
        return None
    return (
        f"RUN at line {run.start_line} runs chown, and the owners a chown gives are carried "
        "only from a RUN that does nothing but make and give away folders the runtime copies"
    )


def repeated_late(a: Analysis, anchor: Instruction | None) -> set[int]:
    """``id(ins)`` of the RUNs the runtime repeats after its copies and after the last build
    step: a chown there sets the same owners again on the same files (built: `RUN chown -R
    node:node /app`, and `/app/dist`, after `npm ci && npm run build` with USER node; the
    split's /app tree had the original's owners and modes)."""
    if anchor is None:
        return set()
    return {id(i) for i in a.setup_runs if i.start > anchor.start}


def account_runs(a: Analysis, name: str) -> list[Instruction]:
    """The stage's RUN steps (its ancestors' included) that name the account ``name``."""
    word = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
    return [i for st in a.stage.lineage for i in st.of("run") if word.search(i.args)]


def _debian_system_user(a: Analysis, plan: Plan, user: str) -> bool:
    """True when the build and runtime images both ship ``user`` (NAME or NAME:GROUP) with
    the same ids and home (``account_change``), with a group the runtime has, and no RUN adds
    or changes it."""
    name, _, group = user.partition(":")
    if account_change(a.stage.lineage[0].image.raw, plan.runtime, name) is not None:
        return False
    group = "" if group.isdigit() else group  # needs no /etc/group entry (built: nobody:65534)
    if plan.runtime.startswith("gcr.io/distroless/"):
        if group and group not in DISTROLESS_GROUPS:
            return False
    elif group and (not debian_image(plan.runtime) or group not in DEBIAN_SYSTEM_GROUPS):
        return False
    return not any(ACCOUNT_EDITS.search(i.args) for i in account_runs(a, name))


def copy_owner(
    a: Analysis, plan: Plan, owner: str | None, dest: str, runs: tuple[list[Instruction], ...]
) -> str | None:
    """The ``--chown`` of the runtime's ``COPY --from`` into ``dest``, where ``runs`` are the
    RUNs the runtime repeats before and after its copies. A name made only after the copies
    is left out when a later RUN gives all of ``dest`` a user and group (``chown -R u: dest``),
    else the split is unsafe: BuildKit gives root a name it cannot find, the legacy builder,
    podman and kaniko stop (built: ``useradd --uid 2000 eventz && chown eventz: /eventz -R``
    repeated after ``COPY --from=build --chown=eventz``: "can't find uid for user eventz"
    with DOCKER_BUILDKIT=0; without --chown every file's owner and mode as the original's)."""
    early, late = runs
    if not owner or runtime_has_user(a, plan, owner, early):
        return owner
    if any(_chowns_all(a, ins, dest) for ins in late):
        return None
    if plan.unsafe is None:
        plan.unsafe = (
            f"COPY --from --chown={owner} comes before the RUN that creates {owner}: BuildKit "
            "gives the files to root, and the legacy builder, podman and kaniko stop"
        )
    return owner


def _chowns_all(a: Analysis, ins: Instruction, dest: str) -> bool:
    """Whether the RUN ``ins`` runs ``chown -R USER:GROUP`` (or ``USER:``) on ``dest`` or a
    folder above it, giving every file there the same owner whatever COPY gave it."""
    script = run_script(ins, a.doc.text)
    for command in script.commands if script else []:
        program, args = program_args(command)
        flags = [x for x in args if x.startswith("-")]
        words = [x for x in args if not x.startswith("-")]
        recursive = any(x == "--recursive" or (x[1:2] != "-" and "R" in x) for x in flags)
        if program != "chown" or not recursive or len(words) < 2:
            continue
        user, colon, _ = words[0].partition(":")
        if "$" in words[0] or not user or not colon or any("reference" in x for x in flags):
            continue
        cwd = resolve(command.cwd, a.dirs[id(ins)]) if command.cwd else a.dirs[id(ins)]
        if any("$" not in w and within(dest, resolve(w, cwd)) for w in words[1:]):
            return True
    return False
