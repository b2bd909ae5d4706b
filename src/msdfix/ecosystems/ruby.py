"""Ruby: Bundler and RubyGems (``$GEM_HOME/cache``) and the Gemfile.

Data, not code.
"""

from __future__ import annotations

import re

from msdfix.ecosystems.base import WRITES_IN_PLACE, CacheDir, Ecosystem, PackageManager

MANAGERS: tuple[PackageManager, ...] = (
    PackageManager(
        "bundler",
        ("bundle", "bundler"),
        ("install", "update", "package", "cache"),
        (
            CacheDir(
                "",
                (
                    ("GEM_HOME", "/cache"),
                    ("BUNDLE_PATH", "/cache"),
                ),
                # RubyGems writes a .gem in place, then reads it back: concurrent builds
                # on a shared mount read each other's half-written files (FormatError)
                locked=True,
            ),
        ),
        inert_subcommands=("config", "--version", "self"),
        # read only the gems already in $GEM_HOME/cache (or vendor/cache)
        offline_flags=("--local", "--no-install"),
        # an install at container start reads the cache the image carries
        runtime_users=tuple((p, s) for p in ("bundle", "bundler") for s in ("install", "update")),
    ),
    PackageManager(
        "gem",
        ("gem",),
        ("install", "update"),
        (CacheDir("", (("GEM_HOME", "/cache"),), locked=True),),
        runtime_users=(("gem", "install"), ("gem", "update")),
    ),
)


BUNDLER = Ecosystem(
    "bundler",
    ("bundler",),
    ("Gemfile", "Gemfile.lock", ".bundle/"),
    guess=("Gemfile", "Gemfile.lock*"),
    outputs=("vendor/bundle",),
    key="Gemfile",
    checks="bundler",
    # .bundle/config is settings, no download: copied with the manifests, a real image was
    # 273 bytes larger (no cache mount offsets it).
    uncached=(".bundle/",),
)
MANIFESTS: tuple[Ecosystem, ...] = (BUNDLER,)


INSTALL_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "bundler": ("install",),
}


def bundle_manifest_writes(words: list[str]) -> str | None:
    """How ``bundle install`` (``words``: its arguments that are no options or their values)
    writes the manifests it reads: Bundler rewrites Gemfile.lock in place when it resolves
    anew (``File.open(lockfile, "wb")``; built with a stale lock on a read-write bind mount,
    failed with EROFS on a read-only one) and never writes the Gemfile (``base.WRITES_IN_PLACE``);
    None for other commands."""
    return WRITES_IN_PLACE if words in ([], ["install"]) else None


# ``bundle install`` options Bundler 2 remembers in the project's .bundle/config ("remembered
# options", deprecated but still written).
BUNDLE_REMEMBERED = (
    "--path --deployment --without --with --frozen --system --binstubs --clean --no-prune "
    "--shebang --standalone --trust-policy --no-cache".split()
)


def writes_local_config(script: str) -> str | None:
    """The command of ``script`` (shell text) that writes the project's .bundle/config:
    ``bundle config`` setting a value without ``--global`` (Bundler 2 picks the local scope
    "inside an app", where a Gemfile is found, as in the install RUN: built, Bundler 2.3,
    ``bundle config set path vendor/bundle`` wrote /app/.bundle/config; from a directory
    without a Gemfile it writes ~/.bundle/config) or ``bundle install`` with a remembered
    option; None when there is none. A real build whose install RUN ran ``bundle config set
    path vendor/bundle`` failed at start (Bundler::GemNotFound) once the full COPY had
    brought the context's .bundle/config back over the written one."""
    for part in _COMMANDS.split(script.replace("\\\n", " ")):
        words = part.split()
        for i, word in enumerate(words[:-1]):
            if word not in ("bundle", "bundler"):
                continue
            rest = words[i + 1 :]
            if rest[0] == "config" and _sets_config(rest[1:]):
                return " ".join(words[i:])
            if rest[0] == "install" and any(a.split("=")[0] in BUNDLE_REMEMBERED for a in rest):
                return " ".join(words[i:])
    return None


_COMMANDS = re.compile(r"&&|\|\||;|\||\n")


def _sets_config(args: list[str]) -> bool:
    """Whether ``bundle config ARGS`` may write the project's config: anything but a read
    (no arguments, ``get``, ``list``, one name) or a ``--global`` write; ``--delete NAME``
    removes NAME from the local config too."""
    if "--global" in args:
        return False
    if "--delete" in args:
        return True
    names = [a for a in args if not a.startswith("-")]
    return bool(names) and names[0] not in ("get", "list") and len(names) > 1


# Programs that run this ecosystem's applications (the first word of an entry command).
ENTRY_PROGRAMS: tuple[str, ...] = ("ruby", "bundle", "rails", "puma", "rackup")
# Images whose containers run this ecosystem's programs, besides the toolchain images.
RUNTIME_IMAGES: tuple[str, ...] = ("ruby",)
