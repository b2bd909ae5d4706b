"""The user an instruction runs as: one definition of root for every transform."""

from __future__ import annotations

from msdfix.model.base_images import ROOT, default_user
from msdfix.model.stages import Stage
from msdfix.syntax import Instruction


def is_root(user: str | None) -> bool:
    """True for ``root`` and uid 0, with any group (``root:0``, ``0:staff``)."""
    if user is None:
        return False
    name = user.strip().split(":", 1)[0]
    return name in (ROOT, "0")


def effective_user(stage: Stage, ins: Instruction | None = None) -> str | None:
    """The USER in effect before ``ins`` (at the end of the stage when None).

    Returns ``root`` for any spelling of root, the USER value as written otherwise, and None
    when unknown: the base image's default user is unknown and no USER was set since, or the
    USER value uses a variable.
    """
    before, end = _users(stage)
    if ins is None:
        user = end
    elif id(ins) in before:
        user = before[id(ins)]
    else:
        user = _walk(stage, ins)
    if user is None or "$" in user:
        return None
    return ROOT if is_root(user) else user


def _users(stage: Stage) -> tuple[dict[int, str | None], str | None]:
    """One sweep of the lineage: the USER as written before each instruction of ``stage``,
    and at its end (computed once per stage, so a file of many RUNs costs linear time)."""
    cache: dict[str, tuple[dict[int, str | None], str | None]]
    cache = stage.__dict__.setdefault("_user_cache", {})
    if "users" not in cache:
        user = default_user(stage.root_image)
        before: dict[int, str | None] = {}
        for current in stage.lineage:
            for other in current.instructions:
                if current is stage:
                    before[id(other)] = user
                if other.cmd == "user":
                    user = other.args.strip() or None
        cache["users"] = (before, user)
    return cache["users"]


def _walk(stage: Stage, ins: Instruction) -> str | None:
    """The USER before an instruction of an earlier stage of the lineage (rarely asked)."""
    user = default_user(stage.root_image)
    for current in stage.lineage:
        for other in current.instructions:
            if other is ins:
                break
            if other.cmd == "user":
                user = other.args.strip() or None
    return user


def owners(ins: Instruction) -> list[tuple[str, str]]:
    """(user, group) that a USER or a COPY/ADD ``--chown`` names ("" where a part is absent)."""
    named = (
        [ins.args.strip()]
        if ins.cmd == "user"
        else [f.value or "" for f in ins.flags_named("chown")]
    )
    return [(user, group) for user, _, group in (n.partition(":") for n in named)]
