"""Transforms, one module each; importing this package registers them all."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from msdfix.transforms.base import REGISTRY, Transform, register


@lru_cache(maxsize=1)
def _load_modules() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")


def all_transforms() -> list[type[Transform]]:
    """Every registered transform, in the order they run."""
    _load_modules()
    return sorted(REGISTRY.values(), key=lambda t: t.order)


__all__ = ["REGISTRY", "Transform", "all_transforms", "register"]
