"""non-root: the final stage runs as a non-root user.

What it does
    Switches the image's process to a non-root user after the last build step of the final
    stage: the ``node`` user (uid 1000) of node images; the ``:nonroot`` variant (uid 65532)
    of a distroless image (``:nonroot``, not ``:debug-nonroot``, for a ``:debug`` runtime
    split-stages or slim-base chose in the same run only to keep root); on Debian/Ubuntu and Alpine based images a system user ``app``
    created with the image's own tools (``useradd`` or busybox ``adduser``) with the fixed uid
    10001; on ``scratch`` the numeric uid alone. USER is always numeric (``USER 1000:1000``),
    so Kubernetes' ``runAsNonRoot`` can check it and hadolint's DL3066 is satisfied. What the app writes stays writable: COPY/ADD into the
    working directory or a VOLUME get ``--chown``, and the working directory and VOLUME
    directories are given to the user (``chown`` of the directories only, so no file is
    copied into a new layer). Build steps still run as root.
Why
    A process running as root in a container is root on the host's kernel: a container escape
    or a writable host mount is then a root compromise. Every image scanner and Kubernetes'
    restricted Pod Security Standard flag it.
Example
    ``FROM node:20`` ... ``COPY . .`` ... ``CMD ["node", "server.js"]`` becomes
    ``COPY --chown=1000:1000 . .``, ``RUN chown 1000:1000 /app``, ``USER 1000:1000``.
Fix safety
    Unsafe: the app runs with fewer rights. The summary names what to check: files created by
    RUN steps stay owned by root (readable, not writable), and so do copies outside the
    working directory. Declined, with the reason, when the final stage already runs as a
    non-root user, when its user is unknown (an unknown base image or a USER variable), when
    the image listens on a port below 1024 (EXPOSE, ``--port``/``--bind`` flags, ``PORT``):
    a non-root process may bind those only where the runtime allows it, when the command or
    a script it runs needs root (``gosu``, ``su-exec``, ``chown``, package managers,
    ...), for service images that start as root and drop privileges themselves (nginx,
    postgres, redis, ...), when the Dockerfile sets no CMD or ENTRYPOINT (the base image's own
    command), when msdfix does not know how to add a user on the base image, and on Windows.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Iterable
from dataclasses import replace

from msdfix.document import Document
from msdfix.ecosystems.runtime_users import UserSetup, create_user_command, user_setup
from msdfix.fixes import Applicability, Edit, Finding
from msdfix.model.config import final_config
from msdfix.model.stages import Stage
from msdfix.model.users import effective_user, is_root
from msdfix.shell.entry import entry_command
from msdfix.syntax import Instruction
from msdfix.syntax.values import instruction_values
from msdfix.transforms.base import Transform, register
from msdfix.transforms.non_root import checks

_BUILD_STEPS = ("run", "copy", "add", "workdir", "user")


def _written_this_run(doc: Document, ins: Instruction) -> bool:
    """An earlier transform of this run wrote ``ins`` (split-stages' or slim-base's runtime
    ``FROM``): its distroless ``:debug`` tag was chosen only because the program ran as root."""
    return doc.written(ins) != doc.text[ins.start : ins.end]


def _within(path: str, dirs: list[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in dirs)


def _copy_dest(ins: Instruction, workdir: str) -> str | None:
    values = instruction_values(ins)[1]
    if len(values) < 2 or "$" in values[-1]:
        return None
    dest = values[-1]
    return dest if dest.startswith("/") else f"{workdir.rstrip('/')}/{dest}"


@register
class NonRoot(Transform):
    id = "non-root"
    title = "Run the final stage as a non-root user"
    order = 80
    changes_config = frozenset({"user"})

    def check(self, doc: Document) -> Iterable[Finding]:
        stage = doc.model.final
        if stage is None or doc.is_windows:
            return
        user = effective_user(stage)
        if user is not None and not is_root(user):
            return  # already non-root: nothing to do
        reason = self._decline_reason(doc, stage)
        if isinstance(reason, str):
            yield doc.note(self.id, stage.from_, f"final stage left as it is: {reason}")
            return
        fix = self._fix(doc, stage, reason)
        if isinstance(fix, str):
            yield doc.note(self.id, stage.from_, f"final stage left as it is: {fix}")
        else:
            yield fix

    def _decline_reason(self, doc: Document, stage: Stage) -> UserSetup | str:
        user = effective_user(stage)
        if user is None:
            return "its user is unknown (the base image's default user, or a USER variable)"
        setup = user_setup(stage.root_image)
        if isinstance(setup, str):
            return setup
        if setup.tag == "debug-nonroot" and _written_this_run(doc, stage.from_):
            setup = replace(setup, tag="nonroot")  # :debug chosen only to keep root
        command = entry_command(stage)
        if command is None:
            return "the Dockerfile sets no CMD or ENTRYPOINT (the base image's own command may need root)"
        why = checks.needs_root(doc, command)
        if why:
            return why
        ports = checks.low_ports(stage, command, final_config(doc.model))
        if ports:
            listed = ", ".join(map(str, ports))
            return f"it listens on port {listed} (below 1024): a non-root process may bind it only where the runtime allows it"
        return setup

    def _fix(self, doc: Document, stage: Stage, setup: UserSetup) -> Finding | str:
        nl = doc.newline
        edits: list[Edit] = []
        before, workdir = doc.model.workdirs(stage)
        vols = list(dict.fromkeys(posixpath.normpath(v) for v in checks.volumes(doc, stage)))
        if any("$" in v for v in [*vols, workdir]):
            return "a VOLUME or WORKDIR path uses a variable msdfix cannot resolve"
        writable = list(dict.fromkeys(([workdir] if workdir != "/" else []) + vols))
        chowned = []
        for ins in stage.of("copy", "add"):
            if ins.flag("chown"):
                continue
            dest = _copy_dest(ins, before[id(ins)])
            if dest is not None and _within(dest, writable):
                at = ins.physical(ins.args_start)
                edits.append(Edit(at, at, f"--chown={setup.owner} "))
                chowned.append("COPY --from" if ins.flag("from") else ins.cmd.upper())
        if setup.kind == "variant" and (
            stage.parent is not None or any(st.of("user") for st in stage.lineage)
        ):
            setup = UserSetup("numeric", setup.owner, setup.owner)
        if setup.kind == "variant":
            edit = self._variant_edit(stage, setup)
            if edit is None:
                return "its FROM names the image through a variable"
            edits.append(edit)
        lines = []
        commands = []
        if setup.kind in ("useradd", "adduser"):
            commands.append(create_user_command(setup))
        if writable and setup.kind not in ("variant", "numeric"):
            if vols:
                commands.append("mkdir -p " + " ".join(map(shlex.quote, vols)))
            commands.append(f"chown {setup.owner} " + " ".join(map(shlex.quote, writable)))
        # BuildKit's ConsistentInstructionCasing warns on (and `# check=error=true` fails)
        # keywords that differ from the file's case: write them as its FROM is written
        run, user = ("run", "user") if stage.from_.keyword.islower() else ("RUN", "USER")
        if commands:
            lines.append(f"{run} " + " && ".join(commands))
        if setup.kind != "variant":
            lines.append(f"{user} {setup.user}")
        anchor = self._anchor(stage)
        at = anchor.end
        prefix = "" if doc.text[:at].endswith(("\n", "\r")) else nl
        if lines:
            edits.append(Edit(at, at, prefix + nl.join(lines) + nl))
        message = self._message(setup, writable, chowned)
        command = entry_command(stage)
        unread = checks.unread_scripts(doc, command) if command else []
        if unread:
            message += f" and that {', '.join(unread)} does not need root"
        return doc.fix(
            self.id, stage.from_, message, edits, Applicability.UNSAFE,
            changes_config=self.changes_config,
        )  # fmt: skip

    def _anchor(self, stage: Stage) -> Instruction:
        steps = [i for i in stage.instructions if i.cmd in _BUILD_STEPS]
        return steps[-1] if steps else stage.from_

    def _variant_edit(self, stage: Stage, setup: UserSetup) -> Edit | None:
        ins = stage.from_
        image = stage.image
        token = ins.args.split()[0] if ins.args.split() else ""
        if token != image.raw or "$" in token:
            return None
        start = ins.args_start
        if not ins.is_contiguous(start, start + len(token)):
            return None
        repo = token[: len(token) - len(image.tag) - 1] if image.tag else token
        at = ins.physical(start)
        return Edit(at, at + len(token), f"{repo}:{setup.tag}")

    def _message(self, setup: UserSetup, writable: list[str], chowned: list[str]) -> str:
        who = {
            "user": f"USER {setup.user} (the image's node user)",
            "variant": f"the :{setup.tag} variant (uid {setup.user})",
            "numeric": f"USER {setup.user}",
        }.get(setup.kind, f"a system user app (uid {setup.user.split(':')[0]})")
        text = f"final stage runs as {who} instead of root"
        paths = _listed(writable)
        no_shell = setup.kind in ("variant", "numeric")  # nothing chowns the directories
        copied = f" ({len(chowned)} COPY/ADD with --chown)" if chowned else ""
        if no_shell and chowned:
            text += f"; files copied into {paths} owned by it{copied}"
        elif writable and not no_shell:
            text += f"; {paths} writable by it{copied}"
        if no_shell and writable:
            text += f"; the directories {paths} stay owned by root (no shell to chown them)"
        steps = "RUN steps"
        if "COPY --from" in chowned:  # built: a split's node_modules became node's (grex)
            text += "; COPY --from --chown gives it what the build stage's RUN steps made too"
            steps = "this stage's own RUN steps"
        if not writable:  # built: a report script as uid 10001 could not write to /
            return text + (
                "; no folder is given to it: the working directory / stays root's, so check "
                f"that the app writes only under {_own_folders(setup)} (files from {steps} "
                "stay root-owned)"
            )
        return (
            text + f"; check that the app writes nowhere else (files from {steps} stay root-owned)"
        )


def _own_folders(setup: UserSetup) -> str:
    """The folders the user can write with nothing chowned: /tmp and its home (scratch has none)."""
    if setup.kind == "numeric":
        return "/tmp, where the image has one (scratch has none)"
    home = {"user": "/home/node", "variant": "/home/nonroot"}.get(setup.kind, "/home/app")
    return f"/tmp or {home}"


def _listed(paths: list[str], most: int = 3) -> str:
    """``paths`` joined with commas, the ones past ``most`` given as a count."""
    shown = ", ".join(paths[:most])
    return shown + (f" and {len(paths) - most} more" if len(paths) > most else "")
