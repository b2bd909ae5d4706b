"""The transform interface and registry (registered by decorator, run by ``order``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from msdfix.document import Document
from msdfix.fixes import Finding

REGISTRY: dict[str, type[Transform]] = {}


class Transform:
    """Base class: subclasses set id/title/order and implement :meth:`check`.

    ``check`` never mutates; it returns findings, each with a fix (text edits against
    ``doc.text``) or without one (an explanation of what it left as it is).
    ``changes_config`` names final-image settings the transform may change on purpose
    (e.g. ``{"base"}``); the engine refuses any other change of the observable config.
    """

    id: ClassVar[str]
    title: ClassVar[str]
    order: ClassVar[int]
    changes_config: ClassVar[frozenset[str]] = frozenset()

    def check(self, doc: Document) -> Iterable[Finding]:
        """Report findings, with or without fixes, for ``doc``."""
        raise NotImplementedError


def register(cls: type[Transform]) -> type[Transform]:
    """Class decorator adding a transform to the registry under its id."""
    if cls.id in REGISTRY:
        raise ValueError(f"duplicate transform id {cls.id}")
    REGISTRY[cls.id] = cls
    return cls
