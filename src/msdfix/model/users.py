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
    user = default_user(stage.root_image)
    for current in stage.lineage:
        for other in current.instructions:
            if other is ins:
                break
            if other.cmd == "user":
                user = other.args.strip() or None
    if user is None or "$" in user:
        return None
    return ROOT if is_root(user) else user
