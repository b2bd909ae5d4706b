"""Node.js (npm, yarn, pnpm, bun): the tables the ecosystem registry reads."""

from __future__ import annotations

from msdfix.ecosystems.node.managers import (
    BUN,
    INSTALL_SUBCOMMANDS,
    MANAGERS,
    MANIFESTS,
    NPM,
    PNPM,
    YARN,
)

__all__ = [
    "BUN",
    "ENTRY_PROGRAMS",
    "INSTALL_SUBCOMMANDS",
    "MANAGERS",
    "MANIFESTS",
    "NPM",
    "PNPM",
    "RUNTIME_IMAGES",
    "TOOLCHAIN_IMAGES",
    "YARN",
]

# Toolchain images (Docker Hub name or registry/name) of this ecosystem.
TOOLCHAIN_IMAGES: tuple[str, ...] = ("node",)


# Programs that run this ecosystem's applications (the first word of an entry command).
ENTRY_PROGRAMS: tuple[str, ...] = (
    "node",
    "npm",
    "yarn",
    "pnpm",
    "npx",
    "bun",
    "ts-node",
    "tsx",
    "deno",
)
# Images whose containers run this ecosystem's programs, besides the toolchain images.
RUNTIME_IMAGES: tuple[str, ...] = ("oven/bun",)
