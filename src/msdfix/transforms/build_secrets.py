"""build-secrets: tokens passed as build arguments move to BuildKit secret mounts.

What it does
    For a build argument whose name says it holds a secret (``NPM_TOKEN``, ``PIP_PASSWORD``,
    ``GITHUB_TOKEN``, ``API_KEY``, ...; a fixed table, see ``ecosystems/secrets.py``), declared
    with ``ARG`` (and possibly forwarded with ``ENV NAME=$NAME``): every RUN that may read it
    gets ``--mount=type=secret,id=<name>,required=true`` and reads the secret into the same
    variable first (``NAME="$(cat /run/secrets/<name>)" && export NAME && ...``), and the
    ARG line (and an ``ENV`` forwarding it in a build stage) goes. A RUN may read it when it
    names the variable or runs anything msdfix does not know to ignore the environment (npm
    reads ``${NPM_TOKEN}`` from ``.npmrc``); at least one RUN, or the context's ``.npmrc`` or
    ``.yarnrc.yml``, must name it.
    The summary prints the flag to build with: ``docker build --secret
    id=npm_token,env=NPM_TOKEN``.
Why
    Build arguments end up in the image's history (``docker history`` shows every RUN's
    build arguments) and an ``ENV`` in its configuration: anyone who can pull the image can
    read the token. A secret mount exists only while its RUN runs.
Example
    ``ARG NPM_TOKEN`` / ``RUN npm ci`` becomes
    ``RUN --mount=type=secret,id=npm_token,required=true NPM_TOKEN="$(cat
    /run/secrets/npm_token)" && export NPM_TOKEN && npm ci``.
Fix safety
    Unsafe: the build now needs ``--secret id=...`` instead of ``--build-arg`` (without it
    BuildKit fails the RUN: ``required=true``), and a removed ``ENV`` of a build stage is no
    longer seen by stages built FROM it. It works with
    BuildKit's built-in Dockerfile frontend of Docker 20.10 and later, without a ``# syntax=``
    line (the mount's ``env=`` option would need Dockerfile 1.10, which Docker's built-in
    frontend has only since Docker 27). Left alone, with the reason: an ARG with a default
    value (the value is in the Dockerfile anyway), an ARG that declares other names too, an
    ``ENV`` that puts the token in the final image (the app may read it at run time), a
    variable used outside RUN (COPY, LABEL, another ENV ...), RUNs in exec form or
    here-documents, and Windows files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from msdfix.document import Document
from msdfix.ecosystems.secrets import is_secret_name
from msdfix.fixes import Applicability, Edit, Finding
from msdfix.model.context import Unreadable
from msdfix.model.stages import Stage
from msdfix.shell.classify import is_inert, program_args
from msdfix.shell.commands import parse_commands
from msdfix.syntax import Instruction
from msdfix.syntax.values import env_pairs
from msdfix.transforms.base import Transform, register


def _uses(name: str, text: str) -> bool:
    # escaped: the name is the Dockerfile's, any characters (``ARG (a*)*b_TOKEN`` backtracked
    # exponentially, ``ARG (_TOKEN`` was an internal error)
    name = re.escape(name)
    return re.search(rf"\$(?:\{{{name}(?![A-Za-z0-9_])|{name}(?![A-Za-z0-9_]))", text) is not None


def _may_read_env(ins: Instruction) -> bool:
    """True unless every program of the RUN is known to ignore arbitrary variables."""
    for command in parse_commands(ins.logical[ins.args_start :]):
        name, _ = program_args(command)
        if name and not is_inert(command):
            return True
    return False


@dataclass
class Plan:
    """One secret in one stage: what to mount and what to delete."""

    name: str
    arg: Instruction
    runs: list[Instruction] = field(default_factory=list)
    deletes: list[Instruction] = field(default_factory=list)
    env_removed: bool = False

    @property
    def id(self) -> str:
        return self.name.lower()


def _scope(doc: Document, stage: Stage, arg: Instruction) -> list[tuple[Stage, Instruction]]:
    after = stage.instructions[stage.instructions.index(arg) + 1 :]
    return [(stage, i) for i in after]


def _plan(doc: Document, stage: Stage, arg: Instruction, name: str) -> Plan | str:
    plan = Plan(name, arg, deletes=[arg])
    scope = _scope(doc, stage, arg)
    forwarded = False
    for _st, ins in scope:
        if ins.cmd == "env" and any(_uses(name, v) for _, v in env_pairs(ins)):
            pairs = env_pairs(ins)
            if len(pairs) != 1 or pairs[0][0] != name or forwarded:
                return f"an ENV copies {name} into another variable"
            if doc.model.final is not None and stage in doc.model.final.lineage:
                return f"ENV {name} puts it in the image's configuration, where the app may read it at run time"
            forwarded = True
            plan.deletes.append(ins)
            plan.env_removed = True
            scope += [
                (child, i) for child in doc.model.descendants(stage) for i in child.instructions
            ]
        elif ins.cmd == "arg" and any(k == name for k, _ in env_pairs(ins)):
            return f"{name} is declared again"
    for _st, ins in scope:
        if ins in plan.deletes:
            continue
        explicit = _uses(name, ins.logical)
        if ins.cmd != "run":
            if explicit:
                return f"{ins.keyword.upper()} uses {name} outside a RUN"
            continue
        if not explicit and not _may_read_env(ins):
            continue
        if any(f"id={plan.id}" in (f.value or "") for f in ins.flags_named("mount")):
            return f"a RUN already mounts a secret with id {plan.id}"
        if ins.is_json or ins.heredocs:
            return f"a RUN that may read {name} is in exec form or a here-document"
        plan.runs.append(ins)
    if plan.runs and not any(_uses(name, r.logical) for r in plan.runs):
        unnamed = _not_in_rc_files(doc, name)
        if unnamed is not None:
            return f"no RUN names {name} and {unnamed}"
    return plan


def _not_in_rc_files(doc: Document, name: str) -> str | None:
    """Why no package-manager config file of the context is known to read the variable
    (said after "no RUN names it and"), or None when one does. One msdfix cannot read is
    named: it had counted as not reading it."""
    for rel in (".npmrc", ".yarnrc.yml", ".yarnrc"):
        try:
            text = doc.context.read_known(rel)
        except Unreadable as exc:
            return f"{exc}, so whether it does is unknown"
        if text is not None and _uses(name, text):
            return None
    return "no .npmrc or .yarnrc.yml in the build context does"


def _delete(doc: Document, ins: Instruction) -> Edit:
    return Edit(ins.comment_start, ins.end, "")


@register
class BuildSecrets(Transform):
    id = "build-secrets"
    title = "Pass tokens as BuildKit secrets, not build arguments"
    order = 60

    def check(self, doc: Document) -> Iterable[Finding]:
        if doc.is_windows:
            return
        found: list[Finding | Plan] = []
        idle: dict[str, list[Instruction]] = {}  # declarations nothing reads, per name
        for stage in doc.model.stages:
            for arg in stage.of("arg"):
                pairs = env_pairs(arg)
                secrets = [(k, v) for k, v in pairs if is_secret_name(k)]
                if not secrets:
                    continue
                name, default = secrets[0]
                if len(pairs) != 1:
                    found.append(
                        self._explain(doc, arg, f"{name}: the ARG declares other names too")
                    )
                elif default:
                    found.append(
                        self._explain(doc, arg, f"{name}: its default value is in the Dockerfile")
                    )
                else:
                    plan = _plan(doc, stage, arg, name)
                    if isinstance(plan, str):
                        found.append(self._explain(doc, arg, f"{name}: {plan}"))
                    elif plan.runs:
                        found.append(plan)
                    elif plan.deletes == [arg]:
                        idle.setdefault(name, []).append(arg)
        for item in found:
            if isinstance(item, Plan):
                # Other declarations of the secret that nothing reads go with the first fix
                # (e.g. one split-stages repeated in the runtime stage).
                item.deletes += idle.pop(item.name, [])
                yield self._fix(doc, item)
            else:
                yield item

    def _explain(self, doc: Document, ins: Instruction, message: str) -> Finding:
        return doc.note(self.id, ins, f"build argument left as it is: {message}")

    def _fix(self, doc: Document, plan: Plan) -> Finding:
        edits = [_delete(doc, ins) for ins in plan.deletes]
        mount = f"--mount=type=secret,id={plan.id},required=true "
        read = f'{plan.name}="$(cat /run/secrets/{plan.id})" && export {plan.name} && '
        for run in plan.runs:
            at = run.physical(run.args_start)
            edits.append(Edit(at, at, mount + read))
        count = f"{len(plan.runs)} RUN{'s' if len(plan.runs) != 1 else ''}"
        message = (
            f"{plan.name} moves from a build argument to a secret mount ({count}):"
            f" build with `docker build --secret id={plan.id},env={plan.name}` (the build now"
            f" fails without it)"
        )
        if plan.env_removed:
            message += f"; its ENV goes too (stages built FROM this one no longer see {plan.name})"
        return doc.fix(self.id, plan.arg, message, edits, Applicability.UNSAFE)
