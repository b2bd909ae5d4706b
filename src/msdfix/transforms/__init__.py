"""Transforms, one module each; importing this package registers them all."""

from __future__ import annotations

import importlib
import pkgutil

from msdfix.transforms.base import REGISTRY, Transform, register


def all_transforms() -> list[type[Transform]]:
    """Every registered transform, in the order they run."""
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")
    return sorted(REGISTRY.values(), key=lambda t: t.order)


__all__ = ["REGISTRY", "Transform", "all_transforms", "register"]
